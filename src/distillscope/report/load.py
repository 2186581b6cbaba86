"""Read ICE, RSE and matrix run directories into plain records the report builders share.

Every reader is tolerant: a field that is absent (an older or partial run, another tool's
results) leaves its part of the report empty rather than failing. Only a directory that holds
no results at all is an error, because then there is nothing to report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillscope.errors import UserError

ICE_LEVELS = ("loose", "strict", "hard")
RSE_ASPECTS = ("style", "logic", "content")
BREAKDOWN_DIMS = ("language", "area", "template", "mutator", "generation")


@dataclass
class Score:
    """A score with its 95% interval and sample size (any of them may be unknown)."""

    score: float | None
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    count: int | None = None

    @classmethod
    def parse(cls, raw: Any) -> Score | None:
        """`{"score", "ci95", "n", "count"}` or a bare number; None when there is no score."""
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float):
            return cls(float(raw))
        if not isinstance(raw, dict):
            return None
        value = _num(raw.get("score", raw.get("mean")))
        ci = raw.get("ci95") or raw.get("ci") or [None, None]
        lo = _num(ci[0]) if isinstance(ci, list | tuple) and len(ci) == 2 else None
        hi = _num(ci[1]) if isinstance(ci, list | tuple) and len(ci) == 2 else None
        n = raw.get("n")
        count = raw.get("count")
        if value is None and n in (None, 0):
            return None
        return cls(
            value,
            lo,
            hi,
            n if isinstance(n, int) and not isinstance(n, bool) else None,
            count if isinstance(count, int) and not isinstance(count, bool) else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "ci95": [self.lo, self.hi], "n": self.n, "count": self.count}


@dataclass
class IceResult:
    """One target's ICE scores (a run dir may hold several after a mixed rescore)."""

    target: str
    scores: dict[str, Score]
    breakdowns: dict[str, dict[str, dict[str, Score]]]  # dim -> value -> level ("score" if one) -> score
    judge: str = ""
    target_identity: dict[str, Any] = field(default_factory=dict)
    n_responses: int | None = None
    n_judged: int | None = None
    n_unjudged: int | None = None
    n_failed: int | None = None
    note: str | None = None


@dataclass
class IceRun:
    path: Path
    results: list[IceResult]
    settings: dict[str, Any]
    run: dict[str, Any]
    complete: bool | None
    raw: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class RseModel:
    name: str
    datasets: dict[str, Score]
    aspects: dict[str, dict[str, Score]]  # dataset -> aspect -> score
    avg: Score | None


@dataclass
class RseRun:
    path: Path
    reference: str
    judge: str
    models: list[RseModel]
    settings: dict[str, Any]
    run: dict[str, Any]
    complete: bool | None
    paired: Any
    contrast: Any
    missing: Any
    raw: dict[str, Any]
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
    raw: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class AttributionModel:
    name: str
    predicted: str | None
    families: dict[str, Score]  # family -> mean probability with its interval
    p_holm: dict[str, float]


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


