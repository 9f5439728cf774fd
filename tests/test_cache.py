"""The wave cache: a re-run on an unchanged file is served without validating again, and any
change of the file, the spec, the suite or the wave label validates afresh (validations counted,
never timed)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
import pytest
import yaml

import csatlib.run.stages as stages
from csatlib.run.cache import WaveCache, default_cache, file_sha256
from csatlib.spec import load_spec
from csatlib.validation.suite import suite_path

from .conftest import HOTEL_SPEC, make_hotel_wave

WAVE = "2026-秋"


@pytest.fixture
def validations(monkeypatch):
    """Count the real validations (Great Expectations still runs)."""
    calls = []
    real = stages.validate_wave

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(stages, "validate_wave", counting)
    return calls


@pytest.fixture
def survey(tmp_path):
    spec = tmp_path / "hotel.yaml"
    spec.write_text(HOTEL_SPEC, encoding="utf-8")
    data = tmp_path / "wave.csv"
    make_hotel_wave(n=240).to_csv(data, index=False, encoding="utf-8")
    return spec, data


def test_second_call_is_served_from_the_cache(survey, validations):
    spec, data = survey
    cache = WaveCache()
    first = stages.analyse_file(data, spec, WAVE, cache=cache)
    second = stages.analyse_file(data, spec, WAVE, cache=cache)
    assert len(validations) == 1 and (cache.hits, cache.misses) == (1, 1)
    assert first.to_dict()["estimates"] == second.to_dict()["estimates"]
    assert second.provenance.input["sha256"] == file_sha256(data)
    # no cache: validated every time
    stages.analyse_file(data, spec, WAVE, cache=False)
    assert len(validations) == 2


def test_the_default_cache_is_process_wide(survey, validations):
    spec, data = survey
    default_cache().clear()
    stages.analyse_file(data, spec, WAVE)
    stages.analyse_file(data, spec, WAVE)
    assert len(validations) == 1


def test_any_change_of_a_key_validates_again(survey, validations, tmp_path):
    spec, data = survey
    cache = WaveCache(maxsize=8)
    stages.analyse_file(data, spec, WAVE, cache=cache)
    # the file's bytes (same name, same row count)
    frame = pd.read_csv(data)
    frame.loc[0, "总体满意"] = 1 if frame.loc[0, "总体满意"] != 1 else 2
    frame.to_csv(data, index=False, encoding="utf-8")
    stages.analyse_file(data, spec, WAVE, cache=cache)
    assert len(validations) == 2
    # the spec
    doc = yaml.safe_load(HOTEL_SPEC)
    doc["quality"]["min_base"] = 25
    spec.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    stages.analyse_file(data, spec, WAVE, cache=cache)
    assert len(validations) == 3
    # the wave label
    frame.assign(期="2027-春").to_csv(tmp_path / "spring.csv", index=False, encoding="utf-8")
    stages.analyse_file(tmp_path / "spring.csv", spec, "2027-春", cache=cache)
    assert len(validations) == 4
    # a stored suite, then the same suite edited by hand
    folder = tmp_path / "suites"
    stages.analyse_file(data, spec, WAVE, suite_dir=folder, cache=cache)  # the generated suite: same key
    assert len(validations) == 4
    path = suite_path(load_spec(spec), folder)
    suite = json.loads(path.read_text(encoding="utf-8"))
    suite["expectations"].append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "城市"},
                                  "meta": {}})
    path.write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    stages.analyse_file(data, spec, WAVE, suite_dir=folder, cache=cache)
    assert len(validations) == 5
    # and back to an unchanged combination: served again
    stages.analyse_file(data, spec, WAVE, suite_dir=folder, cache=cache)
    assert len(validations) == 5 and cache.hits == 2


def test_disk_cache_survives_a_new_session_and_ignores_broken_entries(survey, validations, tmp_path):
    spec, data = survey
    folder = tmp_path / "cache"
    first = stages.analyse_file(data, spec, WAVE, cache=WaveCache(folder=folder))
    entries = list(folder.glob("*.pkl"))
    assert len(entries) == 1 and not list(folder.glob("*.tmp"))
    fresh = WaveCache(folder=folder)  # a new notebook session
    again = stages.analyse_file(data, spec, WAVE, cache=fresh)
    assert len(validations) == 1 and fresh.hits == 1
    assert again.to_dict()["estimates"] == first.to_dict()["estimates"]
    entries[0].write_bytes(b"truncated")
    stages.analyse_file(data, spec, WAVE, cache=WaveCache(folder=folder))
    assert len(validations) == 2


def test_callers_cannot_change_what_the_cache_holds(survey):
    spec, data = survey
    cache = WaveCache()
    sp = load_spec(spec)
    from csatlib.validation.suite import build_suite

    key = cache.key(data, sp, build_suite(sp), WAVE)
    loaded, validation = stages.validate_file(data, sp, WAVE, False)
    cache.put(key, loaded, validation)
    _, got = cache.get(key)
    got.clean["总体满意"] = 0
    got.clean["extra"] = 1
    _, again = cache.get(key)
    assert "extra" not in again.clean and (again.clean["总体满意"] > 0).all()
    assert cache.get("no such key") is None and cache.misses == 1


def test_least_recently_used_entries_are_dropped():
    cache = WaveCache(maxsize=2)
    frames = [(_Stub(), _StubValidation()) for _ in range(3)]
    for i, (a, b) in enumerate(frames):
        cache.put(str(i), a, b)
    assert len(cache) == 2 and cache.get("0") is None and cache.get("2") is not None


@dataclass
class _Stub:
    """The smallest stand-ins with the fields the cache copies."""

    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"a": [1]}))


@dataclass
class _StubValidation:
    clean: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"a": [1]}))
    quarantine: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"a": []}))
