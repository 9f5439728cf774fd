"""The ``csat`` command line (DESIGN "CLI (contract)").

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
from pathlib import Path

from .errors import CsatError, InputError

__all__ = ["main"]

PACKAGE_DIR = Path(__file__).resolve().parent


class _Progress:
    """``csat: [label] message (1.2 s)`` lines on stderr."""

    def __init__(self, label: str, quiet: bool = False):
        self.label, self.quiet, self.t0 = label, quiet, time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"csat: [{self.label}] {message} ({time.perf_counter() - self.t0:.1f} s)", file=sys.stderr,
                  flush=True)


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
        sp.add_argument("--expectations", default="expectations", metavar="DIR",
                        help="folder of stored expectation suites (default: expectations/)")
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
                                      "(default: notebooks/report.ipynb)")

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

    e = sub.add_parser("expectations", help="(re)build the Great Expectations suite of a spec")
    common(e, data=False, wave=False)
    return p


def _version() -> str:
    from . import __version__

    return __version__


def _sample_files() -> tuple[Path, dict[str, Path]]:
    """The shipped sample (data/ of the checkout), generated into a temp folder if absent."""
    from .sample import SAMPLE_WAVES, write_sample

    folder = PACKAGE_DIR.parent / "data"
    spec = folder / "retail-csat.yaml"
    waves = {w: folder / f"retail_{w}.csv" for w in SAMPLE_WAVES}
    if not spec.exists() or not all(p.exists() for p in waves.values()):
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="csat-sample-"))
        write_sample(folder)
        spec = folder / "retail-csat.yaml"
        waves = {w: folder / f"retail_{w}.csv" for w in SAMPLE_WAVES}
    return spec, waves


def _demo(out: str, quiet: bool) -> None:
    from .runner import run_wave

    spec, waves = _sample_files()
    expectations = PACKAGE_DIR.parent / "expectations"
    previous = None
    for wave, path in waves.items():
        run_wave(path, spec, wave, out, previous=previous, expectations_dir=expectations,
                 progress=_Progress(wave, quiet))
        previous = Path(out) / wave
    if not quiet:
        print(f"csat: demo done: open {Path(out) / 'index.html'}", file=sys.stderr)


def _batch(args) -> None:
    from .batch import run_batch
    from .errors import NotebookFailed

    progress = _Progress(f"{args.wave} by {args.by}", args.quiet)
    from .lock import wave_lock
    from .output import safe_name

    with wave_lock(Path(args.out), safe_name(args.wave), timeout=args.wait, progress=progress):
        summary = run_batch(args.data, args.spec, args.wave, args.by, args.out, args.scheduler, args.previous,
                            args.expectations, args.force, args.notebook, progress)
    counts = {k: sum(s.status == k for s in summary.segments) for k in ("done", "skipped", "suppressed", "failed")}
    progress(f"batch finished in {summary.seconds:.1f} s: {counts['done']} rendered, {counts['skipped']} unchanged, "
             f"{counts['suppressed']} below min_base, {counts['failed']} failed; index: {summary.folder / 'index.html'}")
    if summary.failed:
        names = "; ".join(f"{s.value!r} ({s.detail})" for s in summary.failed)
        raise NotebookFailed(f"{len(summary.failed)} segment(s) failed: {names}")


def _on_sigterm(signum, frame):  # turn SIGTERM into a clean exit (temp folders are removed by finally)
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csat`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        out = getattr(args, "out", None)
        if out is not None and Path(out).exists() and not Path(out).is_dir():
            raise InputError(f"{out}: --out must be a folder, but a file of that name exists")
        if args.command == "demo":
            _demo(args.out, args.quiet)
        elif args.command == "run":
            if args.notebook and not Path(args.notebook).is_file():
                raise InputError(f"{args.notebook}: no such notebook")
            from .runner import run_wave

            run_wave(args.data, args.spec, args.wave, args.out, args.previous, args.expectations,
                     _Progress(args.wave, args.quiet), notebook=args.notebook, wait=args.wait)
        elif args.command == "validate":
            from .runner import validate_command

            target = validate_command(args.data, args.spec, args.wave, args.out, args.expectations,
                                      _Progress(args.wave, args.quiet), args.wait)
            _Progress(args.wave, args.quiet)(f"validation passed; wrote {target / 'validation.json'}")
        elif args.command == "batch":
            _batch(args)
        elif args.command == "expectations":
            from .expectations import ensure_suite
            from .spec import load_spec

            update = ensure_suite(load_spec(args.spec), args.expectations)
            print(update.describe(), file=sys.stderr)
        return 0
    except CsatError as exc:
        print(f"csat: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("csat: interrupted; no partial report was published", file=sys.stderr)
        return 130
    except SystemExit as exc:
        if exc.code == 143:
            print("csat: terminated (SIGTERM); no partial report was published", file=sys.stderr)
        raise
    except MemoryError:
        print("csat: error: out of memory", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line, traceback only when asked for
        if os.environ.get("CSAT_DEBUG"):
            raise
        print(f"csat: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              f"(set CSAT_DEBUG=1 for a traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
