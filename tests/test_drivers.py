"""Key drivers against R (relaimpo, rwa) on the swiss data, brute force, and constructed cases."""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from csatlib.analysis.drivers import (MAX_EXACT_PREDICTORS, ipa_quadrants, key_drivers, relative_weights, shapley_r2, weighted_correlation)
from csatlib.spec import parse_spec

SWISS = pd.read_csv(Path(__file__).parent / "fixtures" / "swiss.csv", index_col=0)
PREDICTORS = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]


def swiss_corr(weights=None, data=SWISS):
    r = weighted_correlation(data[["Fertility", *PREDICTORS]].to_numpy(), weights)
    return r[1:, 1:], r[0, 1:]


def test_swiss_transcription_matches_r_lm():
    # R: coef(lm(Fertility ~ ., data = swiss)); summary(...)$r.squared
    fit = sm.OLS(SWISS["Fertility"], sm.add_constant(SWISS[PREDICTORS])).fit()
    assert fit.params.to_numpy() == pytest.approx([66.91518, -0.17211, -0.25801, -0.87094, 0.10412, 1.07705],
                                                  abs=5e-5)
    assert fit.rsquared == pytest.approx(0.706735, abs=1e-6)


def test_lmg_matches_relaimpo():
    # R: relaimpo::calc.relimp(lm(Fertility ~ ., data = swiss), type = "lmg")
    lmg, method = shapley_r2(*swiss_corr())
    assert lmg.sum() == pytest.approx(0.706735, abs=1e-6)
    assert lmg == pytest.approx([0.05709, 0.17117, 0.26013, 0.10557, 0.11277], abs=6e-6)
    assert method.startswith("exact")


def test_relative_weights_match_johnson():
    # Johnson (2000) relative weights, e.g. R: rwa::rwa(swiss, "Fertility", names(swiss)[-1])
    rw = relative_weights(*swiss_corr())
    assert rw == pytest.approx([0.04842, 0.15471, 0.27196, 0.11468, 0.11697], abs=6e-6)
    assert rw.sum() == pytest.approx(0.706735, abs=1e-6)


