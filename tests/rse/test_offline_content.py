"""Content: lexical overlap (always) and the embedded sentence encoder (with the embed extra)."""

from __future__ import annotations

import numpy as np
import pytest

from distillscope.rse.offline import embed
from distillscope.rse.offline.content import lexical_similarity, ngram_counts, tokens

needs_embed = pytest.mark.skipif(
    not embed.available(), reason="embed extra not installed (distillscope[embed])"
)


def counts(text: str) -> tuple:
    return ngram_counts(tokens(text))


def test_lexical_overlap_bounds_and_order() -> None:
    a = "The mitochondria is the powerhouse of the cell."
    assert lexical_similarity(counts(a), counts(a)) == 1.0
    close = lexical_similarity(counts(a), counts("The mitochondria is the power plant of a cell."))
    far = lexical_similarity(counts(a), counts("Quarterly revenue grew by four percent."))
    assert 0.3 < close < 1.0
    assert far == 0.0


def test_chinese_is_tokenised_by_character() -> None:
    assert tokens("北京是中国的首都") == list("北京是中国的首都")
    sim = lexical_similarity(counts("北京是中国的首都"), counts("北京是中华人民共和国的首都"))
    assert 0.4 < sim < 1.0


@needs_embed
def test_encoder_caches_each_distinct_text_once() -> None:
    encoder = embed.Encoder(batch_size=8)
    texts = ["a cat sat on the mat", "the stock market fell", "a cat sat on the mat"]
    first = encoder.encode(texts)
    assert first.shape == (3, 384)
    assert encoder.encoded == 2
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    again = encoder.encode(["the stock market fell"])
    assert encoder.encoded == 2  # served from the cache
    np.testing.assert_array_equal(again[0], first[1])
    assert float(first[0] @ first[1]) < 0.4


@needs_embed
def test_model_loads_from_the_wheel_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert (embed.model_dir() / "config.json").is_file()
    vectors = embed.shared_encoder().encode(["How do I bake bread?", "Bread baking instructions"])
    assert float(vectors[0] @ vectors[1]) > 0.5


def test_torch_threads_default_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv(embed.THREADS_ENV, "3")
    assert embed.torch_threads() == 3
    monkeypatch.delenv(embed.THREADS_ENV)
    assert 1 <= (embed.torch_threads() or 0) <= 4
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert embed.torch_threads() is None  # torch reads OMP_NUM_THREADS itself


@needs_embed
def test_encoder_chunks_and_grows_its_matrix_without_changing_vectors() -> None:
    texts = [f"sentence number {k} about topic {k % 7}" for k in range(9)]
    whole = embed.Encoder(batch_size=8).encode(texts)
    small = embed.Encoder(batch_size=8, chunk=2)
    small._vectors = np.zeros((1, 384), dtype=np.float32)  # force the cache matrix to grow
    parts = np.vstack([small.encode(texts[:4]), small.encode(texts[4:])])
    assert small.encoded == 9
    np.testing.assert_allclose(parts, whole, atol=1e-6)
    np.testing.assert_array_equal(small.encode(texts[::-1]), parts[::-1])  # served from the cache
