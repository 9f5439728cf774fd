"""Text encodings: declared, byte-order marks, UTF-8, detected, and refused when ambiguous."""
from __future__ import annotations

import codecs

import pandas as pd
import pytest

from csatlib.errors import InputError
from csatlib.ingest.encoding import decode_bytes
from csatlib.ingest.load import read_wave
from csatlib.spec import parse_spec

from .conftest import run_cli

# Korean and Chinese (hanja-compatible) words: the same content can be written in CP949 and GB18030
KOREAN = ["서울", "부산", "대구", "인천"]
COMMENTS = ["좋아요", "키오스크가 느려요", "직원이 친절합니다", ""]


# Chinese characters both encodings hold (hanja in CP949)
HANJA = ["北京", "東京", "大學", "市場"]


def kiosk_frame(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({
        "rid": [f"K{i:03d}" for i in range(n)],
        "city": [KOREAN[i % 4] for i in range(n)],
        "sat": [(i % 5) + 1 for i in range(n)],
        "note": [COMMENTS[i % 4] + (" " + HANJA[i % 4] if i % 3 == 0 else "") for i in range(n)],
    })


def kiosk_spec(**extra) -> dict:
    return {"name": "kiosk", "id": "rid", "segments": ["city"], "text": ["note"],
            "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}, "quality": {"min_base": 1}, **extra}


def write(frame: pd.DataFrame, path, encoding: str) -> None:
    path.write_bytes(frame.to_csv(index=False).encode(encoding))


def refused(path, frame: pd.DataFrame, encoding: str, segment: str, rating: str) -> tuple[str, dict]:
    """The error reading ``frame`` written in ``encoding`` raises, and the spec it was read with."""
    write(frame, path, encoding)
    spec = {"name": path.stem, "id": frame.columns[0], "segments": [segment],
            "satisfaction": {"column": rating, "scale": [1, 5], "top_box": 4}}
    with pytest.raises(InputError) as err:
        read_wave(path, parse_spec(spec))
    return str(err.value), spec


def test_short_cp949_file_is_ambiguous_and_names_the_candidates(tmp_path):
    # issue 16: the Korean kiosk file's sex column ('남'/'여') was read as GB18030 ('巢'/'咯')
    path = tmp_path / "kiosk.csv"
    msg, spec = refused(path, pd.DataFrame({"rid": ["1", "2"], "sex": ["남", "여"], "sat": [4, 5]}), "cp949",
                        "sex", "sat")
    assert "kiosk.csv" in msg and "ambiguous" in msg and "source.encoding" in msg
    assert "cp949 ('남')" in msg and "gb18030 ('巢')" in msg
    assert "\n" not in msg
    spec["source"] = {"encoding": "cp949"}
    assert read_wave(path, parse_spec(spec)).frame["sex"].tolist() == ["남", "여"]


def test_an_ambiguous_reading_is_shown_where_the_readings_differ(tmp_path):
    # the cells differ only past their 16th character: the excerpt is cut around the difference
    frame = pd.DataFrame({"id": ["1", "2", "3"], "région": ["Provence-Alpes-Côte d'Azur", "Bretagne", "Corse"],
                          "note": [4, 5, 3]})
    msg, _ = refused(tmp_path / "fr.csv", frame, "cp1252", "région", "note")
    assert "ambiguous" in msg and "cp1252 (\"…-Alpes-Côte d'Az\")" in msg
    assert "Cōte" in msg  # the Baltic code page's reading of the same byte


def test_declared_encoding_reads_cp949(tmp_path):
    path = tmp_path / "kiosk.csv"
    frame = kiosk_frame(2)
    write(frame, path, "cp949")
    wave = read_wave(path, parse_spec(kiosk_spec(source={"encoding": "CP949"})))
    assert wave.frame["city"].tolist() == frame["city"].tolist()
    assert wave.encoding == "CP949" and wave.encoding_source == "source.encoding"


def test_spec_values_are_evidence_for_the_encoding(tmp_path):
    # the spec lists the Korean city names: only the CP949 reading spells them
    path = tmp_path / "kiosk.csv"
    frame = kiosk_frame(2)
    write(frame, path, "cp949")
    spec = parse_spec(kiosk_spec(categories={"city": KOREAN}))
    wave = read_wave(path, spec)
    assert wave.encoding == "cp949" and wave.encoding_source == "detected"
    assert wave.frame["city"].tolist() == frame["city"].tolist()


@pytest.mark.parametrize("n", [2, 40])
def test_cp949_file_with_sentences_is_detected(tmp_path, n):
    path = tmp_path / "kiosk.csv"
    frame = kiosk_frame(n)
    write(frame, path, "cp949")
    wave = read_wave(path, parse_spec(kiosk_spec()))
    assert wave.encoding == "cp949"
    assert wave.frame["note"].fillna("").tolist() == frame["note"].tolist()


@pytest.mark.parametrize("n", [2, 40])
def test_same_content_in_gb18030_reads_back(tmp_path, n):
    # GB18030 spells Hangul with four-byte sequences that CP949 cannot decode: unambiguous
    path = tmp_path / "kiosk.csv"
    frame = kiosk_frame(n)
    write(frame, path, "gb18030")
    wave = read_wave(path, parse_spec(kiosk_spec()))
    assert wave.encoding == "gb18030"
    assert wave.frame["city"].tolist() == frame["city"].tolist()
    assert wave.frame["note"].fillna("").tolist() == frame["note"].tolist()  # Korean and Chinese intact


def test_chinese_gbk_file_is_read_as_gb18030(tmp_path):
    path = tmp_path / "hotel.csv"
    frame = pd.DataFrame({"rid": ["1", "2", "3"], "city": ["北京", "上海", "广州"], "sat": [4, 5, 3],
                          "note": ["房间很干净", "服务一般", "早餐种类太少"]})
    write(frame, path, "gbk")
    wave = read_wave(path, parse_spec(kiosk_spec()))
    assert wave.encoding == "gb18030"
    assert wave.frame["city"].tolist() == ["北京", "上海", "广州"]


def test_windows_1252_is_never_misread_as_gbk(tmp_path):
    # issue 22: "Côte d'Azur" was decoded as GBK ("C魌e d'Azur") without a word
    path = tmp_path / "regions.csv"
    frame = pd.DataFrame({"rid": ["1", "2"], "city": ["Côte d'Azur", "Nice"], "sat": [4, 5], "note": ["", ""]})
    write(frame, path, "cp1252")
    spec = parse_spec(kiosk_spec())
    try:
        wave = read_wave(path, spec)
    except InputError as err:  # refusing is allowed; a wrong reading is not
        msg = str(err)
        assert "cp1252" in msg and "Côte d'Azur" in msg and "source.encoding" in msg
        assert "魌" not in msg.split("cp1252")[0].split("or")[-1]
    else:
        assert wave.frame["city"].tolist() == ["Côte d'Azur", "Nice"]
    # with the encoding declared, or the value in the spec, it is read right
    declared = parse_spec(kiosk_spec(source={"encoding": "cp1252"}))
    assert read_wave(path, declared).frame["city"].tolist() == ["Côte d'Azur", "Nice"]
    listed = parse_spec(kiosk_spec(categories={"city": ["Côte d'Azur", "Nice"]}))
    assert read_wave(path, listed).frame["city"].tolist() == ["Côte d'Azur", "Nice"]


def test_windows_1252_with_enough_text_is_detected(tmp_path):
    path = tmp_path / "de.csv"
    words = ["München", "Köln", "Düsseldorf", "Nürnberg", "Straße"]
    frame = pd.DataFrame({"rid": [str(i) for i in range(30)], "city": [words[i % 5] for i in range(30)],
                          "sat": [i % 5 + 1 for i in range(30)], "note": ["Größe passt nicht"] * 30})
    write(frame, path, "cp1252")
    wave = read_wave(path, parse_spec(kiosk_spec()))
    assert wave.frame["city"].tolist() == frame["city"].tolist()


@pytest.mark.parametrize("encoding, bom", [("utf-16", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
                                           ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-8", codecs.BOM_UTF8),
                                           ("utf-16-le", b"")])
def test_unicode_files_with_and_without_marks(tmp_path, encoding, bom):
    path = tmp_path / "u.csv"
    frame = kiosk_frame(5)
    path.write_bytes(bom + frame.to_csv(index=False, sep="\t").encode(encoding))
    wave = read_wave(path, parse_spec(kiosk_spec()))
    assert wave.frame["city"].tolist() == frame["city"].tolist()
    assert wave.delimiter == "\t"
    assert list(wave.frame.columns[:4]) == ["rid", "city", "sat", "note"]  # no BOM glued to the first header


def test_declared_encoding_that_does_not_fit_names_the_line(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("rid,city,sat,note\n1,a,4,\n2,Côte,5,\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"does not decode as 'utf-8' \(source.encoding\).*line 3"):
        read_wave(path, parse_spec(kiosk_spec(source={"encoding": "utf-8"})))


def test_binary_file_named_csv(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    with pytest.raises(InputError, match="zip archive"):
        read_wave(path, parse_spec(kiosk_spec()))


@pytest.mark.parametrize("text, encoding", [
    ("编号,城市\n1,北京\n2,广州\n" * 20, "gb18030"),
    ("id,地域,満足度\n1,東京,5\n2,大阪,4\n3,名古屋,3\n", "cp932"),
    ("編號,城市,滿意\n1,台北,5\n2,高雄,4\n3,台中,3\n", "cp950"),
    ("id,город\n1,Москва\n2,Казань\n", "cp1251"),
    ("id,miasto\n1,Wrocław\n2,Łódź\n3,Kraków\n4,Gdańsk\n" * 5, "cp1250"),
])
def test_detection_is_right_or_refuses(text, encoding):
    """Never a silent wrong reading: either the text comes back, or an error names candidates."""
    data = text.encode(encoding)
    try:
        got = decode_bytes(data, "f.csv")
    except InputError as err:
        assert "ambiguous" in str(err) and "source.encoding" in str(err)
    else:
        assert got.text == text


def test_cli_ambiguous_encoding_is_exit_2_with_one_line(tmp_path):
    import yaml

    data = tmp_path / "kiosk.csv"
    write(pd.DataFrame({"rid": ["1", "2"], "city": ["남", "여"], "sat": [4, 5], "note": ["", ""]}), data, "cp949")
    spec = tmp_path / "kiosk.yaml"
    spec.write_text(yaml.safe_dump(kiosk_spec(), allow_unicode=True), encoding="utf-8")
    proc = run_cli("validate", "--data", str(data), "--spec", str(spec), "--wave", "W1",
                   "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("csat: error:")]
    assert len(errors) == 1 and "kiosk.csv" in errors[0] and "source.encoding" in errors[0]
    assert "Traceback" not in proc.stderr


def test_ambiguity_error_never_quotes_a_pii_or_free_text_cell(tmp_path):
    path = tmp_path / "names.csv"
    frame = pd.DataFrame({"rid": ["1", "2"], "name": ["김민수", "이영희"], "note": ["좋아요", "별로"],
                          "sex": ["남", "여"], "sat": [4, 5]})
    write(frame, path, "cp949")
    spec = {"name": "k", "id": "rid", "pii": ["name"], "text": ["note"], "segments": ["sex"],
            "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4}}
    with pytest.raises(InputError) as err:
        read_wave(path, parse_spec(spec))
    msg = str(err.value)
    assert "cp949 ('남')" in msg  # the segment label shows the readings apart
    for secret in ("김민수", "이영희", "좋아요"):
        assert secret not in msg
    # without a label column that differs, the candidates are named without any cell
    write(frame.drop(columns=["sex"]), path, "cp949")
    spec["segments"] = []
    with pytest.raises(InputError) as err:
        read_wave(path, parse_spec(spec))
    assert "cp949" in str(err.value) and "김민수" not in str(err.value) and "('" not in str(err.value)
