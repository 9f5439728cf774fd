"""Collapsed response patterns reproduce row-level sums exactly."""
from __future__ import annotations

import numpy as np
import pytest

from csatlib.stats.collapse import collapse, poisson_bootstrap_weights
from csatlib.stats.importance import weighted_correlation


def test_collapsed_moments_equal_row_level():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, size=(5000, 3)).astype(float)
    w = rng.uniform(0.2, 3, 5000)
    p = collapse(x, w)
    assert len(p.weight) < 5000 / 2  # 125 possible patterns
    assert p.n_rows == 5000 and p.weight.sum() == pytest.approx(w.sum())
    assert p.n_eff == pytest.approx(w.sum() ** 2 / (w ** 2).sum())
    assert p.weight @ p.values == pytest.approx(w @ x)
    assert weighted_correlation(p.values, p.weight) == pytest.approx(weighted_correlation(x, w), abs=1e-12)
    # every pattern is a row of x, and its count is how often it occurs
    for row, count in zip(p.values[:10], p.count[:10]):
        assert (x == row).all(axis=1).sum() == count


def test_bootstrap_equals_row_poisson_when_weights_are_equal():
    x = np.repeat(np.arange(4.0)[:, None], [10, 20, 30, 40], axis=0)
    p = collapse(x, np.full(len(x), 2.0))
    draws = np.array([poisson_bootstrap_weights(p, np.random.default_rng(s)) for s in range(2000)])
    # Σ over c rows of 2·Poisson(1) = 2·Poisson(c): mean 2c, variance 4c
    assert draws.mean(axis=0) == pytest.approx(2 * p.count, rel=0.03)
    assert draws.var(axis=0) == pytest.approx(4 * p.count, rel=0.1)
    assert np.all(draws % 2 == 0)


def test_empty_input():
    p = collapse(np.zeros((0, 2)))
    assert p.n_rows == 0 and len(p.weight) == 0


def test_index_maps_rows_to_their_pattern():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 4, size=(300, 2)).astype(float)
    w = rng.uniform(0.5, 2, 300)
    p = collapse(x, w)
    np.testing.assert_array_equal(p.values[p.index], x)
    assert np.bincount(p.index, weights=w) == pytest.approx(p.weight)
