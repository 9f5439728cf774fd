"""csatlib.stats.importance against independent references.

R (relaimpo, rwa) on the swiss data; brute force over every permutation with R² from least squares
on the raw rows; direct per-subset solves; the exact decomposition for the sampled regime;
duplicated rows for frequency weights.
"""
from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _load_importance():
    """``csatlib.stats.importance``; loaded from its file while ``csatlib.stats`` is still the
    module ``stats.py`` (the ``stats/`` package is wired in separately)."""
    try:
        return importlib.import_module("csatlib.stats.importance")
    except ImportError:
        path = Path(__file__).resolve().parents[1] / "csatlib" / "stats" / "importance.py"
        spec = importlib.util.spec_from_file_location("_csatlib_stats_importance", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module


imp = _load_importance()

SWISS = pd.read_csv(Path(__file__).parent / "fixtures" / "swiss.csv", index_col=0)
PREDICTORS = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
R_LMG = [0.05709, 0.17117, 0.26013, 0.10557, 0.11277]  # relaimpo::calc.relimp(..., type = "lmg")
R_RW = [0.04842, 0.15471, 0.27196, 0.11468, 0.11697]  # rwa::rwa(swiss, "Fertility", names(swiss)[-1])
R_R2 = 0.706735  # summary(lm(Fertility ~ ., data = swiss))$r.squared


def correlated(k: int, n: int = 400, seed: int = 0, halo: bool = False) -> np.ndarray:
    """Columns (y, x_1..x_k) of correlated random data."""
    rng = np.random.default_rng(seed)
    if halo:  # one common factor, as in rating batteries
        f = rng.normal(size=n)
        lam = rng.uniform(0.5, 0.8, k)
        x = f[:, None] * lam + rng.normal(size=(n, k)) * np.sqrt(1 - lam ** 2)
        y = x @ (rng.gamma(0.5, 1, k) * 0.3) + rng.normal(size=n)
    else:
        x = rng.normal(size=(n, k)) @ rng.normal(size=(k, k))
        y = x @ rng.normal(size=k) + rng.normal(0, 3, n)
    return np.column_stack([y, x])


def split(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return r[1:, 1:], r[0, 1:]


def direct_r2(rxx: np.ndarray, rxy: np.ndarray, mask: int) -> float:
    idx = [j for j in range(len(rxy)) if mask >> j & 1]
    if not idx:
        return 0.0
    r = rxy[idx]
    return float(r @ np.linalg.solve(rxx[np.ix_(idx, idx)], r))


def lstsq_r2(x: np.ndarray, y: np.ndarray, cols) -> float:
    if not cols:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x[:, list(cols)]])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return 1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)


# --- R on the swiss data --------------------------------------------------------------------------

def test_swiss_matches_relaimpo_and_rwa():
    d = imp.decompose(SWISS[["Fertility", *PREDICTORS]].to_numpy())
    assert d.r2 == pytest.approx(R_R2, abs=1e-6)
    assert d.lmg == pytest.approx(R_LMG, abs=6e-6)
    assert d.rw == pytest.approx(R_RW, abs=6e-6)
    assert d.lmg.sum() == pytest.approx(d.r2, abs=1e-13)
    assert d.rw.sum() == pytest.approx(d.r2, abs=1e-13)
    assert d.shapley.exact and d.shapley.method.startswith("exact")
    assert d.shapley.orderings is None and d.shapley.mc_se is None
    # R: coef(lm(scale(Fertility) ~ scale(.), data = swiss)) via the raw coefficients × sd(x)/sd(y)
    raw = np.array([-0.17211, -0.25801, -0.87094, 0.10412, 1.07705])
    sd = SWISS[PREDICTORS].std().to_numpy() / SWISS["Fertility"].std()
    assert d.beta == pytest.approx(raw * sd, abs=2e-5)


def test_swiss_correlation_level_functions_agree():
    rxx, rxy = split(imp.weighted_correlation(SWISS[["Fertility", *PREDICTORS]].to_numpy()))
    assert imp.shapley_r2(rxx, rxy).values == pytest.approx(R_LMG, abs=6e-6)
    assert imp.relative_weights(rxx, rxy) == pytest.approx(R_RW, abs=6e-6)
    assert imp.all_subsets_r2(rxx, rxy)[-1] == pytest.approx(R_R2, abs=1e-6)


