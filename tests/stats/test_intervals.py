import numpy as np
import pytest

from distillscope.stats.intervals import (
    bootstrap_mean,
    mean_summary,
    paired_difference,
    percentile_levels,
    proportion,
    wilson,
)


def test_wilson_matches_known_values() -> None:
    lo, hi = wilson(418, 1000)
    assert lo == pytest.approx(0.3878, abs=1e-3) and hi == pytest.approx(0.4488, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


def test_proportion_shape() -> None:
    p = proportion(3, 10)
    assert p["score"] == 0.3 and p["count"] == 3 and p["n"] == 10
    lo, hi = p["ci95"]  # type: ignore[misc]
    assert lo < 0.3 < hi


def test_bootstrap_is_seeded_and_covers_mean() -> None:
    values = [1, 2, 3, 4, 5, 4, 3, 2, 5, 5]
    a = bootstrap_mean(values, seed=1)
    assert a == bootstrap_mean(values, seed=1)
    mean, (lo, hi) = a
    assert lo is not None and hi is not None and lo < mean < hi  # type: ignore[operator]
    assert mean_summary([])["score"] is None


def test_paired_difference() -> None:
    d = paired_difference([5, 5, 4, 5], [1, 2, 1, 2])
    assert d["score"] == pytest.approx(3.25) and d["n"] == 4
    with pytest.raises(ValueError):
        paired_difference([1], [1, 2])


def test_bootstrap_drawn_in_blocks_gives_the_same_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    import distillscope.stats.intervals as intervals

    values = [((i * 37) % 101) / 10 for i in range(1001)]
    whole = bootstrap_mean(values, seed=4)
    monkeypatch.setattr(intervals, "BLOCK_ELEMENTS", 3 * 1001 + 5)  # blocks of 3 resamples
    assert bootstrap_mean(values, seed=4) == whole


def test_a_prompts_turns_are_resampled_together() -> None:
    """Two identical turns per prompt carry no more evidence than one: the cluster interval is the
    one-turn interval, where resampling turns as independent answers would make it narrower."""
    one_turn = [1.0, 2.0, 4.0, 5.0, 3.0, 2.0, 5.0, 1.0]
    two_turns = [v for v in one_turn for _ in range(2)]
    prompts = [str(i) for i in range(len(one_turn)) for _ in range(2)]
    clustered = mean_summary(two_turns, seed=3, clusters=prompts)
    single = mean_summary(one_turn, seed=3)
    assert clustered["ci95"] == single["ci95"] and clustered["score"] == single["score"]
    assert clustered["n"] == 16 and clustered["n_prompts"] == 8
    naive = mean_summary(two_turns, seed=3)
    width = [s["ci95"][1] - s["ci95"][0] for s in (clustered, naive)]  # type: ignore[operator]
    assert width[1] < width[0]


def test_one_turn_per_prompt_keeps_the_plain_bootstrap() -> None:
    values = [1.0, 2.0, 4.0, 5.0, 3.0]
    assert mean_summary(values, seed=1, clusters=list("abcde")) == mean_summary(values, seed=1)
    with pytest.raises(ValueError, match="one cluster per value"):
        mean_summary(values, clusters=["a"])


def test_one_value_or_one_prompt_gives_no_interval() -> None:
    """Resampling one value (or one prompt's turns) returns it every time: the bootstrap's [x, x]
    is no 95% interval, and printed as one it would claim certainty from a single answer."""
    assert bootstrap_mean([3.0]) == (3.0, (None, None))
    one = mean_summary([3.0])
    assert one["score"] == 3.0 and one["n"] == 1 and one["ci95"] == [None, None]
    turns = mean_summary([2.0, 4.0], clusters=["p", "p"])
    assert turns["score"] == 3.0 and turns["n"] == 2 and turns["n_prompts"] == 1
    assert turns["ci95"] == [None, None]
    two = mean_summary([2.0, 4.0], seed=1)
    lo, hi = two["ci95"]  # type: ignore[misc]
    assert lo < 3.0 < hi  # two values do spread


def test_one_value_in_a_known_range_gets_the_distribution_free_interval() -> None:
    """One rating of 3 on 1-5: `no_spread`'s interval with n = 1, 97.5% of the way to each bound.
    Whatever the population, the one draw lands where this interval misses the mean from either side
    with probability under 2.5% (checked exactly on two-point populations below)."""
    assert bootstrap_mean([3.0], bounds=(1.0, 5.0)) == (3.0, (pytest.approx(1.05), pytest.approx(4.95)))
    assert mean_summary([3.0], bounds=(1.0, 5.0))["ci95"] == [1.05, 4.95]
    turns = mean_summary([2.0, 4.0], clusters=["p", "p"], bounds=(1.0, 5.0))
    assert turns["ci95"] == [1.05, 4.95] and turns["n_prompts"] == 1
    assert mean_summary([5.0], bounds=(1.0, 5.0))["ci95"] == [1.1, 5.0]  # cut to the range
    # exact miss probability: population {a w.p. 1 - q, b w.p. q} on [0, 1]
    for a, b in ((0.0, 1.0), (0.2, 0.9), (0.5, 0.51)):
        for q in np.linspace(0.0, 1.0, 201):
            mean = (1 - q) * a + q * b
            missed = 0.0
            for value, weight in ((a, 1 - q), (b, q)):
                lo, hi = bootstrap_mean([value], bounds=(0.0, 1.0))[1]
                assert lo is not None and hi is not None
                missed += weight * (not lo <= mean <= hi)
            assert missed <= 0.05 + 1e-12


def test_expanded_levels_allow_for_few_prompts_and_tend_to_the_plain_ones() -> None:
    """Hesterberg's expanded percentile levels, Phi(-sqrt(n/(n-1)) t(0.975, n-1)), checked by hand
    with scipy.stats: wider for few units, the plain 2.5% / 97.5% for many."""
    from scipy import stats

    for n in (6, 10, 80, 1000):
        low, high = percentile_levels(n)
        expected = stats.norm.cdf(-((n / (n - 1)) ** 0.5) * stats.t.ppf(0.975, n - 1))
        assert low == pytest.approx(expected, rel=1e-9) and high == pytest.approx(1 - expected, rel=1e-9)
    assert percentile_levels(80)[0] == pytest.approx(0.0226, abs=1e-4)
    assert percentile_levels(10)[0] == pytest.approx(0.0086, abs=1e-4)
    assert percentile_levels(10**6)[0] == pytest.approx(0.025, abs=1e-4)


def test_below_six_values_the_interval_is_students_t() -> None:
    """With 5 values no percentile interval reaches 95% (it stays within their range, which holds the
    median with probability 1 - 2**-4); the t interval is scipy's and reaches past the values."""
    from scipy import stats

    values = [2.0, 3.0, 3.0, 4.0, 5.0]
    lo, hi = mean_summary(values)["ci95"]  # type: ignore[misc]
    t_lo, t_hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert (lo, hi) == (pytest.approx(t_lo, abs=1e-6), pytest.approx(t_hi, abs=1e-6))
    assert lo < min(values) + 0.5 and hi > 4.0


def test_a_few_prompts_turns_give_the_t_interval_of_the_prompts_means() -> None:
    """Equal turns per prompt: the ratio estimator's t interval is the t interval of the prompt means."""
    from scipy import stats

    turns = [1.0, 2.0, 4.0, 4.0, 3.0, 5.0, 2.0, 2.0]
    prompts = ["a", "a", "b", "b", "c", "c", "d", "d"]
    means = [1.5, 4.0, 4.0, 2.0]
    summary = mean_summary(turns, clusters=prompts)
    t_lo, t_hi = stats.t.interval(0.95, 3, loc=np.mean(means), scale=stats.sem(means))
    assert summary["ci95"] == [pytest.approx(t_lo, abs=1e-6), pytest.approx(t_hi, abs=1e-6)]
    assert summary["n_prompts"] == 4


@pytest.mark.parametrize("n", [5, 10])
def test_the_intervals_cover_about_95_percent_of_normal_means(n: int) -> None:
    """Simulated coverage (1,000 samples of n normal values): the interval given covers the true mean
    about 95% of the time, where the plain percentile interval covered ~84% (n = 5) and ~90% (n = 10)."""
    rng = np.random.default_rng(7)
    samples = rng.normal(3.0, 1.0, size=(1000, n))
    covered = 0
    for i, sample in enumerate(samples):
        lo, hi = mean_summary(list(sample), seed=i)["ci95"]  # type: ignore[misc]
        covered += lo <= 3.0 <= hi
    assert 0.92 <= covered / len(samples) <= 0.98


@pytest.mark.parametrize(
    ("values", "clusters"),
    [
        ([1.0, float("nan"), 3.0], None),  # Student's t
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, float("inf")], None),  # percentile
        ([1e308, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], list("aabbcde")),  # t over 5 prompts: the spread overflows
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns of the overflow it is fed
def test_an_interval_that_is_not_finite_is_none(values: list[float], clusters: list[str] | None) -> None:
    """NaN, inf or a spread past 1e154 gave [NaN, NaN], [NaN, 4.86] or [-inf, inf]: numbers in results.json
    that no JSON reader of ours accepts back, and an 'interval' not containing its point."""
    assert mean_summary(values, clusters=clusters)["ci95"] == [None, None]
    assert bootstrap_mean(values)[1] == (None, None)


def test_an_interval_is_cut_to_the_range_its_mean_cannot_leave() -> None:
    """Three ratings of 1-5: Student's t reaches past the scale; cut to it, it loses no coverage."""
    wide = mean_summary([2.0, 3.0, 4.0])["ci95"]
    cut = mean_summary([2.0, 3.0, 4.0], bounds=(1.0, 5.0))["ci95"]
    assert wide[0] < 1.0 and wide[1] > 5.0 and cut == [1.0, 5.0]  # type: ignore[index,operator]
    many = [1.0, 2.0, 2.0, 3.0, 4.0, 3.0, 2.0, 5.0]  # within the range already: unchanged
    assert mean_summary(many, bounds=(1.0, 5.0)) == mean_summary(many)
    assert bootstrap_mean([0.1, 0.2, 0.05], bounds=(0.0, 1.0))[1][0] == 0.0


def test_equal_values_give_the_distribution_free_interval_not_certainty() -> None:
    """Five ratings of 3 gave [3, 3]: the bootstrap has nothing to resample. Where the scale is known,
    the interval is the one for a sample that has seen no other value (share q = 1 - 0.025**(1/n) of
    the way to either bound), and it narrows as the equal values grow in number."""
    share = 1 - 0.025 ** (1 / 5)
    _, (lo, hi) = bootstrap_mean([3.0] * 5, bounds=(1.0, 5.0))
    assert (lo, hi) == pytest.approx((3 - 2 * share, 3 + 2 * share))
    share80 = 1 - 0.025 ** (1 / 80)
    assert mean_summary([3.0] * 80, bounds=(1.0, 5.0))["ci95"] == pytest.approx(
        [3 - 2 * share80, 3 + 2 * share80]
    )
    assert share80 == pytest.approx(0.045, abs=5e-4)  # about the rule of three's 3.7 / n
    # at a bound the interval reaches away from it only
    assert mean_summary([5.0] * 10, bounds=(1.0, 5.0))["ci95"][1] == 5.0  # type: ignore[index]
    # a prompt's turns all equal: the same rule over prompts, not answers
    turns = mean_summary([4.0] * 12, clusters=[str(i // 2) for i in range(12)], bounds=(1.0, 5.0))
    assert turns["ci95"] == mean_summary([4.0] * 6, bounds=(1.0, 5.0))["ci95"]
    # with no known range there is nothing to reach towards: unchanged
    assert bootstrap_mean([3.0] * 5)[1] == (3.0, 3.0)


def test_the_equal_values_interval_misses_the_mean_at_most_2_5_percent_a_side() -> None:
    """Exact, not simulated: a population with a share q at the scale's bottom and the rest at v. The
    interval misses its mean only when every draw is v and q passes the interval's share; that
    happens with probability (1 - q)**n, never above 2.5%."""
    v, n, bounds = 4.0, 7, (1.0, 5.0)
    _, (lo, _) = bootstrap_mean([v] * n, bounds=bounds)
    assert lo is not None
    for q in np.linspace(0.0, 1.0, 201):
        mean = (1 - q) * v + q * bounds[0]
        if mean < lo:
            assert (1 - q) ** n <= 0.025 + 1e-12
