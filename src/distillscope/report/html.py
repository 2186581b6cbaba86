"""The self-contained HTML page: inline CSS, inline SVG, one small inline script, no network.

Everything from a run (model names, prompts, responses, evidence) goes through jinja's
autoescape or, for paged evidence, through JSON that the script inserts with textContent. A
Content-Security-Policy allows only the page's own script (by hash), so even text that escaped
both would not run.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from distillscope.report import build, plots
from distillscope.report import evidence as ev
from distillscope.report.build import (
    COST_FIELDS,
    NOT_ANSWER_LABELS,
    Report,
    compact,
    contrast_table,
    cost_rows,
    ice_results_by_judge,
    judges_note,
    map_points,
    missing_rows,
    paired_rows,
    per_model_costs,
    run_kind,
    settings_rows,
)
from distillscope.report.load import BREAKDOWN_DIMS, IceResult, Score
from distillscope.report.markdown import DIFFERS_NOTE, EXPECTED_NOTE
from distillscope.report.plots import Plot
from distillscope.textsafe import visible_bidi

TEMPLATES = Path(__file__).parent / "templates"


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "—"
    return f"{value:.{digits}f}"


def nonempty(value: Any) -> bool:
    """Whether a nested value holds anything but empty containers and nulls."""
    if isinstance(value, dict):
        return any(nonempty(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(nonempty(v) for v in value)
    return value is not None and value != ""


def columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows[:200]:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


# Jinja finds a compiled template by its name and source only, but the environment's options
# are compiled into it (`finalize`): code compiled without `inert` showed bidi controls raw. The
# cache files are named for the options, so code compiled under others is never loaded.
_COMPILED_WITH = "finalize-inert"


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's compiled templates, kept between processes (keyed by the template's checksum, in a
    private per-user temporary directory): compiling report.html.j2 costs every run ~60 ms."""
    try:
        return jinja2.FileSystemBytecodeCache(pattern=f"__distillscope_{_COMPILED_WITH}_%s.cache")
    except (OSError, RuntimeError):  # no usable temporary directory: compile each time
        return None


def inert(value: Any) -> Any:
    """Every value the page shows, with its bidi controls written as visible escapes (`\\u202e`):
    a target named with U+202E showed reversed, and reordered the rest of its line. The
    environment's `finalize`, so every `{{ ... }}` of the template goes through it, the figures'
    SVG (marked safe) too; the escape is plain ASCII, safe in markup and in attributes."""
    if not isinstance(value, str):
        return value
    shown = visible_bidi(value)
    if shown is value or shown == value:
        return value
    return Markup(shown) if isinstance(value, Markup) else shown


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        finalize=inert,
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt=fmt, compact=compact, columns=columns, short=plots.short)
    env.globals.update(
        kind=run_kind,
        settings=settings_rows,
        dict=dict,
        nonempty=nonempty,
        matrix_pairs=build.matrix_pairs,
        missing_rows=missing_rows,
        foil_table=build.foil_table,
        paired_rows=paired_rows,
        contrast_table=contrast_table,
    )
    return env


@cache
def _asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


Breakdown = tuple[str, list[str], list[tuple[str, dict[str, Score]]]]  # dim, level columns, rows


def _breakdowns(report: Report) -> list[tuple[str, list[Breakdown]]]:
    """Per target, per dimension (language, area, template, mutator, generation first): the rows."""
    out = []
    for result in report.ice_results:
        dims: list[Breakdown] = []
        ordered = [d for d in BREAKDOWN_DIMS if d in result.breakdowns] + sorted(
            set(result.breakdowns) - set(BREAKDOWN_DIMS)
        )
        for dim in ordered:
            rows = sorted(result.breakdowns[dim].items(), key=lambda kv: _sort_key(kv[0]))
            present = {level for _value, levels in rows for level in levels}
            cols: list[str] = [c for c in ("loose", "strict", "hard", "score") if c in present]
            dims.append((dim, cols, rows))
        if dims:
            out.append((result.target, dims))
    return out


def _ice_evidence_blocks(report: Report) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for run in report.ice_runs:
        if run.verdicts_problem is not None:
            continue
        for target, items in ev.ice_evidence(run).items():
            first, rest, left_out = ev.page_split(items)
            n = len(blocks)
            blocks.append(
                {
                    "target": target,
                    "total": len(items),
                    "first": first,
                    "rest_json": ev.json_for_script([e.as_dict() for e in rest]) if rest else "",
                    "rest_count": len(rest),
                    "left_out": left_out,
                    "list_id": f"ice-ev-{n}",
                    "data_id": f"ice-ev-data-{n}",
                    "run_path": str(run.path),
                }
            )
    return blocks


