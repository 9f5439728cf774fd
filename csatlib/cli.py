"""The ``csat`` command line (docs/cli.md).

Exit codes: 0 success; 1 the data failed a blocking expectation (validation.json and
quarantine.csv are still written); 2 bad usage or unreadable input (one line on stderr naming
the file and the problem, no traceback); 3 a notebook failed (the partial notebook is kept and
named). Progress goes to stderr, one line per stage, so stdout stays clean for scripts.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import warnings
from pathlib import Path

from .errors import CsatError, first_line
from .run.publish import LEDGER  # light (standard library only): the signal handler needs it

__all__ = ["main", "entry"]


def _say(line: str) -> None:
    """One line on stderr. When nobody reads stderr any more (a log pipe closed, ``csat run ... 2>&1 |
    head``), it is pointed at the null device and the run goes on: a progress line is not worth a
    report, and the exit code still says how the run ended."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stderr.fileno())  # what the stream still holds is flushed there too
            os.close(devnull)
        except (OSError, ValueError):
            pass


class _Progress:
    """``csat: [label] message (1.2 s)`` lines on stderr."""

    def __init__(self, label: str, quiet: bool = False):
        self.label, self.quiet, self.t0 = label, quiet, time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            _say(f"csat: [{self.label}] {message} ({time.perf_counter() - self.t0:.1f} s)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="csat", description="CSAT survey research: validate a wave, compute KPIs "
                                "and models, render an HTML report. Exit codes: 0 ok, 1 data blocked by "
                                "validation, 2 bad usage or unreadable input, 3 notebook failed.")
    p.add_argument("--version", action="version", version=f"csat {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp, data=True, wave=True):
        if data:
            sp.add_argument("--data", required=True, help="survey file: csv, xlsx, sav or parquet")
        sp.add_argument("--spec", required=True, help="survey spec (YAML)")
        if wave:
            sp.add_argument("--wave", required=True, help="wave label, e.g. 2026Q3")
        sp.add_argument("--expectations", default=None, metavar="DIR",
                        help="folder of stored expectation suites (default: expectations/ beside the spec)")
        sp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
        if wave:
            sp.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                            help="how long to wait for another run writing the same wave (default 600)")

    d = sub.add_parser("demo", help="sample data -> full reports of both sample waves and the index")
    d.add_argument("--out", default="reports", help="output folder (default: reports/)")
    d.add_argument("--quiet", action="store_true")

    r = sub.add_parser("run", help="validate, analyse and render the report of one wave")
    common(r)
    r.add_argument("--previous", help="earlier wave: its data file, or a reports/<wave>/ folder of an earlier run")
    r.add_argument("--out", default="reports", help="output folder (default: reports/)")
    r.add_argument("--notebook", help="a custom report notebook taking the same parameters "
                                      "(default: the report notebook shipped with csatlib)")

    v = sub.add_parser("validate", help="write validation.json and quarantine.csv only")
    common(v)
    v.add_argument("--out", default="reports", help="output folder (default: reports/)")

    b = sub.add_parser("batch", help="one report per value of a column, rendered on Dask")
    common(b)
    b.add_argument("--by", required=True, metavar="COLUMN", help="column whose values get one report each")
    b.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default: a LocalCluster "
                                                           "sized to this machine)")
    b.add_argument("--previous", help="earlier wave: its data file, or an earlier run's reports/<wave>/ folder")
    b.add_argument("--out", default="reports", help="output folder (default: reports/)")
    b.add_argument("--force", action="store_true", help="re-render segments whose output is already complete")
    b.add_argument("--notebook", help="a custom report notebook taking the same parameters")

    t = sub.add_parser("tables", help="banner tables (crosstabs with column letters): banner.xlsx, banner.csv, "
                                      "banner.html")
    common(t)
    t.add_argument("--banner", metavar="COL[,COL...]", help="banner columns (default: the spec's banner:, else its "
                                                           "segments)")
    t.add_argument("--out", default="reports", help="output folder (default: reports/)")

    e = sub.add_parser("expectations", help="(re)build the Great Expectations suite of a spec")
    common(e, data=False, wave=False)
    return p


