"""Read ICE, RSE and matrix run directories into the records the report builders share.

The results themselves are typed (`distillscope.results`, read by `distillscope.results.load`,
which also reads 0.1 files); this module only arranges them for the page: one `IceRun` per ICE
run (several targets after a mixed rescore), one `RseRun` per RSE run, one `MatrixRun` per
matrix, with scores as `Score` (value, interval, n) and settings completed from config.json.
A study directory contributes its stage runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillscope.errors import UserError
from distillscope.models.spec import model_label
from distillscope.records import load_json
from distillscope.redact import redact_data
from distillscope.results import base as typed
from distillscope.results.ice import IceResult as TypedIce
from distillscope.results.ice import IceScores, IceTarget
from distillscope.results.load import load as load_result
from distillscope.results.rse import Contrast, MatrixResult, Paired, RseMissing, RseModelScores, RseResult
from distillscope.results.study import StudyResult

ICE_LEVELS = ("loose", "strict", "hard")
RSE_ASPECTS = ("style", "logic", "content")
BREAKDOWN_DIMS = ("language", "area", "template", "mutator", "generation")


@dataclass
class Score:
    """A score with its 95% interval and sample size, as the page shows it."""

    score: float | None
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    count: int | None = None
    band: tuple[float, float] | None = None  # [every unsure a no, every unsure a yes]
    n_unsure: int | None = None
    # the expected rate (mean probability) and its 95% interval, where the judge gives probabilities
    expected: tuple[float, float, float] | None = None
    differs: bool = False  # the expected and the thresholded rate differ by more than their intervals
    # the expected rate's interval allowing for the judge's error on a model it was not built from
    unseen: tuple[float, float] | None = None
    n_prompts: int | None = None  # a mean over multi-turn prompts: the prompts its interval resampled

    @classmethod
    def of(cls, value: typed.Score | typed.Mean | None) -> Score | None:
        """The typed score, or None when it has no value and no n (nothing to show)."""
        if value is None or (value.score is None and not value.n):
            return None
        lo, hi = value.ci95
        if isinstance(value, typed.Score):
            band = value.band
            edges = None
            if band is not None and band[0] is not None and band[1] is not None:
                edges = (float(band[0]), float(band[1]))
            e = value.expected
            expected = (e.rate, e.ci95[0], e.ci95[1]) if e is not None and e.rate is not None else None
            differs = bool(e is not None and e.differs)
            unseen = e.unseen_ci95 if e is not None and expected is not None else None
            return cls(
                value.score, lo, hi, value.n, value.count, edges, value.n_unsure, expected, differs, unseen
            )
        return cls(value.score, lo, hi, value.n, None, n_prompts=value.n_prompts)

    @property
    def uncertain(self) -> bool:
        """The judge was unsure on some responses: the band is worth showing."""
        return bool(self.n_unsure) and self.band is not None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "score": self.score,
            "ci95": [self.lo, self.hi],
            "n": self.n,
            "count": self.count,
        }
        if self.n_prompts is not None:
            out["n_prompts"] = self.n_prompts
        if self.band is not None:
            out["band"] = list(self.band)
            out["n_unsure"] = self.n_unsure
        if self.expected is not None:
            out["expected"] = {
                "rate": self.expected[0],
                "ci95": list(self.expected[1:]),
                "differs": self.differs,
                **({"unseen_ci95": list(self.unseen)} if self.unseen is not None else {}),
            }
        return out


def ice_scores(scores: IceScores) -> dict[str, Score]:
    return {level: s for level, raw in scores.items() if (s := Score.of(raw)) is not None}


@dataclass
class IceResult:
    """One target's ICE scores (a run dir may hold several after a mixed rescore)."""

    target: str
    scores: dict[str, Score]
    breakdowns: dict[str, dict[str, dict[str, Score]]]  # dim -> value -> level -> score
    judge: str = ""
    target_identity: dict[str, Any] = field(default_factory=dict)
    n_responses: int | None = None
    n_judged: int | None = None
    n_unjudged: int | None = None
    n_failed: int | None = None
    note: str | None = None
    n_empty: int | None = None
    n_filtered: int | None = None
    n_unsure: int | None = None
    categories: dict[str, dict[str, Score]] = field(default_factory=dict)  # category -> loose/strict
    log_complete: bool | None = None  # rescore: False when the log held only part of the model's run
    category_responses: dict[str, int] = field(default_factory=dict)  # judged responses per category
    categories_note: str | None = None

    @classmethod
    def of(cls, t: IceTarget, fallback: str) -> IceResult:
        categories = {
            name: {lv: s for lv in ("loose", "strict") if (s := Score.of(getattr(c, lv))) is not None}
            for name, c in t.categories.items()
        }
        return cls(
            target=t.target or fallback,
            scores=ice_scores(t.scores),
            breakdowns={
                dim: {value: ice_scores(cell) for value, cell in table.items()}
                for dim, table in t.breakdowns.items()
            },
            judge=t.judge,
            target_identity=t.target_identity.model_dump(exclude_defaults=True),
            n_responses=t.n_responses,
            n_judged=t.n_judged,
            n_unjudged=t.n_unjudged,
            n_failed=t.n_failed,
            note=t.note,
            n_empty=t.n_empty,
            n_filtered=t.n_filtered,
            n_unsure=t.n_unsure,
            categories={name: levels for name, levels in categories.items() if levels},
            category_responses={name: c.responses for name, c in t.categories.items()},
            categories_note=t.categories_note,
            log_complete=t.log_complete,
        )


