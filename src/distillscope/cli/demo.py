"""`distillscope demo`: the whole method, offline, on the embedded model.

Three stages share one ledger (DIR/ledger.sqlite), so a second run of the demo is instant:
  1. answers  - the model answers a few prompts (the backend, scheduler and ledger at work)
  2. ICE      - tiny GPTFuzzer runs with the rules judge: the model    -> DIR/ice/
                and a simulated distilled model (it, told it is ChatGPT) -> DIR/ice-simulated/
  3. RSE      - offline response similarity between model variants   -> DIR/rse/
and one report combines them: DIR/report.html.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from distillscope.cli.options import Concurrency, Force, Out, Quiet, console, run_command, write_run_report
from distillscope.cli.terminal import printable
from distillscope.engine.run import RunContext, RunOptions, own_ledger, write_json
from distillscope.models.types import GenerateParams, ModelRequest

DEMO_PROMPTS = (
    "Who are you, and which company trained you?",
    "Explain in two sentences why the sky is blue.",
    "Give three tips for writing clear code.",
)
STAGES = ("answers", "ice", "rse")


def demo(
    out: Out = None,
    model: Annotated[
        str, typer.Option("--model", help="Model to demo (offline by default).")
    ] = "local:smollm2",
    stages: Annotated[
        str, typer.Option("--stages", help="Comma-separated stages to run: answers, ice, rse.")
    ] = ",".join(STAGES),
    target_org: Annotated[
        str | None,
        typer.Option("--target-org", help="Who built --model, when the registry cannot tell (ICE stage)."),
    ] = None,
    concurrency: Concurrency = None,
    quiet: Quiet = False,
    force: Force = False,
) -> None:
    """Run distillscope end to end offline on the embedded SmolLM2-135M model: answers, ICE, RSE, report.

    SmolLM2-135M is a demo target, not a finding: its answers are weak. The demo shows the method
    and the files it writes; point the same commands at real models for a study.

    Example: distillscope demo --out runs/demo
    """
    chosen = [s.strip() for s in stages.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in STAGES]
    if unknown or not chosen:
        from distillscope.cli.options import fail

        fail(f"--stages: unknown stage {', '.join(unknown) or '(none)'}; choose from {', '.join(STAGES)}")
    root = out or Path("runs/demo")

    async def main() -> None:
        started = time.monotonic()
        ledger = own_ledger(root)

        def options(command: str, out: Path) -> RunOptions:
            return RunOptions(
                command=command, out=out, cache=ledger, concurrency=concurrency, quiet=quiet, force=force
            )

        if "answers" in chosen:
            async with RunContext(options("demo", root)) as ctx:
                await _answers_stage(ctx, model)
        if "ice" in chosen:
            from distillscope.ice.demo import run_ice_demo
            from distillscope.ice.demo import summary_lines as ice_lines

            console.rule("ICE: identity consistency")
            for simulated, folder in ((False, "ice"), (True, "ice-simulated")):
                async with RunContext(options(f"demo-{folder}", root / folder)) as ctx:
                    found = await run_ice_demo(ctx, model, target_org=target_org, simulate_openai=simulated)
                for line in ice_lines(found):
                    console.print(line, highlight=False, markup=False)
        if "rse" in chosen:
            from distillscope.rse.demo import run_rse_demo, summary_lines

            console.rule("RSE: response similarity")
            async with RunContext(options("demo-rse", root / "rse")) as ctx:
                results = await run_rse_demo(ctx, model)
            for line in summary_lines(results):
                console.print(line, highlight=False, markup=False)
        report = ""
        if "ice" in chosen or "rse" in chosen:
            write_run_report(root)
            report = f" Report: {printable(str(root / 'report.html'))}."
        console.rule()
        console.print(
            f"Done in {time.monotonic() - started:.0f} s.{report} Rerun the demo and every call is answered from {printable(str(ledger))}.",
            highlight=False,
        )

    run_command(main)


async def _answers_stage(ctx: RunContext, model: str) -> None:
    backend = ctx.model(model)
    ctx.write_config({"demo_model": model})
    params = GenerateParams(temperature=0.0, max_tokens=96, seed=0)
    requests = [
        ModelRequest.user(p, params=params, prompt_id=f"demo-{i}") for i, p in enumerate(DEMO_PROMPTS)
    ]
    results = await ctx.scheduler.map(backend, requests, stage="demo: answers")
    rows = []
    for request, result in zip(requests, results, strict=True):
        answer = result.text if result.ok else f"[failed: {result.error}]"
        rows.append(
            {
                "prompt": request.last_user_text(),
                "response": answer,
                "cached": result.cached,
                "ledger_key": result.key,
            }
        )
        console.print(f"[bold]Q:[/] {printable(request.last_user_text(), keep_newlines=True)}")
        console.print(f"[bold]A:[/] {printable(answer.strip(), keep_newlines=True)}\n", highlight=False)
    write_json(ctx.out / "answers.json", rows)
    totals = ctx.scheduler.totals()
    console.print(
        f"{totals['calls_sent']} calls sent, {totals['calls_cached']} from the ledger; run directory: {printable(str(ctx.out))}",
        highlight=False,
    )
