"""The call ledger: one SQLite row per distinct model request.

Every model call goes through here. The key is a SHA-256 of the canonical request (backend
identity, messages, parameters), so a rerun, a resumed run or another study that shares the
ledger (`--cache PATH`) gets a finished call back instead of paying for it twice.

Durability: WAL journal, one transaction per row. A SIGKILL at any moment leaves either the
whole row or none of it. Rows are `pending` while a process is calling the model (so a second
process sharing the ledger waits instead of sending the same request), then `ok` or `error`.
Only `ok` rows are answers; an `error` row is retried by the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distillscope.errors import UserError
from distillscope.models.types import ModelRequest, ModelResponse, Usage

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    stage TEXT,
    request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'error')),
    response TEXT,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    latency_s REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    owner TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_model_status ON calls (model, status);
"""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_payload(identity: dict[str, Any], request: ModelRequest) -> dict[str, Any]:
    """The part of a request that determines its answer (`prompt_id` is only a label)."""
    return {
        "backend": identity,
        "messages": [m.model_dump() for m in request.messages],
        "params": request.params.model_dump(exclude_none=True, mode="json"),
    }


def request_key(identity: dict[str, Any], request: ModelRequest) -> str:
    return hashlib.sha256(canonical_json(request_payload(identity, request)).encode()).hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    status: str
    response: ModelResponse | None
    error: str | None
    attempts: int
    owner: str | None
    updated_at: float


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process that claimed a row may still be working on it."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname():
        return True  # another machine: trust its lease
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


class Ledger:
    """A SQLite call ledger. Use from one thread (the event loop's); open one per process."""

    def __init__(self, path: str | Path, *, lease_s: float = 900.0) -> None:
        self.path = Path(path)
        self.owner = _owner_id()
        self.lease_s = lease_s
        if self.path.is_dir():
            raise UserError(f"{self.path}: is a directory, expected a ledger file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=60000")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (k, v) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path}: cannot open ledger: {exc}") from None
        except OSError as exc:
            raise UserError(f"{self.path}: cannot create ledger: {exc.strerror or exc}") from None

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    # -- reads -------------------------------------------------------------------------------

    def get(self, key: str) -> LedgerEntry | None:
        row = self._db.execute(
            "SELECT key, status, response, finish_reason, prompt_tokens, completion_tokens, latency_s,"
            " attempts, error, owner, updated_at FROM calls WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        (k, status, text, finish, ptok, ctok, latency, attempts, error, owner, updated) = row
        response = None
        if status == "ok":
            response = ModelResponse(
                text=text,
                finish_reason=finish,
                usage=Usage(prompt_tokens=ptok, completion_tokens=ctok),
                latency_s=latency,
            )
        return LedgerEntry(k, status, response, error, attempts, owner, updated)

    def claimable(self, entry: LedgerEntry) -> bool:
        """A pending row whose owner died or whose lease ran out may be taken over."""
        if entry.status != "pending" or entry.owner == self.owner:
            return True
        if time.time() - entry.updated_at > self.lease_s:
            return True
        return not _owner_alive(entry.owner)

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM calls GROUP BY status").fetchall()
        return {status: n for status, n in rows}

    def iter_rows(self) -> list[dict[str, Any]]:
        cur = self._db.execute(
            "SELECT key, model, stage, status, response, error, attempts, prompt_tokens, completion_tokens"
            " FROM calls ORDER BY created_at"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- writes (one short transaction each) ----------------------------------------------------

    def claim(self, key: str, model: str, stage: str, request_json: str) -> bool:
        """Mark `key` as being called by us. False if another live process holds it or it is done."""
        now = time.time()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT status, owner, updated_at FROM calls WHERE key = ?", (key,)).fetchone()
            if row is not None:
                status, owner, updated = row
                entry = LedgerEntry(key, status, None, None, 0, owner, updated)
                if status == "ok" or (status == "pending" and not self.claimable(entry)):
                    self._db.execute("COMMIT")
                    return False
                self._db.execute(
                    "UPDATE calls SET status='pending', owner=?, updated_at=?, stage=? WHERE key=?",
                    (self.owner, now, stage, key),
                )
            else:
                self._db.execute(
                    "INSERT INTO calls (key, model, stage, request, status, owner, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                    (key, model, stage, request_json, self.owner, now, now),
                )
            self._db.execute("COMMIT")
            return True
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise _disk_error(self.path, exc) from None

    def record_ok(self, key: str, response: ModelResponse, attempts: int) -> None:
        self._write(
            "UPDATE calls SET status='ok', response=?, finish_reason=?, prompt_tokens=?, completion_tokens=?,"
            " latency_s=?, attempts=?, error=NULL, owner=NULL, updated_at=? WHERE key=?",
            (
                response.text,
                response.finish_reason,
                response.usage.prompt_tokens,
                response.usage.completion_tokens,
                response.latency_s,
                attempts,
                time.time(),
                key,
            ),
        )

    def record_error(self, key: str, error: str, attempts: int) -> None:
        self._write(
            "UPDATE calls SET status='error', error=?, attempts=?, owner=NULL, updated_at=?"
            " WHERE key=? AND status != 'ok'",
            (error, attempts, time.time(), key),
        )

    def release(self, key: str) -> None:
        """Give back a claim we could not finish (cancelled): the next run calls it again."""
        self._write("DELETE FROM calls WHERE key=? AND status='pending' AND owner=?", (key, self.owner))

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        try:
            self._db.execute(sql, args)
        except sqlite3.OperationalError as exc:
            raise _disk_error(self.path, exc) from None

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")


def _disk_error(path: Path, exc: sqlite3.OperationalError) -> UserError:
    text = str(exc)
    if "full" in text.lower():
        return UserError(f"{path}: disk full while writing the ledger; free space and rerun to resume")
    return UserError(f"{path}: ledger write failed: {text}")
