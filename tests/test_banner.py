"""Banner tables: every cell against a direct weighted computation, the column letters against
statsmodels' and scipy's tests, suppression, Chinese labels, the workbook against the csv, the
``csat tables`` command and the tables of ``csat run``."""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

import csatlib
from csatlib.analysis.banner import (MAX_BANNER_VALUES, TIDY_COLUMNS, BannerTables, adjust_rows, banner,
                                     banner_settings)
from csatlib.errors import InputError, SpecError
from csatlib.ingest.load import read_wave
from csatlib.report import banner as report_banner
from csatlib.spec import parse_spec

from .conftest import HOTEL_SPEC, make_hotel_wave, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")

MEMBER_LABELS = {1: "金卡", 2: "普通"}
BANNER_SPEC = HOTEL_SPEC + "banner: [城市, 会员]\n"


def hotel_frame(n: int = 700, seed: int = 11) -> pd.DataFrame:
    """The hotel wave with a coded member column, skipped answers and a few rows without a city."""
    frame = make_hotel_wave(n, seed=seed)
    rng = np.random.default_rng(seed)
    frame["会员"] = rng.choice([1, 2], size=n, p=[0.3, 0.7])
    frame = frame.astype({"再次入住": float, "清洁_期望": float, "推荐": float})
    frame.loc[rng.choice(n, 60, replace=False), "再次入住"] = np.nan  # skipped questions
    frame.loc[rng.choice(n, 45, replace=False), "清洁_期望"] = np.nan
    frame.loc[rng.choice(n, 30, replace=False), "推荐"] = np.nan
    frame["城市"] = frame["城市"].astype(object)
    frame.loc[rng.choice(n, 12, replace=False), "城市"] = np.nan  # a (missing) column below min_base (20)
    return frame


@pytest.fixture(scope="module")
def spec():
    return parse_spec(yaml.safe_load(BANNER_SPEC))


@pytest.fixture(scope="module")
def frame():
    return hotel_frame()


@pytest.fixture(scope="module")
def tables(frame, spec):
    return banner(frame, spec, value_labels={"会员": MEMBER_LABELS})


# ---------------------------------------------------------------------------------------------
# the reference: every cell computed directly from the rows, in the test
SCALES = {"satisfaction": ("总体满意", 1, 7), "nps": ("推荐", 0, 10), "loyalty.再次入住": ("再次入住", 1, 4),
          "dimension.清洁": ("清洁_感知", 1, 5), "dimension.清洁.expectation": ("清洁_期望", 1, 5),
          "dimension.服务": ("服务_感知", 1, 5), "dimension.服务.expectation": ("服务_期望", 1, 5),
          "dimension.位置": ("位置_感知", 1, 5)}
GAPS = {"gap.清洁": ("清洁_感知", "清洁_期望"), "gap.服务": ("服务_感知", "服务_期望")}


def column_mask(frame: pd.DataFrame, group: str, column: str) -> np.ndarray:
    if group == "":
        return np.ones(len(frame), dtype=bool)
    values = frame[group]
    if column == "(missing)":
        return values.isna().to_numpy()
    if group == "会员":
        return (values.map(MEMBER_LABELS) == column).to_numpy()
    return (values == column).to_numpy()


def item_values(frame: pd.DataFrame, table: str):
    """(values, answered) of a table's question; values are floats or, for a segment, text."""
    if table in SCALES:
        y = frame[SCALES[table][0]].to_numpy(float)
        return y, ~np.isnan(y)
    if table in GAPS:
        p, e = GAPS[table]
        g = frame[p].to_numpy(float) - frame[e].to_numpy(float)
        return g, ~np.isnan(g)
    if table == "segment.城市":
        return frame["城市"].to_numpy(object), frame["城市"].notna().to_numpy()
    if table == "base":
        return np.zeros(len(frame)), np.ones(len(frame), dtype=bool)
    raise AssertionError(f"unexpected table {table}")


def stub_value(table: str, stub: str, y):
    """The per-row quantity a stub averages: an indicator (shares) or a score (means)."""
    low, high = (SCALES[table][1], SCALES[table][2]) if table in SCALES else (None, None)
    if stub.startswith("point."):
        return (y == float(stub[6:])).astype(float)
    if stub.startswith("value."):
        return (y == stub[6:]).astype(float)
    return {
        "top_box": lambda: (y == high).astype(float),
        "top2_box": lambda: (y >= high - 1).astype(float),
        "bottom2_box": lambda: (y <= low + 1).astype(float),
        "rate": lambda: (y >= 6).astype(float),  # satisfaction top_box: 6 on 1-7
        "promoters": lambda: (y >= 9).astype(float),
        "passives": lambda: ((y >= 7) & (y <= 8)).astype(float),
        "detractors": lambda: (y <= 6).astype(float),
        "nps": lambda: np.where(y >= 9, 100.0, np.where(y <= 6, -100.0, 0.0)),
        "mean": lambda: y.astype(float),
        "unmet": lambda: (y < 0).astype(float),
    }[stub]()


