"""Key drivers against R (relaimpo, rwa) on the swiss data, brute force, direct computations and
constructed cases; the decomposition itself is :mod:`csatlib.stats.importance` (test_importance)."""
from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from csatlib.analysis.drivers import DriversSkipped, ipa_quadrants, key_drivers
from csatlib.ingest.load import add_derived_columns
from csatlib.results import DriverAnalysis, Results
from csatlib.spec import parse_spec
from csatlib.stats.importance import (EXACT_MAX, MC_ERROR, decompose, logistic_relative_weights, relative_weights,
                                      shapley_r2, weighted_correlation)

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
    d = shapley_r2(*swiss_corr())
    assert d.values.sum() == pytest.approx(0.706735, abs=1e-6)
    assert d.values == pytest.approx([0.05709, 0.17117, 0.26013, 0.10557, 0.11277], abs=6e-6)
    assert d.method.startswith("exact")


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
    d = decompose(np.column_stack([y, x]))
    assert d.lmg == pytest.approx(brute_force_shapley(x, y), abs=1e-10)
    full = sm.OLS(y, sm.add_constant(x)).fit().rsquared
    assert d.lmg.sum() == pytest.approx(full, abs=1e-12)


def test_weights_equal_duplicated_rows():
    doubled = pd.concat([SWISS, SWISS])
    assert shapley_r2(*swiss_corr(weights=np.full(len(SWISS), 2.0))).values == pytest.approx(
        shapley_r2(*swiss_corr(data=doubled)).values, abs=1e-12)
    assert relative_weights(*swiss_corr(weights=np.full(len(SWISS), 2.0))) == pytest.approx(
        relative_weights(*swiss_corr(data=doubled)), abs=1e-12)
    # and unequal weights equal the rows repeated that many times
    reps = np.random.default_rng(1).integers(1, 4, len(SWISS))
    repeated = SWISS.loc[SWISS.index.repeat(reps)]
    assert shapley_r2(*swiss_corr(weights=reps.astype(float))).values == pytest.approx(
        shapley_r2(*swiss_corr(data=repeated)).values, abs=1e-12)


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
    assert res.method.startswith("exact") and res.mc_error is None and (t["lmg_share_mc_se"] == 0).all()
    w = frame["w"].to_numpy()
    assert t.loc["服务", "performance"] == pytest.approx(np.sum(w * frame["p2"]) / w.sum())
    # the weighted fit's R² equals WLS R² from statsmodels
    wls = sm.WLS(frame["sat"], sm.add_constant(frame[["p1", "p2", "p3"]]), weights=w).fit()
    assert res.r2 == pytest.approx(wls.rsquared, abs=1e-10)
    ests = {e.id: e for e in res.estimates()}
    assert ests["driver.质量"].estimate == pytest.approx(t.loc["质量", "lmg_share"])


def test_exact_values_equal_the_row_level_decomposition():
    # collapsing into answer patterns changes nothing: same numbers as decomposing every row
    spec = parse_spec(SPEC)
    frame = make_frame(n=1500, seed=8)
    res = key_drivers(frame, spec, n_boot=0)
    direct = decompose(frame[["sat", "p1", "p2", "p3"]].to_numpy(float), frame["w"].to_numpy())
    assert res.table["lmg"].to_numpy() == pytest.approx(direct.lmg, abs=1e-9)
    assert res.table["rw"].to_numpy() == pytest.approx(direct.rw, abs=1e-9)
    assert res.table["std_coefficient"].to_numpy() == pytest.approx(direct.beta, abs=1e-9)
    assert res.bootstrap == 0 and res.table["lmg_share_ci_low"].isna().all()


def test_bootstrap_is_seeded():
    spec = parse_spec(SPEC)
    a = key_drivers(make_frame(), spec, n_boot=30).table
    b = key_drivers(make_frame(), spec, n_boot=30).table
    pd.testing.assert_frame_equal(a, b)
    c = key_drivers(make_frame(), spec, n_boot=30, seed=1).table
    assert not np.array_equal(a["lmg_share_ci_low"], c["lmg_share_ci_low"])


def test_gap_drivers_use_dimensions_with_expectations_only():
    spec = parse_spec(SPEC)
    res = key_drivers(make_frame(), spec, predictors="gap", n_boot=0)
    assert list(res.table["dimension"]) == ["质量", "服务"]
    assert math.isnan(res.table["lmg_share_ci_low"][0])


# --- why the analysis was skipped ----------------------------------------------------------------

