"""Questionnaire roles on small files built here: reversed items, composites (Cronbach's alpha),
screen-outs, multiple-response questions, banded segments, files without an id, the
straight-line rule's modes, summary and repeated header rows, stated vs derived importance.

Numbers are checked against direct numpy/scipy computations, row accounting against
read = clean + quarantined + screened out, and quarantine reasons word for word.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from csatlib.analysis.composites import cronbach_alpha
from csatlib.analysis.drivers import key_drivers
from csatlib.analysis.stated import stated_vs_derived
from csatlib.errors import SpecError
from csatlib.frame import band_order, composite_column
from csatlib.spec import parse_spec
from csatlib.validation.check import REASONS_COLUMN, ROW_COLUMN, write_validation

from .conftest import run_cli
from .test_codes import run, total


def alpha_from_covariance(x: np.ndarray) -> float:
    """Cronbach's alpha written another way: k/(k-1) (1 - trace(C) / sum(C)), C the covariance."""
    c = np.cov(x, rowvar=False)
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


# --------------------------------------------------------------------------------------------
ECSI = """\
name: ecsi
id: rid
codes: {not_applicable: [0], dont_know: ["Don't know"]}
satisfaction: {column: sat, scale: [1, 10], top_box: 8}
loyalty:
  - {column: switch, scale: [1, 10], reverse: true}
dimensions:
  image: {items: [imag1, imag2, imag3], scale: [1, 10], reverse: [imag3]}
  value: {perception: val, scale: [1, 10]}
quality: {min_base: 5, straightline: off}  # top marks on every item are delight here, not a bot
"""


def ecsi_frame(n=250, seed=21):
    rng = np.random.default_rng(seed)
    t = rng.normal(0, 1, n)
    item = lambda s: np.clip(np.round(6 + 1.6 * t + rng.normal(0, s, n)), 1, 10)  # noqa: E731
    i1, i2 = item(1.0), item(1.3)
    i3 = 11 - item(1.2)  # asked the other way round ("the company is unreliable")
    frame = pd.DataFrame({"rid": [f"r{i}" for i in range(n)], "sat": item(1.0).astype(int),
                          "switch": (11 - item(1.5)).astype(int),
                          "imag1": i1.astype(object), "imag2": i2.astype(object), "imag3": i3.astype(object),
                          "val": item(1.4).astype(int)})
    frame.loc[0:9, "imag2"] = np.nan  # skipped
    frame.loc[5:9, "imag3"] = 0  # rows 5-9: two of three items not substantive -> no score
    frame.loc[10:14, "imag1"] = "Don't know"  # rows 10-14: two substantive items -> scored
    frame.loc[15, "switch"] = 11  # out of scale: the reason shows the value as answered
    return frame