# --- brute force --------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [4, 5, 6])
def test_shapley_equals_every_permutation_with_lstsq_r2(k):
    z = correlated(k, n=250, seed=k)
    y, x = z[:, 0], z[:, 1:]
    cache: dict[frozenset, float] = {}

    def r2(cols):
        key = frozenset(cols)
        if key not in cache:
            cache[key] = lstsq_r2(x, y, sorted(cols))
        return cache[key]

    brute = np.zeros(k)
    perms = list(itertools.permutations(range(k)))
    for order in perms:
        for i, j in enumerate(order):
            brute[j] += r2(order[:i + 1]) - r2(order[:i])
    brute /= len(perms)
    d = imp.decompose(z)
    assert d.lmg == pytest.approx(brute, abs=1e-10)
    assert d.r2 == pytest.approx(r2(range(k)), abs=1e-12)
    assert d.lmg.sum() == pytest.approx(d.r2, abs=1e-12)


@pytest.mark.parametrize("k", [12, 13, 14, 15])
def test_exact_equals_direct_per_subset_solves(k):
    assert k <= imp.EXACT_MAX
    rxx, rxy = split(imp.weighted_correlation(correlated(k, seed=100 + k)))
    direct = np.array([direct_r2(rxx, rxy, m) for m in range(1 << k)])
    assert imp.all_subsets_r2(rxx, rxy) == pytest.approx(direct, abs=1e-9)
    # the Shapley weights |S|!(k-|S|-1)!/k! applied to the direct R² (the previous implementation's maths)
    fact = [math.factorial(s) for s in range(k + 1)]
    masks = np.arange(1 << k)
    size = np.array([bin(m).count("1") for m in masks])
    weight = np.array([fact[s] * fact[k - s - 1] / fact[k] if s < k else 0.0 for s in size])
    expected = np.zeros(k)
    for j in range(k):
        without = masks[(masks >> j & 1) == 0]
        expected[j] = np.sum(weight[without] * (direct[without | (1 << j)] - direct[without]))
    d = imp.shapley_r2(rxx, rxy)
    assert d.exact
    assert d.values == pytest.approx(expected, abs=1e-9)
    assert d.values.sum() == pytest.approx(direct[-1], abs=1e-12)


def test_subset_r2_takes_masks_or_booleans():
    k = 9
    rxx, rxy = split(imp.weighted_correlation(correlated(k, seed=3)))
    rng = np.random.default_rng(0)
    masks = np.concatenate([[0, (1 << k) - 1], rng.integers(0, 1 << k, 200)])
    direct = np.array([direct_r2(rxx, rxy, int(m)) for m in masks])
    assert imp.subset_r2(rxx, rxy, masks) == pytest.approx(direct, abs=1e-12)
    members = (masks[:, None] >> np.arange(k) & 1).astype(bool)
    assert imp.subset_r2(rxx, rxy, members) == pytest.approx(direct, abs=1e-12)
    assert imp.subset_r2(rxx, rxy, masks) == pytest.approx(imp.all_subsets_r2(rxx, rxy)[masks], abs=1e-12)


# --- the sampled regime -------------------------------------------------------------------------

@pytest.mark.parametrize("halo", [False, True])
def test_sampled_within_its_monte_carlo_error_of_exact(halo):
    k = 16
    rxx, rxy = split(imp.weighted_correlation(correlated(k, n=2000, seed=16, halo=halo)))
    exact = imp.shapley_r2(rxx, rxy, exact_max=16)
    assert exact.exact and exact.method.startswith("exact")
    # sixteen predictors are exact by default (EXACT_MAX = 16): force the sampled regime
    sampled = imp.shapley_r2(rxx, rxy, exact_max=15, rng=np.random.default_rng(20261123))
    assert not sampled.exact and sampled.method.startswith("sampled")
    assert sampled.orderings > 0 and sampled.orderings % (2 * k) == 0
    assert np.all(sampled.share_mc_se <= imp.MC_ERROR)
    assert sampled.mc_se == pytest.approx(sampled.share_mc_se * exact.r2, rel=1e-12)
    assert np.all(np.abs(sampled.values - exact.values) < 4 * sampled.mc_se)
    assert sampled.values.sum() == pytest.approx(exact.values.sum(), abs=1e-12)
    assert sampled.shares.sum() == pytest.approx(1.0, abs=1e-12)


