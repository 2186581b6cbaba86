"""A disk cache of per-answer features, beside the ledger like the embedding cache.

One SQLite file (WAL mode): `ledger.sqlite` -> `ledger.features.sqlite` (`--cache shared.sqlite` ->
`shared.features.sqlite`). It maps (feature part, BLAKE2b digest of the answer text) to what the
part extracts from that text: the terms it counts with their counts (zlib-compressed JSON), or a
vector (float64 bytes) for the style part. A rerun, or another attribution on the same bank, extracts
nothing it has extracted before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS features (
    part TEXT NOT NULL,
    digest BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (part, digest)
) WITHOUT ROWID
"""
QUERY_BATCH = 500


def store_path(ledger_path: Path) -> Path:
    """Where the feature cache of a ledger lives."""
    return ledger_path.with_name(f"{ledger_path.stem}.features.sqlite")


class FeatureStore:
    """get_many / put_many of opaque blobs by (part, digest); safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)
        self._db.commit()
        self.hits = 0
        self.writes = 0

    def get_many(self, part: str, digests: Sequence[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        with self._lock:
            for begin in range(0, len(digests), QUERY_BATCH):
                chunk = list(digests[begin : begin + QUERY_BATCH])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT digest, value FROM features WHERE part = ? AND digest IN ({marks})",
                    [part, *chunk],
                ).fetchall()
                found.update((bytes(d), bytes(v)) for d, v in rows)
        self.hits += len(found)
        return found

    def put_many(self, part: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO features VALUES (?, ?, ?)", [(part, d, v) for d, v in items]
            )
            self._db.commit()
        self.writes += len(items)

    def close(self) -> None:
        with self._lock:
            self._db.close()