@pytest.fixture(scope="module")
def ecsi(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ecsi")
    frame = ecsi_frame()
    spec, validation, results = run(tmp, ECSI, frame)
    return frame, spec, validation, results


def test_reversed_item_is_recoded_high_low_after_validation(ecsi):
    frame, spec, validation, results = ecsi
    assert dict(zip(validation.quarantine["rid"], validation.quarantine[REASONS_COLUMN])) == {
        "r15": "switch: 11 outside 1-10"}
    clean = frame.drop(index=15)
    e = total(results, "loyalty.switch.score")
    assert e.estimate == pytest.approx(np.mean(11 - clean["switch"].to_numpy(float)))
    assert validation.clean["switch"].tolist() == (11 - clean["switch"]).astype(float).tolist()


def direct_composite(clean: pd.DataFrame) -> np.ndarray:
    block = clean[["imag1", "imag2", "imag3"]].apply(pd.to_numeric, errors="coerce").replace(0, np.nan)
    block["imag3"] = 11 - block["imag3"]
    answered = block.notna().sum(axis=1)
    return block.mean(axis=1).where(answered >= 2).to_numpy(float)


def test_composite_is_the_mean_of_its_substantive_items(ecsi):
    frame, spec, validation, results = ecsi
    clean = frame.drop(index=15)
    score = direct_composite(clean)
    assert np.isnan(score[5:10]).all() and not np.isnan(score[10:15]).any()
    got = validation.clean[composite_column("image")].to_numpy(float)
    np.testing.assert_allclose(got, score, rtol=1e-12, equal_nan=True)
    e = total(results, "dimension.image.score")
    keep = ~np.isnan(score)
    assert e.n == keep.sum() == len(clean) - 5
    assert e.estimate == pytest.approx(score[keep].mean(), rel=1e-12)
    t = st.t.ppf(0.975, keep.sum() - 1)
    assert e.ci_high == pytest.approx(score[keep].mean() + t * st.sem(score[keep]), rel=1e-10)
    assert "excludes 5 respondents with a non-substantive answer" in e.method  # rows 5-9 only


def test_cronbach_alpha_matches_the_direct_formula(ecsi):
    frame, spec, validation, results = ecsi
    clean = frame.drop(index=15)
    block = clean[["imag1", "imag2", "imag3"]].apply(pd.to_numeric, errors="coerce").replace(0, np.nan)
    block["imag3"] = 11 - block["imag3"]
    complete = block.dropna().to_numpy(float)
    row = results.composites.table.iloc[0]
    assert row["n"] == len(complete) == len(clean) - 15
    assert row["alpha"] == pytest.approx(alpha_from_covariance(complete), rel=1e-12)
    assert row["alpha"] > 0.8  # the reversed item was reversed: otherwise alpha collapses
    for j, item in enumerate(["imag1", "imag2", "imag3"]):
        assert row["alpha_if_deleted"][item] == pytest.approx(
            alpha_from_covariance(np.delete(complete, j, axis=1)), rel=1e-12)
    assert row["scored"] == len(clean) - 5
    # a textbook case: two identical items have alpha 1; independent items about 0
    x = np.random.default_rng(0).normal(size=(5000, 2))
    assert cronbach_alpha(np.column_stack([x[:, 0], x[:, 0]])) == pytest.approx(1.0)
    assert abs(cronbach_alpha(x)) < 0.1


def test_composite_needs_min_answered_and_spec_errors():
    base = {"name": "s", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8}}
    spec = parse_spec({**base, "dimensions": {"img": {"items": ["a", "b", "c", "d"], "scale": [1, 5]}}})
    assert spec.dimensions[0].min_answered == 2 and spec.dimensions[0].perception == composite_column("img")
    assert spec.roles()["c"] == "dimensions.img.items[2]" and composite_column("img") not in spec.roles()
    for doc, message in [
        ({"dimensions": {"img": {"items": ["a"], "scale": [1, 5]}}}, "at least two columns"),
        ({"dimensions": {"img": {"items": ["a", "b"], "perception": "c", "scale": [1, 5]}}}, "either perception"),
        ({"dimensions": {"img": {"items": ["a", "b"], "scale": [1, 5], "min_answered": 3}}}, "must be <= 2"),
        ({"dimensions": {"img": {"items": ["a", "b"], "scale": [1, 5], "reverse": ["x"]}}}, "names 'x'"),
        ({"dimensions": {"img": {"items": ["a", "sat"], "scale": [1, 5]}}}, "column 'sat' is used twice"),
        ({"loyalty": [{"column": "l", "scale": [1, 5], "reverse": "yes"}]}, "reverse must be true or false"),
    ]:
        with pytest.raises(SpecError) as err:
            parse_spec({**base, **doc})
        assert message in str(err.value), (doc, str(err.value))


# --------------------------------------------------------------------------------------------
KIOSK = """\
name: kiosk
id: id
codes: {dont_know: ["Don't know"]}
satisfaction: {column: sat, scale: [1, 5], top_box: 4}
dimensions:
  ease: {perception: ease, scale: [1, 5], importance: imp_ease}
  speed: {perception: speed, scale: [1, 5], importance: imp_speed}
  staff: {perception: staff, scale: [1, 5], importance: imp_staff}
  menu: {perception: menu, scale: [1, 5], importance: imp_menu}
screen_out: {column: usage, values: [Never used]}
bands: {age: [18, 25, 35, 50, 65]}
multiple_response:
  uses: {column: uses, delimiter: ";", options: [ticket, food, info]}
  seen: {columns: [seen_a, seen_b, seen_c], selected: [1, "Yes"], options: [Poster, Screen, Staff]}
quality: {min_base: 5, straightline: flag, max_straightline_share: 0.5}
"""