def test_sampled_wide_sums_to_r2_and_reaches_target():
    k = 40
    z = correlated(k, n=3000, seed=40, halo=True)
    d = imp.decompose(z, rng=np.random.default_rng(1))
    assert not d.shapley.exact
    assert d.lmg.sum() == pytest.approx(d.r2, abs=1e-12)
    assert d.shapley.share_mc_se.max() <= imp.MC_ERROR
    assert d.rw.sum() == pytest.approx(d.r2, abs=1e-12)
    assert d.r2 == pytest.approx(lstsq_r2(z[:, 1:], z[:, 0], range(k)), abs=1e-10)
    # Johnson's weights track the Shapley values closely on such data
    assert np.corrcoef(d.lmg, d.rw)[0, 1] > 0.9


def test_fresh_orderings_per_replicate():
    rxx, rxy = split(imp.weighted_correlation(correlated(20, seed=5)))
    rng = np.random.default_rng(11)
    first = imp.shapley_r2(rxx, rxy, rng=rng)
    second = imp.shapley_r2(rxx, rxy, rng=rng)  # same Generator, advanced: new orderings
    assert not np.array_equal(first.values, second.values)
    assert np.abs(first.values - second.values).max() < 8 * max(first.mc_se.max(), second.mc_se.max())
    # the same seed reproduces the same numbers
    again = imp.shapley_r2(rxx, rxy, rng=np.random.default_rng(11))
    assert np.array_equal(first.values, again.values)


def test_cap_on_orderings_is_reported():
    rxx, rxy = split(imp.weighted_correlation(correlated(20, seed=6, halo=True)))
    d = imp.shapley_r2(rxx, rxy, rng=0, mc_error=1e-6, max_orderings=800)
    assert d.orderings == 800  # whole blocks of 2k = 40 orderings
    assert "cap" in d.method
    assert d.values.sum() == pytest.approx(imp.all_subsets_r2(rxx, rxy)[-1], abs=1e-12)


def test_one_block_of_three_predictors_is_every_ordering():
    # the 2k = 6 rotations of a cyclic order of 3 and of its reverse are all 3! orderings
    rxx, rxy = split(imp.weighted_correlation(correlated(3, seed=13)))
    for seed in range(3):
        d = imp.shapley_r2(rxx, rxy, exact_max=0, rng=seed)
        assert d.values == pytest.approx(imp.shapley_r2(rxx, rxy).values, abs=1e-14)
        assert d.mc_se == pytest.approx(np.zeros(3), abs=1e-14)


def test_exact_up_to_the_limit_agrees_with_subset_solves():
    k = imp.EXACT_LIMIT
    rxx, rxy = split(imp.weighted_correlation(correlated(k, n=1000, seed=k, halo=True)))
    every = imp.all_subsets_r2(rxx, rxy)
    masks = np.concatenate([[0, 1, (1 << k) - 1], np.random.default_rng(1).integers(0, 1 << k, 300)])
    direct = np.array([direct_r2(rxx, rxy, int(m)) for m in masks])
    assert every[masks] == pytest.approx(direct, abs=1e-12)
    assert imp.subset_r2(rxx, rxy, masks) == pytest.approx(direct, abs=1e-12)
    d = imp.shapley_r2(rxx, rxy, exact_max=k)
    assert d.exact and d.values.sum() == pytest.approx(direct[2], abs=1e-12)
    assert np.all(d.values > 0)


def test_sampled_regime_can_be_forced_for_small_k():
    rxx, rxy = split(imp.weighted_correlation(correlated(6, seed=8)))
    exact = imp.shapley_r2(rxx, rxy)
    sampled = imp.shapley_r2(rxx, rxy, exact_max=0, rng=3)
    assert not sampled.exact
    assert np.all(np.abs(sampled.values - exact.values) < 5 * sampled.mc_se + 1e-12)


# --- weights ------------------------------------------------------------------------------------