@dataclass
class IceRun:
    path: Path
    results: list[IceResult]
    settings: dict[str, Any]
    run: dict[str, Any]
    complete: bool | None
    result: TypedIce
    notes: list[str] = field(default_factory=list)
    # why verdicts.jsonl does not belong to this results.json (None: it does); its claims and
    # evidence are then left out (`verdicts_problem`)
    verdicts_problem: str | None = None


@dataclass
class RseModel:
    name: str
    datasets: dict[str, Score]
    aspects: dict[str, dict[str, Score]]  # dataset -> aspect -> score
    avg: Score | None

    @classmethod
    def of(cls, name: str, m: RseModelScores) -> RseModel:
        datasets = {ds: s for ds, raw in m.datasets.items() if (s := Score.of(raw)) is not None}
        aspects = {
            ds: {a: s for a in RSE_ASPECTS if (s := Score.of(raw.aspects.get(a))) is not None}
            for ds, raw in m.datasets.items()
        }
        return cls(name, datasets, {ds: a for ds, a in aspects.items() if a}, Score.of(m.avg))


@dataclass
class RseRun:
    path: Path
    reference: str
    judge: str
    models: list[RseModel]
    settings: dict[str, Any]
    run: dict[str, Any]
    complete: bool | None
    paired: list[Paired] | None
    contrast: Contrast | None
    missing: RseMissing | None
    result: RseResult
    panel: list[RseModel] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        seen: dict[str, None] = {}
        for model in self.models:
            for name in model.datasets:
                seen.setdefault(name, None)
        return list(seen)


@dataclass
class MatrixRun:
    path: Path
    models: list[str]
    scores: list[list[float | None]]
    linkage: list[list[float]] | None
    order: list[int] | None
    settings: dict[str, Any]
    run: dict[str, Any]
    complete: bool | None
    result: MatrixResult
    notes: list[str] = field(default_factory=list)


@dataclass
class AttributionModel:
    name: str
    predicted: str | None  # the family resembled most
    families: dict[str, Score]  # family -> mean probability with its interval
    p_holm: dict[str, float]
    predicted_label: str = ""  # as shown: "F", or "F (n.s.)" when the lean is not significant


@dataclass
class AttributionRun:
    """`rse attribute`: which family each test model's writing resembles."""

    path: Path
    families: list[str]
    members: dict[str, list[str]]
    models: list[AttributionModel]
    alpha: float | None
    evidence: dict[str, list[dict[str, Any]]]
    settings: dict[str, Any]
    run: dict[str, Any]
    complete: bool | None
    raw: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    bank: dict[str, Any] | None = None  # --bank runs: results.json `bank` (rse/banks/types.py BankSummary)


Run = IceRun | RseRun | MatrixRun | AttributionRun


def read_json(path: Path) -> Any:
    """A run's JSON file (BOM accepted, depth bounded; errors name the file and line)."""
    return load_json(path, "results file")


def stream_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL file one at a time; a malformed line is skipped (the report shows what it can)."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(obj, dict):
                yield obj


def iter_jsonl(path: Path) -> list[dict[str, Any]]:
    """All rows of a JSONL file (see `stream_jsonl`)."""
    return list(stream_jsonl(path))


