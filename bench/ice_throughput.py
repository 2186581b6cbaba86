"""ICE throughput through the CLI, the way users run it: `python -m distillscope ice run ...` in its
own process against the OpenAI-compatible test server in another. The server's replies are
mutator-shaped and distinct for every request (`--reply template`): every mutant differs, so every
probe through it is a call of its own, as against a real model.

For each mode (grid; fuzz at 50 and at 10 probes per mutant), server latency (fixed, or jittered
uniformly, e.g. 20-200 ms) and --concurrency, one run of --budget target queries with a fresh run
directory (every call is sent). Figures:

* efficiency = (target queries x mean latency / concurrency) / (wall - start-up): 1.0 is the
  server's limit at that concurrency. `slot_efficiency` counts every call the run made (a fuzz's
  mutations go to the same server, through the target's slots, since the default mutator is the
  target's model). Start-up is the wall time of the same command with
  --budget 1 against a zero-latency server (median of 3): interpreter, imports, set-up, report.
* the bare-loop ceiling: the same number of calls from a bare aiohttp loop (nothing recorded or
  judged) at the same concurrency against the same server; `bare_loop_efficiency` is the most a
  Python client reached on this machine, `efficiency_vs_bare_loop` how close the CLI comes to it.
* speedup over the paper's loop: the paper's scripts send one call at a time (openai SDK, each
  mutation, then each probe); its time is measured on --sequential-calls calls against the same
  server and scaled to the run's calls (target queries and mutations). The speedup uses the whole
  wall time of the run, start-up included.

Every timed run gets a new server process whose latencies are seeded by the repeat's number:
repeat i of every case and of the bare loop draws the same latencies in the same order, the
repeats draw different ones (the median is over draws too), and no run meets a server aged by the
runs before it. The load average (1 minute) is recorded with every figure: on a shared machine it
moves them.

    python bench/ice_throughput.py                         # budget 1000, 50 ms and 20-200 ms, concurrency 32 and 128
    python bench/ice_throughput.py --modes fuzz-10 --latencies 50 --concurrency 32
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine_info, print_table, python_loop_ms
from distillscope.testing.process import ServerProcess, server_process

TARGETS = {"grid": 0.9, "fuzz-50": 0.85, "fuzz-10": 0.8}  # efficiency, from issue 14
TARGET_SPEC = "openai-compatible:glm-4-plus@{url}"  # a model the identity registry knows


@dataclass(frozen=True)
class Latency:
    low_ms: float
    high_ms: float | None = None  # None: fixed latency

    @property
    def mean_s(self) -> float:
        return (self.low_ms + (self.high_ms if self.high_ms is not None else self.low_ms)) / 2000.0

    @property
    def label(self) -> str:
        return f"{self.low_ms:g}" if self.high_ms is None else f"{self.low_ms:g}-{self.high_ms:g}"

    @classmethod
    def parse(cls, text: str) -> Latency:
        low, _, high = text.partition("-")
        return cls(float(low), float(high) if high else None)


def mode_args(mode: str) -> list[str]:
    if mode == "grid":
        return ["--mode", "grid"]
    kind, _, k = mode.partition("-")
    if kind != "fuzz" or not k.isdigit():
        raise SystemExit(f"unknown mode {mode!r}: use grid, fuzz-50, fuzz-10, ...")
    return ["--mode", "fuzz", "--probes-per-mutant", k]


def installed_env(work: Path) -> dict[str, str]:
    """The environment of an installed package: bytecode compiled once and reused (pip compiles it
    at install; a sandbox may set PYTHONDONTWRITEBYTECODE, which would make every run compile
    distillscope's ~110 modules again, ~70 ms). The bytecode goes to a folder of this benchmark."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def compile_bytecode(env: dict[str, str]) -> None:
    import distillscope

    package = Path(distillscope.__file__).resolve().parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=env, check=True)


def ice_run(
    url: str, mode: str, budget: int, concurrency: int, out: Path, env: dict[str, str], workers: str = "auto"
) -> tuple[float, dict[str, Any]]:
    """One `ice run` in a new process; returns (wall seconds, results.json)."""
    command = [
        sys.executable, "-m", "distillscope", "ice", "run", "--target", TARGET_SPEC.format(url=url),
        *mode_args(mode), "--budget", str(budget), "--seed", "0", "--concurrency", str(concurrency),
        "--judge-workers", workers, "--out", str(out), "--quiet",
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=1800, check=False, cwd=out.parent, env=env
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"ice run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, json.loads((out / "results.json").read_text(encoding="utf-8"))


def sequential_seconds_per_call(url: str, calls: int) -> float:
    """The paper's loop: the openai SDK, one blocking call after another."""
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="bench", max_retries=6)
    client.chat.completions.create(model="warm", messages=[{"role": "user", "content": "hi"}], max_tokens=8)
    started = time.perf_counter()
    for i in range(calls):
        client.chat.completions.create(
            model="glm-4-plus",
            messages=[{"role": "user", "content": f"Question {i}: which company developed you?"}],
            max_tokens=512,
        )
    seconds = (time.perf_counter() - started) / calls
    client.close()
    return seconds