def direct(values: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Weighted mean, linearised SE (svymean, weights-only design) and bases, written out."""
    n = len(values)
    total = w.sum()
    mean = float(np.sum(w * values) / total) if n else math.nan
    se = math.sqrt(n / (n - 1) * np.sum((w * (values - mean)) ** 2) / total ** 2) if n > 1 else math.nan
    return {"mean": mean, "se": se, "n": n, "n_weighted": float(total),
            "n_eff": float(total ** 2 / np.sum(w ** 2)) if n else 0.0}


def reference_cells(frame: pd.DataFrame, tidy: pd.DataFrame, min_base: int) -> pd.DataFrame:
    """Reference value, base and effective base of every tidy row."""
    w_all = frame["权重"].to_numpy(float)
    out = []
    for (table, group, column), rows in tidy.groupby(["table", "group", "column"], sort=False):
        y, answered = item_values(frame, table)
        keep = answered & column_mask(frame, group, column)
        yk, wk = y[keep], w_all[keep]
        base = direct(np.zeros(keep.sum()), wk)
        for idx, row in rows.iterrows():
            if row["statistic"] in ("n", "n_weighted", "n_eff"):
                ref = base[row["statistic"]]
            else:
                d = direct(stub_value(table, row["stub"], yk), wk)
                ref = d["se"] if row["statistic"] == "se" else d["mean"]
                if base["n"] < min_base:
                    ref = math.nan
            share = (direct(stub_value(table, row["stub"], yk), wk)["mean"]
                     if row["statistic"] == "share" and base["n"] >= min_base else math.nan)
            out.append({"index": idx, "ref": ref, "ref_n": base["n"], "ref_n_eff": base["n_eff"], "ref_share": share})
    return pd.DataFrame(out).set_index("index").loc[tidy.index]


@pytest.fixture(scope="module")
def reference(frame, tables, spec):
    return reference_cells(frame, tables.frame, spec.quality.min_base)


def test_tidy_frame_shape_and_tables(tables):
    t = tables.frame
    assert list(t.columns) == TIDY_COLUMNS
    assert [tid for tid, _ in tables.tables] == [
        "base", "satisfaction", "nps", "loyalty.再次入住", "dimension.清洁", "dimension.清洁.expectation",
        "dimension.服务", "dimension.服务.expectation", "dimension.位置", "gap.清洁", "gap.服务", "segment.城市"]
    sat = t[(t["table"] == "satisfaction") & (t["group"] == "")]
    assert list(dict.fromkeys(sat["stub"])) == [*(f"point.{i}" for i in range(1, 8)), "rate", "top_box", "top2_box",
                                                "bottom2_box", "mean", "base"]
    nps = t[(t["table"] == "nps") & (t["group"] == "")]
    assert list(dict.fromkeys(nps["stub"]))[11:] == ["promoters", "passives", "detractors", "nps", "base"]
    gap = t[(t["table"] == "gap.清洁") & (t["group"] == "")]
    assert list(dict.fromkeys(gap["stub"])) == ["mean", "unmet", "base"]
    # Total, then 城市 in the spec's category order with (missing) last, then 会员 by its codes
    cols = tables.columns
    assert list(zip(cols["group"], cols["column"], cols["letter"])) == [
        ("", "Total", ""), ("城市", "北京", "A"), ("城市", "上海", "B"), ("城市", "广州", "C"),
        ("城市", "(missing)", "D"), ("会员", "金卡", "A"), ("会员", "普通", "B")]
    assert "BannerTables('酒店满意度', 12 tables × 7 columns" in repr(tables)


def test_every_cell_equals_a_direct_weighted_computation(tables, reference):
    t = tables.frame
    assert len(t) > 900
    np.testing.assert_allclose(t["value"].to_numpy(float), reference["ref"].to_numpy(float), rtol=1e-11, atol=1e-12,
                               equal_nan=True)
    np.testing.assert_array_equal(t["n"].to_numpy(), reference["ref_n"].to_numpy())
    # each kind of cell was compared (the check above would pass vacuously on an empty kind)
    kinds = t.groupby("statistic")["value"].apply(lambda v: v.notna().sum())
    assert (kinds[["share", "mean", "se", "n", "n_weighted", "n_eff"]] > 20).all()


def test_raked_weights_without_a_weight_column_weight_every_cell():
    """weighting: alone (no weight column): the cells use the raked weights, as the report does."""
    from csatlib.sampling import frame_weights

    text = BANNER_SPEC.replace("weight: 权重\n", "") + "weighting: {rake: {城市: {北京: 0.5, 上海: 0.3, 广州: 0.2}}}\n"
    raked_spec = parse_spec(yaml.safe_load(text))
    data = hotel_frame(seed=5).dropna(subset=["城市"]).reset_index(drop=True)
    raked = frame_weights(data, raked_spec).weights
    assert np.ptp(raked) > 0.1  # the raking did change the weights
    out = banner(data, raked_spec, value_labels={"会员": MEMBER_LABELS})
    cells = out.frame
    ref = reference_cells(data.assign(权重=raked), cells, raked_spec.quality.min_base)
    np.testing.assert_allclose(cells["value"].to_numpy(float), ref["ref"].to_numpy(float), rtol=1e-10, atol=1e-12,
                               equal_nan=True)
    total = cells[(cells["table"] == "base") & (cells["group"] == "") & (cells["statistic"] == "n_weighted")]
    assert total["value"].iloc[0] == pytest.approx(raked.sum())


def test_means_agree_with_weighted_mean_and_r_formula(tables, frame):
    """The mean cell of one column, by csatlib's svymean estimator (itself checked against R)."""
    from csatlib.stats.estimators import weighted_mean

    keep = (frame["城市"] == "上海").to_numpy()
    y = frame["再次入住"].to_numpy(float)[keep]
    m = weighted_mean(y, frame["权重"].to_numpy(float)[keep])
    cell = tables.frame.query("table == 'loyalty.再次入住' and stub == 'mean' and column == '上海'")
    assert cell.loc[cell["statistic"] == "mean", "value"].item() == pytest.approx(m.mean, rel=1e-12)
    assert cell.loc[cell["statistic"] == "se", "value"].item() == pytest.approx(m.se, rel=1e-10)
    base = tables.frame.query("table == 'loyalty.再次入住' and stub == 'base' and column == '上海'")
    assert base.loc[base["statistic"] == "n", "value"].item() == m.n  # skipped answers left the base
    assert base.loc[base["statistic"] == "n_eff", "value"].item() == pytest.approx(m.n_eff, rel=1e-12)


def test_cells_against_r_survey_fixture():
    """R ``survey`` 4.1-1 on tests/fixtures/r/design_data.csv (weights-only design, see its README).

    The Total column is ``svymean`` on the whole sample: means and SEs equal R's. A banner column
    is ``svymean`` on a design built from that column's rows (the same estimator as the report's
    segment KPIs, ``weighted_mean`` of the column's rows); ``svyby`` on the full design treats it as
    a domain and scales the variance by n/(n−1) of the full sample instead of the column's, so its
    SE is ours times sqrt[(n/(n−1)) / (n_d/(n_d−1))]; the means are the same.
    """
    root = Path(__file__).parent / "fixtures" / "r"
    ref = json.loads((root / "design_reference.json").read_text(encoding="utf-8"))["design_A"]
    data = pd.read_csv(root / "design_data.csv")
    spec = parse_spec({"name": "r", "id": "id", "weight": "w", "segments": ["region"],
                       "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
                       "nps": {"column": "rec", "scale": [0, 10]}})
    t = banner(data, spec, min_base=1).frame
    n = len(data)

    def cell(table, stub, statistic, column):
        return t.loc[(t["table"] == table) & (t["stub"] == stub) & (t["statistic"] == statistic)
                     & (t["column"] == column), ["value", "n"]].iloc[0]

    for key, table, stub, statistic in [("svymean_sat", "satisfaction", "mean", "mean"),
                                        ("svymean_nps_score", "nps", "nps", "mean")]:
        assert cell(table, stub, statistic, "Total")["value"] == pytest.approx(ref[key]["mean"], rel=1e-12)
        assert cell(table, stub, "se", "Total")["value"] == pytest.approx(ref[key]["se"], rel=1e-10)
    assert cell("satisfaction", "rate", "share", "Total")["value"] == pytest.approx(
        ref["svymean_topbox_sat_ge_8"]["mean"], rel=1e-12)
    for key, table, stub, statistic in [("svyby_sat_by_region", "satisfaction", "mean", "mean"),
                                        ("svyby_nps_score_by_region", "nps", "nps", "mean"),
                                        ("svyby_topbox_by_region", "satisfaction", "rate", "share")]:
        for region, r in ref[key].items():
            got = cell(table, stub, statistic, region)
            assert got["value"] == pytest.approx(r["mean"], rel=1e-12), (key, region)
            if statistic == "mean":
                n_d = got["n"]
                se = cell(table, stub, "se", region)["value"]
                assert se * math.sqrt((n / (n - 1)) / (n_d / (n_d - 1))) == pytest.approx(r["se"], rel=1e-10)


def test_suppression_below_min_base(tables, spec):
    t = tables.frame
    missing = t[t["column"] == "(missing)"]
    assert (missing["n"] < spec.quality.min_base).all() and missing["suppressed"].all()
    assert missing.loc[missing["statistic"].isin(["share", "mean", "se"]), "value"].isna().all()
    bases = missing[(missing["statistic"] == "n") & (missing["table"] != "segment.城市")]  # no city: no answer
    assert bases["value"].gt(0).all()  # bases stay visible
    assert (missing["letters"] == "").all()
    assert not t.loc[t["group"] == "城市", "letters"].str.contains("D").any()  # never tested against
    shown = t[(t["column"] != "(missing)")]
    assert not shown["suppressed"].any()


def test_per_table_base_suppression(frame, spec):
    """A column large enough overall is suppressed in a table whose question most of it skipped."""
    f = frame.copy()
    beijing = (f["城市"] == "北京").to_numpy()
    f.loc[beijing & (np.arange(len(f)) % 40 != 0), "再次入住"] = np.nan
    t = banner(f, spec, "城市").frame
    cell = t[(t["table"] == "loyalty.再次入住") & (t["column"] == "北京")]
    assert cell["suppressed"].all() and cell.loc[cell["statistic"] == "share", "value"].isna().all()
    other = t[(t["table"] == "satisfaction") & (t["column"] == "北京")]
    assert not other["suppressed"].any()


# ---------------------------------------------------------------------------------------------
# letters
def reference_letters(tables: BannerTables, reference: pd.DataFrame, correction: str, alpha: float) -> pd.Series:
    """Letters from statsmodels' pooled z test (proportions_ztest on effective bases) and scipy's
    Welch test (ttest_ind_from_stats with sd = SE·sqrt(n)), adjusted by multipletests."""
    t = tables.frame.join(reference)
    out = pd.Series("", index=t.index)
    tested = t[(t["group"] != "") & t["statistic"].isin(["share", "mean"])]
    for (table, stub, stat, group), rows in tested.groupby(["table", "stub", "statistic", "group"], sort=False):
        rows = rows[~rows["suppressed"]]
        idx = list(rows.index)
        pairs, pvals = [], []
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                i, j = t.loc[idx[a]], t.loc[idx[b]]
                if stat == "share":
                    ni, nj = i["ref_n_eff"], j["ref_n_eff"]
                    pooled = (i["ref"] * ni + j["ref"] * nj) / (ni + nj)
                    if not 0 < pooled < 1:
                        continue
                    _, p = proportions_ztest([i["ref"] * ni, j["ref"] * nj], [ni, nj])
                else:
                    se_i = t.loc[(t["table"] == table) & (t["stub"] == stub) & (t["statistic"] == "se")
                                 & (t["group"] == group) & (t["column"] == i["column"]), "ref"].item()
                    se_j = t.loc[(t["table"] == table) & (t["stub"] == stub) & (t["statistic"] == "se")
                                 & (t["group"] == group) & (t["column"] == j["column"]), "ref"].item()
                    if not (se_i ** 2 + se_j ** 2 > 0):
                        continue
                    p = st.ttest_ind_from_stats(i["ref"], se_i * math.sqrt(i["ref_n"]), i["ref_n"],
                                                j["ref"], se_j * math.sqrt(j["ref_n"]), j["ref_n"], equal_var=False).pvalue
                pairs.append((idx[a], idx[b]))
                pvals.append(p)
        if not pairs:
            continue
        adj = np.array(pvals) if correction == "none" else multipletests(pvals, method=correction)[1]
        for (a, b), p in zip(pairs, adj):
            if p < alpha:
                hi, lo = (a, b) if t.loc[a, "ref"] > t.loc[b, "ref"] else (b, a)
                out[hi] += t.loc[lo, "letter"]
    return out.map(lambda s: "".join(sorted(s)))


@pytest.mark.parametrize("correction", ["bonferroni", "holm", "none"])
def test_letters_equal_direct_z_and_welch_tests(frame, spec, correction):
    tables = banner(frame, spec, value_labels={"会员": MEMBER_LABELS}, correction=correction, confidence=0.9)
    ref = reference_cells(frame, tables.frame, spec.quality.min_base)
    expected = reference_letters(tables, ref, correction, 0.10)
    got = tables.frame["letters"].map(lambda s: "".join(sorted(s)))
    assert (got == expected).all(), tables.frame.loc[got != expected, ["table", "stub", "column", "letters"]].join(
        expected.rename("expected"))
    assert (got != "").sum() > 5  # some letters were set, so the comparison means something
    assert (tables.frame.loc[tables.frame["group"] == "", "letters"] == "").all()  # the Total is never tested


def planted() -> tuple[pd.DataFrame, object]:
    """Three columns of 200 respondents: top box (5) 30% in X, 21% in Y, 60% in Z; unweighted."""
    spec = parse_spec({"name": "planted", "id": "rid", "segments": ["grp"], "categories": {"grp": ["X", "Y", "Z"]},
                       "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}})
    sats = []
    for top in (60, 42, 120):
        rest = np.resize([1, 2, 3, 4], 200 - top)
        sats.append(np.concatenate([np.full(top, 5), rest]))
    frame = pd.DataFrame({"rid": np.arange(600), "grp": np.repeat(["X", "Y", "Z"], 200),
                          "sat": np.concatenate(sats)})
    return frame, spec


def top_box_letters(tables: BannerTables) -> list[str]:
    t = tables.frame
    return t[(t["table"] == "satisfaction") & (t["stub"] == "top_box") & (t["group"] == "grp")]["letters"].tolist()


def test_planted_significant_and_non_significant_pairs():
    frame, spec = planted()
    # X vs Y (30% vs 21%, n = 200 each): pooled z test p = 0.039 — significant alone, not after correction
    _, p_xy = proportions_ztest([60, 42], [200, 200])
    assert 0.05 / 3 < p_xy < 0.05
    assert top_box_letters(banner(frame, spec, correction="none")) == ["B", "", "AB"]
    assert top_box_letters(banner(frame, spec, correction="bonferroni")) == ["", "", "AB"]  # 3 · 0.039 > 0.05
    # Holm: the two Z pairs are tiny, so the X-Y pair is the last step with factor 1
    assert top_box_letters(banner(frame, spec, correction="holm")) == ["B", "", "AB"]
    assert top_box_letters(banner(frame, spec, correction="none", confidence=0.95 + 0.04)) == ["", "", "AB"]


def test_adjust_rows_matches_multipletests():
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 0.2, size=(40, 6))
    p[rng.uniform(size=p.shape) < 0.2] = np.nan
    for method in ("holm", "bonferroni"):
        got = adjust_rows(p, method)
        for row, adj in zip(p, got):
            ok = ~np.isnan(row)
            if ok.any():
                np.testing.assert_allclose(adj[ok], multipletests(row[ok], method=method)[1], rtol=1e-12)
            assert np.isnan(adj[~ok]).all()


def test_footnote_states_test_and_correction(tables):
    note = tables.footnote(tables.table_tests("satisfaction"))
    assert "two-sample z test of column proportions on effective bases" in note
    assert "Welch t test on design-based (linearised) standard errors" in note
    assert "Bonferroni" in note and "95%" in note and "below 20" in note
    seg = tables.footnote(tables.table_tests("segment.城市"))
    assert "z test" in seg and "Welch" not in seg


# ---------------------------------------------------------------------------------------------
# inputs, labels and settings
def test_settings_from_spec_and_defaults(spec):
    assert banner_settings(spec).columns == ("城市", "会员")
    plain = parse_spec(yaml.safe_load(HOTEL_SPEC))
    s = banner_settings(plain)
    assert (s.columns, s.confidence, s.correction) == (("城市",), 0.95, "bonferroni")  # the segments
    custom = parse_spec({**yaml.safe_load(HOTEL_SPEC), "banner": {"columns": ["城市"], "confidence": 90,
                                                                   "correction": "Holm"}})
    assert (custom.banner.confidence, custom.banner.correction) == (0.9, "holm")
    assert "城市" in custom.roles()


@pytest.mark.parametrize("value, message", [
    ({"columns": ["城市"], "level": 0.9}, "unknown key 'banner.level'"),
    ({"correction": "fdr"}, "banner.correction must be one of bonferroni, holm, none"),
    ({"confidence": 0.3}, "banner.confidence must be a level"),
    (["编号"], "banner[0]: column '编号' is the id"),
    (["权重"], "is the weight"),
    (["评论"], "is the text"),
    (["城市", "城市"], "lists column '城市' twice"),
])
def test_banner_spec_errors(value, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        parse_spec({**yaml.safe_load(HOTEL_SPEC), "banner": value})


def test_missing_banner_column_is_an_input_error(tmp_path):
    spec = parse_spec({**yaml.safe_load(HOTEL_SPEC), "banner": ["城市", "会员"]})
    path = tmp_path / "w.csv"
    make_hotel_wave(50).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"missing column '会员' \(banner\)"):
        read_wave(path, spec)


def test_too_many_banner_values_and_unknown_column(frame, spec):
    f = frame.assign(code=np.arange(len(frame)) % (MAX_BANNER_VALUES + 1))
    with pytest.raises(ValueError, match="27 distinct values"):
        banner(f, spec, "code")
    with pytest.raises(ValueError, match="'nope' not in the data"):
        banner(frame, spec, ["nope"])


def test_total_only_without_banner_columns(frame):
    spec = parse_spec({k: v for k, v in yaml.safe_load(HOTEL_SPEC).items() if k not in ("segments", "categories")})
    tables = banner(frame, spec)
    assert list(tables.columns["column"]) == ["Total"]
    assert (tables.frame["letters"] == "").all() and (tables.frame["test"] == "").all()


def test_empty_and_degenerate_inputs(frame, spec):
    empty = banner(frame.iloc[:0], spec)
    assert (empty.frame.loc[empty.frame["statistic"] == "n", "value"] == 0).all()
    assert empty.frame.loc[empty.frame["statistic"] == "share", "value"].isna().all()
    no_city = banner(frame.assign(城市=np.nan), spec, "城市")
    assert list(no_city.columns["column"]) == ["Total", "(missing)"]
    half = frame.assign(清洁_感知=frame["清洁_感知"] - 0.5)  # half points: no whole-number shortcut
    t = banner(half, spec, "城市").frame
    gap = (half["清洁_感知"] - half["清洁_期望"]).to_numpy(float)
    ok = ~np.isnan(gap) & (half["清洁_感知"] >= 1).to_numpy()
    want = direct(gap[ok], half["权重"].to_numpy(float)[ok])
    got = t[(t["table"] == "gap.清洁") & (t["stub"] == "mean") & (t["group"] == "")]
    assert got.loc[got["statistic"] == "mean", "value"].item() == pytest.approx(want["mean"], rel=1e-12)
    assert got.loc[got["statistic"] == "se", "value"].item() == pytest.approx(want["se"], rel=1e-10)
    one = frame.assign(总体满意=4)  # every answer the same: nothing to test, nothing significant
    t = banner(one, spec, "城市").frame
    assert (t.loc[t["table"] == "satisfaction", "letters"] == "").all()


def test_spss_value_labels_name_points_and_banner_values(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    spec = parse_spec({**yaml.safe_load(HOTEL_SPEC), "banner": ["城市", "会员"]})
    frame = hotel_frame(300).drop(columns=["手机"])
    frame["城市"] = frame["城市"].fillna("北京")
    path = tmp_path / "hotel.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={
        "会员": {1.0: "金卡", 2.0: "普通"}, "再次入住": {1.0: "肯定不会", 4.0: "肯定会"}})
    wave = read_wave(path, spec)
    tables = csatlib.banner(wave, spec)
    t = tables.frame
    loyalty = t[(t["table"] == "loyalty.再次入住") & (t["group"] == "")]
    assert list(dict.fromkeys(loyalty["stub_label"]))[:4] == ["1 肯定不会", "2", "3", "4 肯定会"]
    assert list(tables.columns.loc[tables.columns["group"] == "会员", "column"]) == ["金卡", "普通"]


def test_out_of_scale_answers_and_bad_weights_are_left_out_with_a_note(frame, spec):
    f = frame.copy()
    f.loc[0, "总体满意"] = 99
    f.loc[1, "权重"] = 0
    tables = banner(f, spec, "城市")
    assert any("1 answer outside the scale 1-7" in n for n in tables.notes)
    assert any("1 rows without a valid weight" in n for n in tables.notes)
    t = tables.frame
    n_total = t[(t["table"] == "satisfaction") & (t["stub"] == "base") & (t["statistic"] == "n") & (t["group"] == "")]
    assert n_total["value"].item() == len(f) - 2


def test_repr_html_escapes_labels(frame, spec):
    f = frame.copy()
    f["城市"] = f["城市"].replace({"广州": "<b>广州</b>"})
    tables = csatlib.banner(f, parse_spec({**yaml.safe_load(HOTEL_SPEC), "categories": {}}))
    page = tables._repr_html_()
    assert "&lt;b&gt;广州&lt;/b&gt;" in page and "<b>广州</b>" not in page
    assert isinstance(tables, csatlib.BannerTables)
    assert "&lt;b&gt;广州&lt;/b&gt;" in report_banner.appendix(tables)


# ---------------------------------------------------------------------------------------------
# the files
@pytest.fixture(scope="module")
def written(tables, tmp_path_factory):
    folder = tmp_path_factory.mktemp("banner-files")
    report_banner.write_csv(tables, folder / "banner.csv")
    report_banner.write_xlsx(tables, folder / "banner.xlsx", info=["Wave 2026-秋"])
    (folder / "banner.html").write_text(report_banner.page(tables), encoding="utf-8")
    return folder


def read_tidy_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values={"value": [""]},
                       dtype={c: str for c in TIDY_COLUMNS if c not in ("value", "n", "suppressed")})


