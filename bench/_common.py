"""Shared helpers for the benchmark scripts: machine facts, a test server in its own process,
a plain-text table, and the one-JSON-object last line every script ends with."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A `distillscope.testing.server` running in a child process (its own GIL)."""

    url: str
    port: int
    stats_file: Path
    proc: subprocess.Popen[str]
    stats: dict[str, Any] | None = None

    def stop(self) -> dict[str, Any]:
        """SIGTERM the server; it writes its request counts to `stats_file` on the way out."""
        if self.stats is not None:
            return self.stats
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self.stats = json.loads(self.stats_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            self.stats = {}
        return self.stats


@contextlib.contextmanager
def server_process(
    workdir: Path,
    *,
    latency_ms: float = 0.0,
    latency_max_ms: float | None = None,
    reply: str = "echo",
    name: str = "server",
) -> Iterator[ServerProcess]:
    """Start the echo server on a free port in a child process; stop it on exit. With
    `latency_max_ms` each answer waits a seeded uniform draw in [latency_ms, latency_max_ms]."""
    jitter = [] if latency_max_ms is None else ["--latency-max-ms", str(latency_max_ms)]
    jitter += ["--reply", reply] if reply != "echo" else []
    for _ in range(5):
        port = free_port()
        stats_file = workdir / f"{name}-stats.json"
        log = (workdir / f"{name}.log").open("a", encoding="utf-8")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distillscope.testing.server",
                "--port",
                str(port),
                "--latency-ms",
                str(latency_ms),
                "--stats-file",
                str(stats_file),
                *jitter,
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" in line:
            server = ServerProcess(
                url=line.split("listening on", 1)[1].strip(), port=port, stats_file=stats_file, proc=proc
            )
            try:
                yield server
            finally:
                server.stop()
                log.close()
            return
        proc.kill()
        proc.wait()
        log.close()
        time.sleep(0.2)  # the port was taken between probe and bind: try another
    raise RuntimeError("could not start the test server")


def peak_rss_children_mb() -> float:
    """Peak resident set of the largest waited-for child process so far, in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def peak_rss_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
