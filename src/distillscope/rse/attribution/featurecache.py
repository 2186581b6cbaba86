"""Features computed once per answer, however many classifiers are fitted on it.

Cross-fitting fits a classifier per fold and repeat, and once more per family member left out:
a 15-model bank is a few hundred fits, and a plain `TfidfVectorizer` tokenises every answer again
for each. Here each TF-IDF part's analyser (the very one the vectoriser would use) runs once per
distinct answer text: its term counts are kept as a row of global term ids, and a fold's matrix is
those rows, restricted to the terms its training answers contain (sorted by term, `min_df` and
`max_features` as scikit-learn applies them) and weighted by scikit-learn's own `TfidfTransformer`.
So the features are those of the plain vectoriser, computed once. The style part's vectors are
kept the same way.

With a `FeatureStore` (beside the ledger) the extracted counts and vectors also persist across runs,
keyed by the part's configuration and the BLAKE2b digest of the answer text.

`using(cache)` makes a cache active for the calls inside it (`features.make_vectoriser` picks it
up); without one, the plain vectorisers run as before.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from distillscope.rse.attribution.featurestore import FeatureStore

_ACTIVE: ContextVar[FeatureCache | None] = ContextVar("distillscope_feature_cache", default=None)
VERSION = "1"


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def part_key(name: str, vectoriser: Any) -> str:
    """What a TF-IDF part extracts, as a cache key: its analyser's settings (not its weighting)."""
    tokenizer = vectoriser.tokenizer
    settings = {
        "analyzer": vectoriser.analyzer
        if isinstance(vectoriser.analyzer, str)
        else repr(vectoriser.analyzer),
        "ngram_range": list(vectoriser.ngram_range),
        "lowercase": vectoriser.lowercase,
        "tokenizer": None if tokenizer is None else f"{tokenizer.__module__}.{tokenizer.__qualname__}",
        "token_pattern": vectoriser.token_pattern,
    }
    return f"{name}:v{VERSION}:{json.dumps(settings, sort_keys=True)}"


class FeatureCache:
    """Per answer text: term-count rows (per TF-IDF part) and vectors (per vector part)."""

    def __init__(self, store: FeatureStore | None = None) -> None:
        self.store = store
        self._ids: dict[str, dict[str, int]] = {}
        self._terms: dict[str, list[str]] = {}
        self._rows: dict[str, dict[bytes, tuple[NDArray[np.int32], NDArray[np.float64]]]] = {}
        self._vectors: dict[str, dict[bytes, NDArray[np.float64]]] = {}
        self.extracted = 0  # texts analysed here (not found in memory or the store)

    def terms(self, part: str) -> list[str]:
        return self._terms.setdefault(part, [])

    def _row(self, part: str, counts: dict[str, int]) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        ids, terms = self._ids.setdefault(part, {}), self.terms(part)
        pairs = []
        for term, count in counts.items():
            index = ids.get(term)
            if index is None:
                index = ids[term] = len(terms)
                terms.append(term)
            pairs.append((index, count))
        pairs.sort()
        return np.array([p[0] for p in pairs], dtype=np.int32), np.array(
            [p[1] for p in pairs], dtype=np.float64
        )

    def counts(
        self, part: str, analyse: Callable[[str], list[str]], texts: Sequence[str]
    ) -> sparse.csr_matrix:
        """The term counts of `texts` as rows over the part's global term ids."""
        rows = self._rows.setdefault(part, {})
        keys = [digest(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in rows))
        if missing:
            stored = self.store.get_many(part, missing) if self.store is not None else {}
            for key, blob in stored.items():
                rows[key] = self._row(part, dict(json.loads(zlib.decompress(blob))))
            new: list[tuple[bytes, bytes]] = []
            text_of = dict(zip(keys, texts, strict=True))
            for key in missing:
                if key in rows:
                    continue
                counts = Counter(analyse(text_of[key]))
                rows[key] = self._row(part, counts)
                self.extracted += 1
                if self.store is not None:
                    blob = zlib.compress(json.dumps(list(counts.items()), ensure_ascii=False).encode("utf-8"))
                    new.append((key, blob))
            if new and self.store is not None:
                self.store.put_many(part, new)
        picked = [rows[k] for k in keys]
        lengths = np.array([len(ids) for ids, _ in picked], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate([ids for ids, _ in picked]) if picked else np.zeros(0, np.int32)
        data = np.concatenate([c for _, c in picked]) if picked else np.zeros(0)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(texts), len(self.terms(part))))

    def vectors(
        self, part: str, compute: Callable[[str], NDArray[np.float64]], texts: Sequence[str]
    ) -> NDArray[np.float64]:
        """One vector per text (the style profile), computed once per text."""
        found = self._vectors.setdefault(part, {})
        keys = [digest(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            stored = self.store.get_many(part, missing) if self.store is not None else {}
            for key, blob in stored.items():
                found[key] = np.frombuffer(blob, dtype=np.float64)
            text_of = dict(zip(keys, texts, strict=True))
            new = []
            for key in missing:
                if key not in found:
                    found[key] = np.asarray(compute(text_of[key]), dtype=np.float64)
                    self.extracted += 1
                    new.append((key, found[key].tobytes()))
            if new and self.store is not None:
                self.store.put_many(part, new)
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0))


