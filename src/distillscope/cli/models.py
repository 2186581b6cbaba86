"""`distillscope models ...`: inspect and check model specs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from distillscope.cli.options import (
    Cache,
    Concurrency,
    Config,
    MaxCalls,
    MaxTokens,
    Out,
    Quiet,
    SystemPrompt,
    console,
    fail,
    finite_float,
    run_command,
)
from distillscope.cli.terminal import printable
from distillscope.engine.ledger import Ledger, request_key
from distillscope.engine.run import RunContext, RunOptions, write_json, write_jsonl
from distillscope.engine.scheduler import CallResult
from distillscope.errors import BackendError, BudgetExhausted, UserError
from distillscope.models.base import Backend, backend_kinds
from distillscope.models.spec import ModelCatalog, build_backend
from distillscope.models.types import GenerateParams, ModelRequest
from distillscope.records import KNOWN_SUFFIXES, read_records, read_text
from distillscope.redact import redact_text

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
        table = Table("model", "status", "latency", "answer / error")
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
                    printable(response.text.strip(), limit=60),
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
    """List the registered backend kinds."""
    for kind in backend_kinds():
        console.print(kind)


@app.command("ledger")
def ledger_info(path: Annotated[str, typer.Argument(help="A ledger.sqlite file or run directory.")]) -> None:
    """Count the calls recorded in a ledger by status."""
    p = Path(path)
    try:
        ledger = Ledger(p / "ledger.sqlite" if p.is_dir() else p)
    except UserError as exc:
        fail(str(exc))
    for status, n in sorted(ledger.counts().items()):
        console.print(f"{status}: {n}")
    ledger.close()


def read_prompt_file(path: Path) -> list[tuple[str, str]]:
    """(id, prompt) pairs from a record file (JSONL, JSON array, CSV, YAML, Parquet: `prompt`,
    optional `id`; a JSON array of strings is a list of prompts) or plain text (one prompt a line)."""
    if path.suffix.lower() in KNOWN_SUFFIXES:
        pairs = []
        seen: set[str] = set()
        for record in read_records(path, list_keys=("prompts", "data"), scalar_key="prompt"):
            prompt = record.data.get("prompt")
            if not isinstance(prompt, str) or not prompt.strip():
                raise record.error("missing or empty text", field="prompt")
            raw_id = record.data.get("id")
            pid = str(raw_id) if raw_id not in (None, "") else f"line-{record.line or record.index + 1}"
            if pid in seen:
                raise record.error(f"duplicate id '{pid}'", field="id")
            seen.add(pid)
            pairs.append((pid, prompt))
        return pairs
    lines = read_text(path).splitlines()
    pairs = [(f"line-{i}", text) for i, text in enumerate(lines, start=1) if text.strip()]
    if not pairs:
        raise UserError(f"{path}: no prompts in file")
    return pairs


def _answered_so_far(ctx: RunContext, backend: Backend, requests: list[ModelRequest]) -> list[CallResult]:
    """After a budget stop: the calls that did finish, read back from the ledger, in order."""
    identity = backend.ledger_identity()
    keys = [request_key(identity, backend.prepare(r)) for r in requests]
    found = ctx.ledger.answers(keys)
    return [
        CallResult(key, found[key].response, cached=True)
        if key in found
        else CallResult(key, None, error="not sent: budget reached")
        for key in keys
    ]


@app.command("answer")
def answer(
    spec: Annotated[str, typer.Argument(help="Model spec or config name.")],
    prompts: Annotated[
        Path,
        typer.Option(
            "--prompts", "-p", help="JSONL with 'prompt' (and 'id'), or a text file with one prompt a line."
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
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Max tokens per answer.")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed sent to the model.")] = None,
) -> None:
    """Record a model's answers to a prompt file (replay them later with replay:DIR/responses.jsonl).

    Example: distillscope models answer local:smollm2 --prompts prompts.txt --out runs/answers
    """

    async def main() -> None:
        items = read_prompt_file(prompts)
        options = RunOptions(
            command="answer",
            out=out,
            cache=cache,
            config=config,
            concurrency=concurrency,
            max_calls=max_calls,
            max_tokens=max_tokens_total,
            quiet=quiet,
            settings={"prompts": str(prompts), "system_prompt": system_prompt},
        )
        async with RunContext(options) as ctx:
            params = GenerateParams(temperature=temperature, max_tokens=max_tokens, seed=seed)
            backend = ctx.model(spec, system_prompt=system_prompt, params=params)
            ctx.write_config()
            requests = [ModelRequest.user(text, prompt_id=pid) for pid, text in items]
            complete = True
            try:
                results = await ctx.scheduler.map(backend, requests, stage=f"answers: {backend.name}")
            except BudgetExhausted as exc:
                console.print(
                    f"[yellow]stopped:[/] {exc}; rerun with a larger budget to finish (finished calls are kept)"
                )
                complete = False
                results = _answered_so_far(ctx, backend, requests)
            rows = [
                {
                    "id": pid,
                    "prompt": text,
                    "response": r.response.text if r.response else None,
                    "error": r.error,
                    "finish_reason": r.response.finish_reason if r.response else None,
                    "ledger_key": r.key,
                }
                for (pid, text), r in zip(items, results, strict=False)
            ]
            write_jsonl(ctx.out / "responses.jsonl", [r for r in rows if r["response"] is not None])
            failed = [r for r in rows if r["response"] is None]
            write_json(
                ctx.out / "results.json",
                {
                    "model": backend.name,
                    "complete": complete and not failed,
                    "n_prompts": len(items),
                    "n_answered": len(rows) - len(failed),
                    "failed": [{"id": r["id"], "error": r["error"]} for r in failed],
                    "settings": {
                        "system_prompt": system_prompt,
                        "params": params.model_dump(exclude_none=True),
                    },
                    "run": ctx.run_summary(),
                },
            )
            console.print(
                f"{len(rows) - len(failed)}/{len(items)} answered, {len(failed)} failed; {ctx.out / 'responses.jsonl'}"
            )
            if rows and len(failed) == len(rows):  # nothing answered: a setup problem, not a result
                raise UserError(
                    f"model '{backend.name}': all {len(rows)} calls failed, first error: {failed[0]['error']}"
                )

    run_command(main)
