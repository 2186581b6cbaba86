"""The decision's statistics: calibrated p-values under the null, Holm, abstention."""

from __future__ import annotations

import numpy as np
import pytest

from distillscope.rse.attribution import stats
from distillscope.rse.attribution.analysis import attribute, attribute_model

from .conftest import docs

ALPHA = 0.05


def upper(rate: float, n: int) -> float:
    """rate + 3 binomial standard errors: what an honest level-`rate` test may reach in n trials."""
    return rate + 3 * (rate * (1 - rate) / n) ** 0.5


@pytest.mark.parametrize("n_prompts", [8, 40])
def test_sign_flip_is_calibrated_on_symmetric_leanings(n_prompts: int) -> None:
    rng = np.random.default_rng(0)
    trials = 1500
    p = [stats.sign_flip_pvalue(rng.laplace(0, 0.2, n_prompts), seed=i, flips=499) for i in range(trials)]
    rate = float(np.mean(np.array(p) < ALPHA))
    assert rate <= upper(ALPHA, trials)
    assert rate >= 0.02  # and not uselessly conservative


def test_sign_flip_has_power_against_a_lean() -> None:
    rng = np.random.default_rng(1)
    assert stats.sign_flip_pvalue(rng.normal(0.1, 0.2, 60), flips=999) < 0.01
    assert stats.sign_flip_pvalue(rng.normal(-0.1, 0.2, 60), flips=999) > 0.5
    assert stats.sign_flip_pvalue([]) == 1.0


def test_holm_and_the_decision() -> None:
    adjusted = stats.holm({"a": 0.01, "b": 0.04, "c": 0.5})
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.08, "c": 0.5})
    assert stats.decide(adjusted, 0.05) == "a"
    assert stats.decide(stats.holm({"a": 0.03, "b": 0.9}), 0.05) is None  # 0.06 after correction
    assert stats.decide({"a": 0.001, "b": 0.002}, 0.05) is None  # two winners: no single family


def test_prompt_means_average_turns_first() -> None:
    assert list(stats.prompt_means([1.0, 0.0, 0.5], ["p1", "p1", "p2"])) == [0.5, 0.5]


def test_false_positive_rate_under_a_synthetic_null() -> None:
    """Worlds where a writer mixes both families' markers equally: it is no more like either.

    Each world fits its own classifiers (so their variance is part of what is tested) and
    attributes several independent neutral writers; a prediction of any family is a false positive.
    """
    decisions: list[str | None] = []
    p_values: list[float] = []
    for world in range(16):
        family = [
            *docs(f"a1-{world}", "a", 24, world, "a"),
            *docs(f"a2-{world}", "a", 24, world + 100, "a"),
            *docs(f"b1-{world}", "b", 24, world + 200, "b"),
            *docs(f"b2-{world}", "b", 24, world + 300, "b"),
        ]
        tests = {f"x{j}": docs(f"x{j}-{world}", None, 24, world * 50 + j) for j in range(12)}
        found = attribute(family, tests, alpha=ALPHA, seed=world, folds=4, check_members=False)
        for result in found.models.values():
            decisions.append(result.resembles)
            p_values.append(result.probabilities["a"].p_value)
    n = len(decisions)
    assert sum(d is not None for d in decisions) / n <= upper(ALPHA, n)
    assert float(np.mean(np.array(p_values) < ALPHA)) <= upper(ALPHA, n)


def test_abstains_on_a_neutral_writer_and_names_a_copy() -> None:
    family = [*docs("a1", "a", 30, 0, "a"), *docs("b1", "b", 30, 1, "b"), *docs("b2", "b", 30, 2, "b")]
    found = attribute(
        family, {"copy": docs("copy", "a", 30, 3), "neutral": docs("neutral", None, 30, 4)}, alpha=ALPHA
    )
    copy, neutral = found.models["copy"], found.models["neutral"]
    assert copy.predicted == "a" and copy.significant and copy.probabilities["a"].p_holm < ALPHA
    lo, hi = copy.probabilities["a"].ci95
    assert lo is not None and hi is not None and 0.5 < lo <= copy.probabilities["a"].score <= hi
    assert neutral.resembles is None and not neutral.significant
    assert neutral.predicted == max(
        neutral.probabilities, key=lambda f: neutral.probabilities[f].score or 0.0
    )
    assert copy.n == 30 and copy.n_prompts == 30
    assert found.held_out["a"].accuracy is not None and found.held_out["a"].accuracy > 0.9


def test_one_prompt_is_one_unit_whatever_its_turns() -> None:
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])
    result = attribute_model(proba, ["p1", "p1", "p2"], ["a", "b"], alpha=ALPHA)
    assert result.n == 3 and result.n_prompts == 2
    assert result.probabilities["a"].score == pytest.approx((0.9 + 0.2) / 2)


def test_the_recorded_method_says_what_predicted_is() -> None:
    """results.json's `method.decision` said predicted is null unless one family passes Holm; the
    code names the most resembled family whatever its p (marking it `significant` or not), as the
    guides say. The record must describe the figure it sits beside."""
    from distillscope.rse.attribution.analysis import METHOD

    proba = np.array([[0.55, 0.45], [0.45, 0.55], [0.6, 0.4], [0.5, 0.5]])
    result = attribute_model(proba, ["p1", "p2", "p3", "p4"], ["a", "b"], alpha=ALPHA)
    assert result.predicted == "a" and not result.significant and result.resembles is None
    text = METHOD["decision"]
    assert "highest mean P(family)" in text and "significant" in text
    assert "null only when no prompt was scored" in text


def test_held_out_check_never_claims_certainty() -> None:
    """Every family answer classified right: the bootstrap has no spread, yet 10 prompts cannot show
    a perfect classifier; the interval is Wilson's with one trial per prompt."""
    import numpy as np

    from distillscope.rse.attribution.analysis import held_out_check
    from distillscope.rse.attribution.crossfit import CrossFit, Doc

    docs = [
        Doc(model=f"{f}{m}", group=str(g), key=str(g), text="x", family=f)
        for f in "ab"
        for m in (1, 2)
        for g in range(10)
    ]
    proba = np.array([[0.9, 0.1] if d.family == "a" else [0.2, 0.8] for d in docs])
    check = held_out_check(CrossFit(["a", "b"], docs, proba, [{str(g): g % 5 for g in range(10)}]))
    for family in "ab":
        c = check[family]
        assert c.accuracy == 1.0 and c.n == 20 and c.n_prompts == 10
        lo, hi = c.ci95
        assert hi == 1.0 and lo is not None and 0.6 < lo < 0.75  # Wilson 10/10: [0.722, 1]
