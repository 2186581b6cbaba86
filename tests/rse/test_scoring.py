"""Score summaries: means with intervals, the dataset average, paired differences, clustering."""

from __future__ import annotations

import pytest

from distillscope.rse.matrix import cluster
from distillscope.rse.responses import prompt_of, turn_key
from distillscope.rse.scoring import (
    Judgment,
    dataset_summary,
    model_summary,
    paired_comparisons,
    stratified_mean,
)
from distillscope.rse.types import AspectScores


def judged(model: str, dataset: str, key: str, value: float, style: float | None = None) -> Judgment:
    s = style if style is not None else value
    scores = AspectScores(style=s, logic=value, content=value, overall=(s + 2 * value) / 3)
    return Judgment(model, dataset, key, "judged", "test", scores)


def test_dataset_summary_skips_missing_and_unjudged() -> None:
    rows = [judged("m", "d", str(i), v) for i, v in enumerate([2.0, 3.0, 4.0])]
    rows += [Judgment("m", "d", "x", "missing", "test"), Judgment("m", "d", "y", "unjudged", "test")]
    summary = dataset_summary(rows)
    assert summary["score"] == 3.0 and summary["n"] == 3
    assert summary["n_missing"] == 1 and summary["n_unjudged"] == 1
    lo, hi = summary["ci95"]
    # three prompts: Student's t ([0.52, 5.48]), wider than their range, cut to the 1-5 scale
    assert (lo, hi) == (1.0, 5.0)
    assert set(summary["aspects"]) == {"style", "logic", "content"}


def test_average_weighs_datasets_equally() -> None:
    rows = [judged("m", "big", str(i), 5.0) for i in range(30)] + [
        judged("m", "small", "0", 1.0),
        judged("m", "small", "1", 1.0),
    ]
    summary = model_summary(rows, ["big", "small"])
    assert summary["avg"]["score"] == 3.0 and summary["avg"]["n"] == 32 and summary["avg"]["datasets"] == 2
    assert summary["datasets"]["big"]["score"] == 5.0
    # no spread within either dataset: each dataset's distribution-free interval at 1.25% a side, averaged
    # (the small dataset's 2 prompts leave its mean anywhere up to 4.55)
    big, small = 1 - 0.0125 ** (1 / 30), 1 - 0.0125 ** (1 / 2)
    assert summary["avg"]["ci95"] == pytest.approx([(5 - 4 * big + 1) / 2, (5 + 1 + 4 * small) / 2], abs=1e-6)


def test_stratified_mean_interval_covers_the_mean() -> None:
    result = stratified_mean([[1.0, 2.0, 3.0, 4.0], [2.0, 5.0]], seed=1)
    assert result["score"] == pytest.approx((2.5 + 3.5) / 2)
    assert result["ci95"][0] < result["score"] < result["ci95"][1]
    assert stratified_mean([])["score"] is None


def test_paired_uses_only_prompts_both_models_had_judged() -> None:
    a = [judged("a", "d", str(i), 4.0) for i in range(5)]
    b = [judged("b", "d", str(i), 3.0) for i in range(4)] + [Judgment("b", "d", "4", "missing", "test")]
    (pair,) = paired_comparisons({"a": a, "b": b}, ["d"])
    assert (pair["a"], pair["b"]) == ("a", "b")
    assert pair["datasets"]["d"]["score"] == 1.0 and pair["datasets"]["d"]["n"] == 4
    assert pair["avg"]["score"] == 1.0


def test_cluster_groups_similar_models() -> None:
    scores = [
        [5.0, 4.8, 2.0, 2.1],
        [4.8, 5.0, 2.2, 2.0],
        [2.0, 2.2, 5.0, 4.5],
        [2.1, 2.0, 4.5, 5.0],
    ]
    link, order = cluster(scores)
    assert link is not None and len(link) == 3
    assert {frozenset(order[:2]), frozenset(order[2:])} == {frozenset({0, 1}), frozenset({2, 3})}
    assert cluster([[5.0]]) == (None, [0])


def _turn(model: str, key: str, turn: int, value: float) -> Judgment:
    j = judged(model, "mt", turn_key(key, turn), value)
    j.turn = turn
    return j


def test_multi_turn_prompts_resample_prompts_not_turns() -> None:
    """A two-turn prompt gives two judged pairs (keys "3" and "3#t2"): every score counts both, and
    every interval resamples the prompts, since a prompt's two turns are not independent answers."""
    a = [_turn("a", str(i), t, 4.0 + (i % 3) + t) for i in range(6) for t in (1, 2)]
    b = [_turn("b", str(i), t, 3.0 + (i % 2)) for i in range(6) for t in (1, 2)]
    (pair,) = paired_comparisons({"a": a, "b": b}, ["mt"])
    diffs = [x.value("overall") - y.value("overall") for x, y in zip(a, b, strict=True)]
    assert pair["datasets"]["mt"]["n"] == 12 and pair["datasets"]["mt"]["n_prompts"] == 6
    assert pair["datasets"]["mt"]["score"] == pytest.approx(sum(diffs) / len(diffs), abs=1e-6)
    assert pair["avg"]["n"] == 12 and pair["avg"]["n_prompts"] == 6
    summary = model_summary(a, ["mt"])
    assert summary["datasets"]["mt"]["n_prompts"] == 6 and summary["avg"]["n_prompts"] == 6
    assert "n_prompts" not in model_summary([judged("m", "mt", str(i), i) for i in range(4)], ["mt"])["avg"]
    assert prompt_of("3#t2") == prompt_of("3") == "3" and prompt_of("a#tx") == "a#tx"


