"""Loading every supported format; PII dropped; derived columns; clear errors on bad files."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from csatlib.errors import InputError
from csatlib.frame import SPEEDER, STRAIGHTLINE, gap_column
from csatlib.ingest.load import read_wave
from csatlib.spec import load_spec, parse_spec

from .conftest import HOTEL_SPEC, SAMPLE_SPEC, make_hotel_wave


@pytest.fixture(scope="module")
def hotel_spec():
    return parse_spec(yaml.safe_load(HOTEL_SPEC))


@pytest.fixture(scope="module")
def frame():
    return make_hotel_wave(60)


@pytest.mark.parametrize("writer, suffix", [
    (lambda f, p: f.to_csv(p, index=False, encoding="utf-8"), ".csv"),
    (lambda f, p: f.to_csv(p, index=False, encoding="utf-8-sig"), ".csv"),
    (lambda f, p: f.to_csv(p, index=False, encoding="gbk"), ".csv"),
    (lambda f, p: f.to_csv(p, index=False, encoding="gb18030"), ".csv"),
    (lambda f, p: f.to_excel(p, index=False), ".xlsx"),
    (lambda f, p: f.to_parquet(p, index=False), ".parquet"),
])
def test_formats_round_trip(tmp_path, hotel_spec, frame, writer, suffix):
    path = tmp_path / f"wave{suffix}"
    writer(frame, path)
    wave = read_wave(path, hotel_spec)
    got = wave.frame
    assert len(got) == len(frame)
    assert got["城市"].tolist() == frame["城市"].tolist()  # Chinese labels intact
    assert got["编号"].tolist() == frame["编号"].tolist()
    assert pd.to_numeric(got["总体满意"]).tolist() == frame["总体满意"].tolist()
    assert "手机" not in got.columns and wave.pii_dropped == ("手机",)
    if suffix == ".csv":
        assert wave.encoding in ("utf-8", "gb18030")


def test_gbk_csv_is_detected(tmp_path, hotel_spec, frame):
    path = tmp_path / "gbk.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert read_wave(path, hotel_spec).encoding == "gb18030"


def test_sav_keeps_value_labels(tmp_path):
    spec = parse_spec({"name": "spss", "id": "rid", "segments": ["region"],
                       "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}})
    df = pd.DataFrame({"rid": [1.0, 2.0, 3.0], "region": [1.0, 2.0, 1.0], "sat": [4.0, 5.0, 2.0]})
    path = tmp_path / "w.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={"region": {1.0: "华东", 2.0: "华南"},
                                                                "sat": {1.0: "very poor", 5.0: "excellent"}})
    wave = read_wave(path, spec)
    assert wave.frame["region"].tolist() == ["华东", "华南", "华东"]  # segments show labels
    assert wave.frame["sat"].tolist() == [4.0, 5.0, 2.0]  # rated items keep codes
    assert wave.value_labels["sat"][5.0] == "excellent"
    assert wave.frame["rid"].tolist() == ["1", "2", "3"]


def test_pii_dropped_and_text_redacted():
    spec = load_spec(SAMPLE_SPEC)
    wave = read_wave(SAMPLE_SPEC.parent / "retail_2026Q3.csv", spec)
    assert not {"email", "phone"} & set(wave.frame.columns)
    text = " ".join(wave.frame["comment"].dropna())
    assert "@example.com" not in text and "+86" not in text
    assert "[email]" in text and "[phone]" in text


def test_derived_columns(tmp_path):
    spec = parse_spec({"name": "d", "id": "id", "duration": "secs", "quality": {"min_duration_s": 30},
                       "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4},
                       "dimensions": {"a": {"perception": "pa", "expectation": "ea", "scale": [1, 5]},
                                      "b": {"perception": "pb", "expectation": "eb", "scale": [1, 5]}}})
    df = pd.DataFrame({"id": ["1", "2", "3"], "sat": [3, 4, 5], "secs": [10, 100, np.nan],
                       "pa": [3, 2, 5], "ea": [3, 4, 4], "pb": [3, 5, np.nan], "eb": [3, 1, 5]})
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    f = read_wave(path, spec).frame
    assert f[gap_column("a")].tolist() == [0, -2, 1]
    assert f[gap_column("b")].tolist()[:2] == [0, 4] and np.isnan(f[gap_column("b")][2])
    assert f[STRAIGHTLINE].tolist() == [True, False, False]
    assert f[SPEEDER].tolist() == [True, False, False]


def test_missing_column_names_column_and_file(tmp_path, hotel_spec, frame):
    path = tmp_path / "short.csv"
    frame.drop(columns=["推荐"]).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_wave(path, hotel_spec)
    assert "short.csv" in str(err.value) and "'推荐' (nps)" in str(err.value)


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "file is empty"),
    ("broken.xlsx", b"PK\x03\x04 this is not a workbook", "cannot read as xlsx"),
    ("broken.parquet", b"PAR1garbage", "cannot read as parquet"),
    ("broken.sav", b"$FL2 garbage", "cannot read as sav"),
    ("notes.docx", b"hello", "unsupported file type"),
    ("header_only.csv", b"\n", "no header"),
])
def test_bad_files_give_one_clear_error(tmp_path, hotel_spec, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_wave(path, hotel_spec)
    assert name in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path, hotel_spec):
    with pytest.raises(InputError, match="no such file"):
        read_wave(tmp_path / "absent.csv", hotel_spec)


def test_duplicate_columns_are_an_error(tmp_path, hotel_spec):
    path = tmp_path / "dup.csv"
    path.write_text("编号,编号,总体满意\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate column names"):
        read_wave(path, hotel_spec)


def test_columns_without_a_name_are_named_by_position(tmp_path, hotel_spec, frame):
    # Excel's empty columns saved as csv: ",," in the header; two of them are no ambiguity
    path = tmp_path / "gaps.csv"
    body = frame.to_csv(index=False).splitlines()
    path.write_text("\n".join([body[0] + ",,", *(line + ",," for line in body[1:])]) + "\n", encoding="utf-8")
    wave = read_wave(path, hotel_spec)
    assert wave.frame["编号"].tolist() == frame["编号"].astype(str).tolist()
    n = len(frame.columns)
    assert f"(column {n + 1})" in wave.raw.columns and f"(column {n + 2})" in wave.raw.columns


# --------------------------------------------------------------------------------------------
# real files: delimiters, decimal marks, headers, title rows, sheets
EURO_SPEC = {"name": "euro", "id": "ID", "weight": "Gewicht", "segments": ["Region"],
             "satisfaction": {"column": "Zufriedenheit", "scale": [1, 10], "top_box": 8},
             "dimensions": {"preis": {"perception": "Preis", "scale": [1, 5]}},
             "pii": ["Mail"], "text": ["Kommentar"]}


def test_semicolons_and_decimal_commas_from_european_excel(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("ID;Region;Gewicht;Zufriedenheit;Preis;Mail;Kommentar\r\n"
                     "1;Süd;1,25;8;4,5;a@b.de;gut\r\n"
                     "2;Nord;0,75;9;3;c@d.de;\"teuer; aber gut\"\r\n"
                     "3;Nord;1;7;2,5;;\r\n".encode("cp1252"))
    spec = parse_spec({**EURO_SPEC, "source": {"encoding": "cp1252"}})
    wave = read_wave(path, spec)
    assert wave.delimiter == ";" and wave.decimal == ","
    assert wave.frame["Gewicht"].tolist() == [1.25, 0.75, 1.0]
    assert wave.frame["Preis"].tolist() == [4.5, 3.0, 2.5]
    assert wave.frame["Region"].tolist() == ["Süd", "Nord", "Nord"]
    assert wave.frame["Kommentar"].tolist()[:2] == ["gut", "teuer; aber gut"]
    assert wave.normalised == {"Gewicht": 2, "Preis": 2}
    assert wave.pii_dropped == ("Mail",) and "Mail" not in wave.frame.columns
    # quarantine and audit see the cells as written
    assert wave.as_read()["Gewicht"].tolist() == ["1,25", "0,75", "1"]


def test_delimiter_and_decimal_can_be_set_in_the_spec(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("ID|Region|Gewicht|Zufriedenheit|Preis|Kommentar\n1|Süd|1.234,5|8|4|x\n", encoding="utf-8")
    spec = parse_spec({**EURO_SPEC, "source": {"delimiter": "|", "decimal": ","}})
    wave = read_wave(path, spec)
    assert wave.frame["Gewicht"].tolist() == [1234.5]


def test_tab_separated_text(tmp_path, hotel_spec, frame):
    path = tmp_path / "unicode.txt"
    frame.to_csv(path, index=False, sep="\t", encoding="utf-16")
    wave = read_wave(path, hotel_spec)
    assert wave.delimiter == "\t" and wave.encoding == "utf-16"
    assert wave.frame["城市"].tolist() == frame["城市"].tolist()


def test_headers_match_after_trimming_and_case_folding(tmp_path, hotel_spec, frame):
    renamed = {"总体满意": " 总体满意 ", "编号": "编号\u00a0", "手机": "手机 "}
    path = tmp_path / "loose.csv"
    frame.rename(columns=renamed).to_csv(path, index=False)
    wave = read_wave(path, hotel_spec)
    assert "总体满意" in wave.frame.columns and wave.renamed[" 总体满意 "] == "总体满意"
    assert wave.pii_dropped == ("手机",) and not any("手机" in c for c in wave.frame.columns)
    spec = parse_spec({"name": "x", "id": "RID", "satisfaction": {"column": "Overall Sat", "scale": [1, 5], "top_box": 4}})
    path2 = tmp_path / "case.csv"
    path2.write_text("rid,OVERALL  SAT\n1,4\n", encoding="utf-8")
    assert read_wave(path2, spec).frame["Overall Sat"].tolist() == [4.0]


def test_near_miss_gets_a_did_you_mean(tmp_path, hotel_spec, frame):
    path = tmp_path / "typo.csv"
    frame.rename(columns={"总体满意": "总体满意度", "推荐": "recommend"}).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_wave(path, hotel_spec)
    msg = str(err.value)
    assert "'总体满意' (satisfaction; did you mean '总体满意度'?)" in msg and "'推荐' (nps)" in msg
    assert "\n" not in msg


def test_two_headers_matching_one_column_is_an_error(tmp_path, hotel_spec, frame):
    path = tmp_path / "twice.csv"
    frame.assign(**{"总体满意 ": frame["总体满意"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="headers '总体满意' and '总体满意 ' both match the spec's satisfaction"):
        read_wave(path, hotel_spec)


def test_pii_header_in_another_case_is_dropped_and_ambiguity_refused(tmp_path):
    # issue 22: 'Mail' vs the spec's 'mail' let e-mail addresses reach quarantine.csv
    spec = parse_spec({"name": "p", "id": "rid", "pii": ["mail"],
                       "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}})
    path = tmp_path / "pii.csv"
    path.write_text("rid,sat,Mail\n1,4,li@example.cn\n2,9,wang@example.cn\n", encoding="utf-8")
    wave = read_wave(path, spec)
    assert wave.pii_dropped == ("mail",) and "Mail" not in wave.frame.columns
    assert "example.cn" not in wave.as_read().to_csv()
    path.write_text("rid,sat,Mail,mail\n1,4,li@example.cn,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="headers 'Mail' and 'mail' both match the spec's pii column 'mail'"):
        read_wave(path, spec)


def test_title_rows_above_the_header_are_found(tmp_path, hotel_spec, frame):
    path = tmp_path / "titled.csv"
    path.write_text("酒店满意度调查 2026 秋\n导出时间: 2026-10-01,,\n\n" + frame.to_csv(index=False), encoding="utf-8")
    wave = read_wave(path, hotel_spec)
    assert wave.header_row == 4 and len(wave.frame) == len(frame)
    assert any("header found on line 4" in n for n in wave.notes)
    declared = parse_spec({**yaml.safe_load(HOTEL_SPEC), "source": {"header_row": 4}})
    assert read_wave(path, declared).frame["编号"].tolist() == frame["编号"].tolist()


def _workbook(path, sheets: dict[str, list[list]]):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)


def test_xlsx_title_row_on_the_second_sheet(tmp_path):
    spec_doc = {"name": "x", "id": "rid", "segments": ["shop"],
                "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}}
    path = tmp_path / "book.xlsx"
    _workbook(path, {"Notes": [["Kiosk survey, exported 2026-10-01"], ["see sheet Data"]],
                     "Data": [["Kiosk survey 2026"], ["rid", "shop", "sat"], ["001", "A", 4], [None, None, None],
                              ["002", "B", 5.0], ["003", "B", 4.5]]})
    wave = read_wave(path, parse_spec(spec_doc))
    assert wave.sheet == "Data" and wave.header_row == 2
    assert wave.frame["rid"].tolist() == ["001", "002", "003"]
    assert wave.frame["sat"].tolist() == [4.0, 5.0, 4.5]
    assert wave.as_read()["sat"].tolist() == ["4", "5", "4.5"]  # as a reader of the sheet sees them
    assert any("read sheet 'Data'" in n for n in wave.notes) and any("1 empty row" in n for n in wave.notes)
    for sheet in ("Data", " data", 2):
        got = read_wave(path, parse_spec({**spec_doc, "source": {"sheet": sheet, "header_row": 2}}))
        assert got.frame["rid"].tolist() == ["001", "002", "003"]
    with pytest.raises(InputError, match=r"no sheet 'Daten' \(source.sheet\); the workbook has 'Notes', 'Data'"):
        read_wave(path, parse_spec({**spec_doc, "source": {"sheet": "Daten"}}))
    with pytest.raises(InputError, match="source.sheet 3: the workbook has 2 sheets"):
        read_wave(path, parse_spec({**spec_doc, "source": {"sheet": 3}}))


def test_xlsx_several_sheets_with_the_columns_is_an_error(tmp_path):
    path = tmp_path / "waves.xlsx"
    _workbook(path, {"Q1": [["rid", "sat"], [1, 4]], "Q2": [["rid", "sat"], [1, 5]]})
    spec = parse_spec({"name": "x", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}})
    with pytest.raises(InputError, match="sheets 'Q1', 'Q2' all hold the spec's columns; set source.sheet"):
        read_wave(path, spec)
    assert read_wave(path, parse_spec({**spec.to_dict(), "source": {"sheet": "Q2"}})).frame["sat"].tolist() == [5.0]


def test_xlsx_duplicate_headers_are_an_error(tmp_path):
    # issue 22: a csv with duplicate headers was refused, an xlsx with the same went through
    path = tmp_path / "dup.xlsx"
    _workbook(path, {"Sheet1": [["rid", "sat", "sat"], [1, 4, 5]]})
    spec = parse_spec({"name": "x", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}})
    with pytest.raises(InputError, match=r"dup\.xlsx: duplicate column names \['sat'\]"):
        read_wave(path, spec)


def test_xlsx_rows_past_a_stale_used_range_are_read(tmp_path):
    import zipfile

    path = tmp_path / "stale.xlsx"
    rows = [["rid", "sat"]] + [[i, i % 5 + 1] for i in range(1, 21)]
    _workbook(path, {"Sheet1": rows})
    # rewrite the recorded used range to stop at row 5, as some exporters leave it
    src = zipfile.ZipFile(path)
    out = tmp_path / "stale2.xlsx"
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:B21" />', b'<dimension ref="A1:B5" />')
                assert b'A1:B5' in data
            dst.writestr(item, data)
    import openpyxl

    ro = openpyxl.load_workbook(out, read_only=True)
    assert len(list(ro.active.iter_rows())) == 5  # a reader trusting the range loses 16 rows
    ro.close()
    spec = parse_spec({"name": "x", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}})
    wave = read_wave(out, spec)
    assert len(wave.frame) == 20
    assert any("used range ending at row 5" in n for n in wave.notes)


_BASE = {"name": "s", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}}


def test_source_key_is_parsed():
    src = parse_spec({**_BASE, "source": {"encoding": "CP949", "delimiter": ";", "decimal": ",", "sheet": "Data",
                                          "header_row": 2}}).data_source
    assert (src.encoding, src.delimiter, src.decimal, src.sheet, src.header_row) == ("CP949", ";", ",", "Data", 2)
    assert parse_spec({**_BASE, "source": {"delimiter": "tab", "sheet": 2}}).data_source.delimiter == "\t"
    assert parse_spec(_BASE).data_source.encoding is None


@pytest.mark.parametrize("source, message", [
    ({"encoding": "klingon"}, "source.encoding: unknown encoding 'klingon'"),
    ({"encoding": "base64"}, "source.encoding: 'base64' is not a text encoding"),
    ({"delimiter": ";;"}, "source.delimiter must be one character"),
    ({"delimiter": '"'}, "source.delimiter must be one character"),
    ({"decimal": ";"}, "source.decimal must be '.' or ','"),
    ({"delimiter": ",", "decimal": ","}, "cannot be the same character"),
    ({"sheet": 0}, "source.sheet counts from 1"),
    ({"sheet": True}, "source.sheet must be a sheet name or a position"),
    ({"header_row": 0}, "source.header_row must be >= 1"),
    ({"header_row": 1.5}, "source.header_row must be a whole number"),
    ({"skip": 2}, "unknown key 'source.skip'"),
    ("utf-8", "source must be a mapping"),
])
def test_source_key_errors_name_the_key(source, message):
    from csatlib.errors import SpecError

    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_spec({**_BASE, "source": source})


def test_provenance_says_how_the_file_was_read(tmp_path):
    from csatlib.run.stages import provenance_of

    path = tmp_path / "export.csv"
    path.write_bytes("ID;Region;Gewicht;Zufriedenheit;Preis;Kommentar\n1;Süd;1,5;８;4;x\n".encode("utf-8"))
    wave = read_wave(path, parse_spec(EURO_SPEC))
    inp = provenance_of(wave).input
    assert inp["encoding"] == "utf-8" and inp["delimiter"] == ";" and inp["decimal"] == ","
    assert inp["normalised_cells"] == {"Gewicht": 1, "Zufriedenheit": 1}
    assert inp["header_row"] == 1 and inp["sheet"] is None and inp["pii_dropped"] == []
    assert any("numbers normalised" in n for n in inp["notes"])


def _qualtrics_rows(frame: pd.DataFrame, question_texts: bool = True) -> list[list]:
    """A Qualtrics export of ``frame``: the header, the question texts, the import ids, the data."""
    texts = [f"{c}: how would you rate it?\n(one answer)" for c in frame.columns]  # a line break, as Qualtrics writes
    ids = ['{"ImportId":"startDate","timeZone":"Asia/Shanghai"}' if i == 0 else f'{{"ImportId":"QID{i}"}}'
           for i in range(len(frame.columns))]
    return [list(frame.columns), *([texts] if question_texts else []), ids, *frame.astype(object).values.tolist()]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("question_texts", [True, False])
def test_qualtrics_label_rows_below_the_header_are_not_respondents(tmp_path, hotel_spec, frame, suffix,
                                                                      question_texts):
    rows = _qualtrics_rows(frame, question_texts)
    path = tmp_path / f"qualtrics{suffix}"
    if suffix == ".csv":
        import csv

        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f).writerows(rows)
    else:
        _workbook(path, {"Sheet0": rows})
    wave = read_wave(path, hotel_spec)
    assert len(wave.frame) == len(frame)
    assert wave.frame["编号"].tolist() == frame["编号"].astype(str).tolist()
    skipped = 2 if question_texts else 1
    assert any(f"the {skipped} row" in n and "Qualtrics" in n for n in wave.notes)


def test_an_import_id_in_one_answer_is_a_respondent(tmp_path, hotel_spec, frame):
    # only a row whose every non-empty cell is an import id labels the columns
    first = frame.iloc[:1].astype(object).copy()
    first.iloc[0, -1] = '{"ImportId":"QID1"}'
    path = tmp_path / "answers.csv"
    pd.concat([first, frame.iloc[1:]]).to_csv(path, index=False)
    wave = read_wave(path, hotel_spec)
    assert len(wave.frame) == len(frame)
    assert not any("Qualtrics" in n for n in wave.notes)


def test_export_label_rows():
    from csatlib.ingest.headers import export_label_rows

    ids = ['{"ImportId":"_recordId"}', '{"ImportId":"QID2_TEXT"}', None, ""]
    assert export_label_rows([["Response ID", "Comments", None, ""], ids]) == 2
    assert export_label_rows([ids, ["R_1", "fine", None, ""]]) == 1
    assert export_label_rows([["R_1", "fine"], ['{"ImportId":"QID1"}', "5"]]) == 0  # not every cell
    assert export_label_rows([['{"ImportId":"QID1"}'], ["R_1"]]) == 0  # one cell is not evidence
    assert export_label_rows([["{not json}", "{}"], ['{"id": 1}', '{"ImportId": 3'], []]) == 0
    assert export_label_rows([]) == 0
    assert export_label_rows([[pd.NA, float("nan"), '{"ImportId":"QID1"}', '{"ImportId":"QID2"}']]) == 0  # NA is no id
    assert export_label_rows([[float("nan"), '{"ImportId":"QID1"}', '{"ImportId":"QID2"}']]) == 1


def test_interview_lengths_with_units_are_seconds(tmp_path):
    # 问卷星 writes "125秒"; other tools "2:05", "3 min 20 s": all are seconds for the speeder check
    spec = parse_spec({"name": "d", "id": "rid", "duration": "所用时间", "quality": {"min_duration_s": 60},
                       "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}})
    lengths = ["125秒", "46秒", "2分5秒", "0:00:59", "2:05", "3 min 20 s", "90", "１２０秒", "soon", ""]
    frame = pd.DataFrame({"rid": [f"r{i}" for i in range(len(lengths))], "sat": 4, "所用时间": lengths})
    path = tmp_path / "wjx.csv"
    frame.to_csv(path, index=False)
    wave = read_wave(path, spec)
    got = wave.frame["所用时间"].tolist()
    assert got[:8] == [125.0, 46.0, 125.0, 59.0, 125.0, 200.0, 90.0, 120.0]
    assert got[8] == "soon" and pd.isna(got[9])
    assert wave.frame[SPEEDER].tolist() == [False, True, False, True, False, False, False, False, False, False]
    assert "所用时间: 1 cell is no length of time (not checked for speeding)" in wave.notes
    assert wave.normalised == {"所用时间": 7}  # "90" is already a number


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_surveymonkey_second_header_row_names_grid_items(tmp_path, suffix):
    rng = np.random.default_rng(8)
    head = ["Respondent ID", "How satisfied are you overall?", "Please rate:", "", "Which store?", ""]
    sub = ["", "Response", "Staff", "Price", "Response", "Other (please specify)"]
    rows = [[str(1000 + i), str(rng.integers(1, 6)), str(rng.integers(1, 6)), str(rng.integers(1, 6)),
             "North" if i % 2 else "South", ""] for i in range(40)]
    path = tmp_path / f"monkey{suffix}"
    if suffix == ".csv":
        import csv

        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([head, sub, *rows])
    else:
        _workbook(path, {"Sheet1": [head, sub, *rows]})
    spec = parse_spec({"name": "m", "id": "Respondent ID", "segments": ["Which store?"],
                       "satisfaction": {"column": "How satisfied are you overall?", "scale": [1, 5], "top_box": 4},
                       "dimensions": {"staff": {"perception": "Please rate: - Staff", "scale": [1, 5]},
                                      "price": {"perception": "Please rate: - Price", "scale": [1, 5]}}})
    wave = read_wave(path, spec)
    assert len(wave.frame) == 40  # the answer-label row is no respondent
    assert wave.frame["Please rate: - Price"].tolist() == [float(r[3]) for r in rows]
    assert "Which store? - Other (please specify)" in wave.raw.columns
    assert any("SurveyMonkey" in n for n in wave.notes)


def test_joined_headers_need_the_answer_labels():
    from csatlib.ingest.headers import joined_headers

    assert joined_headers(["a", "b", "c"], ["Response", "x", "y"]) is None  # one "Response" is no evidence
    assert joined_headers(["a", "b"], ["response ", " Open-Ended Response"]) == ["a", "b"]
    assert joined_headers(["(column 1)", "q", "(column 3)"], ["x", "Response", "y"]) is None
    assert joined_headers(["(column 1)", "q", "(column 3)", "r"], ["x", "Response", "y", "Response"]) == \
        ["(column 1)", "q", "q - y", "r"]  # no question before the first column: its name stays