def test_csv_round_trip(tables, written, spec):
    csv = read_tidy_csv(written / "banner.csv")
    assert list(csv.columns) == TIDY_COLUMNS
    np.testing.assert_array_equal(csv["value"].to_numpy(float), tables.frame["value"].to_numpy(float))
    back = report_banner.read_csv(written / "banner.csv", spec)
    pd.testing.assert_frame_equal(back.frame, tables.frame, check_exact=True)
    assert "上海" in set(csv["column"])


def test_xlsx_numbers_equal_the_csv(tables, written):
    from openpyxl import load_workbook

    csv = read_tidy_csv(written / "banner.csv")
    wb = load_workbook(written / "banner.xlsx")
    assert wb.sheetnames == ["Contents", "城市", "会员"]
    contents = wb["Contents"]
    links = {}
    for row in contents.iter_rows():
        for cell in row:
            if cell.hyperlink is not None:
                sheet, ref = re.fullmatch(r"#'(.+)'!A(\d+)", cell.hyperlink.location or cell.hyperlink.target).groups()
                links[(row[0].value, sheet)] = int(ref)
    titles = dict((label, tid) for tid, label in tables.tables)
    assert {t for t, _ in links} == set(titles) - {"Respondents"}
    checked = 0
    for sheet_name in ("城市", "会员"):
        ws = wb[sheet_name]
        assert ws.freeze_panes is not None and ws.freeze_panes.startswith("B")
        # header: Total then the group's values with their letters
        heads = [(ws.cell(3, c).value, ws.cell(4, c).value or "") for c in range(2, ws.max_column + 1, 2)]
        group_cols = tables.columns[tables.columns["group"].isin(["", sheet_name])]
        assert heads == [(c, f"({l})" if l else "") for c, l in zip(group_cols["column"], group_cols["letter"])]
        for r, stat in zip((5, 6, 7), ("n", "n_weighted", "n_eff")):  # every respondent of each column
            got = [ws.cell(r, c).value for c in range(2, ws.max_column + 1, 2)]
            assert got == pytest.approx(group_cols[stat].astype(float).tolist(), rel=1e-15)
        for (label, sheet), start in links.items():
            if sheet != sheet_name:
                continue
            tid = titles[label]
            assert ws.cell(start, 1).value == label
            rows = csv[(csv["table"] == tid) & csv["group"].isin(["", sheet_name])]
            lines = list(dict.fromkeys(zip(rows["stub"], rows["stub_label"], rows["statistic"])))
            for k, (stub, stub_label, stat) in enumerate(lines):
                r = start + 1 + k
                want_label = stub_label if stat in ("share", "mean") else report_banner.STAT_LABELS[stat]
                assert ws.cell(r, 1).value == want_label
                cells = rows[(rows["stub"] == stub) & (rows["statistic"] == stat)]
                for j, (_, cell) in enumerate(cells.iterrows()):
                    got = ws.cell(r, 2 + 2 * j).value
                    if math.isnan(cell["value"]):
                        assert got in ("*", None)
                    else:
                        # openpyxl writes numbers with 16 significant digits ("%.16g"; Excel shows 15)
                        assert got == pytest.approx(cell["value"], rel=1e-15, abs=0), (tid, stub, stat)
                        assert ws.cell(r, 2 + 2 * j).number_format == (
                            report_banner._number_format(stat, tid, stub))
                        checked += 1
                    assert (ws.cell(r, 3 + 2 * j).value or "") == cell["letters"]
    assert checked > 900


