"""The judge-audit kit: draw a stratified sample of a run's responses for a person to label, and
score both judges on the filled-in labels.

`sample` pairs each response's verdict from the run with a second judge's (another run over the same
responses, or the labels recorded in the run's log), splits the responses into strata by their
agreement pattern (`L<this judge><other judge>` on loose: L11, L10, L01, L00), and draws the same
number from every stratum (seeded; a small stratum gives all it has), which oversamples the
disagreements where the judges differ. Each row of the audit file carries the text a person needs,
both verdicts, `"label_loose": null, "label_strict": null` to fill in, its stratum and the stratum
sizes, so the file alone is enough to weight it back. `score` reads it and reports each judge's
weighted accuracy, kappa and rates with the computation of `ice.audit` (the one the audited gold of
the paper's responses uses).

`--by doubt` draws instead by the run judge's own doubt (`ice.audit_doubt`): strata by how close
its probability is to 0.5, most labels where it is least sure; a second judge is optional then.
Either way each row carries judge a's probabilities and each stratum's mean probability over the
whole run (`strata_p`), so `score` also reports the rate corrected by the labels (the stratified
difference estimator of `ice.audit_doubt`), with its 95% interval.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from distillscope.errors import UserError
from distillscope.ice.audit import AuditSample, JudgeAudit, Judged, LabelledRow, audit_judge, read_jsonl
from distillscope.ice.audit_doubt import DESIGN, CorrectedRate, LabelledP, corrected_rate, draw, row_p
from distillscope.ice.logs import iter_log
from distillscope.ice.probability import Calibration, fit_calibration
from distillscope.seeds import check_seed

JUDGES = ("a", "b")  # a: the run's judge; b: the other run's judge or the recorded labels
RECORDED = "recorded"
# Bootstrap resamples: fewer than 100 give no usable 95% interval; more than a million only cost memory.
MIN_RESAMPLES, MAX_RESAMPLES = 100, 1_000_000


@dataclass
class _Verdicts:
    name: str
    by_index: dict[int, dict[str, Any]]  # index -> verdict row (loose, strict, category, unsure, evidence)


def _results(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "results.json"
    if not path.is_file():
        raise UserError(f"{run_dir}: not a run directory (no results.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict) or "judge" not in data:
        raise UserError(f"{path}: not the results of `ice run` or `ice rescore`")
    return data


def _verdicts(run_dir: Path, results: dict[str, Any]) -> _Verdicts:
    path = run_dir / "verdicts.jsonl"
    if not path.is_file():
        raise UserError(f"{run_dir}: no verdicts.jsonl")
    rows: dict[int, dict[str, Any]] = {}
    for number, row in enumerate(read_jsonl(path), 1):
        index = row.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise UserError.at(path, "expected an integer", line=number, field="index")
        rows[index] = row
    return _Verdicts(str(results["judge"]), rows)


def _log_path(run_dir: Path, results: dict[str, Any]) -> Path | None:
    log = (results.get("settings") or {}).get("log")
    return Path(log) if isinstance(log, str) else None


def _texts(run_dir: Path, results: dict[str, Any], wanted: set[int]) -> dict[int, dict[str, Any]]:
    """Prompt, question and response of the wanted responses: from responses.jsonl (`ice run`) or
    the log `ice rescore` read."""
    out: dict[int, dict[str, Any]] = {}
    responses = run_dir / "responses.jsonl"
    if responses.is_file():
        for row in read_jsonl(responses):
            if row.get("index") in wanted:
                out[row["index"]] = {
                    "prompt": row.get("prompt"),
                    "query": row.get("query"),
                    "response": row.get("response"),
                }
        return out
    log = _log_path(run_dir, results)
    if log is None or not log.is_file():
        raise UserError(
            f"{run_dir}: neither responses.jsonl nor the rescored log ({log}) is here to read the texts from"
        )
    for logged in iter_log(log):
        if logged.index in wanted:
            out[logged.index] = {"prompt": logged.prompt, "query": logged.query, "response": logged.response}
    return out


def _recorded(run_dir: Path, results: dict[str, Any]) -> _Verdicts:
    log = _log_path(run_dir, results)
    if log is None:
        raise UserError(
            f"{run_dir}: --labels recorded needs a run of `ice rescore` (its log holds the labels)"
        )
    if not log.is_file():
        raise UserError(f"{log}: the rescored log is not there any more")
    rows: dict[int, dict[str, Any]] = {}
    for row in iter_log(log, details=False):
        if row.loose is not None:
            strict = row.strict if row.strict is not None else (False if row.loose is False else None)
            rows[row.index] = {"loose": row.loose, "strict": strict, "category": None, "unsure": False}
    if not rows:
        raise UserError(f"{log}: --labels recorded: the log has no 'loose'/'strict' labels")
    return _Verdicts(RECORDED, rows)


def _identity(results: dict[str, Any], model: str | None) -> dict[str, Any]:
    block = results["models"].get(str(model)) if results.get("models") else results
    identity = (block or {}).get("target_identity") or {}
    return {k: identity.get(k) for k in ("organisation", "family", "statement") if identity.get(k)}


def _allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """The same number from every stratum, a small stratum giving all it has and the rest shared."""
    take = dict.fromkeys(sizes, 0)
    left = n
    open_strata = [s for s, size in sizes.items() if size > 0]
    while left > 0 and open_strata:
        share = max(1, left // len(open_strata))
        for s in list(open_strata):
            extra = min(share, sizes[s] - take[s], left)
            take[s] += extra
            left -= extra
            if take[s] == sizes[s]:
                open_strata.remove(s)
            if left == 0:
                break
    return take


def _verdict_view(row: dict[str, Any], name: str) -> dict[str, Any]:
    ps = row_p(row)
    return {
        "judge": name,
        "loose": row.get("loose"),
        "strict": row.get("strict"),
        "category": row.get("category"),
        "unsure": bool(row.get("unsure", False)),
        "evidence": row.get("evidence"),
        **({"p_loose": ps[0], "p_strict": ps[1]} if ps is not None else {}),
    }


def _strata_p(strata: dict[str, list[int]], mine: _Verdicts) -> dict[str, dict[str, float]]:
    """Each stratum's mean probability (judge a) over all its responses, for the corrected rate."""
    out: dict[str, dict[str, float]] = {}
    for s, indices in strata.items():
        ps = [p for i in indices if (p := row_p(mine.by_index[i])) is not None]
        if ps:
            out[s] = {
                "loose": round(sum(p[0] for p in ps) / len(ps), 6),
                "strict": round(sum(p[1] for p in ps) / len(ps), 6),
            }
    return out


