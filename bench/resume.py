"""Resume: a finished 10,000-call run, rerun from its ledger, sends nothing and takes seconds.

First run: the ICE-shaped workload of bench/throughput.py (half target calls, half judge calls
built from the answers) through `RunContext`/`Scheduler` against a local server, filling a
fresh ledger. Rerun: the same command in a fresh Python process, against a *new* server, with
the same ledger: the new server counts the requests it gets (must be 0), and the rerun's wall
time is measured from outside (interpreter start and imports included) and inside (from
opening the run to having every answer).

    python bench/resume.py --calls 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine_info, print_table
from distillscope.testing.process import server_process
from throughput import run_distillscope

TARGET_SECONDS = 3.0


def rerun_child(url: str, calls: int, concurrency: int, out: Path) -> None:
    """The rerun, in its own process: prints one JSON line with its inner timing and counts."""
    seconds, sent, failed = asyncio.run(run_distillscope(url, calls, concurrency, out))
    print(json.dumps({"seconds": seconds, "sent": sent, "failed": failed}), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rerun-child", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.calls < 2:
        parser.error("--calls must be at least 2")
    if args.rerun_child:
        rerun_child(args.rerun_child[0], args.calls, args.concurrency, Path(args.rerun_child[1]))
        return

    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="ds-bench-") as tmp:
        out = Path(tmp) / "run"
        with server_process(Path(tmp), name="first") as srv:
            first_seconds, _first_sent, first_failed = asyncio.run(
                run_distillscope(srv.url, args.calls, args.concurrency, out)
            )
            first_stats = srv.stop()
        if first_failed:
            raise SystemExit(f"{first_failed} calls failed in the first run: nothing to resume from")
        with server_process(Path(tmp), name="rerun") as srv:
            started = time.perf_counter()
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--calls",
                    str(args.calls),
                    "--concurrency",
                    str(args.concurrency),
                    "--rerun-child",
                    srv.url,
                    str(out),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            process_seconds = time.perf_counter() - started
            rerun_stats = srv.stop()
        if child.returncode != 0:
            raise SystemExit(f"rerun failed:\n{child.stderr[-2000:]}")
        inner = json.loads(child.stdout.strip().splitlines()[-1])
        ledger_bytes = (out / "ledger.sqlite").stat().st_size

    sent_on_rerun = int(rerun_stats.get("requests", -1))
    figures = {
        "calls": args.calls,
        "first_run_seconds": round(first_seconds, 3),
        "first_run_requests_at_server": first_stats.get("requests"),
        "rerun_seconds": round(process_seconds, 3),
        "rerun_in_process_seconds": round(inner["seconds"], 3),
        "rerun_requests_at_server": sent_on_rerun,
        "rerun_calls_sent": inner["sent"],
        "rerun_calls_failed": inner["failed"],
        "ledger_mb": round(ledger_bytes / 2**20, 2),
        "target_seconds": TARGET_SECONDS,
        "meets_target": sent_on_rerun == 0 and process_seconds < TARGET_SECONDS,
        "cores": machine["cores"],
        "cpu_model": machine["cpu_model"],
        "load_avg": machine["load_avg"],
    }
    print_table(
        f"resume: a finished {args.calls}-call run ({args.calls // 2} target + {args.calls - args.calls // 2} judge) rerun from its ledger",
        [
            ("first run seconds", first_seconds),
            ("first run requests at the server", first_stats.get("requests")),
            ("rerun seconds (new process: start, imports, run)", process_seconds),
            ("rerun seconds inside the process", inner["seconds"]),
            ("rerun requests at the (new) server", sent_on_rerun),
            ("ledger size, MiB", figures["ledger_mb"]),
            ("machine", f"{machine['cores']} cores, {machine['cpu_model']}, load {machine['load_avg']}"),
        ],
    )
    emit_json(figures)


if __name__ == "__main__":
    main()
