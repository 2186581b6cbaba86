"""`distillscope study STUDY.yaml --out DIR`: ICE for every target, RSE against the reference, one report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distillscope.cli.options import Concurrency, MaxCalls, MaxTokens, Quiet, console, run_command


def study(
    file: Annotated[
        Path, typer.Argument(help="The study YAML (models, targets, reference, foils, ice, rse).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Study directory (rerun with the same DIR to resume).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan (calls per model) and stop.")
    ] = False,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
) -> None:
    """Run a whole study: ICE for every target, RSE of every target against the reference, all
    through one ledger (DIR/ledger.sqlite), and one report (DIR/report.html).

    Example: distillscope study study.yaml --out runs/study
    """
    from distillscope.cli.terminal import shown
    from distillscope.rse.attribution.controls import FalsePositiveCheck, wording
    from distillscope.rse.attribution.types import AttributionResult
    from distillscope.studies import StudyOptions, load_study, plan_study, run_study

    async def main() -> None:
        spec = load_study(file)
        if dry_run:
            _print_plan(spec)
            return
        target = out or Path("runs") / f"study-{file.stem}"
        options = StudyOptions(concurrency, max_calls, max_tokens_total, quiet)
        result = await run_study(spec, target, options)
        for name, entry in result.targets.items():
            parts = []
            if entry.ice is not None and entry.ice.scores is not None:
                parts += [f"ICE {m} {s.counted()}" for m, s in entry.ice.scores.items()]
            if entry.rse is not None and entry.rse.avg is not None and entry.rse.avg.score is not None:
                parts.append(f"RSE {entry.rse.avg.brief()} vs {shown(result.reference)}")
            if entry.attribution is not None and entry.attribution.decision is not None:
                parts.append(f"attribution: {wording(entry.attribution.decision)}")
            console.print(f"[bold]{shown(name)}[/]: " + ", ".join(parts), highlight=False)
        if result.rse is not None:
            for warning in result.rse.warnings:
                console.print(f"[yellow]warning:[/] RSE: {shown(warning)}", highlight=False)
        if result.attribution is not None:
            _print_controls(result.attribution)
        if not result.complete:
            why = result.stop_reason or ""
            more = "" if "rerun the same command" in why else "; rerun the same command to resume"
            console.print(f"[yellow]incomplete:[/] {shown(why)}{more}", highlight=False)
        console.print(
            f"results: {shown(target / 'results.json')}; report: {shown(target / 'report.html')}",
            highlight=False,
        )

    def _print_controls(attribution: AttributionResult) -> None:
        """The attribution stage's false-positive check and its warnings (why no 'distilled from'
        claim is made, a model's missing answers, families hard to tell apart), as `rse attribute`
        prints them."""
        if attribution.controls:
            check = FalsePositiveCheck.of({c: m.decision for c, m in attribution.controls.items()})
            console.print(f"attribution false-positive check: {shown(check.summary())}", highlight=False)
        for warning in attribution.warnings:
            console.print(f"[yellow]warning:[/] {shown(warning)}", highlight=False)

    def _print_plan(spec: object) -> None:
        from rich.table import Table

        plan = plan_study(spec)  # type: ignore[arg-type]
        # names from the file shown escaped: a bidi override in a model's name reordered the table
        table = Table("model", "stage", "calls (at most)", title=f"study plan: {shown(file)}")
        for row in plan.rows:
            table.add_row(shown(row.model), shown(row.stage), str(row.calls))
        console.print(table)
        totals = ", ".join(f"{shown(m)} {n}" for m, n in plan.per_model().items())
        console.print(
            f"calls per model (at most; a rerun answers finished ones from the ledger): {totals}",
            highlight=False,
        )

    run_command(main, resume_hint="same --out")