def _version() -> str:
    from . import __version__

    return __version__


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT, raised in the main thread so that every ``finally`` (staging folders,
    locks, kernels, the Dask cluster) runs before the command exits 143 or 130."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    """Where the command is: ``start`` (handlers installed, nothing to unwind), ``running`` (inside
    :func:`main`'s error handling), ``done`` (the command's work is over)."""

    phase = "start"
    caught: int | None = None


def _signal_exit(signum: int) -> tuple[int, str]:
    """Exit code and the one stderr line for a signal: what was and was not published."""
    what = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted (SIGINT)"
    return (143 if signum == signal.SIGTERM else 130), f"csat: {what}; {LEDGER.describe()}"


def _on_signal(signum, frame):
    """SIGTERM/SIGINT: raise :class:`Interrupted` while a command runs (unless a folder switch is
    in progress: it completes first, see :meth:`csatlib.run.publish.Ledger.critical`); before or
    after the command's work there is nothing to unwind, so say what was published and exit."""
    if _State.caught is not None:
        return  # already unwinding after a first signal: let the clean-up finish
    if LEDGER.defer(signum):
        return
    _State.caught = signum
    if _State.phase == "running":
        raise Interrupted(signum)
    code, line = _signal_exit(signum)
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os.write(2, (line + "\n").encode("utf-8", "replace"))
    os._exit(code)


def _dispatch(args) -> None:
    """Run one command; heavy modules are imported only here, after the signal handlers exist."""
    from .run.wave import check_run_inputs, run_demo, run_wave, validate_command

    progress = _Progress(getattr(args, "wave", None) or args.command, args.quiet)
    if args.command == "demo":
        check_run_inputs(out=args.out)
        run_demo(args.out, progress=lambda message: progress(message))
        progress(f"demo done: open {Path(args.out) / 'index.html'}")
    elif args.command == "run":
        run_wave(args.data, args.spec, args.wave, args.out, args.previous, args.expectations, progress,
                 notebook=args.notebook, wait=args.wait)
    elif args.command == "validate":
        target = validate_command(args.data, args.spec, args.wave, args.out, args.expectations, progress, args.wait)
        progress(f"validation passed; wrote {target / 'validation.json'}")
    elif args.command == "batch":
        from .run.batch import run_batch

        summary = run_batch(args.data, args.spec, args.wave, args.by, args.out, args.scheduler, args.previous,
                            args.expectations, args.force, args.notebook, progress, wait=args.wait)
        progress(summary.describe())
        summary.raise_for_failures()
    elif args.command == "tables":
        from .run.tables import tables_command

        tables_command(args.data, args.spec, args.wave, args.out, args.banner, args.expectations, progress, args.wait)
    elif args.command == "expectations":
        from .spec import load_spec
        from .validation.suite import ensure_suite

        _say(ensure_suite(load_spec(args.spec), args.expectations).describe())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csat`` console script; returns the exit code.

    As the process's entry point (``argv`` None: the console script, ``python -m csatlib.cli``)
    the signal handlers stay installed to the end, so a signal at any moment exits 143/130 with
    a message; called from Python with an ``argv`` list, the caller's handlers are restored.
    """
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    LEDGER.reset()
    _State.phase, _State.caught = "start", None
    signal.signal(signal.SIGTERM, _on_signal)  # first, before any heavy import
    signal.signal(signal.SIGINT, _on_signal)
    if not os.environ.get("CSAT_DEBUG"):
        # stderr carries progress lines and at most one error line: library warnings are not for it
        warnings.filterwarnings("ignore")
    try:
        _State.phase = "running"
        args = _parser().parse_args(argv)
        _dispatch(args)
        return 0
    except CsatError as exc:
        _State.phase = "done"
        _say(f"csat: error: {first_line(exc, 2000)}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        _State.phase = "done"
        code, line = _signal_exit(getattr(exc, "signum", signal.SIGINT))
        _say(line)
        return code
    except MemoryError:
        _State.phase = "done"
        _say("csat: error: out of memory")
        return 2
    except Exception as exc:  # a bug: one line, traceback only when asked for
        _State.phase = "done"
        if os.environ.get("CSAT_DEBUG"):
            raise
        _say(f"csat: internal error: {type(exc).__name__}: {first_line(exc)} (set CSAT_DEBUG=1 for a traceback)")
        return 2
    finally:
        _State.phase = "done"
        if argv is not None:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)


def entry() -> None:
    """The process's entry point (the ``csat`` console script, ``python -m csatlib.cli``).

    Runs :func:`main`, then ends the process without the interpreter's teardown: after a run, the
    final garbage collection and the clearing of every imported module (pandas, statsmodels,
    Great Expectations, ...) take about a second and change nothing. Every output is already
    published atomically by then; the ``atexit`` handlers still run (temporary folders, child
    processes) and the standard streams are flushed. When another non-daemon thread is still
    alive, the process ends the usual way, so that thread is not cut short.
    """
    import atexit
    import threading

    code = main()
    if any(t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
