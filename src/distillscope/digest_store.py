"""A disk cache of values by (kind, BLAKE2b digest of a text), beside the ledger.

One SQLite file in WAL mode per kind of cache (`ledger.sqlite` -> `ledger.<suffix>.sqlite`, and
`--cache shared.sqlite` -> `shared.<suffix>.sqlite`). The embedding cache (rse/offline/store.py) and
the attribution feature cache (rse/attribution/featurestore.py) keep their own tables in it; each
value is written once (INSERT OR IGNORE) and committed per batch, so a killed run keeps what it had.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from distillscope.errors import UserError
from distillscope.sqlite_open import open_retrying

OPEN_TIMEOUT_S = 30.0  # SQLite's busy wait, and how long opening retries a lock conflict
QUERY_BATCH = 500  # digests per SELECT (SQLite's variable limit is 32766; stay well below)


def beside(ledger_path: Path, suffix: str) -> Path:
    """Where the `suffix` cache of a ledger lives: `ledger.sqlite` -> `ledger.<suffix>.sqlite`."""
    return ledger_path.with_name(f"{ledger_path.stem}.{suffix}.sqlite")


class DigestStore:
    """get_many / put_many of opaque blobs by (kind, digest) in one table; safe across threads.
    `table`, `kind` and `value` name the table and its columns (fixed per cache, never user input)."""

    def __init__(self, path: Path, *, table: str, kind: str, value: str) -> None:
        self.path = Path(path)
        self._select = f"SELECT digest, {value} FROM {table} WHERE {kind} = ? AND digest IN "
        self._insert = f"INSERT OR IGNORE INTO {table} VALUES (?, ?, ?)"
        self._lock = threading.Lock()
        schema = (
            f"CREATE TABLE IF NOT EXISTS {table} ({kind} TEXT NOT NULL, digest BLOB NOT NULL, "
            f"{value} BLOB NOT NULL, PRIMARY KEY ({kind}, digest)) WITHOUT ROWID"
        )

        def set_up(db: sqlite3.Connection) -> None:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(schema)
            db.commit()

        with self._guard():  # another process opening the same cache: retried as the ledger is
            self._db = open_retrying(
                lambda: sqlite3.connect(self.path, check_same_thread=False, timeout=OPEN_TIMEOUT_S),
                set_up,
                deadline=time.monotonic() + OPEN_TIMEOUT_S,
            )
        self.hits = 0
        self.writes = 0

    def get_blobs(self, kind: str, digests: Sequence[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        with self._lock:
            for begin in range(0, len(digests), QUERY_BATCH):
                chunk = list(digests[begin : begin + QUERY_BATCH])
                marks = ",".join("?" * len(chunk))
                with self._guard():
                    rows = self._db.execute(f"{self._select}({marks})", [kind, *chunk]).fetchall()
                found.update((bytes(d), bytes(v)) for d, v in rows)
        self.hits += len(found)
        return found

    def put_blobs(self, kind: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        with self._lock, self._guard():
            try:
                self._db.executemany(self._insert, [(kind, d, v) for d, v in items])
                self._db.commit()
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.rollback()
                raise
        self.writes += len(items)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite errors as one line naming the file: a cache left damaged by a power cut or a hand
        edit, or a full disk, stops the run with what to do instead of a traceback."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if "full" in str(exc).lower():
                raise UserError(
                    f"{self.path}: disk full while writing the cache; free space and rerun to resume"
                ) from None
            if isinstance(exc, sqlite3.OperationalError):
                raise UserError(f"{self.path}: cannot use the cache: {exc}") from None
            raise UserError(
                f"{self.path}: the cache is damaged ({exc}); it holds only values computed again from the "
                "answers, so delete it and rerun"
            ) from None
