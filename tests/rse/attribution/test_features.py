"""The run-wide token counts give exactly what the "word" vectoriser fitted per fold gives."""

from __future__ import annotations

import random

import numpy as np

from distillscope.rse.attribution.features import WordCounts, make_vectoriser

from .conftest import answer, prompts


def test_word_counts_fold_equals_the_vectoriser_fitted_on_the_fold() -> None:
    rng = random.Random(4)
    texts = [answer(rng, topic, style) for topic in prompts(30) for style in ("a", "b", None)]
    train = [i for i in range(len(texts)) if i % 4]
    scored = [i for i in range(len(texts)) if not i % 4]
    vectoriser = make_vectoriser("word")
    expected_train = vectoriser.fit_transform([texts[i] for i in train])
    expected_scored = vectoriser.transform([texts[i] for i in scored])
    fold = WordCounts(texts).fold(train)
    assert fold.names() == [f"word:{n}" for n in vectoriser.transformer_list[0][1].get_feature_names_out()]
    assert np.allclose(fold.rows(train).toarray(), expected_train.toarray(), atol=1e-12)
    assert np.allclose(fold.rows(scored).toarray(), expected_scored.toarray(), atol=1e-12)


def test_word_counts_fold_keeps_the_most_frequent_terms_as_the_vectoriser_does() -> None:
    rng = random.Random(5)
    texts = [answer(rng, topic, style) for topic in prompts(30) for style in ("a", "b", None)]
    train = [i for i in range(len(texts)) if i % 3]
    vectoriser = make_vectoriser("word").set_params(word__max_features=40)
    expected = vectoriser.fit_transform([texts[i] for i in train])
    fold = WordCounts(texts).fold(train, max_features=40)
    assert len(fold.names()) == 40
    assert fold.names() == [f"word:{n}" for n in vectoriser.transformer_list[0][1].get_feature_names_out()]
    assert np.allclose(fold.rows(train).toarray(), expected.toarray(), atol=1e-12)
