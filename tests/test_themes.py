"""Comment themes: spec key, segmentation, coding, shares against direct computations, groups,
discovered topics (deterministic), themes.csv and the report section (no PII, escaped)."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from csatlib.analysis.themes import code_comments, discover_themes, theme_analysis, tokenize
from csatlib.errors import SpecError
from csatlib.ingest.privacy import redact_series, redact_text
from csatlib.output import to_jsonable
from csatlib.report.themes import themes_section, write_themes_csv
from csatlib.results import Results
from csatlib.theme_results import ThemeAnalysis
from csatlib.spec import parse_spec

BASE = {"name": "t", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8}, "text": ["c"]}
CODEFRAME = {"等待时间": ["等待", "排队", "太慢", "wait", "queue"], "服务态度": ["态度", "不耐烦", "rude", "friendly"],
             "价格": ["价格", "太贵", "price", "too expensive"]}

# comments written for the tests: (text, planted themes); PII planted in some, negations in others
COMMENTS = [
    ("排队等了四十分钟，太慢了", {"等待时间"}),
    ("前台态度很好，非常满意", {"服务态度"}),
    ("服务员不耐烦，而且价格太贵", {"服务态度", "价格"}),
    ("安排队伍很整齐，房间干净", set()),           # 排队 only across a word boundary (安排 / 队伍)
    ("The queue was long and the staff rude", {"等待时间", "服务态度"}),
    ("Friendly staff, not too expensive", {"服务态度", "价格"}),
    ("We awaited our keys patiently", set()),      # wait only inside another word
    ("price was fair, email me at li.wei@example.cn", {"价格"}),
    ("不满意，请打电话 13812345678 给我", set()),
    ("Parking was impossible, no parking space at all", set()),
    ("停车位不够，停车场太小", set()),
    ("wifi 信号很差，经常断线", set()),
]


def _spec(**extra):
    return parse_spec({**BASE, "themes": {"c": CODEFRAME}, **extra})


def _frame(n=900, seed=5, nps=True):
    """Comments drawn from COMMENTS (redacted as the loader does), weights, a segment, ratings that
    go with the comments (waiting and rudeness lower the score)."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(COMMENTS), n)
    texts = [COMMENTS[i][0] for i in pick]
    planted = [COMMENTS[i][1] for i in pick]
    penalty = np.array([2.5 * ("等待时间" in p) + 1.5 * ("服务态度" in p and "rude" in t.lower() or "不耐烦" in t)
                        for p, t in zip(planted, texts)])
    sat = np.clip(np.round(8 - penalty + rng.normal(0, 1.5, n)), 1, 10)
    df = pd.DataFrame({"rid": np.arange(1, n + 1), "w": rng.uniform(0.4, 2.5, n),
                       "city": rng.choice(["北京", "上海", "广州"], n, p=[0.5, 0.4, 0.1]),
                       "sat": sat, "rec": np.clip(np.round(sat + rng.normal(0, 1, n)), 0, 10),
                       "c": redact_series(pd.Series(texts))})
    df.loc[rng.choice(n, 20, replace=False), "c"] = rng.choice(["", "   ", None], 20)
    return df, planted


# --------------------------------------------------------------------------------------------
def test_spec_themes_key_and_errors():
    spec = _spec()
    assert spec.themes["c"]["等待时间"] == ("等待", "排队", "太慢", "wait", "queue")
    with pytest.raises(SpecError, match=r"themes\.other_col: 'other_col' is not a free-text column"):
        parse_spec({**BASE, "themes": {"other_col": {"a": ["x"]}}})
    with pytest.raises(SpecError, match=r"themes\.c\.a must be a non-empty list"):
        parse_spec({**BASE, "themes": {"c": {"a": []}}})
    with pytest.raises(SpecError, match="also defined"):
        parse_spec({**BASE, "text": ["c", "d"], "themes": {"c": {"a": ["x"]}, "d": {"a": ["y"]}}})
    with pytest.raises(SpecError, match="unknown key"):
        parse_spec({**BASE, "theme": {"c": {"a": ["x"]}}})