def test_chinese_labels_in_headers(written):
    from openpyxl import load_workbook

    ws = load_workbook(written / "banner.xlsx")["城市"]
    assert [ws.cell(3, c).value for c in (2, 4, 6, 8)] == ["Total", "北京", "上海", "广州"]
    page = (written / "banner.html").read_text(encoding="utf-8")
    assert ">北京<br>" in page and ">城市</th>" in page and "总体满意" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
def test_html_rows_sort_in_a_browser(tables, tmp_path):
    click = ("<script>document.querySelector('details').open=true;"
             "document.querySelector('table.csat-banner tr.cols th[data-col=\"3\"]').click();</script>")
    page = report_banner.page(tables).replace("</body>", click + "</body>")
    path = tmp_path / "sort.html"
    path.write_text(page, encoding="utf-8")
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    first = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    values = [float(v) for v in re.findall(r"<tr data-i=\"\d+\">(?:<td[^>]*>.*?</td>){3}<td[^>]*data-v=\"([^\"]+)\"",
                                           first)]
    assert len(values) >= 10 and values == sorted(values, reverse=True)


@pytest.mark.skipif(LIBREOFFICE is None, reason="libreoffice-calc is not installed")
def test_libreoffice_converts_the_workbook_to_pdf(written, tmp_path):
    proc = subprocess.run([LIBREOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                           str(written / "banner.xlsx")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "banner.pdf").stat().st_size > 1000


# ---------------------------------------------------------------------------------------------
# the command line
@pytest.fixture(scope="module")
def banner_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("banner-cli")
    (folder / "hotel.yaml").write_text(BANNER_SPEC, encoding="utf-8")
    frame = make_hotel_wave(400)
    frame["会员"] = np.where(np.arange(400) % 3 == 0, "金卡", "普通")
    frame.to_csv(folder / "hotel.csv", index=False, encoding="utf-8")
    return folder


def one_error_line(stderr: str, *needles: str) -> None:
    lines = [l for l in stderr.strip().splitlines() if l.startswith("csat: error")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_csat_tables_writes_the_three_files(banner_files):
    out = banner_files / "out"
    proc = run_cli("tables", "--data", str(banner_files / "hotel.csv"), "--spec", str(banner_files / "hotel.yaml"),
                   "--wave", "2026-秋", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    folder = out / "2026-秋"
    assert sorted(p.name for p in folder.iterdir()) == ["banner.csv", "banner.html", "banner.xlsx"]
    csv = read_tidy_csv(folder / "banner.csv")
    assert set(csv["group"]) == {"", "城市", "会员"}
    assert "banner tables" in proc.stderr and proc.stdout == ""
    # --banner overrides the spec; only the named groups
    proc = run_cli("tables", "--data", str(banner_files / "hotel.csv"), "--spec", str(banner_files / "hotel.yaml"),
                   "--wave", "2026-秋", "--out", str(out), "--banner", "会员")
    assert proc.returncode == 0, proc.stderr
    assert set(read_tidy_csv(folder / "banner.csv")["group"]) == {"", "会员"}


def test_csat_tables_errors(banner_files):
    data, spec = str(banner_files / "hotel.csv"), str(banner_files / "hotel.yaml")
    proc = run_cli("tables", "--data", data, "--spec", spec, "--wave", "2026-秋", "--out",
                   str(banner_files / "err"), "--banner", "城市,没有")
    assert proc.returncode == 2
    one_error_line(proc.stderr, "hotel.csv", "'没有'", "--banner")
    proc = run_cli("tables", "--data", data, "--spec", spec, "--wave", "2026-秋", "--out",
                   str(banner_files / "err"), "--banner", "编号")
    assert proc.returncode == 2
    one_error_line(proc.stderr, "hotel.csv", "distinct values")
    # a wave label the file does not hold blocks the tables as it blocks the report
    proc = run_cli("tables", "--data", data, "--spec", spec, "--wave", "2027", "--out", str(banner_files / "err"))
    assert proc.returncode == 1
    one_error_line(proc.stderr, "hotel.csv")
    assert (banner_files / "err" / "2027" / "validation.json").is_file()
    assert not (banner_files / "err" / "2027" / "banner.xlsx").exists()
    bad = banner_files / "bad.yaml"
    bad.write_text(HOTEL_SPEC + "banner: {columns: [城市], correction: sidak}\n", encoding="utf-8")
    proc = run_cli("tables", "--data", data, "--spec", str(bad), "--wave", "2026-秋", "--out", str(banner_files / "err"))
    assert proc.returncode == 2
    one_error_line(proc.stderr, "bad.yaml", "banner.correction")


def test_csat_run_writes_banner_tables_and_the_report_appendix(banner_files):
    out = banner_files / "run"
    proc = run_cli("run", "--data", str(banner_files / "hotel.csv"), "--spec", str(banner_files / "hotel.yaml"),
                   "--wave", "2026-秋", "--out", str(out), "--expectations", str(banner_files / "exp"))
    assert proc.returncode == 0, proc.stderr
    folder = out / "2026-秋"
    assert (folder / "banner.xlsx").is_file() and (folder / "banner.csv").is_file()
    csv = read_tidy_csv(folder / "banner.csv")
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    total = csv[(csv["table"] == "base") & (csv["group"] == "") & (csv["statistic"] == "n")]["value"].item()
    assert total == doc["rows"]["clean"]  # quarantined rows never reach a table
    sat = csv[(csv["table"] == "satisfaction") & (csv["stub"] == "mean") & (csv["statistic"] == "mean")
              & (csv["group"] == "")]["value"].item()
    est = next(e for e in doc["estimates"] if e["id"] == "satisfaction.score" and e["segment"] is None)
    assert sat == pytest.approx(est["estimate"], rel=1e-12)  # the report and the tables agree
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Appendix: banner tables" in page and "csat-banner" in page and "金卡" in page
