"""Throughput: an ICE-shaped workload through distillscope vs the paper's sequential loop.

A local OpenAI-compatible server (its own process) answers every request after a fixed latency.
The workload is half "target" calls (identity questions to a target model) then half "judge"
calls built from the target's answers, sent through `RunContext`/`Scheduler.map` with a fresh
ledger. The baseline makes the same kind of calls the paper's way: one blocking request after
another with the openai SDK. Both run against the same server in the same run, so the ratio
holds on any machine.

    python bench/throughput.py --latency-ms 50 --calls 2000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
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


def target_prompt(i: int) -> str:
    return f"Question {i}: which company trained you, and what is your model name?"


def judge_prompt(question: str, answer: str) -> str:
    return (
        "Does the answer below claim an identity that contradicts the model's true developer? "
        f"Reply 'yes' or 'no'.\nQuestion: {question}\nAnswer: {answer}"
    )


async def run_distillscope(url: str, calls: int, concurrency: int, out: Path) -> tuple[float, int, int]:
    """Target calls, then judge calls on their answers; returns (seconds, sent, failed)."""
    n_target = calls // 2
    n_judge = calls - n_target
    options = RunOptions(command="bench-throughput", out=out, concurrency=concurrency, quiet=True)
    started = time.perf_counter()
    async with RunContext(options) as ctx:
        target = ctx.model(f"openai-compatible:target@{url}")
        judge = ctx.model(f"openai-compatible:judge@{url}")
        questions = [target_prompt(i) for i in range(n_target)]
        answers = await ctx.scheduler.map(
            target,
            [ModelRequest.user(q, params=PARAMS, prompt_id=f"q{i}") for i, q in enumerate(questions)],
            stage="target",
        )
        judge_requests = [
            ModelRequest.user(
                judge_prompt(questions[i % n_target], answers[i % n_target].text), params=PARAMS
            )
            # more judge calls than answers (odd counts): judge some answers twice, phrased apart
            if i < n_target
            else ModelRequest.user(
                judge_prompt(questions[i % n_target], answers[i % n_target].text) + " (again)", params=PARAMS
            )
            for i in range(n_judge)
        ]
        verdicts = await ctx.scheduler.map(judge, judge_requests, stage="judge")
        totals = ctx.scheduler.totals()
    seconds = time.perf_counter() - started
    failed = sum(not r.ok for r in answers) + sum(not r.ok for r in verdicts)
    return seconds, int(totals["calls_sent"]), failed  # type: ignore[call-overload]


def run_sequential(url: str, calls: int) -> float:
    """The paper's loop: the openai SDK, one blocking call at a time, same workload shape."""
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="bench", max_retries=6)
    n_target = calls // 2
    answers: list[str] = []
    started = time.perf_counter()
    for i in range(n_target):
        reply = client.chat.completions.create(
            model="target",
            messages=[{"role": "user", "content": target_prompt(i)}],
            temperature=0.0,
            max_tokens=64,
        )
        answers.append(reply.choices[0].message.content or "")
    for i in range(calls - n_target):
        client.chat.completions.create(
            model="judge",
            messages=[
                {"role": "user", "content": judge_prompt(target_prompt(i % n_target), answers[i % n_target])}
            ],
            temperature=0.0,
            max_tokens=64,
        )
    seconds = time.perf_counter() - started
    client.close()
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="distillscope runs; the median is reported")
    parser.add_argument(
        "--sequential-calls",
        type=int,
        default=200,
        help="calls timed for the sequential baseline, scaled linearly to --calls (0: all of them)",
    )
    args = parser.parse_args(argv)
    if args.calls < 2 or args.concurrency < 1 or args.repeat < 1:
        parser.error("--calls must be at least 2, --concurrency and --repeat at least 1")
    seq_calls = args.calls if args.sequential_calls <= 0 else min(args.sequential_calls, args.calls)
    seq_calls = max(seq_calls, 2)

    machine = machine_info()
    with (
        tempfile.TemporaryDirectory(prefix="ds-bench-") as tmp,
        server_process(Path(tmp), latency_ms=args.latency_ms) as srv,
    ):
        # warm-up (imports, connection set-up) so neither side pays it inside the timing
        run_sequential(srv.url, 2)
        asyncio.run(run_distillscope(srv.url, 2, 2, Path(tmp) / "warm"))
        runs = []
        for n in range(args.repeat):  # a fresh ledger each time: every call is sent
            runs.append(
                asyncio.run(run_distillscope(srv.url, args.calls, args.concurrency, Path(tmp) / f"run{n}"))
            )
        seq_measured = run_sequential(srv.url, seq_calls)
        stats = srv.stop()
    all_seconds = sorted(r[0] for r in runs)
    seconds = statistics.median(all_seconds)
    sent = min(r[1] for r in runs)
    failed = max(r[2] for r in runs)

    sequential_seconds = seq_measured * args.calls / seq_calls
    ideal = args.calls * args.latency_ms / 1000.0 / args.concurrency
    figures = {
        "calls": args.calls,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "seconds": round(seconds, 3),
        "sequential_seconds": round(sequential_seconds, 3),
        "sequential_measured_calls": seq_calls,
        "sequential_measured_seconds": round(seq_measured, 3),
        "speedup_vs_sequential": round(sequential_seconds / seconds, 2),
        "ideal_seconds": round(ideal, 3),
        "efficiency_vs_limit": round(ideal / seconds, 3),
        "repeat": args.repeat,
        "all_seconds": [round(x, 3) for x in all_seconds],
        "best_efficiency_vs_limit": round(ideal / all_seconds[0], 3),
        "best_speedup_vs_sequential": round(sequential_seconds / all_seconds[0], 2),
        "calls_sent": sent,
        "calls_failed": failed,
        "server_max_inflight": stats.get("max_inflight"),
        "cores": machine["cores"],
        "cpu_model": machine["cpu_model"],
        "load_avg": machine["load_avg"],
    }
    scaled = (
        ""
        if seq_calls == args.calls
        else f" (timed on {seq_calls} calls, scaled x{args.calls / seq_calls:g})"
    )
    print_table(
        f"throughput: {args.calls} calls ({args.calls // 2} target + {args.calls - args.calls // 2} judge), "
        f"{args.latency_ms:g} ms server latency, concurrency {args.concurrency}",
        [
            (f"distillscope seconds (median of {args.repeat})", seconds),
            ("  all runs", ", ".join(f"{x:.3f}" for x in all_seconds)),
            ("sequential openai SDK seconds" + scaled, sequential_seconds),
            ("speedup vs sequential", figures["speedup_vs_sequential"]),
            ("ideal seconds (calls x latency / concurrency)", ideal),
            ("efficiency vs limit", figures["efficiency_vs_limit"]),
            (
                "best run: speedup / efficiency",
                f"{figures['best_speedup_vs_sequential']} / {figures['best_efficiency_vs_limit']}",
            ),
            ("calls sent / failed", f"{sent} / {failed}"),
            ("server max in flight", stats.get("max_inflight")),
            ("machine", f"{machine['cores']} cores, {machine['cpu_model']}, load {machine['load_avg']}"),
        ],
    )
    emit_json(figures)


if __name__ == "__main__":
    main()
