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
