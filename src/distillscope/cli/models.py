"""`distillscope models ...`: inspect and check model specs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from distillscope.cli.options import (
    Cache,
    Concurrency,
    Config,
    Force,
    MaxCalls,
    MaxTokens,
    Out,
    Quiet,
    SharegptTurnsOpt,
    SystemPrompt,
    console,
    fail,
    finite_float,
    int64,
    run_command,
)
from distillscope.cli.terminal import printable, shown
from distillscope.engine.ledger import Ledger
from distillscope.engine.run import RunContext, RunOptions
from distillscope.errors import BackendError, UserError
from distillscope.models.answering import AnswerSettings, answer_prompts
from distillscope.models.base import backend_kinds
from distillscope.models.spec import ModelCatalog, build_backend
from distillscope.models.types import GenerateParams, ModelRequest
from distillscope.redact import mask_secrets, redact_text

app = typer.Typer(help="Check model specs and list backend kinds.", no_args_is_help=True)


@app.command("check")
def check(
    specs: Annotated[list[str], typer.Argument(help="Model specs or config names.")],
    config: Config = None,
) -> None:
    """Send one tiny request to each model and print its latency or the exact error.

    Example: distillscope models check local:smollm2 openai-compatible:qwen@http://127.0.0.1:8000/v1
    """

    async def main() -> int:
        catalog = ModelCatalog.load(config)
        # a spec is folded onto more lines, never cut with '…': specs differing only in their URL
        # (replicas on other ports or hosts) were all shown as `openai-compatible:m@http:/…`
        table = Table(Column("model", overflow="fold"), "status", "latency", "answer / error")
        failures = 0
        for spec in specs:
            backend = build_backend(spec, catalog)
            request = backend.prepare(
                ModelRequest.user(
                    "Reply with the word: ok", params=GenerateParams(max_tokens=8, temperature=0.0)
                )
            )
            started = time.perf_counter()
            try:
                response = await asyncio.wait_for(backend.generate(request), timeout=backend.config.timeout_s)
                table.add_row(
                    printable(redact_text(spec)),
                    "[green]ok[/]",
                    f"{time.perf_counter() - started:.2f}s",
                    # a server may quote our key in its answer: masked as a run's answers are
                    printable(mask_secrets(response.text).strip(), limit=60),
                )
            except (BackendError, TimeoutError) as exc:
                failures += 1
                table.add_row(
                    printable(redact_text(spec)),
                    "[red]failed[/]",
                    f"{time.perf_counter() - started:.2f}s",
                    printable(str(exc) or "timeout"),
                )
            finally:
                await backend.aclose()
        console.print(table)
        return failures

    failures = run_command(main)
    if failures:
        raise typer.Exit(1)


@app.command("kinds")
def kinds() -> None:
    """List the registered backend kinds (the KIND of a KIND:NAME model spec).

    Example: distillscope models kinds
    """
    for kind in backend_kinds():
        console.print(kind)


@app.command("ledger")
def ledger_info(path: Annotated[str, typer.Argument(help="A ledger.sqlite file or run directory.")]) -> None:
    """Count the calls recorded in a ledger by status (read-only: it never creates or changes a file).

    Example: distillscope models ledger runs/ice-glm
    """
    p = Path(path)
    if not p.exists():
        fail(f"{p}: no such ledger file or run directory")
    try:
        ledger = Ledger(p / "ledger.sqlite" if p.is_dir() else p, read_only=True)
    except UserError as exc:
        fail(str(exc))
    for status, n in sorted(ledger.counts().items()):
        console.print(f"{shown(status)}: {n}", highlight=False)
    ledger.close()


@app.command("answer")
def answer(
    spec: Annotated[str, typer.Argument(help="Model spec or config name.")],
    prompts: Annotated[
        Path,
        typer.Option(
            "--prompts",
            "-p",
            help="Rows with 'prompt' (and 'id'; JSONL/JSON/CSV/YAML/Parquet), a text file with one prompt a "
            "line, or any file rse run --dataset reads (MT-bench, Arena-Hard, ShareGPT, NuminaMath, "
            "'messages' rows): later turns are asked after the model's own answer.",
        ),
    ],
    out: Out = None,
    cache: Cache = None,
    config: Config = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
    system_prompt: SystemPrompt = None,
    temperature: Annotated[
        float | None, typer.Option(help="Sampling temperature.", parser=finite_float)
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Max tokens per answer.", parser=int64)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed sent to the model.", parser=int64)] = None,
    sharegpt_turns: SharegptTurnsOpt = "first",
    force: Force = False,
) -> None:
    """Record a model's answers to a prompt file (replay them later with replay:DIR/responses.jsonl).

    Each turn of a multi-turn prompt (MT-bench's two; ShareGPT's with --sharegpt-turns all) is one
    line, asked as rse run asks it, so rse run --reference replay:DIR/responses.jsonl finds every turn.

    Example: distillscope models answer local:smollm2 --prompts prompts.txt --out runs/answers

    Example: distillscope models answer local:smollm2 --prompts mt-bench/question.jsonl --out runs/mt
    """

    settings = AnswerSettings(
        model=spec, prompts=str(prompts), system_prompt=system_prompt, temperature=temperature,
        max_tokens=max_tokens, seed=seed, sharegpt_turns=sharegpt_turns,
    )  # fmt: skip
    try:
        settings.validate()
    except UserError as exc:
        fail(str(exc))

    async def main() -> None:
        options = RunOptions(
            command="answer", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet, force=force,
            inputs=settings.input_files(),
        )  # fmt: skip
        async with RunContext(options) as ctx:
            result = await answer_prompts(ctx, settings)
            if result.stop_reason:
                console.print(f"[yellow]{shown(result.stop_reason)}[/]", highlight=False)
            not_answers = "".join(
                f" ({n} {word})"
                for word, n in (("empty", result.n_empty), ("filtered", result.n_filtered))
                if n
            )
            what = "prompt turns answered" if "format" in result.settings else "answered"
            console.print(
                f"{result.n_answered}/{result.n_prompts} {what}{not_answers}, {len(result.failed)} failed; {shown(ctx.out / 'responses.jsonl')}",
                highlight=False,
            )

    run_command(main)