class CachedTfidf(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A `TfidfVectorizer` whose analysing is done once per text, by a `FeatureCache`."""

    def __init__(self, vectoriser: Any, part: str, cache: FeatureCache) -> None:
        self.vectoriser = vectoriser
        self.part = part
        self.cache = cache

    def _counts(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.cache.counts(self.part, self.vectoriser.build_analyzer(), list(texts))

    def fit_transform(self, texts: Sequence[str], y: Any = None) -> sparse.csr_matrix:
        from sklearn.feature_extraction.text import TfidfTransformer

        v = self.vectoriser
        counts = self._counts(texts)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        terms = self.cache.terms(self.part)
        present = sorted(np.flatnonzero(df).tolist(), key=terms.__getitem__)  # scikit-learn's term order
        ordered = np.array(present, dtype=np.int64)
        n_doc = counts.shape[0]
        low = v.min_df if isinstance(v.min_df, int) else v.min_df * n_doc
        high = v.max_df if isinstance(v.max_df, int) else v.max_df * n_doc
        mask = (df[ordered] >= low) & (df[ordered] <= high)
        if v.max_features is not None and mask.sum() > v.max_features:
            tfs = np.asarray(counts[:, ordered].sum(axis=0)).ravel()
            best = (-tfs[mask]).argsort()[: v.max_features]
            limited = np.zeros(len(ordered), dtype=bool)
            limited[np.where(mask)[0][best]] = True
            mask = limited
        self.columns_ = ordered[mask]
        if not len(self.columns_):
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        self.tfidf_ = TfidfTransformer(
            norm=v.norm, use_idf=v.use_idf, smooth_idf=v.smooth_idf, sublinear_tf=v.sublinear_tf
        )
        kept = self._select(counts)
        self.tfidf_.fit(kept)
        return sparse.csr_matrix(self.tfidf_.transform(kept, copy=False))

    def fit(self, texts: Sequence[str], y: Any = None) -> CachedTfidf:
        self.fit_transform(texts)
        return self

    def _select(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        kept = sparse.csr_matrix(counts[:, self.columns_])
        kept.sort_indices()
        return kept

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.tfidf_.transform(self._select(self._counts(texts)), copy=False))

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[np.object_]:
        terms = self.cache.terms(self.part)
        return np.array([terms[i] for i in self.columns_], dtype=object)


def active() -> FeatureCache | None:
    """The feature cache of the calls in progress, if any."""
    return _ACTIVE.get()


@contextmanager
def using(cache: FeatureCache) -> Iterator[FeatureCache]:
    """Make `cache` the active one inside the block."""
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
