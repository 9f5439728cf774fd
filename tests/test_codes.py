"""Answer codes, value labels and binary outcomes on small files built here, one convention each.

Every number is checked against a direct numpy computation on the substantive answers; every
planted bad value against its exact quarantine reason; every code against "never a quarantine
reason, never counted twice".
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from scipy import stats as st

from csatlib.errors import SpecError
from csatlib.frame import code_column
from csatlib.run.stages import analyse_validated, validate_file
from csatlib.spec import answer_key, load_spec, parse_spec
from csatlib.validation.check import REASONS_COLUMN, write_validation

Z = st.norm.ppf(0.975)


def wmean(y, w):
    return float(np.sum(w * y) / np.sum(w))


def lin_se(y, w):
    """Weights-only linearised SE (as survey::svymean), written out."""
    ybar = wmean(y, w)
    z = w * (y - ybar) / np.sum(w)
    return math.sqrt(len(y) / (len(y) - 1) * np.sum(z ** 2))


def wilson(p, n):
    centre = (p + Z ** 2 / (2 * n)) / (1 + Z ** 2 / n)
    half = Z / (1 + Z ** 2 / n) * math.sqrt(p * (1 - p) / n + Z ** 2 / (4 * n ** 2))
    return centre - half, centre + half


def run(tmp_path, spec_text: str, frame: pd.DataFrame | None = None, data=None, wave="W1"):
    """Write the spec (through the YAML loader) and the data, validate and analyse in memory."""
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(spec_text, encoding="utf-8")
    spec = load_spec(spec_path)
    if data is None:
        data = tmp_path / "wave.csv"
        frame.to_csv(data, index=False, encoding="utf-8")
    loaded, validation = validate_file(data, spec, wave, suite_dir=False)
    results = None if validation.blocked else analyse_validated(loaded, validation, wave)
    return spec, validation, results


def reasons_of(validation, id_col):
    q = validation.quarantine
    return dict(zip(q[id_col].astype(str), q[REASONS_COLUMN]))


def total(results, id):
    e = results.get(id)
    assert e is not None, id
    return e


# --------------------------------------------------------------------------------------------
def test_answer_key_compares_ignoring_case_spaces_quotes_and_width():
    assert answer_key("Don’t  KNOW ") == answer_key("don't know") == "don't know"
    assert answer_key(" 不知道 ") == "不知道"
    assert answer_key("９８") == answer_key("98") == answer_key(98) == answer_key(98.0) == 98.0
    assert answer_key("") is None and answer_key("   ") is None and answer_key(float("nan")) is None
    assert answer_key(None) is None and answer_key(pd.NA) is None
    assert answer_key("nan") == "nan"  # text that merely spells a float is text


AIRLINE = """\
name: airline
id: pid
weight: w
codes:
  not_applicable: [0]
  dont_know: [98, "Don't know", 不知道]
  refused: [99]
satisfaction: {column: overall, scale: [1, 5], top_box: 4}
nps: {column: rec, scale: [0, 10]}
dimensions:
  wifi: {perception: wifi, scale: [1, 5]}
  food: {perception: food, scale: [1, 5]}
  seat: {perception: seat, scale: [1, 5], codes: {not_applicable: [9]}}
