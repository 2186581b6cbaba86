"""A disk cache of sentence embeddings, shared across runs like the ledger.

One SQLite file (WAL mode) beside the run's ledger (`ledger.sqlite` -> `ledger.embeddings.sqlite`,
`--cache shared.sqlite` -> `shared.embeddings.sqlite`) maps (encoder name, BLAKE2b digest of the
text) to the float32 vector. A rerun, another run on the same answers, or `rse matrix` after
`rse run` encodes nothing it has encoded before. Vectors are written per chunk and committed at
once, so a killed run keeps what it had encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from distillscope.digest_store import DigestStore, beside


def store_path(ledger_path: Path) -> Path:
    """Where the embedding cache of a ledger lives."""
    return beside(ledger_path, "embeddings")


class EmbeddingStore(DigestStore):
    """get_many / put_many of float32 vectors by (encoder, digest); safe across threads."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, table="vectors", kind="encoder", value="vector")

    def get_many(self, encoder: str, digests: Sequence[bytes]) -> dict[bytes, NDArray[np.float32]]:
        return {d: np.frombuffer(b, dtype=np.float32) for d, b in self.get_blobs(encoder, digests).items()}

    def put_many(self, encoder: str, digests: Sequence[bytes], vectors: NDArray[np.float32]) -> None:
        rows = [(d, np.asarray(v, dtype=np.float32).tobytes()) for d, v in zip(digests, vectors, strict=True)]
        self.put_blobs(encoder, rows)
