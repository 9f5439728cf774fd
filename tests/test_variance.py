"""The report names the standard errors and tests each result recorded (csatlib.report.variance).

Three runs of the hotel survey, analysed in memory: weighted (a weights-only design), unweighted
(a simple random sample) and weighted with strata and clusters. A weighted run must say
"design-based" and "Wald F" and never "HC3" or "likelihood-ratio"; an unweighted run the reverse;
a complex design's effective bases are n / deff, never "Kish".
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml

from csatlib.ingest.load import read_wave
from csatlib.report import variance, views
from csatlib.report.exports import write_tables
from csatlib.results import ModelSummary, Provenance
from csatlib.run.stages import analyse
from csatlib.spec import parse_spec

from .conftest import HOTEL_SPEC, make_hotel_wave
from .test_views import visible

N = 300
HOTEL = "酒店"  # a cluster column added for the design run: 4 hotels per city


def _run(folder, doc: dict, frame: pd.DataFrame):
    spec = parse_spec(doc)
    path = folder / "wave.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    return analyse(read_wave(path, spec).frame, spec, wave="W", rows={"read": N, "clean": N, "quarantined": 0},
                   provenance=Provenance(input={"file": "wave.csv"}))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    doc = yaml.safe_load(HOTEL_SPEC)
    frame = make_hotel_wave(N)
    rng = np.random.default_rng(5)
    clustered = frame.assign(**{HOTEL: [f"{c}-{k}" for c, k in zip(frame["城市"], rng.integers(1, 5, N))]})
    out = {"weighted": _run(tmp_path_factory.mktemp("w"), doc, frame),
           "unweighted": _run(tmp_path_factory.mktemp("u"), {k: v for k, v in doc.items() if k != "weight"}, frame),
           "design": _run(tmp_path_factory.mktemp("d"), {**doc, "design": {"strata": "城市", "psu": HOTEL}},
                          clustered)}
    return out


def _text(results, *sections) -> str:
    return " ".join(visible(getattr(views, s)(results)) for s in sections)


MODEL_SECTIONS = ("loyalty_section", "gaps_section", "appendix_section")


@pytest.mark.parametrize("run", ["weighted", "design"])
def test_a_weighted_run_names_design_based_errors_and_the_wald_test(runs, run):
    res = runs[run]
    assert res.loyalty and res.gap is not None and res.gap.disconfirmation is not None
    text = _text(res, *MODEL_SECTIONS, "kpi_section")
    for m in res.loyalty:  # one sentence per model, from its recorded cov_type
        assert m.linear.cov_type == "design-based" and m.nonlinearity["test"] == "design-based Wald F"
        for model in (m.linear, m.logit):
            assert f"{variance.model_name(model)}: standard errors are design-based (linearisation" in text
        assert "as R's svyolr" in text and "as R's svyglm" in text
    assert "design-based Wald F test" in text
    assert "The regression: standard errors are design-based" in text  # the disconfirmation regression
    assert "not design-based" in text  # the mediation's simulated intervals say they are not
    for wrong in ("HC3", "likelihood-ratio", "LR χ²", "maximum-likelihood"):
        assert wrong not in text, wrong


def test_an_unweighted_run_names_hc3_and_the_likelihood_ratio_test(runs):
    res = runs["unweighted"]
    text = _text(res, *MODEL_SECTIONS, "kpi_section")
    assert all(m.linear.cov_type == "HC3" and m.logit.cov_type == "model-based" for m in res.loyalty)
    assert "OLS: heteroskedasticity-robust (HC3) standard errors" in text
    assert "Ordered logit: maximum-likelihood standard errors" in text
    assert "likelihood-ratio test" in text and "LR χ² = " in text
    assert "The regression: heteroskedasticity-robust (HC3)" in text
    for wrong in ("design-based", "Wald", "svyglm", "Kish"):
        assert wrong not in text, wrong


def test_a_weights_only_run_calls_its_effective_base_kish(runs):
    text = _text(runs["weighted"], "kpi_section", "appendix_section")
    assert "Kish's effective sample size (Σw)² / Σw²" in text and "n / deff" not in text


def test_a_stratified_clustered_design_never_calls_its_effective_base_kish(runs, tmp_path):
    res = runs["design"]
    assert variance.sample_kind(res) == variance.COMPLEX
    score = res.get("satisfaction.score")
    assert score.df is not None and score.n_eff != pytest.approx(res.weighting.n_eff)  # n / deff, not Kish
    notes = _text(res, "kpi_section", "appendix_section", "gaps_section", "loyalty_section")
    assert "Kish" not in notes
    assert "design effective sample size n / deff" in notes and "weights, strata and clusters" in notes
    assert f"design's {score.df:g} degrees of freedom" in notes
    # the weights section may name Kish only for the design effect of the weights themselves
    weights = _text(res, "questionnaire_and_weights_section")
    assert re.findall(r"Kish\S*", weights) == ["Kish's"] and "from the unequal weights alone" in weights
    # the workbook's About sheet says the same
    from openpyxl import load_workbook

    about = {r[0]: r[1] for r in load_workbook(write_tables(res, tmp_path / "t.xlsx"))["About"].iter_rows(
        values_only=True)}
    assert "n / deff" in about["n_eff"] and "Kish" not in about["n_eff"]
    assert "Kish" in {r[0]: r[1] for r in load_workbook(write_tables(runs["weighted"], tmp_path / "w.xlsx"))[
        "About"].iter_rows(values_only=True)}["n_eff"]


def test_the_bootstrap_caveat_follows_the_clusters(runs):
    assert "not the design's PSUs" in _text(runs["design"], "priorities_section")
    assert "PSU" not in _text(runs["weighted"], "priorities_section")


def test_wording_follows_the_recorded_cov_type_not_the_spec(runs):
    # the same weighted run with a model that recorded HC3: the sentence says HC3, not design-based
    res = runs["weighted"]
    m = res.loyalty[0]
    hc3 = replace(m, linear=replace(m.linear, cov_type="HC3", extra={}))
    text = visible(views.loyalty_section(replace(res, loyalty=[hc3])))
    assert f"{variance.model_name(m.linear)}: heteroskedasticity-robust (HC3)" in text


def test_sentences_of_each_recorded_variance():
    coef = pd.DataFrame({"estimate": [1.0]}, index=["satisfaction"])
    design = ModelSummary("ordered logit", "design-based", 100, None, 1, coef, {"df_resid": 17.0})
    assert variance.model_variance(design, "Ordered logit") == (
        "Ordered logit: standard errors are design-based (linearisation, as R's svyolr), because the survey is "
        "weighted or has a sample design, where model-based errors would be too small; t tests on 17 design degrees "
        "of freedom.")
    other = ModelSummary("probit", "bootstrap", 100, None, 1, coef, {"variance": "bootstrap standard errors"})
    assert variance.model_variance(other, "Probit") == "Probit: bootstrap standard errors."
    lr = {"test": "likelihood ratio χ²", "statistic": 11.3, "df": 3, "p": 0.01}
    assert variance.shape_test(lr).startswith("Shape test: a likelihood-ratio test, LR χ² = 11.3, df = 3, p = 0.010")
    wald = {"test": "design-based Wald F", "statistic": 5.0, "df": 3, "ddf": 286.0, "p": 0.002}
    assert "F = 5.00 on (3, 286) degrees of freedom" in variance.shape_test(wald)
    assert "likelihood-ratio" not in variance.shape_test(wald)
    assert variance.shape_test({"test": "design-based Wald F"}) == ""  # nothing computed, nothing said
