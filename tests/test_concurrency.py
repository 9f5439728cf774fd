"""csatlib.concurrency: column work in threads gives exactly what one column after another gives."""
from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pandas as pd
import pytest

from csatlib.concurrency import import_in_background, in_background, map_in_threads, thread_count
from csatlib.ingest.load import read_wave
from csatlib.spec import load_spec

from .conftest import DATA, SAMPLE_SPEC

several_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a single core: nothing runs in threads")


def test_results_come_back_in_the_order_of_the_inputs():
    items = list(range(200))
    assert map_in_threads(lambda x: x * x, items) == [x * x for x in items]
    assert map_in_threads(lambda x: x, []) == []


@several_cores
def test_calls_run_in_other_threads_while_meanwhile_runs_here():
    here = threading.get_ident()
    ran_in, meanwhile_in = [], []
    out = map_in_threads(lambda x: ran_in.append(threading.get_ident()) or x + 1, [1, 2, 3],
                         meanwhile=lambda: meanwhile_in.append(threading.get_ident()))
    assert out == [2, 3, 4]
    assert meanwhile_in == [here] and here not in ran_in


def test_one_thread_when_parallel_work_is_turned_off(monkeypatch):
    monkeypatch.setenv("CSAT_PARALLEL", "0")
    assert thread_count() == 1
    here = threading.get_ident()
    order = []
    out = map_in_threads(lambda x: order.append(("call", threading.get_ident() == here)) or x, [1, 2],
                         meanwhile=lambda: order.append(("meanwhile", True)))
    assert out == [1, 2] and order == [("meanwhile", True), ("call", True), ("call", True)]


def test_the_first_failing_call_in_input_order_is_raised():
    def fail_on_odd(x):
        if x % 2:
            raise ValueError(f"odd {x}")
        return x

    with pytest.raises(ValueError, match="odd 1"):
        map_in_threads(fail_on_odd, [0, 1, 2, 3, 4, 5])


def test_a_failure_meanwhile_is_raised_after_the_calls_stop():
    started = []

    def meanwhile():
        raise KeyError("meanwhile")

    with pytest.raises(KeyError, match="meanwhile"):
        map_in_threads(started.append, range(10), meanwhile=meanwhile)
    assert not any(t.name.startswith("csat-column") for t in threading.enumerate())  # no thread left behind


@pytest.mark.parametrize("parallel", ["1", "0"])
def test_work_in_background_gives_its_value_or_raises_its_exception(monkeypatch, parallel):
    monkeypatch.setenv("CSAT_PARALLEL", parallel)
    assert in_background(sorted, [3, 1, 2])() == [1, 2, 3]
    failing = in_background(int, "not a number")
    with pytest.raises(ValueError, match="not a number"):
        failing()


def test_import_in_background_imports_and_skips_what_is_imported():
    assert import_in_background("os", "numpy") is None
    sys.modules.pop("colorsys", None)
    thread = import_in_background("colorsys")
    assert thread is not None
    thread.join(30)
    assert "colorsys" in sys.modules


def _planted_wave(tmp_path):
    """The sample wave with cells that every column conversion handles differently: e-mails and
    phone numbers in comments (redacted), full-width and spaced numbers (normalised), missing-value
    tokens, text in a rating."""
    frame = pd.read_csv(DATA / "retail_2026Q3.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(11)
    rows = rng.choice(len(frame), 80, replace=False)
    frame.loc[rows[:10], "comment"] = [f"mail me at user{i}@example.com or call 138 0013 80{i:02d}" for i in range(10)]
    frame.loc[rows[10:20], "overall_sat"] = "８"
    frame.loc[rows[20:25], "recommend"] = " 9 "
    frame.loc[rows[25:30], "p_price"] = "N/A"
    frame.loc[rows[30:35], "p_quality"] = "很好"
    frame.loc[rows[35:40], "weight"] = "1,5"
    path = tmp_path / "planted.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_wave_read_in_threads_equals_one_read_column_after_column(tmp_path, monkeypatch):
    path = _planted_wave(tmp_path)
    spec = load_spec(SAMPLE_SPEC)
    threaded = read_wave(path, spec)
    monkeypatch.setenv("CSAT_PARALLEL", "0")
    serial = read_wave(path, spec)
    pd.testing.assert_frame_equal(threaded.frame, serial.frame)
    pd.testing.assert_frame_equal(threaded.raw, serial.raw)
    assert threaded.notes == serial.notes and threaded.normalised == serial.normalised
    # the comparison covers every kind of conversion
    assert threaded.normalised.get("overall_sat", 0) >= 10
    comments = threaded.raw["comment"].astype(str)
    assert not comments.str.contains("@example.com").any() and comments.str.contains("user").sum() == 0
