"""``csat tables`` and the banner tables of ``csat run``.

``csat tables --data FILE --spec SPEC --wave W [--banner COL,...] [--out DIR]`` loads and
validates the wave exactly as ``csat run`` does (quarantined rows never reach a table; a blocked
wave exits 1 with validation.json and quarantine.csv written), then writes into ``out/<wave>/``:
``banner.xlsx`` (contents sheet + one sheet per banner group), ``banner.csv`` (tidy, one row per
table × stub × statistic × column) and ``banner.html`` (the tables as one offline page).

``csat run`` writes ``banner.xlsx`` and ``banner.csv`` beside the report when the spec has a
``banner:`` key (:func:`write_run_banner`), and the report shows them in an appendix.
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import InputError, ValidationBlocked

__all__ = ["tables_command", "write_run_banner", "write_banner", "parse_banner_option", "check_banner_columns"]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def parse_banner_option(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``--banner region,channel`` → ``("region", "channel")``; None when not given.

    Raises
    ------
    InputError
        ``--banner`` given but naming no column.
    """
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    cols = tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))
    if not cols:
        raise InputError("--banner", "names no column (give COL or COL1,COL2)")
    return cols


def check_banner_columns(frame, columns: Sequence[str], data: str | Path, where: str) -> None:
    """Every banner column is in the file and has at most 26 distinct values (one letter each).

    Raises
    ------
    InputError
        Naming the data file, the column and where it was named (``--banner`` or the spec).
    """
    from ..analysis.banner import MAX_BANNER_VALUES

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(data, f"no column {', '.join(repr(c) for c in missing)} (banner column named by {where})")
    for col in columns:
        distinct = frame[col].nunique(dropna=False)
        if distinct > MAX_BANNER_VALUES:
            raise InputError(data, f"banner column {col!r} (named by {where}) has {distinct:,} distinct values; a "
                                   f"banner column is a categorical breakdown with at most {MAX_BANNER_VALUES}")


def write_banner(tables, folder: Path, *, html_page: bool = False, info: Sequence[str] = ()) -> list[Path]:
    """Write ``banner.xlsx``, ``banner.csv`` (and ``banner.html``) into ``folder``, each atomically."""
    from ..output import atomic_write_text
    from ..report.banner import BANNER_CSV, BANNER_HTML, BANNER_XLSX, page, write_csv, write_xlsx

    folder = Path(folder)
    written = [write_csv(tables, folder / BANNER_CSV), write_xlsx(tables, folder / BANNER_XLSX, info=info)]
    if html_page:
        written.append(atomic_write_text(folder / BANNER_HTML, page(tables)))
    return written


def _info(wave: str, validation: Any, data: str | Path | None) -> list[str]:
    lines = [f"Wave {wave}" + (f", file {Path(data).name}" if data else "")]
    lines.append(f"Rows: {validation.rows_read:,} read, {validation.rows_clean:,} clean (tabulated), "
                 f"{validation.rows_quarantined:,} quarantined (see quarantine.csv of csat validate or csat run).")
    return lines


def write_run_banner(loaded, validation, staging: Path, timings=None, progress: Progress | None = None) -> list[Path]:
    """``csat run``: banner tables of the clean rows into the staging folder, when the spec has ``banner:``."""
    spec = loaded.spec
    if spec.banner is None:
        return []
    from ..analysis.banner import banner

    progress = progress or _quiet
    with (timings.stage("banner") if timings is not None else nullcontext()):
        try:
            tables = banner(validation.clean, spec, value_labels=loaded.value_labels)
        except ValueError as exc:
            raise InputError(loaded.path, str(exc)) from None
        written = write_banner(tables, staging, info=_info(validation.wave, validation, loaded.path))
    progress(f"banner tables: {len(tables.tables) - 1} tables × {len(tables.columns)} columns")
    return written


def tables_command(data: str | Path, spec_path: str | Path, wave: str, out: str | Path = "reports",
                   banner_columns: str | Sequence[str] | None = None, suite_dir: str | Path | None = None,
                   progress: Progress | None = None, wait: float = 600.0) -> Path:
    """``csat tables``: validate the wave, then write its banner tables into ``out/<wave>/``.

    Returns the folder written. Raises InputError/SpecError before any work for unusable inputs
    (a ``--banner`` column the file lacks is reported right after reading it, before validation),
    ValidationBlocked after writing validation.json and quarantine.csv.
    """
    from ..analysis.banner import banner, banner_settings
    from ..ingest.load import read_wave
    from ..spec import load_spec
    from ..validation.check import write_validation
    from .lock import wave_lock
    from .stages import validate_file
    from .wave import check_run_inputs, wave_folder

    progress = progress or _quiet
    spec = load_spec(spec_path)
    columns = parse_banner_option(banner_columns)
    check_run_inputs(data, wave, out)
    settings = banner_settings(spec, columns)
    folder = wave_folder(wave)
    target = Path(out) / folder
    with wave_lock(Path(out), folder, timeout=wait, progress=progress):
        loaded = read_wave(data, spec)
        check_banner_columns(loaded.frame, settings.columns, data,
                             "--banner" if columns is not None else Path(spec.source or "the spec").name)
        loaded, validation = validate_file(data, spec, wave, suite_dir, progress, loaded=loaded)
        if validation.blocked:
            write_validation(validation, target)
            raise ValidationBlocked(f"{data}: validation blocked the tables: {'; '.join(validation.blocking)} "
                                    f"(see {target / 'validation.json'} and {target / 'quarantine.csv'})",
                                    validation.blocking)
        try:
            tables = banner(validation.clean, spec, settings.columns, value_labels=loaded.value_labels)
        except ValueError as exc:
            raise InputError(data, str(exc)) from None
        write_banner(tables, target, html_page=True, info=_info(wave, validation, data))
    progress(f"banner tables ({len(tables.tables) - 1} tables × {len(tables.columns)} columns) written to "
             f"{target / 'banner.xlsx'}, banner.csv and banner.html")
    return target