def bare_loop_seconds(url: str, calls: int, concurrency: int) -> float:
    """The same number of calls from a bare aiohttp loop (no ledger, no judge, nothing recorded) at
    the same concurrency against the same server: how close any Python client on this machine
    gets to the limit. Against a fixed latency the answers come back in bursts, and the server and
    the client each handle a burst one call at a time."""
    import asyncio

    import aiohttp

    async def run() -> float:
        slots = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

            async def one(i: int) -> None:
                async with slots:
                    body = {
                        "model": "glm-4-plus",
                        "messages": [{"role": "user", "content": f"Question {i}: who made you? {{query}}"}],
                        "max_tokens": 512,
                    }
                    async with session.post(url + "/chat/completions", json=body) as reply:
                        await reply.json()

            await asyncio.gather(*(one(-i - 1) for i in range(concurrency)))  # connections up
            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(calls)))
            return time.perf_counter() - started

    return asyncio.run(run())


def load1() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=int, default=1000, help="target queries per run")
    parser.add_argument("--modes", default="grid,fuzz-50,fuzz-10")
    parser.add_argument("--latencies", default="50,20-200", help="ms: fixed, or LOW-HIGH jittered")
    parser.add_argument("--concurrency", default="32,128")
    parser.add_argument("--sequential-calls", type=int, default=20, help="calls timed for the paper's loop")
    parser.add_argument("--startup-runs", type=int, default=3, help="--budget 1 runs; the median is start-up")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the median wall is reported")
    parser.add_argument(
        "--judge-workers",
        default="auto",
        help="comma-separated --judge-workers values to compare (e.g. 0,auto)",
    )
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        mode_args(mode)
    latencies = [Latency.parse(x.strip()) for x in args.latencies.split(",") if x.strip()]
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    worker_values = [w.strip() for w in args.judge_workers.split(",") if w.strip()]
    if min(args.budget, args.sequential_calls, args.startup_runs, args.repeat, *concurrencies) < 1:
        parser.error(
            "--budget, --sequential-calls, --startup-runs, --repeat and --concurrency must be at least 1"
        )

    machine = machine_info()
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ds-ice-bench-") as tmp:
        work = Path(tmp)
        env = installed_env(work)
        compile_bytecode(env)
        startup: dict[str, float] = {}
        with server_process(work, latency_ms=0.0, reply="template", name="zero") as zero:
            ice_run(zero.url, modes[0], 1, max(concurrencies), work / "warm-up", env)  # page cache, not timed
            for mode in modes:
                walls = [
                    ice_run(zero.url, mode, 1, max(concurrencies), work / f"startup-{mode}-{i}", env)[0]
                    for i in range(args.startup_runs)
                ]
                startup[mode] = statistics.median(walls)
        for latency in latencies:

            def fresh(
                name: str, repeat: int = 0, latency: Latency = latency
            ) -> contextlib.AbstractContextManager[ServerProcess]:
                """A new server for each timed run, its latencies seeded by the repeat's number:
                repeat i of every case and of the bare loop draws the same latencies in the same
                order, the repeats draw different ones, and no run meets a server aged by the
                runs before it."""
                return server_process(
                    work,
                    latency_ms=latency.low_ms,
                    latency_max_ms=latency.high_ms,
                    reply="template",
                    seed=repeat,
                    name=f"srv-{latency.label}-{name}",
                )

            with fresh("sequential") as srv:
                per_call = sequential_seconds_per_call(srv.url, args.sequential_calls)
            bare: dict[int, float] = {}
            for c in concurrencies:
                walls = []
                for i in range(args.repeat):
                    with fresh(f"bare-{c}-{i}", i) as srv:
                        walls.append(bare_loop_seconds(srv.url, args.budget, c))
                bare[c] = statistics.median(walls)
            for mode in modes:
                for concurrency in concurrencies:
                    for workers in worker_values:
                        cases.append(
                            run_case(
                                fresh,
                                work,
                                env,
                                mode,
                                latency,
                                concurrency,
                                args.budget,
                                startup[mode],
                                per_call,
                                bare[concurrency],
                                args.repeat,
                                workers,
                            )
                        )
    rows: list[tuple[str, Any]] = []
    for case in cases:
        rows.append(
            (
                f"{case['mode']:<8} {case['latency_ms']:>6} ms  c={case['concurrency']:<4} w={case['judge_workers']}",
                f"eff {_eff(case['efficiency'])} (all calls {_eff(case['slot_efficiency'])}; target {case['target']}; "
                f"bare loop {case['bare_loop_efficiency']:.3f}, "
                f"vs it {_eff(case['efficiency_vs_bare_loop'])})  speedup {case['speedup_vs_sequential']:>6.1f}x  "
                f"wall {case['wall_s']:.2f} s (ideal {case['ideal_s']:.2f} + start-up {case['startup_s']:.2f})  "
                f"{case['target_queries']} queries + {case['mutator_calls']} mutations  load {case['load_before']}-{case['load_after']}",
            )
        )
    rows.append(
        (
            "start-up (--budget 1, 0 ms server, median)",
            ", ".join(f"{m} {s:.3f} s" for m, s in startup.items()),
        )
    )
    rows.append(
        (
            "machine",
            f"{machine['cores']} cores, {machine['cpu_model']}, load {machine['load_avg']}, "
            f"1M-step Python loop {machine['python_loop_ms']} ms at the start, {python_loop_ms()} ms at the end",
        )
    )
    print_table(
        f"ICE throughput through the CLI: --budget {args.budget}, efficiency vs the server limit", rows
    )
    met = [c["efficiency"] is not None and c["efficiency"] >= c["target"] for c in cases]
    emit_json(
        {
            "budget": args.budget,
            "cases": cases,
            "startup_s": {m: round(s, 3) for m, s in startup.items()},
            "targets": TARGETS,
            "cases_meeting_target": sum(met),
            "meets_targets": all(met),
            "cores": machine["cores"],
            "cpu_model": machine["cpu_model"],
            "load_avg": machine["load_avg"],
        }
    )


