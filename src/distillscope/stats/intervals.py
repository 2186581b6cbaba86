"""95% intervals: Wilson for proportions; for means and paired differences, the expanded percentile
bootstrap over units (answers, or prompts where a prompt has several turns), or Student's t where
the units are too few for any percentile interval to reach 95%."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where a bootstrap runs: ICE's Wilson intervals never need it
    import numpy as np

# The 97.5% quantile of the standard normal (scipy.stats.norm.ppf(0.975)), written out so
# that importing this module does not cost the CLI a second of scipy.stats start-up.
Z95 = 1.959963984540054


def wilson(count: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for count/n; (0, 1) when n is 0 (we know nothing). `count` may be
    fractional (a sum of probabilities: ice.scoring's expected rate)."""
    if n <= 0:
        return (0.0, 1.0)
    p = count / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if count == 0 else max(0.0, centre - half)
    hi = 1.0 if count == n else min(1.0, centre + half)
    return (lo, hi)


def proportion(count: int, n: int) -> dict[str, object]:
    """{"score", "count", "n", "ci95"}: the shape every proportion score has in results.json."""
    lo, hi = wilson(count, n)
    return {
        "score": round(count / n, 6) if n else None,
        "count": count,
        "n": n,
        "ci95": [round(lo, 6), round(hi, 6)],
    }


# Resample indices drawn per block: at most this many (8 bytes each) at once, so 2,000 resamples
# of 10,000 values do not build a 160 MB index matrix. The generator yields the same numbers drawn
# in row blocks as in one matrix, so the intervals do not change with the block size.
BLOCK_ELEMENTS = 1 << 20