def test_integer_frequency_weights_equal_duplicated_rows():
    rng = np.random.default_rng(2)
    z = np.round(correlated(7, n=300, seed=2))  # rounded: repeated answer patterns are plausible
    freq = rng.integers(1, 5, len(z))
    rows = np.repeat(z, freq, axis=0)
    assert imp.weighted_covariance(z, freq) == pytest.approx(imp.weighted_covariance(rows), abs=1e-12)
    assert imp.weighted_correlation(z, freq) == pytest.approx(imp.weighted_correlation(rows), abs=1e-12)
    collapsed, expanded = imp.decompose(z, freq), imp.decompose(rows)
    assert collapsed.r2 == pytest.approx(expanded.r2, abs=1e-12)
    assert collapsed.lmg == pytest.approx(expanded.lmg, abs=1e-12)
    assert collapsed.rw == pytest.approx(expanded.rw, abs=1e-12)
    assert collapsed.beta == pytest.approx(expanded.beta, abs=1e-12)
    assert collapsed.vif == pytest.approx(expanded.vif, abs=1e-10)


def test_design_weights_give_weighted_least_squares():
    rng = np.random.default_rng(9)
    z = correlated(5, n=200, seed=9)
    w = rng.gamma(2.0, 0.5, len(z))
    w[:10] = 0.0  # zero weights (e.g. from a Poisson bootstrap) are allowed
    y, x = z[:, 0], z[:, 1:]
    design = np.column_stack([np.ones(len(y)), x]) * np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)[0]
    ybar = w @ y / w.sum()
    resid = y - np.column_stack([np.ones(len(y)), x]) @ coef
    r2 = 1 - (w @ resid ** 2) / (w @ (y - ybar) ** 2)
    d = imp.decompose(z, w)
    assert d.r2 == pytest.approx(r2, abs=1e-12)
    sd = lambda v: np.sqrt(w @ (v - w @ v / w.sum()) ** 2 / w.sum())  # noqa: E731
    assert d.beta == pytest.approx(coef[1:] * np.array([sd(c) for c in x.T]) / sd(y), abs=1e-10)


# --- relative weights ---------------------------------------------------------------------------

def test_relative_weights_sum_to_r2_and_match_shapley_when_orthogonal():
    rxx, rxy = split(imp.weighted_correlation(correlated(8, seed=12)))
    assert imp.relative_weights(rxx, rxy).sum() == pytest.approx(imp.all_subsets_r2(rxx, rxy)[-1], abs=1e-12)
    # exactly uncorrelated predictors: both measures are the squared correlations
    rng = np.random.default_rng(12)
    a = rng.normal(size=(100, 5))
    q, _ = np.linalg.qr(a - a.mean(axis=0))  # orthonormal columns, each centred
    y = q @ np.array([3.0, -2.0, 1.0, 0.5, 0.0]) + rng.normal(size=100)
    d = imp.decompose(np.column_stack([y, q]))
    assert d.rw == pytest.approx(d.lmg, abs=1e-12)
    assert d.lmg == pytest.approx(imp.weighted_correlation(np.column_stack([y, q]))[0, 1:] ** 2, abs=1e-12)
    assert imp.relative_weights(np.eye(3), np.array([0.5, 0.2, -0.1])) == pytest.approx([0.25, 0.04, 0.01])


def test_relative_weights_any_width():
    z = correlated(60, n=2000, seed=60)
    rxx, rxy = split(imp.weighted_correlation(z))
    rw = imp.relative_weights(rxx, rxy)
    assert rw.sum() == pytest.approx(lstsq_r2(z[:, 1:], z[:, 0], range(60)), abs=1e-10)
    assert np.all(rw >= 0)


# --- many weightings of the same rows (bootstrap replicates) --------------------------------------

def test_replicate_moments_equal_decompose_for_each_weighting():
    rng = np.random.default_rng(30)
    z = np.round(correlated(18, n=800, seed=30, halo=True) * 2) + 50  # an offset: centring matters
    base = rng.uniform(0.5, 2, len(z))
    moments = imp.ReplicateMoments(z, base)
    for _ in range(5):
        w = base * rng.poisson(1.0, len(z))
        assert moments.correlation(w) == pytest.approx(imp.weighted_correlation(z, w), abs=1e-12)
        fast = moments.decompose(w, rng=np.random.default_rng(1), mc_error=imp.REPLICATE_MC_ERROR)
        slow = imp.decompose(z, w, rng=np.random.default_rng(1), mc_error=imp.REPLICATE_MC_ERROR)
        assert fast.lmg == pytest.approx(slow.lmg, abs=1e-10) and fast.rw == pytest.approx(slow.rw, abs=1e-12)
        assert fast.shapley.orderings == slow.shapley.orderings