quality: {min_base: 5, straightline: off}
"""


def airline_frame(n=240, seed=11):
    rng = np.random.default_rng(seed)
    wifi = rng.integers(1, 6, n).astype(object)
    wifi[rng.random(n) < 0.12] = 0  # 0 = not applicable
    food = rng.integers(1, 6, n).astype(object)
    pick = rng.random(n)
    food[pick < 0.05] = 98
    food[(pick >= 0.05) & (pick < 0.09)] = 99
    food[(pick >= 0.09) & (pick < 0.12)] = "Don't know"
    food[(pick >= 0.12) & (pick < 0.14)] = " don’t  KNOW"
    food[(pick >= 0.14) & (pick < 0.16)] = "不知道"
    seat = rng.integers(1, 6, n).astype(object)
    seat[rng.random(n) < 0.08] = 9  # this item's own not-applicable code
    seat[rng.random(n) < 0.04] = 98  # the survey-wide don't-know code, inherited
    overall = rng.integers(1, 6, n).astype(object)
    overall[:6] = "Don't know"
    rec = rng.integers(0, 11, n)
    rec[6:20] = 0  # 0 is an answer on the 0-10 recommend scale, not a code
    frame = pd.DataFrame({"pid": [f"p{i}" for i in range(n)], "w": rng.uniform(0.5, 2.0, n).round(3),
                          "overall": overall, "rec": rec, "wifi": wifi, "food": food, "seat": seat})
    # planted errors: an undeclared code, text that is no code, a survey code the item replaced
    frame.loc[30, "food"] = 97
    frame.loc[31, "overall"] = "maybe"
    frame.loc[32, "seat"] = 0
    frame.loc[33, "wifi"] = "n.a."
    return frame


@pytest.fixture(scope="module")
def airline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("airline")
    frame = airline_frame()
    spec, validation, results = run(tmp, AIRLINE, frame)
    return frame, spec, validation, results, tmp


def test_codes_are_never_quarantine_reasons_and_unknown_values_still_are(airline):
    frame, spec, validation, results, _ = airline
    assert reasons_of(validation, "pid") == {
        "p30": "food: 97 outside 1-5",
        "p31": "overall: 'maybe' is not a number",
        "p32": "seat: 0 outside 1-5",
        "p33": "wifi: 'n.a.' is not a number",
    }
    assert validation.rows_read == validation.rows_clean + validation.rows_quarantined == len(frame)
    # one reason per bad cell: never counted twice ("missing" and "not a number")
    counts = {(r["reason"], r["column"]): r["rows"] for r in validation.reason_counts().to_dict("records")}
    assert sum(counts.values()) == 4


def test_dimension_scores_use_substantive_answers_only(airline):
    frame, spec, validation, results, _ = airline
    clean = frame[~frame["pid"].isin(["p30", "p31", "p32", "p33"])]
    w = clean["w"].to_numpy(float)
    for dim, codes in (("wifi", {0}), ("food", {98, 99, "Don't know", " don’t  KNOW", "不知道"}),
                       ("seat", {9, 98})):
        raw = clean[dim]
        sub = ~raw.isin(list(codes)).to_numpy()
        y = pd.to_numeric(raw[sub]).to_numpy(float)
        e = total(results, f"dimension.{dim}.score")
        assert e.n == sub.sum() == len(y)
        assert e.estimate == pytest.approx(wmean(y, w[sub]), rel=1e-12)
        t = st.t.ppf(0.975, len(y) - 1)
        # a domain of the whole sample, as R's svymean(~x, design, na.rm = TRUE) computes its SE
        m, big_n = wmean(y, w[sub]), len(clean)
        z = np.zeros(big_n)
        z[sub] = w[sub] * (y - m) / w[sub].sum()
        se = np.sqrt(big_n / (big_n - 1) * np.sum(z ** 2))
        assert e.ci_high == pytest.approx(m + t * se, rel=1e-10)
        assert f"excludes {(~sub).sum()} respondents with a non-substantive answer" in e.method
    # the not-applicable share: N/A answers among the answers given, weighted, Wilson on n_eff
    na = (clean["wifi"] == 0).to_numpy(float)
    e = total(results, "dimension.wifi.not_applicable")
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    assert e.estimate == pytest.approx(wmean(na, w)) and e.n == len(clean)
    assert (e.ci_low, e.ci_high) == pytest.approx(wilson(wmean(na, w), n_eff), rel=1e-9)
    seat_na = (clean["seat"] == 9).to_numpy(float)
    assert total(results, "dimension.seat.not_applicable").estimate == pytest.approx(wmean(seat_na, w))
    assert total(results, "dimension.food.not_applicable").estimate == 0.0  # inherited code, never used


def test_zero_stays_an_answer_on_a_scale_that_includes_it(airline):
    frame, spec, validation, results, _ = airline
    assert spec.answer("rec").codes.not_applicable == ()
    assert spec.answer("wifi").codes.not_applicable == (0,)
    assert spec.answer("seat").codes.not_applicable == (9,) and spec.answer("seat").codes.dont_know
    clean = frame[~frame["pid"].isin(["p30", "p31", "p32", "p33"])]
    rec, w = clean["rec"].to_numpy(float), clean["w"].to_numpy(float)
    nps = 100 * (wmean(rec >= 9, w) - wmean(rec <= 6, w))
    assert total(results, "nps").estimate == pytest.approx(nps) and total(results, "nps").n == len(clean)


def test_satisfaction_base_excludes_dont_know(airline):
    frame, spec, validation, results, _ = airline
    clean = frame[~frame["pid"].isin(["p30", "p31", "p32", "p33"])]
    sub = clean["overall"] != "Don't know"
    y = pd.to_numeric(clean.loc[sub, "overall"]).to_numpy(float)
    e = total(results, "satisfaction.score")
    assert e.n == len(y) == len(clean) - 6
    assert e.estimate == pytest.approx(wmean(y, clean.loc[sub, "w"].to_numpy(float)))


def test_nonsubstantive_table_counts_each_kind(airline):
    frame, spec, validation, results, _ = airline
    clean = frame[~frame["pid"].isin(["p30", "p31", "p32", "p33"])]
    table = results.nonsubstantive.table.set_index("column")
    food = clean["food"]
    dk = food.isin([98, "Don't know", " don’t  KNOW", "不知道"]).sum()
    assert table.loc["food", "dont_know"] == dk
    assert table.loc["food", "refused"] == (food == 99).sum()
    assert table.loc["food", "not_applicable"] == 0
    assert table.loc["food", "substantive"] == len(clean) - dk - (food == 99).sum()
    assert table.loc["food", "dont_know_share"] == pytest.approx(dk / len(clean))
    assert table.loc["wifi", "not_applicable"] == (clean["wifi"] == 0).sum()
    assert table.loc["seat", "not_applicable"] == (clean["seat"] == 9).sum()
    assert table.loc["seat", "dont_know"] == (clean["seat"] == 98).sum()
    assert table.loc["rec", "not_applicable"] == 0
    # the kinds travel with the clean rows, for any later analysis
    assert (validation.clean[code_column("food")] > 0).sum() == dk + (food == 99).sum()


def test_suite_records_the_codes_and_results_round_trip(airline, tmp_path):
    frame, spec, validation, results, _ = airline
    from csatlib.results import Results
    from csatlib.validation.suite import build_suite

    suite = build_suite(spec)
    scale = next(e for e in suite["expectations"] if e["meta"]["csat"]["key"] == "scale:food")
    assert scale["meta"]["csat"]["codes"] == {"not_applicable": [0], "dont_know": [98, "Don't know", "不知道"],
                                              "refused": [99]}
    assert not any(e["meta"]["csat"]["key"] == "straightline" for e in suite["expectations"])  # off
    back = Results.from_dict(json.loads(json.dumps(results.to_dict())))
    pd.testing.assert_frame_equal(back.nonsubstantive.table, results.nonsubstantive.table, check_dtype=False)


# --------------------------------------------------------------------------------------------
LABELS = """\
name: labels
id: id
codes: {dont_know: ["Don't know"]}
satisfaction: {column: Satisfaction, type: binary, positive: [Satisfied], negative: [Neutral or dissatisfied]}
loyalty:
  - {column: repurchase, scale: [1, 5], values: {Definitely not: 1, Probably not: 2, Not sure: 3, Probably: 4, Definitely: 5}}
  - {column: again, type: binary, positive: [Yes], negative: [No]}