def _by_judge(report: Report, draw: Callable[[list[IceResult], str | None], Plot | None]) -> list[Plot]:
    """One ICE chart per judge setup (the judge named in its title when there are several): rates
    of different judges are not comparable, so they are never drawn side by side."""
    groups = ice_results_by_judge(report)
    several = len(groups) > 1
    return [p for judge, results in groups if (p := draw(results, judge if several else None))]


def _maps_by_judge(report: Report) -> list[Plot]:
    """One ICE × RSE map per ICE judge setup, as `_by_judge` draws the ICE charts."""
    points = map_points(report)
    judges = list(dict.fromkeys(p.judge for p in points))
    several = len(judges) > 1
    return [
        p
        for judge in judges
        if (p := plots.ice_rse_map([q for q in points if q.judge == judge], judge if several else None))
    ]


def _sections(context: dict[str, Any]) -> list[tuple[str, str]]:
    wanted = [
        ("summary", "Summary", True),
        ("ice-chart", "ICE chart", context["ice_plots"]),
        ("rse", "RSE", context["rse_runs"]),
        ("map", "ICE × RSE", context["map_plots"]),
        ("matrix", "Matrix", context["matrix_plots"]),
        ("verdict", "Distillation verdict", context["report"].distillation),
        ("attribution", "Attribution", context["attribution"]),
        ("evidence-ice", "ICE evidence", context["ice_evidence"]),
        ("evidence-rse", "RSE evidence", context["rse_evidence"]),
        ("categories", "Categories", context["categories"]),
        ("breakdowns", "Breakdowns", context["breakdowns"]),
        ("costs", "Costs", context["costs"]),
        ("settings", "Settings", True),
    ]
    return [(section_id, title) for section_id, title, present in wanted if present]


def warm() -> None:
    """Load the page's template and assets now (a run does this while it waits on the network)."""
    _environment().get_template("report.html.j2")
    for name in ("report.js", "report.css"):
        _asset(name)


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    script = _asset("report.js")
    cost_labels = [label for _key, label in COST_FIELDS] + [
        "unjudged responses",
        "failed target answers",
        "unjudged pairs",
        "judge calls",
        *NOT_ANSWER_LABELS,
    ]
    costs = [(run, dict(rows)) for run in report.runs if (rows := cost_rows(run))]
    used = {label for _run, rows in costs for label in rows}
    breakdowns = _breakdowns(report)
    ice_results = report.ice_results
    context: dict[str, Any] = {
        "report": report,
        "ice_results": ice_results,
        "judges_note": judges_note(report),
        "rse_runs": report.rse_runs,
        "matrix_runs": report.matrix_runs,
        "ice_plots": _by_judge(report, plots.ice_bars),
        "rse_plots": [plots.rse_aspect_bars(run) for run in report.rse_runs],
        "map_plots": _maps_by_judge(report),
        "matrix_plots": [(run, p) for run in report.matrix_runs if (p := plots.matrix_plot(run))],
        "attribution": [(run, plots.attribution_bars(run)) for run in report.attribution_runs],
        "ice_evidence": _ice_evidence_blocks(report),
        "rse_evidence": [(run, groups) for run in report.rse_runs if (groups := ev.rse_pairs(run))],
        "breakdowns": breakdowns,
        "categories": [r for r in ice_results if r.categories],
        "expected_note": EXPECTED_NOTE.replace("`", "")
        if any(s.expected is not None for r in ice_results for s in r.scores.values())
        else None,
        "differs_note": DIFFERS_NOTE.replace("**", "").replace("`", "")
        if any(s.differs for r in ice_results for s in r.scores.values())
        else None,
        "costs": costs,
        "cost_labels": [label for label in cost_labels if label in used],
        "per_model_costs": [(run, per_model_costs(run)) for run in report.runs],
        "first_page": ev.FIRST_PAGE,
        "css": _asset("report.css"),
        "script": script,
        "script_hash": script_hash(script),
    }
    context["sections"] = _sections(context)
    return _environment().get_template("report.html.j2").render(context)
