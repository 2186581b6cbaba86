"""The report as Markdown: the same tables as the HTML page, for diffs, issues and terminals.

Model text is untrusted here too: it is escaped so that a Markdown renderer shows it as text
(no raw HTML, no links, no table breaks) and only a short excerpt of the evidence is included.
"""

from __future__ import annotations

import re
from typing import Any

from distillscope.report import evidence as ev
from distillscope.report.build import (
    Report,
    contrast_table,
    cost_rows,
    foil_table,
    judges_note,
    map_points,
    run_kind,
    settings_rows,
)
from distillscope.report.load import ICE_LEVELS, Score
from distillscope.textsafe import visible_controls

EVIDENCE_ITEMS = 5
EXCERPT = 400

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def escape(text: object) -> str:
    """Plain text that Markdown renders literally, on one line. Control and format characters are
    written as visible escapes (`\\x1b`, `\\u202e`): a model's answer or name may hold terminal
    escape sequences (run by `cat report.md`), a NUL, or a bidi override that reorders the line."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return visible_controls(" ".join(value.split()))


def code(text: object) -> str:
    """`text` as one Markdown code span (a run's path): on one line, its control characters
    visible, and fenced by more backticks than any run of them inside, so a backtick or a line
    break in a folder's name cannot end the span and forge Markdown after it (CommonMark 6.1)."""
    value = visible_controls(" ".join(str(text).split()))
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


EXPECTED_NOTE = (
    "Each score is the thresholded count (a verdict counts where its probability is at least 0.5, "
    "the paper's figure); `expected` is the mean of the judge's probabilities, with a 95% interval "
    "that holds if those probabilities are calibrated for this model. `unseen model` widens it by how far "
    "the judge's expected rate was off on the models it was built from, each scored without being trained "
    "on (the default judge measures this for loose): the interval to quote for a model it never saw. It adds "
    "that error's 95% quantile to each end of the 95% interval: conservative, it covers at least 95% where a new "
    "model's error spreads like those models' errors."
)
DIFFERS_NOTE = (
    "**(differs)**: the thresholded and the expected rate differ by more than their intervals: many "
    "verdicts sit near 0.5, or the judge's probabilities do not fit these answers. An audit by doubt "
    "(`ice audit sample --by doubt`) tells which is right."
)


def cell(score: Score | None, digits: int = 3) -> str:
    if score is None or score.score is None:
        return "—"
    text = f"{score.score:.{digits}f}"
    if score.lo is not None and score.hi is not None:
        text += f" [{score.lo:.{digits}f}, {score.hi:.{digits}f}]"
    if score.n is not None:
        text += f" n={score.n}" + (f" ({score.n_prompts} prompts)" if score.n_prompts is not None else "")
    if score.uncertain and score.band is not None:
        text += f" band [{score.band[0]:.{digits}f}, {score.band[1]:.{digits}f}]"
    if score.expected is not None:
        rate, lo, hi = score.expected
        text += f"; expected {rate:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
        if score.unseen is not None:
            text += f", unseen model [{score.unseen[0]:.{digits}f}, {score.unseen[1]:.{digits}f}]"
        if score.differs:
            text += " **(differs)**"
    return text


def _bank_lines(bank: dict[str, Any]) -> list[str]:
    """The reference bank of a `--bank` run: its models per family, controls, and who was left out."""
    manifest = f", manifest {escape(bank['manifest'])}" if bank.get("manifest") else ""
    out = [
        f"#### Reference bank: {escape(bank['source'])} ({escape(bank['layout'])} layout, "
        f"{bank['models']} models{manifest})",
        "",
    ]
    rows = [[escape(f), ", ".join(escape(m) for m in ms)] for f, ms in bank["families"].items()]
    if bank.get("controls"):
        rows.append(["controls (independent)", ", ".join(escape(m) for m in bank["controls"])])
    out += _table(["Family", "Bank models"], rows)
    if bank.get("left_out"):
        out += _table(
            ["Left out", "Why"], [[escape(x["model"]), escape(x["reason"])] for x in bank["left_out"]]
        )
    return out


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _excerpt(text: str) -> str:
    text = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
    return escape(text)


def render_markdown(report: Report) -> str:
    out: list[str] = [
        f"# {escape(report.title)}",
        "",
        f"Generated {report.generated_at} by distillscope {report.tool_version}.",
        "",
    ]
    for note in report.skipped:  # runs with nothing to chart (a `models answer` run)
        out += [f"> **Not charted:** {escape(note)}", ""]
    for run in report.runs:
        if run.complete is False:
            out += [
                f"> **Incomplete run:** {code(run.path)} did not finish cleanly (a budget stop, an interruption or failed calls); its numbers cover only what was done.",
                "",
            ]
    for run in report.runs:  # each run's caveats, as the HTML shows them: they qualify every figure below
        for note in run.notes:
            out += [f"> {code(run.path.name)}: {escape(note)}", ""]
    out += ["## Summary", ""]
    ice = report.ice_results
    if ice:
        out += ["### ICE: identity contradiction (95% Wilson intervals)", ""]
        out += _table(
            ["Target", "Judge", "Loose", "Strict", "Hard", "Unjudged", "Unsure"],
            [
                [
                    escape(r.target) + (f" ({escape(r.note)})" if r.note else ""),
                    escape(r.judge or "—"),
                    *(cell(r.scores.get(lv)) for lv in ICE_LEVELS),
                    str(r.n_unjudged if r.n_unjudged is not None else "—"),
                    str(r.n_unsure if r.n_unsure is not None else "—"),
                ]
                for r in ice
            ],
        )
        if (different := judges_note(report)) is not None:
            out += [f"> **Judges differ:** {escape(different)}", ""]
        if any(s.expected is not None for r in ice for s in r.scores.values()):
            out += [EXPECTED_NOTE, ""]
        if any(s.differs for r in ice for s in r.scores.values()):
            out += [DIFFERS_NOTE, ""]
        if any(r.n_unsure for r in ice):
            out += [
                "Unsure verdicts are scored as the judge's best guess; `band` is the score if every unsure "
                "one were a no, and if every one were a yes.",
                "",
            ]
    for run in report.rse_runs:
        out += [
            f"### RSE: similarity to {escape(run.reference or 'the reference')} (1-5, 95% bootstrap intervals)",
            "",
        ]
        out += _table(
            ["Model", *(escape(d) for d in run.datasets), "Average"],
            [
                [escape(m.name), *(cell(m.datasets.get(d), 2) for d in run.datasets), cell(m.avg, 2)]
                for m in run.models
            ],
        )
        aspect_rows = [
            [
                escape(m.name),
                escape(d),
                *(cell(m.aspects.get(d, {}).get(a), 2) for a in ("style", "logic", "content")),
            ]
            for m in run.models
            for d in run.datasets
            if d in m.aspects
        ]
        if aspect_rows:
            out += [
                "#### By aspect",
                "",
                *_table(["Model", "Dataset", "Style", "Logic", "Content"], aspect_rows),
            ]
        contrast = contrast_table(run.contrast)
        if contrast:
            out += ["#### Contrast with an independent panel", ""]
            if contrast.panel:
                out += [
                    f"Panel: {escape(', '.join(contrast.panel))}; 0 means as similar as a typical panel model.",
                    "",
                ]
            out += _table(
                ["Model", *(escape(contrast.label(m)) for m in contrast.measures)],
                [
                    [escape(name), *(cell(cells.get(m), contrast.digits(m)) for m in contrast.measures)]
                    for name, cells in contrast.rows
                ],
            )
    for run in report.rse_runs:
        foils = foil_table(run)
        if foils:
            out += ["#### Reference vs foils (difference paired over prompts)", ""]
            out += _table(
                ["Model", "To the reference", "To the foils", "Difference"],
                [
                    [escape(name), cell(ref, 2), cell(foil, 2), cell(diff, 2)]
                    for name, ref, foil, diff in foils
                ],
            )
    for arun in report.attribution_runs:
        out += [
            "### Attribution: mean P(family), 95% bootstrap intervals over prompts, Holm-corrected p",
            "",
        ]
        out += _table(
            ["Model", *(f"P({escape(f)})" for f in arun.families), "Predicted"],
            [
                [
                    escape(m.name),
                    *(
                        cell(m.families.get(f)) + (f" p={m.p_holm[f]:.4g}" if f in m.p_holm else "")
                        for f in arun.families
                    ),
                    escape(m.predicted_label or m.predicted or "—"),
                ]
                for m in arun.models
            ],
        )
        if arun.bank:
            out += _bank_lines(arun.bank)
    verdicts = report.distillation
    if verdicts:
        out += [
            "## Distillation verdict",
            "",
            "What each target's answers claim (ICE: other-vendor verdicts and the vendors they name) beside "
            "what its writing shows (the attribution decision against independent controls).",
            "",
        ]
        by_run = report.distillation_by_run  # a model judged by two runs: a row per run
        if by_run:
            out += [
                "Some models are judged by more than one attribution run: each run's decision has its own row.",
                "",
            ]
        out += _table(
            ["Model", "ICE: claims to be", "Attribution decision", "Controls"]
            + (["Attribution run"] if by_run else []),
            [
                [
                    escape(v.model) + (" (control)" if v.role == "control" else ""),
                    escape(v.claims),
                    escape(v.decision or "—"),
                    escape(v.controls or "—"),
                ]
                + ([escape(v.attribution_run or "—")] if by_run else [])
                for v in verdicts
            ],
        )
    points = map_points(report)
    if points:
        several = len({p.judge for p in points}) > 1  # then each row names its ICE judge
        out += ["## ICE × RSE", ""]
        out += _table(
            ["Model", "RSE", "ICE strict", "ICE hard"] + (["ICE judge"] if several else []),
            [
                [escape(p.name), cell(p.rse, 2), cell(p.ice.get("strict")), cell(p.ice.get("hard"))]
                + ([escape(p.judge)] if several else [])
                for p in points
            ],
        )
    for run in report.matrix_runs:
        out += [f"## Homogenization matrix ({escape(run.path.name)})", ""]
        out += _table(
            ["Model", *(escape(m) for m in run.models)],
            [
                [escape(m), *("—" if v is None else run.result.cell(i, j) for j, v in enumerate(row))]
                for i, (m, row) in enumerate(zip(run.models, run.scores, strict=True))
            ],
        )
    for run in report.ice_runs:
        evidence = ev.ice_evidence(run) if run.verdicts_problem is None else {}
        for target, items in evidence.items():
            if not items:
                continue
            out += [f"## ICE evidence: {escape(target)} ({len(items)} contradicting)", ""]
            for item in items[:EVIDENCE_ITEMS]:
                lineage = ", ".join(f"{k} {v}" for k, v in {**item.lineage, **item.probe}.items())
                out += [
                    f"- **{item.level}** #{item.index} judge {escape(item.judge or '—')}"
                    + (f" ({escape(lineage)})" if lineage else "")
                ]
                if item.evidence:
                    out += [f"  - evidence: {_excerpt(item.evidence)}"]
                out += [f"  - response: {_excerpt(item.response)}"]
            if len(items) > EVIDENCE_ITEMS:
                out += [f"- … {len(items) - EVIDENCE_ITEMS} more in {code(run.path / 'verdicts.jsonl')}"]
            out += [""]
    for result in ice:
        if not result.categories:
            continue
        out += [f"## Categories: {escape(result.target)}", ""]
        if result.categories_note:
            out += [escape(result.categories_note), ""]
        out += _table(
            ["Category", "Responses", "Loose", "Strict"],
            [
                [
                    escape(name),
                    str(result.category_responses.get(name, "—")),
                    cell(levels.get("loose")),
                    cell(levels.get("strict")),
                ]
                for name, levels in result.categories.items()
            ],
        )
    for result in ice:
        if not result.breakdowns:
            continue
        out += [f"## Breakdowns: {escape(result.target)}", ""]
        for dim, table in result.breakdowns.items():
            levels = [c for c in ("loose", "strict", "hard", "score") if any(c in v for v in table.values())]
            out += [f"### {escape(dim)}", ""]
            out += _table(
                [escape(dim), *levels],
                [[escape(value), *(cell(v.get(c)) for c in levels)] for value, v in table.items()],
            )
    costs = [(run, rows) for run in report.runs if (rows := cost_rows(run))]
    if costs:
        out += ["## Costs", ""]
        labels = list(dict.fromkeys(label for _run, rows in costs for label, _v in rows))
        out += _table(
            ["Run", *labels],
            [
                [
                    f"{escape(run.path.name)} ({run_kind(run)})",
                    *(dict(rows).get(label, "—") for label in labels),
                ]
                for run, rows in costs
            ],
        )
    out += ["## Settings", ""]
    for run in report.runs:
        out += [f"### {code(run.path)} ({run_kind(run)})", ""]
        out += _table(["Setting", "Value"], [[escape(k), escape(v)] for k, v in settings_rows(run)])
    return "\n".join(out).rstrip() + "\n"
