"""Cross-fitting: no answer is scored by a classifier trained on an answer to its prompt."""

from __future__ import annotations

import numpy as np
import pytest

from distillscope.errors import UserError
from distillscope.rse.attribution.crossfit import assign_folds, crossfit, telling_features

from .conftest import docs


def test_no_answer_is_scored_by_a_model_that_saw_its_prompt() -> None:
    family = [*docs("a1", "a", 25, 0, "a"), *docs("a2", "a", 25, 1, "a"), *docs("b1", "b", 25, 2, "b")]
    tests = [*docs("x", None, 25, 3), *docs("late", "a", 30, 4)]  # 5 prompts no family answered
    fit = crossfit(family, tests, folds=5, seed=7, repeats=3)
    assert fit.families == ["a", "b"] and fit.repeats == 3
    for r in range(fit.repeats):
        assert len(fit.train_groups[r]) == 5
        for doc in fit.docs:
            k = fit.fold(doc, r)
            assert doc.group not in fit.train_groups[r][k]  # its fold's classifier never saw its prompt
            # ...and saw every other family prompt outside that fold
            others = {d.group for d in family if fit.fold(d, r) != k}
            assert fit.train_groups[r][k] == others
        # the folds partition the prompts: each prompt in exactly one
        assert set(fit.fold_of[r]) == {d.group for d in fit.docs}
    assert fit.fold_of[0] != fit.fold_of[1]  # the repeats split the prompts differently
    assert not np.isnan(fit.probabilities).any()
    assert np.allclose(fit.probabilities.sum(axis=1), 1.0)


def test_families_are_told_apart_out_of_fold() -> None:
    family = [*docs("a1", "a", 30, 0, "a"), *docs("b1", "b", 30, 1, "b")]
    fit = crossfit(family, docs("copy", "a", 30, 2), folds=5, seed=0)
    own = fit.probabilities[: len(family)]
    labels = np.array([0 if d.family == "a" else 1 for d in family])
    assert np.mean(own.argmax(axis=1) == labels) > 0.9
    assert fit.probabilities[len(family) :, 0].mean() > 0.8  # the copy of family a


def test_folds_do_not_depend_on_order_and_keep_turns_together() -> None:
    groups = [f"g{i}" for i in range(40)]
    one = assign_folds(groups, 5, seed=3)
    two = assign_folds(list(reversed(groups)) + groups, 5, seed=3)
    assert one == two
    assert sorted(np.bincount(list(one.values()))) == [8, 8, 8, 8, 8]


def test_too_few_prompts_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="at least 2 prompts"):
        crossfit(docs("a1", "a", 1, 0, "a") + docs("b1", "b", 1, 0, "b"), [])
    with pytest.raises(UserError, match="two families"):
        crossfit(docs("a1", "a", 10, 0, "a"), [])


def test_telling_features_name_the_house_style() -> None:
    family = [*docs("a1", "a", 30, 0, "a"), *docs("b1", "b", 30, 1, "b")]
    top = telling_features(family, top=12)
    a_words = " ".join(f["feature"] for f in top["a"])
    b_words = " ".join(f["feature"] for f in top["b"])
    assert any(w in a_words for w in ("Certainly", "delve", "crucial", "summary"))
    assert any(w in b_words for w in ("Absolutely", "honestly", "basically", "conclude"))
    assert all(f["weight"] > 0 for f in top["a"] + top["b"])


def test_a_fit_started_from_another_reaches_the_same_probabilities() -> None:
    """A left-out member's folds start from the all-member fit of the same fold: same optimum, within
    the solver's tolerance, and the same folds and training prompts."""
    family = [*docs("a1", "a", 30, 0, "a"), *docs("a2", "a", 30, 1, "a"), *docs("b1", "b", 30, 2, "b")]
    full = crossfit(family, [], folds=5, seed=3, repeats=1)
    assert sorted(full.solutions) == [0, 1, 2, 3, 4]
    rest = [d for d in family if d.model != "a2"]
    own = [d for d in family if d.model == "a2"]
    cold = crossfit(rest, own, folds=5, seed=3, repeats=1)
    warm = crossfit(rest, own, folds=5, seed=3, repeats=1, start=full)
    assert warm.fold_of == cold.fold_of and warm.train_groups == cold.train_groups
    assert np.abs(warm.probabilities - cold.probabilities).max() < 0.02


def test_a_solution_maps_onto_the_columns_of_another_fold() -> None:
    from sklearn.linear_model import LogisticRegression

    from distillscope.rse.attribution.crossfit import Solution
    from distillscope.rse.attribution.features import WordCounts

    counts = WordCounts(["one two", "two three"])
    solution = Solution(counts, np.array([2, 5, 9]), ("a", "b"), np.array([[1.0, 2.0, 3.0]]), np.array([0.5]))
    model = LogisticRegression()
    solution.start(model, counts, np.array([1, 5, 9, 11]), ["a", "b"])
    assert model.warm_start is True
    assert model.coef_.tolist() == [[0.0, 2.0, 3.0, 0.0]] and model.intercept_.tolist() == [0.5]
    for other_counts, classes in ((counts, ["a", "c"]), (WordCounts(["one two"]), ["a", "b"])):
        other = LogisticRegression()  # other classes, or columns of another run's counts: no start
        solution.start(other, other_counts, np.array([5]), classes)
        assert other.warm_start is False and not hasattr(other, "coef_")