def test_replicate_moments_name_a_column_constant_in_one_weighting():
    z = correlated(3, n=60, seed=31)
    z[:10, 2] = 7.0
    moments = imp.ReplicateMoments(z, names=["y", "a", "b", "c"])
    w = np.zeros(len(z))
    w[:10] = 1.0  # only rows where b is constant
    with pytest.raises(imp.DegenerateDataError, match="zero variance") as err:
        moments.decompose(w)
    assert err.value.columns == ("b",)
    with pytest.raises(imp.DegenerateDataError, match="sum to zero"):
        moments.correlation(np.zeros(len(z)))
    with pytest.raises(ValueError, match="shape"):
        moments.correlation(np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        moments.correlation(-np.ones(len(z)))


# --- relative weights for a binary outcome (Tonidandel & LeBreton 2010) ---------------------------

def test_logistic_relative_weights_match_r_on_swiss():
    # tests/fixtures/r/logistic_rw_reference.R: the authors' RWA-Web steps with base R glm()
    ref = json.loads((Path(__file__).parent / "fixtures" / "r" / "logistic_rw_reference.json").read_text())
    y = (SWISS["Fertility"] > 70).to_numpy(float)
    d = imp.logistic_relative_weights(np.column_stack([y, SWISS[PREDICTORS].to_numpy()]))
    assert d.rw == pytest.approx([ref["raw_weights"][p] for p in PREDICTORS], abs=1e-9)
    assert d.beta == pytest.approx([ref["beta"][p] for p in PREDICTORS], abs=1e-9)
    assert d.r2 == pytest.approx(ref["r2"], abs=1e-9)
    assert d.rw.sum() == pytest.approx(d.r2, abs=1e-12)


def logistic_rw_directly(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """T&L relative weights written out on the rows: SVD counterparts, statsmodels Logit, ε."""
    import statsmodels.api as sm

    xs = (x - x.mean(axis=0)) / x.std(axis=0)
    u, _, vt = np.linalg.svd(xs, full_matrices=False)
    z = u @ vt  # orthogonal counterparts (columns orthonormal)
    z = z / z.std(axis=0)
    lam = np.linalg.lstsq(z, xs, rcond=None)[0]  # regression of X on Z: R_xx^{1/2}
    fit = sm.Logit(y, sm.add_constant(z)).fit(disp=False, method="newton", tol=1e-12, maxiter=100)
    b = fit.params[1:]
    prob = fit.predict()
    r2 = np.corrcoef(y, prob)[0, 1] ** 2
    beta = b * np.sqrt(r2) / np.log(prob / (1 - prob)).std()
    return (lam.T ** 2) @ beta ** 2, r2


def test_logistic_relative_weights_equal_a_direct_row_level_computation():
    rng = np.random.default_rng(21)
    n, k = 700, 5
    x = np.round(rng.normal(size=(n, k)) @ rng.normal(size=(k, k)) * 0.6 + 4)
    freq = rng.integers(1, 4, n)  # integer weights: the same as the rows repeated
    eta = (x - x.mean(axis=0)) @ np.array([0.8, -0.4, 0.0, 0.3, 0.1])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    d = imp.logistic_relative_weights(np.column_stack([y, x]), freq)
    rw, r2 = logistic_rw_directly(np.repeat(y, freq), np.repeat(x, freq, axis=0))
    assert d.rw == pytest.approx(rw, abs=1e-9)
    assert d.r2 == pytest.approx(r2, abs=1e-9)
    assert d.rw.sum() == pytest.approx(d.r2, abs=1e-12) and d.rw_share.sum() == pytest.approx(1.0)
    assert d.iterations < 30


def test_logistic_relative_weights_reject_bad_outcomes_and_separation():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3))
    with pytest.raises(ValueError, match="0/1"):
        imp.logistic_relative_weights(np.column_stack([x[:, 0] > 0, x]).astype(float) + 1)
    y = (x[:, 0] > 0).astype(float)  # x0 separates y perfectly
    with pytest.raises(imp.DegenerateDataError, match="separated") as err:
        imp.logistic_relative_weights(np.column_stack([y, x]))
    assert err.value.reason == "separation"
    with pytest.raises(imp.DegenerateDataError, match="zero variance"):
        imp.logistic_relative_weights(np.column_stack([np.ones(200), x]))


