"""One wave end to end: the sequence behind ``csat run``, ``csat validate`` and ``csat demo``.

Every input is checked before any work starts (:func:`check_run_inputs`), then the wave's lock is
held for the whole run: validate, analyse, execute the report notebook on a kernel warmed up
meanwhile, render offline HTML and publish every file atomically (results.json last). Errors are
:mod:`csatlib.errors` exceptions; :mod:`csatlib.cli` turns them into exit codes.
"""
from __future__ import annotations

import errno
import gc
import os
import tempfile
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from ..errors import InputError, ValidationBlocked

__all__ = ["run_wave", "validate_command", "run_demo", "check_run_inputs", "wave_folder", "publish_validation",
           "report_unit", "index_unit", "output_errors", "validate_for_run"]

Progress = Callable[[str], None]
MAX_WAVE_LABEL = 120


def _quiet(_: str) -> None:
    pass


def wave_folder(wave: str) -> str:
    """The folder name of a wave label, after checking the label is safe to use as one.

    Raises
    ------
    InputError
        Empty labels, path separators, ``.``/``..``, control characters or over-long labels.
    """
    from ..output import safe_name

    label = str(wave)
    if not label.strip():
        raise InputError("--wave", "a wave label must not be empty")
    if any(sep in label for sep in ("/", "\\")) or label.strip() in (".", "..") or label.startswith("."):
        raise InputError("--wave", f"{label!r} is not a safe folder name (no path separators, no leading dot)")
    if any(unicodedata.category(ch).startswith("C") for ch in label):
        raise InputError("--wave", f"{label!r} contains control characters")
    if len(label) > MAX_WAVE_LABEL:
        raise InputError("--wave", f"a wave label is at most {MAX_WAVE_LABEL} characters")
    return safe_name(label)


def _check_readable(path: str | Path, what: str, folder_ok: bool = False) -> None:
    p = Path(path)
    if not p.exists():
        raise InputError(p, f"no such file{' or folder' if folder_ok else ''} (the {what})")
    if p.is_dir() and not folder_ok:
        raise InputError(p, f"is a folder, expected a {what}")
    if not os.access(p, os.R_OK):
        raise InputError(p, f"{what} is not readable (permission denied)")


def _check_writable_folder(out: str | Path) -> None:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out must be a folder, but a file of that name exists")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".csat-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        from ..output import describe_os_error

        raise InputError(out, f"cannot write the output folder ({describe_os_error(exc)})") from None


def check_run_inputs(data: str | Path | None = None, wave: str | None = None, out: str | Path | None = None,
                     previous: str | Path | None = None, notebook: str | Path | None = None) -> Path | None:
    """Check every input of a run before any work: files exist and are readable, the wave label is
    a safe folder name, ``out`` can be created and written, the report notebook exists.

    Returns the report notebook to use (when ``notebook`` was checked), else None.
    """
    if data is not None:
        _check_readable(data, "data file")
    if wave is not None:
        wave_folder(wave)
    if previous:
        _check_readable(previous, "previous wave (data file or reports folder)", folder_ok=True)
    if out is not None:
        _check_writable_folder(out)
    if notebook is None:
        return None
    if notebook is True:
        from ..report.notebook import report_notebook

        return report_notebook()
    _check_readable(notebook, "notebook")
    return Path(notebook).resolve()


def report_unit(target: Path, wave: str) -> str:
    """How the exit message names a wave's report (see :class:`csatlib.run.publish.Ledger`)."""
    return f"the report of wave {wave} ({target})"


def index_unit(out: Path) -> str:
    return f"the index ({out / 'index.html'})"


def run_wave(data: str | Path, spec_path: str | Path, wave: str, out: str | Path = "reports",
             previous: str | Path | None = None, suite_dir: str | Path | None = None,
             progress: Progress | None = None, notebook: str | Path | None = None, wait: float = 600.0) -> Path:
    """Validate, analyse and render one wave into ``out/<wave>/``; returns that folder.

    The folder is replaced as a whole (:mod:`csatlib.run.publish`): at any instant it holds one
    run's report, never a mix.

    Raises
    ------
    InputError, SpecError
        Before any work, for an unusable input (exit 2); also when the output cannot be written
        (full disk, read-only folder): the earlier report of the wave is then unchanged.
    ValidationBlocked
        After replacing validation.json and quarantine.csv in ``out/<wave>/`` (the earlier report
        stays).
    NotebookFailed
        The partial notebook is published as ``out/<wave>/report.failed.ipynb`` (the earlier
        report stays).
    LockTimeout
        Another run held the wave's lock for more than ``wait`` seconds.
    """
    from ..spec import load_spec
    from .lock import wave_lock
    from .publish import LEDGER

    progress = progress or _quiet
    spec = load_spec(spec_path)
    notebook_path = check_run_inputs(data, wave, out, previous, notebook or True)
    out = Path(out)
    folder = wave_folder(wave)
    LEDGER.expect(report_unit(out / folder, wave), index_unit(out))
    with wave_lock(out, folder, timeout=wait, progress=progress):
        return _run_locked(data, spec, wave, out, out / folder, previous, suite_dir, progress, notebook_path)


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def _write_failure(exc: BaseException | None, folder: Path) -> OSError | None:
    """The OSError behind ``exc`` (itself or its context) if it is a failure to write output:
    a full disk, a quota, a read-only file system, or any error on a path inside ``folder``."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError):
            if exc.errno in _WRITE_ERRNOS:
                return exc
            for name in (exc.filename, exc.filename2):
                if name and _inside(Path(os.fsdecode(name)), folder):
                    return exc
        exc, seen = exc.__context__, seen + 1
    return None


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` lies in ``folder`` or in one of its staging holders (``.<name>.tmp-*``)."""
    try:
        path, folder = path.resolve(), folder.resolve()
    except OSError:
        return False
    holder = f".{folder.name}.tmp-"
    return any(p == folder or (p.parent == folder.parent and p.name.startswith(holder))
               for p in (path, *path.parents))


