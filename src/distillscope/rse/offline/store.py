"""A disk cache of sentence embeddings, shared across runs like the ledger.

One SQLite file (WAL mode) beside the run's ledger (`ledger.sqlite` -> `ledger.embeddings.sqlite`,
`--cache shared.sqlite` -> `shared.embeddings.sqlite`) maps (encoder name, BLAKE2b digest of the
text) to the float32 vector. A rerun, another run on the same answers, or `rse matrix` after
`rse run` encodes nothing it has encoded before. Vectors are written per chunk and committed at
once, so a killed run keeps what it had encoded.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    encoder TEXT NOT NULL,
    digest BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, digest)
) WITHOUT ROWID
"""
QUERY_BATCH = 500  # digests per SELECT (SQLite's variable limit is 32766; stay well below)


def store_path(ledger_path: Path) -> Path:
    """Where the embedding cache of a ledger lives."""
    return ledger_path.with_name(f"{ledger_path.stem}.embeddings.sqlite")


class EmbeddingStore:
    """get_many / put_many of float32 vectors by (encoder, digest); safe across threads."""

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

    def get_many(self, encoder: str, digests: Sequence[bytes]) -> dict[bytes, NDArray[np.float32]]:
        found: dict[bytes, NDArray[np.float32]] = {}
        with self._lock:
            for begin in range(0, len(digests), QUERY_BATCH):
                part = list(digests[begin : begin + QUERY_BATCH])
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT digest, vector FROM vectors WHERE encoder = ? AND digest IN ({marks})",
                    [encoder, *part],
                ).fetchall()
                for digest, blob in rows:
                    found[bytes(digest)] = np.frombuffer(blob, dtype=np.float32)
        self.hits += len(found)
        return found

    def put_many(self, encoder: str, digests: Sequence[bytes], vectors: NDArray[np.float32]) -> None:
        rows = [
            (encoder, d, np.asarray(v, dtype=np.float32).tobytes())
            for d, v in zip(digests, vectors, strict=True)
        ]
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
            self._db.commit()
        self.writes += len(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