def kiosk_frame(n=300, seed=5):
    rng = np.random.default_rng(seed)
    drivers = rng.integers(1, 6, (n, 4))
    sat = np.clip(np.round(0.5 + 0.5 * drivers[:, 0] + 0.3 * drivers[:, 1] + rng.normal(0, 0.7, n)), 1, 5)
    usage = rng.choice(["Weekly", "Monthly", "Never used"], n, p=[0.5, 0.35, 0.15]).astype(object)
    frame = pd.DataFrame({
        "id": [f"k{i:03d}" for i in range(n)], "sat": sat.astype(int),
        "ease": drivers[:, 0], "speed": drivers[:, 1], "staff": drivers[:, 2], "menu": drivers[:, 3],
        "imp_ease": rng.integers(3, 6, n), "imp_speed": rng.integers(2, 6, n), "imp_staff": rng.integers(1, 4, n),
        "imp_menu": rng.integers(1, 6, n), "usage": usage,
        "age": rng.integers(15, 85, n).astype(object),
        "uses": rng.choice(["ticket", "ticket; food", "Food;INFO", " info ", "", "Don't know", "ticket;app"], n),
        "seen_a": rng.choice([1, 0], n), "seen_b": rng.choice(["Yes", "No", ""], n), "seen_c": rng.choice([1, 0], n)})
    # screened-out respondents did not answer the questions: not data-quality failures
    never = frame["usage"] == "Never used"
    frame.loc[never, ["sat", "ease", "speed", "staff", "menu"]] = np.nan
    frame.loc[never.idxmax(), "usage"] = "  never USED"  # matched ignoring case and spaces
    frame.loc[3, "age"] = "unknown"  # a banded column must hold numbers
    frame.loc[[4, 6, 7], ["ease", "speed", "staff", "menu"]] = 3  # straight-liners: flagged, kept
    frame.loc[[4, 6, 7], "usage"] = "Weekly"
    frame.loc[[4, 6, 7], "sat"] = 3
    return frame


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk")
    frame = kiosk_frame()
    spec, validation, results = run(tmp, KIOSK, frame)
    return frame, spec, validation, results, tmp


def test_screened_out_rows_are_counted_apart(kiosk):
    frame, spec, validation, results, tmp = kiosk
    never = frame["usage"].str.strip().str.casefold() == "never used"
    assert validation.rows_screened_out == never.sum() > 0
    assert validation.rows_read == validation.rows_clean + validation.rows_quarantined + validation.rows_screened_out
    assert not validation.quarantine["id"].isin(frame.loc[never, "id"]).any()  # not data-quality failures
    assert results.rows == {"read": len(frame), "clean": validation.rows_clean, "quarantined": 1,
                            "screened_out": int(never.sum())}
    vpath, _ = write_validation(validation, tmp / "out")
    doc = json.loads(vpath.read_text(encoding="utf-8"))
    assert doc["rows"]["screened_out"] == never.sum()
    assert doc["rows"]["read"] == doc["rows"]["clean"] + doc["rows"]["quarantined"] + doc["rows"]["screened_out"]
    assert total(results, "satisfaction.score").n == len(frame) - never.sum() - 1


def test_banded_segments(kiosk):
    frame, spec, validation, results, _ = kiosk
    assert dict(zip(validation.quarantine["id"], validation.quarantine[REASONS_COLUMN])) == {
        "k003": "age: 'unknown' is not a number"}
    assert "age" in spec.segments
    assert band_order((18, 25, 35, 50, 65)) == ["<18", "18-24", "25-34", "35-49", "50-64", "65+"]
    assert band_order((0.5, 1.5)) == ["<0.5", "0.5 to <1.5", "1.5+"]
    clean = frame[~frame["usage"].str.strip().str.casefold().eq("never used")].drop(index=3)
    age = clean["age"].astype(float)
    labels = pd.cut(age, [-np.inf, 18, 25, 35, 50, 65, np.inf], right=False,
                    labels=["<18", "18-24", "25-34", "35-49", "50-64", "65+"]).astype(str)
    assert validation.clean["age"].tolist() == labels.tolist()
    seg = [e for e in results.estimates if e.id == "satisfaction.score" and e.segment and "age" in e.segment]
    assert [e.segment["age"] for e in seg] == [b for b in band_order((18, 25, 35, 50, 65)) if b in set(labels)]
    band = next(e for e in seg if e.segment == {"age": "35-49"})
    y = clean.loc[labels == "35-49", "sat"].to_numpy(float)
    assert band.n == len(y) and band.estimate == pytest.approx(y.mean())