quality: {min_base: 5}
"""
REPURCHASE = {"Definitely not": 1, "probably NOT": 2, " not  sure": 3, "Probably": 4, "DEFINITELY": 5}


def labels_frame(n=300, seed=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    sat = np.where(x + rng.normal(0, 1, n) > 0, "Satisfied", "Neutral or dissatisfied").astype(object)
    sat[rng.random(n) < 0.1] = "satisfied "  # case and spaces do not matter
    sat[:5] = "Don't know"
    labels = list(REPURCHASE)
    rep = np.array([labels[int(min(4, max(0, round(2 + 1.2 * v))))] for v in x], dtype=object)
    rep[rng.random(n) < 0.1] = 4  # codes are accepted beside their labels
    rep[5:9] = "Don't know"
    again = np.where(x > -0.3, "Yes", "No")
    frame = pd.DataFrame({"id": range(1, n + 1), "Satisfaction": sat, "repurchase": rep, "again": again})
    frame.loc[20, "Satisfaction"] = "Maybe"
    frame.loc[21, "repurchase"] = "Perhaps"
    return frame


def test_label_valued_binary_satisfaction_is_a_rate(tmp_path):
    frame = labels_frame()
    spec, validation, results = run(tmp_path, LABELS, frame)
    assert spec.satisfaction.binary and spec.loyalty[1].positive == ("Yes",)  # YAML's Yes stays a label
    assert reasons_of(validation, "id") == {
        "21": "Satisfaction: 'Maybe' is neither a positive nor a negative answer",
        "22": "repurchase: 'Perhaps' is not a number or a listed answer label"}
    clean = frame.drop(index=[20, 21])
    sat = clean["Satisfaction"].str.strip().str.casefold()
    answered = sat != "don't know"
    positive = (sat[answered] == "satisfied").to_numpy(float)
    rate = total(results, "satisfaction.rate")
    assert rate.n == answered.sum() == len(clean) - 5
    assert rate.estimate == pytest.approx(positive.mean())
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson(positive.mean(), len(positive)), rel=1e-9)
    # no mean score and no 0-100 index of a 0/1 answer, and the report is told why
    assert results.get("satisfaction.score") is None and results.get("satisfaction.index") is None
    assert "binary" in results.skipped["satisfaction.score"] and "satisfaction.index" in results.skipped
    # the analysis view holds 1/0
    assert set(validation.clean["Satisfaction"].dropna().unique()) == {0.0, 1.0}


def test_value_labels_are_mapped_before_validation(tmp_path):
    frame = labels_frame()
    spec, validation, results = run(tmp_path, LABELS, frame)
    clean = frame.drop(index=[20, 21])
    rep = clean["repurchase"]
    keep = rep != "Don't know"
    codes = np.array([REPURCHASE.get(v, v) for v in rep[keep]], dtype=float)
    e = total(results, "loyalty.repurchase.score")
    assert e.n == keep.sum() and e.estimate == pytest.approx(codes.mean())
    again = total(results, "loyalty.again.rate")
    assert again.estimate == pytest.approx((clean["again"] == "Yes").mean())


def test_binary_loyalty_item_gets_a_logit(tmp_path):
    frame = labels_frame(600, seed=8)
    spec, validation, results = run(tmp_path, LABELS.replace(
        "satisfaction: {column: Satisfaction, type: binary, positive: [Satisfied], negative: [Neutral or dissatisfied]}",
        "satisfaction: {column: sat, scale: [1, 5], top_box: 4}"), frame.assign(
        sat=np.clip(np.round(3 + 1.3 * (frame["again"] == "Yes") + np.random.default_rng(1).normal(0, 1, len(frame))),
                    1, 5).astype(int)))
    model = next(m for m in results.loyalty if m.outcome == "again")
    assert model.kind == "binary" and model.logit is not None and "logit" in model.logit.model.lower()
    import statsmodels.api as sm
    clean = validation.clean
    y = (clean["again"] == 1.0).to_numpy(float)
    x = sm.add_constant(clean["sat"].to_numpy(float))
    ref = sm.Logit(y, x).fit(disp=0)
    assert model.logit.params.iloc[-1] == pytest.approx(ref.params[-1], rel=1e-5)


def test_binary_without_negative_counts_every_other_answer_negative(tmp_path):
    frame = pd.DataFrame({"id": range(1, 41), "sat": ["Satisfied", "Neutral", "Dissatisfied", "Don't know"] * 10})
    spec, validation, results = run(tmp_path, """\
