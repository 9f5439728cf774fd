"""One wave end to end: the sequence behind ``csat run``, ``csat validate`` and ``csat demo``.

Every input is checked before any work starts (:func:`check_run_inputs`), then the wave's lock is
held for the whole run: validate, analyse, execute the report notebook on a kernel warmed up
meanwhile, render offline HTML and publish every file atomically (results.json last). Errors are
:mod:`csatlib.errors` exceptions; :mod:`csatlib.cli` turns them into exit codes.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable

from ..errors import InputError, ValidationBlocked

__all__ = ["run_wave", "validate_command", "run_demo", "check_run_inputs", "wave_folder"]

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
        reason = "no space left on the device" if exc.errno == 28 else (exc.strerror or str(exc)).lower()
        raise InputError(out, f"cannot write the output folder ({reason})") from None


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


def run_wave(data: str | Path, spec_path: str | Path, wave: str, out: str | Path = "reports",
             previous: str | Path | None = None, suite_dir: str | Path | None = None,
             progress: Progress | None = None, notebook: str | Path | None = None, wait: float = 600.0) -> Path:
    """Validate, analyse and render one wave into ``out/<wave>/``; returns that folder.

    Raises
    ------
    InputError, SpecError
        Before any work, for an unusable input (exit 2).
    ValidationBlocked
        After writing validation.json and quarantine.csv into ``out/<wave>/``.
    NotebookFailed
        The partial notebook is kept as ``out/<wave>/report.failed.ipynb``.
    LockTimeout
        Another run held the wave's lock for more than ``wait`` seconds.
    """
    from ..spec import load_spec
    from .lock import wave_lock

    progress = progress or _quiet
    spec = load_spec(spec_path)
    notebook_path = check_run_inputs(data, wave, out, previous, notebook or True)
    out = Path(out)
    folder = wave_folder(wave)
    with wave_lock(out, folder, timeout=wait, progress=progress):
        return _run_locked(data, spec, wave, out, out / folder, previous, suite_dir, progress, notebook_path)


def _run_locked(data, spec, wave, out: Path, target: Path, previous, suite_dir, progress, notebook: Path) -> Path:
    """The body of :func:`run_wave`, run while holding the wave's lock."""
    from ..output import atomic_write_text
    from ..report.html import FontSubset, notebook_to_html
    from ..report.index import write_index
    from ..report.notebook import WarmKernel, execute_notebook
    from ..validation.check import write_validation
    from .previous import load_previous
    from .publish import publish, staging_dir
    from .stages import Timings, analyse_validated, validate_file

    timings = Timings()
    kernel = WarmKernel(notebook.parent)  # starts while we validate and analyse
    try:
        loaded, validation = validate_file(data, spec, wave, suite_dir, progress, timings)
        if validation.blocked:
            write_validation(validation, target)
            raise ValidationBlocked(f"{data}: validation blocked the report: {'; '.join(validation.blocking)} "
                                    f"(see {target / 'validation.json'} and {target / 'quarantine.csv'})",
                                    validation.blocking)
        prev = load_previous(previous, spec, suite_dir, progress) if previous else None
        results = analyse_validated(loaded, validation, wave, prev, trend_dir=out, timings=timings)
    except BaseException:
        kernel.shutdown()
        raise
    progress(f"analysed: {len(results.estimates)} estimates")
    staging = staging_dir(target)
    try:
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
        with timings.stage("notebook"):
            # the kernel runs in the notebook's folder: hand it an absolute path to the results
            execute_notebook(notebook, staging / "report.ipynb", {"results_dir": str(staging.resolve())},
                             failed_copy=target / "report.failed.ipynb", kernel=kernel)
        progress("notebook executed")
        with timings.stage("html"):
            atomic_write_text(staging / "report.html", notebook_to_html(staging / "report.ipynb", font))
        publish(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    failed = target / "report.failed.ipynb"
    if failed.exists():
        failed.unlink()
    write_index(out)
    progress(f"report written to {target / 'report.html'} "
             f"(stages: {', '.join(f'{k} {v:.1f}s' for k, v in timings.stages.items())})")
    return target


def validate_command(data, spec_path, wave, out="reports", suite_dir=None, progress=None,
                     wait: float = 600.0) -> Path:
    """``csat validate``: write validation.json and quarantine.csv; raise ValidationBlocked if blocked."""
    from ..spec import load_spec
    from ..validation.check import write_validation
    from .lock import wave_lock
    from .stages import validate_file

    progress = progress or _quiet
    spec = load_spec(spec_path)
    check_run_inputs(data, wave, out)
    folder = wave_folder(wave)
    target = Path(out) / folder
    with wave_lock(Path(out), folder, timeout=wait, progress=progress):
        _, validation = validate_file(data, spec, wave, suite_dir, progress)
        write_validation(validation, target)
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
