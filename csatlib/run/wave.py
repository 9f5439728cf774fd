"""Run one wave end to end: the sequence behind ``csat run`` and ``csat validate``.

Holds the wave's lock for the whole run, validates, analyses, executes the report notebook on a
kernel warmed up meanwhile, renders offline HTML and publishes every file atomically (results.json
last). Errors are :mod:`csatlib.errors` exceptions; :mod:`csatlib.cli` turns them into exit codes.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .errors import ValidationBlocked

__all__ = ["run_wave", "validate_command"]


def run_wave(data: str | Path, spec_path: str | Path, wave: str, out: str | Path = "reports",
             previous: str | Path | None = None, expectations_dir: str | Path = "expectations",
             progress=None, notebook: str | Path | None = None, wait: float = 600.0) -> Path:
    """Validate, analyse and render one wave into ``out/<wave>/``; returns that folder.

    Raises
    ------
    ValidationBlocked
        After writing validation.json and quarantine.csv into ``out/<wave>/``.
    NotebookFailed
        The partial notebook is kept as ``out/<wave>/report.failed.ipynb``.
    LockTimeout
        Another run held the wave's lock for more than ``wait`` seconds.
    """
    from .lock import wave_lock
    from .output import safe_name
    from .spec import load_spec

    progress = progress or (lambda message: None)
    spec = load_spec(spec_path)
    out = Path(out)
    target = out / safe_name(wave)
    with wave_lock(out, safe_name(wave), timeout=wait, progress=progress):
        return _run_locked(data, spec, wave, out, target, previous, expectations_dir, progress, notebook)


def _run_locked(data, spec, wave, out: Path, target: Path, previous, expectations_dir, progress, notebook) -> Path:
    """The body of :func:`run_wave`, run while holding the wave's lock."""
    from .output import atomic_write_text
    from .pipeline import Timings, analyse, load_previous, validate_file
    from .report import (FontSubset, WarmKernel, execute_notebook, notebook_to_html, publish, report_notebook,
                         staging_dir, write_index)
    from .validate import write_validation

    timings = Timings()
    notebook = Path(notebook).resolve() if notebook else report_notebook()
    kernel = WarmKernel(notebook.parent)  # starts while we validate and analyse
    try:
        loaded, validation = validate_file(data, spec, wave, expectations_dir, progress, timings)
        if validation.blocked:
            write_validation(validation, target)
            raise ValidationBlocked(f"{data}: validation blocked the report: {'; '.join(validation.blocking)} "
                                    f"(see {target / 'validation.json'} and {target / 'quarantine.csv'})",
                                    validation.blocking)
        prev = load_previous(previous, spec, expectations_dir, progress) if previous else None
        results = analyse(loaded, validation, wave, prev, out_dir=out, timings=timings)
    except BaseException:
        kernel.shutdown()
        raise
    progress(f"analysed: {len(results.estimates)} estimates")
    staging = staging_dir(target)
    try:
        write_validation(validation, staging)
        results.write(staging / "results.json")
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


def validate_command(data, spec_path, wave, out="reports", expectations_dir="expectations", progress=None,
                     wait: float = 600.0) -> Path:
    """``csat validate``: write validation.json and quarantine.csv; raise ValidationBlocked if blocked."""
    from .lock import wave_lock
    from .output import safe_name
    from .pipeline import validate_file
    from .spec import load_spec
    from .validate import write_validation

    spec = load_spec(spec_path)
    target = Path(out) / safe_name(wave)
    progress = progress or (lambda m: None)
    with wave_lock(Path(out), safe_name(wave), timeout=wait, progress=progress):
        _, validation = validate_file(data, spec, wave, expectations_dir, progress)
        write_validation(validation, target)
    if validation.blocked:
        raise ValidationBlocked(f"{data}: validation failed: {'; '.join(validation.blocking)} "
                                f"(see {target / 'validation.json'})", validation.blocking)
    return target