name: b
id: id
codes: {dont_know: ["Don't know"]}
satisfaction: {column: sat, type: binary, positive: [satisfied]}
quality: {min_base: 5}
""", frame)
    assert validation.rows_quarantined == 0
    rate = total(results, "satisfaction.rate")
    assert rate.n == 30 and rate.estimate == pytest.approx(1 / 3)


# --------------------------------------------------------------------------------------------
def test_spss_user_missing_values_are_codes_not_ratings(tmp_path):
    rng = np.random.default_rng(2)
    n = 120
    q1 = rng.integers(1, 6, n).astype(float)
    q1[:10] = 98
    q1[10:16] = 99
    q2 = rng.integers(1, 9, n).astype(float)
    q2[:7] = 91  # in a declared missing range 90-95, unlabelled
    q2[7:12] = 9  # not user-missing, but labelled with a text code the spec declares
    sat = rng.integers(1, 11, n).astype(float)
    df = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "sat": sat, "q1": q1, "q2": q2})
    path = tmp_path / "wave.sav"
    pyreadstat.write_sav(df, str(path), missing_ranges={"q1": [98, 99], "q2": [{"lo": 90, "hi": 95}]},
                         variable_value_labels={"q1": {1.0: "Very poor", 5.0: "Very good", 98.0: "Don't know",
                                                       99.0: "Refused"},
                                                "q2": {9.0: "不知道", 10.0: "Excellent"}})
    spec, validation, results = run(tmp_path, """\