def verdicts_problem(run_dir: Path, result: TypedIce) -> str | None:
    """Why `run_dir/verdicts.jsonl` is not the verdicts behind this results.json, or None.

    The report counts the vendors a target claims and picks its evidence from that file, and shows
    them beside the results' scores: a missing file read as no claim at all ('none (0 other-vendor of
    300 judged)' beside a loose score of 0.48), and a file cut short or holding another run's lines
    gave counts that no score matched. So the file must hold one verdict per response of
    results.json (`n_responses`), each index once, and as many loose contradictions per target as
    its loose score counts."""
    path = run_dir / "verdicts.jsonl"
    if not path.is_file():
        return f"{path}: missing"
    targets = result.targets
    names = {t.target for t in targets} if len(targets) > 1 else set()
    loose: dict[str | None, int] = {}
    seen: dict[int, int] = {}  # index -> line
    rows = 0
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    return f"{path}:{number}: not a JSON verdict (the file may be cut short)"
                if not isinstance(row, dict):
                    return f"{path}:{number}: not a JSON object"
                index = row.get("index", rows)  # a 0.1 file may leave it out: its position
                if not isinstance(index, int) or isinstance(index, bool):
                    return f"{path}:{number}: field 'index': expected an integer"
                if index in seen:
                    return f"{path}:{number}: index {index} again (first on line {seen[index]}): lines of another run?"
                seen[index] = number
                rows += 1
                if row.get("loose") is True:
                    model = row.get("model") if names else None
                    key = model if isinstance(model, str) and model in names else None
                    loose[key] = loose.get(key, 0) + 1
    except OSError as exc:
        return f"{path}: cannot read: {exc.strerror or exc}"
    if rows != result.n_responses:
        return f"{path}: {rows} verdicts for the {result.n_responses} responses of results.json"
    for t in targets:
        expected = t.scores.loose.count
        found = loose.get(t.target if names else None, 0)
        if found != expected:
            who = f" of {t.target}" if names else ""
            return f"{path}: {found} loose contradictions{who}, results.json counts {expected}"
    return None


def _settings_of(result: typed.Result, run_dir: Path) -> dict[str, Any]:
    """results.json settings, completed from config.json for anything it leaves out."""
    redacted = redact_data(result.settings)
    settings = dict(redacted) if isinstance(redacted, dict) else {}
    config_path = run_dir / "config.json"
    if config_path.is_file():
        try:
            config = load_json(config_path)
        except UserError:
            config = {}
        for key, value in (config if isinstance(config, dict) else {}).items():
            settings.setdefault(key, redact_data(value))
    return settings


def _notes(result: typed.Result, *more: str | None) -> list[str]:
    """Why a run stopped early, and any caveat it recorded."""
    return [n.strip() for n in (result.stop_reason, *more) if n and n.strip()]


def _common(result: typed.Result, run_dir: Path) -> dict[str, Any]:
    return {
        "path": run_dir,
        "settings": _settings_of(result, run_dir),
        "run": result.run.model_dump(),
        "complete": result.complete,
    }


def _attribution_view(result: typed.Result, run_dir: Path) -> AttributionRun:
    from distillscope.rse.attribution.types import AttributionResult

    assert isinstance(result, AttributionResult)
    models = [
        AttributionModel(
            name=name,
            predicted=m.predicted,
            predicted_label=m.predicted_label(),
            families={
                f: Score(p.score, p.ci95[0], p.ci95[1], m.n_prompts) for f, p in m.probabilities.items()
            },
            p_holm={f: p.p_holm for f, p in m.probabilities.items()},
        )
        for name, m in result.models.items()
    ]
    return AttributionRun(
        families=list(result.families), members=result.members, models=models, alpha=result.alpha,
        evidence={f: [t.model_dump() for t in ts] for f, ts in result.evidence.items()},
        raw=result.model_dump(mode="json"), notes=_notes(result, *result.warnings), **_common(result, run_dir),
        bank=result.bank.model_dump(mode="json") if result.bank is not None else None,
    )  # fmt: skip


def _view(result: typed.Result, run_dir: Path) -> list[Run]:
    if isinstance(result, TypedIce):
        targets = [IceResult.of(t, run_dir.name) for t in result.targets]
        problem = verdicts_problem(run_dir, result)
        left_out = f"{problem}: the claimed vendors and the evidence are left out" if problem else None
        return [
            IceRun(
                results=targets, result=result, notes=_notes(result, result.note, left_out),
                verdicts_problem=problem, **_common(result, run_dir),
            )
        ]  # fmt: skip
    if isinstance(result, RseResult):
        return [
            RseRun(
                reference=result.reference, judge=result.judge,
                models=[RseModel.of(n, m) for n, m in result.models.items()],
                paired=result.paired, contrast=result.contrast, missing=result.missing, result=result,
                panel=[RseModel.of(n, m) for n, m in (result.panel or {}).items()],
                notes=_notes(result), **_common(result, run_dir),
            )
        ]  # fmt: skip
    if isinstance(result, MatrixResult):
        return [
            MatrixRun(
                models=result.models, scores=result.scores, linkage=result.linkage, order=result.order,
                result=result, notes=_notes(result), **_common(result, run_dir),
            )
        ]  # fmt: skip
    if result.kind == "attribution":
        return [_attribution_view(result, run_dir)]
    if isinstance(result, StudyResult):
        runs: list[Run] = []
        for entry in result.targets.values():
            if entry.ice is not None and entry.ice_dir:
                runs += _view(entry.ice, run_dir / entry.ice_dir)
        if result.rse is not None and result.rse_dir:
            runs += _view(result.rse, run_dir / result.rse_dir)
        if result.attribution is not None and result.attribution_dir:
            runs += _view(result.attribution, run_dir / result.attribution_dir)
        return runs
    return []  # a kind with nothing for the page (e.g. recorded answers)


