"""RSE scores: per model per dataset the mean overall and per-aspect similarity (1-5) with n and a
bootstrap 95% interval; the average over datasets (the paper's table); paired differences between
two test models on the same prompts.

Unjudged pairs and pairs with a missing answer are counted, never scored: they are left out of
every mean (a missing answer is not a dissimilar answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np

from distillscope.rse.responses import prompt_of
from distillscope.rse.types import ASPECTS, AspectScores
from distillscope.stats.intervals import (
    MIN_PERCENTILE_UNITS,
    Bounds,
    clip,
    clustered,
    finite,
    mean_summary,
    no_spread,
    one_unit,
    percentile_levels,
    resampled_cluster_means,
    welch_interval,
)

# "empty" / "filtered": one side's reply was not an answer (counted apart, never scored)
Status = Literal["judged", "unjudged", "missing", "empty", "filtered"]
SKIPPED: tuple[Status, ...] = ("missing", "empty", "filtered", "unjudged")
RESAMPLES = 2000
RATING: tuple[float, float] = (1.0, 5.0)  # a similarity's range: intervals are cut to it (`intervals.clip`)
DIFFERENCE: tuple[float, float] = (-4.0, 4.0)  # the range of a difference of two similarities


@dataclass
class Judgment:
    """The outcome for one (model, dataset, item): a line of judgments.jsonl."""

    model: str
    dataset: str
    key: str
    status: Status
    judge: str
    scores: AspectScores | None = None
    turn: int = 1
    note: str | None = None

    def row(self) -> dict[str, Any]:
        s = self.scores
        return {
            "model": self.model,
            "dataset": self.dataset,
            "prompt_id": self.key,
            "turn": self.turn,
            "status": self.status,
            "judge": self.judge,
            "overall": None if s is None else round(s.overall, 6),
            "aspects": None if s is None else {a: round(getattr(s, a), 6) for a in ASPECTS},
            "raw": None if s is None else s.raw,
            "evidence": s.evidence if s is not None else self.note,
        }

    def value(self, aspect: str) -> float:
        assert self.scores is not None
        return float(getattr(self.scores, aspect))


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def stratified_mean(
    groups: Sequence[Sequence[float]],
    *,
    seed: int = 0,
    resamples: int = RESAMPLES,
    clusters: Sequence[Sequence[str]] | None = None,
    bounds: Bounds = None,
) -> dict[str, Any]:
    """Mean of the group means, with a bootstrap that resamples within each group (the interval
    cut to `bounds`, the range the mean cannot leave).

    The paper's average over datasets weighs every dataset equally, whatever its size; the
    interval keeps that weighting. With `clusters` (each value's prompt, per group), a prompt's
    turns are resampled together: they are not independent answers. A dataset scored on one prompt
    has no spread to resample, so its mean would enter every replicate unchanged and the interval
    would leave out its uncertainty. Its mean can still not leave `bounds`: the interval is then the
    other datasets' (their average's 95% interval) with each one-prompt dataset anywhere in
    `bounds`, which covers wherever those means lie (3 datasets of 5 ratings and one of one prompt:
    a quarter of the 1-5 range is added). With no dataset of two prompts it is `one_unit`'s
    distribution-free interval. Without `bounds` no interval is given ([None, None]), never a
    too-narrow one.
    """
    if clusters is not None and len(clusters) != len(groups):
        raise ValueError("one list of clusters per group")
    kept: list[tuple[list[float], list[str] | None]] = [
        (list(g), list(clusters[i]) if clusters is not None else None)
        for i, g in enumerate(groups)
        if len(g) > 0
    ]
    n = sum(len(g) for g, _ in kept)
    if not kept:
        return {"score": None, "n": 0, "ci95": [None, None]}
    point = float(np.mean([float(np.mean(g)) for g, _ in kept]))
    units: list[tuple[np.ndarray, np.ndarray]] = []
    for g, c in kept:
        grouped = clustered(g, c) if c is not None else None
        units.append((np.asarray(g, dtype=float), np.ones(len(g))) if grouped is None else grouped)
    prompts = sum(int(sums.size) for sums, _ in units)
    several = [(sums, counts) for sums, counts in units if sums.size >= 2]
    lo: float | None = None
    hi: float | None = None
    if len(several) == len(units):
        lo, hi = _groups_interval(units, seed=seed, resamples=resamples, bounds=bounds)
    elif several and bounds is not None:
        # some dataset has one prompt: its share of the uncertainty cannot be estimated, but its
        # mean lies in `bounds` (an average over all datasets left no interval at all)
        part_lo, part_hi = _groups_interval(several, seed=seed, resamples=resamples, bounds=bounds)
        if part_lo is not None and part_hi is not None:
            single = len(units) - len(several)
            lo = (len(several) * part_lo + single * bounds[0]) / len(units)
            hi = (len(several) * part_hi + single * bounds[1]) / len(units)
    elif not several:
        # every dataset has one prompt: each is trivially without spread (`one_unit`)
        lo, hi = one_unit([(float(sums.sum() / counts.sum()), 1) for sums, counts in units], bounds)
    out = {"score": _r(point), "n": n, "ci95": [_r(lo), _r(hi)], "datasets": len(kept)}
    if prompts != n:
        out["n_prompts"] = prompts
    return out


def _groups_interval(
    units: Sequence[tuple[np.ndarray, np.ndarray]], *, seed: int, resamples: int, bounds: Bounds
) -> tuple[float | None, float | None]:
    """The 95% interval of the mean of the groups' means, each group of two units or more (the
    `sums` and `counts` of its prompts): Welch's below MIN_PERCENTILE_UNITS prompts in all, else the
    expanded percentile bootstrap resampling within each group; cut to `bounds`."""
    point = float(np.mean([float(sums.sum() / counts.sum()) for sums, counts in units]))
    prompts = sum(int(sums.size) for sums, _ in units)
    lo: float | None
    hi: float | None
    if prompts < MIN_PERCENTILE_UNITS:
        lo, hi = welch_interval(point, list(units))
    else:
        rng = np.random.default_rng(seed)
        boot = np.zeros(resamples)
        for sums, counts in units:
            boot += resampled_cluster_means(sums, counts, resamples=resamples, rng=rng)
        boot /= len(units)
        low, high = percentile_levels(prompts)
        lo, hi = float(np.quantile(boot, low)), float(np.quantile(boot, high))
    strata = [(float(sums.sum() / counts.sum()), int(sums.size)) for sums, counts in units]
    return clip(no_spread(finite((lo, hi)), bounds, strata), bounds)


def dataset_summary(judgments: Sequence[Judgment], *, seed: int = 0) -> dict[str, Any]:
    """{"score", "ci95", "n", "n_unjudged", "n_missing", "aspects": {aspect: {"score", "ci95", "n"}}}."""
    judged = [j for j in judgments if j.status == "judged" and j.scores is not None]
    prompts = [prompt_of(j.key) for j in judged]  # a prompt's turns are resampled together
    summary = dict(
        mean_summary([j.value("overall") for j in judged], seed=seed, clusters=prompts, bounds=RATING)
    )
    summary["n_unjudged"] = sum(j.status == "unjudged" for j in judgments)
    summary["n_missing"] = sum(j.status == "missing" for j in judgments)
    summary["n_empty"] = sum(j.status == "empty" for j in judgments)
    summary["n_filtered"] = sum(j.status == "filtered" for j in judgments)
    summary["aspects"] = {
        a: mean_summary([j.value(a) for j in judged], seed=seed, clusters=prompts, bounds=RATING)
        for a in ASPECTS
    }
    return summary


def skipped_pairs(judgments: Iterable[Judgment]) -> dict[str, int]:
    """How many pairs were not scored, by reason, and in all (results.json `skipped`)."""
    counts: dict[str, int] = dict.fromkeys(SKIPPED, 0)
    for j in judgments:
        if j.status in counts:
            counts[j.status] += 1
    return {**counts, "total": sum(counts.values())}


def model_summary(judgments: Iterable[Judgment], datasets: Sequence[str], *, seed: int = 0) -> dict[str, Any]:
    """{"datasets": {name: dataset_summary}, "avg": stratified mean over datasets, with aspects}."""
    by_ds: dict[str, list[Judgment]] = {d: [] for d in datasets}
    for j in judgments:
        by_ds.setdefault(j.dataset, []).append(j)
    out: dict[str, Any] = {"datasets": {d: dataset_summary(js, seed=seed) for d, js in by_ds.items()}}

    judged = [[j for j in js if j.status == "judged" and j.scores is not None] for js in by_ds.values()]
    prompts = [[prompt_of(j.key) for j in js] for js in judged]

    def values(aspect: str) -> list[list[float]]:
        return [[j.value(aspect) for j in js] for js in judged]

    avg = stratified_mean(values("overall"), seed=seed, clusters=prompts, bounds=RATING)
    avg["aspects"] = {
        a: stratified_mean(values(a), seed=seed, clusters=prompts, bounds=RATING) for a in ASPECTS
    }
    out["avg"] = avg
    return out


def paired_comparisons(
    by_model: dict[str, list[Judgment]], datasets: Sequence[str], *, seed: int = 0
) -> list[dict[str, Any]]:
    """Every pair of test models on the prompt turns both had judged: mean(a - b) per dataset and
    averaged, the intervals resampling prompts (a prompt's turns together)."""
    out: list[dict[str, Any]] = []
    for a, b in combinations(list(by_model), 2):
        left = {(j.dataset, j.key): j for j in by_model[a] if j.status == "judged" and j.scores is not None}
        right = {(j.dataset, j.key): j for j in by_model[b] if j.status == "judged" and j.scores is not None}
        per_ds: dict[str, Any] = {}
        groups: dict[str, list[list[float]]] = {asp: [] for asp in ("overall", *ASPECTS)}
        prompts: list[list[str]] = []
        for ds in datasets:
            common = sorted(k for k in left.keys() & right.keys() if k[0] == ds)
            keys = [prompt_of(k[1]) for k in common]
            diffs = {asp: [left[k].value(asp) - right[k].value(asp) for k in common] for asp in groups}
            if common:
                prompts.append(keys)
            for asp, values in diffs.items():
                if values:
                    groups[asp].append(values)
            entry = dict(mean_summary(diffs["overall"], seed=seed, clusters=keys, bounds=DIFFERENCE))
            entry["aspects"] = {
                asp: mean_summary(diffs[asp], seed=seed, clusters=keys, bounds=DIFFERENCE) for asp in ASPECTS
            }
            per_ds[ds] = entry
        avg = stratified_mean(groups["overall"], seed=seed, clusters=prompts, bounds=DIFFERENCE)
        avg["aspects"] = {
            asp: stratified_mean(groups[asp], seed=seed, clusters=prompts, bounds=DIFFERENCE)
            for asp in ASPECTS
        }
        out.append(
            {
                "a": a,
                "b": b,
                "difference": "a - b (positive: a is closer to the reference)",
                "datasets": per_ds,
                "avg": avg,
            }
        )
    return out
