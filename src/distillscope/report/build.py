"""Combine loaded runs into one report: the tables, pairings and rankings every format shares."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from distillscope import __version__
from distillscope.report.load import (
    ICE_LEVELS,
    AttributionRun,
    IceResult,
    IceRun,
    MatrixRun,
    RseRun,
    Run,
    Score,
    normalise_model_name,
)
from distillscope.report.plots import MapPoint
from distillscope.results.rse import Contrast, RseMissing

# Settings shown first, in this order, when a run has them (the rest follow alphabetically).
SETTING_ORDER = (
    "command",
    "target",
    "targets",
    "reference",
    "test",
    "models",
    "judge",
    "mutator",
    "mode",
    "system_prompt",
    "sampling",
    "params",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "budget",
    "sample",
    "swap",
    "datasets",
    "templates",
    "probes",
    "vendor_words",
    "started_at",
    "finished_at",
    "tool_version",
)
SKIP_SETTINGS = {"ledger"}
PARTIAL_LOG = "the log holds only part of this model's run: its scores are not comparable"


@dataclass
class Ranking:
    """Targets ordered by one score, highest first."""

    title: str
    higher_means: str
    rows: list[tuple[str, Score, str]]  # (model, score, run dir)
    # shown after the ranking, never in it: a score that is not comparable, and why (model, score, run dir, why)
    unranked: list[tuple[str, Score, str, str]] = field(default_factory=list)
    # ICE: the judge settings every row was judged with, where the runs given were judged differently
    # (each judge's rows are then ranked in their own table); None: one judge for all
    judge: str | None = None


@dataclass
class Report:
    runs: list[Run]
    skipped: list[str] = field(default_factory=list)  # runs left out: nothing to chart, and why
    generated_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    tool_version: str = __version__

    @property
    def ice_runs(self) -> list[IceRun]:
        return [r for r in self.runs if isinstance(r, IceRun)]

    @property
    def rse_runs(self) -> list[RseRun]:
        return [r for r in self.runs if isinstance(r, RseRun)]

    @property
    def matrix_runs(self) -> list[MatrixRun]:
        return [r for r in self.runs if isinstance(r, MatrixRun)]

    @property
    def attribution_runs(self) -> list[AttributionRun]:
        return [r for r in self.runs if isinstance(r, AttributionRun)]

    @property
    def distillation(self) -> list[Any]:
        """Per target: ICE's claimed vendors beside the attribution decision (report/verdict.py);
        empty unless an attribution run is in the report."""
        from distillscope.report.verdict import distillation_rows

        return distillation_rows(self.ice_runs, self.attribution_runs) if self.attribution_runs else []

    @property
    def distillation_by_run(self) -> bool:
        """Whether the verdict names each row's attribution run: a model judged by two runs has a row
        per run (report/verdict.py)."""
        from distillscope.report.verdict import shows_runs

        return shows_runs(self.distillation)

    @property
    def ice_results(self) -> list[IceResult]:
        return [res for run in self.ice_runs for res in run.results]

    @property
    def title(self) -> str:
        kinds = [
            k
            for k, present in (
                ("ICE", self.ice_runs),
                ("RSE", self.rse_runs),
                ("matrix", self.matrix_runs),
                ("attribution", self.attribution_runs),
            )
            if present
        ]
        return "distillscope report: " + " + ".join(kinds)


def run_kind(run: Run) -> str:
    return {IceRun: "ice", RseRun: "rse", MatrixRun: "matrix", AttributionRun: "attribution"}[type(run)]


def map_points(report: Report) -> list[MapPoint]:
    """Models present in both an ICE and an RSE run, matched by normalised name: one point per
    model and ICE judge setup (a target judged by two judges has two points, never one of them
    chosen silently), in the order of `ice_results_by_judge`."""
    points: list[MapPoint] = []
    for judge, results in ice_results_by_judge(report):
        ice: dict[str, IceResult] = {}
        for result in results:
            ice.setdefault(normalise_model_name(result.target), result)
        seen: set[str] = set()
        for run in report.rse_runs:
            for model in run.models:
                key = normalise_model_name(model.name)
                rse = model.avg or (next(iter(model.datasets.values())) if len(model.datasets) == 1 else None)
                if key in seen or key not in ice or rse is None or rse.score is None:
                    continue
                seen.add(key)
                points.append(MapPoint(model.name, rse, ice[key].scores, judge))
    return points


# the ICE settings that change what a judge calls a contradiction (beside the judge's name, which
# names its model and preset): a loose rate from one set of them is not comparable with another's
JUDGE_SETTINGS = (
    "structured",
    "judge_calibration",
    "judge_max_input_tokens",
    "escalate",
    "escalate_band",
    "judge_weights",
)


def judge_setup(run: IceRun, result: IceResult) -> str:
    """The judge an ICE target's scores were judged by, with the settings that change its verdicts
    (`rules`, `llm:gpt-4o (escalate 0.3, judge_calibration cal.json)`); settings left at their
    default are not named."""
    parts = [
        f"{key} {run.settings[key]}"
        for key in JUDGE_SETTINGS
        if run.settings.get(key) is not None
        and not (
            key == "structured" and (run.settings[key] == "auto" or result.judge in ("rules", "recorded"))
        )
    ]
    name = result.judge or "unknown judge"
    return name + (f" ({', '.join(parts)})" if parts else "")


def ice_judges(report: Report) -> list[str]:
    """The judge setups of the report's ICE targets, in the order first met."""
    return list(dict.fromkeys(judge_setup(run, r) for run in report.ice_runs for r in run.results))