def resampled_means(data: np.ndarray, *, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The means of `resamples` bootstrap resamples of `data` (with replacement), drawn from `rng`."""
    import numpy as np

    rows = max(1, BLOCK_ELEMENTS // max(1, data.size))
    means = np.empty(resamples, dtype=float)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        idx = rng.integers(0, data.size, size=(stop - start, data.size))
        means[start:stop] = data[idx].mean(axis=1)
    return means


def resampled_cluster_means(
    sums: np.ndarray, counts: np.ndarray, *, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """The means of `resamples` cluster-bootstrap resamples: clusters (a prompt's turns) drawn with
    replacement, each bringing all its values (`sums`, `counts` per cluster); the mean of a resample
    is its values' mean. Values of one prompt are not independent, so they are drawn together."""
    import numpy as np

    rows = max(1, BLOCK_ELEMENTS // max(1, sums.size))
    means = np.empty(resamples, dtype=float)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        idx = rng.integers(0, sums.size, size=(stop - start, sums.size))
        means[start:stop] = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    return means


def clustered(values: Sequence[float], clusters: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(sum, count) of the values of each cluster, in order of first sight; None when every cluster
    holds one value (then the plain bootstrap is the cluster bootstrap)."""
    import numpy as np

    if len(values) != len(clusters):
        raise ValueError("one cluster per value")
    index: dict[str, int] = {}
    for c in clusters:
        index.setdefault(c, len(index))
    if len(index) == len(values):
        return None
    sums, counts = np.zeros(len(index)), np.zeros(len(index))
    at = np.fromiter((index[c] for c in clusters), dtype=np.int64, count=len(clusters))
    np.add.at(sums, at, np.asarray(values, dtype=float))
    np.add.at(counts, at, 1.0)
    return sums, counts


# With n units, a percentile interval lies within the range of the units' values, which holds the
# median of a continuous symmetric distribution with probability 1 - 2**(1 - n): under 0.95 up to
# n = 5. Below this many units a mean's interval is Student's t, which is not bound to that range.
MIN_PERCENTILE_UNITS = 6


def percentile_levels(units: int, level: float = 0.95) -> tuple[float, float]:
    """The quantiles of the bootstrap means that make a `level` interval from `units` units:
    Hesterberg's expanded percentile interval (2015), Phi(-+sqrt(n/(n-1)) t(1-a/2, n-1)). The plain
    (2.5%, 97.5%) uses z where t applies, and the bootstrap's variance is (n-1)/n of the unbiased
    one, so it is too narrow for few units (it covered 84% of normal means from 5 values in
    simulation, this 92%); the levels are 2.26% and 97.74% at 80 units, 0.86% and 99.14% at 10."""
    from scipy.special import ndtr, stdtrit

    alpha = (1 - level) / 2
    if units < 2:
        return alpha, 1 - alpha
    z = math.sqrt(units / (units - 1)) * float(stdtrit(units - 1, 1 - alpha))
    low = float(ndtr(-z))
    return low, 1 - low


def mean_variance(sums: np.ndarray, counts: np.ndarray) -> float:
    """The variance of the mean of the values of k >= 2 units (`sums`, `counts` per unit): the
    ratio estimator's linearised variance, s**2 / k where every unit holds one value."""
    import numpy as np

    k = int(sums.size)
    point = float(sums.sum() / counts.sum())
    residuals = (sums - point * counts) / float(counts.mean())
    return float(np.sum(residuals**2)) / (k * (k - 1))


def student_interval(
    sums: np.ndarray, counts: np.ndarray, level: float = 0.95
) -> tuple[float | None, float | None]:
    """Student's t interval for the mean of the values of a few units (`mean_variance`); None with
    one unit."""
    from scipy.special import stdtrit

    k = int(sums.size)
    if k < 2:
        return None, None
    point = float(sums.sum() / counts.sum())
    half = float(stdtrit(k - 1, 1 - (1 - level) / 2)) * math.sqrt(mean_variance(sums, counts))
    return point - half, point + half


def welch_interval(point: float, groups: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Student's t interval for a mean of group means from few units (each group's `mean_variance`
    over its units, at least two each), with Welch-Satterthwaite degrees of freedom."""
    from scipy.special import stdtrit

    variances = [mean_variance(sums, counts) for sums, counts in groups]
    total = sum(variances)
    if total == 0:
        return point, point
    # as shares of the total: squares of variances under 1e-154 are 0 (a division by zero), over 1e154 inf
    df = 1 / sum((v / total) ** 2 / (sums.size - 1) for v, (sums, _) in zip(variances, groups, strict=True))
    half = float(stdtrit(df, 0.975)) * math.sqrt(total) / len(groups)
    return point - half, point + half


def finite(interval: tuple[float | None, float | None]) -> tuple[float | None, float | None]:
    """The interval, or none where an end is not finite (values NaN or infinite, or a spread past
    1e154, whose square overflows): NaN and inf are no numbers a results file can hold."""
    lo, hi = interval
    if lo is not None and hi is not None and not (math.isfinite(lo) and math.isfinite(hi)):
        return None, None
    return lo, hi


def _unit_interval(
    sums: np.ndarray, counts: np.ndarray, means: Callable[[], np.ndarray]
) -> tuple[float | None, float | None]:
    """A mean's 95% interval from its units: Student's t below MIN_PERCENTILE_UNITS units, else the
    expanded percentile interval of the bootstrap `means`."""
    import numpy as np

    if sums.size < MIN_PERCENTILE_UNITS:
        lo, hi = student_interval(sums, counts)
    else:
        low, high = percentile_levels(int(sums.size))
        boot = means()
        lo, hi = float(np.quantile(boot, low)), float(np.quantile(boot, high))
    return finite((lo, hi))


Bounds = tuple[float, float] | None  # the range the mean cannot leave (ratings 1-5), or None


def clip(interval: tuple[float | None, float | None], bounds: Bounds) -> tuple[float | None, float | None]:
    """An interval cut to the range its mean cannot leave: Student's t over a few prompts reaches
    past it (3 ratings of 1-5 gave [0.52, 5.48]), and a true mean outside it is impossible, so
    cutting there loses no coverage."""
    lo, hi = interval
    if bounds is None or lo is None or hi is None:
        return lo, hi
    return max(lo, bounds[0]), min(hi, bounds[1])


# A tolerance for "no spread": resampled means of equal floats may differ in their last bits.
NO_SPREAD = 1e-9


def no_spread(
    interval: tuple[float | None, float | None], bounds: Bounds, strata: Sequence[tuple[float, int]]
) -> tuple[float | None, float | None]:
    """The interval of a mean whose units show no spread, else `interval` unchanged. `strata`: the
    (mean, units) of each group the mean averages with equal weight (one group for a plain mean).

    Units that are all equal give the bootstrap (and Student's t) nothing to resample: [x, x], a
    certainty that n equal ratings cannot give. Where the mean's range [a, b] is known, the interval
    is then the distribution-free one for a sample that has seen no other value: if a share q of the
    population differs from v, n units all equal to v have probability (1 - q)**n at most, so at 95%
    (2.5% a side) q <= 1 - 0.025**(1/n), and the mean lies at most that share of the way from v to
    either bound: 5 ratings of 3 on 1-5 give [1.96, 4.04], 80 give [2.91, 3.09]. That holds whatever
    the population: the values whose interval would miss the mean from above hold less than
    0.025**(1/n) of it together, so all n units equal one of them with probability under 0.025 (the
    same below). An average of k groups takes each group's bound at 2.5%/k a side (Bonferroni: the average passes its bound only where
    some group passes its own). With no known range it stays [x, x]. One unit is the case n = 1
    (`one_unit`): 97.5% of the way to each bound."""
    lo, hi = interval
    if bounds is None or lo is None or hi is None or not strata or min(n for _, n in strata) < 1:
        return lo, hi
    if hi - lo > NO_SPREAD * max(1.0, bounds[1] - bounds[0]):
        return lo, hi
    tail = 0.025 / len(strata)
    low = high = 0.0
    for point, units in strata:
        share = 1.0 - tail ** (1.0 / units)
        low += point - share * (point - bounds[0])
        high += point + share * (bounds[1] - point)
    return low / len(strata), high / len(strata)


def one_unit(strata: Sequence[tuple[float, int]], bounds: Bounds) -> tuple[float | None, float | None]:
    """The interval of an average of groups that each hold a single unit (one value, one prompt's
    turns): `no_spread`'s distribution-free interval with n = 1, since one unit is trivially all
    equal. Nothing can be resampled, so without a known range there is no interval (None, None);
    with one, a rating of 3 on 1-5 gives [1.05, 4.95]: wide, as one answer deserves, but a bound
    where there was none."""
    if bounds is None or not strata:
        return None, None
    point = sum(p for p, _ in strata) / len(strata)
    return clip(no_spread((point, point), bounds, strata), bounds)


def bootstrap_mean(
    values: Sequence[float], *, resamples: int = 2000, seed: int = 0, bounds: Bounds = None
) -> tuple[float | None, tuple[float | None, float | None]]:
    """Mean and 95% interval (`_unit_interval`, each value a unit; cut to `bounds`). Empty input
    gives (None, (None, None)); a single value gives its mean and `one_unit`'s interval (None, None
    without `bounds`): [x, x] from one answer would claim certainty that one answer cannot give."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return None, (None, None)
    mean = float(data.mean())
    if data.size == 1:
        return mean, one_unit([(mean, 1)], bounds)
    interval = _unit_interval(
        data,
        np.ones(data.size),
        lambda: resampled_means(data, resamples=resamples, rng=np.random.default_rng(seed)),
    )
    return mean, clip(no_spread(interval, bounds, [(mean, int(data.size))]), bounds)


def mean_summary(
    values: Sequence[float], *, seed: int = 0, clusters: Sequence[str] | None = None, bounds: Bounds = None
) -> dict[str, object]:
    """{"score", "n", "ci95"} for a mean. With `clusters` (the prompt of each value: a multi-turn
    prompt gives several), the interval resamples prompts, and "n_prompts" says how many there were
    where it differs from n. One prompt (or one value) has nothing to resample and [x, x] would
    read as certainty: it gets `one_unit`'s wide interval where `bounds` (the range the mean cannot
    leave, where every interval is cut: `clip`) is known, else none ([None, None])."""
    import numpy as np

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 6)

    grouped = clustered(values, clusters) if clusters is not None else None
    if grouped is None:
        mean, (lo, hi) = bootstrap_mean(values, seed=seed, bounds=bounds)
        return {"score": r(mean), "n": len(values), "ci95": [r(lo), r(hi)]}
    sums, counts = grouped
    point = float(sums.sum() / counts.sum())
    if sums.size == 1:
        lo, hi = one_unit([(point, 1)], bounds)
        return {"score": r(point), "n": len(values), "ci95": [r(lo), r(hi)], "n_prompts": 1}
    interval = _unit_interval(
        sums,
        counts,
        lambda: resampled_cluster_means(sums, counts, resamples=2000, rng=np.random.default_rng(seed)),
    )
    lo, hi = clip(no_spread(interval, bounds, [(point, int(sums.size))]), bounds)
    return {"score": r(point), "n": len(values), "ci95": [r(lo), r(hi)], "n_prompts": int(sums.size)}


def paired_difference(
    a: Sequence[float], b: Sequence[float], *, seed: int = 0, bounds: Bounds = None
) -> dict[str, object]:
    """Mean of a - b over paired items, with a bootstrap interval over the pairs (cut to `bounds`,
    the range of the difference)."""
    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    return mean_summary(diffs, seed=seed, bounds=bounds)
