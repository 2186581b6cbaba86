"""The test server in a child process of its own (its own interpreter and GIL), for benchmarks and
crash tests: a client measured against it, or killed mid-run, shares nothing with it.

    with server_process(tmp, latency_ms=50) as server:   # stopped on exit
        ... server.url ...
    counts = server.stop()   # its request counts, from the stats file it writes on SIGTERM
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (another process may take it before it is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A running `python -m distillscope.testing.server`."""

    url: str
    port: int
    stats_file: Path
    proc: subprocess.Popen[str]
    stats: dict[str, Any] | None = None

    def stop(self, timeout_s: float = 30) -> dict[str, Any]:
        """SIGTERM the server and return the counts it writes on the way out ({} if it wrote none:
        it was killed, or died). Stopping twice returns the same counts."""
        if self.stats is not None:
            return self.stats
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self.stats = dict(json.loads(self.stats_file.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            self.stats = {}
        return self.stats

    def kill(self) -> None:
        """End it at once (no counts are written)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def start_server_process(
    workdir: Path,
    *,
    latency_ms: float = 0.0,
    latency_max_ms: float | None = None,
    reply: str = "echo",
    fault_rate: float = 0.0,
    seed: int = 0,
    name: str = "server",
) -> ServerProcess:
    """Start the server on a free port and return once it listens. Its stderr goes to
    `workdir/<name>.log`, its counts to `workdir/<name>-<port>.json` when it is stopped.
    With `latency_max_ms` each answer waits a seeded uniform draw in [latency_ms, latency_max_ms]."""
    options = ["--latency-ms", str(latency_ms), "--reply", reply]
    options += ["--fault-rate", str(fault_rate), "--seed", str(seed)]
    if latency_max_ms is not None:
        options += ["--latency-max-ms", str(latency_max_ms)]
    for _ in range(5):
        port = free_port()
        stats_file = workdir / f"{name}-{port}.json"
        with (workdir / f"{name}.log").open("a", encoding="utf-8") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "distillscope.testing.server", "--port", str(port),
                 "--stats-file", str(stats_file), *options],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" in line:
            url = line.split("listening on", 1)[1].strip()
            return ServerProcess(url=url, port=port, stats_file=stats_file, proc=proc)
        proc.kill()
        proc.wait()
        time.sleep(0.2)  # the port was taken between probe and bind: try another
    raise RuntimeError(f"could not start the test server (see {workdir / f'{name}.log'})")


@contextlib.contextmanager
def server_process(workdir: Path, **options: Any) -> Iterator[ServerProcess]:
    """`start_server_process(workdir, **options)`, stopped on exit."""
    server = start_server_process(workdir, **options)
    try:
        yield server
    finally:
        server.stop()
