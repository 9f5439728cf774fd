"""The stored expectation suite: where it lives, and that a new suite builder rebuilds it
(csatlib.validation.suite)."""
from __future__ import annotations

import os

import pytest

from csatlib.errors import SpecError
from csatlib.spec import load_spec, parse_spec
from csatlib.validation.suite import default_suite_dir, ensure_suite, read_suite, suite_path, write_suite

from .conftest import HOTEL_SPEC


@pytest.fixture()
def spec_file(tmp_path):
    path = tmp_path / "specs" / "hotel.yaml"
    path.parent.mkdir()
    path.write_text(HOTEL_SPEC, encoding="utf-8")
    return path


def test_the_suite_lives_beside_the_spec_whatever_the_working_directory(spec_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = load_spec(spec_file)
    assert default_suite_dir(spec) == spec_file.parent.resolve() / "expectations"
    update = ensure_suite(spec)
    assert update.action == "created" and update.path.parent == spec_file.parent.resolve() / "expectations"
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    relative = load_spec(os.path.relpath(spec_file, other))
    assert ensure_suite(relative).path == update.path and ensure_suite(relative).action == "unchanged"


def test_a_spec_built_in_memory_has_no_default_suite_folder():
    with pytest.raises(SpecError, match="no folder"):
        default_suite_dir(parse_spec({"name": "x", "id": "id", "satisfaction": {"column": "s", "scale": [1, 5],
                                                                                 "top_box": 4}}))


def test_a_suite_from_an_older_builder_is_rebuilt_and_says_so(spec_file):
    spec = load_spec(spec_file)
    path = ensure_suite(spec).path
    stored = read_suite(path)
    stored["meta"]["csat"]["builder_fingerprint"] = "an-older-builder"
    write_suite(stored, path)
    update = ensure_suite(spec)
    assert update.action.startswith("rebuilt") and "builder" in update.action, update.describe()
    assert ensure_suite(spec).action == "unchanged"
    assert suite_path(spec) == path
