"""Means of a partition's groups and of their complements in one pass equal the one-domain-at-a-time
estimators: the textbook weighted mean of the domain's rows and the weights-only design's domain mean."""
from __future__ import annotations

import math

import numpy as np
import pytest

from csatlib.stats.estimators import weighted_mean
from csatlib.stats.partition import partition_means
from csatlib.stats.survey import SurveyDesign


def _close(a, b, tol=1e-12):
    for field in ("mean", "se", "n_eff", "deff"):
        x, y = getattr(a, field), getattr(b, field)
        if x is None or y is None:
            assert x is None and y is None, field
        elif math.isnan(y):
            assert math.isnan(x), field
        else:
            assert x == pytest.approx(y, rel=tol, abs=1e-15), field
    assert a.n == b.n and a.design_df == b.design_df


def _wave(seed, n=5000, groups=6):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    y = rng.integers(1, 11, n).astype(float)
    y[rng.random(n) < 0.1] = np.nan  # not answered
    w = rng.gamma(2.0, 0.5, n)
    y[g == 1] = 4.0  # a group answering one value
    y[g == 2] = np.nan  # a group with no answer at all
    keep = np.flatnonzero(g == 3)[:1]  # a group of one respondent
    g[(g == 3)] = 0
    g[keep] = 3
    return y, w, g, groups


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_textbook_means_equal_each_domain_on_its_own(seed):
    y, w, g, k = _wave(seed)
    for j, (inside, rest) in enumerate(partition_means(y, w, g, k)):
        _close(inside, weighted_mean(y[g == j], w[g == j]))
        _close(rest, weighted_mean(y[g != j], w[g != j]))


@pytest.mark.parametrize("seed", [4, 5])
def test_design_domain_means_equal_svyby_one_domain_at_a_time(seed):
    y, w, g, k = _wave(seed)
    w[:7] = 0.0  # rows outside the sample count in no domain
    design = SurveyDesign(weights=w)
    split = design.partition_means(y, g, k)
    for j, (inside, rest) in enumerate(split):
        _close(inside, design.mean(y, g == j))
        _close(rest, design.mean(y, g != j))


def test_a_constant_rest_has_an_exact_mean_and_no_variance():
    y = np.array([2.0, 2.0, 2.0, 7.0, 1.0])
    w = np.array([0.3, 1.7, 1.1, 0.9, 1.2])
    g = np.array([0, 0, 0, 1, 2])
    inside, rest = partition_means(y, w, g, 3)[0]
    assert inside.mean == 2.0 and inside.se == 0.0
    _, rest_of_two = partition_means(np.array([5.0, 5.0, 5.0, 3.0]), w[:4], np.array([0, 1, 1, 2]), 3)[2]
    assert rest_of_two.mean == 5.0 and rest_of_two.se == 0.0


def test_a_complex_design_is_left_to_one_domain_at_a_time():
    design = SurveyDesign(weights=np.ones(6), strata=np.array(["a", "a", "a", "b", "b", "b"]))
    assert design.partition_means(np.arange(6.0), np.array([0, 1, 0, 1, 0, 1]), 2) is None


def test_a_domain_view_of_a_larger_design_gives_its_domain_means():
    """A batch segment's design is a view of the whole wave's: its one-pass means equal
    ``mean`` on that view, with the whole design's unit count in the variance."""
    y, w, g, k = _wave(6, n=4000)
    whole = SurveyDesign(weights=w)
    keep = np.arange(len(y)) % 3 != 0
    view = whole.subset(keep)
    for j, (inside, rest) in enumerate(view.partition_means(y[keep], g[keep], k)):
        _close(inside, view.mean(y[keep], g[keep] == j))
        _close(rest, view.mean(y[keep], g[keep] != j))