# --- degenerate data ----------------------------------------------------------------------------

def test_zero_variance_column_is_named():
    z = correlated(4, seed=1)
    z[:, 2] = 3.0
    with pytest.raises(imp.DegenerateDataError, match="zero variance") as err:
        imp.decompose(z, names=["y", "a", "b", "c", "d"])
    assert err.value.reason == "zero variance" and err.value.columns == ("b",)
    assert isinstance(err.value, ValueError)
    with pytest.raises(ValueError, match="zero variance") as err:
        imp.decompose(z)
    assert err.value.columns == (2,)


def test_constant_among_positive_weights_is_zero_variance():
    z = correlated(3, seed=4)
    w = np.zeros(len(z))
    w[:5] = 1.0
    z[:5, 0] = 2.0  # the outcome is constant where the weight is
    with pytest.raises(imp.DegenerateDataError) as err:
        imp.decompose(z, w)
    assert err.value.columns == (0,)


def test_collinear_predictors_are_named():
    z = correlated(5, seed=2)
    z[:, 4] = 2 * z[:, 1] - z[:, 2] + 1  # x4 = 2 x1 - x2 + 1 (columns of values)
    with pytest.raises(imp.DegenerateDataError, match="collinear") as err:
        imp.decompose(z)
    assert err.value.reason == "collinear"
    assert set(err.value.columns) == {1, 2, 4}
    rxx, rxy = split(imp.weighted_correlation(z))
    for f in (imp.shapley_r2, imp.relative_weights):
        with pytest.raises(ValueError, match="collinear"):
            f(rxx, rxy)


def test_bad_input_is_rejected():
    z = correlated(3, seed=5)
    with pytest.raises(ValueError, match="NaN"):
        imp.decompose(np.where(np.arange(len(z))[:, None] == 0, np.nan, z))
    with pytest.raises(ValueError, match="non-negative"):
        imp.decompose(z, -np.ones(len(z)))
    with pytest.raises(imp.DegenerateDataError, match="sum to zero"):
        imp.decompose(z, np.zeros(len(z)))
    cov = imp.weighted_covariance(z)
    with pytest.raises(ValueError, match="correlation matrix"):
        imp.shapley_r2(cov[1:, 1:], cov[0, 1:])
    with pytest.raises(ValueError, match="exact_max"):
        imp.shapley_r2(np.eye(3), np.array([0.1, 0.2, 0.3]), exact_max=imp.EXACT_LIMIT + 1)
    with pytest.raises(ValueError, match="R²"):
        imp.shapley_r2(np.eye(2), np.array([0.9, 0.9]))


def test_single_predictor_and_perfect_fit():
    z = correlated(1, seed=7)
    d = imp.decompose(z)
    assert d.lmg == pytest.approx([d.r2]) and d.rw == pytest.approx([d.r2])
    x = correlated(4, seed=7)[:, 1:]
    y = x @ np.array([1.0, -2.0, 0.5, 0.0])
    d = imp.decompose(np.column_stack([y, x]))
    assert d.r2 == pytest.approx(1.0, abs=1e-12)
    assert d.lmg.sum() == pytest.approx(1.0, abs=1e-12)
    wide = imp.decompose(np.column_stack([y, x]), exact_max=0, rng=1)
    assert wide.lmg.sum() == pytest.approx(1.0, abs=1e-12)


def test_public_names_and_frozen_results():
    for name in imp.__all__:
        assert hasattr(imp, name)
        if callable(getattr(imp, name)):
            assert "Examples" in getattr(imp, name).__doc__ or isinstance(getattr(imp, name), type)
    d = imp.shapley_r2(np.eye(2), np.array([0.6, 0.3]))
    with pytest.raises(AttributeError):
        d.exact = False
    assert d.shares == pytest.approx([0.8, 0.2])