def test_too_few_dimensions_is_skipped_with_a_reason():
    doc = {**SPEC, "dimensions": {"a": {"perception": "p1", "scale": [1, 7]}}}
    with pytest.raises(DriversSkipped, match="fewer than two dimensions") as info:
        key_drivers(make_frame(), parse_spec(doc))
    assert info.value.reason == "dimensions"
    doc = {**SPEC, "dimensions": {**SPEC["dimensions"], "服务": {"perception": "p2", "scale": [1, 7]}}}
    with pytest.raises(DriversSkipped, match="expectation item") as info:
        key_drivers(make_frame(), parse_spec(doc), predictors="gap")


def test_constant_dimension_is_named():
    frame = make_frame()
    frame["p2"] = 4.0
    with pytest.raises(DriversSkipped, match="服务 has the same value for every respondent") as info:
        key_drivers(frame, parse_spec(SPEC), n_boot=5)
    assert info.value.reason == "zero variance"


def test_collinear_dimensions_are_named():
    frame = make_frame()
    frame["p3"] = frame["p1"]
    with pytest.raises(DriversSkipped, match="linearly dependent") as info:
        key_drivers(frame, parse_spec(SPEC), n_boot=5)
    assert info.value.reason == "collinear" and "质量" in str(info.value) and "价格" in str(info.value)


def test_too_few_complete_answers():
    frame = make_frame(n=40)
    frame.loc[3:, "p1"] = np.nan
    with pytest.raises(DriversSkipped, match="only 3 respondents") as info:
        key_drivers(frame, parse_spec(SPEC))
    assert info.value.reason == "rows"


def test_stage_records_the_reason(monkeypatch):
    from csatlib.results import Provenance
    from csatlib.run.stages import analyse

    frame = make_frame()
    frame["p2"] = 4.0
    res = analyse(frame, parse_spec(SPEC), wave="W", rows={"read": len(frame), "clean": len(frame),
                                                             "quarantined": 0}, provenance=Provenance())
    # a constant dimension leaves the decomposition with its reason; the others keep their shares
    assert "服务" in res.skipped["drivers.服务"] and "no variance" in res.skipped["drivers.服务"]
    assert list(res.drivers.table["dimension"]) == ["质量", "价格"]
    assert res.drivers.table["lmg_share"].sum() == pytest.approx(1.0)


# --- many items: the sampled regime, end to end ---------------------------------------------------