def draw_sample(
    run_dir: Path,
    *,
    n: int,
    against: Path | None = None,
    labels: str | None = None,
    seed: int = 0,
    by: str = "agreement",
) -> list[dict[str, Any]]:
    """The audit rows (see the module doc), shuffled with `seed`."""
    check_seed(seed)
    if by not in ("agreement", DESIGN):
        raise UserError(f"--by {by!r}: expected agreement (of two judges) or doubt (of the run's judge)")
    if by == DESIGN:
        if against is not None and labels is not None:
            raise UserError("give at most one of --against OTHER_RUN_DIR or --labels recorded")
    elif (against is None) == (labels is None):
        raise UserError("give exactly one of --against OTHER_RUN_DIR or --labels recorded")
    if labels is not None and labels != RECORDED:
        raise UserError(f"--labels {labels!r}: the only source of labels is 'recorded' (the run's log)")
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    results = _results(run_dir)
    mine = _verdicts(run_dir, results)
    other: _Verdicts | None = None
    if against is not None:
        other = _verdicts(against, _results(against))
        missing = set(mine.by_index) ^ set(other.by_index)
        if missing:
            raise UserError(
                f"{against}: its verdicts cover other responses than {run_dir}'s "
                f"({len(missing)} indices differ): audit two judges of the same responses"
            )
    elif labels is not None:
        other = _recorded(run_dir, results)
    if by == DESIGN:
        return _doubt_rows(run_dir, results, mine, other, n, seed)
    assert other is not None
    strata: dict[str, list[int]] = {f"L{a}{b}": [] for a in (1, 0) for b in (1, 0)}
    models: dict[int, str | None] = {}
    for index, row in sorted(mine.by_index.items()):
        theirs = other.by_index.get(index)
        if row.get("loose") is None or theirs is None or theirs.get("loose") is None:
            continue  # unjudged by either: outside the population (counted in the summary)
        strata[f"L{int(bool(row['loose']))}{int(bool(theirs['loose']))}"].append(index)
        models[index] = row.get("model") if row.get("model") is not None else results.get("target")
    sizes = {s: len(v) for s, v in strata.items()}
    if not sum(sizes.values()):
        raise UserError(f"{run_dir}: no response was judged by both judges")
    present = sum(1 for size in sizes.values() if size)
    if n < present:
        raise UserError(
            f"--n {n}: at least {present} needed, one row from each of the {present} non-empty strata"
        )
    rng = random.Random(seed)
    strata_p = _strata_p(strata, mine)
    take = _allocate(sizes, n)
    chosen = {s: sorted(rng.sample(strata[s], take[s])) for s in strata}
    model_pop: dict[str | None, dict[str, int]] = {}
    for s, indices in strata.items():
        for index in indices:
            cell = model_pop.setdefault(models[index], {})
            cell[s] = cell.get(s, 0) + 1
    wanted = {i for indices in chosen.values() for i in indices}
    texts = _texts(run_dir, results, wanted)
    rows = []
    for s, indices in chosen.items():
        for index in indices:
            model = models[index]
            rows.append(
                {
                    "index": index,
                    "model": model,
                    "stratum": s,
                    "true_identity": _identity(results, model),
                    **texts.get(index, {"prompt": None, "query": None, "response": None}),
                    "judges": {
                        "a": _verdict_view(mine.by_index[index], mine.name),
                        "b": _verdict_view(other.by_index[index], other.name),
                    },
                    "label_loose": None,
                    "label_strict": None,
                    "strata_pop": sizes,
                    "strata_p": strata_p,
                    "model_strata_pop": model_pop.get(model, {}),
                }
            )
    return _finish(rows, rng)


