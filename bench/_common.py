"""Shared helpers for the benchmark scripts: machine facts, a plain-text table, and the
one-JSON-object last line every script ends with. (The test server in its own process is
`distillscope.testing.process`.)"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO / ".." / "shared" / "data"


def machine_info() -> dict[str, Any]:
    """Cores, CPU model and load, so a figure can be read against the machine that made it."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_avg": load,
        "python_loop_ms": python_loop_ms(),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def python_loop_ms() -> float:
    """How fast this CPU runs Python right now: the best of 3 timings of a fixed 1,000,000-step loop.
    On a shared virtual machine it moves by half between two hours of one day (the load average
    does not show it), and every timing here moves with it."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def print_table(title: str, rows: Sequence[tuple[str, Any]]) -> None:
    """Two columns, figure name and value, aligned."""
    print(title)
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {_fmt(value)}")
    sys.stdout.flush()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def emit_json(figures: dict[str, Any]) -> None:
    """The last line of every benchmark: one JSON object with its figures."""
    print(json.dumps(figures, sort_keys=False), flush=True)


def emit_skipped(reason: str) -> None:
    """A benchmark whose data is not here: the reason on one line, then the JSON line saying so (exit 0)."""
    print(f"skipped: {reason}")
    emit_json({"skipped": reason})


def peak_rss_children_mb() -> float:
    """Peak resident set of the largest waited-for child process so far, in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def peak_rss_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_cli(args: list[str], pythonpath: Path) -> tuple[float, float, str]:
    """Wall and child CPU seconds, and stdout, of one `python -m distillscope ARGS` run with
    `pythonpath` first on the path (the code under test, or a baseline's `src`); a failure ends the
    benchmark with the command's own words."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "distillscope", *args], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"CLI failed ({done.returncode}): {done.stderr[-2000:]}{done.stdout[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def baseline_src(commit: str, work: Path) -> Path:
    """The `src` folder of `commit` (`git archive`), unpacked under `work`: the code before a change,
    to time it beside the change in the same run."""
    old = work / "old"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "src"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    return old / "src"
