"""Headline KPIs, segments and wave comparisons against direct numpy/scipy computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from scipy import stats as st
from statsmodels.stats.multitest import multipletests

from csatlib.run.previous import collect_trend
from csatlib.report.wording import describe_change
from csatlib.results import wave_sort_key
from csatlib.analysis.kpis import kpis, segment_kpis
from csatlib.results import Estimate, Results, load_results
from csatlib.spec import parse_spec

from .conftest import HOTEL_SPEC, make_hotel_wave


@pytest.fixture(scope="module")
def spec():
    return parse_spec(yaml.safe_load(HOTEL_SPEC))


@pytest.fixture(scope="module")
def frame():
    return make_hotel_wave(500, seed=9)


def lin_se(y, w):
    """Weights-only linearised SE, written directly: sqrt(n/(n-1) * sum((w (y - ybar) / W)^2))."""
    ybar = np.sum(w * y) / np.sum(w)
    z = w * (y - ybar) / np.sum(w)
    return ybar, math.sqrt(len(y) / (len(y) - 1) * np.sum(z ** 2))


def domain_se(y, w, mask):
    """Domain mean of a weights-only design, written directly: the rows outside the domain stay in the
    sample with a zero contribution, so the factor is n/(n-1) of the whole sample."""
    ybar = np.sum(w[mask] * y[mask]) / np.sum(w[mask])
    z = np.where(mask, w * (y - ybar), 0.0) / np.sum(w[mask])
    return ybar, math.sqrt(len(y) / (len(y) - 1) * np.sum(z ** 2))


def test_weighted_kpis_against_numpy(spec, frame):
    est = {e.id: e for e in kpis(frame, spec)}
    y = frame["总体满意"].to_numpy(float)
    w = frame["权重"].to_numpy(float)
    n = len(y)
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    mean, se = lin_se(y, w)
    t = st.t.ppf(0.975, n - 1)
    score = est["satisfaction.score"]
    assert score.estimate == pytest.approx(mean, rel=1e-12)
    assert (score.ci_low, score.ci_high) == pytest.approx((mean - t * se, mean + t * se), rel=1e-12)
    assert score.n == n and score.n_eff == pytest.approx(n_eff)
    index = est["satisfaction.index"]
    assert index.estimate == pytest.approx(100 * (mean - 1) / 6)
    assert index.ci_high == pytest.approx(100 * (mean + t * se - 1) / 6)

    top = (y >= 6).astype(float)
    p = np.sum(w * top) / w.sum()
    z = st.norm.ppf(0.975)
    centre = (p + z ** 2 / (2 * n_eff)) / (1 + z ** 2 / n_eff)
    half = z / (1 + z ** 2 / n_eff) * math.sqrt(p * (1 - p) / n_eff + z ** 2 / (4 * n_eff ** 2))
    rate = est["satisfaction.rate"]
    assert rate.estimate == pytest.approx(p)
    assert (rate.ci_low, rate.ci_high) == pytest.approx((centre - half, centre + half), rel=1e-9)

    rec = frame["推荐"].to_numpy(float)
    score100 = np.where(rec >= 9, 100, np.where(rec <= 6, -100, 0)).astype(float)
    pp = np.sum(w * (rec >= 9)) / w.sum()
    pd_ = np.sum(w * (rec <= 6)) / w.sum()
    nps_mean, nps_se = lin_se(score100, w)
    assert est["nps"].estimate == pytest.approx(100 * (pp - pd_))
    assert est["nps"].estimate == pytest.approx(nps_mean)
    assert est["nps"].ci_high - est["nps"].estimate == pytest.approx(z * nps_se)

    loy = frame["再次入住"].to_numpy(float)
    assert est["loyalty.再次入住.score"].estimate == pytest.approx(np.sum(w * loy) / w.sum())


def test_unweighted_kpis_match_plain_mean_and_sem(frame):
    spec = parse_spec({**yaml.safe_load(HOTEL_SPEC), "weight": None})
    e = {x.id: x for x in kpis(frame, spec)}["satisfaction.score"]
    y = frame["总体满意"].to_numpy(float)
    assert e.estimate == pytest.approx(y.mean())
    assert e.se == pytest.approx(st.sem(y))
    assert e.n_eff == pytest.approx(len(y))


def test_skipped_answers_are_left_out_per_kpi(spec, frame):
    f = frame.copy()
    f.loc[:49, "推荐"] = np.nan
    est = {e.id: e for e in kpis(f, spec)}
    assert est["nps"].n == len(f) - 50
    assert est["satisfaction.score"].n == len(f)


def test_segments_suppression_and_holm_family(spec, frame):
    f = frame.copy()
    f.loc[:14, "城市"] = "深圳"  # 15 rows < min_base 20
    seg = segment_kpis(f, spec)
    shenzhen = [e for e in seg if e.segment == {"城市": "深圳"}]
    assert shenzhen and all(e.suppressed and e.estimate is None and e.n == 15 for e in shenzhen)
    tested = [e for e in seg if e.p is not None]
    adjusted = multipletests([e.p for e in tested], method="holm")[1]
    assert [e.p_adjusted for e in tested] == pytest.approx(list(adjusted))
    assert all(e.significant == (e.p_adjusted < 0.05) for e in tested)
    # the Beijing score test is a Welch test of Beijing against everyone else, each a domain of the
    # whole weighted sample (R: svyby(~y, ~city, svydesign(ids=~1, weights=~w), svymean))
    bj = next(e for e in seg if e.id == "satisfaction.score" and e.segment == {"城市": "北京"})
    mask = (f["城市"] == "北京").to_numpy()
    y, w = f["总体满意"].to_numpy(float), f["权重"].to_numpy(float)
    m1, s1 = domain_se(y, w, mask)
    m2, s2 = domain_se(y, w, ~mask)
    assert bj.estimate == pytest.approx(m1, rel=1e-12) and bj.se == pytest.approx(s1, rel=1e-12)
    t = (m1 - m2) / math.sqrt(s1 ** 2 + s2 ** 2)
    df = (s1 ** 2 + s2 ** 2) ** 2 / (s1 ** 4 / (mask.sum() - 1) + s2 ** 4 / ((~mask).sum() - 1))
    assert bj.p == pytest.approx(2 * st.t.sf(abs(t), df), rel=1e-9)


def test_missing_segment_values_form_their_own_group(spec, frame):
    f = frame.copy()
    f.loc[:29, "城市"] = np.nan
    seg = segment_kpis(f, spec)
    missing = [e for e in seg if e.segment == {"城市": "(missing)"} and e.id == "satisfaction.score"]
    assert missing and missing[0].n == 30


def test_segments_are_listed_as_the_spec_then_value_counts_order_them(spec, frame):
    """Listed categories first, in the spec's order; then every other label by size, equal sizes in
    the order the rows first show them (pandas' value_counts of the labels is the reference)."""
    f = frame.copy()
    f["城市"] = f["城市"].astype(object)
    f.loc[:39, "城市"] = np.nan  # missing comes first in the rows
    f.loc[40:79, "城市"] = "深圳"  # as many as the missing ones
    f.loc[80:99, "城市"] = "成都"
    f.loc[100:119, "城市"] = 7  # a number among the labels
    labels = f["城市"].astype(object).where(f["城市"].notna(), "(missing)").astype(str)
    listed = [v for v in ("北京", "上海", "广州") if v in set(labels)]
    expected = listed + [v for v in labels.value_counts().index if v not in listed]
    got = list(dict.fromkeys(e.segment["城市"] for e in segment_kpis(f, spec) if e.id == "satisfaction.score"))
    assert got == expected
    assert got[len(listed):len(listed) + 2] == ["(missing)", "深圳"]  # a tie, in order of first row


@pytest.mark.parametrize("change, text", [
    (Estimate("change.nps", 4.2, p=0.004, p_adjusted=0.012, significant=True),
     "NPS rose 4.2 points to 31.0, a significant but small change (p = 0.012, Holm-adjusted)."),
    (Estimate("change.nps", -4.2, p=0.004, p_adjusted=0.012, significant=True),
     "NPS fell 4.2 points to 31.0, a significant but small change (p = 0.012, Holm-adjusted)."),
    (Estimate("change.nps", 4.2, p=0.31, p_adjusted=0.31, significant=False),
     "NPS is 31.0, 4.2 points above wave 2026Q2: a change within sampling noise (p = 0.310, Holm-adjusted)."),
    (None, "NPS is 31.0; there is no earlier wave to compare with."),
])
def test_describe_change_wording(change, text):
    assert describe_change("NPS", Estimate("nps", 31.0), change, "2026Q2") == text


def test_non_significant_change_never_says_rose_or_fell():
    for d in (-3.0, 3.0):
        s = describe_change("Satisfaction rate", Estimate("satisfaction.rate", 0.5),
                            Estimate("change.satisfaction.rate", d / 100, p=0.2, p_adjusted=0.4, significant=False))
        assert "rose" not in s and "fell" not in s and "within sampling noise" in s
        assert "3.0 percentage points" in s


def test_chinese_labels_pass_through_wording():
    s = describe_change("华东 NPS", Estimate("nps", 10.0), None)
    assert s.startswith("华东 NPS is 10.0")


def test_wave_sort_key():
    assert sorted(["2026Q10", "2026Q2", "2025Q4"], key=wave_sort_key) == ["2025Q4", "2026Q2", "2026Q10"]


def test_results_round_trip_and_trend(tmp_path, spec, frame):
    ests = kpis(frame, spec)
    for wave in ("2026Q1", "2026Q2"):
        Results("酒店满意度", wave, None, True, {"read": 1, "clean": 1, "quarantined": 0}, ests).write(
            tmp_path / wave / "results.json")
    Results("other", "2026Q3", None, True, {}, ests).write(tmp_path / "2026Q3" / "results.json")
    back = load_results(tmp_path / "2026Q1")
    assert back.get("satisfaction.score").estimate == pytest.approx(ests[0].estimate)
    trend = collect_trend(tmp_path, "酒店满意度", {"wave": "2026Q10", "estimates": ests})
    assert [t["wave"] for t in trend] == ["2026Q1", "2026Q2", "2026Q10"]
    assert trend[0]["nps"]["estimate"] == pytest.approx(next(e for e in ests if e.id == "nps").estimate)


def test_dimension_scores_by_segment_form_their_own_holm_family(spec, frame):
    from csatlib.analysis.kpis import dimension_kpis, segment_dimension_kpis

    dims = {e.id: e for e in dimension_kpis(frame, spec)}
    w = frame["权重"].to_numpy(float)
    y = frame["位置_感知"].to_numpy(float)
    assert dims["dimension.位置.score"].estimate == pytest.approx(np.sum(w * y) / w.sum())
    assert dims["dimension.位置.score"].se == pytest.approx(lin_se(y, w)[1])
    seg = segment_dimension_kpis(frame, spec)
    tested = [e for e in seg if e.p is not None]
    assert {e.id for e in tested} == {"dimension.清洁.score", "dimension.服务.score", "dimension.位置.score"}
    assert [e.p_adjusted for e in tested] == pytest.approx(list(multipletests([e.p for e in tested],
                                                                              method="holm")[1]))
    head = [e for e in segment_kpis(frame, spec) if e.p is not None]
    assert not any(e.id.startswith("dimension.") for e in head)  # the headline family is unchanged