def brute_force_shapley(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Shapley values of R² by averaging increments over every permutation, each R² from OLS."""
    p = x.shape[1]

    def r2(cols):
        if not cols:
            return 0.0
        return sm.OLS(y, sm.add_constant(x[:, list(cols)])).fit().rsquared

    cache: dict[frozenset, float] = {}
    values = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        seen: list[int] = []
        for j in order:
            before = cache.setdefault(frozenset(seen), r2(seen))
            seen.append(j)
            after = cache.setdefault(frozenset(seen), r2(seen))
            values[j] += after - before
    return values / len(perms)


def test_shapley_equals_brute_force_and_sums_to_r2():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    y = x @ rng.normal(size=5) + rng.normal(0, 2, 300)
    r = weighted_correlation(np.column_stack([y, x]))
    values, _ = shapley_r2(r[1:, 1:], r[0, 1:])
    assert values == pytest.approx(brute_force_shapley(x, y), abs=1e-10)
    full = sm.OLS(y, sm.add_constant(x)).fit().rsquared
    assert values.sum() == pytest.approx(full, abs=1e-12)


def test_sampled_shapley_above_the_exact_limit_sums_to_r2():
    rng = np.random.default_rng(5)
    p = MAX_EXACT_PREDICTORS + 1
    x = rng.normal(size=(400, p))
    y = x[:, :3].sum(axis=1) + rng.normal(size=400)
    r = weighted_correlation(np.column_stack([y, x]))
    values, method = shapley_r2(r[1:, 1:], r[0, 1:])
    assert "random orders" in method
    assert values.sum() == pytest.approx(sm.OLS(y, sm.add_constant(x)).fit().rsquared, abs=1e-10)
    assert set(np.argsort(-values)[:3]) == {0, 1, 2}


def test_weights_equal_duplicated_rows():
    doubled = pd.concat([SWISS, SWISS])
    lmg_dup, _ = shapley_r2(*swiss_corr(data=doubled))
    lmg_w, _ = shapley_r2(*swiss_corr(weights=np.full(len(SWISS), 2.0)))
    assert lmg_w == pytest.approx(lmg_dup, abs=1e-12)
    assert relative_weights(*swiss_corr(weights=np.full(len(SWISS), 2.0))) == pytest.approx(
        relative_weights(*swiss_corr(data=doubled)), abs=1e-12)
    # and unequal weights equal the rows repeated that many times
    reps = np.random.default_rng(1).integers(1, 4, len(SWISS))
    repeated = SWISS.loc[SWISS.index.repeat(reps)]
    assert shapley_r2(*swiss_corr(weights=reps.astype(float)))[0] == pytest.approx(
        shapley_r2(*swiss_corr(data=repeated))[0], abs=1e-12)


def test_ipa_quadrants_on_a_constructed_example():
    importance = [0.40, 0.30, 0.10, 0.20]  # mean 0.25
    performance = [5.0, 6.0, 5.5, 6.5]  # mean 5.75
    assert ipa_quadrants(importance, performance) == [
        "Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"]


SPEC = {
    "name": "d", "id": "id", "weight": "w",
    "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
    "dimensions": {"质量": {"perception": "p1", "expectation": "e1", "scale": [1, 7]},
                   "服务": {"perception": "p2", "expectation": "e2", "scale": [1, 7]},
                   "价格": {"perception": "p3", "scale": [1, 7]}},
}


def make_frame(n=800, seed=3):
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 8, size=(n, 3)).astype(float)
    e = rng.integers(1, 8, size=(n, 2)).astype(float)
    sat = np.clip(np.rint(1 + 0.9 * p[:, 0] + 0.4 * p[:, 1] - 0.3 * p[:, 2] + rng.normal(0, 1, n)), 1, 10)
    f = pd.DataFrame({"id": range(n), "w": rng.uniform(0.5, 2, n), "sat": sat, "p1": p[:, 0], "p2": p[:, 1],
                      "p3": p[:, 2], "e1": e[:, 0], "e2": e[:, 1]})
    from csatlib.ingest.load import add_derived_columns

    return add_derived_columns(f, parse_spec(SPEC))


def test_key_drivers_on_a_survey_frame():
    spec = parse_spec(SPEC)
    frame = make_frame()
    res = key_drivers(frame, spec, n_boot=50)
    t = res.table.set_index("dimension")
    assert list(t.index) == ["质量", "服务", "价格"]
    assert t["lmg"].sum() == pytest.approx(res.r2)
    assert t["lmg_share"].sum() == pytest.approx(1.0)
    assert t.loc["质量", "lmg_share"] == t["lmg_share"].max()
    assert t.loc["价格", "sign"] == -1 and t.loc["质量", "sign"] == 1  # a dimension that hurts
    assert (t["lmg_share_ci_low"] <= t["lmg_share"]).all() and (t["lmg_share"] <= t["lmg_share_ci_high"]).all()
    assert any("Negative coefficient" in n for n in res.notes)
    w = frame["w"].to_numpy()
    assert t.loc["服务", "performance"] == pytest.approx(np.sum(w * frame["p2"]) / w.sum())
    # the weighted fit's R² equals WLS R² from statsmodels
    wls = sm.WLS(frame["sat"], sm.add_constant(frame[["p1", "p2", "p3"]]), weights=w).fit()
    assert res.r2 == pytest.approx(wls.rsquared, abs=1e-10)
    ests = {e.id: e for e in res.estimates()}
    assert ests["driver.质量"].estimate == pytest.approx(t.loc["质量", "lmg_share"])


def test_bootstrap_is_seeded():
    spec = parse_spec(SPEC)
    a = key_drivers(make_frame(), spec, n_boot=30).table
    b = key_drivers(make_frame(), spec, n_boot=30).table
    pd.testing.assert_frame_equal(a, b)


def test_gap_drivers_use_dimensions_with_expectations_only():
    spec = parse_spec(SPEC)
    res = key_drivers(make_frame(), spec, predictors="gap", n_boot=0)
    assert list(res.table["dimension"]) == ["质量", "服务"]
    assert math.isnan(res.table["lmg_share_ci_low"][0])


def test_too_few_dimensions_is_skipped():
    doc = {**SPEC, "dimensions": {"a": {"perception": "p1", "scale": [1, 7]}}}
    assert key_drivers(make_frame(), parse_spec(doc)) is None