def load_run_views(run_dir: Path) -> list[Run]:
    """The runs one directory holds for the report (a study holds several)."""
    return _view(load_result(run_dir), run_dir)


def load_run(run_dir: Path) -> Run:
    """The one run a directory holds; a directory with nothing to report is an error."""
    views = load_run_views(run_dir)
    if not views:
        raise UserError.at(run_dir / "results.json", "not an ICE, RSE or matrix results file")
    return views[0]


def find_run_dirs(path: Path) -> list[Path]:
    """`path` itself when it holds results.json, else its direct subfolders that do (e.g. a demo)."""
    if not path.exists():
        raise UserError(f"{path}: no such directory")
    if not path.is_dir():
        raise UserError(f"{path}: not a directory (give a run directory)")
    if (path / "results.json").is_file():
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_dir() and (p / "results.json").is_file())
    if not found:
        raise UserError(f"{path}: no results.json here or in its subfolders (not a finished run)")
    return found


# Run kinds a report has nothing to chart for (config.json `command`): skipped with a note.
UNCHARTED_COMMANDS = {"answer": "a 'models answer' run (answers only, no scores)"}


def uncharted_reason(run_dir: Path) -> str | None:
    """Why a run directory holds nothing to chart (a `models answer` run), or None."""
    config = run_dir / "config.json"
    command = None
    if config.is_file():
        try:
            data = load_json(config, "config file")
        except UserError:
            data = None
        command = data.get("command") if isinstance(data, dict) else None
    if isinstance(command, str) and command in UNCHARTED_COMMANDS:
        return UNCHARTED_COMMANDS[command]
    if command is None and (run_dir / "results.json").is_file():  # no config.json: judge by the results
        try:
            results = load_json(run_dir / "results.json", "results file")
        except UserError:
            return None
        if isinstance(results, dict) and "n_answered" in results and "scores" not in results:
            return UNCHARTED_COMMANDS["answer"]
    return None


def load_runs(paths: list[Path], skipped: list[str] | None = None) -> list[Run]:
    """Every run in `paths`; runs with nothing to chart are left out, each with a line in `skipped`.
    Nothing to chart at all is a `UserError`."""
    runs: list[Run] = []
    notes: list[str] = []
    seen: set[Path] = set()
    copies: dict[str, Path] = {}  # a run's content -> where it was first found
    for path in paths:
        for run_dir in find_run_dirs(path):
            reason = uncharted_reason(run_dir)
            if reason is not None:
                notes.append(f"{run_dir}: skipped, {reason}")
                continue
            for view in load_run_views(run_dir):
                key = view.path.resolve()
                if key in seen:  # one folder reached twice (a link, a study and its stage)
                    continue
                seen.add(key)
                content = _content_key(view.path)
                if content is not None and content in copies:  # `cp -r run run2`: one run, ranked once
                    notes.append(
                        f"{view.path}: skipped, a copy of {copies[content]} (the same results.json and "
                        "config.json): one run, counted once"
                    )
                    continue
                if content is not None:
                    copies[content] = view.path
                runs.append(view)
    if skipped is not None:
        skipped.extend(notes)
    if not runs and notes:
        raise UserError(f"nothing to chart: {'; '.join(notes)}")
    if not runs:
        where = ", ".join(str(p) for p in paths)
        raise UserError(f"{where}: no ICE, RSE or matrix results to report")
    return runs


def _content_key(run_dir: Path) -> str | None:
    """What makes a run the run it is: its results.json and config.json, byte for byte (a run's
    results carry its start and finish times, so two runs never share them; a copy does). None
    where they cannot be read (the run's loader has read results.json already)."""
    digest = hashlib.sha256()
    try:
        digest.update((run_dir / "results.json").read_bytes())
        config = run_dir / "config.json"
        digest.update(b"\0" + (config.read_bytes() if config.is_file() else b""))
    except OSError:
        return None
    return digest.hexdigest()


def normalise_model_name(name: str) -> str:
    """A key that matches the same model across ICE and RSE runs.

    `openai-compatible:glm-4-plus@http://...`, `openai-completions:glm-4-plus@...`,
    `replay:answers/GLM-4-Plus.jsonl` and `glm_4_plus` all become `glm4plus`.
    """
    return re.sub(r"[^0-9a-z\u0080-\uffff]+", "", model_label(name).lower())


def display_model_name(name: str) -> str:
    """A short label for plots: the spec without its backend prefix, URL or path."""
    return model_label(name) or name
