"""Validation with Great Expectations: exact reasons, accounting, blocking, stored suites."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from csatlib.validation.suite import build_suite, ensure_suite, read_suite, suite_path, write_suite
from csatlib.ingest.load import read_wave
from csatlib.spec import parse_spec
from csatlib.validation.check import REASONS_COLUMN, validate_wave, write_validation

SPEC = """
name: v-test
id: rid
wave: wave
weight: w
segments: [channel]
categories: {channel: [web, shop]}
satisfaction: {column: sat, scale: [1, 5], top_box: 4}
nps: {column: rec, scale: [0, 10]}
dimensions:
  a: {perception: pa, expectation: ea, scale: [1, 5]}
  b: {perception: pb, expectation: eb, scale: [1, 5]}
text: [note]
pii: [mail]
duration: secs
quality: {min_duration_s: 60, min_base: 5, max_quarantine_share: 0.5, max_straightline_share: 0.3}
"""


def clean_frame(n: int = 40, wave: str = "W1") -> pd.DataFrame:
    rng = np.random.default_rng(1)
    pa = rng.integers(1, 6, n)
    pb = rng.integers(1, 6, n)
    return pd.DataFrame({
        "rid": [f"r{i}" for i in range(n)], "wave": wave, "w": rng.uniform(0.5, 2, n).round(3),
        "channel": rng.choice(["web", "shop"], n), "sat": rng.integers(1, 6, n).astype(object),
        "rec": rng.integers(0, 11, n), "pa": pa, "ea": pa % 5 + 1, "pb": pb, "eb": pb % 5 + 1,
        "note": "ok", "mail": "x@y.com", "secs": rng.integers(100, 900, n),
    })


@pytest.fixture
def spec():
    return parse_spec(yaml.safe_load(SPEC))


def validate(tmp_path, spec, frame, wave="W1", suite=None):
    path = tmp_path / "wave.csv"
    frame.to_csv(path, index=False)
    return validate_wave(read_wave(path, spec), wave, suite or build_suite(spec))


def test_clean_wave_passes(tmp_path, spec):
    res = validate(tmp_path, spec, clean_frame())
    assert not res.blocked and res.rows_quarantined == 0 and res.rows_clean == 40


def test_every_row_level_reason(tmp_path, spec):
    f = clean_frame()
    f.loc[0, "sat"] = 6
    f.loc[1, "sat"] = "abc"
    f.loc[2, "sat"] = np.nan
    f.loc[3, "channel"] = "fax"
    f.loc[4, "w"] = 0
    f.loc[5, "w"] = np.nan
    f.loc[6, "secs"] = 12
    f.loc[7, ["pa", "ea", "pb", "eb"]] = 3
    f.loc[8, "sat"] = 9
    f.loc[8, "secs"] = 5
    f.loc[9, "rec"] = 11
    f.loc[10, "w"] = -1.5
    f.loc[11, "w"] = np.inf
    res = validate(tmp_path, spec, f)
    reasons = dict(zip(res.quarantine["rid"], res.quarantine[REASONS_COLUMN]))
    assert reasons == {
        "r0": "sat: 6 outside 1-5",
        "r1": "sat: 'abc' is not a number",
        "r2": "sat: missing",
        "r3": "channel: 'fax' not in allowed values",
        "r4": "w: weight 0 is not a positive finite number",
        "r5": "w: weight missing",
        "r6": "speeder: 12s < 60s",
        "r7": "straight-liner: same answer to all 4 items",
        "r8": "sat: 9 outside 1-5; speeder: 5s < 60s",
        "r9": "rec: 11 outside 0-10",
        "r10": "w: weight -1.5 is not a positive finite number",
        "r11": "w: weight inf is not a positive finite number",
    }
    assert not res.blocked
    assert res.rows_read == res.rows_clean + res.rows_quarantined == 40
    assert set(res.clean["rid"]).isdisjoint(reasons)
    counts = {(r["reason"], r["column"]): r["rows"] for r in res.reason_counts().to_dict("records")}
    assert counts[("answer outside its scale", "sat")] == 2
    assert counts[("speeder (interview too short)", "secs")] == 2
    assert counts[("weight missing or not > 0", "w")] == 4


def test_quarantine_keeps_rows_as_read_without_pii(tmp_path, spec):
    f = clean_frame()
    f.loc[1, "sat"] = "abc"
    res = validate(tmp_path, spec, f)
    vpath, qpath = write_validation(res, tmp_path / "out")
    raw = qpath.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    q = pd.read_csv(qpath, encoding="utf-8-sig", dtype=str)
    assert q.loc[0, "sat"] == "abc" and "mail" not in q.columns
    assert not any(c.startswith("_csat_") for c in q.columns)
    doc = json.loads(vpath.read_text(encoding="utf-8"))
    assert doc["rows"] == {"read": 40, "clean": 39, "quarantined": 1, "screened_out": 0}
    failed = [e for e in doc["expectations"] if not e["success"]]
    assert [(e["type"], e["column"], e["severity"], e["unexpected_count"]) for e in failed] == [
        ("expect_column_values_to_match_regex", "sat [as text]", "row", 1)]
    assert all({"type", "column", "severity", "success", "unexpected_count", "unexpected_percent"} <= set(e)
               for e in doc["expectations"])


@pytest.mark.parametrize("mutate, wave, expected", [
    (lambda f: f.__setitem__("rid", ["dup"] * 2 + list(f["rid"][2:])), "W1", "2 rows share an id"),
    (lambda f: None, "W2", "40 rows carry a wave label other than 'W2'"),
    (lambda f: f.__setitem__("sat", [9] * 37 + [3] * 3), "W1", "only 3 clean rows, fewer than min_base 5"),
    (lambda f: f.__setitem__("sat", [9] * 25 + [3] * 15), "W1", "25 of 40 rows quarantined (62.5%)"),
    (lambda f: [f.__setitem__(c, [3] * 14 + list(f[c][14:])) for c in ("pa", "ea", "pb", "eb")], "W1",
     "14 straight-liners (35.0%), above max_straightline_share 30%"),
])
def test_blocking_failures(tmp_path, spec, mutate, wave, expected):
    f = clean_frame()
    mutate(f)
    res = validate(tmp_path, spec, f, wave=wave)
    assert res.blocked
    assert any(expected in b for b in res.blocking), res.blocking
    assert res.rows_read == res.rows_clean + res.rows_quarantined


def test_straightliners_under_the_share_only_quarantine(tmp_path, spec):
    f = clean_frame()
    for c in ("pa", "ea", "pb", "eb"):
        f.loc[:3, c] = 2
    res = validate(tmp_path, spec, f)
    assert not res.blocked and res.rows_quarantined == 4


def test_suite_is_stored_with_stable_order_and_reloads(tmp_path, spec):
    update = ensure_suite(spec, tmp_path)
    assert update.action == "created" and update.path == suite_path(spec, tmp_path)
    text = update.path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert read_suite(update.path) == update.suite
    assert ensure_suite(spec, tmp_path).action == "unchanged"


def test_hand_edited_suite_takes_effect_and_survives_a_spec_change(tmp_path, spec):
    update = ensure_suite(spec, tmp_path)
    suite = json.loads(update.path.read_text(encoding="utf-8"))
    for e in suite["expectations"]:
        if e["meta"]["csat"]["key"] == "scale:sat":
            e["kwargs"]["max_value"] = 4  # a tighter range, by hand
    suite["expectations"].append({"type": "expect_column_values_to_be_between",
                                  "kwargs": {"column": "rec", "min_value": 2}, "meta": {}})
    write_suite(suite, update.path)
    f = clean_frame()
    f["sat"] = 3
    f.loc[0, "sat"] = 5
    f["rec"] = 5
    f.loc[1, "rec"] = 1
    res = validate(tmp_path, spec, f, suite=ensure_suite(spec, tmp_path).suite)
    reasons = dict(zip(res.quarantine["rid"], res.quarantine[REASONS_COLUMN]))
    assert reasons == {"r0": "sat: 5 outside 1-4", "r1": "rec: 1 fails expect_column_values_to_be_between"}

    changed = parse_spec({**yaml.safe_load(SPEC), "loyalty": [{"column": "again", "scale": [1, 3]}]})
    rebuilt = ensure_suite(changed, tmp_path)
    assert rebuilt.action.startswith("rebuilt")
    notes = "; ".join(rebuilt.changes)
    assert "added scale:again" in notes and "kept hand-edited scale:sat" in notes
    assert "kept hand-added expect_column_values_to_be_between(rec)" in notes
    kept = [e for e in rebuilt.suite["expectations"] if e["meta"].get("csat", {}).get("key") == "scale:sat"]
    assert kept[0]["kwargs"]["max_value"] == 4


def test_removed_item_is_reported(tmp_path, spec):
    ensure_suite(spec, tmp_path)
    doc = yaml.safe_load(SPEC)
    del doc["nps"]
    rebuilt = ensure_suite(parse_spec(doc), tmp_path)
    assert "removed scale:rec" in rebuilt.changes


def test_broken_stored_suite_is_a_clear_error(tmp_path, spec):
    path = suite_path(spec, tmp_path)
    path.write_text("{not json", encoding="utf-8")
    from csatlib.errors import SpecError

    with pytest.raises(SpecError, match="cannot read expectation suite"):
        ensure_suite(spec, tmp_path)