Run = IceRun | RseRun | MatrixRun | AttributionRun


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _notes(data: dict[str, Any]) -> list[str]:
    """Why a run stopped early, and any caveat it recorded."""
    notes = []
    for key in ("stop_reason", "stopped", "note"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            notes.append(value.strip())
    return notes


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UserError.at(path, f"not valid JSON ({exc.msg})", line=exc.lineno) from None


def stream_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL file one at a time; a malformed line is skipped (the report shows what it can)."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                yield obj


def iter_jsonl(path: Path) -> list[dict[str, Any]]:
    """All rows of a JSONL file (see `stream_jsonl`)."""
    return list(stream_jsonl(path))


def _settings_of(data: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """results.json settings, completed from config.json for anything it leaves out."""
    settings = dict(_dict(data.get("settings")))
    config_path = run_dir / "config.json"
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            config = {}
        for key, value in _dict(config).items():
            settings.setdefault(key, value)
    return settings


def _ice_result(data: dict[str, Any], fallback_target: str) -> IceResult:
    scores = {level: s for level in ICE_LEVELS if (s := Score.parse(_dict(data.get("scores")).get(level)))}
    breakdowns: dict[str, dict[str, dict[str, Score]]] = {}
    for dim, values in _dict(data.get("breakdowns")).items():
        table: dict[str, dict[str, Score]] = {}
        for value, cell in _dict(values).items():
            single = Score.parse(cell)
            if single is not None:
                table[str(value)] = {"score": single}
                continue
            levels = {lv: s for lv in ICE_LEVELS if (s := Score.parse(_dict(cell).get(lv)))}
            if levels:
                table[str(value)] = levels
        if table:
            breakdowns[str(dim)] = table
    judge = data.get("judge")
    return IceResult(
        target=str(data.get("target") or fallback_target),
        scores=scores,
        breakdowns=breakdowns,
        judge=judge if isinstance(judge, str) else json.dumps(judge) if judge else "",
        target_identity=_dict(data.get("target_identity")),
        n_responses=_int(data.get("n_responses")),
        n_judged=_int(data.get("n_judged")),
        n_unjudged=_int(data.get("n_unjudged")),
        n_failed=_int(data.get("n_failed")),
        note=data["note"] if isinstance(data.get("note"), str) else None,
    )


def _is_ice(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("scores"), dict)
        and any(level in data["scores"] for level in ICE_LEVELS)
    )


def _ice_run(data: Any, run_dir: Path) -> IceRun | None:
    """A single-target results.json, a list of them, or a mapping target -> results."""
    results: list[IceResult] = []
    container: dict[str, Any] = data if isinstance(data, dict) else {}
    if _is_ice(data):
        results.append(_ice_result(data, run_dir.name))
    else:
        entries: list[tuple[str, Any]] = []
        if isinstance(data, list):
            entries = [(f"{run_dir.name}-{i}", item) for i, item in enumerate(data)]
        elif isinstance(data, dict):
            pool = data.get("targets", data.get("results", data.get("models", data)))
            if isinstance(pool, list):
                entries = [(f"{run_dir.name}-{i}", item) for i, item in enumerate(pool)]
            elif isinstance(pool, dict):
                entries = list(pool.items())
        for name, item in entries:
            if _is_ice(item):
                results.append(_ice_result(item, str(name)))
        if not results:
            return None
        if isinstance(data, list):
            container = data[0] if data and isinstance(data[0], dict) else {}
    return IceRun(
        path=run_dir,
        results=results,
        settings=_settings_of(container, run_dir),
        run=_dict(container.get("run")),
        complete=container.get("complete") if isinstance(container.get("complete"), bool) else None,
        raw=container,
        notes=_notes(container),
    )


def _rse_models(entries: Any) -> list[RseModel]:
    models: list[RseModel] = []
    for name, entry in _dict(entries).items():
        entry = _dict(entry)
        datasets: dict[str, Score] = {}
        aspects: dict[str, dict[str, Score]] = {}
        for ds, raw in _dict(entry.get("datasets")).items():
            score = Score.parse(raw)
            if score is not None:
                datasets[str(ds)] = score
            parsed = {
                a: s for a in RSE_ASPECTS if (s := Score.parse(_dict(_dict(raw).get("aspects")).get(a)))
            }
            if parsed:
                aspects[str(ds)] = parsed
        models.append(RseModel(str(name), datasets, aspects, Score.parse(entry.get("avg"))))
    return models


def _rse_run(data: dict[str, Any], run_dir: Path) -> RseRun:
    models = _rse_models(data.get("models"))
    judge = data.get("judge")
    return RseRun(
        path=run_dir,
        reference=str(data.get("reference") or ""),
        judge=judge if isinstance(judge, str) else json.dumps(judge) if judge else "",
        models=models,
        settings=_settings_of(data, run_dir),
        run=_dict(data.get("run")),
        complete=data.get("complete") if isinstance(data.get("complete"), bool) else None,
        paired=data.get("paired"),
        contrast=data.get("contrast"),
        missing=data.get("missing"),
        raw=data,
        panel=_rse_models(data.get("panel")),
        notes=_notes(data),
    )


def _matrix_run(data: dict[str, Any], run_dir: Path) -> MatrixRun:
    names = [str(m) for m in data["models"]]
    size = len(names)
    rows: list[list[float | None]] = []
    for i in range(size):
        row = data["scores"][i] if i < len(data["scores"]) and isinstance(data["scores"][i], list) else []
        rows.append([_num(row[j]) if j < len(row) else None for j in range(size)])
    linkage = data.get("linkage")
    order = data.get("order", data.get("leaves"))
    return MatrixRun(
        path=run_dir,
        models=names,
        scores=rows,
        linkage=linkage
        if isinstance(linkage, list) and linkage and all(isinstance(r, list) for r in linkage)
        else None,
        order=order if isinstance(order, list) and all(isinstance(i, int) for i in order) else None,
        settings=_settings_of(data, run_dir),
        run=_dict(data.get("run")),
        complete=data.get("complete") if isinstance(data.get("complete"), bool) else None,
        raw=data,
        notes=_notes(data),
    )


def _attribution_run(data: dict[str, Any], run_dir: Path) -> AttributionRun:
    models: list[AttributionModel] = []
    for name, entry in _dict(data.get("models")).items():
        entry = _dict(entry)
        probs = _dict(entry.get("probabilities"))
        models.append(
            AttributionModel(
                name=str(name),
                predicted=entry.get("predicted") if isinstance(entry.get("predicted"), str) else None,
                families={str(f): s for f, raw in probs.items() if (s := Score.parse(raw)) is not None},
                p_holm={
                    str(f): float(p)
                    for f, raw in probs.items()
                    if isinstance(p := _dict(raw).get("p_holm"), int | float)
                },
            )
        )
    evidence = {str(f): [x for x in v if isinstance(x, dict)] for f, v in _dict(data.get("evidence")).items()}
    return AttributionRun(
        path=run_dir,
        families=[str(f) for f in data.get("families") or []],
        members={str(k): list(v) for k, v in _dict(data.get("members")).items() if isinstance(v, list)},
        models=models,
        alpha=_num(data.get("alpha")),
        evidence=evidence,
        settings=_settings_of(data, run_dir),
        run=_dict(data.get("run")),
        complete=data.get("complete") if isinstance(data.get("complete"), bool) else None,
        raw=data,
        notes=_notes(data),
    )


def _is_matrix(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("models"), list)
        and isinstance(data.get("scores"), list)
        and all(isinstance(r, list) for r in data["scores"])
    )


