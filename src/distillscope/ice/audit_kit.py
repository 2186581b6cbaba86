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
its probability is to 0.5, labelled at the highest rate where it is least sure (Neyman allocation);
a second judge is optional then.
Either way each row carries judge a's probabilities and each stratum's mean probability over the
whole run (`strata_p`), so `score` also reports the rate corrected by the labels (the stratified
difference estimator of `ice.audit_doubt`), with its 95% interval.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from distillscope.engine.run import write_jsonl
from distillscope.errors import UserError, clip
from distillscope.ice.audit import AuditSample, JudgeAudit, Judged, LabelledRow, audit_judge, read_jsonl
from distillscope.ice.audit_doubt import DESIGN, CorrectedRate, LabelledP, corrected_rate, draw, row_p
from distillscope.ice.logs import iter_log, rescored_log
from distillscope.ice.probability import Calibration, fit_calibration
from distillscope.jsonsafe import DuplicateKey, unique_keys
from distillscope.records import check_file, load_json
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
    data = load_json(path, "results file")  # the one reader: not UTF-8, nesting, long numbers are one line
    if not isinstance(data, dict) or "judge" not in data:
        raise UserError(f"{path}: not the results of `ice run` or `ice rescore`")
    return data


def _verdicts(run_dir: Path, results: dict[str, Any]) -> _Verdicts:
    path = run_dir / "verdicts.jsonl"
    if not path.is_file():
        raise UserError(f"{run_dir}: no verdicts.jsonl")
    _check_verdicts(run_dir)
    rows: dict[int, dict[str, Any]] = {}
    for number, row in enumerate(read_jsonl(path), 1):
        index = row.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise UserError.at(path, "expected an integer", line=number, field="index")
        rows[index] = row
    return _Verdicts(str(results["judge"]), rows)


def _check_verdicts(run_dir: Path) -> None:
    """verdicts.jsonl is the one behind results.json, by the check `report` makes
    (`report.load.verdicts_problem`: a verdict per response, each index once, the loose counts).
    Why: a file cut short was drawn from as if it were the run (15 of 23 responses: every weight
    and the population wrong), and an index given twice (another run's lines appended) kept the
    later verdict, each with exit 0."""
    from distillscope.report.load import verdicts_problem
    from distillscope.results.ice import IceResult
    from distillscope.results.load import load as load_result

    result = load_result(run_dir)
    problem = verdicts_problem(run_dir, result) if isinstance(result, IceResult) else None
    if problem is not None:
        raise UserError(
            f"{problem} (not the verdicts behind {run_dir}'s results.json: a sample drawn from it would be "
            "weighted to another run; rerun the command that made the run to write it again)"
        )


def _log_path(run_dir: Path, results: dict[str, Any]) -> Path | None:
    settings = results.get("settings")
    return rescored_log(settings) if isinstance(settings, dict) else None


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


def _same_responses(
    run_dir: Path, results: dict[str, Any], against: Path, other: dict[str, Any], indices: set[int]
) -> None:
    """The two runs judged the same responses, index by index (question and answer). Why: equal
    indices are not enough; a run over another log of as many rows (another target, the log in
    another order) paired each verdict with a judgment of a different answer, and the strata, the
    labels' comparison and judge b's figures were of nothing, with exit 0."""
    mine, theirs = _texts(run_dir, results, indices), _texts(against, other, indices)
    for index in sorted(indices):
        a, b = mine.get(index), theirs.get(index)
        if a is None or b is None:
            continue
        for name in ("query", "response"):
            if isinstance(a[name], str) and isinstance(b[name], str) and a[name] != b[name]:
                raise UserError(
                    f"{against}: response {index} is not {run_dir}'s (its {name} differs: "
                    f"{clip(repr(b[name]))} against {clip(repr(a[name]))}): audit two judges of the same "
                    "responses"
                )


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
    """A verdict as the audit row shows it. A verdict without probabilities of its own (recorded
    labels) gets the doubt table's, marked `p_table`: they place it in a stratum and the corrected
    rate may use them, but they are no expected rate of the judge's."""
    ps = row_p(row)
    own = _is_number(row.get("p_loose")) and _is_number(row.get("p_strict"))
    return {
        "judge": name,
        "loose": row.get("loose"),
        "strict": row.get("strict"),
        "category": row.get("category"),
        "unsure": bool(row.get("unsure", False)),
        "evidence": row.get("evidence"),
        **({"p_loose": ps[0], "p_strict": ps[1]} if ps is not None else {}),
        **({"p_table": True} if ps is not None and not own else {}),
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
        other_results = _results(against)
        other = _verdicts(against, other_results)
        missing = set(mine.by_index) ^ set(other.by_index)
        if missing:
            raise UserError(
                f"{against}: its verdicts cover other responses than {run_dir}'s "
                f"({len(missing)} indices differ): audit two judges of the same responses"
            )
        _same_responses(run_dir, results, against, other_results, set(mine.by_index))
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
                    "run_size": _run_size(mine),
                }
            )
    return _finish(rows, rng)


