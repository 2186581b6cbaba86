"""Platt calibration: recovers the scaling that generated the labels, honours row weights, and
stays finite on separable rows; the transfer interval widens a rate's interval on its logit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from distillscope.ice.judges.calibration import fit_platt, platt, rate_logit, widen


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-z)))


def test_recovers_the_generating_scaling() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, 20_000)
    y = (rng.random(z.size) < sigmoid(0.5 * z - 1.0)).astype(float)
    a, b = fit_platt(z, y, np.ones(z.size))
    assert abs(a - 0.5) < 0.05 and abs(b + 1.0) < 0.1


def test_weights_count_rows_as_many() -> None:
    """Doubling the weight of rows is the same as listing them twice."""
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 500)
    y = (rng.random(z.size) < sigmoid(z)).astype(float)
    w = np.where(np.arange(z.size) < 100, 2.0, 1.0)
    twice = np.concatenate([z, z[:100]]), np.concatenate([y, y[:100]])
    assert np.allclose(fit_platt(z, y, w), fit_platt(*twice, np.ones(600)), atol=1e-6)


def test_separable_rows_give_a_finite_monotone_map() -> None:
    z = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
    y = np.array([0, 0, 0, 1, 1, 1.0])
    a, b = fit_platt(z, y, np.ones(6))
    assert np.isfinite([a, b]).all() and a > 0
    p = np.array([platt(float(z), a, b) for z in np.linspace(-5, 5, 11)])
    assert np.all(np.diff(p) > 0) and p[0] < 0.5 < p[-1]


@given(
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 5.0),
    st.floats(0.0, 5.0),
)
def test_widening_keeps_the_interval_and_grows_with_the_shift(a: float, b: float, s: float, t: float) -> None:
    low, high = min(a, b), max(a, b)
    small, large = min(s, t), max(s, t)
    lo, hi = widen(low, high, small)
    wide_lo, wide_hi = widen(low, high, large)
    assert 0.0 <= wide_lo <= lo <= low <= high <= hi <= wide_hi <= 1.0


def test_widening_is_a_shift_of_the_rates_logit() -> None:
    lo, hi = widen(0.1, 0.2, 1.0)
    assert abs(rate_logit(lo) - (rate_logit(0.1) - 1.0)) < 1e-9
    assert abs(rate_logit(hi) - (rate_logit(0.2) + 1.0)) < 1e-9
    assert widen(0.0, 1.0, 2.0) == (0.0, 1.0)  # an end at 0 or 1 stays there
