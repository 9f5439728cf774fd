"""Spec parsing: the contract's errors name the key path; any Unicode works."""
from __future__ import annotations

import pytest
import yaml

from csatlib.errors import SpecError
from csatlib.spec import load_spec, parse_spec

from .conftest import HOTEL_SPEC, SAMPLE_SPEC

BASE = {"name": "s", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8}}


def spec_with(**changes):
    doc = {**BASE, **changes}
    return parse_spec(doc)


def test_sample_spec_parses():
    spec = load_spec(SAMPLE_SPEC)
    assert spec.name == "retail-csat"
    assert spec.satisfaction.top_box == 8
    assert [d.name for d in spec.dimensions][:2] == ["product_quality", "service_quality"]
    assert spec.quality.max_quarantine_share == 0.2  # the default
    assert spec.categories["region"][0] == "华东"


def test_unicode_spec_parses():
    spec = parse_spec(yaml.safe_load(HOTEL_SPEC))
    assert spec.id == "编号"
    assert spec.dimensions[2].expectation is None and not spec.dimensions[2].has_gap
    assert [d.name for d in spec.gap_dimensions] == ["清洁", "服务"]


@pytest.mark.parametrize("doc, message", [
    ({**BASE, "colour": 1}, "unknown key 'colour'"),
    ({**BASE, "dimensions": {"price": {"perception": "p", "scale": [1, 7], "scal": 1}}},
     "unknown key 'dimensions.price.scal'"),
    ({**BASE, "quality": {"min_bse": 3}}, "unknown key 'quality.min_bse'"),
    ({**BASE, "satisfaction": {"column": "sat", "scale": [10, 1], "top_box": 8}}, "satisfaction.scale is inverted"),
    ({**BASE, "dimensions": {"price": {"perception": "p", "scale": [7, 7]}}}, "dimensions.price.scale is inverted"),
    ({**BASE, "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 11}}, "top_box 11 is outside the scale"),
    ({**BASE, "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 1}}, "top_box 1 is outside the scale"),
    ({**BASE, "satisfaction": {"column": "sat", "scale": "1-10", "top_box": 8}}, "satisfaction.scale must be a list"),
    ({**BASE, "satisfaction": {"column": "sat", "scale": [1, "ten"], "top_box": 8}}, "satisfaction.scale[1] must be a number"),
    ({**BASE, "weight": "sat"}, "column 'sat' is used twice: weight and satisfaction.column"),
    ({**BASE, "nps": {"column": "rid", "scale": [0, 10]}}, "column 'rid' is used twice"),
    ({**BASE, "nps": {"column": "rec", "scale": [1, 10]}}, "nps.scale must be [0, 10]"),
    ({**BASE, "segments": "region", "quality": {"min_base": 0}}, "quality.min_base must be >= 1"),
    ({**BASE, "quality": {"max_quarantine_share": 1.5}}, "quality.max_quarantine_share must be <= 1"),
    ({**BASE, "quality": {"min_duration_s": 60}}, "needs a duration column"),
    ({**BASE, "loyalty": {"column": "x"}}, "loyalty must be a list"),
    ({**BASE, "categories": {"channel": []}}, "categories.channel must be a non-empty list"),
    ({"name": "s", "id": "rid"}, "satisfaction is required"),
    ({**BASE, "name": ""}, "name must be non-empty text"),
    ([1, 2], "must be a mapping"),
])
def test_spec_errors_name_the_problem(doc, message):
    with pytest.raises(SpecError, match=None) as err:
        parse_spec(doc)
    assert message in str(err.value)


def test_empty_file_is_an_empty_questionnaire(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("", encoding="utf-8")
    with pytest.raises(SpecError, match="empty"):
        load_spec(p)


def test_duplicate_yaml_keys_are_refused(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("name: a\nname: b\nid: x\nsatisfaction: {column: s, scale: [1, 5], top_box: 4}\n")
    with pytest.raises(SpecError, match="duplicate key 'name'"):
        load_spec(p)


def test_python_object_tags_are_refused(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(SpecError, match="invalid YAML"):
        load_spec(p)


def test_missing_spec_file_names_it(tmp_path):
    with pytest.raises(SpecError, match="nope.yaml: cannot read spec"):
        load_spec(tmp_path / "nope.yaml")


def test_spec_is_immutable():
    spec = spec_with()
    with pytest.raises(Exception):
        spec.name = "x"


def test_fingerprint_changes_with_content():
    assert spec_with().fingerprint() != spec_with(weight="w").fingerprint()
    assert spec_with().fingerprint() == spec_with().fingerprint()


def test_yaml_labels_yes_no_off_stay_text(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: s\nsatisfaction: {column: sat, type: binary, positive: [Yes, On], negative: [No]}\n"
                 "quality: {straightline: off}\nweight: w\n", encoding="utf-8")
    spec = load_spec(p)
    assert spec.satisfaction.positive == ("Yes", "On") and spec.satisfaction.negative == ("No",)
    assert spec.quality.straightline == "off"
    assert spec.id is None  # optional: rows are numbered
    assert parse_spec({**BASE, "quality": {"straightline": False}}).quality.straightline == "off"


def test_roles_of_new_keys_and_required_columns():
    spec = spec_with(
        codes={"not_applicable": [0], "dont_know": ["Don't know"]},
        nps={"column": "rec", "scale": [0, 10]},
        loyalty=[{"column": "sw", "scale": [1, 10], "reverse": True}],
        dimensions={"img": {"items": ["i1", "i2", "i3"], "scale": [1, 7], "expectation": "e1",
                            "codes": {"refused": [99]}}},
        screen_out={"column": "usage", "values": ["Never"]},
        bands={"age": [18, 30]},
        multiple_response={"kinds": {"column": "k", "delimiter": ";"}})
    roles = spec.roles()
    assert roles["i2"] == "dimensions.img.items[1]" and roles["usage"] == "screen_out"
    assert roles["age"] == "bands.age" and roles["k"] == "multiple_response.kinds"
    assert set(spec.required_columns()) >= {"sat", "rec", "sw", "i1", "i2", "i3", "e1", "usage", "age", "k"}
    assert spec.segments == ("age",)
    assert spec.answer("sw").reverse and not spec.answer("sat").reverse
    # survey-wide 0 applies on 1-7 but not on the 0-10 recommend scale; the dimension's refused
    # list replaces the survey-wide one (none) and don't know is inherited
    assert spec.answer("i1").codes.not_applicable == (0,) and spec.answer("rec").codes.not_applicable == ()
    assert spec.answer("e1").codes.refused == (99,) and spec.answer("e1").codes.dont_know == ("Don't know",)
    assert spec.straightline_columns() == ["i1", "i2", "i3", "e1"]
    assert spec_with(**{"id": None}).id is None
