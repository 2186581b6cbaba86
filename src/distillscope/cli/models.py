"""`distillscope models ...`: inspect and check model specs."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from rich.table import Table

from distillscope.cli.options import Config, console, run_command
from distillscope.engine.ledger import Ledger
from distillscope.errors import BackendError
from distillscope.models.base import backend_kinds
from distillscope.models.spec import ModelCatalog, build_backend
from distillscope.models.types import GenerateParams, ModelRequest

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
            request = backend.prepare(ModelRequest.user("Reply with the word: ok", params=GenerateParams(max_tokens=8, temperature=0.0)))
            started = time.perf_counter()
            try:
                response = await asyncio.wait_for(backend.generate(request), timeout=backend.config.timeout_s)
                table.add_row(spec, "[green]ok[/]", f"{time.perf_counter() - started:.2f}s", response.text.strip()[:60])
            except (BackendError, TimeoutError) as exc:
                failures += 1
                table.add_row(spec, "[red]failed[/]", f"{time.perf_counter() - started:.2f}s", str(exc) or "timeout")
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
    from pathlib import Path

    p = Path(path)
    ledger = Ledger(p / "ledger.sqlite" if p.is_dir() else p)
    for status, n in sorted(ledger.counts().items()):
        console.print(f"{status}: {n}")
    ledger.close()