name: spss
id: id
codes: {dont_know: [不知道]}
satisfaction: {column: sat, scale: [1, 10], top_box: 8}
dimensions:
  one: {perception: q1, scale: [1, 5]}
  two: {perception: q2, scale: [1, 10]}
quality: {min_base: 5}
""", data=path)
    assert validation.rows_quarantined == 0
    table = results.nonsubstantive.table.set_index("column")
    assert table.loc["q1", ["dont_know", "refused", "missing"]].tolist() == [10, 6, 0]
    assert table.loc["q2", ["dont_know", "missing"]].tolist() == [5, 7]
    assert total(results, "dimension.one.score").estimate == pytest.approx(q1[16:].mean())
    assert total(results, "dimension.one.score").n == n - 16
    assert total(results, "dimension.two.score").estimate == pytest.approx(q2[12:].mean())


# --------------------------------------------------------------------------------------------
def test_quarantine_csv_writes_whole_numbers_as_read(tmp_path):
    # the file holds whole numbers (a nullable integer column writes "3", not "3.0")
    frame = pd.DataFrame({"id": range(1, 41), "sat": [4] * 40, "q": pd.array([3] * 39 + [None], dtype="Int64")})
    frame.loc[0, "sat"] = 11
    spec, validation, results = run(tmp_path, """\