def _finish(rows: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    rng.shuffle(rows)
    for number, row in enumerate(rows, 1):
        row["aid"] = f"{number:04d}"
    return rows


def _doubt_rows(
    run_dir: Path, results: dict[str, Any], mine: _Verdicts, other: _Verdicts | None, n: int, seed: int
) -> list[dict[str, Any]]:
    """The audit rows of a sample by the run judge's doubt (`ice.audit_doubt`)."""
    ps = {
        index: p
        for index, row in mine.by_index.items()
        if (p := row_p(row)) is not None
        and (other is None or row_p(other.by_index.get(index, {})) is not None)
    }
    if not ps:
        raise UserError(f"{run_dir}: no judged response to sample")
    design = draw(ps, n, seed)
    wanted = {i for indices in design.chosen.values() for i in indices}
    texts = _texts(run_dir, results, wanted)
    rows = []
    for stratum, indices in design.chosen.items():
        for index in indices:
            row = mine.by_index[index]
            model = row.get("model") if row.get("model") is not None else results.get("target")
            judges = {"a": _verdict_view(row, mine.name)}
            if other is not None:
                judges["b"] = _verdict_view(other.by_index[index], other.name)
            rows.append(
                {
                    "index": index,
                    "model": model,
                    "design": DESIGN,
                    "stratum": stratum,
                    "inclusion_p": round(len(indices) / design.strata_pop[stratum], 6),
                    "true_identity": _identity(results, model),
                    **texts.get(index, {"prompt": None, "query": None, "response": None}),
                    "judges": judges,
                    "label_loose": None,
                    "label_strict": None,
                    "strata_pop": design.strata_pop,
                    "strata_p": design.strata_p,
                }
            )
    return _finish(rows, random.Random(seed))


def write_sample(rows: list[dict[str, Any]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------ scoring


def _label(path: Path, line: int, row: dict[str, Any], name: str) -> bool:
    value = row.get(name)
    if value is None:
        raise UserError.at(path, "not labelled yet (fill in true or false)", line=line, field=name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise UserError.at(path, f"expected true or false, got {value!r}", line=line, field=name)


def _judged(path: Path, line: int, row: dict[str, Any], key: str) -> tuple[str, Judged]:
    judges = row.get("judges")
    verdict = judges.get(key) if isinstance(judges, dict) else None
    if not isinstance(verdict, dict):
        raise UserError.at(path, f"missing the verdict of judge '{key}'", line=line, field="judges")
    loose, strict = verdict.get("loose"), verdict.get("strict")
    for field, value in (("loose", loose), ("strict", strict)):
        if value is not None and not isinstance(value, bool):
            raise UserError.at(
                path, f"expected true, false or null, got {value!r}", line=line, field=f"judges.{key}.{field}"
            )
    category = verdict.get("category")
    return str(verdict.get("judge") or key), Judged(
        loose, strict, category if isinstance(category, str) else None, bool(verdict.get("unsure", False))
    )


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError.at(path, f"not JSON ({exc.msg})", line=number) from None
        if not isinstance(obj, dict):
            raise UserError.at(path, "expected a JSON object", line=number)
        seen = True
        yield number, obj
    if not seen:
        raise UserError(f"{path}: no rows")


@dataclass
class AuditFile:
    """A filled-in audit file: the labelled sample, each judge's verdicts by row and its name,
    and what the corrected rate needs (judge a's probabilities and each stratum's mean one)."""

    sample: AuditSample
    verdicts: dict[str, dict[int, Judged]]
    names: dict[str, str]
    design: str = "agreement"
    labelled_p: dict[str, list[LabelledP]] = dc_field(default_factory=dict)  # label -> rows
    strata_p: dict[str, dict[str, float]] | None = None
    weights: list[float] = dc_field(default_factory=list)  # per row: responses it stands for


def _p(row: dict[str, Any], name: str) -> float | None:
    judges = row.get("judges")
    verdict = judges.get("a") if isinstance(judges, dict) else None
    value = verdict.get(name) if isinstance(verdict, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_audit(path: Path) -> AuditFile:
    """The labelled sample, each judge's verdicts by row, and the judges' names (a, and b where
    the sample has a second judge)."""
    rows: list[LabelledRow] = []
    verdicts: dict[str, dict[int, Judged]] = {}
    names: dict[str, str] = {}
    strata_pop: dict[str, int] | None = None
    strata_p: dict[str, dict[str, float]] | None = None
    group_pop: dict[str, dict[str, int]] = {}
    labelled_p: dict[str, list[LabelledP]] = {"loose": [], "strict": []}
    has_p = True
    design = "agreement"
    keys: tuple[str, ...] = JUDGES
    for number, row in _lines(path):
        stratum = row.get("stratum")
        pop = row.get("strata_pop")
        if not isinstance(stratum, str):
            raise UserError.at(path, "missing or not text", line=number, field="stratum")
        if not isinstance(pop, dict) or not all(isinstance(v, int) and v >= 0 for v in pop.values()):
            raise UserError.at(
                path, "expected the stratum sizes {stratum: rows}", line=number, field="strata_pop"
            )
        if strata_pop is None:
            strata_pop = {str(k): int(v) for k, v in pop.items()}
            design = str(row.get("design") or "agreement")
            judges = row.get("judges")
            keys = tuple(k for k in JUDGES if isinstance(judges, dict) and k in judges) or ("a",)
            verdicts = {key: {} for key in keys}
            sp = row.get("strata_p")
            if isinstance(sp, dict) and all(isinstance(v, dict) for v in sp.values()):
                strata_p = {str(k): dict(v) for k, v in sp.items()}
        elif pop != strata_pop:
            raise UserError.at(
                path,
                "differs from the first row's: rows of two samples are mixed",
                line=number,
                field="strata_pop",
            )
        if stratum not in strata_pop:
            raise UserError.at(
                path,
                f"{stratum!r} is not one of the strata {sorted(strata_pop)}",
                line=number,
                field="stratum",
            )
        if strata_pop[stratum] == 0:
            raise UserError.at(
                path,
                f"stratum {stratum!r} has 0 rows in the run, yet this row was drawn from it",
                line=number,
                field="strata_pop",
            )
        loose, strict = _label(path, number, row, "label_loose"), _label(path, number, row, "label_strict")
        if strict and not loose:
            raise UserError.at(
                path,
                "true needs label_loose true too (strict is a kind of loose)",
                line=number,
                field="label_strict",
            )
        model = row.get("model")
        group = str(model) if model is not None else None
        own = row.get("model_strata_pop")
        if group is not None and isinstance(own, dict):
            group_pop[group] = {str(k): int(v) for k, v in own.items() if isinstance(v, int)}
        rows.append(LabelledRow(key=number, stratum=stratum, loose=loose, strict=strict, group=group))
        for key in keys:
            name, judged = _judged(path, number, row, key)
            names.setdefault(key, name)
            verdicts[key][number] = judged
        p_loose, p_strict = _p(row, "p_loose"), _p(row, "p_strict")
        if p_loose is None or p_strict is None:
            has_p = False
        else:
            labelled_p["loose"].append(LabelledP(stratum, p_loose, loose))
            labelled_p["strict"].append(LabelledP(stratum, p_strict, strict))
    assert strata_pop is not None
    for stratum, size in strata_pop.items():
        if size and not any(r.stratum == stratum for r in rows):
            raise UserError(
                f"{path}: stratum {stratum!r} has {size} rows in the run but no row in this file: "
                "score the whole file `ice audit sample` wrote"
            )
    if strata_p is not None and any(size and s not in strata_p for s, size in strata_pop.items()):
        strata_p = None
    drawn = {s: sum(r.stratum == s for r in rows) for s in strata_pop}
    weights = [strata_pop[r.stratum] / drawn[r.stratum] for r in rows]
    return AuditFile(
        AuditSample(rows, strata_pop, group_pop), verdicts, names, design,
        labelled_p if has_p else {}, strata_p, weights,
    )  # fmt: skip


def score_audit(path: Path, *, resamples: int = 2000, seed: int = 0) -> list[JudgeAudit]:
    """Each judge of a filled-in audit file against its labels, weighted to the whole run."""
    check_seed(seed)
    if not MIN_RESAMPLES <= resamples <= MAX_RESAMPLES:
        raise UserError(f"--resamples must be from {MIN_RESAMPLES} to {MAX_RESAMPLES:,}, got {resamples}")
    audit = read_audit(path)
    names = audit.names
    label = {
        key: names[key] if names[key] != names.get("b" if key == "a" else "a") else f"{key}:{names[key]}"
        for key in names
    }
    return [
        audit_judge(audit.sample, audit.verdicts[key], judge=label[key], resamples=resamples, seed=seed)
        for key in names
    ]


def corrected_rates(path: Path) -> list[CorrectedRate]:
    """The run's loose and strict rates corrected by the labels (`ice.audit_doubt`); empty where
    the file's rows carry no probabilities of judge a (an audit file of an older distillscope)."""
    audit = read_audit(path)
    if not audit.labelled_p or audit.strata_p is None:
        return []
    strata_p = audit.strata_p
    return [
        corrected_rate(
            label,
            audit.labelled_p[label],
            audit.sample.strata_pop,
            {s: float(strata_p[s][label]) for s in strata_p},
        )
        for label in ("loose", "strict")
    ]


def calibrate(path: Path) -> tuple[Calibration, dict[str, dict[str, float]], str]:
    """A judge-calibration for judge a of a filled-in audit file: each (answer, sure) cell's
    design-weighted share of true labels (`ice.probability.fit_calibration`), with the judge's name."""
    audit = read_audit(path)
    rows = []
    for row, weight in zip(audit.sample.rows, audit.weights, strict=True):
        judged = audit.verdicts["a"].get(row.key)
        if judged is None or judged.loose is None:
            continue
        rows.append((judged.loose, bool(judged.strict), not judged.unsure, row.loose, row.strict, weight))
    if not rows:
        raise UserError(f"{path}: no labelled row has a verdict of judge a to calibrate")
    calibration, counts = fit_calibration(rows)
    return calibration, counts, audit.names.get("a", "a")