def test_multiple_response_shares(kiosk):
    frame, spec, validation, results, _ = kiosk
    clean = frame[~frame["usage"].str.strip().str.casefold().eq("never used")].drop(index=3)
    table = results.multiple_response.table
    uses = table[table["question"] == "uses"].set_index("option")
    cells = clean["uses"].fillna("").str.strip()
    base = (cells != "") & (cells != "Don't know")
    tokens = cells[base].str.casefold().str.split(";").map(lambda ts: {t.strip() for t in ts})
    assert list(uses.index) == ["ticket", "food", "info", "app"]  # declared first, then as found
    for option in ("ticket", "food", "info", "app"):
        chosen = tokens.map(lambda ts, o=option: o in ts).to_numpy(float)
        assert uses.loc[option, "base"] == base.sum()
        assert uses.loc[option, "chosen"] == chosen.sum()
        assert uses.loc[option, "share"] == pytest.approx(chosen.mean())
    seen = table[table["question"] == "seen"].set_index("option")
    answered = clean[["seen_a", "seen_b", "seen_c"]].replace("", np.nan).notna().any(axis=1)
    picked_b = (clean.loc[answered, "seen_b"] == "Yes").to_numpy(float)
    assert seen.loc["Screen", "base"] == answered.sum()
    assert seen.loc["Screen", "share"] == pytest.approx(picked_b.mean())
    assert seen.loc["Poster", "share"] == pytest.approx((clean.loc[answered, "seen_a"] == 1).mean())


def test_straightliners_flagged_stay_in_the_analyses(kiosk):
    frame, spec, validation, results, _ = kiosk
    assert validation.flags["straightline"] >= 3
    assert {"k004", "k006", "k007"} <= set(validation.clean["id"])
    assert results.quality.flagged == [{"flag": "straight-liner (same answer to every item), flagged and kept",
                                        "check": "straightline", "rows": validation.flags["straightline"]}]
    outcome = next(o for o in validation.outcomes if o.key == "straightline")
    assert outcome.level == "flag" and outcome.unexpected_count == validation.flags["straightline"]


def test_stated_vs_derived_importance(kiosk):
    frame, spec, validation, results, _ = kiosk
    clean = validation.clean
    drivers = key_drivers(clean, spec, "perception", n_boot=0)
    comp = stated_vs_derived(clean, spec, drivers)
    dims = ["ease", "speed", "staff", "menu"]
    stated = [clean[f"imp_{d}"].mean() for d in dims]
    derived = [float(drivers.table.set_index("dimension").loc[d, "lmg_share"]) for d in dims]
    assert comp.table["stated"].tolist() == pytest.approx(stated)
    assert comp.table["derived"].tolist() == pytest.approx(derived)
    assert comp.spearman == pytest.approx(st.spearmanr(stated, derived).statistic)
    assert comp.kendall == pytest.approx(st.kendalltau(stated, derived).statistic)
    # the exact permutation p value of rho over 4 dimensions, enumerated here independently
    import itertools
    rs, rd = st.rankdata(stated), st.rankdata(derived)
    rhos = [st.spearmanr(rs, p).statistic for p in itertools.permutations(rd)]
    assert comp.spearman_p == pytest.approx(np.mean(np.abs(rhos) >= abs(comp.spearman) - 1e-12))
    assert comp.table.set_index("dimension").loc["ease", "derived_rank"] == 1.0  # ease drives satisfaction
    assert results.importance is not None and results.importance.spearman == pytest.approx(comp.spearman)


# --------------------------------------------------------------------------------------------
NO_ID = """\
name: noid
satisfaction: {column: sat, scale: [1, 5], top_box: 4}
dimensions:
  a: {perception: a, scale: [1, 5]}
  b: {perception: b, scale: [1, 5]}
  c: {perception: c, scale: [1, 5]}
quality: {min_base: 5, straightline: quarantine, min_items: 2}
"""


