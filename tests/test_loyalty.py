"""csatlib.analysis.loyalty: the satisfaction → loyalty models, the shape test and the curve,
against statsmodels, group means and R's survey package (svyolr, svyglm; tests/fixtures/r/)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from csatlib.analysis.loyalty import loyalty_models
from csatlib.ingest.load import add_derived_columns
from csatlib.spec import parse_spec

RDIR = Path(__file__).parent / "fixtures" / "r"
RREF = json.loads((RDIR / "design_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rdata():
    return pd.read_csv(RDIR / "design_data.csv")


SPEC = {"name": "m", "id": "id", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
        "nps": {"column": "rec", "scale": [0, 10]}, "loyalty": [{"column": "loy", "scale": [1, 5]}],
        "dimensions": {"a": {"perception": "pa", "expectation": "ea", "scale": [1, 7]},
                       "b": {"perception": "pb", "expectation": "eb", "scale": [1, 7]}}}


def synthetic(jump: bool, n: int = 3000, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pa, pb = rng.integers(1, 8, n), rng.integers(1, 8, n)
    ea, eb = rng.integers(2, 8, n), rng.integers(1, 7, n)
    sat = np.clip(np.rint(2 + 0.6 * pa + 0.4 * pb + rng.normal(0, 1.2, n)), 1, 10)
    loy_lat = 1.2 + 0.3 * sat + (1.3 * (sat >= 8) if jump else 0) + rng.normal(0, 0.5, n)
    f = pd.DataFrame({"id": range(n), "sat": sat, "rec": np.clip(np.rint(sat + rng.normal(0, 1, n)), 0, 10),
                      "loy": np.clip(np.rint(loy_lat), 1, 5), "pa": pa, "ea": ea, "pb": pb, "eb": eb})
    return add_derived_columns(f, parse_spec(SPEC))


def test_nonlinearity_detects_a_jump_and_not_a_line():
    spec = parse_spec(SPEC)
    jumped = {m.outcome: m for m in loyalty_models(synthetic(True), spec)}["loy"]
    assert jumped.nonlinearity["nonlinear"] and jumped.nonlinearity["p"] < 1e-6
    assert (jumped.curve.steepest_from, jumped.curve.steepest_to) == (7.0, 8.0)
    assert "from 7 to 8" in jumped.sentence
    linear = {m.outcome: m for m in loyalty_models(synthetic(False, n=1500, seed=9), spec)}["loy"]
    assert linear.nonlinearity["p"] > 0.05 and not linear.nonlinearity["nonlinear"]
    assert "about linearly" in linear.sentence


def test_sample_wave_jump_is_found():
    from csatlib.ingest.load import read_wave
    from csatlib.spec import load_spec

    from .conftest import DATA, SAMPLE_SPEC

    spec = load_spec(SAMPLE_SPEC)
    frame = read_wave(DATA / "retail_2026Q3.csv", spec).frame
    frame = frame[pd.to_numeric(frame["overall_sat"], errors="coerce").between(1, 10)]
    rep = {m.outcome: m for m in loyalty_models(frame, spec)}["repurchase"]
    assert rep.nonlinearity["nonlinear"]
    assert rep.curve.steepest_to == 8.0


def test_curve_points_equal_group_means_with_hc3_band():
    spec = parse_spec(SPEC)
    f = synthetic(True)
    m = {m.outcome: m for m in loyalty_models(f, spec)}["loy"]
    pts = m.curve.points.set_index("satisfaction")
    for level, grp in f.groupby("sat"):
        if len(grp) >= 10:
            assert pts.loc[level, "estimate"] == pytest.approx(grp["loy"].mean(), rel=1e-10)
            # HC3 in the saturated model: every row of a cell has leverage 1/n, so
            # var = sum(e^2) / (n^2 (1 - 1/n)^2) = (n - 1) s^2 / (n - 1)^2 = s^2 / (n - 1)
            se = grp["loy"].std(ddof=1) / np.sqrt(len(grp) - 1)
            assert (pts.loc[level, "ci_high"] - pts.loc[level, "estimate"]) == pytest.approx(st.norm.ppf(0.975) * se, rel=1e-9)


def _design_spec(design: dict | None = None) -> dict:
    doc = {"name": "loyalty-check", "id": "id", "weight": "w",
           "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
           "nps": {"column": "rec", "scale": [0, 10]}, "loyalty": [{"column": "loyal", "scale": [1, 5]}]}
    if design:
        doc["design"] = design
    return doc


@pytest.mark.parametrize("name, design_keys", [("design_A", None),
                                               ("design_B", {"strata": "stratum", "psu": "psu", "fpc": "fpc"})])
def test_loyalty_models_report_svyolr_and_svyglm_standard_errors(rdata, name, design_keys):
    spec = parse_spec(_design_spec(design_keys))
    models = {m.outcome: m for m in loyalty_models(rdata, spec)}
    olr = models["loyal"].logit
    ref = RREF[name]["svyolr_loyal_sat_tight"]
    assert olr.params["satisfaction"] == pytest.approx(ref["coefficients"]["sat"], rel=1e-7)
    assert olr.bse["satisfaction"] == pytest.approx(ref["se"]["sat"], rel=1e-4)
    assert olr.cov_type == "design-based" and "survey package" in olr.extra["variance"]
    promoter = models["promoter"].logit
    ref = RREF[name]["svyglm_logit_promoter_sat"]
    assert promoter.bse["satisfaction"] == pytest.approx(ref["se"]["sat"], rel=1e-6)
    assert promoter.extra["df_resid"] == ref["df_residual"]
    linear = models["loyal"].linear
    assert linear.cov_type == "design-based" and linear.model == "OLS (design-based)"
    test = models["loyal"].nonlinearity
    # the full curve model has one coefficient per satisfaction point tested: ddf = degf(rows used) − p + 1
    used = rdata["sat"].isin(test["levels"]).to_numpy()
    degf = used.sum() - 1 if name == "design_A" else 17
    assert test["test"] == "design-based Wald F" and test["ddf"] == degf - len(test["levels"]) + 1
    assert "Wald test" in models["loyal"].sentence
    # results.json keeps the variance and the df with every model
    d = models["promoter"].to_dict()["logit"]
    assert d["cov_type"] == "design-based" and d["df_resid"] == ref["df_residual"] and "variance" in d


def test_unweighted_loyalty_models_keep_model_based_errors_and_the_lr_test():
    spec = parse_spec(SPEC)
    m = {m.outcome: m for m in loyalty_models(synthetic(True), spec)}["loy"]
    assert m.linear.cov_type == "HC3" and m.logit.cov_type == "model-based"
    assert m.nonlinearity["test"] == "likelihood ratio χ²" and "LR test" in m.sentence
    assert "heteroskedasticity-robust (HC3)" in m.linear.extra["variance"]