def ice_results_by_judge(report: Report) -> list[tuple[str, list[IceResult]]]:
    """The report's ICE results grouped by judge setup, in the order first met: a chart or map
    draws one group, since a contradiction rate depends on its judge."""
    groups: dict[str, list[IceResult]] = {}
    for run in report.ice_runs:
        for result in run.results:
            groups.setdefault(judge_setup(run, result), []).append(result)
    return list(groups.items())


def judges_note(report: Report) -> str | None:
    """The caveat of a report whose ICE targets were judged differently (None: by one judge)."""
    judges = ice_judges(report)
    if len(judges) < 2:
        return None
    return (
        f"These targets were judged differently ({'; '.join(judges)}): a contradiction rate depends on its "
        "judge, so compare rates of one judge only."
    )


def rankings(report: Report) -> list[Ranking]:
    """Targets ordered by each score, highest first. ICE targets judged by different judges (or one
    judge under different settings) are never ranked together: a loose rate depends on its judge,
    so each judge's targets get their own table, named by `judge`."""
    out: list[Ranking] = []
    judges = ice_judges(report)
    for level in ICE_LEVELS:
        for judge in judges:
            rows: list[tuple[str, Score, str]] = []
            unranked: list[tuple[str, Score, str, str]] = []
            for ice_run in report.ice_runs:
                for r in ice_run.results:
                    if level not in r.scores or judge_setup(ice_run, r) != judge:
                        continue
                    if r.log_complete is False:  # a partial log (the paper's lost runs): never rank it
                        unranked.append((r.target, r.scores[level], str(ice_run.path), r.note or PARTIAL_LOG))
                    else:
                        rows.append((r.target, r.scores[level], str(ice_run.path)))
            if rows or unranked:
                several = len(judges) > 1
                title = f"ICE {level}" + (f", judge {judge}" if several else "")
                out.append(
                    Ranking(
                        title, "more identity contradiction", rows, unranked, judge=judge if several else None
                    )
                )
    for run in report.rse_runs:
        ref = f" vs {run.reference}" if run.reference else ""
        avg_rows = [(m.name, m.avg, str(run.path)) for m in run.models if m.avg is not None]
        if avg_rows:
            out.append(Ranking(f"RSE average{ref}", "more similar to the reference", avg_rows))
        for ds in run.datasets:
            rows = [(m.name, m.datasets[ds], str(run.path)) for m in run.models if ds in m.datasets]
            if rows:
                out.append(Ranking(f"RSE {ds}{ref}", "more similar to the reference", rows))
    for arun in report.attribution_runs:
        for family in arun.families:
            rows = [(m.name, m.families[family], str(arun.path)) for m in arun.models if family in m.families]
            if rows:
                out.append(Ranking(f"Attribution P({family})", f"writes more like {family}", rows))
    for ranking in out:
        ranking.rows.sort(key=lambda row: -(row[1].score if row[1].score is not None else float("-inf")))
    return out