def test_segmentation_matches_words_not_substrings():
    toks = tokenize(["安排队伍很整齐", "排队太久"], keywords=["排队"])
    assert "排队" not in toks[0] and "排队" in toks[1]
    coded = code_comments([t for t, _ in COMMENTS], CODEFRAME)
    for (text, planted), row in zip(COMMENTS, coded.to_dict("records")):
        assert {k for k, v in row.items() if v} == planted, text
    # a phrase matches as consecutive words only
    hits = code_comments(["it was too expensive", "too quick, expensive though", "Too  Expensive!"],
                         {"price": ["too expensive"]})["price"].tolist()
    assert hits == [True, False, True]


def test_spec_keywords_join_the_dictionary():
    # a word jieba does not know is cut out whole once the codeframe names it
    assert tokenize(["自助入住机总是坏"])[0][:3] == ["自助", "入住", "机"]
    assert tokenize(["自助入住机总是坏"], keywords=["自助入住机"])[0] == ["自助入住机", "总是", "坏"]
    assert code_comments(["自助入住机总是坏"], {"kiosk": ["自助入住机"]})["kiosk"].all()


def test_shares_intervals_and_association_against_direct_computation():
    df, planted = _frame()
    spec = _spec(weight="w", segments=["city"], nps={"column": "rec", "scale": [0, 10]})
    th = theme_analysis(df, spec)
    col = th["c"]
    keep = df["c"].astype("string").str.strip().str.len().fillna(0).to_numpy() > 0
    w = df["w"].to_numpy()[keep]
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    assert col.comments == keep.sum() and math.isclose(col.n_eff, n_eff)
    sat = df["sat"].to_numpy()[keep]
    plant = [p for p, k in zip(planted, keep) if k]
    table = col.table.set_index("theme")
    pvals = []
    for theme in CODEFRAME:
        x = np.array([theme in p for p in plant])
        share = np.average(x, weights=w)
        lo, hi = proportion_confint(share * n_eff, n_eff, method="wilson")
        r = table.loc[theme]
        assert r["mentions"] == x.sum()
        assert math.isclose(r["share"], share) and math.isclose(r["ci_low"], lo) and math.isclose(r["ci_high"], hi)
        # association: weighted means of the rating, Welch t on linearised SEs
        m1, m0 = np.average(sat[x], weights=w[x]), np.average(sat[~x], weights=w[~x])
        assert math.isclose(r["difference"], m1 - m0)

        def se(y, ww):
            z = ww * (y - np.average(y, weights=ww)) / ww.sum()
            return math.sqrt(len(y) / (len(y) - 1) * (z @ z))

        s1, s0 = se(sat[x], w[x]), se(sat[~x], w[~x])
        t = (m1 - m0) / math.hypot(s1, s0)
        dof = (s1 ** 2 + s0 ** 2) ** 2 / (s1 ** 4 / (x.sum() - 1) + s0 ** 4 / ((~x).sum() - 1))
        pvals.append(2 * stats.t.sf(abs(t), dof))
        assert math.isclose(r["p"], pvals[-1], rel_tol=1e-9)
    assert np.allclose(table.loc[list(CODEFRAME), "p_adjusted"], multipletests(pvals, method="holm")[1])
    assert table.loc["等待时间", "difference"] < -1.5 and table.loc["等待时间", "significant"]
    other = np.array([not p for p in plant])
    assert math.isclose(table.loc["(other)", "share"], np.average(other, weights=w))
    assert math.isclose(table.loc["(coded)", "share"], 1 - np.average(other, weights=w))
    # results.json ids
    ests = {(e.id, json.dumps(e.segment, ensure_ascii=False)): e for e in th.estimates()}
    assert math.isclose(ests[("theme.等待时间.share", "null")].estimate, table.loc["等待时间", "share"])
    assert ("themes.c.other", "null") in ests and ("sentiment.c.agreement", "null") in ests


