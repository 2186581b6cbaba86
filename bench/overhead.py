"""Overhead: calls per second through the full stack against a server that answers at once.

Every call goes through `RunContext` -> `Scheduler` (ledger lookup, claim row, answer row,
retries armed, budget and progress counters) -> the OpenAI-compatible backend -> HTTP to a
local server in its own process. With zero server latency the figure is what distillscope
itself costs per call. For reference the same run also times the bare HTTP client loop
(aiohttp, same concurrency, no scheduler, no ledger) so the share of the engine is visible.

    python bench/overhead.py --calls 5000 --concurrency 32
    python bench/overhead.py --profile out.txt    # cProfile of the distillscope run
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine_info, print_table
from distillscope.engine.run import RunContext, RunOptions
from distillscope.models.types import GenerateParams, ModelRequest
from distillscope.testing.process import server_process

PARAMS = GenerateParams(temperature=0.0, max_tokens=64)


def prompt(i: int) -> str:
    return f"Question {i}: which company trained you, and what is your model name?"


async def run_stack(url: str, calls: int, concurrency: int, out: Path) -> tuple[float, dict[str, object]]:
    options = RunOptions(command="bench-overhead", out=out, concurrency=concurrency, quiet=True)
    async with RunContext(options) as ctx:
        backend = ctx.model(f"openai-compatible:target@{url}")
        requests = [ModelRequest.user(prompt(i), params=PARAMS) for i in range(calls)]
        started = time.perf_counter()
        results = await ctx.scheduler.map(backend, requests, stage="overhead")
        seconds = time.perf_counter() - started
        totals = ctx.scheduler.totals()
        counts = ctx.ledger.counts()
    if sum(r.ok for r in results) != calls:
        raise SystemExit(
            f"{calls - sum(r.ok for r in results)} calls failed: the figure would be meaningless"
        )
    return seconds, {"totals": totals, "ledger_rows": counts}


async def run_bare_http(url: str, calls: int, concurrency: int) -> float:
    """The floor: the same requests with the HTTP client alone."""
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(i: int) -> None:
            body = {
                "model": "target",
                "messages": [{"role": "user", "content": prompt(i)}],
                "temperature": 0.0,
                "max_tokens": 64,
            }
            async with semaphore, session.post(url + "/chat/completions", data=json.dumps(body)) as reply:
                await reply.read()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(calls)))
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians are reported")
    parser.add_argument(
        "--profile", type=Path, default=None, help="write a cProfile summary of the stack run here"
    )
    args = parser.parse_args(argv)
    if args.calls < 1 or args.concurrency < 1 or args.repeat < 1:
        parser.error("--calls, --concurrency and --repeat must be at least 1")

    machine = machine_info()
    with (
        tempfile.TemporaryDirectory(prefix="ds-bench-") as tmp,
        server_process(Path(tmp), latency_ms=0.0) as srv,
    ):
        asyncio.run(run_stack(srv.url, 20, 4, Path(tmp) / "warm"))  # imports, first connections
        asyncio.run(run_bare_http(srv.url, 20, 4))
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        profile = profiler
        stack_runs, bare_runs = [], []
        for n in range(args.repeat):  # interleaved, so both see the same machine
            stack_runs.append(
                asyncio.run(run_stack(srv.url, args.calls, args.concurrency, Path(tmp) / f"run{n}"))
            )
            if profiler is not None:
                profiler.disable()
                profiler = None  # profile the first run only
            bare_runs.append(asyncio.run(run_bare_http(srv.url, args.calls, args.concurrency)))
        stats = srv.stop()
    seconds = statistics.median(r[0] for r in stack_runs)
    detail = stack_runs[0][1]
    bare = statistics.median(bare_runs)
    best = min(r[0] for r in stack_runs)

    if args.profile:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(40)
        args.profile.write_text(text.getvalue(), encoding="utf-8")

    rate = args.calls / seconds
    bare_rate = args.calls / bare
    per_call_us = (seconds - bare) / args.calls * 1e6
    figures = {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "seconds": round(seconds, 3),
        "calls_per_second": round(rate, 1),
        "best_calls_per_second": round(args.calls / best, 1),
        "repeat": args.repeat,
        "bare_http_seconds": round(bare, 3),
        "bare_http_calls_per_second": round(bare_rate, 1),
        "stack_share_of_bare": round(bare / seconds, 3),
        "engine_us_per_call": round(per_call_us, 1),
        "target_calls_per_second": 1000,
        "meets_target": rate >= 1000,
        "ledger_rows": detail["ledger_rows"],
        "server_requests": stats.get("requests"),
        "profiled": bool(args.profile),
        "cores": machine["cores"],
        "cpu_model": machine["cpu_model"],
        "load_avg": machine["load_avg"],
    }
    print_table(
        f"overhead: {args.calls} calls, zero server latency, concurrency {args.concurrency}"
        + (" (under cProfile: slower)" if args.profile else ""),
        [
            (f"full stack calls/s (median of {args.repeat})", rate),
            ("  best run calls/s", args.calls / best),
            (f"bare aiohttp loop calls/s (floor, same server, median of {args.repeat})", bare_rate),
            ("engine cost per call, us (stack - bare)", per_call_us),
            ("ledger rows", json.dumps(detail["ledger_rows"])),
            ("server requests", stats.get("requests")),
            ("machine", f"{machine['cores']} cores, {machine['cpu_model']}, load {machine['load_avg']}"),
        ],
    )
    emit_json(figures)


if __name__ == "__main__":
    main()