def _is_rse(data: Any) -> bool:
    """RSE names a reference; its model entries hold datasets (ICE per-model blocks hold scores)."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        return False
    if "reference" in data:
        return True
    entries = [e for e in data["models"].values() if isinstance(e, dict)]
    return bool(entries) and all("datasets" in e or "avg" in e for e in entries)


def load_run(run_dir: Path) -> Run:
    """The run held by one directory (its results.json decides which kind)."""
    results_path = run_dir / "results.json"
    if not results_path.is_file():
        raise UserError(f"{run_dir}: no results.json (not a finished distillscope run directory)")
    data = read_json(results_path)
    if isinstance(data, dict) and data.get("kind") == "attribution":
        return _attribution_run(data, run_dir)
    if _is_matrix(data):
        return _matrix_run(data, run_dir)
    if _is_rse(data):
        return _rse_run(data, run_dir)
    ice = _ice_run(data, run_dir)
    if ice is not None:
        return ice
    raise UserError.at(results_path, "not an ICE, RSE or matrix results file (no 'scores' or 'models')")


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


def load_runs(paths: list[Path]) -> list[Run]:
    runs: list[Run] = []
    seen: set[Path] = set()
    for path in paths:
        for run_dir in find_run_dirs(path):
            resolved = run_dir.resolve()
            if resolved not in seen:
                seen.add(resolved)
                runs.append(load_run(run_dir))
    return runs


_SPEC_PREFIX = re.compile(r"^(openai-compatible|openai|local|replay|hf|ollama|vllm|anthropic)[:]", re.I)


def normalise_model_name(name: str) -> str:
    """A key that matches the same model across ICE and RSE runs.

    `openai-compatible:glm-4-plus@http://...`, `replay:answers/GLM-4-Plus.jsonl` and `glm_4_plus`
    all become `glm4plus`.
    """
    text = name.strip()
    text = _SPEC_PREFIX.sub("", text)
    text = text.split("@", 1)[0]
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = re.sub(r"\.(jsonl|json|csv|parquet|gguf)$", "", text, flags=re.I)
    return re.sub(r"[^0-9a-z\u0080-\uffff]+", "", text.lower())


def display_model_name(name: str) -> str:
    """A short label for plots: the spec without its backend prefix, URL or path."""
    text = _SPEC_PREFIX.sub("", name.strip()).split("@", 1)[0]
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"\.(jsonl|json|csv|parquet|gguf)$", "", text, flags=re.I) or name
