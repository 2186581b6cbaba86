"""Ledgers carry and check their identity (`PRAGMA application_id`, `PRAGMA user_version`): a foreign
SQLite file or a newer ledger is refused and left untouched, a 0.1 ledger still opens, and
`models ledger` reads without creating or changing any file."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import distillscope.cli as cli_module
from distillscope.engine.ledger import APPLICATION_ID, SCHEMA_VERSION, Ledger, keyed_request
from distillscope.errors import UserError
from distillscope.models.types import ModelRequest, ModelResponse
from distillscope.testing.server import OpenAIServer

cli_module._register_optional()

Server = Callable[..., OpenAIServer]

# The 0.1 ledger schema, as 0.1 wrote it (no application id, status without 'empty'/'filtered').
SCHEMA_0_1 = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, stage TEXT, request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'error')),
    response TEXT, finish_reason TEXT, prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0, latency_s REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT, owner TEXT, created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_model_status ON calls (model, status);
INSERT OR IGNORE INTO meta (k, v) VALUES ('schema_version', '1');
"""


def cli(*args: object) -> Result:
    return CliRunner().invoke(cli_module.app, [str(a) for a in args])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pragmas(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("PRAGMA application_id").fetchone()[0]), int(
            db.execute("PRAGMA user_version").fetchone()[0]
        )
    finally:
        db.close()


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def answer_args(server: OpenAIServer, tmp_path: Path, *extra: object) -> list[object]:
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    return ["models", "answer", f"openai-compatible:m@{server.url}", "-p", prompts, "--quiet", *extra]


def test_a_new_ledger_carries_its_application_id_and_version(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.sqlite").close()
    assert pragmas(tmp_path / "l.sqlite") == (APPLICATION_ID, SCHEMA_VERSION)


def test_a_foreign_sqlite_file_as_cache_is_refused_untouched(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server()
    foreign = tmp_path / "app.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE notes (body TEXT)")
    db.execute("INSERT INTO notes VALUES ('mine')")
    db.commit()
    db.close()
    before = digest(foreign)
    line = one_error_line(cli(*answer_args(server, tmp_path, "--cache", foreign, "--out", tmp_path / "run")))
    assert f"{foreign}: not a distillscope ledger" in line
    assert digest(foreign) == before and server.requests == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.db")) == ["app.db"]


@pytest.mark.parametrize("where", ["cache", "out"])
def test_a_newer_ledger_is_refused_untouched(tmp_path: Path, openai_server: Server, where: str) -> None:
    server = openai_server()
    run = tmp_path / "run"
    run.mkdir()
    newer = tmp_path / "newer.sqlite" if where == "cache" else run / "ledger.sqlite"
    Ledger(newer).close()
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.execute("CREATE TABLE future (x)")
    db.commit()
    db.close()
    before = digest(newer)
    extra = ["--cache", newer] if where == "cache" else []
    line = one_error_line(cli(*answer_args(server, tmp_path, *extra, "--out", run)))
    assert f"{newer}: ledger schema version {SCHEMA_VERSION + 1} was written by a newer distillscope" in line
    assert digest(newer) == before and server.requests == 0


def make_0_1_ledger(path: Path) -> str:
    """A 0.1 ledger holding one finished call; returns its key."""
    request = ModelRequest.user("hello")
    key, request_json = keyed_request({"kind": "test", "model": "m", "api": "chat"}, request)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_1)
    db.execute(
        "INSERT INTO calls (key, model, stage, request, status, response, finish_reason, created_at, updated_at)"
        " VALUES (?, 'm', 's', ?, 'ok', 'hi there', 'stop', 1.0, 1.0)",
        (key, request_json),
    )
    db.commit()
    db.close()
    return key


def test_a_0_1_ledger_still_opens_and_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    key = make_0_1_ledger(path)
    read = cli("models", "ledger", path)  # read-only: no upgrade, no new files
    assert read.exit_code == 0 and read.stdout.strip() == "ok: 1", read.output
    assert pragmas(path) == (0, 0) and sorted(p.name for p in tmp_path.iterdir()) == ["old.sqlite"]

    ledger = Ledger(path)  # for writing: upgraded in place, its answers kept
    entry = ledger.get(key)
    assert entry is not None and entry.response is not None and entry.response.text == "hi there"
    ledger.claim("k2", "m", "s", "{}")
    ledger.record_ok("k2", ModelResponse(text=""), 1)  # the new status fits the rebuilt table
    assert ledger.counts() == {"ok": 1, "empty": 1}
    ledger.close()
    assert pragmas(path) == (APPLICATION_ID, SCHEMA_VERSION)


def test_models_ledger_on_a_typo_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    for typo in (tmp_path / "ledgr.sqlite", tmp_path / "no-such-run"):
        line = one_error_line(cli("models", "ledger", typo))
        assert f"{typo}: no such ledger file or run directory" in line
    empty_run = tmp_path / "empty-run"
    empty_run.mkdir()
    line = one_error_line(cli("models", "ledger", empty_run))
    assert "no such ledger file" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-run"] and not any(empty_run.iterdir())


def test_models_ledger_reads_a_read_only_ledger_without_writing(
    tmp_path: Path, openai_server: Server
) -> None:
    server = openai_server()
    run = tmp_path / "run"
    assert cli(*answer_args(server, tmp_path, "--out", run)).exit_code == 0
    ledger = run / "ledger.sqlite"
    ledger.chmod(0o444)
    run.chmod(0o555)
    try:
        names, before, mtime = (
            sorted(p.name for p in run.iterdir()),
            digest(ledger),
            ledger.stat().st_mtime_ns,
        )
        for target in (run, ledger):
            read = cli("models", "ledger", target)
            assert read.exit_code == 0 and read.stdout.strip() == "ok: 1", read.output
        assert sorted(p.name for p in run.iterdir()) == names
        assert digest(ledger) == before and ledger.stat().st_mtime_ns == mtime
    finally:
        run.chmod(0o755)
        ledger.chmod(0o644)


def test_read_only_open_refuses_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (a)")
    db.commit()
    db.close()
    with pytest.raises(UserError, match="not a distillscope ledger"):
        Ledger(path, read_only=True)
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("just text\n" * 100, encoding="utf-8")
    line = one_error_line(cli("models", "ledger", not_sqlite))
    assert f"{not_sqlite}: cannot open ledger" in line
    assert not_sqlite.read_text(encoding="utf-8") == "just text\n" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "x.db"]
    assert os.path.getsize(path) > 0
