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