@contextmanager
def output_errors(folder: Path, what: str, consequence: str):
    """Turn a failure to write into ``folder`` into one :class:`InputError` line (exit 2):
    ``<folder>: cannot write <what> (<reason>); <consequence>``."""
    from ..errors import NotebookFailed
    from ..output import describe_os_error

    try:
        yield
    except (OSError, NotebookFailed) as exc:
        failure = _write_failure(exc, folder)
        if failure is None:
            raise
        raise InputError(folder, f"cannot write {what} ({describe_os_error(failure)}); {consequence}") from None


def validate_for_run(data, spec, wave: str, suite_dir, progress, timings=None, loaded=None):
    """:func:`~csatlib.run.stages.validate_file`, with a failure to store the expectation suite
    (full disk, read-only folder) as one error line (``loaded``: the file already read)."""
    from ..validation.suite import suite_path
    from .stages import validate_file

    folder = suite_path(spec, suite_dir).parent
    with output_errors(folder, "the expectation suite", "nothing was published"):
        return validate_file(data, spec, wave, suite_dir, progress, timings, loaded=loaded)


def publish_validation(validation, target: Path, wave: str) -> None:
    """Replace validation.json and quarantine.csv of ``target`` together, keeping the rest of the
    folder (an earlier report stays as it was)."""
    from ..validation.check import write_validation
    from .publish import discard, publish, staging_dir

    staging = staging_dir(target)
    try:
        write_validation(validation, staging)
        publish(staging, target, unit=f"validation.json and quarantine.csv of wave {wave} ({target})")
    finally:
        discard(staging)