def test_file_without_id_numbers_rows_from_one(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"sat": rng.integers(1, 6, 40), "a": rng.integers(1, 6, 40), "b": rng.integers(1, 4, 40),
                          "c": rng.integers(4, 6, 40).astype(float)})
    frame.loc[7, "sat"] = 9
    frame.loc[12, ["a", "b", "c"]] = [2, 2, np.nan]  # two answered, the same: a straight-liner with min_items 2
    spec, validation, results = run(tmp_path, NO_ID, frame)
    assert spec.id is None
    q = validation.quarantine
    assert q[ROW_COLUMN].tolist() == [8, 13]
    assert q[REASONS_COLUMN].tolist() == ["sat: 9 outside 1-5",
                                          "straight-liner: same answer to every answered item (at least 2 of 3)"]
    assert results is not None and results.rows["read"] == 40


# --------------------------------------------------------------------------------------------
def test_summary_and_repeated_header_rows_are_quarantined(tmp_path):
    rng = np.random.default_rng(9)
    n = 60
    frame = pd.DataFrame({"id": [str(1000 + i) for i in range(n)], "wave": "W1",
                          "region": rng.choice(["North", "South"], n),
                          "sat": rng.integers(1, 11, n), "q1": rng.integers(1, 6, n), "q2": rng.integers(1, 6, n),
                          "q3": rng.integers(1, 6, n)}).astype(object)
    header = pd.DataFrame([dict(zip(frame.columns, frame.columns))])
    total_row = pd.DataFrame([{"id": "Total", "wave": "", "region": "", "sat": int(frame["sat"].sum()), "q1": 200,
                               "q2": 190, "q3": 180}])
    average = pd.DataFrame([{"id": "", "wave": "", "region": "Average", "sat": 6.2, "q1": 3.1, "q2": 2.9, "q3": 3.3}])
    chinese = pd.DataFrame([{"id": "合计", "wave": "全部", "region": "", "sat": 300, "q1": 1, "q2": 1, "q3": 1}])
    data = pd.concat([frame.iloc[:30], header, frame.iloc[30:], header, total_row, average, chinese],
                     ignore_index=True)
    path = tmp_path / "wave.xlsx"
    data.to_excel(path, index=False)
    spec, validation, results = run(tmp_path, """\
name: summary
id: id
wave: wave
segments: [region]
satisfaction: {column: sat, scale: [1, 10], top_box: 8}
dimensions:
  a: {perception: q1, scale: [1, 5]}
  b: {perception: q2, scale: [1, 5]}
  c: {perception: q3, scale: [1, 5]}
quality: {min_base: 5, straightline: off}
""", data=path)
    # two header rows are not two duplicate ids, and their "wave" (or a total's) is no wrong wave label
    assert not validation.blocked, validation.blocking
    reasons = validation.quarantine[REASONS_COLUMN].tolist()
    assert reasons == ["repeated header row (the cells hold the column names)"] * 2 + [
        "id: 'Total' marks a summary row (total, average), not a respondent",
        "region: 'Average' marks a summary row (total, average), not a respondent",
        "id: '合计' marks a summary row (total, average), not a respondent"]
    assert validation.rows_clean == n and results.rows == {"read": n + 5, "clean": n, "quarantined": 5,
                                                           "screened_out": 0}
    assert total(results, "satisfaction.score").estimate == pytest.approx(frame["sat"].astype(float).mean())


def test_duplicate_ids_still_block(tmp_path):
    frame = pd.DataFrame({"id": ["a", "a"] + [f"x{i}" for i in range(20)], "sat": [5] * 22})
    spec, validation, results = run(tmp_path, """\
name: dup
id: id
satisfaction: {column: sat, scale: [1, 10], top_box: 8}
quality: {min_base: 5}
""", frame)
    assert validation.blocked and any("2 rows share an id with another row (id)" in b for b in validation.blocking)


# --------------------------------------------------------------------------------------------
def test_role_spec_errors():
    base = {"name": "s", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8}}
    for doc, message in [
        ({"screen_out": {"column": "u"}}, "screen_out.values is required"),
        ({"screen_out": {"column": "sat", "values": ["x"]}}, "screen_out.column 'sat' is already satisfaction"),
        ({"bands": {"age": [30, 20]}}, "bands.age must be increasing"),
        ({"bands": {"age": [18]}, "categories": {"age": ["a"]}}, "cannot also have categories"),
        ({"multiple_response": {"m": {"column": "x", "columns": ["a", "b"]}}}, "either column"),
        ({"multiple_response": {"m": {"columns": ["a"]}}}, "at least two different columns"),
        ({"multiple_response": {"m": {"columns": ["a", "b"], "options": ["A"]}}}, "one label per column"),
        ({"quality": {"straightline": "sometimes"}}, "quality.straightline must be one of quarantine, flag, off"),
        ({"quality": {"min_items": 1}}, "quality.min_items must be >= 2"),
    ]:
        with pytest.raises(SpecError) as err:
            parse_spec({**base, **doc})
        assert message in str(err.value), (doc, str(err.value))


