"""Calibration: the scorer's raw logit made a probability that means what it says.

Platt scaling, p = sigmoid(a * z + b), two numbers per label. Why Platt and not isotonic: the audited
rows that calibrate it are a few hundred, and isotonic regression on so few fits their steps
(and would be flat, giving ties, where rows are sparse), while two parameters cannot. The fit is
weighted: each audited row stands for its stratum's share of the whole data (ice-gold/README.md),
so the probabilities are calibrated for the population of answers, not for the oversampled
disagreements. The logits it is fitted on come from scorers that did not see those rows' models
(cross-fitting), so the calibration corrects the scorer's real, not its in-sample, confidence.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def platt(z: float, a: float, b: float) -> float:
    """The calibrated probability of one raw logit (plain Python: judging needs no numpy)."""
    t = max(-40.0, min(40.0, a * z + b))
    return 1.0 / (1.0 + math.exp(-t))


def fit_platt(z: np.ndarray, y: np.ndarray, w: np.ndarray, prior: float = 1e-3) -> tuple[float, float]:
    """(a, b) maximising the weighted log-likelihood of labels `y` given logits `z`, by Newton's
    method (deterministic: the weights file is rebuilt byte for byte). `prior` is a small ridge on
    (a - 1, b), which keeps the fit finite when the rows are separable. Build time only."""
    import numpy as np

    z = np.asarray(z, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float) / max(float(np.sum(w)), 1e-12)
    a, b = 1.0, 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * z + b, -40.0, 40.0)))
        r = p - y
        grad = np.array([np.sum(w * r * z) + prior * (a - 1.0), np.sum(w * r) + prior * b])
        s = w * p * (1 - p)
        hess = np.array([[np.sum(s * z * z) + prior, np.sum(s * z)], [np.sum(s * z), np.sum(s) + prior]])
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return a, b


# ---------------------------------------------------------------- transfer to a model not trained on
# Platt's two numbers fit the audited models pooled. On a model the scorer never saw, the expected
# rate (mean p over its run) is off by more than sampling explains: measured leave-one-model-out on
# the paper's models, by 0.03 on average and 0.12 at most (bench/judge_agreement.py, per model). The
# error is modelled on the logit of the run's rate, logit(true) = logit(expected) + e, e ~ (0, sd^2),
# which fits both ends: a few-percent rate is off by a few points, a 40% rate by ten. sd is measured
# at build time on the cross-fitted models (`training.transfer`) and shipped with the weights; an
# expected rate then also carries the interval `widen` gives.


def rate_logit(rate: float) -> float:
    """The logit of a rate, kept finite (a rate of 0 or 1 is read as 1e-4 from it)."""
    rate = min(max(rate, 1e-4), 1 - 1e-4)
    return math.log(rate / (1 - rate))


def widen(low: float, high: float, shift: float) -> tuple[float, float]:
    """An interval of a rate widened by `shift` on the logit scale at each end (the 95% transfer
    error of `Transfer.shift95`): [sigmoid(logit(low) - shift), sigmoid(logit(high) + shift)]; an
    end at 0 or 1 stays there."""
    lo = 0.0 if low <= 0.0 else min(low, platt(rate_logit(low) - shift, 1.0, 0.0))
    hi = 1.0 if high >= 1.0 else max(high, platt(rate_logit(high) + shift, 1.0, 0.0))
    return lo, hi
