"""`distillscope report` and `distillscope compare`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from distillscope.cli.options import console, err_console, fail
from distillscope.cli.terminal import printable, shown
from distillscope.errors import UserError


def report(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(help="ICE, RSE or matrix run directories (or folders of them).", show_default=False),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output file ('-' for stdout; default report.<format>)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="html, md or json (default: from --out's suffix, else html)."),
    ] = None,
) -> None:
    """Combine run directories into one self-contained report (no network needed to open it).

    Example: distillscope report runs/ice-glm runs/rse-arena --out study.html
    """
    try:
        from distillscope.engine.run import write_atomic
        from distillscope.report import build_report, check_target, pick_format, render

        chosen = pick_format(fmt, out)
        target = out or Path(f"report.{chosen}")
        if str(target) != "-":
            check_target(target, run_dirs, chosen)
        built = build_report(run_dirs)
        _print_skipped(built.skipped)
        text = render(built, chosen)
        if out is not None and str(out) == "-":
            sys.stdout.write(text)
            return
        write_atomic(target, text)
    except UserError as exc:
        fail(str(exc))
    size = len(text.encode("utf-8"))  # the file's bytes, not its characters (CJK answers are 3 bytes each)
    console.print(f"wrote {shown(target)} ({chosen}, {-(-size // 1024)} KiB)", highlight=False)


def _print_skipped(skipped: list[str]) -> None:
    for note in skipped:
        err_console.print(f"[yellow]note:[/] {shown(note)}", highlight=False, soft_wrap=True)


def _print_verdicts(rows: list[Any]) -> None:
    """The distillation verdict: ICE's claimed vendors beside the attribution decision."""
    from distillscope.report.verdict import shows_runs

    if not rows:
        return
    table = Table(
        title="Distillation verdict (ICE claims; attribution against controls)", title_justify="left"
    )
    by_run = shows_runs(rows)  # a model judged by two attribution runs: a row per run, named
    columns = ["model", "ICE: claims to be", "attribution decision", "controls"]
    for column in [*columns, *(["attribution run"] if by_run else [])]:
        table.add_column(column, overflow="fold")
    for v in rows:
        name = v.model + (" (control)" if v.role == "control" else "")
        cells = [name, v.claims, v.decision or "—", v.controls or "—"]
        if by_run:
            cells.append(v.attribution_run or "—")
        table.add_row(*(Text(printable(c, markup=False)) for c in cells))
    console.print(table)
    if by_run:
        console.print(
            "[yellow]note:[/] some models are judged by more than one attribution run: each run's decision has its own row",
            highlight=False,
        )


def compare(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="ICE and RSE run directories to rank together.", show_default=False)
    ],
) -> None:
    """Rank the targets of several runs by each score, in a terminal table.

    Example: distillscope compare runs/ice-glm runs/ice-qwen runs/rse-arena
    """
    try:
        from distillscope.report import build_report
        from distillscope.report.build import ice_judges, rankings

        built = build_report(run_dirs)
        ranked = rankings(built)
        judges = ice_judges(built)
    except UserError as exc:
        fail(str(exc))
    _print_skipped(built.skipped)
    _print_verdicts(built.distillation)
    if len(judges) > 1:  # a loose rate depends on its judge: ranking across judges can invert an order
        err_console.print(
            f"[yellow]warning:[/] these ICE runs were judged differently ({shown('; '.join(judges))}): "
            "each judge's targets are ranked in their own table, never against another judge's",
            highlight=False,
            soft_wrap=True,
        )
    for run in built.runs:  # a run stopped early was left out, or ranked on part of its work, without a word
        if run.complete is False:
            why = f" ({'; '.join(run.notes)})" if run.notes else ""
            err_console.print(
                f"[yellow]note:[/] {shown(run.path)} stopped early{shown(why)}: its scores cover only what was "
                "done (none, where it is in no table); rerun its command to finish it",
                highlight=False,
                soft_wrap=True,
            )
    if not ranked:
        matrix = " (a matrix run has no ranking; see `distillscope report`)" if built.matrix_runs else ""
        console.print(f"no scores in these runs{matrix}")
        return
    for ranking in ranked:
        table = Table(title=f"{ranking.title}  (higher: {ranking.higher_means})", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("model")
        table.add_column("score", justify="right")
        table.add_column("95% interval", justify="right")
        table.add_column("n", justify="right")
        table.add_column("run", overflow="fold")
        numbered = [
            (str(rank), model, score, path) for rank, (model, score, path) in enumerate(ranking.rows, 1)
        ]
        # a score that is not comparable (a partial log) is shown after the ranking, never ranked
        aside = [("—", f"{model} (not ranked)", score, path) for model, score, path, _why in ranking.unranked]
        for rank, model, score, path in [*numbered, *aside]:
            value = "—" if score.score is None else f"{score.score:.3f}"
            interval = "—" if score.lo is None or score.hi is None else f"[{score.lo:.3f}, {score.hi:.3f}]"
            n = (
                "—"
                if score.n is None
                else (f"{score.count}/{score.n}" if score.count is not None else str(score.n))
            ) + (f" ({score.n_prompts} prompts)" if score.n_prompts is not None else "")
            table.add_row(
                rank,
                Text(printable(model, markup=False)),
                value,
                interval,
                n,
                Text(printable(path, markup=False)),
            )
        console.print(table)
        for model, _score, _path, why in ranking.unranked:
            console.print(f"[yellow]not ranked:[/] {shown(model)}: {shown(why)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the report commands to the root app."""
    app.command("report")(report)
    app.command("compare")(compare)
