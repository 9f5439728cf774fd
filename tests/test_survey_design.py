"""Design-based estimates against R's survey package (tests/fixtures/r/design_reference.json).

Design A is ``svydesign(ids = ~1, weights = ~w)``, design B
``svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc)`` on the same 600 rows
(tests/fixtures/r/README.md). Every number compared here was printed by R; the R calls are named
in the fixture (``design_reference.R`` beside it regenerates it).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from statsmodels.stats.proportion import proportion_confint

from csatlib.analysis.change import compare_waves
from csatlib.analysis.kpis import kpis, segment_kpis
from csatlib.errors import InputError
from csatlib.results import Estimate, Provenance
from csatlib.run.stages import analyse
from csatlib.sampling import survey_design
from csatlib.spec import parse_spec
from csatlib.stats.estimators import weighted_mean
from csatlib.stats.survey import Calibration, DesignError, SurveyDesign

R = Path(__file__).parent / "fixtures" / "r"
REF = json.loads((R / "design_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    d = pd.read_csv(R / "design_data.csv")
    d["nps_score"] = 100.0 * (d["rec"] >= 9) - 100.0 * (d["rec"] <= 6)  # README: recomputed by consumers
    d["topbox"] = (d["sat"] >= 8).astype(float)
    return d


def designs(d: pd.DataFrame) -> dict[str, SurveyDesign]:
    return {"design_A": SurveyDesign(d["w"]),
            "design_B": SurveyDesign(d["w"], strata=d["stratum"], psu=d["psu"], fpc=d["fpc"])}


VARIABLES = {"svymean_sat": "sat", "svymean_topbox_sat_ge_8": "topbox", "svymean_nps_score": "nps_score"}
DOMAINS = {"svyby_sat_by_region": "sat", "svyby_topbox_by_region": "topbox", "svyby_nps_score_by_region": "nps_score"}


@pytest.mark.parametrize("name", ["design_A", "design_B"])
@pytest.mark.parametrize("key", list(VARIABLES))
def test_means_rates_and_nps_equal_svymean(data, name, key):
    # R: svymean(~sat / ~topbox / ~nps_score, design, deff = "replace")
    ref = REF[name][key]
    m = designs(data)[name].mean(data[VARIABLES[key]].to_numpy(float))
    assert m.mean == pytest.approx(ref["mean"], rel=1e-12)
    assert m.se == pytest.approx(ref["se"], rel=1e-10)
    if "deff_replace" in ref:
        assert m.deff == pytest.approx(ref["deff_replace"], rel=1e-10)


@pytest.mark.parametrize("name", ["design_A", "design_B"])
@pytest.mark.parametrize("key", list(DOMAINS))
def test_domain_estimates_equal_svyby(data, name, key):
    # R: svyby(~y, ~region, design, svymean): each region a domain of the whole design
    d = designs(data)[name]
    y = data[DOMAINS[key]].to_numpy(float)
    for region, ref in REF[name][key].items():
        m = d.mean(y, domain=(data["region"] == region).to_numpy())
        assert m.mean == pytest.approx(ref["mean"], rel=1e-12)
        assert m.se == pytest.approx(ref["se"], rel=1e-10)


def test_design_degrees_of_freedom_equal_degf(data):
    ds = designs(data)
    assert ds["design_A"].degf() == REF["design_A"]["degf"] == 599
    assert ds["design_B"].degf() == REF["design_B"]["degf"] == 17  # 20 PSUs − 3 strata
    assert ds["design_B"].n_psu == 20 and ds["design_B"].n_strata == 3


def test_weights_only_design_keeps_the_svymean_formula(data):
    # the weights-only design is the formula csatlib has always used (n/(n−1) Σ z²)
    y, w = data["sat"].to_numpy(float), data["w"].to_numpy(float)
    a, b = SurveyDesign(w).mean(y), weighted_mean(y, w)
    assert (a.mean, a.se, a.n) == (pytest.approx(b.mean, rel=1e-14), pytest.approx(b.se, rel=1e-12), b.n)
    assert a.n_eff == pytest.approx(b.n_eff) and a.design_df is None


def test_a_constant_is_its_own_mean_with_no_variance(data):
    # weights whose sum does not divide evenly: np.dot(w, y) / Σw would be 5 ± rounding noise
    y = np.full(len(data), 5.0)
    y[::9] = np.nan
    for name, design in designs(data).items():
        whole, part = design.mean(y), design.mean(y, domain=data["stratum"].to_numpy() == data["stratum"].iloc[0])
        assert (whole.mean, whole.se, part.mean, part.se) == (5.0, 0.0, 5.0, 0.0), name


def test_skipped_answers_are_a_domain_like_svymean_na_rm(data):
    # svymean(~y, design, na.rm = TRUE) keeps the full design: the answered rows form a domain
    y = data["sat"].to_numpy(float).copy()
    y[::7] = np.nan
    d = designs(data)["design_B"]
    answered = ~np.isnan(y)
    assert d.mean(y).se == pytest.approx(d.mean(np.nan_to_num(y), domain=answered).se, rel=1e-14)
    # and the PSU-total formula written out by hand agrees
    w = data["w"].to_numpy(float)
    ybar = np.nansum(w * y) / w[answered].sum()
    u = np.where(answered, w * (y - ybar) / w[answered].sum(), 0.0)
    assert d.mean(y).se == pytest.approx(math.sqrt(_stratified_variance(data, u)), rel=1e-12)


def _stratified_variance(data: pd.DataFrame, u: np.ndarray) -> float:
    """Σ_h (1 − n_h/N_h) n_h/(n_h − 1) Σ_i (z_hi − z̄_h)², z = PSU totals of u (README formula), by hand."""
    total = 0.0
    frame = pd.DataFrame({"h": data["stratum"], "psu": data["psu"], "fpc": data["fpc"], "u": u})
    for _, g in frame.groupby("h"):
        z = g.groupby("psu")["u"].sum().to_numpy()
        n_h, big_n = len(z), g["fpc"].iloc[0]
        total += (1 - n_h / big_n) * n_h / (n_h - 1) * float(np.sum((z - z.mean()) ** 2))
    return total


def test_domain_difference_shares_psus(data):
    # design A: the domains share no unit, so Var(metro − urban) = se_metro² + se_urban² (R's svyby SEs)
    a = designs(data)["design_A"]
    metro, urban = (data["region"] == "metro").to_numpy(), (data["region"] == "urban").to_numpy()
    c = a.difference(data["sat"].to_numpy(float), metro, urban)
    ref = REF["design_A"]["svyby_sat_by_region"]
    assert c.difference == pytest.approx(ref["metro"]["mean"] - ref["urban"]["mean"], rel=1e-12)
    assert c.se == pytest.approx(math.hypot(ref["metro"]["se"], ref["urban"]["se"]), rel=1e-10)
    # design B: regions cut across PSUs, so the covariance matters; the PSU-total formula by hand
    b = designs(data)["design_B"]
    y, w = data["sat"].to_numpy(float), data["w"].to_numpy(float)
    cb = b.difference(y, metro, urban)
    u = np.zeros(len(y))
    for sign, dom in ((1, metro), (-1, urban)):
        m = np.sum(w[dom] * y[dom]) / w[dom].sum()
        u[dom] += sign * w[dom] * (y[dom] - m) / w[dom].sum()
    assert cb.se == pytest.approx(math.sqrt(_stratified_variance(data, u)), rel=1e-12)
    refb = REF["design_B"]["svyby_sat_by_region"]
    assert cb.se != pytest.approx(math.hypot(refb["metro"]["se"], refb["urban"]["se"]), rel=1e-3)
    assert cb.df == 17


@pytest.mark.parametrize("rule", ["adjust", "certainty", "remove", "average"])
def test_lonely_psu_rules_equal_survey_lonely_psu(rule):
    # R: options(survey.lonely.psu = rule); svymean(~sat, svydesign(ids=~psu, strata=~stratum, weights=~w))
    lp = pd.read_csv(R / "lonely_psu_data.csv")
    d = SurveyDesign(lp["w"], strata=lp["stratum"], psu=lp["psu"], lonely_psu=rule)
    ref = REF["lonely_psu"][rule]
    m = d.mean(lp["sat"].to_numpy(float))
    assert m.mean == pytest.approx(ref["mean"], rel=1e-12)
    assert m.se == pytest.approx(ref["se"], rel=1e-10)
    assert d.degf() == ref["degf"] == 3
    assert d.lonely_strata == ["c"]


def test_lonely_psu_fails_by_default_naming_the_stratum():
    # R: "Stratum (c) has only one PSU at stage 1"
    lp = pd.read_csv(R / "lonely_psu_data.csv")
    assert "c" in REF["lonely_psu"]["fail"]["error"]
    with pytest.raises(DesignError, match=r"stratum 'c' has only one PSU.*lonely_psu"):
        SurveyDesign(lp["w"], strata=lp["stratum"], psu=lp["psu"])


def test_one_respondent_without_a_stated_design_has_an_undefined_se():
    # R: svymean(~y, svydesign(ids=~1, weights=~w, data=<1 row>)) has SE NaN (n / (n - 1) with n = 1);
    # the wave is still a report (its analyses say why they skip), while a stated design still fails
    m = SurveyDesign(np.array([2.0])).mean(np.array([7.0]))
    assert m.mean == 7.0 and math.isnan(m.se)
    with pytest.raises(DesignError, match="only one PSU"):
        SurveyDesign(np.array([2.0]), strata=np.array(["a"]))


def test_fpc_as_sampling_fraction_equals_population_size(data):
    # svydesign reads fpc <= 1 as a sampling fraction n_h / N_h
    n_psu = data.groupby("stratum")["psu"].transform("nunique")
    frac = SurveyDesign(data["w"], strata=data["stratum"], psu=data["psu"], fpc=n_psu / data["fpc"])
    assert frac.mean(data["sat"].to_numpy(float)).se == pytest.approx(REF["design_B"]["svymean_sat"]["se"], rel=1e-12)


def test_psu_labels_are_nested_within_strata(data):
    # store "1" of the north and store "1" of the south are two PSUs (R's nest = TRUE)
    reused = data["psu"] % 100
    d = SurveyDesign(data["w"], strata=data["stratum"], psu=reused, fpc=data["fpc"])
    assert d.n_psu == 20
    assert d.mean(data["sat"].to_numpy(float)).se == pytest.approx(REF["design_B"]["svymean_sat"]["se"], rel=1e-12)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.assign(psu=d["psu"].where(d.index != 5)), r"design.psu \(psu\): 1 row has no value \(row 6"),
    (lambda d: d.assign(stratum=d["stratum"].where(d.index > 2)), r"design.strata \(stratum\): 3 rows have no value"),
    (lambda d: d.assign(fpc=d["fpc"].astype(object).where(d.index != 9, "twenty")),
     r"design.fpc \(fpc\): 1 value\(s\) are missing or not numbers \(first: 'twenty' in row 10\)"),
    (lambda d: d.assign(fpc=d["fpc"].where(d.index != 0, 21)), r"the fpc differs within stratum 'north'"),
    (lambda d: d.assign(fpc=d["fpc"].where(d["stratum"] != "west", 4)),
     r"stratum 'west' has 5 sampled PSUs but a population of 4"),
])
def test_bad_design_columns_are_clear_errors(data, change, message):
    spec = parse_spec(_spec_doc())
    with pytest.raises(DesignError, match=message):
        survey_design(change(data.copy()), spec)


def _spec_doc(**extra) -> dict:
    """A spec for design_data.csv written as a user would (every name from the file)."""
    return {"name": "design-check", "id": "id", "weight": "w", "segments": ["region"],
            "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
            "nps": {"column": "rec", "scale": [0, 10]},
            "loyalty": [{"column": "loyal", "scale": [1, 5]}],
            "design": {"strata": "stratum", "psu": "psu", "fpc": "fpc"},
            "quality": {"min_base": 30}, **extra}


def test_kpis_of_a_stratified_clustered_survey_equal_r(data):
    spec = parse_spec(_spec_doc())
    est = {e.id: e for e in kpis(data, spec)}
    ref = REF["design_B"]
    t17 = st.t.ppf(0.975, 17)
    score = est["satisfaction.score"]
    assert score.estimate == pytest.approx(ref["svymean_sat"]["mean"], rel=1e-12)
    assert score.se == pytest.approx(ref["svymean_sat"]["se"], rel=1e-10)
    assert score.df == 17 and "design df = 17" in score.method
    assert score.ci_high - score.estimate == pytest.approx(t17 * ref["svymean_sat"]["se"], rel=1e-10)
    # the rate: Wilson on the design's effective n, n / deff (deff = "replace")
    rate = est["satisfaction.rate"]
    top = ref["svymean_topbox_sat_ge_8"]
    n_eff = 600 / top["deff_replace"]
    assert rate.estimate == pytest.approx(top["mean"], rel=1e-12)
    assert rate.se == pytest.approx(top["se"], rel=1e-10)
    assert rate.n_eff == pytest.approx(n_eff, rel=1e-10)
    lo, hi = proportion_confint(top["mean"] * n_eff, n_eff, method="wilson")
    assert (rate.ci_low, rate.ci_high) == pytest.approx((lo, hi), rel=1e-10)
    nps = est["nps"]
    assert nps.estimate == pytest.approx(ref["svymean_nps_score"]["mean"], rel=1e-12)
    assert nps.se == pytest.approx(ref["svymean_nps_score"]["se"], rel=1e-10)
    assert nps.ci_high - nps.estimate == pytest.approx(t17 * ref["svymean_nps_score"]["se"], rel=1e-10)
    assert est["satisfaction.index"].se == pytest.approx(ref["svymean_sat"]["se"] * 100 / 9, rel=1e-10)


def test_segments_are_domains_of_the_full_design(data):
    spec = parse_spec(_spec_doc())
    seg = segment_kpis(data, spec)
    for kpi, key in (("satisfaction.score", "svyby_sat_by_region"), ("satisfaction.rate", "svyby_topbox_by_region"),
                     ("nps", "svyby_nps_score_by_region")):
        for region, ref in REF["design_B"][key].items():
            e = next(x for x in seg if x.id == kpi and x.segment == {"region": region})
            assert e.estimate == pytest.approx(ref["mean"], rel=1e-12)
            assert e.se == pytest.approx(ref["se"], rel=1e-10)
            assert e.df == 17
    # segment vs rest: a design-based t test of the difference on the design df
    metro = next(x for x in seg if x.id == "satisfaction.score" and x.segment == {"region": "metro"})
    d = survey_design(data, spec)
    inside = (data["region"] == "metro").to_numpy()
    c = d.difference(data["sat"].to_numpy(float), inside, ~inside)
    assert metro.p == pytest.approx(2 * st.t.sf(abs(c.difference / c.se), 17), rel=1e-10)
    assert "design-based t test" in metro.method


def test_wave_change_uses_each_waves_design_df():
    cur = [Estimate("satisfaction.score", 7.2, n=600, n_eff=102.4, se=0.18, df=17.0)]
    prev = [Estimate("satisfaction.score", 6.7, n=580, n_eff=99.0, se=0.21, df=15.0)]
    change, = compare_waves(cur, prev)
    va, vb = 0.18 ** 2, 0.21 ** 2
    df = (va + vb) ** 2 / (va ** 2 / 17 + vb ** 2 / 15)  # Welch-Satterthwaite on the design df
    assert change.se == pytest.approx(math.sqrt(va + vb))
    assert change.p == pytest.approx(2 * st.t.sf(0.5 / math.sqrt(va + vb), df), rel=1e-12)


def test_estimate_df_round_trips_and_is_absent_without_a_design():
    e = Estimate("nps", 1.0, df=17.0)
    assert e.to_dict()["df"] == 17.0 and "df" not in Estimate("nps", 1.0).to_dict()
    assert Estimate(**e.to_dict()) == e


def test_analyse_turns_a_bad_design_into_an_input_error_naming_the_file(data):
    spec = parse_spec(_spec_doc())
    bad = data.assign(psu=data["psu"].where(data.index != 3))
    with pytest.raises(InputError, match=r"^wave\.csv: design\.psu \(psu\): 1 row has no value"):
        analyse(bad, spec, wave="W1", rows={"read": 600, "clean": 600, "quarantined": 0},
                provenance=Provenance(input={"file": "wave.csv"}))


def test_missing_design_column_is_named_by_the_loader(tmp_path, data):
    from csatlib.ingest.load import read_wave

    spec = parse_spec(_spec_doc())
    path = tmp_path / "wave.csv"
    data.drop(columns=["psu", "nps_score", "topbox"]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"wave.csv: missing column 'psu' \(design.psu\)"):
        read_wave(path, spec)


def test_spec_design_errors():
    from csatlib.errors import SpecError

    with pytest.raises(SpecError, match="design.lonely_psu must be one of"):
        parse_spec(_spec_doc(design={"psu": "psu", "lonely_psu": "drop"}))
    with pytest.raises(SpecError, match="design needs at least one of strata, psu or fpc"):
        parse_spec(_spec_doc(design={"lonely_psu": "adjust"}))
    with pytest.raises(SpecError, match="design.psu: column 'sat' is already a rated item"):
        parse_spec(_spec_doc(design={"psu": "sat"}))
    with pytest.raises(SpecError, match="unknown key 'design.cluster'"):
        parse_spec(_spec_doc(design={"cluster": "psu"}))


def test_repr_says_what_the_design_is(data):
    assert repr(designs(data)["design_B"]) == "SurveyDesign(n=600, strata=3, psu=20, fpc, df=17)"


def test_analyse_a_raked_stratified_clustered_survey_end_to_end(tmp_path, data):
    # every analysis of a run under a design with raking and trimming, through the one door
    from csatlib.results import load_results

    rake = json.loads((R / "rake_reference.json").read_text(encoding="utf-8"))["rake_from_base_weights"]
    doc = _spec_doc(weighting={"rake": {"region": rake["target_shares"]["region"],
                                        "agegroup": rake["target_shares"]["agegroup"]}, "trim": [0.3, 3]},
                    dimensions={f"p{j}": {"perception": f"p{j}", "scale": [1, 7]} for j in (1, 2, 3)})
    spec = parse_spec(doc)
    res = analyse(data.drop(columns=["nps_score", "topbox"]), spec, wave="W1",
                  rows={"read": 600, "clean": 600, "quarantined": 0}, provenance=Provenance(input={"file": "w.csv"}))
    assert res.weighted and res.weighting.raking["converged"] and res.weighting.design["df"] == 17
    assert res.weighting.trimming["lower"] == pytest.approx(0.3 * rake["raking_factor_summary"]["mean_weight"])
    score = res.get("satisfaction.score")
    assert score.df == 17 and "design df" in score.method
    ref = json.loads((R / "rake_reference.json").read_text(encoding="utf-8"))["trim_from_rake_base"]
    assert score.estimate == pytest.approx(ref["bounds_0.3_3_strict_false"]["svymean_sat_trimmed"]["mean"], rel=1e-10)
    assert all(m.logit.cov_type == "design-based" for m in res.loyalty)
    assert res.drivers is not None and "weighting" not in res.skipped
    res.write(tmp_path / "results.json")
    back = load_results(tmp_path)
    assert back.weighting.design["n_psu"] == 20 and back.get("satisfaction.score").df == 17
    promoter = next(m for m in back.loyalty if m.outcome == "promoter").logit
    assert promoter.cov_type == "design-based" and promoter.extra["df_resid"] == 16


@pytest.mark.parametrize("kind", ["weights", "strata", "clusters", "clusters+fpc", "lonely-adjust", "lonely-average",
                                  "raked", "subset"])
def test_pattern_variance_equals_row_variance(kind):
    # cov_patterns (the models' sandwich meat) takes fast paths per design; each must equal the
    # variance of the same values written out row by row
    rng = np.random.default_rng(5)
    n = 400
    stratum = rng.integers(0, 4, n)
    psu = rng.integers(0, 5, n)
    w = rng.uniform(0.5, 2, n)
    kwargs: dict = {}
    if kind != "weights":
        kwargs["strata"] = stratum
    if kind.startswith("clusters") or kind.startswith("lonely") or kind in ("raked", "subset"):
        kwargs["psu"] = psu
    if kind == "clusters+fpc":
        kwargs["fpc"] = np.full(n, 12.0)
    if kind.startswith("lonely"):
        kwargs["psu"] = np.where(stratum == 3, 0, psu)  # stratum 3 has a single PSU
        kwargs["lonely_psu"] = kind.split("-")[1]
    if kind == "raked":
        kwargs["calibration"] = Calibration((rng.integers(0, 3, n),), w)
    d = SurveyDesign(w, **kwargs)
    index = rng.integers(0, 7, n)
    scores = rng.normal(size=(7, 3))
    if kind == "subset":
        keep = rng.random(n) < 0.7
        d, index, mult = d.subset(keep), index[keep], w[keep]
    else:
        mult = w
    np.testing.assert_allclose(d.cov_patterns(index, scores, mult), d.cov(mult[:, None] * scores[index]), rtol=1e-12)
