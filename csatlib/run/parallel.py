"""One computation in a second process, so a run's independent analyses share the machine's cores.

A run's analyses are pure functions of the clean rows, and CPython runs one thread at a time:
on a two-core machine the loyalty models and the key drivers can run in a forked child while
this process computes the KPIs and the gaps. :class:`ForkedCall` forks (the child inherits the
rows, nothing is copied or pickled on the way in), and the child sends back only its result,
pickled. The numbers are the same as in one process: the same code runs on the same rows with
the same seeds.

Whenever a child cannot be used, the call simply runs in this process when its result is
asked for: no ``fork`` start method (Windows, macOS defaults), a daemonic process (a Dask
worker may not have children), a single core, ``CSAT_PARALLEL=0``, or a child that died or
whose result (or exception) cannot be pickled.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
from typing import Any, Callable

__all__ = ["ForkedCall", "can_fork"]


def can_fork() -> bool:
    """Whether a computation may run in a forked child here (see the module's notes)."""
    if os.environ.get("CSAT_PARALLEL", "").strip() == "0":
        return False
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return False
    return not multiprocessing.current_process().daemon


def _child(send, fn: Callable, args: tuple, kwargs: dict) -> None:
    """Runs in the forked child: compute, send ``(ok, value or exception)`` pickled, or nothing."""
    from threadpoolctl import threadpool_limits

    for signum in (signal.SIGTERM, signal.SIGINT):  # a signal ends the child quietly; the parent unwinds
        signal.signal(signum, signal.SIG_DFL)
    try:
        with threadpool_limits(limits=1):
            outcome = (True, fn(*args, **kwargs))
    except Exception as exc:
        outcome = (False, exc)
    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)  # an exception whose class cannot be rebuilt is not sent: the parent recomputes
    except Exception:
        return
    send.send_bytes(data)


class ForkedCall:
    """``fn(*args, **kwargs)`` started now in a forked child; :meth:`result` returns its value or
    raises its exception, as calling ``fn`` here would.

    While the child works, each process keeps its BLAS to one thread (threadpoolctl): two
    processes each running a two-thread BLAS on two cores thrash (measured: a million-row run's
    analyses took 10 s in parallel against 6.6 s with one thread each). :meth:`result` restores
    this process's threads; call :meth:`cancel` in a ``finally`` for when the caller fails first.

    >>> call = ForkedCall(sum, [1, 2, 3])
    >>> call.result()
    6
    """

    def __init__(self, fn: Callable, *args: Any, **kwargs: Any):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self._process = self._receive = self._limits = None
        self.forked = can_fork()
        if not self.forked:
            return
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(limits=1)  # this process's share while the child runs
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):  # the child must not write the parent's buffered text again
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            self._process = context.Process(target=_child, args=(send, fn, args, kwargs), daemon=True,
                                            name=f"csat-{getattr(fn, '__name__', 'call')}")
            self._process.start()
        except OSError:  # no more processes allowed: compute here
            self._receive.close()
            self._process = self._receive = None
            self.forked = False
            self._restore_threads()
        finally:
            send.close()

    def result(self) -> Any:
        """The value (raising the exception) of the call: the child's, else computed here."""
        outcome = None
        if self._process is not None:
            try:
                outcome = pickle.loads(self._receive.recv_bytes())
            except (EOFError, OSError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
                outcome = None  # the child died or sent nothing: compute here
            finally:
                self._close()
        if outcome is None:
            return self.fn(*self.args, **self.kwargs)
        ok, value = outcome
        if ok:
            return value
        raise value

    def cancel(self) -> None:
        """Stop the child (when the run is interrupted or failed meanwhile); nothing once the
        result was taken."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._close()
        self._restore_threads()

    def _close(self) -> None:
        try:
            self._receive.close()
        finally:
            self._process.join()
            self._process.close()
            self._process = None
            self._restore_threads()

    def _restore_threads(self) -> None:
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None
