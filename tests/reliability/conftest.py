"""Shared fixtures for the reliability suite: the CLI as a subprocess, the test server as a process,
and a ledger reader that works while another process writes."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    for name, value in (env or {}).items():
        if value == "":  # "" means: unset it
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "distillscope", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
    )


@pytest.fixture
def run_cli() -> CliRunner:
    """`run_cli("models", "answer", ...)` runs `python -m distillscope ...` and returns the process."""
    return _cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """`python -m distillscope.testing.server` in its own process; `stop()` returns its counts."""

    proc: subprocess.Popen[str]
    url: str
    stats_file: Path

    def stop(self) -> dict[str, Any]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)
        return dict(json.loads(self.stats_file.read_text()))


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(latency_ms: float = 20, fault_rate: float = 0.0, seed: int = 0) -> ServerProcess:
        port = free_port()
        stats = tmp_path / f"server-{port}.json"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distillscope.testing.server",
                "--port",
                str(port),
                "--latency-ms",
                str(latency_ms),
                "--fault-rate",
                str(fault_rate),
                "--seed",
                str(seed),
                "--stats-file",
                str(stats),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        assert "listening" in proc.stdout.readline()
        server = ServerProcess(proc, f"http://127.0.0.1:{port}/v1", stats)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(10)


def ledger_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of a ledger, read with plain sqlite3 (also proves the file is readable)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        cur = db.execute("SELECT * FROM calls")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        db.close()


@pytest.fixture
def read_ledger() -> Callable[[Path], list[dict[str, Any]]]:
    return ledger_rows


def count_ok(path: Path) -> int:
    """Finished rows in a ledger that another process may be writing right now (0 if not there yet)."""
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(db.execute("SELECT COUNT(*) FROM calls WHERE status='ok'").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


@pytest.fixture
def ok_rows() -> Callable[[Path], int]:
    return count_ok


def prompts_file(path: Path, n: int, prefix: str = "question") -> Path:
    path.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"{prefix} {i}"}) + "\n" for i in range(n)),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def make_prompts() -> Callable[..., Path]:
    return prompts_file