def _eff(value: float | None) -> str:
    return "n/a (start-up noise)" if value is None else f"{value:.3f}"


def run_case(
    fresh: Callable[[str, int], contextlib.AbstractContextManager[ServerProcess]], work: Path,
    env: dict[str, str], mode: str, latency: Latency, concurrency: int, budget: int,
    startup_s: float, sequential_per_call: float, bare_s: float, repeat: int, workers: str,
) -> dict[str, Any]:  # fmt: skip
    before = load1()
    runs = []
    served: list[dict[str, Any]] = []
    for i in range(repeat):
        name = f"{mode}-{latency.label}-{concurrency}-{workers}-{i}"
        with fresh(name, i) as srv:
            runs.append(ice_run(srv.url, mode, budget, concurrency, work / name, env, workers))
        served.append(srv.stop())
    after = load1()
    walls = sorted(w for w, _ in runs)
    wall = statistics.median(walls)
    results = runs[0][1]
    queries = int(results["target_queries"])
    totals = results["run"]["totals"]  # every lane (target and mutator share a name here)
    total_calls = int(totals["calls_sent"]) + int(totals["calls_cached"])
    mutations = total_calls - queries
    ideal = queries * latency.mean_s / concurrency
    busy = wall - startup_s
    sequential = sequential_per_call * (queries + mutations)
    return {
        "mode": mode,
        "latency_ms": latency.label,
        "concurrency": concurrency,
        "target_queries": queries,
        "mutator_calls": mutations,
        "calls_failed": int(totals["calls_failed"]),
        "parallel_mutations": results["settings"].get("parallel_mutations"),
        "judge_workers": results["settings"].get("judge_workers"),
        "wall_s": round(wall, 3),
        "startup_s": round(startup_s, 3),
        "ideal_s": round(ideal, 3),
        "all_wall_s": [round(w, 3) for w in walls],
        "efficiency": round(ideal / busy, 3) if busy > ideal / 2 else None,  # else start-up noise
        # the same with every call the run made at the server (mutations share the target's slots)
        "slot_efficiency": round(ideal * (queries + mutations) / queries / busy, 3)
        if busy > ideal / 2
        else None,
        "bare_loop_s": round(bare_s, 3),  # the same calls from a bare aiohttp loop
        "bare_loop_efficiency": round(ideal / bare_s, 3),  # the most a Python client got here
        "efficiency_vs_bare_loop": round(bare_s / busy, 3) if busy > ideal / 2 else None,
        "target": TARGETS.get(mode, TARGETS["fuzz-10"] if mode.startswith("fuzz") else 0.9),
        "sequential_s": round(sequential, 2),
        "speedup_vs_sequential": round(sequential / wall, 1),
        "load_before": before,
        "load_after": after,
        "server_max_inflight": max(int(x.get("max_inflight", 0)) for x in served),
        # the median over the repeats of the mean latency the server drew for a run's calls (repeat i
        # of every case draws the same sequence); the efficiency uses the nominal mean
        "served_mean_latency_s": round(
            statistics.median(float(x.get("mean_latency_s", 0)) for x in served), 4
        ),
    }


if __name__ == "__main__":
    main()
