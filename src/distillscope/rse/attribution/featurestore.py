"""A disk cache of per-answer features, beside the ledger like the embedding cache.

One SQLite file (WAL mode): `ledger.sqlite` -> `ledger.features.sqlite` (`--cache shared.sqlite` ->
`shared.features.sqlite`). It maps (feature part, BLAKE2b digest of the answer text) to what the
part extracts from that text: the terms it counts with their counts (zlib-compressed JSON), or a
vector (float64 bytes) for the style part. A rerun, or another attribution on the same bank, extracts
nothing it has extracted before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from distillscope.digest_store import DigestStore, beside


def store_path(ledger_path: Path) -> Path:
    """Where the feature cache of a ledger lives."""
    return beside(ledger_path, "features")


class FeatureStore(DigestStore):
    """get_many / put_many of opaque blobs by (part, digest); safe across threads."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, table="features", kind="part", value="value")

    def get_many(self, part: str, digests: Sequence[bytes]) -> dict[bytes, bytes]:
        return self.get_blobs(part, digests)

    def put_many(self, part: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        self.put_blobs(part, items)