def wide_survey(k: int, n: int = 3000, seed: int = 16):
    """A weighted survey frame with ``k`` correlated 1-7 ratings (one halo factor) and its spec."""
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    load = rng.uniform(0.5, 0.8, k)
    latent = halo[:, None] * load + rng.normal(size=(n, k)) * np.sqrt(1 - load ** 2)
    ratings = np.clip(np.rint(4.5 + 1.3 * latent), 1, 7)
    sat = np.clip(np.rint(6 + latent @ rng.gamma(0.6, 1, k) * 0.5 + rng.normal(0, 1.5, n)), 1, 10)
    frame = pd.DataFrame({"id": range(n), "w": rng.uniform(0.5, 2, n), "sat": sat})
    dims = {}
    for j in range(k):
        frame[f"a{j}"] = ratings[:, j]
        dims[f"属性{j + 1}"] = {"perception": f"a{j}", "scale": [1, 7]}
    spec = parse_spec({"name": "wide", "id": "id", "weight": "w",
                       "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8}, "dimensions": dims})
    return add_derived_columns(frame, spec), spec


def test_sixteen_items_sampled_within_stated_error_of_exact():
    frame, spec = wide_survey(16)
    exact = key_drivers(frame, spec, n_boot=40)  # 16 items are exact by default
    assert EXACT_MAX >= 16 and exact.method.startswith("exact") and exact.mc_error is None
    rows = frame[["sat", *[f"a{j}" for j in range(16)]]].to_numpy(float)
    assert exact.table["lmg"].to_numpy() == pytest.approx(decompose(rows, frame["w"].to_numpy()).lmg, abs=1e-9)

    sampled = key_drivers(frame, spec, n_boot=40, exact_max=15)  # force the sampled regime
    t, e = sampled.table, exact.table
    assert sampled.method.startswith("sampled") and "Monte Carlo" in sampled.method
    assert 0 < sampled.mc_error <= MC_ERROR
    assert sampled.mc_error == pytest.approx(t["lmg_share_mc_se"].max())
    assert (t["lmg_share_mc_se"] > 0).all()
    assert np.all(np.abs(t["lmg_share"] - e["lmg_share"]) <= 4 * t["lmg_share_mc_se"])
    assert t["lmg"].sum() == pytest.approx(exact.r2, abs=1e-12)  # sampled shares still add up to R²
    # the exact share lies inside the sampled run's interval, which contains its own point estimate
    assert ((t["lmg_share_ci_low"] <= e["lmg_share"]) & (e["lmg_share"] <= t["lmg_share_ci_high"])).all()
    assert ((t["lmg_share_ci_low"] <= t["lmg_share"]) & (t["lmg_share"] <= t["lmg_share_ci_high"])).all()
    # the Monte Carlo error widens the interval beyond the bootstrap percentiles of the exact run
    width = (t["lmg_share_ci_high"] - t["lmg_share_ci_low"]).to_numpy()
    assert np.median(width / (e["lmg_share_ci_high"] - e["lmg_share_ci_low"]).to_numpy()) > 1
    # Johnson's weights are exact in both
    assert t["rw"].to_numpy() == pytest.approx(e["rw"].to_numpy(), abs=1e-12)
    again = key_drivers(frame, spec, n_boot=40, exact_max=15)
    pd.testing.assert_frame_equal(t, again.table)


def test_forty_items_and_the_report_states_the_error():
    from csatlib.report.views import priorities_section

    frame, spec = wide_survey(40, n=1000, seed=40)
    res = key_drivers(frame, spec, n_boot=20)
    assert res.method.startswith("sampled") and res.mc_error <= MC_ERROR
    assert res.table["lmg_share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert res.table["rw_share"].sum() == pytest.approx(1.0, abs=1e-12)
    doc = json.loads(json.dumps(Results("wide", "W", None, True, {}, drivers=res).to_dict()))
    assert doc["models"]["drivers"]["mc_error"] == pytest.approx(res.mc_error)
    assert DriverAnalysis.from_dict(doc["models"]["drivers"]).mc_error == pytest.approx(res.mc_error)
    html = str(priorities_section(Results("wide", "W", None, True, {}, drivers=res)))
    assert "Monte Carlo error" in html and f"{100 * res.mc_error:.1f} points of share" in html


# --- a binary outcome ------------------------------------------------------------------------------

def binary_spec(spec, positive=("满意",)):
    sat = spec.satisfaction
    return replace(spec, satisfaction=SimpleNamespace(column=sat.column, title=sat.title, scale=sat.scale,
                                                      type="binary", positive=positive))


def test_binary_outcome_uses_logistic_relative_weights():
    spec = parse_spec(SPEC)
    frame = make_frame(n=1200, seed=5)
    frame["sat"] = np.where(frame["sat"] >= 7, "满意", "不满意")
    res = key_drivers(frame, binary_spec(spec), n_boot=30)
    y = (frame["sat"] == "满意").to_numpy(float)
    rows = np.column_stack([y, frame[["p1", "p2", "p3"]].to_numpy(float)])
    w = frame["w"].to_numpy()
    # Shapley/LMG of the linear probability model, Johnson's weights for logistic regression
    assert res.table["lmg"].to_numpy() == pytest.approx(decompose(rows, w).lmg, abs=1e-9)
    logistic = logistic_relative_weights(rows, w)
    assert res.table["rw"].to_numpy() == pytest.approx(logistic.rw, abs=1e-9)
    assert res.table["rw_share"].sum() == pytest.approx(1.0)
    assert "Tonidandel & LeBreton" in res.method and "linear probability model" in res.method
    assert any("binary" in n for n in res.notes)
    assert list(res.table["quadrant"]) == ipa_quadrants(res.table["rw_share"], res.table["performance"])
    t = res.table
    assert ((t["rw_share_ci_low"] <= t["rw_share"]) & (t["rw_share"] <= t["rw_share_ci_high"])).all()
    assert t.set_index("dimension").loc["价格", "sign"] == -1


def test_binary_outcome_coded_0_1_without_positive_answers():
    spec = parse_spec(SPEC)
    frame = make_frame(n=600, seed=6)
    frame["sat"] = (frame["sat"] >= 7).astype(int)
    coded = key_drivers(frame, binary_spec(spec, positive=None), n_boot=0)
    as_text = frame.assign(sat=np.where(frame["sat"] == 1, "yes", "no"))
    named = key_drivers(as_text, binary_spec(spec, positive=("yes",)), n_boot=0)
    pd.testing.assert_frame_equal(coded.table, named.table)
    frame["sat"] = np.where(frame["sat"] == 1, 2, 1)
    with pytest.raises(DriversSkipped, match="not coded 0/1"):
        key_drivers(frame, binary_spec(spec, positive=None), n_boot=0)
