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