def test_a_dataset_of_one_prompt_leaves_the_average_an_interval_over_its_range() -> None:
    """A dataset scored on one prompt enters every bootstrap replicate at its one value, so the
    average's interval would leave out its uncertainty. The average got no interval at all: one
    MT-bench prompt beside 13 others left `rse run`'s average, its paired differences and every
    `rse matrix` cell intervalless. Its mean cannot leave 1-5, so the interval is the other
    datasets' with that one anywhere in 1-5: never too narrow, and a number the table can show."""
    rows = [judged("m", "big", str(i), 4.0) for i in range(10)] + [judged("m", "one", "0", 2.0)]
    avg = model_summary(rows, ["big", "one"])["avg"]
    share = 1 - 0.025 ** (1 / 10)  # the big dataset's ten equal ratings: `no_spread`'s interval
    assert avg["score"] == 3.0 and avg["n"] == 11
    assert avg["ci95"] == [
        pytest.approx((4 - share * 3 + 1) / 2, abs=1e-6),
        pytest.approx((4 + share * 1 + 5) / 2, abs=1e-6),
    ]
    spread = stratified_mean([[1.0, 2.0, 3.0, 2.0, 4.0, 3.0], [5.0]], seed=2, bounds=(1.0, 5.0))
    part = stratified_mean([[1.0, 2.0, 3.0, 2.0, 4.0, 3.0]], seed=2, bounds=(1.0, 5.0))["ci95"]
    assert spread["ci95"] == [pytest.approx((part[0] + 1) / 2), pytest.approx((part[1] + 5) / 2)]
    # no range to fall back on: no interval, never a too-narrow one
    assert stratified_mean([[1.0, 2.0, 3.0], [5.0]])["ci95"] == [None, None]
    assert stratified_mean([[2.0], [4.0]])["ci95"] == [None, None]
    # no dataset of two prompts: each one-prompt dataset 98.75% of the way to either bound (2.5%/2 a side)
    both = stratified_mean([[2.0], [4.0]], bounds=(1.0, 5.0))["ci95"]
    assert both == [
        pytest.approx((2 - 0.9875 * 1 + 4 - 0.9875 * 3) / 2),
        pytest.approx((2 + 0.9875 * 3 + 4 + 0.9875) / 2),
    ]
    turns = stratified_mean([[2.0, 4.0]], clusters=[["p", "p"]], bounds=(1.0, 5.0))["ci95"]
    assert turns == [pytest.approx(3 - 0.975 * 2), pytest.approx(3 + 0.975 * 2)]
    spread2 = stratified_mean([[1.0, 2.0, 3.0], [2.0, 5.0]], seed=2)["ci95"]
    assert spread2[0] is not None and spread2[1] is not None and spread2[0] < spread2[1]


def test_an_average_over_few_prompts_has_welchs_t_interval() -> None:
    """Five prompts over two datasets are too few for a percentile interval: the average of the two
    dataset means gets Student's t with Welch-Satterthwaite degrees of freedom (checked by hand)."""
    from scipy import stats

    big, small = [1.0, 2.0, 4.0], [2.0, 5.0]
    v = [stats.tvar(g) / len(g) for g in (big, small)]
    df = sum(v) ** 2 / sum(x * x / (len(g) - 1) for x, g in zip(v, (big, small), strict=True))
    half = stats.t.ppf(0.975, df) * sum(v) ** 0.5 / 2
    centre = (sum(big) / 3 + sum(small) / 2) / 2
    result = stratified_mean([big, small], seed=2)
    assert result["ci95"] == [pytest.approx(centre - half, abs=1e-6), pytest.approx(centre + half, abs=1e-6)]


@pytest.mark.parametrize("scale", [1e-160, 1e-100])
def test_welchs_interval_of_a_tiny_spread_is_no_division_by_zero(scale: float) -> None:
    """Welch's degrees of freedom squared each dataset's variance: under 1e-154 the squares are 0, and
    the division raised ZeroDivisionError."""
    assert stratified_mean([[0.0, 1.0 * scale], [0.0, 3.0 * scale]])["ci95"] == [0.0, 0.0]  # (6 digits)


@pytest.mark.parametrize(
    "groups",
    [
        [[0.0, 1e160], [0.0, 3e160]],
        [[1.0, float("nan")], [2.0, 4.0]],
        [[1.0, 2.0, 3.0], [1.0, 2.0, float("inf")]],
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns of the overflow it is fed
def test_an_interval_that_is_not_finite_is_none(groups: list[list[float]]) -> None:
    """A spread past 1e154 (its square overflows) or a value that is not finite gave [NaN, NaN], written
    to results.json as numbers (NaN), which no JSON reader of ours accepts back."""
    assert stratified_mean(groups)["ci95"] == [None, None]
