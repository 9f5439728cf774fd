"""Numbers written as people write them are read before validation; quarantine keeps the text as read."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from csatlib.ingest.load import read_wave
from csatlib.ingest.numbers import missing_mask, parse_number, sniff_decimal, to_numbers
from csatlib.spec import parse_spec
from csatlib.validation.check import REASONS_COLUMN, validate_wave, write_validation
from csatlib.validation.suite import build_suite


@pytest.mark.parametrize("text, decimal, expected", [
    ("7", ".", 7.0), ("７", ".", 7.0), ("１０", ".", 10.0), ("８\u3000", ".", 8.0), ("8\u00a0", ".", 8.0),
    (" 4 ", ".", 4.0), ("\u200b5", ".", 5.0), ("４．５", ".", 4.5), ("−2", ".", -2.0), ("٣", ".", 3.0),
    ("4,5", ".", 4.5), ("1,234", ".", 1234.0), ("1,234.5", ".", 1234.5), ("12,50", ".", 12.5),
    ("4,5", ",", 4.5), ("1.234", ",", 1234.0), ("1.234,5", ",", 1234.5), ("4.5", ",", 4.5),
    ("1 234,5", ",", 1234.5), ("1\u202f234", ".", 1234.0),
    ("abc", ".", None), ("4 5", ".", None), ("Don't know", ".", None), ("5分", ".", None), ("", ".", None),
])
def test_parse_number(text, decimal, expected):
    assert parse_number(text, decimal) == expected


def test_to_numbers_counts_and_keeps_text_that_is_not_a_number():
    values = pd.Series(["4", "５", "8\u00a0", "NA", "", "abc", "4,5", None], dtype="str")
    out, count = to_numbers(values)
    assert count == 3
    assert out.dtype == object
    assert out.tolist()[:3] == [4.0, 5.0, 8.0] and out[5] == "abc" and out[6] == 4.5
    assert pd.isna(out[3]) and pd.isna(out[4]) and pd.isna(out[7])
    plain, n = to_numbers(pd.Series(["1", "2", "NA", ""], dtype="str"))
    assert plain.dtype == np.float64 and n == 0 and plain.isna().tolist() == [False, False, True, True]


def test_sniff_decimal():
    assert sniff_decimal([pd.Series(["4,5", "3"])]) == ","
    assert sniff_decimal([pd.Series(["4.5", "3"])]) == "."
    assert sniff_decimal([pd.Series(["1,234", "3"])]) == "."   # grouped digits say nothing
    assert sniff_decimal([pd.Series([1.5, 2.0])]) == "."


SPEC = """
name: norm
id: rid
segments: [shop]
satisfaction: {column: sat, scale: [1, 10], top_box: 8}
dimensions:
  a: {perception: pa, scale: [1, 5]}
text: [note]
quality: {min_base: 5, max_quarantine_share: 0.5}
"""


def test_fullwidth_and_odd_spaces_are_normalised_before_validation(tmp_path):
    # issue 22: '７' and '8 ' passed validation as clean, then silently left every base
    n = 40
    rng = np.random.default_rng(2)
    sat = [str(v) for v in rng.integers(1, 11, n)]
    pa_ = [str(v) for v in rng.integers(1, 6, n)]
    sat[0], sat[1], sat[2], sat[3] = "７", "8\u00a0", "１０", "9 "
    pa_[4] = "３"
    sat[5] = "eleven"       # not a number: quarantined with a reason
    sat[6] = "11"           # out of scale: quarantined, as read
    frame = pd.DataFrame({"rid": [f"r{i:02d}" for i in range(n)], "shop": "A", "sat": sat, "pa": pa_,
                          "note": "ok"})
    path = tmp_path / "w.csv"
    frame.to_csv(path, index=False)
    spec = parse_spec(yaml.safe_load(SPEC))
    wave = read_wave(path, spec)
    assert wave.normalised == {"sat": 4, "pa": 1}
    res = validate_wave(wave, "W1", build_suite(spec))
    assert res.rows_read == res.rows_clean + res.rows_quarantined == n
    assert res.rows_quarantined == 2
    # every clean row is in the base its answers allow
    assert res.clean["sat"].notna().all() and res.clean["pa"].notna().all()
    assert res.clean.loc[[0, 1, 2, 3], "sat"].tolist() == [7.0, 8.0, 10.0, 9.0]
    reasons = dict(zip(res.quarantine["rid"], res.quarantine[REASONS_COLUMN]))
    assert reasons == {"r05": "sat: 'eleven' is not a number", "r06": "sat: 11 outside 1-10"}
    vpath, qpath = write_validation(res, tmp_path / "out")
    doc = json.loads(vpath.read_text(encoding="utf-8"))
    assert doc["input"]["normalised_cells"] == {"sat": 4, "pa": 1}
    assert doc["input"]["encoding"] == "utf-8" and doc["input"]["delimiter"] == ","
    # quarantine.csv: text in, text out ('11', not '11.0'; pa as written)
    text = qpath.read_text(encoding="utf-8-sig")
    assert "r06,A,11," in text and "11.0" not in text
    back = pd.read_csv(qpath, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for _, row in back.iterrows():
        src = frame[frame["rid"] == row["rid"]].iloc[0]
        assert row["sat"] == src["sat"] and row["pa"] == src["pa"]


def test_quarantine_keeps_integers_of_typed_files_as_written(tmp_path):
    spec = parse_spec(yaml.safe_load(SPEC))
    frame = pd.DataFrame({"rid": [f"r{i}" for i in range(8)], "shop": "A", "sat": [4, 12, 5, 6, 7, 8, 9, 10],
                          "pa": [1, 2, 3, 4, 5, 1, 2, 3], "note": "ok"})
    path = tmp_path / "w.parquet"
    frame.to_parquet(path)
    res = validate_wave(read_wave(path, spec), "W1", build_suite(spec))
    assert res.quarantine[["rid", "sat", "pa"]].values.tolist() == [["r1", "12", "2"]]


def test_a_column_arrow_read_in_several_chunks_reads_as_one():
    """Arrow's csv reader hands long columns over in chunks; they are read as they are, not
    concatenated first, with the same numbers, text and normalisation count."""
    import pyarrow as pa

    cells = ["1", "２", "NA", "4,5", "", " 7 ", "abc", "1 234", "8\u00a0", None]
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(cells[:4]), pa.array(cells[4:])])))
    whole = pd.Series(pd.array(cells, dtype="string[pyarrow]"))
    assert chunked.array._pa_array.num_chunks == 2
    got, want = to_numbers(chunked, "."), to_numbers(whole, ".")
    pd.testing.assert_series_equal(got[0], want[0])
    assert got[1] == want[1] == 5  # full-width 2, the decimal comma, the spaces around 7, 1 234 and 8
    assert missing_mask(chunked).tolist() == missing_mask(whole).tolist()
    assert sniff_decimal([chunked]) == sniff_decimal([whole]) == ","
