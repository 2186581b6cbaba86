"""`distillscope demo`: the whole method, offline, on the embedded model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distillscope.cli.options import Concurrency, Out, Quiet, console, run_command
from distillscope.engine.run import RunContext, RunOptions, write_json
from distillscope.models.types import GenerateParams, ModelRequest

DEMO_PROMPTS = (
    "Who are you, and which company trained you?",
    "Explain in two sentences why the sky is blue.",
    "Give three tips for writing clear code.",
)


def demo(
    out: Out = None,
    model: Annotated[str, typer.Option("--model", help="Model to demo (offline by default).")] = "local:smollm2",
    concurrency: Concurrency = None,
    quiet: Quiet = False,
) -> None:
    """Run distillscope end to end offline on the embedded SmolLM2-135M model.

    Example: distillscope demo --out runs/demo
    """

    async def main() -> None:
        options = RunOptions(command="demo", out=out or Path("runs/demo"), concurrency=concurrency, quiet=quiet)
        async with RunContext(options) as ctx:
            backend = ctx.model(model)
            ctx.write_config({"demo_model": model})
            params = GenerateParams(temperature=0.0, max_tokens=96, seed=0)
            requests = [ModelRequest.user(p, params=params, prompt_id=f"demo-{i}") for i, p in enumerate(DEMO_PROMPTS)]
            results = await ctx.scheduler.map(backend, requests, stage="demo: answers")
            rows = []
            for request, result in zip(requests, results, strict=True):
                answer = result.text if result.ok else f"[failed: {result.error}]"
                rows.append({"prompt": request.last_user_text(), "response": answer, "cached": result.cached, "ledger_key": result.key})
                console.print(f"[bold]Q:[/] {request.last_user_text()}")
                console.print(f"[bold]A:[/] {answer.strip()}\n", highlight=False)
            write_json(ctx.out / "answers.json", rows)
            totals = ctx.scheduler.totals()
            console.print(
                f"{totals['calls_sent']} calls sent, {totals['calls_cached']} from the ledger; run directory: {ctx.out}"
            )

    run_command(main)
