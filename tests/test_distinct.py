"""GX on each column's distinct values (csatlib.validation.distinct) equals GX on every row.

The reference is Great Expectations itself on the full frame (``max_distinct_share=None``): every
expectation's success, unexpected count, unexpected percent and unexpected rows must be equal.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from csatlib.ingest.load import read_wave
from csatlib.spec import load_spec
from csatlib.validation.check import gx_validate, validate_wave, validation_frame
from csatlib.validation.distinct import RowResult, validate_on_distinct_values
from csatlib.validation.suite import WAVE_PARAMETER, build_suite

from .conftest import DATA, SAMPLE_SPEC


def messy_sample(tmp_path) -> "object":
    """The sample wave with every kind of bad cell planted: out of scale, text, blanks, bad weights,
    a category not allowed, a wrong wave label, a duplicated id, straight-liners."""
    frame = pd.read_csv(DATA / "retail_2026Q3.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(7)
    rows = rng.choice(len(frame), 60, replace=False)
    frame.loc[rows[:8], "overall_sat"] = "11"
    frame.loc[rows[8:14], "overall_sat"] = ""
    frame.loc[rows[14:20], "p_price"] = "很好"
    frame.loc[rows[20:24], "weight"] = "-1"
    frame.loc[rows[24:28], "weight"] = "abc"
    frame.loc[rows[28:32], "region"] = "Atlantis"
    frame.loc[rows[32:36], "recommend"] = "12"
    frame.loc[rows[36], "respondent_id"] = frame.loc[rows[37], "respondent_id"]
    frame.loc[rows[38], "wave"] = "2025Q1"
    frame.loc[rows[39], "respondent_id"] = "合计"  # a summary row
    frame.loc[rows[40], "respondent_id"] = ""  # no id
    frame.loc[rows[41:43], "respondent_id"] = frame.loc[rows[43], "respondent_id"]  # three rows, one id
    path = tmp_path / "messy.csv"
    frame.to_csv(path, index=False)
    return read_wave(path, load_spec(SAMPLE_SPEC))


def summary(result) -> dict:
    res = result.result or {}
    pct = res.get("unexpected_percent")
    return {"type": result.expectation_config.type, "column": dict(result.expectation_config.kwargs).get("column"),
            "success": bool(result.success), "count": res.get("unexpected_count"),
            "percent": None if pct is None else round(float(pct), 9),
            "rows": sorted(res.get("unexpected_index_list") or [])}


def test_distinct_values_give_gx_row_results(tmp_path):
    wave = messy_sample(tmp_path)
    spec = wave.spec
    suite = build_suite(spec)
    expectations = [e for e in suite["expectations"] if (e["meta"]["csat"].get("on") != "clean")]
    frame = validation_frame(wave.frame, spec, wave.answers, wave.declared)

    def run(df, ex):
        return gx_validate(df, {**suite, "expectations": ex}, {WAVE_PARAMETER: ["2026Q3"]})

    collapsed = validate_on_distinct_values(frame, expectations, run)
    reference = validate_on_distinct_values(frame, expectations, run, max_distinct_share=None)
    key = lambda s: (s["type"], str(s["column"]))  # noqa: E731
    got = sorted((summary(r) for r in collapsed), key=key)
    want = sorted((summary(r) for r in reference), key=key)
    assert got == want
    # the comparison is not vacuous: most checks ran on distinct values, and several failed
    assert sum(isinstance(r, RowResult) for r in collapsed) >= 20
    assert sum(not s["success"] for s in want) >= 6 and sum(s["count"] or 0 for s in want) >= 40


def test_mostly_is_a_share_of_the_rows():
    """A ``mostly`` expectation on distinct values succeeds exactly when GX on the rows does."""
    frame = pd.DataFrame({"flag": [False] * 90 + [True] * 10})
    for mostly, expected in ((0.85, True), (0.95, False)):
        e = [{"type": "expect_column_values_to_be_in_set",
              "kwargs": {"column": "flag", "value_set": [False], "mostly": mostly}}]
        run = lambda df, ex: gx_validate(df, {"name": "t", "expectations": ex}, {})  # noqa: E731
        got, = validate_on_distinct_values(frame, e, run)
        want, = validate_on_distinct_values(frame, e, run, max_distinct_share=None)
        assert isinstance(got, RowResult) and len(run(frame, e)) == 1
        assert (got.success, summary(got)["count"]) == (bool(want.success), want.result["unexpected_count"]) \
            == (expected, 10)


def test_a_whole_validation_is_unchanged_by_collapsing(tmp_path, monkeypatch):
    import csatlib.validation.check as check

    wave = messy_sample(tmp_path)
    suite = build_suite(wave.spec)
    fast = validate_wave(wave, "2026Q3", suite)
    original = check.validate_on_distinct_values
    monkeypatch.setattr(check, "validate_on_distinct_values",
                        lambda *a, **k: original(*a, **{**k, "max_distinct_share": None}))
    slow = validate_wave(wave, "2026Q3", suite)
    assert fast.rows == slow.rows and fast.blocking == slow.blocking
    pd.testing.assert_frame_equal(fast.quarantine, slow.quarantine)
    def record(outcome):
        d = outcome.to_dict()
        d["unexpected_percent"] = None if d["unexpected_percent"] is None else round(d["unexpected_percent"], 9)
        return d

    assert [record(o) for o in fast.outcomes] == [record(o) for o in slow.outcomes]
    assert fast.rows_quarantined >= 40


def test_ids_and_free_text_are_checked_on_the_rows_that_can_fail():
    """On columns with too many distinct values, GX sees only the rows that can fail a null,
    pattern or uniqueness check; the results on all rows equal GX's on the whole frame."""
    n = 30_000
    ids = pd.Series([f"R{i:06d}" for i in range(n)], dtype="str")
    ids[[5, 17]] = ids[3]  # one id on three rows
    ids[[40, 41]] = ids[90]
    ids[[100, 2000]] = ["Total", " 合计："]  # summary rows
    ids[[7, 29_999]] = None
    text = pd.Series([f"comment {i} {'call me' if i % 97 == 0 else ''}" for i in range(n)], dtype="str")
    text[[11, 12]] = None
    frame = pd.DataFrame({"id": ids, "comment": text}).set_axis(pd.RangeIndex(n) + 1000)  # labels, not positions
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_not_match_regex",
         "kwargs": {"column": "id", "regex": r"(?i)^\s*(total|合计)\s*[:：]?\s*$"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "comment", "regex": "^comment \\d+ $",
                                                                   "mostly": 0.95}},
    ]
    run = lambda df, ex: gx_validate(df, {"name": "t", "expectations": ex}, {})  # noqa: E731
    seen = []
    got = validate_on_distinct_values(frame, expectations, lambda df, ex: seen.append(len(df)) or run(df, ex))
    want = validate_on_distinct_values(frame, expectations, run, max_distinct_share=None)
    key = lambda s: (s["type"], str(s["column"]))  # noqa: E731
    assert sorted(map(summary, got), key=key) == sorted(map(summary, want), key=key)
    assert seen and max(seen) < 1000  # GX saw the suspects, not the 30,000 rows
    counts = {(s["type"], s["column"]): s["count"] for s in map(summary, want)}
    assert counts[("expect_column_values_to_be_unique", "id")] == 6
    assert counts[("expect_column_values_to_not_match_regex", "id")] == 2
    assert counts[("expect_column_values_to_not_be_null", "id")] == 2
    assert counts[("expect_column_values_to_match_regex", "comment")] == len(range(0, n, 97))


