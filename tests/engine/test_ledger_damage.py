"""A ledger damaged after it was written (a power cut, a bad sector, a hand edit) opens, but its pages
of answers cannot be read: every read and write then says so in one line (a `UserError`, exit 2), never
a traceback, and the file is left as it was for `sqlite3 .recover`."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from distillscope.engine.ledger import Ledger
from distillscope.errors import UserError
from distillscope.models.types import ModelResponse, Usage
from distillscope.testing.server import OpenAIServer

ROWS = 200


def write_ledger(path: Path) -> list[str]:
    """A ledger of ROWS finished calls, each about 2 kB, checkpointed into the main file."""
    ledger = Ledger(path)
    keys = [f"key-{i}" for i in range(ROWS)]
    for i, key in enumerate(keys):
        assert ledger.claim(key, "m", "stage", '{"prompt": "' + "q" * 1000 + '"}')
        usage = Usage(prompt_tokens=1, completion_tokens=1)
        ledger.record_ok(
            key, ModelResponse(text=f"answer {i} " + "a" * 1000, finish_reason="stop", usage=usage), 1
        )
    ledger.close()
    return keys


def damage_calls(path: Path) -> None:
    """Zero every page but the schema and the `meta` table: the file still opens as a ledger of ours
    (header, tables and schema version intact), but no row of `calls` can be read."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = int(db.execute("PRAGMA page_size").fetchone()[0])
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
        keep = {1} | {
            int(root) for (root,) in db.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'meta'")
        }
    finally:
        db.close()
    assert pages > 20, "the ledger should span many pages"
    with path.open("r+b") as fh:
        for number in range(2, pages + 1):
            if number not in keep:
                fh.seek((number - 1) * page)
                fh.write(b"\0" * page)


def test_every_ledger_operation_on_damaged_pages_is_one_user_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    keys = write_ledger(path)
    damage_calls(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    ledger = Ledger(path)  # the header and schema are intact: it opens
    operations: list[Callable[[], object]] = [
        lambda: ledger.answers(keys),
        lambda: ledger.get(keys[0]),
        ledger.counts,
        ledger.iter_rows,
        lambda: ledger.claim("new-key", "m", "stage", "{}"),
    ]
    for operation in operations:
        with pytest.raises(UserError, match="the ledger is damaged") as caught:
            operation()
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    ledger.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # nothing repaired, nothing dropped


def test_a_run_on_a_damaged_ledger_exits_2_with_one_line(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server()
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"question {i} {'x' * 2000}\n" for i in range(60)), encoding="utf-8")
    out = tmp_path / "run"
    args = [sys.executable, "-m", "distillscope", "models", "answer", f"openai-compatible:m@{server.url}"]
    args += ["--prompts", str(prompts), "--out", str(out), "--quiet"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    (out / "results.json").unlink()  # as if the run had been cut off before its end
    damage_calls(out / "ledger.sqlite")
    sent = server.stats()["requests"]

    rerun = subprocess.run(args, capture_output=True, text=True, timeout=120)

    assert rerun.returncode == 2, rerun.stderr
    assert "Traceback" not in rerun.stderr + rerun.stdout
    lines = rerun.stderr.strip().splitlines()
    assert len(lines) == 1 and "ledger.sqlite: the ledger is damaged" in lines[0], lines
    assert server.stats()["requests"] == sent  # nothing was paid for again on a ledger it cannot read
