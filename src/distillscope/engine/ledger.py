"""The call ledger: one SQLite row per distinct model request.

Every model call goes through here. The key is a SHA-256 of the canonical request (backend
identity, messages, parameters), so a rerun, a resumed run or another study that shares the
ledger (`--cache PATH`) gets a finished call back instead of paying for it twice.

Durability: WAL journal; every write is inside a transaction, so a SIGKILL at any moment
leaves either the whole row or none of it. The scheduler's writes of one event-loop turn share
one transaction (group commit, see `claim_grouped`). Rows are `pending` while a process is calling the model (so a second
process sharing the ledger waits instead of sending the same request), then `ok` or `error`.
Only `ok` rows are answers; `empty` and `filtered` rows are final replies that are not answers
(see `models.types.Outcome`); an `error` row is retried by the next run.

Identity: `PRAGMA application_id` (APPLICATION_ID) and `PRAGMA user_version` (SCHEMA_VERSION) mark
a ledger, and are checked before anything is written: a foreign SQLite file or a ledger of a newer
version is refused (`UserError`) and left untouched. A 0.1 ledger (no application id, the 0.1
tables) is upgraded in place when opened for writing. `Ledger(path, read_only=True)` never
creates, upgrades or writes a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distillscope.errors import UserError
from distillscope.models.types import ModelRequest, ModelResponse, Usage
from distillscope.naming import Naming, flag
from distillscope.redact import mask_secrets
from distillscope.sqlite_open import open_retrying

SCHEMA_VERSION = 2
# `PRAGMA application_id` of every ledger ("DSLG"): a SQLite file without it is not ours, unless it
# is a 0.1 ledger (application id 0, the 0.1 tables), which is upgraded when opened for writing.
APPLICATION_ID = 0x44534C47
LEGACY_SCHEMA_VERSION = 1
# A finished call: an answer (`ok`), or a reply that is not one (`empty`, `filtered`). All three
# are final: a rerun answers them from the ledger. Only `error` rows are called again.
FINISHED = ("ok", "empty", "filtered")
_FINISHED_SQL = "('ok', 'empty', 'filtered')"

_CALLS_TABLE = """
CREATE TABLE {name} (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    stage TEXT,
    request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'empty', 'filtered', 'error')),
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
)"""
_CALLS_COLUMNS = (
    "key, model, stage, request, status, response, finish_reason, prompt_tokens, completion_tokens,"
    " latency_s, attempts, error, owner, created_at, updated_at"
)
_SCHEMA = (
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
    _CALLS_TABLE.format(name="calls"),
    "CREATE INDEX calls_model_status ON calls (model, status)",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_payload(identity: dict[str, Any], request: ModelRequest) -> dict[str, Any]:
    """The part of a request that determines its answer (`prompt_id` is only a label). A request
    without `response_format` keys exactly as before it existed."""
    payload: dict[str, Any] = {
        "backend": identity,
        "messages": [m.model_dump() for m in request.messages],
        "params": request.params.model_dump(exclude_none=True, mode="json"),
    }
    if request.response_format is not None:
        payload["response_format"] = request.response_format
    return payload


def request_key(identity: dict[str, Any], request: ModelRequest) -> str:
    return keyed_request(identity, request)[0]


def keyed_request(identity: dict[str, Any], request: ModelRequest) -> tuple[str, str]:
    """(key, canonical request JSON): the JSON is stored with the claim, so build it once."""
    text = canonical_json(request_payload(identity, request))
    return hashlib.sha256(text.encode()).hexdigest(), text


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


_RECORD_OK = (
    "UPDATE calls SET status=?, response=?, finish_reason=?, prompt_tokens=?, completion_tokens=?,"
    " latency_s=?, attempts=?, error=NULL, owner=NULL, updated_at=? WHERE key=?"
)
_RECORD_ERROR = (
    "UPDATE calls SET status='error', error=?, attempts=?, owner=NULL, updated_at=?"
    f" WHERE key=? AND status NOT IN {_FINISHED_SQL}"
)

# (kind, arguments, the claim's future or None): one write waiting for the group commit
_Queued = tuple[str, tuple[Any, ...], "asyncio.Future[bool] | None"]


def _ok_args(key: str, response: ModelResponse, attempts: int) -> tuple[Any, ...]:
    usage = response.usage
    return (
        response.outcome,
        response.text,
        response.finish_reason,
        usage.prompt_tokens,
        usage.completion_tokens,
        response.latency_s,
        attempts,
        time.time(),
        key,
    )


_ENTRY_COLUMNS = (
    "key, status, response, finish_reason, prompt_tokens, completion_tokens, latency_s,"
    " attempts, error, owner, updated_at"
)


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    (key, status, text, finish, ptok, ctok, latency, attempts, error, owner, updated) = row
    response = None
    if status in FINISHED:
        response = ModelResponse(
            text=text,
            finish_reason=finish,
            usage=Usage(prompt_tokens=ptok, completion_tokens=ctok),
            latency_s=latency,
        )
    return LedgerEntry(key, status, response, error, attempts, owner, updated)


class Ledger:
    """A SQLite call ledger. Use from one thread (the event loop's); open one per process."""

    def __init__(
        self, path: str | Path, *, lease_s: float = 900.0, read_only: bool = False, naming: Naming = flag
    ) -> None:
        """`naming`: how its errors name the setting that shares a ledger (`--cache`, `cache=`)."""
        self.path = Path(path)
        self.naming = naming
        self.owner = _owner_id()
        self.lease_s = lease_s
        self.read_only = read_only
        self._queue: list[_Queued] = []
        self._queued_keys: set[str] = set()
        self._flush_error: UserError | None = None
        if self.path.is_dir():
            raise UserError(f"{self.path}: is a directory, expected a ledger file")
        if read_only and not self.path.is_file():
            raise UserError(f"{self.path}: no such ledger file")
        _check_header(self.path)
        try:
            if read_only:
                self._db = self._open_read_only()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = self._open(deadline=time.monotonic() + 60.0)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path}: cannot open ledger: {exc}") from None
        except OSError as exc:
            raise UserError(f"{self.path}: cannot create ledger: {exc.strerror or exc}") from None

    def _open_read_only(self) -> sqlite3.Connection:
        """`mode=ro`: nothing is upgraded or written. Without a `-wal` file beside it (no writer
        is open, every answer is in the main file) the ledger is opened as immutable, so SQLite
        creates no `-wal`/`-shm` files either, and a ledger on read-only media can be read."""
        uri = self.path.resolve().as_uri()
        wal = self.path.with_name(self.path.name + "-wal")
        mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
        db = sqlite3.connect(f"{uri}?{mode}", uri=True, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout=60000")
            if _ledger_kind(db, self.path, self.naming) == "new":
                raise UserError(f"{self.path}: not a distillscope ledger (an empty SQLite file)")
        except BaseException:
            db.close()
            raise
        return db

    def _open(self, deadline: float) -> sqlite3.Connection:
        """Connect, check the file is a ledger of ours, switch to WAL and create or upgrade the schema.
        Another process opening or writing the same ledger at that moment can make the journal-mode
        switch or the schema step fail with "database is locked" without SQLite's busy handler
        waiting: `open_retrying` retries until `deadline`."""
        return open_retrying(
            lambda: sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False),
            self._set_up,
            deadline=deadline,
        )

    def _set_up(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA busy_timeout=60000")
        _ledger_kind(db, self.path, self.naming)  # refuses a foreign or newer file before anything is written
        if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            kind = _ledger_kind(db, self.path, self.naming)  # again, now that we hold the write lock
            if kind == "new":
                for statement in _SCHEMA:
                    db.execute(statement)
            elif kind == "legacy":
                _upgrade_legacy(db)
            if kind != "current":
                db.execute(
                    "INSERT OR REPLACE INTO meta (k, v) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Commit what is queued, then close. Raises `UserError` if queued answers could not be written."""
        try:
            self.flush()
        finally:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()

    # -- reads -------------------------------------------------------------------------------

    def get(self, key: str) -> LedgerEntry | None:
        if key in self._queued_keys or self._flush_error is not None:
            self.flush()  # this row has writes waiting: commit them first (other rows can wait)
        with self._reading():
            row = self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM calls WHERE key = ?", (key,)).fetchone()
        return None if row is None else _entry(row)

    def answers(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The finished (`ok`, `empty`, `filtered`) calls among `keys`, a few hundred per query."""
        self.flush()
        found: dict[str, LedgerEntry] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._reading():
                rows = self._db.execute(
                    f"SELECT {_ENTRY_COLUMNS} FROM calls WHERE status IN {_FINISHED_SQL} AND key IN ({marks})",
                    chunk,
                ).fetchall()
            for row in rows:
                found[row[0]] = _entry(row)
        return found

    def claimable(self, entry: LedgerEntry) -> bool:
        """A pending row whose owner died or whose lease ran out may be taken over."""
        if entry.status != "pending" or entry.owner == self.owner:
            return True
        if time.time() - entry.updated_at > self.lease_s:
            return True
        return not _owner_alive(entry.owner)

    def counts(self) -> dict[str, int]:
        self.flush()
        with self._reading():
            rows = self._db.execute("SELECT status, COUNT(*) FROM calls GROUP BY status").fetchall()
        return {status: n for status, n in rows}

    def iter_rows(self) -> list[dict[str, Any]]:
        self.flush()
        with self._reading():
            cur = self._db.execute(
                "SELECT key, model, stage, status, response, error, attempts, prompt_tokens, completion_tokens"
                " FROM calls ORDER BY created_at"
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- writes ------------------------------------------------------------------------------

    def claim(self, key: str, model: str, stage: str, request_json: str) -> bool:
        """Mark `key` as being called by us. False if another live process holds it or it is done."""
        self.flush()
        try:
            # Fast path, one statement and one transaction: a call nobody has made yet.
            if self._insert_claim(key, model, stage, request_json, time.time()):
                return True
            with self._transaction():
                return self._claim_in_transaction(key, model, stage, request_json, time.time())
        except sqlite3.DatabaseError as exc:
            raise _disk_error(self.path, exc) from None
        except (ValueError, OverflowError) as exc:
            raise UserError(f"{self.path}: ledger write failed: {type(exc).__name__}: {exc}") from None

    def record_ok(self, key: str, response: ModelResponse, attempts: int) -> None:
        self.flush()
        self._write(_RECORD_OK, _ok_args(key, response, attempts))

    def record_error(self, key: str, error: str, attempts: int) -> None:
        self.flush()
        self._write(_RECORD_ERROR, (error, attempts, time.time(), key))

    def release(self, key: str) -> None:
        """Give back a claim we could not finish (cancelled): the next run calls it again.

        Best effort: if the ledger is already closed or cannot be written, the row stays
        `pending` under our (soon dead) owner id, and the next run takes it over anyway."""
        if key in self._queued_keys:
            try:
                self.flush()
            except UserError as exc:
                self._flush_error = exc  # not ours to swallow: the next ledger call raises it
            except sqlite3.Error:
                pass
        with contextlib.suppress(sqlite3.Error):
            self._db.execute(
                "DELETE FROM calls WHERE key=? AND status='pending' AND owner=?", (key, self.owner)
            )

    # -- group commit (the scheduler's path) ---------------------------------------------------
    #
    # A commit costs about as much as the rest of a call's engine work, so on the event loop the
    # claims and answers of one loop turn share one transaction. A claim still commits before its
    # request is sent (its caller awaits the commit), so processes sharing a ledger never send the
    # same call twice. An answer is committed at the end of the loop turn it arrived in, instead
    # of at once: a SIGKILL in between loses only answers not yet committed (the next run asks
    # for them again); a transaction is all or nothing, so no row is ever half-written.

    async def claim_grouped(self, key: str, model: str, stage: str, request_json: str) -> bool:
        """`claim`, committed together with the other writes of this loop turn."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._enqueue(("claim", (key, model, stage, request_json), future))
        return await future

    def record_ok_grouped(self, key: str, response: ModelResponse, attempts: int) -> None:
        """`record_ok`, committed at the end of this loop turn."""
        self._enqueue(("ok", _ok_args(key, response, attempts), None))

    def record_error_grouped(self, key: str, error: str, attempts: int) -> None:
        """`record_error`, committed at the end of this loop turn."""
        self._enqueue(("error", (error, attempts, time.time(), key), None))

    def flush(self) -> None:
        """Commit the queued writes now (reads and direct writes call this first)."""
        if self._flush_error is not None:
            error, self._flush_error = self._flush_error, None
            raise error
        if not self._queue:
            return
        items, self._queue = self._queue, []
        self._queued_keys.clear()
        items = [item for item in items if item[2] is None or not item[2].done()]  # cancelled claims
        outcomes: list[bool] = []
        now = time.time()
        try:
            with self._transaction():
                for kind, args, _ in items:
                    if kind == "claim":
                        key, model, stage, request_json = args
                        outcomes.append(
                            self._insert_claim(key, model, stage, request_json, now)
                            or self._claim_in_transaction(key, model, stage, request_json, now)
                        )
                    else:
                        self._db.execute(_RECORD_OK if kind == "ok" else _RECORD_ERROR, args)
                        outcomes.append(True)
        except Exception as exc:
            # The transaction was rolled back: none of these writes is in the file. A disk error,
            # or a value SQLite cannot store (which the edges should have made safe): either way
            # the run stops with one line, and the rows stay as they were (claims not made).
            error = (
                _disk_error(self.path, exc)
                if isinstance(exc, sqlite3.DatabaseError)
                else UserError(f"{self.path}: ledger write failed: {type(exc).__name__}: {exc}")
            )
            for _, _, future in items:
                if future is not None and not future.done():
                    future.set_exception(error)
            if any(future is None for _, _, future in items):
                raise error from None  # answers were lost: stop the run and say why
            return
        # A claim's waiter can be cancelled during the commit: Ctrl-C's handler runs between any two
        # bytecodes and cancels the run's task, which cancels the future it awaits. Its row is then a
        # claim without an answer, as after a crash: the next run takes it over.
        for (_, _, future), outcome in zip(items, outcomes, strict=True):
            if future is not None and not future.done():
                future.set_result(outcome)

    def _enqueue(self, item: _Queued) -> None:
        if self._flush_error is not None:
            self.flush()  # raises it
        self._queue.append(item)
        self._queued_keys.add(item[1][0] if item[0] == "claim" else item[1][-1])
        if len(self._queue) == 1:
            asyncio.get_running_loop().call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        try:
            self.flush()
        except UserError as exc:  # no caller to raise to here: the next ledger call raises it
            self._flush_error = exc

    def _insert_claim(self, key: str, model: str, stage: str, request_json: str, now: float) -> bool:
        # a key used as a model's name is not stored (the row is keyed by the request's hash); the
        # request, which names the model, is scanned only then (a scan costs ~50 us a kilobyte)
        shown = mask_secrets(model)
        if shown != model:
            model, request_json = shown, mask_secrets(request_json)
        stage = mask_secrets(stage)
        return (
            self._db.execute(
                "INSERT INTO calls (key, model, stage, request, status, owner, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, model, stage, request_json, self.owner, now, now),
            ).rowcount
            == 1
        )

    def _claim_in_transaction(self, key: str, model: str, stage: str, request_json: str, now: float) -> bool:
        row = self._db.execute("SELECT status, owner, updated_at FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            return self._insert_claim(key, model, stage, request_json, now)
        status, owner, updated = row
        if status in FINISHED or (
            status == "pending"
            and not self.claimable(LedgerEntry(key, status, None, None, 0, owner, updated))
        ):
            return False
        self._db.execute(
            "UPDATE calls SET status='pending', owner=?, updated_at=?, stage=? WHERE key=?",
            (self.owner, now, mask_secrets(stage), key),
        )
        return True

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        try:
            self._db.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise _disk_error(self.path, exc) from None
        except (ValueError, OverflowError) as exc:  # e.g. text that is not UTF-8, an int over 64 bits
            raise UserError(f"{self.path}: ledger write failed: {type(exc).__name__}: {exc}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any exception (a value SQLite cannot
        store, a cancellation, a full disk), so the connection is never left inside a transaction
        and the next write never fails with "cannot start a transaction within a transaction"."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A read of the ledger: a page damaged since it was opened (a power cut, a bad sector, a
        hand edit) makes SQLite fail mid-run; say which file and what to do, in one line."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from None

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")


def _ledger_kind(db: sqlite3.Connection, path: Path, naming: Naming = flag) -> str:
    """ "new" (no tables yet), "legacy" (a 0.1 ledger), or "current"; a `UserError` for any other
    SQLite file (another application's, or a ledger of a newer distillscope). The three reads share
    one snapshot: another process creating the ledger could otherwise commit between them, and a
    header read before its commit beside tables read after it looks like a foreign file."""
    snapshot = not db.in_transaction
    if snapshot:
        db.execute("BEGIN")
    try:
        app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        tables = {
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        if snapshot:
            db.execute("COMMIT")
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise UserError(
                f"{path}: ledger schema version {version} was written by a newer distillscope "
                f"(this one reads up to {SCHEMA_VERSION}); upgrade distillscope or use another {naming('cache')}"
            )
        if version < SCHEMA_VERSION or not {"meta", "calls"} <= tables:
            raise UserError(f"{path}: damaged ledger (schema version {version}, tables {sorted(tables)})")
        return "current"
    if app_id == 0 and not tables and version == 0:
        return "new"
    if app_id == 0 and tables == {"meta", "calls"}:
        row = db.execute("SELECT v FROM meta WHERE k = 'schema_version'").fetchone()
        if row is not None and str(row[0]) == str(LEGACY_SCHEMA_VERSION):
            return "legacy"
    raise UserError(
        f"{path}: not a distillscope ledger (a SQLite file of another application or version); "
        "give a ledger file or a new path"
    )


def _upgrade_legacy(db: sqlite3.Connection) -> None:
    """0.1 -> 2: the status CHECK gains `empty` and `filtered` (SQLite cannot alter a CHECK: the
    table is rebuilt inside the caller's transaction, so a crash leaves the 0.1 ledger as it was)."""
    db.execute(_CALLS_TABLE.format(name="calls_v2"))
    db.execute(f"INSERT INTO calls_v2 ({_CALLS_COLUMNS}) SELECT {_CALLS_COLUMNS} FROM calls")
    db.execute("DROP TABLE calls")
    db.execute("ALTER TABLE calls_v2 RENAME TO calls")
    db.execute("CREATE INDEX IF NOT EXISTS calls_model_status ON calls (model, status)")


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def _check_header(path: Path) -> None:
    """Refuse a file that is not empty and is no SQLite database. SQLite refuses a long one ("file is
    not a database"), but takes a file shorter than its 100-byte header for a new database and writes
    a ledger over it: a one-byte notes file given as `--cache` was lost. An empty file is a new
    ledger, as SQLite makes it one (a ledger just created by another process is one too)."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return  # a new ledger
    except OSError:
        return  # not readable: the open that follows says why
    if head and head != SQLITE_HEADER:
        raise UserError(
            f"{path}: cannot open ledger: not a SQLite database (it does not begin with 'SQLite format 3'); "
            "give a ledger file or a new path"
        )


def _disk_error(path: Path, exc: sqlite3.DatabaseError) -> UserError:
    text = str(exc)
    if "full" in text.lower():
        return UserError(f"{path}: disk full while writing the ledger; free space and rerun to resume")
    if not isinstance(exc, sqlite3.OperationalError):  # e.g. "database disk image is malformed"
        return _damaged(path, exc)
    return UserError(f"{path}: ledger write failed: {text}")


def _damaged(path: Path, exc: sqlite3.DatabaseError) -> UserError:
    """The one line for a ledger SQLite cannot read any more. Nothing is repaired or deleted here:
    the finished answers in it may still be recoverable (`sqlite3 FILE .recover`)."""
    if isinstance(exc, sqlite3.OperationalError):  # I/O error, locked: not a damaged file
        return UserError(f"{path}: cannot read the ledger: {exc}")
    return UserError(
        f"{path}: the ledger is damaged ({exc}); recover it (sqlite3 {path.name} .recover) or move it "
        "aside to start afresh (its finished calls are then made again)"
    )
