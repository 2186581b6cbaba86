"""Fixtures of the reliability suite: the CLI as a subprocess and a ledger reader with an integrity
check. The test server as a process, prompt files and `models answer` arguments are in tests/conftest.py."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
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
