"""Estimators against published numbers and direct numpy/scipy computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from csatlib.stats.estimators import (MeanEstimate, holm, kish_n_eff, newcombe_interval, nps_scores, signed_rank_test, t_interval, two_proportion_z_test, weighted_mean, welch_test, wilson_interval, z_test)


@pytest.mark.parametrize("x, n, lo, hi", [
    # Newcombe RG (1998a) Two-sided confidence intervals for the single proportion: comparison of
    # seven methods. Stat Med 17:857-872, Table I, method 3 (Wilson score, no continuity correction).
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_1998a_table1(x, n, lo, hi):
    got = wilson_interval(x / n, n)
    assert got[0] == pytest.approx(lo, abs=6e-5)
    assert got[1] == pytest.approx(hi, abs=6e-5)


@pytest.mark.parametrize("x1, n1, x2, n2, lo, hi", [
    # Newcombe RG (1998b) Interval estimation for the difference between independent proportions:
    # comparison of eleven methods. Stat Med 17:873-890, Table II, method 10 (hybrid score).
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (5, 56, 0, 29, -0.0381, 0.1926),
])
def test_newcombe_method10_matches_1998b(x1, n1, x2, n2, lo, hi):
    got = newcombe_interval(x1 / n1, n1, x2 / n2, n2)
    assert got[0] == pytest.approx(lo, abs=6e-5)
    assert got[1] == pytest.approx(hi, abs=6e-5)


def test_nps_textbook_example():
    # 291 promoters, 476 passives, 395 detractors (n = 1162): NPS -8.95, SE 2.239 points with the
    # textbook formula sqrt((pP + pD - (pP - pD)^2) / n), 95% margin +-4.39.
    answers = np.array([10] * 291 + [7] * 476 + [3] * 395)
    m = weighted_mean(nps_scores(answers))
    assert m.mean == pytest.approx(-8.95, abs=0.005)
    n = 1162
    textbook_se = m.se * math.sqrt((n - 1) / n)  # ours is the mean's SE, larger by sqrt(n/(n-1))
    assert textbook_se * 1 == pytest.approx(2.239, abs=5e-4)
    pp, pd_ = 291 / n, 395 / n
    assert textbook_se == pytest.approx(100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / n), rel=1e-12)
    assert 1.959964 * m.se == pytest.approx(4.39, abs=0.01)


def test_kish_example():
    # Kish (1965): 50 respondents weighted 1 and 50 weighted 2 -> n_eff 90, deff 1.111
    w = [1] * 50 + [2] * 50
    assert kish_n_eff(w) == pytest.approx(90.0)
    assert 100 / kish_n_eff(w) == pytest.approx(1.1111, abs=1e-4)


def _linearised_se_direct(y, w):
    """The weights-only linearisation variance written out term by term (R survey::svymean)."""
    n = len(y)
    total = sum(w)
    mean = sum(wi * yi for wi, yi in zip(w, y)) / total
    scores = [wi * (yi - mean) / total for wi, yi in zip(w, y)]
    zbar = sum(scores) / n
    var = n / (n - 1) * sum((s - zbar) ** 2 for s in scores)
    return mean, math.sqrt(var)


def test_weighted_mean_and_se_match_direct_linearisation():
    rng = np.random.default_rng(11)
    y = rng.integers(1, 11, 500).astype(float)
    w = rng.uniform(0.3, 3.0, 500)
    m = weighted_mean(y, w)
    mean, se = _linearised_se_direct(y, w)
    assert m.mean == pytest.approx(mean, rel=1e-12)
    assert m.se == pytest.approx(se, rel=1e-10)
    assert m.n_eff == pytest.approx(w.sum() ** 2 / (w ** 2).sum())


def test_unweighted_se_is_the_standard_error_of_the_mean():
    y = np.random.default_rng(2).normal(5, 2, 200)
    assert weighted_mean(y).se == pytest.approx(st.sem(y), rel=1e-12)


def test_weighted_mean_drops_missing_with_their_weights():
    m = weighted_mean([1.0, np.nan, 3.0], [1.0, 100.0, 1.0])
    assert (m.mean, m.n) == (2.0, 2)


def test_t_interval_uses_n_minus_1_df():
    lo, hi = t_interval(10.0, 1.0, 9)
    assert hi - 10.0 == pytest.approx(st.t.ppf(0.975, 9))


def test_welch_matches_scipy_unweighted():
    rng = np.random.default_rng(5)
    a, b = rng.normal(7.2, 1.5, 120), rng.normal(6.8, 2.2, 90)
    ours = welch_test(weighted_mean(a), weighted_mean(b))
    ref = st.ttest_ind(a, b, equal_var=False)
    assert ours.p == pytest.approx(ref.pvalue, rel=1e-10)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-10)
    ci = ref.confidence_interval(0.95)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_z_test_by_hand():
    r = z_test(25.0, 2.0, 20.0, 1.5)
    z = 5.0 / math.sqrt(4 + 2.25)
    assert r.p == pytest.approx(2 * st.norm.sf(z))


def test_two_proportion_z_pooled_by_hand():
    r = two_proportion_z_test(56 / 70, 70, 48 / 80, 80)
    pooled = (56 + 48) / 150
    z = (56 / 70 - 48 / 80) / math.sqrt(pooled * (1 - pooled) * (1 / 70 + 1 / 80))
    assert r.p == pytest.approx(2 * st.norm.sf(abs(z)), rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.0524, 0.3339), abs=6e-5)


def test_holm_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sort ascending, multiply by (m - rank), take the running maximum, cap at 1
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    assert holm(p) == pytest.approx(adj)
    assert list(holm(p)) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_equals_statsmodels_with_ties_and_nan(monkeypatch):
    import gc

    from statsmodels.stats.multitest import multipletests

    # multipletests runs a full garbage collection on every call: 0.3 s each late in a test session
    monkeypatch.setattr(gc, "collect", lambda *args: 0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        m = int(rng.integers(1, 25))
        p = rng.uniform(0, 1, m) ** 3
        p[rng.uniform(size=m) < 0.2] = p[0]  # ties
        assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-15)
    with_nan = np.array([0.02, np.nan, 0.01])
    assert np.isnan(holm(with_nan)[1]) and holm(with_nan)[[0, 2]] == pytest.approx([0.02, 0.02])


def test_holm_leaves_nan_out_of_the_family():
    out = holm([0.01, np.nan, 0.02])
    assert np.isnan(out[1])
    assert out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.02)


def test_mean_estimate_df():
    assert MeanEstimate(1.0, 0.1, 10, 9.0).df == 9


def test_mean_estimate_uses_the_design_df_when_there_is_one():
    assert MeanEstimate(1.0, 0.1, 600, 100.0, design_df=17).df == 17
    assert MeanEstimate(1.0, 0.1, 600, 100.0).df == 599


def test_wald_test_by_hand():
    from csatlib.stats.models import wald_test

    b = np.array([0.5, -0.2, 0.1])
    v = np.array([[0.04, 0.01, 0.0], [0.01, 0.09, 0.02], [0.0, 0.02, 0.16]])
    w = float(b[1:] @ np.linalg.inv(v[1:, 1:]) @ b[1:])  # W = b' V⁻¹ b over the tested block
    f = wald_test(b, v, [1, 2], ddf=15)
    assert f["chisq"] == pytest.approx(w) and f["statistic"] == pytest.approx(w / 2)
    assert f["p"] == pytest.approx(st.f.sf(w / 2, 2, 15))
    chi = wald_test(b, v, [1, 2])
    assert chi["p"] == pytest.approx(st.chi2.sf(w, 2)) and chi["ddf"] is None


def test_welch_takes_design_df():
    a = MeanEstimate(7.0, 0.2, 600, 100.0, design_df=17)
    b = MeanEstimate(6.5, 0.3, 500, 90.0, design_df=12)
    r = welch_test(a, b)
    df = (0.04 + 0.09) ** 2 / (0.04 ** 2 / 17 + 0.09 ** 2 / 12)
    assert r.df == pytest.approx(df) and r.p == pytest.approx(2 * st.t.sf(0.5 / math.sqrt(0.13), df))


@pytest.mark.parametrize("seed", range(6))
def test_signed_rank_test_from_counts_equals_scipy_wilcoxon(seed):
    """The signed-rank test computed per distinct value equals scipy's on the rows: tied gaps with
    zeros, rounded and continuous differences, small (scipy's own exact path) and large samples."""
    rng = np.random.default_rng(seed)
    for n in (12, 50, 51, 999, 1000, 20_000):
        for values in (rng.integers(-6, 7, n).astype(float), rng.normal(0.2, 1, n).round(1), rng.normal(0, 1, n)):
            ref = st.wilcoxon(values, zero_method="wilcox")
            assert signed_rank_test(values) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12, abs=1e-300)