def _run_locked(data, spec, wave, out: Path, target: Path, previous, suite_dir, progress, notebook: Path) -> Path:
    """The body of :func:`run_wave`, run while holding the wave's lock."""
    from ..concurrency import import_in_background
    from ..errors import NotebookFailed
    from ..ingest.load import read_wave
    from ..output import atomic_write_text
    from ..report.html import FontSubset, notebook_to_html
    from ..report.index import write_index
    from ..report.notebook import WarmKernel, execute_notebook
    from ..validation.check import write_validation
    from .publish import LEDGER, discard, publish, recover, staging_dir

    said = recover(target)  # a switch that a killed run left half done
    if said:
        progress(said)
    unchanged = "the earlier report of this wave is unchanged" if (target / "results.json").exists() else \
        "no report of this wave was published"
    kernel = WarmKernel(notebook.parent)  # starts while we validate and analyse
    browser = None
    try:
        # the analysis stack and Great Expectations (2-3 s of imports) are imported in the gaps of
        # the read (Arrow's parser and numpy's scans leave the interpreter free)
        imports = import_in_background("csatlib.run.stages", "great_expectations")
        started = time.perf_counter()
        read = read_wave(data, spec)
        read_seconds = time.perf_counter() - started
        if imports is not None:
            imports.join()
        from .previous import load_previous
        from .stages import Timings, analyse_validated

        timings = Timings(stages={"load": read_seconds})
        loaded, validation = validate_for_run(data, spec, wave, suite_dir, progress, timings, loaded=read)
        del read
        loaded = loaded.without_rows()  # the clean and quarantined rows are all the run needs from here
        gc.collect()  # pandas objects hold reference cycles: free the loaded rows now, before the analyses
        if validation.blocked:
            with output_errors(target, "validation.json and quarantine.csv", unchanged):
                publish_validation(validation, target, wave)
            raise ValidationBlocked(f"{data}: validation blocked the report: {'; '.join(validation.blocking)} "
                                    f"(see {target / 'validation.json'} and {target / 'quarantine.csv'})",
                                    validation.blocking)
        prev = load_previous(previous, spec, suite_dir, progress) if previous else None
        results = analyse_validated(loaded, validation, wave, prev, trend_dir=out, timings=timings)
        # the browser that will print report.pdf starts now: its start-up (about a second of CPU)
        # runs beside the notebook, which leaves a core mostly idle, not beside the analyses, which
        # keep both busy (a million rows: analyses 4.6 -> 4.15 s, report stages 1.85 -> 2.1 s)
        browser = start_browser()
    except BaseException:
        kernel.shutdown()
        if browser is not None:
            browser.close()
        raise
    progress(f"analysed: {len(results.estimates)} estimates")
    staging = None
    try:
        with output_errors(target, "the new report", unchanged):
            staging = staging_dir(target)
            write_validation(validation, staging)
            results.write(staging / "results.json")
            from .tables import write_run_banner  # banner.xlsx + banner.csv when the spec has banner:
            write_run_banner(loaded, validation, staging, timings, progress)
            if results.themes is not None:  # themes.csv: one row per comment, redacted text, themes, sentiment
                from ..report.themes import write_themes_csv
                write_themes_csv(results.themes, staging / "themes.csv")
            # the page's Chinese glyphs come from the results and the notebook: subset the font meanwhile
            font = FontSubset((staging / "results.json").read_text(encoding="utf-8")
                              + notebook.read_text(encoding="utf-8"))
            failed = staging / "report.failed.ipynb"
            try:
                with timings.stage("notebook"):
                    # the kernel runs in the notebook's folder: hand it an absolute path to the results
                    execute_notebook(notebook, staging / "report.ipynb", {"results_dir": str(staging.resolve())},
                                     failed_copy=failed, kernel=kernel)
            except NotebookFailed as exc:
                if _write_failure(exc, target) is not None or not failed.exists():
                    raise
                for entry in staging.iterdir():  # publish the partial notebook alone; the earlier report stays
                    if entry != failed:
                        entry.unlink()
                publish(staging, target, unit=f"report.failed.ipynb of wave {wave} ({target})")
                kept = target / "report.failed.ipynb"
                raise NotebookFailed(str(exc).replace(str(failed), str(kept)), str(kept)) from None
            progress("notebook executed")
            with timings.stage("html"):
                atomic_write_text(staging / "report.html", notebook_to_html(staging / "report.ipynb", font))
            with timings.stage("exports"):  # tables.xlsx and report.pdf beside report.html
                from ..report.exports import write_exports
                write_exports(staging, progress=progress, browser=browser)
            publish(staging, target, remove=("report.failed.ipynb",), unit=report_unit(target, wave))
    finally:
        if browser is not None:
            browser.close()
        if staging is not None:
            discard(staging)
    with output_errors(out, "the index", f"the report of wave {wave} was published to {target}"):
        write_index(out)
    LEDGER.done(index_unit(out))
    progress(f"report written to {target / 'report.html'} "
             f"(stages: {', '.join(f'{k} {v:.1f}s' for k, v in timings.stages.items())})")
    return target


def start_browser():
    """A headless Chromium started now, to print report.pdf later (None without one, or when it
    cannot start: the print then starts its own, or is skipped with a note)."""
    from ..report.browser import BrowserError, Chromium, find_chromium

    if find_chromium() is None:
        return None
    try:
        return Chromium()
    except (BrowserError, OSError):
        return None


def validate_command(data, spec_path, wave, out="reports", suite_dir=None, progress=None,
                     wait: float = 600.0) -> Path:
    """``csat validate``: write validation.json and quarantine.csv (replacing both together, nothing
    else in the wave's folder changes); raise ValidationBlocked if blocked."""
    from ..spec import load_spec
    from .lock import wave_lock
    from .publish import LEDGER

    progress = progress or _quiet
    spec = load_spec(spec_path)
    check_run_inputs(data, wave, out)
    folder = wave_folder(wave)
    target = Path(out) / folder
    LEDGER.expect(f"validation.json and quarantine.csv of wave {wave} ({target})")
    with wave_lock(Path(out), folder, timeout=wait, progress=progress):
        _, validation = validate_for_run(data, spec, wave, suite_dir, progress)
        with output_errors(target, "validation.json and quarantine.csv",
                      "the earlier files of this wave are unchanged"):
            publish_validation(validation, target, wave)
    if validation.blocked:
        raise ValidationBlocked(f"{data}: validation failed: {'; '.join(validation.blocking)} "
                                f"(see {target / 'validation.json'})", validation.blocking)
    return target


def run_demo(out: str | Path = "reports", progress: Progress | None = None) -> Path:
    """``csat demo``: both sample waves, the second compared with the first, and the index."""
    from ..sample import sample_files

    spec, waves = sample_files()
    previous = None
    for wave, path in waves.items():
        run_wave(path, spec, wave, out, previous=previous,
                 progress=(lambda m, w=wave: progress(f"{w}: {m}")) if progress else None)
        previous = Path(out) / wave_folder(wave)
    return Path(out) / "index.html"
