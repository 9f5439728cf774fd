"""Raking and trimming against R's survey package (tests/fixtures/r/rake_reference.json).

``rake_reference.R`` beside the fixture rakes ``design_data.csv`` to region and age-group shares
with ``survey::rake`` (and ``calibrate(calfun = "raking")``), from the file's weights and from
unit weights, and trims with ``trimWeights``; every number compared here was printed by R.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csatlib.analysis.kpis import kpis, segment_kpis
from csatlib.errors import SpecError
from csatlib.frame import WEIGHT, row_weights
from csatlib.results import Provenance, Results, WeightingSummary, load_results
from csatlib.run.segments import split_wave, weigh_wave
from csatlib.run.stages import analyse
from csatlib.sampling import apply_weighting, frame_weights, survey_design
from csatlib.spec import parse_spec
from csatlib.stats.survey import Calibration, DesignError, SurveyDesign
from csatlib.stats.weighting import kish_design_effect, rake, trim

R = Path(__file__).parent / "fixtures" / "r"
REF = json.loads((R / "rake_reference.json").read_text(encoding="utf-8"))
CASES = {"rake_from_base_weights": True, "rake_from_unit_weights": False}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    d = pd.read_csv(R / "design_data.csv")
    d["nps_score"] = 100.0 * (d["rec"] >= 9) - 100.0 * (d["rec"] <= 6)
    return d


def margins(d: pd.DataFrame, case: str):
    ref = REF[case]
    codes, totals = [], []
    for col in ("region", "agegroup"):
        labels = list(ref["target_shares"][col])
        codes.append(pd.Categorical(d[col], categories=labels).codes.astype(int))
        totals.append(np.array([ref["population_margins_totals"][col][v] for v in labels]))
    return codes, totals


def start(d: pd.DataFrame, case: str) -> np.ndarray:
    return d["w"].to_numpy(float) if CASES[case] else np.ones(len(d))


@pytest.mark.parametrize("case", list(CASES))
def test_raked_weights_equal_survey_rake(data, case):
    # R: rake(design, list(~region, ~agegroup), list(region totals, age totals),
    #         control = list(maxit = 1000, epsilon = 1e-12))
    ref = REF[case]
    codes, totals = margins(data, case)
    r = rake(start(data, case), codes, totals)
    np.testing.assert_allclose(r.weights, ref["weights_raked"], rtol=1e-10)
    np.testing.assert_allclose(r.weights, ref["weights_calibrate_raking"], rtol=1e-9)  # calibrate(calfun="raking")
    assert r.sweeps == ref["rake_sweeps_to_converge"] and r.converged
    # the margins are reproduced: achieved weighted totals equal the targets
    for achieved, total in zip(r.achieved, totals):
        np.testing.assert_allclose(achieved, total, rtol=1e-10)
    assert r.max_error < 1e-10
    assert r.factor_min == pytest.approx(ref["raking_factor_summary"]["min"], rel=1e-10)
    assert r.factor_max == pytest.approx(ref["raking_factor_summary"]["max"], rel=1e-10)
    assert r.weights.sum() == pytest.approx(ref["population_total_N"], rel=1e-12)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("variable", ["sat", "nps_score"])
def test_standard_errors_after_raking_equal_r(data, case, variable):
    ref = REF[case]
    codes, totals = margins(data, case)
    r = rake(start(data, case), codes, totals)
    y = data[variable].to_numpy(float)
    # the raked design: the calibration-adjusted SE R prints for svymean(~y, rake(...))
    raked = SurveyDesign(r.weights, calibration=Calibration(tuple(codes), r.weights)).mean(y)
    assert raked.mean == pytest.approx(ref[f"svymean_{variable}_raked"]["mean"], rel=1e-10)
    assert raked.se == pytest.approx(ref[f"svymean_{variable}_raked"]["se"], rel=1e-10)
    # the raked weights taken as fixed design weights: svydesign(ids = ~1, weights = ~w_raked)
    fresh = SurveyDesign(r.weights).mean(y)
    assert fresh.se == pytest.approx(ref[f"svymean_{variable}_fresh_weights_only_with_raked_weights"]["se"],
                                     rel=1e-10)
    assert raked.se < fresh.se  # calibration to known margins removes their share of the variance


@pytest.mark.parametrize("variable", ["sat", "nps_score"])
def test_raking_a_stratified_clustered_design_equals_r(data, variable):
    ref = REF["rake_design_B_from_base_weights"]
    codes, totals = margins(data, "rake_from_base_weights")
    r = rake(data["w"].to_numpy(float), codes, totals)
    d = SurveyDesign(r.weights, strata=data["stratum"], psu=data["psu"], fpc=data["fpc"],
                     calibration=Calibration(tuple(codes), r.weights))
    m = d.mean(data[variable].to_numpy(float))
    assert m.mean == pytest.approx(ref[f"svymean_{variable}_raked"]["mean"], rel=1e-10)
    assert m.se == pytest.approx(ref[f"svymean_{variable}_raked"]["se"], rel=1e-10)


@pytest.mark.parametrize("key, strict", [("bounds_0.3_3_strict_false", False), ("bounds_0.5_1.6_strict_false", False),
                                         ("bounds_0.5_1.6_strict_true", True)])
def test_trimmed_weights_equal_trim_weights(data, key, strict):
    # R: trimWeights(raked, lower = a * mean(w), upper = b * mean(w), strict = ...)
    ref = REF["trim_from_rake_base"][key]
    codes, totals = margins(data, "rake_from_base_weights")
    r = rake(data["w"].to_numpy(float), codes, totals)
    t = trim(r.weights, ref["lower"], ref["upper"], strict=strict)
    np.testing.assert_allclose(t.weights, ref["weights_trimmed"], rtol=1e-10)
    assert (t.n_below, t.n_above) == (ref["n_below_lower_before"], ref["n_above_upper_before"])
    assert t.n_outside_after == ref["n_outside_after"]
    assert t.weights.sum() == pytest.approx(ref["sum_weights_after"], rel=1e-12)
    # trimWeights keeps the raking information: the SE is still calibration-adjusted (raked weights)
    m = SurveyDesign(t.weights, calibration=Calibration(tuple(codes), r.weights)).mean(data["sat"].to_numpy(float))
    assert m.mean == pytest.approx(ref["svymean_sat_trimmed"]["mean"], rel=1e-10)
    assert m.se == pytest.approx(ref["svymean_sat_trimmed"]["se"], rel=1e-10)


def _spec(**extra) -> dict:
    ref = REF["rake_from_base_weights"]["target_shares"]
    return {"name": "rake-check", "id": "id", "weight": "w", "segments": ["region"],
            "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
            "nps": {"column": "rec", "scale": [0, 10]},
            "weighting": {"rake": {"region": dict(ref["region"]), "agegroup": dict(ref["agegroup"])}}, **extra}


def test_spec_raking_reproduces_r_through_the_kpis(data):
    spec = parse_spec(_spec())
    ref = REF["rake_from_base_weights"]
    np.testing.assert_allclose(row_weights(data, spec), ref["weights_raked"], rtol=1e-10)
    est = {e.id: e for e in kpis(data, spec)}
    assert est["satisfaction.score"].estimate == pytest.approx(ref["svymean_sat_raked"]["mean"], rel=1e-10)
    assert est["satisfaction.score"].se == pytest.approx(ref["svymean_sat_raked"]["se"], rel=1e-10)
    assert est["nps"].se == pytest.approx(ref["svymean_nps_score_raked"]["se"], rel=1e-10)
    # starting from equal weights when the spec has no weight column
    unit = parse_spec({k: v for k, v in _spec().items() if k != "weight"})
    np.testing.assert_allclose(row_weights(data, unit), REF["rake_from_unit_weights"]["weights_raked"], rtol=1e-10)
    # and with the stratified clustered design
    design = parse_spec(_spec(design={"strata": "stratum", "psu": "psu", "fpc": "fpc"}))
    score = {e.id: e for e in kpis(data, design)}["satisfaction.score"]
    assert score.se == pytest.approx(REF["rake_design_B_from_base_weights"]["svymean_sat_raked"]["se"], rel=1e-10)


def test_apply_weighting_stores_weights_and_summarises_them(data):
    spec = parse_spec(_spec(weighting={**_spec()["weighting"], "trim": [0.5, 1.6]}))
    frame, summary = apply_weighting(data, spec)
    ref = REF["trim_from_rake_base"]["bounds_0.5_1.6_strict_true"]
    w = frame["_csat_weight"].to_numpy(float)
    np.testing.assert_allclose(w, ref["weights_trimmed"], rtol=1e-10)
    np.testing.assert_allclose(frame["_csat_raked_weight"], REF["rake_from_base_weights"]["weights_raked"], rtol=1e-10)
    assert isinstance(summary, WeightingSummary)
    assert summary.design_effect == pytest.approx(len(w) * np.sum(w ** 2) / w.sum() ** 2)
    assert summary.efficiency == pytest.approx(1 / summary.design_effect)
    assert (summary.min, summary.max) == pytest.approx((ref["min_weight_after"], ref["max_weight_after"]))
    assert summary.raking["sweeps"] == 7 and summary.trimming["passes"] >= 2
    table = summary.to_frame().set_index(["column", "value"])
    for col in ("region", "agegroup"):
        for value, achieved in ref["achieved_margins_after_trim"][col].items():
            assert table.loc[(col, value), "achieved"] == pytest.approx(achieved / ref["sum_weights_after"], rel=1e-10)
            assert table.loc[(col, value), "target"] == pytest.approx(_spec()["weighting"]["rake"][col][value])
    assert "Trimming moved the achieved margins" in summary.notes[0]
    # a second call (a batch segment's rows) reuses the stored weights
    again, _ = apply_weighting(frame, spec)
    assert again is frame
    # the kpis of the stored weights equal R's trimmed design
    score = {e.id: e for e in kpis(frame, spec)}["satisfaction.score"]
    assert score.se == pytest.approx(ref["svymean_sat_trimmed"]["se"], rel=1e-10)


def test_weighting_summary_round_trips_through_results_json(tmp_path, data):
    spec = parse_spec(_spec())
    _, summary = apply_weighting(data, spec)
    Results("s", "W", None, True, {"read": 600, "clean": 600, "quarantined": 0}, weighting=summary).write(
        tmp_path / "results.json")
    back = load_results(tmp_path).weighting
    assert back.to_dict() == summary.to_dict()
    assert "raked to population margins" in repr(back)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.assign(region=d["region"].replace("rural", "remote")),
     r"weighting.rake.region: the data hold value\(s\) with no population share: 'remote' \(140 rows\)"),
    (lambda d: d[d["region"] != "rural"],
     r"weighting.rake.region: no clean row has 'rural' \(share 0.18\)"),
    (lambda d: d.assign(agegroup=d["agegroup"].where(d.index != 3)),
     r"weighting.rake.agegroup: 1 clean row\(s\) have no 'agegroup' value"),
    (lambda d: d.assign(w=d["w"].where(d.index != 3, -1.0)), r"non-positive weight"),
])
def test_raking_problems_are_clear_errors(data, change, message):
    with pytest.raises(DesignError, match=message):
        frame_weights(change(data.copy()), parse_spec(_spec()))


def test_raking_that_cannot_converge_says_so():
    # two margins over the same split with different targets: no weights satisfy both. The sweeps
    # settle (each ends on the second margin), so the margins themselves must be checked
    codes = np.array([0, 0, 1, 1])
    with pytest.raises(DesignError, match=r"without reaching margin 0 \(category 0: 1 against a target of 2\)"):
        rake(np.ones(4), [codes, codes], [np.array([2.0, 2.0]), np.array([1.0, 3.0])])
    # margins that keep oscillating hit the sweep limit
    a, b = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 0, 1, 1])
    with pytest.raises(DesignError, match="raking did not converge after 3 sweeps"):
        rake(np.ones(5), [a, b], [np.array([1.0, 1.0, 3.0]), np.array([0.5, 4.5])], max_sweeps=3)


@pytest.mark.parametrize("weighting, message", [
    ({"rake": {"region": {"metro": 0.5, "rural": 0.3}}}, r"weighting.rake.region: the shares sum to 0.8, not 1"),
    ({"rake": {"region": {"metro": 1.0}}}, r"must map at least two values"),
    ({"rake": {"region": {"metro": 0.0, "rural": 1.0}}}, r"weighting.rake.region.metro must be > 0"),
    ({"trim": [1.2, 3]}, r"must have low < 1 < high"),
    ({}, r"weighting needs rake"),
    ({"rake": {"sat": {"1": 0.5, "2": 0.5}}}, r"weighting.rake.sat: column 'sat' is already a rated item"),
])
def test_spec_weighting_errors(weighting, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(_spec(weighting=weighting))


def test_numeric_category_codes_match_yaml_keys():
    # codes read as numbers (1.0) match spec keys written as numbers (1) or text ("1")
    frame = pd.DataFrame({"id": range(8), "sat": [5, 6, 7, 8] * 2, "g": [1.0, 2.0] * 4})
    spec = parse_spec({"name": "n", "id": "id", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
                       "weighting": {"rake": {"g": {1: 0.25, "2": 0.75}}}})
    w = frame_weights(frame, spec).weights
    assert w[frame["g"] == 1].sum() == pytest.approx(0.25 * 8) and w[frame["g"] == 2].sum() == pytest.approx(6)


def test_kish_design_effect():
    assert kish_design_effect([1] * 50 + [2] * 50) == pytest.approx(100 * 250 / 150 ** 2)  # Kish: 1.111


def test_survey_design_uses_the_stored_raked_weights(data):
    spec = parse_spec(_spec())
    frame, _ = apply_weighting(data, spec)
    d = survey_design(frame, spec)
    np.testing.assert_allclose(d.weights, REF["rake_from_base_weights"]["weights_raked"], rtol=1e-10)
    assert "raked on 2 margins" in repr(d)


def _design_spec() -> dict:
    return _spec(segments=["region", "agegroup"], design={"strata": "stratum", "psu": "psu", "fpc": "fpc"})


def test_split_wave_carries_the_whole_wave_raked_weights(data):
    spec = parse_spec(_design_spec())
    sample = weigh_wave(data, spec, "design_data.csv")
    whole = np.asarray(REF["rake_from_base_weights"]["weights_raked"])  # R's rake() of the whole file
    segments = split_wave(sample, "region")  # region is a raked column
    assert set(segments) == set(data["region"])
    assert sorted(np.concatenate([s.at for s in segments.values()]).tolist()) == list(range(len(data)))
    for value, seg in segments.items():
        mask = (data["region"] == value).to_numpy()
        np.testing.assert_array_equal(seg.at, np.flatnonzero(mask))
        np.testing.assert_allclose(seg.rows[WEIGHT].to_numpy(float), whole[mask], rtol=1e-10)
        domain = sample.domain(seg.at, "region", value)
        np.testing.assert_allclose(domain.design.weights, whole[mask], rtol=1e-10)
        assert domain.design.n_psu == sample.design.n_psu  # the whole design's PSUs, not the segment's
    # raking one region's rows on their own cannot work: the other regions' margins have no rows
    with pytest.raises(DesignError, match="no clean row has"):
        frame_weights(segments["rural"].rows, spec)


def test_a_segment_report_of_a_raked_column_uses_the_whole_wave(data):
    spec = parse_spec(_design_spec())
    sample = weigh_wave(data, spec, "design_data.csv")
    seg = split_wave(sample, "region")["rural"]
    res = analyse(seg.rows, replace(spec, segments=("agegroup",)), wave="W",
                  rows={"read": len(seg.rows), "clean": len(seg.rows), "quarantined": 0}, provenance=Provenance(),
                  segment={"region": "rural"}, domain=sample.domain(seg.at, "region", "rural"))
    got = {e.id: e for e in res.estimates if e.segment is None}
    mask = (data["region"] == "rural").to_numpy()
    w = np.asarray(REF["rake_from_base_weights"]["weights_raked"])[mask]
    assert got["satisfaction.score"].estimate == pytest.approx(np.average(data["sat"][mask], weights=w), rel=1e-12)
    assert got["nps"].estimate == pytest.approx(np.average(data["nps_score"][mask], weights=w), rel=1e-12)
    # the standard errors are the whole wave's domain SEs: the same as its own report's rural segment
    whole = {e.id: e for e in segment_kpis(sample.frame, spec) if e.segment == {"region": "rural"}}
    for kpi in ("satisfaction.score", "satisfaction.rate", "nps"):
        assert got[kpi].se == pytest.approx(whole[kpi].se, rel=1e-12) and got[kpi].df == whole[kpi].df
    # and the report says where its weights come from; the margins are the whole wave's
    assert res.weighting.n == len(seg.rows) and res.weighting.margins == sample.weighting.margins
    assert res.weighting.min == pytest.approx(w.min()) and "(on the whole wave)" in res.weighting.method
    assert any("raked on the whole wave (600 clean respondents) before it was split by region" in n
               for n in res.weighting.notes)
    assert "whole wave's design" in res.skipped["scope"]
