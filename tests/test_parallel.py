"""csatlib.run.parallel: a computation in a forked child gives what the same call gives here."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from csatlib.analysis.drivers import DriversSkipped
from csatlib.errors import InputError, NotebookFailed, ValidationBlocked
from csatlib.run.parallel import ForkedCall, can_fork
from csatlib.stats.moments import DegenerateDataError
from csatlib.stats.pls import PLSError

pytestmark = pytest.mark.skipif(not can_fork(), reason="no fork start method or a single core here")


def _pid_and_sum(values):
    return os.getpid(), float(np.sum(values))


def _raise(exc):
    raise exc


class _Unpicklable(ValueError):
    def __init__(self, message, extra):
        super().__init__(message)
        self.extra = extra


def test_the_child_computes_on_the_inherited_rows_and_sends_the_value_back():
    values = np.arange(1_000_000, dtype=float)
    call = ForkedCall(_pid_and_sum, values)
    pid, total = call.result()
    assert call.forked and pid != os.getpid()  # it ran in another process
    assert total == float(values.sum())


@pytest.mark.parametrize("exc", [DriversSkipped("Key drivers: too few rows.", "rows"),
                                 DegenerateDataError("collinear: a, b", "collinear", ("a", "b")),
                                 PLSError("zero variance: x", "zero variance", ["x"]),
                                 InputError("wave.csv", "no such file"),
                                 ValidationBlocked("blocked", ["row count"]), NotebookFailed("failed", "nb.ipynb"),
                                 np.linalg.LinAlgError("Singular matrix")], ids=lambda e: type(e).__name__)
def test_an_error_in_the_child_is_raised_here_with_its_attributes(exc):
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is type(exc) and str(again) == str(exc) and vars(again) == vars(exc)
    with pytest.raises(type(exc)) as caught:
        ForkedCall(_raise, exc).result()
    assert str(caught.value) == str(exc) and vars(caught.value) == vars(exc)


def test_what_cannot_come_back_is_computed_here_instead():
    """An exception whose class cannot be rebuilt from a pickle: the call runs in this process."""
    with pytest.raises(_Unpicklable) as caught:
        ForkedCall(_raise, _Unpicklable("not picklable", 1)).result()
    assert caught.value.extra == 1


def test_without_a_child_the_call_runs_here(monkeypatch):
    monkeypatch.setenv("CSAT_PARALLEL", "0")
    call = ForkedCall(_pid_and_sum, [1.0, 2.0])
    assert not call.forked and call.result() == (os.getpid(), 3.0)


def _write_pid_then_sleep(path):
    import time

    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)


def test_cancel_stops_the_child(tmp_path):
    """An interrupted run does not leave its second process behind."""
    import time

    marker = tmp_path / "pid"
    call = ForkedCall(_write_pid_then_sleep, marker)
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(marker.read_text())
    assert pid != os.getpid()
    call.cancel()  # terminates and reaps it
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_each_process_keeps_one_blas_thread_while_both_work():
    before = _blas_threads()
    call = ForkedCall(_blas_threads)
    during = _blas_threads()
    in_child = call.result()
    assert in_child and all(n == 1 for n in in_child) and all(n == 1 for n in during)
    assert _blas_threads() == before  # restored once the result is in
