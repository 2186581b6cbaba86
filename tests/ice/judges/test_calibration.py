"""Platt calibration: recovers the scaling that generated the labels, honours row weights, and
stays finite on separable rows."""

from __future__ import annotations

import numpy as np

from distillscope.ice.judges.calibration import fit_platt, platt


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