def paired_rows(run: RseRun) -> list[tuple[str, str, str, Score]] | None:
    """(a, b, dataset or "average", difference) from `rse run`'s paired comparisons."""
    rows: list[tuple[str, str, str, Score]] = []
    for entry in run.paired or []:
        for ds, cell in entry.datasets.items():
            if (score := Score.of(cell)) is not None:
                rows.append((entry.a, entry.b, ds, score))
        if (avg := Score.of(entry.avg)) is not None:
            rows.append((entry.a, entry.b, "average", avg))
    return rows or None


def foil_table(run: RseRun) -> list[tuple[str, Score | None, Score | None, Score | None]]:
    """(model, similarity to the reference, to the foils, difference) from `rse run --foil`."""
    block = run.result.foils
    if block is None:
        return []
    return [
        (name, Score.of(e.reference), Score.of(e.foils), Score.of(e.difference))
        for name, e in block.models.items()
    ]


def missing_rows(missing: RseMissing | None) -> list[tuple[str, int, str]] | None:
    """(model, count, ids and reasons) for every model with missing answers; [] when none is
    missing; None when the run recorded nothing about missing answers."""
    if missing is None:
        return None
    entries = [("reference", missing.reference), *missing.models.items()]
    return [
        (
            name,
            m.count,
            compact({k: v for k, v in {"ids": m.ids, "reasons": m.reasons}.items() if v}, limit=600),
        )
        for name, m in entries
        if m.count > 0
    ]


CONTRAST_ASPECTS = ("overall", "style", "logic", "content")  # on the 1-5 scale; other measures are raw


@dataclass
class ContrastTable:
    """RSE contrast as a table: one row per model, one column per measure."""

    measures: list[str]
    rows: list[tuple[str, dict[str, Score | None]]]
    panel: list[str] = field(default_factory=list)
    definition: str | None = None

    @staticmethod
    def label(measure: str) -> str:
        return measure.capitalize() if measure in CONTRAST_ASPECTS else f"{measure} (raw)"

    @staticmethod
    def digits(measure: str) -> int:
        return 2 if measure in CONTRAST_ASPECTS else 3


def contrast_table(contrast: Contrast | None) -> ContrastTable | None:
    """`rse run`'s contrast block as a table (one row per model, one column per measure); None
    when the run has none."""
    if contrast is None or not contrast.models:
        return None
    found: list[str] = []
    rows: list[tuple[str, dict[str, Score | None]]] = []
    for name, block in contrast.models.items():
        cells = {m: Score.of(v) for m, v in block.measures.items()}
        found += [m for m in cells if m not in found]
        rows.append((name, cells))
    order = [m for m in CONTRAST_ASPECTS if m in found] + [m for m in found if m not in CONTRAST_ASPECTS]
    return ContrastTable(order, rows, list(contrast.panel), contrast.definition or None)


def matrix_pairs(
    run: MatrixRun, k: int = 3
) -> tuple[list[tuple[str, str, float, str]], list[tuple[str, str, float, str]]]:
    """The k most and k least similar distinct pairs of a homogenization matrix: (a, b, similarity,
    the cell with its interval and n)."""
    pairs: list[tuple[str, str, float, str]] = []
    for i, a in enumerate(run.models):
        for j in range(i + 1, len(run.models)):
            value = run.scores[i][j]
            if value is not None:
                pairs.append((a, run.models[j], value, run.result.cell(i, j)))
    pairs.sort(key=lambda p: -p[2])
    most = pairs[:k]
    least = [p for p in reversed(pairs[-k:]) if p not in most]
    return most, least