def test_odd_numbers_give_gx_row_results():
    """Whole numbers are coded from their values; infinities, fractions, wide ranges, signed zeros
    and missing values fall back to hashing or get a code of their own: the results on distinct
    values equal GX on every row for each kind of column."""
    columns = {"rating": [1.0, 7.0, np.nan, 7.0, 3.0], "inf": [np.inf, np.inf], "both": [-np.inf, 2.0, np.inf],
               "half": [0.5, 1.0, 0.5], "wide": [-3.0, 1e6, -3.0], "none": [np.nan, np.nan],
               "zeros": [-0.0, 0.0, 5.0], "one": [2.0]}
    frame = pd.DataFrame({c: np.resize(np.array(v, dtype="float64"), 60) for c, v in columns.items()})
    expectations = [e for c in columns for e in (
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": c, "min_value": 0, "max_value": 5}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c}})]
    run = lambda df, ex: gx_validate(df, {"name": "t", "expectations": ex}, {})  # noqa: E731
    got = validate_on_distinct_values(frame, expectations, run)
    want = validate_on_distinct_values(frame, expectations, run, max_distinct_share=None)
    key = lambda s: (s["type"], str(s["column"]))  # noqa: E731
    assert sorted(map(summary, got), key=key) == sorted(map(summary, want), key=key)
    assert sum(isinstance(r, RowResult) for r in got) == len(expectations)  # all on distinct values


def test_an_expectation_with_a_row_condition_is_left_to_gx_on_the_rows():
    """A row condition reads other columns of each row, which distinct values cannot carry."""
    frame = pd.DataFrame({"a": np.resize([1.0, 9.0, 3.0], 60), "g": np.resize(["x", "y"], 60)})
    e = [{"type": "expect_column_values_to_be_between",
          "kwargs": {"column": "a", "min_value": 0, "max_value": 5, "row_condition": 'g=="x"',
                     "condition_parser": "pandas"}}]
    run = lambda df, ex: gx_validate(df, {"name": "t", "expectations": ex}, {})  # noqa: E731
    got, = validate_on_distinct_values(frame, e, run)
    want, = validate_on_distinct_values(frame, e, run, max_distinct_share=None)
    assert not isinstance(got, RowResult) and summary(got) == summary(want)