def test_segment_and_group_tables_against_direct_computation():
    df, planted = _frame()
    spec = _spec(weight="w", segments=["city"], nps={"column": "rec", "scale": [0, 10]},
                 quality={"min_base": 100})
    col = theme_analysis(df, spec)["c"]
    keep = df["c"].astype("string").str.strip().str.len().fillna(0).to_numpy() > 0
    sub = df[keep]
    w = sub["w"].to_numpy()
    plant = [p for p, k in zip(planted, keep) if k]
    seg = col.by_segment
    assert set(seg.loc[seg["suppressed"], "value"]) == {v for v, c in sub["city"].value_counts().items() if c < 100}
    pvals, rows = [], []
    for r in seg[~seg["suppressed"]].itertuples():
        x = np.array([r.theme in p for p in plant])
        m = (sub["city"] == r.value).to_numpy()
        p1, p2 = np.average(x[m], weights=w[m]), np.average(x[~m], weights=w[~m])
        n1 = w[m].sum() ** 2 / (w[m] ** 2).sum()
        n2 = w[~m].sum() ** 2 / (w[~m] ** 2).sum()
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        assert math.isclose(r.share, p1)
        pvals.append(2 * stats.norm.sf(abs(z)))
        rows.append(r.p)
    assert np.allclose(rows, pvals)
    assert np.allclose(seg.loc[~seg["suppressed"], "p_adjusted"], multipletests(pvals, method="holm")[1])
    # NPS groups: detractors 0-6, passives 7-8, promoters 9-10
    grp = col.by_group
    assert list(dict.fromkeys(grp["value"])) == ["detractors (0-6)", "passives (7-8)", "promoters (9-10)"]
    det = (sub["rec"] <= 6).to_numpy()
    x = np.array(["等待时间" in p for p in plant])
    got = grp[(grp["theme"] == "等待时间") & (grp["value"] == "detractors (0-6)")].iloc[0]
    assert math.isclose(got["share"], np.average(x[det], weights=w[det]))
    assert got["significant"]  # waiting goes with low scores by construction


def test_boxes_without_nps():
    df, _ = _frame(nps=False)
    col = theme_analysis(df, _spec())["c"]
    assert list(dict.fromkeys(col.by_group["value"])) == ["bottom box (1-3)", "middle (3<…<8)", "top box (8-10)"]
    assert col.by_segment.empty
    assert math.isclose(col.n_eff, col.comments)  # unweighted


def test_discovered_themes_find_planted_uncoded_topic_and_are_deterministic():
    df, _ = _frame()
    spec = _spec()
    a = theme_analysis(df, spec)["c"].discovered
    assert a == theme_analysis(df, spec)["c"].discovered and len(a) == 5
    # the same topics in another process with another hash seed
    code = ("import sys, json; sys.path.insert(0, 'tests'); from test_themes import _frame, _spec; "
            "from csatlib.analysis.themes import theme_analysis; from csatlib.output import to_jsonable; "
            "print(json.dumps(to_jsonable(theme_analysis(_frame()[0], _spec())['c'].discovered)))")
    import os
    import subprocess
    import sys
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           cwd=os.path.dirname(os.path.dirname(__file__)), check=True)
    assert json.loads(other.stdout.strip().splitlines()[-1]) == json.loads(json.dumps(to_jsonable(a)))
    terms = [set(t["terms"]) for t in a]
    assert any("parking" in t for t in terms)
    assert any({"信号", "断线"} <= t for t in terms)
    assert not any(t & set(CODEFRAME["等待时间"]) for t in terms)  # coded comments are not re-discovered
    for t in a:
        assert 1 <= len(t["examples"]) <= 2 and t["suggestion"].split(":")[0].strip('"')
        # a suggestion is valid YAML for the codeframe
        import yaml
        (name, words), = yaml.safe_load(t["suggestion"]).items()
        assert words == t["terms"][:5]
    # few comments: no topics, said so
    topics, assign = discover_themes([["a"]] * 5, ["a"] * 5)
    assert topics == [] and not assign.any()


