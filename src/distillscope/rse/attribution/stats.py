"""The decision statistics of teacher attribution: per-prompt leaning, its interval, its p-value.

The unit of every statistic is a *prompt* (a conversation): the turns of one prompt share a
topic and a model's earlier answer, so they are averaged into one value before anything is
resampled. For a test model X, family F and prompt p,

    lean[F, p] = P_F(X's answer to p) - mean_{G != F} P_G(X's answer to p)

where P are the cross-fitted classifier's probabilities (see crossfit.py: the classifier that
scores p never saw p). The null hypothesis for family F is "X is no more like F than like the
other families": the prompt-level leanings are centred on zero, E[lean[F, p]] <= 0. It is
tested with a one-sided **sign-flip** randomisation test on the mean leaning: under the null
each prompt's leaning is as likely to be +v as -v, so the observed mean is compared with the
means of randomly sign-flipped leanings (`FLIPS` draws; p = (1 + #{flipped >= observed}) /
(1 + FLIPS), which is valid, if slightly conservative, for a Monte-Carlo test). It is exact
under a symmetric null and asymptotically a one-sample test of the mean otherwise.

What the null is *not*: it is conditional on the fitted classifier, so it asks whether X leans
towards F in the writing the classifier has learned to tell apart, not how X was trained. A
model that merely shares a family's house style leans too (measured on MT-bench: bench/README).
Nor is it a null over *models*: the prompts are resampled, the model is not, so an independent
model with a systematic lean of its own is attributed whenever it has enough answers. A model-level
null would need many independent models that are known not to be of F; the families offer two or
three (analysis.held_out_members leaves each out in turn and shows how far their style reaches).
That null over models is what `--control` provides: controls.py decides "distilled from F" against
independent control models; `predicted` stays the per-prompt resemblance.

`predicted` is the family with the highest mean probability, named whatever its p-value; it is
`significant` (and the model `resembles` it) only when it is the one family whose p-value stays below
`alpha` after Holm's correction over the families; none resembled (null, abstain) when no family
does, and none when several do (with three or more families two can lean positive at once; then no
single family wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from distillscope.stats.intervals import bootstrap_mean

FLIPS = 10_000


def prompt_means(values: Sequence[float], groups: Sequence[str]) -> NDArray[np.float64]:
    """The mean of `values` per group (prompt), in first-seen group order."""
    order: dict[str, int] = {}
    for g in groups:
        order.setdefault(g, len(order))
    sums = np.zeros(len(order))
    counts = np.zeros(len(order))
    for v, g in zip(values, groups, strict=True):
        sums[order[g]] += v
        counts[order[g]] += 1
    return sums / np.maximum(counts, 1)


def sign_flip_pvalue(leanings: Sequence[float], *, seed: int = 0, flips: int = FLIPS) -> float:
    """One-sided p-value of "mean leaning <= 0" by random sign flips of the per-prompt leanings."""
    data = np.asarray(leanings, dtype=float)
    if data.size == 0:
        return 1.0
    observed = float(data.mean())
    rng = np.random.default_rng(seed)
    exceed = 0
    block = max(1, (1 << 20) // data.size)
    done = 0
    while done < flips:
        rows = min(block, flips - done)
        signs = rng.integers(0, 2, size=(rows, data.size), dtype=np.int8) * 2 - 1
        means = (signs * data).mean(axis=1)
        exceed += int(np.sum(means >= observed - 1e-12))
        done += rows
    return (1 + exceed) / (1 + flips)


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values (family-wise error over the families)."""
    names = sorted(p_values, key=lambda k: p_values[k])
    m = len(names)
    adjusted: dict[str, float] = {}
    running = 0.0
    for rank, name in enumerate(names):
        running = max(running, min(1.0, (m - rank) * p_values[name]))
        adjusted[name] = running
    return adjusted


def decide(adjusted: Mapping[str, float], alpha: float) -> str | None:
    """The single family below `alpha` after correction, else None (abstain)."""
    winners = [f for f, p in adjusted.items() if p < alpha]
    return winners[0] if len(winners) == 1 else None


def leanings(probabilities: NDArray[np.float64], family: int) -> NDArray[np.float64]:
    """Per answer: P(family) minus the mean probability of the other families."""
    k = probabilities.shape[1]
    others = (probabilities.sum(axis=1) - probabilities[:, family]) / max(1, k - 1)
    return np.asarray(probabilities[:, family] - others, dtype=float)


def mean_with_interval(
    values: Sequence[float], *, seed: int = 0, bounds: tuple[float, float] = (0.0, 1.0)
) -> tuple[float | None, list[float | None]]:
    """Mean and bootstrap 95% interval over the given units, prompts (`stats.intervals.bootstrap_mean`),
    cut to `bounds`: a probability's range by default."""
    mean, (lo, hi) = bootstrap_mean(values, seed=seed, bounds=bounds)
    return mean, [lo, hi]
