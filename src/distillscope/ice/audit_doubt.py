"""Audit by doubt: put a person's labels where the judge is least sure, and correct its rate.

`draw_doubt_sample` splits a run's judged responses into strata by how certain the judge is
(`certainty` = |p_loose - 0.5| x 2, in bands `BANDS`), and shares the labels between strata by
Neyman allocation: n_s proportional to N_s x sqrt(mean p(1-p)) of the stratum, the spread a
label has around a calibrated p. So doubtful answers are labelled at the highest rate, sure ones at
a low one (at least `MIN_PER_STRATUM` each, to check that they deserve their certainty); a large
sure stratum can still take most of the labels (the paper's 8,673 answers: 123 of 200). Every row keeps its
stratum, the stratum sizes and each stratum's mean p over ALL its responses, and its inclusion
probability n_s / N_s, so the file alone is enough to weight it back.

`corrected_rates` is the stratified difference (model-assisted) estimator:

    rate = sum_s W_s (mean p over the stratum + mean (label - p) over its labelled rows)

with W_s = N_s / N. It is unbiased under the design whatever the judge's calibration (the
residual mean corrects it), and its variance is sum_s W_s^2 (1 - n_s/N_s) var_s(label - p) / n_s:
small where p is good, since it is the residuals that vary. The 95% interval is normal on that
variance (approximate with few labels per stratum; a stratum's residual variance is never taken
below what a calibrated judge's would be, mean p(1-p), and a single labelled row counts a coin
toss's, 1/4: see `_variance`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from distillscope.errors import UserError, clip
from distillscope.ice.probability import DEFAULT_TABLE, cell, certainty
from distillscope.stats.intervals import Z95

# certainty bands, upper bounds inclusive: D1 is the most doubtful (p in [0.4, 0.6]), D4 the surest
# (p under 0.1 or over 0.9)
BANDS = (("D1", 0.2), ("D2", 0.5), ("D3", 0.8), ("D4", math.inf))
MIN_PER_STRATUM = 2
DESIGN = "doubt"


def row_p(row: Mapping[str, Any]) -> tuple[float, float] | None:
    """(p_loose, p_strict) of a verdict row of verdicts.jsonl: its own where the judge gave them,
    else the uncalibrated default table by its answer and unsure flag; None if unjudged."""
    loose = row.get("loose")
    if not isinstance(loose, bool):
        return None
    p_loose, p_strict = row.get("p_loose"), row.get("p_strict")
    if isinstance(p_loose, int | float) and isinstance(p_strict, int | float):
        return float(p_loose), float(p_strict)
    sure = not bool(row.get("unsure", False))
    strict = bool(row.get("strict")) and loose
    return DEFAULT_TABLE[cell(loose, sure)], min(
        DEFAULT_TABLE[cell(strict, sure)], DEFAULT_TABLE[cell(loose, sure)]
    )


def band(p: float) -> str:
    c = round(certainty(p), 9)  # 0.6 and 0.4 both sit on D1's edge, whatever the float rounding
    return next(name for name, upper in BANDS if c <= upper)


def allocate(pop: Mapping[str, list[float]], n: int) -> dict[str, int]:
    """Neyman allocation of `n` labels over strata of p values (at least MIN_PER_STRATUM each, at
    most the stratum's size), by largest remainders."""
    sizes = {s: len(ps) for s, ps in pop.items() if ps}
    take = {s: min(MIN_PER_STRATUM, size) for s, size in sizes.items()}
    left = n - sum(take.values())
    if left < 0:
        raise UserError(
            f"--n {n}: at least {sum(take.values())} needed ({MIN_PER_STRATUM} from each doubt stratum)"
        )
    weight = {
        s: len(ps) * math.sqrt(max(1e-4, sum(p * (1 - p) for p in ps) / len(ps)))
        for s, ps in pop.items()
        if ps
    }
    while left > 0:
        open_ = {s: w for s, w in weight.items() if take[s] < sizes[s]}
        if not open_:
            break
        total = sum(open_.values())
        shares = {s: left * w / total for s, w in open_.items()}
        grant = {s: min(sizes[s] - take[s], int(share)) for s, share in shares.items()}
        if not any(grant.values()):  # every share under one: the largest gets one
            grant = {max(shares, key=lambda s: shares[s]): 1}
        for s, extra in grant.items():
            take[s] += extra
        left -= sum(grant.values())
    return take


@dataclass
class DoubtDraw:
    """The chosen indices per stratum and the design figures every row carries."""

    chosen: dict[str, list[int]]
    strata_pop: dict[str, int]
    strata_p: dict[str, dict[str, float]]  # stratum -> {"loose": mean p, "strict": mean p}


def draw(ps: Mapping[int, tuple[float, float]], n: int, seed: int) -> DoubtDraw:
    """Stratify the judged responses (index -> (p_loose, p_strict)) by doubt and draw `n`."""
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    strata: dict[str, list[int]] = {name: [] for name, _ in BANDS}
    for index, (p_loose, _) in sorted(ps.items()):
        strata[band(p_loose)].append(index)
    take = allocate({s: [ps[i][0] for i in idx] for s, idx in strata.items()}, n)
    rng = random.Random(seed)
    chosen = {s: sorted(rng.sample(idx, take.get(s, 0))) for s, idx in strata.items()}
    strata_p = {
        s: {
            "loose": round(sum(ps[i][0] for i in idx) / len(idx), 6),
            "strict": round(sum(ps[i][1] for i in idx) / len(idx), 6),
        }
        for s, idx in strata.items()
        if idx
    }
    return DoubtDraw(chosen, {s: len(idx) for s, idx in strata.items()}, strata_p)


# ------------------------------------------------------------------------------ the estimator


class CorrectedRate(BaseModel):
    """One label's rate over the whole run: the judge's expected rate (mean p over every judged
    response; None where the judge gives no probabilities and the doubt table's stood in) and the
    rate corrected by the labelled sample, with its 95% interval."""

    label: str
    judge_expected: float | None
    corrected: float
    low: float
    high: float
    n: int  # labelled rows
    population: int
    strata: int

    def fmt(self) -> str:
        return f"{self.corrected:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class LabelledP:
    """A labelled row as the estimator needs it."""

    stratum: str
    p: float
    label: bool


def _variance(residuals: Sequence[float], ps: Sequence[float], size: int) -> float:
    """The variance of a stratum's mean residual, finite-population corrected. The residuals'
    variance is never taken below mean p(1-p), what it would be if the judge's p were calibrated,
    so a stratum whose few labels happen to agree does not claim certainty; a single labelled row
    counts 1/4, a coin toss's variance."""
    n = len(residuals)
    if n >= size:
        return 0.0
    if n < 2:
        return 0.25 * (1 - n / size) / max(1, n)
    mean = sum(residuals) / n
    var = sum((r - mean) ** 2 for r in residuals) / (n - 1)
    floor = sum(p * (1 - p) for p in ps) / n
    return (1 - n / size) * max(var, floor) / n


def corrected_rate(
    label: str,
    rows: Sequence[LabelledP],
    strata_pop: Mapping[str, int],
    strata_p: Mapping[str, float],
    *,
    judge_has_p: bool = True,
) -> CorrectedRate:
    """The stratified difference estimator (module doc) of one label. `judge_has_p` False: the p
    are the doubt table's (a judge without probabilities); the estimator still holds (it is
    unbiased whatever the p), but their mean is no expected rate of the judge's, so none is given."""
    total = sum(strata_pop.values())
    if total <= 0:
        raise UserError("the audit file's strata_pop holds no responses")
    rate = expected = variance = 0.0
    for stratum, size in strata_pop.items():
        if size <= 0:
            continue
        weight = size / total
        mine = [r for r in rows if r.stratum == stratum]
        if not mine:
            raise UserError(
                f"stratum {clip(repr(stratum))} has {size} responses but no labelled row: score the whole file"
            )
        residuals = [float(r.label) - r.p for r in mine]
        mean_p = float(strata_p[stratum])
        expected += weight * mean_p
        rate += weight * (mean_p + sum(residuals) / len(residuals))
        variance += weight * weight * _variance(residuals, [r.p for r in mine], size)
    half = Z95 * math.sqrt(variance)
    return CorrectedRate(
        label=label, judge_expected=round(expected, 6) if judge_has_p else None, corrected=round(rate, 6),
        low=round(max(0.0, rate - half), 6), high=round(min(1.0, rate + half), 6),
        n=len(rows), population=total, strata=sum(1 for v in strata_pop.values() if v > 0),
    )  # fmt: skip