def _run_size(mine: _Verdicts) -> int:
    """One more than the run's largest response index: `score` refuses a row of an index outside it."""
    return max(mine.by_index, default=-1) + 1


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
                    "run_size": _run_size(mine),
                }
            )
    return _finish(rows, random.Random(seed))


def check_keeps_labels(out: Path, flag: str) -> None:
    """Refuse to write `out` (given with `flag`) over a file holding a person's labels: an audit
    row whose `label_loose` or `label_strict` is filled in. Why: `ice audit score a.jsonl --json
    a.jsonl`, `calibrate a.jsonl --out a.jsonl`, or `sample` run again with the same `--out`
    after labelling, replaced hours of hand labels with figures or a fresh, empty sample, exit 0.
    A file that is not there, not a regular file, or holds no filled-in label is left to the
    writer (an unlabelled sample may be drawn again)."""
    try:
        if not out.is_file():
            return
        with out.open(encoding="utf-8-sig", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if '"label_' not in line:
                    continue
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if isinstance(row, dict) and any(
                    row.get(k) is not None for k in ("label_loose", "label_strict")
                ):
                    raise UserError(
                        f"{out}: line {number} holds a filled-in label (an audit file labelled by hand); {flag} "
                        f"must not write over it: choose another file name"
                    )
    except OSError:
        return


def write_sample(rows: list[dict[str, Any]], out: Path) -> None:
    """The audit file, written as every other output is (atomically; a directory or a missing
    folder is a one-line error, as for `audit score --json`, never created on the way)."""
    write_jsonl(out, rows)


# ------------------------------------------------------------------------------------ scoring


def _label(path: Path, line: int, row: dict[str, Any], name: str) -> bool:
    value = row.get(name)
    if value is None:
        raise UserError.at(path, "not labelled yet (fill in true or false)", line=line, field=name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise UserError.at(path, f"expected true or false, got {clip(repr(value))}", line=line, field=name)


def _judged(path: Path, line: int, row: dict[str, Any], key: str) -> tuple[str, Judged]:
    judges = row.get("judges")
    verdict = judges.get(key) if isinstance(judges, dict) else None
    if not isinstance(verdict, dict):
        raise UserError.at(path, f"missing the verdict of judge '{key}'", line=line, field="judges")
    # `unsure` picks the calibration's cell and `category` the per-category figures: a value of
    # another type ("unsure": "false", which bool() reads as true) is refused, never guessed
    for field, kind, expected in (
        ("loose", bool, "true, false"),
        ("strict", bool, "true, false"),
        ("unsure", bool, "true, false"),
        ("category", str, "text"),
    ):
        value = verdict.get(field)
        if value is not None and not isinstance(value, kind):
            raise UserError.at(
                path,
                f"expected {expected} or null, got {clip(repr(value))}",
                line=line,
                field=f"judges.{key}.{field}",
            )
    loose, strict, category = verdict.get("loose"), verdict.get("strict"), verdict.get("category")
    return str(verdict.get("judge") or key), Judged(loose, strict, category, bool(verdict.get("unsure")))


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    # utf-8-sig: an editor that saves with a byte-order mark (as logs may have) still reads
    check_file(path, "audit file")  # a FIFO would block the read for ever
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as exc:
            raise UserError.at(path, f"not JSON ({exc.msg})", line=number) from None
        except DuplicateKey as exc:  # a label typed twice: which one is meant cannot be known
            raise UserError.at(
                path, "given twice in one row: keep one value", line=number, field=exc.key
            ) from None
        except RecursionError:  # `[[[[...` past Python's recursion limit: was a traceback
            raise UserError.at(path, "not JSON (nested too deep)", line=number) from None
        except ValueError:  # a number of over 4,300 digits, which int() refuses: was a traceback
            raise UserError.at(path, "not JSON (a number of over 4,300 digits)", line=number) from None
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
    # why there is no corrected rate (None: there is one)
    no_correction: str | None = None
    # judge a's p are the doubt table's (a judge without probabilities): no expected rate of its own
    p_table: bool = False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _probability(path: Path, line: int, value: Any, field: str, *, above_zero: bool = False) -> float:
    """A probability as an audit file must hold it: a finite number in [0, 1] (true and false are
    not numbers), or in (0, 1] for an inclusion probability. Why refuse rather than skip: a p of 5
    or NaN moves the corrected rate silently, and a skipped one drops it without a word."""
    if _is_number(value) and math.isfinite(value) and (0 < value <= 1 if above_zero else 0 <= value <= 1):
        return float(value)
    span = "above 0 and at most 1" if above_zero else "from 0 to 1"
    raise UserError.at(
        path, f"expected a probability (a number {span}), got {clip(repr(value))}", line=line, field=field
    )


def _sizes(path: Path, line: int, value: Any, field: str) -> dict[str, int]:
    """Stratum sizes {stratum: responses}: whole numbers from 0 (true and false are not)."""
    if not isinstance(value, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values()
    ):
        raise UserError.at(path, "expected the stratum sizes {stratum: rows}", line=line, field=field)
    return {str(k): int(v) for k, v in value.items()}


def _known_stratum(path: Path, line: int, stratum: str, strata_pop: dict[str, int], field: str) -> None:
    """A stratum named on a line must be one of the design's (line 1's `strata_pop`)."""
    if stratum not in strata_pop:
        raise UserError.at(
            path,
            f"{clip(repr(stratum))} is not one of the strata {clip(repr(sorted(strata_pop)), 200)}",
            line=line,
            field=field,
        )


def _read_strata_p(
    path: Path, line: int, value: Any, strata_pop: dict[str, int]
) -> dict[str, dict[str, float]]:
    """Each stratum's mean p over the run: a probability per label, for every non-empty stratum."""
    if not isinstance(value, dict):
        raise UserError.at(
            path,
            "expected each stratum's mean probability {stratum: {loose, strict}}",
            line=line,
            field="strata_p",
        )
    out: dict[str, dict[str, float]] = {}
    for stratum, ps in value.items():
        _known_stratum(path, line, stratum, strata_pop, "strata_p")
        if not isinstance(ps, dict):
            raise UserError.at(path, "expected {loose, strict}", line=line, field=f"strata_p.{stratum}")
        out[stratum] = {
            label: _probability(path, line, ps.get(label), f"strata_p.{stratum}.{label}")
            for label in ("loose", "strict")
        }
        _strict_within_loose(path, line, out[stratum]["loose"], out[stratum]["strict"], f"strata_p.{stratum}")
    for stratum, size in strata_pop.items():
        if size and stratum not in out:
            raise UserError.at(
                path,
                f"no mean probability of stratum {clip(repr(stratum))} ({size} responses)",
                line=line,
                field="strata_p",
            )
    return out


def _judge_p(path: Path, line: int, row: dict[str, Any], key: str) -> tuple[float, float] | None:
    """Judge `key`'s (p_loose, p_strict) of a row, each checked; None where it gives neither."""
    verdict = row["judges"][key]
    got = {name: verdict.get(name) for name in ("p_loose", "p_strict")}
    if all(v is None for v in got.values()):
        return None
    p_loose, p_strict = (_probability(path, line, v, f"judges.{key}.{name}") for name, v in got.items())
    _strict_within_loose(path, line, p_loose, p_strict, f"judges.{key}")
    return p_loose, p_strict


def _strict_within_loose(path: Path, line: int, p_loose: float, p_strict: float, where: str) -> None:
    """Every judge keeps p_strict <= p_loose (a strict contradiction is a loose one)."""
    if p_strict > p_loose:
        raise UserError.at(
            path, f"{p_strict} is above p_loose {p_loose} (a strict contradiction is a loose one)",
            line=line, field=f"{where}.{'p_strict' if where.startswith('judges') else 'strict'}",
        )  # fmt: skip


def _model_sizes(path: Path, line: int, value: Any, strata_pop: dict[str, int]) -> dict[str, int]:
    """A model's own stratum sizes (`model_strata_pop`): strata of the design, none larger than the
    stratum. Why: they weight the per-model figures, and a typo (`"L11": 1000` of 10) weighted a
    model's rows to more responses than the run has, while an unknown stratum stopped the score
    with an error that named no file."""
    sizes = _sizes(path, line, value, "model_strata_pop")
    for stratum, size in sizes.items():
        _known_stratum(path, line, stratum, strata_pop, "model_strata_pop")
        if size > strata_pop[stratum]:
            raise UserError.at(
                path,
                f"{size} responses of stratum {clip(repr(stratum))} for this model, but the stratum has "
                f"{strata_pop[stratum]} in the run (strata_pop)",
                line=line,
                field=f"model_strata_pop.{stratum}",
            )
    return sizes


def _models_within_run(
    path: Path, group_pop: dict[str, tuple[dict[str, int], int]], strata_pop: dict[str, int]
) -> None:
    """The models' own stratum sizes add up to at most the stratum's (every response is one model's)."""
    for stratum, size in strata_pop.items():
        total = sum(sizes.get(stratum, 0) for sizes, _ in group_pop.values())
        if total > size:
            line = max(first for sizes, first in group_pop.values() if sizes.get(stratum))
            raise UserError.at(
                path,
                f"the models' responses in stratum {clip(repr(stratum))} add up to {total}, but the "
                f"stratum has {size} in the run (strata_pop)",
                line=line,
                field=f"model_strata_pop.{stratum}",
            )


def _judged_in_every_stratum(path: Path, audit: AuditFile) -> None:
    """Each judge has a verdict on at least one labelled row of every non-empty stratum: a row
    without one is left out, and a stratum left with none cannot be weighted to the run (that
    stopped the score with an error naming no file)."""
    for key, by_row in audit.verdicts.items():
        judged = {r.stratum for r in audit.sample.rows if r.key in by_row and by_row[r.key].loose is not None}
        for stratum, size in audit.sample.strata_pop.items():
            if size and stratum not in judged:
                raise UserError(
                    f"{path}: judge {key} ({clip(audit.names.get(key, key))}) has no verdict (loose null) on "
                    f"any row of stratum {clip(repr(stratum))} ({size} responses): its figures cannot be "
                    "weighted to the run"
                )


class _Seen:
    """Rows already read, to refuse one pasted twice: by response index and by audit id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index: dict[int, int] = {}
        self.aid: dict[str, int] = {}

    def check(self, line: int, row: dict[str, Any], run_size: int | None) -> None:
        index = row.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise UserError.at(
                self.path, f"expected the response's index (a whole number from 0), got {clip(repr(index))}",
                line=line, field="index",
            )  # fmt: skip
        if run_size is not None and index >= run_size:
            raise UserError.at(
                self.path, f"{index} is not a response of the run (its responses are 0 to {run_size - 1})",
                line=line, field="index",
            )  # fmt: skip
        if index in self.index:
            raise UserError.at(
                self.path, f"response {index} is already line {self.index[index]}'s: label each response once",
                line=line, field="index",
            )  # fmt: skip
        self.index[index] = line
        aid = row.get("aid")
        if aid is None:
            return
        if not isinstance(aid, str):
            raise UserError.at(self.path, f"expected text, got {clip(repr(aid))}", line=line, field="aid")
        if aid in self.aid:
            raise UserError.at(
                self.path,
                f"{clip(repr(aid))} is already line {self.aid[aid]}'s: each row once",
                line=line,
                field="aid",
            )
        self.aid[aid] = line


def read_audit(path: Path) -> AuditFile:
    """The labelled sample, each judge's verdicts by row, and the judges' names (a, and b where
    the sample has a second judge). Every design figure (sizes, probabilities, indices) is checked:
    a file that cannot be the sample `ice audit sample` drew is refused naming the line and field,
    never scored with wrong weights."""
    rows: list[LabelledRow] = []
    verdicts: dict[str, dict[int, Judged]] = {}
    names: dict[str, str] = {}
    strata_pop: dict[str, int] = {}
    first: dict[str, Any] = {}  # line 1's design fields, which every row repeats
    strata_p: dict[str, dict[str, float]] | None = None
    group_pop: dict[str, tuple[dict[str, int], int]] = {}  # model -> its stratum sizes, first line
    labelled_p: dict[str, list[LabelledP]] = {"loose": [], "strict": []}
    drawn: dict[str, int] = {}
    seen = _Seen(path)
    p_table = False
    missing_p: int | None = None  # the first line whose judge a gives no probabilities
    design = "agreement"
    keys: tuple[str, ...] = JUDGES
    run_size: int | None = None
    for number, row in _lines(path):
        stratum = row.get("stratum")
        if not isinstance(stratum, str):
            raise UserError.at(path, "missing or not text", line=number, field="stratum")
        pop = _sizes(path, number, row.get("strata_pop"), "strata_pop")
        if not first:
            first = {k: row.get(k) for k in ("strata_pop", "strata_p", "run_size")}
            strata_pop = pop
            design = str(row.get("design") or "agreement")
            judges = row.get("judges")
            keys = tuple(k for k in JUDGES if isinstance(judges, dict) and k in judges) or ("a",)
            verdicts = {key: {} for key in keys}
            if row.get("strata_p") is not None:
                strata_p = _read_strata_p(path, number, row["strata_p"], strata_pop)
            size = row.get("run_size")
            if size is not None:
                if not isinstance(size, int) or isinstance(size, bool) or size < sum(strata_pop.values()):
                    raise UserError.at(
                        path,
                        f"expected the run's number of responses, got {clip(repr(size))}",
                        line=number,
                        field="run_size",
                    )
                run_size = size
        else:
            for name in first:
                if row.get(name) != first[name]:
                    had = "none" if first[name] is None else "another"
                    raise UserError.at(
                        path, f"differs from the first row's ({had}): rows of two samples are mixed, or a row was edited",
                        line=number, field=name,
                    )  # fmt: skip
        _known_stratum(path, number, stratum, strata_pop, "stratum")
        if strata_pop[stratum] == 0:
            raise UserError.at(
                path,
                f"stratum {clip(repr(stratum))} has 0 rows in the run, yet this row was drawn from it",
                line=number,
                field="strata_pop",
            )
        drawn[stratum] = drawn.get(stratum, 0) + 1
        if drawn[stratum] > strata_pop[stratum]:
            raise UserError.at(
                path,
                f"row {drawn[stratum]} of stratum {clip(repr(stratum))}, which has {strata_pop[stratum]} responses in the run "
                "(strata_pop): more rows than responses",
                line=number,
                field="stratum",
            )
        seen.check(number, row, run_size)
        if row.get("inclusion_p") is not None:
            _probability(path, number, row["inclusion_p"], "inclusion_p", above_zero=True)
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
        if own is not None:
            own_pop = _model_sizes(path, number, own, strata_pop)
            if group is not None:
                if group in group_pop and group_pop[group][0] != own_pop:
                    raise UserError.at(
                        path,
                        f"differs from line {group_pop[group][1]}'s for model {clip(repr(group))}: "
                        "rows of two samples are mixed, or a row was edited",
                        line=number,
                        field="model_strata_pop",
                    )
                group_pop.setdefault(group, (own_pop, number))
        rows.append(LabelledRow(key=number, stratum=stratum, loose=loose, strict=strict, group=group))
        for key in keys:
            name, judged = _judged(path, number, row, key)
            names.setdefault(key, name)
            verdicts[key][number] = judged
            ps = _judge_p(path, number, row, key)
            if key != "a":
                continue
            if ps is None:
                missing_p = number if missing_p is None else missing_p
                continue
            p_table = p_table or row["judges"]["a"].get("p_table") is True
            labelled_p["loose"].append(LabelledP(stratum, ps[0], loose))
            labelled_p["strict"].append(LabelledP(stratum, ps[1], strict))
    for stratum, size in strata_pop.items():
        if size and not drawn.get(stratum):
            raise UserError(
                f"{path}: stratum {clip(repr(stratum))} has {size} rows in the run but no row in this file: "
                "score the whole file `ice audit sample` wrote"
            )
    _models_within_run(path, group_pop, strata_pop)
    no_correction = None
    if strata_p is None:
        no_correction = (
            "the file records no strata_p (each stratum's mean probability over the run), which it needs"
        )
    elif missing_p is not None:
        if labelled_p["loose"]:  # some rows have them, others not: edited, not an older file
            raise UserError.at(
                path, "missing, while other rows give judge a's probabilities", line=missing_p,
                field="judges.a.p_loose",
            )  # fmt: skip
        no_correction = "judge a's verdicts carry no p_loose / p_strict, which it needs"
    weights = [strata_pop[r.stratum] / drawn[r.stratum] for r in rows]
    return AuditFile(
        AuditSample(rows, strata_pop, {g: sizes for g, (sizes, _) in group_pop.items()}), verdicts, names, design,
        labelled_p if no_correction is None else {}, strata_p, weights, no_correction,
        p_table or names.get("a") == RECORDED,
    )  # fmt: skip


def score_audit(path: Path, *, resamples: int = 2000, seed: int = 0) -> list[JudgeAudit]:
    """Each judge of a filled-in audit file against its labels, weighted to the whole run."""
    check_seed(seed)
    if not MIN_RESAMPLES <= resamples <= MAX_RESAMPLES:
        raise UserError(f"--resamples must be from {MIN_RESAMPLES} to {MAX_RESAMPLES:,}, got {resamples}")
    audit = read_audit(path)
    _judged_in_every_stratum(path, audit)
    names = audit.names
    label = {
        key: names[key] if names[key] != names.get("b" if key == "a" else "a") else f"{key}:{names[key]}"
        for key in names
    }
    return [
        audit_judge(audit.sample, audit.verdicts[key], judge=label[key], resamples=resamples, seed=seed)
        for key in names
    ]


def corrected_rates(path: Path) -> tuple[list[CorrectedRate], str | None]:
    """The run's loose and strict rates corrected by the labels (`ice.audit_doubt`), or none and
    why (an audit file of an older distillscope records no probabilities): said, never silent.
    Where judge a's p are the doubt table's (recorded labels), the rates carry no expected rate of
    the judge's own: the table is a convention, not the judge's probability."""
    audit = read_audit(path)
    if audit.no_correction is not None or audit.strata_p is None:
        return [], audit.no_correction
    strata_p = audit.strata_p
    return [
        corrected_rate(
            label,
            audit.labelled_p[label],
            audit.sample.strata_pop,
            {s: float(strata_p[s][label]) for s in strata_p},
            judge_has_p=not audit.p_table,
        )
        for label in ("loose", "strict")
    ], None


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