def test_no_pii_in_themes_csv_or_section_and_text_is_escaped(tmp_path):
    raw = [t for t, _ in COMMENTS] + ["<script>alert(1)</script> 排队 太慢", "=HYPERLINK(\"x\") rude"]
    df = pd.DataFrame({"rid": range(1, len(raw) * 10 + 1), "sat": np.tile(np.arange(1, 11), len(raw)),
                       "c": redact_series(pd.Series(raw * 10))})
    th = theme_analysis(df, _spec())
    path = write_themes_csv(th, tmp_path / "themes.csv")
    out = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(out.columns) == ["id", "column", "comment", "themes", "discovered_topic", "sentiment",
                                 "sentiment_label", "satisfaction_group"]
    assert len(out) == len(df)
    body = path.read_text(encoding="utf-8-sig")
    html = themes_section(th)
    for secret in ("li.wei@example.cn", "13812345678"):
        assert secret not in body and secret not in html
        assert secret not in json.dumps(to_jsonable(th.to_dict()), ensure_ascii=False)
    for c in out["comment"]:
        assert redact_text(c.lstrip("'")) == c.lstrip("'")
    assert "[email]" in body and "[phone]" in body
    assert "'=HYPERLINK" in body  # no formula reaches a spreadsheet
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "What customers say" in html and "Spearman" in html


def test_sentiment_never_shown_without_agreement():
    df = pd.DataFrame({"rid": range(1, 41), "sat": [5] * 40, "c": ["排队太慢"] * 20 + ["friendly staff"] * 20})
    th = theme_analysis(df, _spec())
    html = themes_section(th)
    assert "Sentiment is not shown" in html and "positive," not in html
    assert not any(e.id.startswith("sentiment.") for e in th.estimates())


def test_results_round_trip_and_stage(tmp_path):
    df, _ = _frame(n=300)
    th = theme_analysis(df, _spec(weight="w"))
    res = Results(survey="t", wave="w1", previous_wave=None, weighted=True, rows={"read": 300, "clean": 300,
                  "quarantined": 0}, estimates=th.estimates(), themes=th)
    res.write(tmp_path / "results.json")
    back = Results.from_dict(json.loads((tmp_path / "results.json").read_text(encoding="utf-8")))
    assert isinstance(back.themes, ThemeAnalysis) and back.themes.comments is None
    assert back.themes["c"].discovered == json.loads(json.dumps(to_jsonable(th["c"].discovered)))
    pd.testing.assert_frame_equal(back.themes["c"].table.reset_index(drop=True),
                                  pd.DataFrame(to_jsonable(th["c"].table.to_dict("records"))), check_dtype=False)
    assert themes_section(back) == themes_section(th)
    assert "ThemeColumn('c'" in repr(th)


def test_analyse_file_adds_theme_estimates(tmp_path):
    from csatlib.run.stages import analyse_file

    df, _ = _frame(n=200)
    df["c"] = df["c"].fillna("")
    df.loc[0, "c"] = "call 13812345678 排队太慢"  # raw PII: the loader redacts it
    data = tmp_path / "wave.csv"
    df.drop(columns=["rec"]).to_csv(data, index=False)
    spec = _spec(weight="w", segments=["city"])
    res = analyse_file(data, spec, "w1")
    assert res.get("theme.等待时间.share") is not None
    assert any(e.id == "theme.价格.share" and e.segment == {"city": "北京"} for e in res.estimates)
    assert "13812345678" not in json.dumps(res.to_dict(), ensure_ascii=False)
    assert "13812345678" not in res.themes.comments.to_csv()