name: q
id: id
satisfaction: {column: sat, scale: [1, 10], top_box: 8}
dimensions: {d: {perception: q, scale: [1, 5]}}
quality: {min_base: 5}
""", frame)
    _, qpath = write_validation(validation, tmp_path / "out")
    text = qpath.read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("1,11,3,") and "3.0" not in text


@pytest.mark.parametrize("doc, message", [
    ({"codes": {"dont_know": [98], "refused": [98]}}, "codes: 98 is listed as both dont_know and refused"),
    ({"codes": {"unknown": [1]}}, "unknown key 'codes.unknown'"),
    ({"dimensions": {"d": {"perception": "p", "scale": [1, 5], "codes": {"not_applicable": [3]}}}},
     "dimensions.d.codes.not_applicable: 3 is on the scale 1-5"),
    ({"dimensions": {"d": {"perception": "p", "scale": [1, 5], "values": {1: "Very poor"}}}},
     "is the wrong way round"),
    ({"dimensions": {"d": {"perception": "p", "scale": [1, 5], "values": {"Excellent": 6}}}},
     "code 6 is neither on the scale 1-5 nor one of the item's codes"),
    ({"dimensions": {"d": {"perception": "p", "scale": [1, 5], "values": {"Good": 4, " good ": 4}}}},
     "the label ' good ' is listed twice"),
    ({"satisfaction": {"column": "s", "type": "binary"}}, "satisfaction.positive is required"),
    ({"satisfaction": {"column": "s", "type": "binary", "positive": ["a"], "top_box": 1}},
     "top_box does not apply to a binary item"),
    ({"satisfaction": {"column": "s", "type": "binary", "positive": ["a"], "negative": ["A "]}},
     "listed as both positive and negative"),
    ({"satisfaction": {"column": "s", "scale": [1, 5], "top_box": 4, "positive": ["a"]}},
     "satisfaction.positive applies only to a binary item"),
    ({"satisfaction": {"column": "s", "type": "ordinal", "scale": [1, 5], "top_box": 4}},
     "satisfaction.type must be 'interval' or 'binary'"),
    ({"loyalty": [{"column": "l", "type": "binary", "positive": [True]}]}, "write the label in quotes"),
])
def test_code_and_label_spec_errors(doc, message):
    base = {"name": "s", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8}}
    with pytest.raises(SpecError) as err:
        parse_spec({**base, **doc})
    assert message in str(err.value)


def test_scale_points_written_with_their_labels_are_the_points():
    from csatlib.ingest.recode import KIND_CODE, read_answers

    spec = parse_spec({"name": "s", "satisfaction": {"column": "sat", "scale": [0, 10], "top_box": 9,
                                                     "values": {"Good": 8}},
                       "codes": {"dont_know": [98], "refused": ["Refused"]}})
    cells = ["10 - Extremely satisfied", "0 = Not at all satisfied", "5", "7 (만족)", "3. 不太满意", "10: Very",
             "98 - Don't know", "11 - Too high", "1-2 times", "Very satisfied", "7 -", None, "  ９ – 非常满意  ",
             "99 (Refused)", "8 - good", "Very satisfied (7)", "2 - 3 times", "3 or 4"]
    got = read_answers(pd.Series(cells, dtype=object), spec.answer("sat"))
    expected = [10, 0, 5, 7, 3, 10, None, None, None, None, None, None, 9, None, 8, 7, None, None]
    assert [None if math.isnan(x) else x for x in got.numbers] == expected
    # a code written with its label is the code: by its number, or by its label (99 is no code)
    assert got.kinds[6] == KIND_CODE["dont_know"] and got.kinds[13] == KIND_CODE["refused"]
    # off the scale, a range, a label alone and a point without a label stay unknown: quarantined
    assert np.flatnonzero(got.unknown).tolist() == [7, 8, 9, 10, 16, 17]
    assert got.labelled_points == 10  # labelled points, codes and the value label; "5" is a number


def test_binary_answers_written_with_their_codes_are_their_labels():
    from csatlib.ingest.recode import read_answers

    cells = ["1 - Yes", "2 - No", "Yes", "3 - Maybe", "No", "2 (no)", "Yes - 1"]
    by_label = parse_spec({"name": "s", "satisfaction": {"column": "s", "type": "binary", "positive": ["Yes"],
                                                          "negative": ["No"]}})
    by_code = parse_spec({"name": "s", "satisfaction": {"column": "s", "type": "binary", "positive": [1],
                                                         "negative": [2]}})
    for spec in (by_label, by_code):
        got = read_answers(pd.Series(cells, dtype=object), spec.answer("s"))
        assert got.numbers[[0, 1, 5, 6]].tolist() == [1.0, 0.0, 0.0, 1.0]
        assert got.unknown.tolist() == [False, False, spec is by_code, True, spec is by_code, False, False]
        assert got.labelled_points == 4  # "3 - Maybe" is neither answer: quarantined


def test_labelled_points_are_validated_and_analysed_as_numbers(tmp_path):
    rng = np.random.default_rng(5)
    sat = rng.integers(1, 8, 300)
    frame = pd.DataFrame({"id": range(300), "sat": [f"{v} - Very satisfied" if v == 7 else
                                                    f"{v} - Very dissatisfied" if v == 1 else str(v) for v in sat]})
    frame.loc[0, "sat"] = "8 - Beyond the scale"
    spec, validation, results = run(tmp_path, "name: s\nid: id\nsatisfaction: {column: sat, scale: [1, 7], top_box: 6}\n",
                                    frame)
    assert reasons_of(validation, "id") == {"0": "sat: '8 - Beyond the scale' is not a number"}
    score = total(results, "satisfaction.score")
    assert score.n == 299 and score.estimate == pytest.approx(sat[1:].mean())
    note = [n for n in results.provenance.input["notes"] if "scale point" in n]
    assert note == ['answers written as a scale point and its label ("7 - Very satisfied") read as the point, '
                    f'or as the code the spec lists for the label: sat {int(((sat[1:] == 1) | (sat[1:] == 7)).sum())}']
