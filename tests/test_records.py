"""No row vanishes: csv records counted independently of the parser, stray quotes named by line."""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csatlib.errors import InputError
from csatlib.ingest import records
from csatlib.ingest.load import read_wave
from csatlib.ingest.records import scan_records
from csatlib.spec import parse_spec

SPEC = {"name": "rows", "id": "rid", "text": ["comment"], "segments": ["shop"],
        "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}}


def wave_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({"rid": [f"r{i:04d}" for i in range(n)], "shop": rng.choice(["A", "B"], n),
                         "sat": rng.integers(1, 6, n), "comment": rng.choice(["fine", "", "slow, but ok"], n)})


def reference(text: str, delimiter: str = ","):
    """Python's csv module, strict: (header width, [(start line, fields, lines spanned)])."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    out, prev, header = [], 0, None
    for record in reader:
        start, prev = prev + 1, reader.line_num
        if header is None:
            header = len(record)
            continue
        if record:
            out.append((start, len(record), reader.line_num - start + 1))
    return header, out


# fields: plain text, quoted text with delimiters, doubled quotes and line breaks, empty
_plain = st.text(alphabet="ab 1,é好", max_size=6).map(lambda s: s.replace(",", ""))
_quoted = st.text(alphabet='ab,\n"好 ', max_size=8).map(lambda s: '"' + s.replace('"', '""') + '"')
_field = st.one_of(_plain, _quoted, st.just(""))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_field, min_size=3, max_size=3), min_size=1, max_size=12),
       st.lists(st.integers(0, 12), max_size=2), st.sampled_from([1, 2, 5, 16, records._CHUNK]))
def test_vectorised_scan_equals_the_csv_module(rows, blanks, chunk):
    lines = [",".join(r) for r in [["h1", "h2", "h3"], *rows]]
    for b in blanks:  # blank lines between records are skipped by both
        lines.insert(min(b + 1, len(lines)), "")
    text = "\n".join(lines) + "\n"
    header, expected = reference(text)
    default, records._CHUNK = records._CHUNK, chunk  # the scan reads the bytes a chunk at a time
    try:
        scan = scan_records(text.encode("utf-8"), ",", "f.csv")
    finally:
        records._CHUNK = default
    assert scan.exact == "parity"
    assert scan.n_fields == header
    got = list(zip(scan.lines.tolist(), scan.fields.tolist(), scan.spans.tolist()))
    assert got == expected


@pytest.mark.parametrize("text", [
    'a,b,c\n1,5" tall,3\n',            # a literal quote inside an unquoted field
    'a,b,c\n1, "x",3\n2,y,4\n',        # a quote after a space: literal too
])
def test_irregular_quotes_fall_back_to_the_csv_module(text):
    header, expected = reference(text)
    scan = scan_records(text.encode("utf-8"), ",", "f.csv")
    assert scan.exact == "csv"
    assert list(zip(scan.lines.tolist(), scan.fields.tolist(), scan.spans.tolist())) == expected


def test_stray_quote_merging_rows_is_an_error_naming_the_line(tmp_path):
    # issue 22: a comment with a stray double quote made 19 of 2,000 rows merge into others
    frame = wave_frame(2000)
    frame["comment"] = frame["comment"].str.replace(",", "")  # no quoting needed anywhere
    lines = frame.to_csv(index=False, lineterminator="\n").split("\n")
    lines[501] = lines[501].rsplit(",", 1)[0] + ',"great service'  # record 500 is on line 502
    lines[520] = lines[520].rsplit(",", 1)[0] + ",terrible\""
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert len(pd.read_csv(path)) == 1981  # a lenient parser loses 19 rows without a word
    with pytest.raises(InputError) as err:
        read_wave(path, parse_spec(SPEC))
    msg = str(err.value)
    assert "stray.csv" in msg and "line 502" in msg and "stray double quote" in msg


def test_stray_quote_among_quoted_fields_is_named(tmp_path):
    frame = wave_frame(2000)
    lines = frame.to_csv(index=False, lineterminator="\n").split("\n")
    lines[501] = lines[501].rsplit(",", 1)[0] + ',"great service'
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"stray\.csv: line 5\d\d: .*stray double quote"):
        read_wave(path, parse_spec(SPEC))


def test_stray_quote_that_closes_cleanly_is_still_caught(tmp_path):
    # the stray quote closes at a later stray quote; every parser merges the rows silently
    frame = wave_frame(50)
    text = frame.to_csv(index=False, lineterminator="\n")
    lines = text.split("\n")
    lines[10] = lines[10].rsplit(",", 1)[0] + ',"oops'
    lines[14] = lines[14].rsplit(",", 1)[0] + ',end"'
    path = tmp_path / "merge.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match="line 11"):
        read_wave(path, parse_spec(SPEC))


def test_quoted_multiline_comments_are_kept(tmp_path):
    frame = wave_frame(30)
    frame["comment"] = frame["comment"].astype(object)
    frame.loc[3, "comment"] = 'first line\nsecond, with a comma\nand "quotes"'
    frame.loc[7, "comment"] = "a\r\nb"
    path = tmp_path / "multi.csv"
    frame.to_csv(path, index=False)
    wave = read_wave(path, parse_spec(SPEC))
    assert len(wave.frame) == 30
    assert wave.frame.loc[3, "comment"] == 'first line\nsecond, with a comma\nand "quotes"'
    assert wave.frame["rid"].tolist() == frame["rid"].tolist()


def test_text_after_a_closing_quote_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('rid,shop,sat,comment\nr1,A,4,ok\nr2,A,5,"great" service\nr3,B,3,ok\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv: line 3: .*double quote"):
        read_wave(path, parse_spec(SPEC))


def test_too_many_fields_is_named(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("rid,shop,sat,comment\nr1,A,4,ok\nr2,A,5,ok,extra\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3: 5 fields, but the header has 4"):
        read_wave(path, parse_spec(SPEC))


def test_short_rows_and_blank_lines_are_accounted_for(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("rid,shop,sat,comment\r\nr1,A,4\r\n\r\n   \r\nr2,B,5,fine\r\n", encoding="utf-8")
    wave = read_wave(path, parse_spec(SPEC))
    assert wave.frame["rid"].tolist() == ["r1", "r2"]
    assert wave.frame["comment"].isna().tolist() == [True, False]


def test_old_mac_line_ends(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"rid,shop,sat,comment\rr1,A,4,ok\rr2,B,5,fine\r")
    assert read_wave(path, parse_spec(SPEC)).frame["rid"].tolist() == ["r1", "r2"]


def test_row_names_under_no_header_are_not_a_column(tmp_path):
    # R's write.table(sep = ","): the header has no field for the row names that start every row
    frame = wave_frame(40)
    path = tmp_path / "r.csv"
    body = frame.to_csv(index=True, index_label=False, lineterminator="\n")
    path.write_text(body, encoding="utf-8")
    assert body.split("\n")[0] == "rid,shop,sat,comment"
    wave = read_wave(path, parse_spec(SPEC))
    assert wave.frame["rid"].tolist() == frame["rid"].tolist()
    assert wave.frame["sat"].tolist() == frame["sat"].astype(float).tolist()
    assert any("row's name" in n for n in wave.notes)


def test_a_delimiter_ending_every_row_is_not_a_column(tmp_path):
    frame = wave_frame(40)
    lines = frame.to_csv(index=False, lineterminator="\n").rstrip("\n").split("\n")
    path = tmp_path / "t.csv"
    path.write_text("\n".join([lines[0], *(ln + "," for ln in lines[1:])]) + "\n", encoding="utf-8")
    wave = read_wave(path, parse_spec(SPEC))
    assert wave.frame["rid"].tolist() == frame["rid"].tolist()
    assert wave.frame["comment"].fillna("").tolist() == frame["comment"].tolist()
    assert any("empty last field" in n for n in wave.notes)


def test_one_row_with_an_extra_field_is_still_named(tmp_path):
    frame = wave_frame(40)
    lines = frame.to_csv(index=True, index_label=False, lineterminator="\n").split("\n")
    lines[5] = lines[5].split(",", 1)[1]  # this row lacks the row name: the file is not consistent
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match="line 2: 5 fields, but the header has 4"):
        read_wave(path, parse_spec(SPEC))
