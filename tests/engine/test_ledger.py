from pathlib import Path

import pytest

from distillscope.engine.ledger import Ledger, request_key
from distillscope.errors import UserError
from distillscope.models.types import GenerateParams, ModelRequest, ModelResponse, Usage

IDENTITY = {"kind": "openai-compatible", "model": "m", "api": "chat"}


def test_key_depends_on_request_not_label() -> None:
    a = ModelRequest.user("q", prompt_id="one")
    b = ModelRequest.user("q", prompt_id="two")
    c = ModelRequest.user("q", params=GenerateParams(temperature=0.5))
    assert request_key(IDENTITY, a) == request_key(IDENTITY, b)
    assert request_key(IDENTITY, a) != request_key(IDENTITY, c)
    assert request_key(IDENTITY, a) != request_key({**IDENTITY, "model": "other"}, a)


def test_claim_record_and_read_back(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    assert ledger.claim("k", "m", "stage", "{}")
    ledger.record_ok(
        "k",
        ModelResponse(text="answer", finish_reason="stop", usage=Usage(prompt_tokens=3, completion_tokens=4)),
        2,
    )
    entry = ledger.get("k")
    assert entry is not None and entry.response is not None
    assert entry.response.text == "answer" and entry.response.usage.total_tokens == 7 and entry.attempts == 2
    assert not ledger.claim("k", "m", "stage", "{}")  # finished calls are never claimed again
    ledger.close()
    reopened = Ledger(tmp_path / "l.sqlite")
    assert reopened.get("k").response.text == "answer"  # type: ignore[union-attr]


def test_error_rows_never_overwrite_answers_and_are_retried(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.claim("k", "m", "s", "{}")
    ledger.record_error("k", "HTTP 503", 3)
    assert ledger.get("k").status == "error"  # type: ignore[union-attr]
    assert ledger.claim("k", "m", "s", "{}")  # an error row is called again next time
    ledger.record_ok("k", ModelResponse(text="ok"), 1)
    ledger.record_error("k", "late failure", 1)
    assert ledger.get("k").status == "ok"  # type: ignore[union-attr]


def test_pending_claim_of_live_process_blocks_other_owner(tmp_path: Path) -> None:
    first = Ledger(tmp_path / "l.sqlite")
    second = Ledger(tmp_path / "l.sqlite")
    assert first.claim("k", "m", "s", "{}")
    assert not second.claim("k", "m", "s", "{}")  # same pid is alive: wait for it
    first.release("k")
    assert second.claim("k", "m", "s", "{}")


def test_pending_claim_of_dead_process_is_taken_over(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.claim("k", "m", "s", "{}")
    host = ledger.owner.split(":")[0]
    ledger._db.execute(f"UPDATE calls SET owner='{host}:999999999:dead'")
    other = Ledger(tmp_path / "l.sqlite")
    assert other.claim("k", "m", "s", "{}")


def test_directory_or_garbage_ledger_is_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a directory"):
        Ledger(tmp_path)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match="cannot open ledger"):
        Ledger(bad)


def test_a_ledger_created_between_the_checks_reads_is_not_taken_for_a_foreign_file(tmp_path: Path) -> None:
    """Two processes opening one new ledger: the second one's check reads the file's header and its
    tables; the first one committing the schema between those reads must not make the file look
    foreign (the check reads one snapshot)."""
    import sqlite3
    from typing import Any, cast

    from distillscope.engine.ledger import _ledger_kind

    path = tmp_path / "shared.sqlite"
    with sqlite3.connect(path) as setup:  # an empty file in WAL mode, as the first process leaves it
        setup.execute("PRAGMA journal_mode=WAL")
    reader = sqlite3.connect(path, isolation_level=None)

    class CommitsAfterFirstRead:
        """The reader's connection; after its first statement, the other process creates the ledger."""

        def __init__(self) -> None:
            self.reads = 0

        @property
        def in_transaction(self) -> bool:
            return reader.in_transaction

        def execute(self, sql: str) -> sqlite3.Cursor:
            cursor = reader.execute(sql)
            if sql.startswith("PRAGMA"):
                self.reads += 1
                if self.reads == 1:
                    Ledger(path).close()  # the other process: schema, header, commit
            return cursor

    assert _ledger_kind(cast(Any, CommitsAfterFirstRead()), path) == "new"  # the snapshot before it
    assert _ledger_kind(reader, path) == "current"  # and a fresh look sees the ledger
    reader.close()


@pytest.mark.parametrize("content", [b"x", b"my notes\n", b"SQLite format 3", b"\x00" * 99])
def test_a_short_file_that_is_no_database_is_refused_untouched(tmp_path: Path, content: bytes) -> None:
    """SQLite refused a long non-database file but took one shorter than its header for a new
    database, and wrote a ledger over it: a one-byte file given as `--cache` was lost. Any file that
    is not empty and does not begin with SQLite's header is refused, naming it, and left as it was."""
    mine = tmp_path / "notes.txt"
    mine.write_bytes(content)
    for read_only in (False, True):
        with pytest.raises(UserError, match=r"notes\.txt: cannot open ledger: not a SQLite database"):
            Ledger(mine, read_only=read_only)
    assert mine.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_empty_file_is_a_new_ledger(tmp_path: Path) -> None:
    empty = tmp_path / "new.sqlite"
    empty.touch()
    ledger = Ledger(empty)
    assert ledger.claim("k", "m", "s", "{}")
    ledger.close()
    assert empty.read_bytes().startswith(b"SQLite format 3\x00")