def test_csat_expectations_rebuilds_suites_for_the_new_keys(tmp_path):
    spec_path = tmp_path / "kiosk.yaml"
    spec_path.write_text(KIOSK, encoding="utf-8")
    proc = run_cli("expectations", "--spec", str(spec_path))
    assert proc.returncode == 0, proc.stderr
    suite_file = tmp_path / "expectations" / "kiosk.json"
    suite = json.loads(suite_file.read_text(encoding="utf-8"))
    keys = {e["meta"]["csat"]["key"]: e for e in suite["expectations"]}
    assert {"numeric:age", "summary_row:id", "header_row", "unique:id", "straightline"} <= set(keys)
    assert keys["straightline"]["meta"]["csat"]["level"] == "flag"
    assert keys["unique:id"]["kwargs"]["column"] == "id [respondents]"
    # a suite written by the previous builder is rebuilt, and says why
    suite["meta"]["csat"]["generator"] = 1
    suite_file.write_text(json.dumps(suite), encoding="utf-8")
    proc = run_cli("expectations", "--spec", str(spec_path))
    assert proc.returncode == 0 and "rebuilt (the suite builder of this csatlib version changed)" in proc.stderr
    assert run_cli("expectations", "--spec", str(spec_path)).stderr.strip().endswith("up to date")


def test_csat_run_end_to_end_with_every_role(tmp_path):
    """A binary label-valued outcome, codes, a composite, a screen-out, bands and a multiple-response
    cell in one survey: the CLI run succeeds and results.json carries every new table."""
    rng = np.random.default_rng(12)
    n = 260
    frame = kiosk_frame(n, seed=12)
    frame["sat"] = np.where(frame["ease"].astype(float) + rng.normal(0, 1, n) > 3, "Satisfied", "Dissatisfied")
    frame.loc[frame["usage"].str.contains("ever"), "sat"] = ""
    frame["i1"], frame["i2"] = rng.integers(1, 6, n), rng.integers(1, 6, n)
    spec = KIOSK.replace("satisfaction: {column: sat, scale: [1, 5], top_box: 4}",
                         "satisfaction: {column: sat, type: binary, positive: [Satisfied], negative: [Dissatisfied]}")
    spec += "  # composite\n"
    spec = spec.replace("  menu: {perception: menu, scale: [1, 5], importance: imp_menu}",
                        "  menu: {perception: menu, scale: [1, 5], importance: imp_menu}\n"
                        "  look: {items: [i1, i2], scale: [1, 5]}")
    (tmp_path / "kiosk.yaml").write_text(spec, encoding="utf-8")
    frame.to_csv(tmp_path / "kiosk.csv", index=False)
    proc = run_cli("run", "--data", str(tmp_path / "kiosk.csv"), "--spec", str(tmp_path / "kiosk.yaml"),
                   "--wave", "W1", "--out", str(tmp_path / "reports"))
    assert proc.returncode == 0, proc.stderr
    assert "screened out" in proc.stderr
    doc = json.loads((tmp_path / "reports" / "W1" / "results.json").read_text(encoding="utf-8"))
    rows = doc["rows"]
    assert rows["read"] == rows["clean"] + rows["quarantined"] + rows["screened_out"] == n
    ids = {e["id"] for e in doc["estimates"] if e["segment"] is None}
    assert "satisfaction.rate" in ids and "satisfaction.score" not in ids and "dimension.look.score" in ids
    assert {"nonsubstantive", "composites", "multiple_response", "importance"} <= set(doc["models"])
    assert "satisfaction.score" in doc["meta"]["skipped"]
    validation = json.loads((tmp_path / "reports" / "W1" / "validation.json").read_text(encoding="utf-8"))
    assert validation["rows"] == rows and validation["flagged"][0]["check"] == "straightline"