def compact(value: Any, limit: int = 400) -> str:
    """A setting as one readable line."""
    if value is None:
        return "—"
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, int):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def settings_items(run: Run) -> list[tuple[str, Any]]:
    """(name, value) pairs: the run's settings, then its dates and tool version."""
    merged: dict[str, Any] = dict(run.settings)
    if isinstance(run, RseRun) and run.judge:
        merged.setdefault("judge", run.judge)
    if isinstance(run, IceRun):
        judges = sorted({r.judge for r in run.results if r.judge})
        if judges:
            merged.setdefault("judge", ", ".join(judges))
        merged.setdefault("targets", [r.target for r in run.results])
        identities = {r.target: r.target_identity for r in run.results if r.target_identity}
        if identities:
            merged.setdefault("target_identity", identities)
    if isinstance(run, RseRun):
        merged.setdefault("reference", run.reference)
        merged.setdefault("test", [m.name for m in run.models])
    for key in ("started_at", "finished_at", "tool_version"):
        if key in run.run:
            merged[key] = run.run[key]
    merged.setdefault("complete", run.complete)
    order = {name: i for i, name in enumerate(SETTING_ORDER)}
    keys = sorted((k for k in merged if k not in SKIP_SETTINGS), key=lambda k: (order.get(k, len(order)), k))
    return [(k, merged[k]) for k in keys if merged[k] not in (None, "", [], {})]


def settings_rows(run: Run) -> list[tuple[str, str]]:
    return [(k, compact(v)) for k, v in settings_items(run)]


COST_FIELDS = (
    ("calls_sent", "calls sent"),
    ("calls_cached", "cached calls"),
    ("calls_failed", "failed calls"),
    ("retries", "retries"),
    ("prompt_tokens", "prompt tokens"),
    ("completion_tokens", "completion tokens"),
    ("estimated_cost_usd", "estimated cost (USD)"),
    ("wall_s", "wall time (s)"),
)


# cost_rows labels for replies that are not answers and pairs not scored (issue 12)
EMPTY_LABEL = "empty answers (not judged)"
FILTERED_LABEL = "content-filtered answers (not judged)"
MISSING_LABEL = "missing answers"
SKIPPED_LABEL = "pairs skipped (missing, empty, filtered or unjudged)"
NOT_ANSWER_LABELS = (MISSING_LABEL, EMPTY_LABEL, FILTERED_LABEL, SKIPPED_LABEL)


def cost_rows(run: Run) -> list[tuple[str, str]]:
    given = run.run.get("totals")
    totals: dict[str, Any] = given if isinstance(given, dict) else {}
    rows = [(label, compact(totals[key])) for key, label in COST_FIELDS if key in totals]
    if isinstance(run, IceRun):
        unjudged = [r.n_unjudged for r in run.results if isinstance(r.n_unjudged, int)]
        if unjudged:
            rows.append(("unjudged responses", str(sum(unjudged))))
    if isinstance(run, IceRun):
        failed = [r.n_failed for r in run.results if isinstance(r.n_failed, int)]
        if failed:
            rows.append(("failed target answers", str(sum(failed))))
        calls = run.result.judge_calls
        if isinstance(calls, dict) and calls:
            rows.append(("judge calls", compact(calls)))
    if isinstance(run, IceRun):
        for field_name, label in (("n_empty", EMPTY_LABEL), ("n_filtered", FILTERED_LABEL)):
            counts = [getattr(r, field_name) or 0 for r in run.results]
            if any(counts):
                rows.append((label, str(sum(counts))))
    if isinstance(run, RseRun) and run.result.n_unjudged is not None:
        rows.append(("unjudged pairs", str(run.result.n_unjudged)))
    if isinstance(run, RseRun):
        rows.extend(_rse_skip_rows(run))
    return rows


