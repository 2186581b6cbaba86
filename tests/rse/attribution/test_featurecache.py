"""Features computed once per answer: the same matrices as the plain vectorisers, kept on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from distillscope.rse.attribution import featurecache
from distillscope.rse.attribution.crossfit import crossfit
from distillscope.rse.attribution.features import FEATURE_SETS, FeatureSet, feature_names, make_vectoriser
from distillscope.rse.attribution.featurestore import FeatureStore, store_path

from .conftest import docs


def _texts() -> list[str]:
    return [d.text for m, s in (("a1", "a"), ("b1", "b"), ("n", None)) for d in docs(m, s, 20, seed=4)]


@pytest.mark.parametrize("features", FEATURE_SETS)
def test_cached_features_equal_the_plain_vectoriser(features: FeatureSet) -> None:
    texts = _texts()
    train, held = texts[:40], texts[40:]
    plain = make_vectoriser(features)
    expected, expected_held = plain.fit_transform(train), plain.transform(held)
    cache = featurecache.FeatureCache()
    with featurecache.using(cache):
        cached = make_vectoriser(features)
        got, got_held = cached.fit_transform(train), cached.transform(held)
        again = make_vectoriser(features)
        again.fit_transform(train[::2])  # another fold: nothing is analysed twice
    assert got.shape == expected.shape and got_held.shape == expected_held.shape
    assert abs(got - expected).max() < 1e-12 and abs(got_held - expected_held).max() < 1e-12
    assert feature_names(cached) == feature_names(plain)
    parts = 1 + ("char" in features) + ("style" in features)
    assert cache.extracted == parts * len(set(texts))


def test_the_store_keeps_features_across_runs(tmp_path: Path) -> None:
    texts = _texts()
    path = store_path(tmp_path / "ledger.sqlite")
    assert path.name == "ledger.features.sqlite"
    first = featurecache.FeatureCache(FeatureStore(path))
    with featurecache.using(first):
        expected = make_vectoriser("word+style").fit_transform(texts)
    store = FeatureStore(path)
    second = featurecache.FeatureCache(store)
    with featurecache.using(second):
        got = make_vectoriser("word+style").fit_transform(texts)
    assert second.extracted == 0 and store.hits == 2 * len(set(texts))
    assert abs(got - expected).max() < 1e-12


def test_crossfit_with_the_cache_gives_the_same_probabilities() -> None:
    family = [*docs("a1", "a", 15, 1, "a"), *docs("b1", "b", 15, 1, "b")]
    tests = docs("n", None, 15, 1)
    plain = crossfit(family, tests, repeats=2)
    with featurecache.using(featurecache.FeatureCache()):
        cached = crossfit(family, tests, repeats=2)
    assert np.abs(plain.probabilities - cached.probabilities).max() < 1e-6