def _rse_skip_rows(run: RseRun) -> list[tuple[str, str]]:
    """Answers that are missing, empty or filtered, and pairs not scored, as counted in results.json."""
    rows: list[tuple[str, str]] = []
    missing = missing_rows(run.missing) or []
    if any(count for _, count, _ in missing):
        rows.append((MISSING_LABEL, compact({name: count for name, count, _ in missing if count})))
    for count, label in ((run.result.n_empty, EMPTY_LABEL), (run.result.n_filtered, FILTERED_LABEL)):
        if count:
            rows.append((label, str(count)))
    totals = {name: v.get("total") for name, v in (run.result.skipped or {}).items() if v.get("total")}
    if totals:
        rows.append((SKIPPED_LABEL, compact(totals)))
    return rows


def per_model_costs(run: Run) -> list[tuple[str, dict[str, str]]]:
    per_model = run.run.get("per_model")
    if not isinstance(per_model, dict):
        return []
    return [
        (str(name), {k: compact(v) for k, v in stats.items()})
        for name, stats in per_model.items()
        if isinstance(stats, dict)
    ]


def to_json(report: Report) -> dict[str, Any]:
    """The combined report as data (`--format json`)."""

    def score(s: Score | None) -> dict[str, Any] | None:
        return None if s is None else s.as_dict()

    runs: list[dict[str, Any]] = []
    for run in report.runs:
        entry: dict[str, Any] = {
            "kind": run_kind(run),
            "path": str(run.path),
            "complete": run.complete,
            "settings": dict(settings_items(run)),
            "costs": run.run.get("totals"),
            "per_model": run.run.get("per_model"),
        }
        if isinstance(run, IceRun):
            entry["targets"] = [
                {
                    "target": r.target,
                    "judge": r.judge,
                    "n_responses": r.n_responses,
                    "n_unjudged": r.n_unjudged,
                    "scores": {k: score(v) for k, v in r.scores.items()},
                    "breakdowns": {
                        d: {k: {lv: score(s) for lv, s in cell.items()} for k, cell in t.items()}
                        for d, t in r.breakdowns.items()
                    },
                }
                for r in run.results
            ]
        elif isinstance(run, RseRun):
            entry["reference"] = run.reference
            entry["models"] = [
                {
                    "model": m.name,
                    "avg": score(m.avg),
                    "datasets": {d: score(s) for d, s in m.datasets.items()},
                    "aspects": {d: {a: score(s) for a, s in t.items()} for d, t in m.aspects.items()},
                }
                for m in run.models
            ]
        elif isinstance(run, AttributionRun):
            entry["families"] = run.families
            entry["models"] = [
                {
                    "model": m.name,
                    "predicted": m.predicted,
                    "predicted_label": m.predicted_label,
                    "families": {f: score(s) for f, s in m.families.items()},
                }
                for m in run.models
            ]
        else:
            entry["models"] = run.models
            entry["scores"] = run.scores
        runs.append(entry)
    return {
        "title": report.title,
        "generated_at": report.generated_at,
        "tool_version": report.tool_version,
        "runs": runs,
        "skipped": list(report.skipped),
        "ice_rse_map": [
            {
                "model": p.name,
                "rse": score(p.rse),
                "ice": {k: score(v) for k, v in p.ice.items()},
                "ice_judge": p.judge,
            }
            for p in map_points(report)
        ],
        "rankings": [
            {
                "title": r.title,
                "higher_means": r.higher_means,
                "judge": r.judge,
                "rows": [{"model": m, "run": path, **(score(s) or {})} for m, s, path in r.rows],
                "unranked": [
                    {"model": m, "run": path, "why": why, **(score(s) or {})}
                    for m, s, path, why in r.unranked
                ],
            }
            for r in rankings(report)
        ],
    }
