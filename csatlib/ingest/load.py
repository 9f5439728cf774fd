"""Load one survey wave (csv, xlsx, SPSS .sav, parquet) into a frame the later stages share.

The loader is the privacy boundary: spec ``pii`` columns are dropped right after reading and
free-text columns are redacted (:mod:`csatlib.privacy`), so nothing downstream can leak them.
It also adds the derived columns DESIGN.md's flow names: one gap per dimension
(perception − expectation), a straight-line flag and a speeder flag.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .privacy import redact_series
from .recode import MIN_STRAIGHTLINE_ITEMS, AnswerView, FileMissing, answer_view, derived_columns, spss_missing
from ..frame import DERIVED_PREFIX
from ..spec import Spec

__all__ = ["Wave", "read_wave", "read_table", "add_derived_columns", "FORMATS"]

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".sav": "sav", ".zsav": "sav", ".parquet": "parquet", ".pq": "parquet"}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK/GB2312


@dataclass
class Wave:
    """One loaded wave: the frame as read (PII dropped, text redacted) plus derived columns.

    Attributes
    ----------
    frame : DataFrame
        Columns as read, then ``_csat_*`` derived columns; a unique RangeIndex (row number).
    spec : Spec
    path : Path
    sha256 : str
        Hash of the input file, for the report's methods appendix and idempotent batches.
    file_format : str
        ``csv``, ``xlsx``, ``sav`` or ``parquet``.
    encoding : str or None
        The text encoding a csv was decoded with.
    value_labels : dict
        SPSS value labels per column (``{column: {code: label}}``); empty for other formats.
    pii_dropped : tuple of str
    declared : dict
        Missing values and value labels the file declares per column (SPSS), see
        :func:`csatlib.ingest.recode.spss_missing`.
    answers : AnswerView or None
        The rated columns read by :func:`csatlib.ingest.recode.answer_view` (labels mapped,
        codes set apart); validation reuses it.
    """

    frame: pd.DataFrame
    spec: Spec
    path: Path
    sha256: str
    file_format: str
    encoding: str | None = None
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    pii_dropped: tuple[str, ...] = ()
    declared: dict[str, FileMissing] = field(default_factory=dict, repr=False)
    answers: AnswerView | None = field(default=None, repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return (f"Wave({self.path.name!r}, survey={self.spec.name!r}, rows={len(self.frame)}, "
                f"format={self.file_format}, pii_dropped={list(self.pii_dropped)})")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _text_columns(spec: Spec) -> list[str]:
    """Columns read as text so labels and ids survive exactly (leading zeros, Chinese names)."""
    cols = [c for c in (spec.id, *spec.segments, *spec.categories, *spec.text) if c]
    if spec.wave:
        cols.append(spec.wave)
    return list(dict.fromkeys(cols))


def read_table(path: str | Path, spec: Spec) -> tuple[pd.DataFrame, str, str | None, dict]:
    """Read a data file as-is. Returns (frame, format, encoding, value_labels).

    Raises
    ------
    InputError
        Missing, empty, corrupt or unsupported file; the message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, expected a data file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(path, f"unsupported file type {path.suffix or '(none)'!r}; "
                         f"use one of {', '.join(sorted(set(FORMATS.values())))}")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")
    text_cols = _text_columns(spec)
    encoding = None
    labels: dict = {}
    try:
        if fmt == "csv":
            frame, encoding = _read_csv(path, text_cols)
        elif fmt == "xlsx":
            frame = pd.read_excel(path, engine="openpyxl", dtype={c: str for c in text_cols})
        elif fmt == "sav":
            frame, labels = _read_sav(path, spec)
        else:
            frame = pd.read_parquet(path)
            for c in text_cols:
                if c in frame.columns:
                    frame[c] = _as_text(frame[c])
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(path, "file has no header row or data") from None
    except Exception as exc:  # readers raise many types on corrupt input (ParserError, BadZipFile, ...)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"cannot read as {fmt}: {detail[:200]}") from None
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise InputError(path, f"duplicate column names {dupes}")
    frame.columns = [str(c) for c in frame.columns]
    return frame, fmt, encoding, labels


def _read_csv(path: Path, text_cols: list[str]) -> tuple[pd.DataFrame, str]:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    sep = "\t" if path.suffix.lower() == ".tsv" or (b"\t" in head and b"," not in head) else ","
    last_error: Exception | None = None
    for enc in CSV_ENCODINGS:
        try:
            # pandas silently renames a repeated header ("q", "q.1"); read the header row itself
            first = head.decode(enc, errors="strict" if len(head) < (1 << 16) else "ignore").splitlines()
            names = next(csv.reader(io.StringIO(first[0]), delimiter=sep), []) if first else []
            if not any(n.strip() for n in names):
                raise InputError(path, "file has no header row or data")
            dupes = sorted({c for c in names if names.count(c) > 1})
            if dupes:
                raise InputError(path, f"duplicate column names {dupes}")
            dtype = {c: str for c in text_cols if c in names}
            frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=dtype, keep_default_na=True,
                                skipinitialspace=False)
            return frame, ("utf-8" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError as exc:
            last_error = exc
    raise InputError(path, f"text is neither UTF-8 nor GB18030/GBK ({last_error})")


def _read_sav(path: Path, spec: Spec) -> tuple[pd.DataFrame, dict]:
    import pyreadstat

    frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)
    labels = {col: dict(v) for col, v in (meta.variable_value_labels or {}).items()}
    # Categorical breakdowns show value labels (e.g. 1 -> "华东"); rated items keep their codes.
    for col in [*spec.segments, *spec.categories]:
        if col in frame.columns and col in labels:
            frame[col] = frame[col].map(lambda v, m=labels[col]: m.get(v, v))
    for col in _text_columns(spec):
        if col in frame.columns:
            frame[col] = _as_text(frame[col])
    return frame, labels


def _as_text(values: pd.Series) -> pd.Series:
    """Text form of a column, keeping missing values missing; whole floats lose their '.0'."""
    def conv(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return np.nan
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return values.map(conv).astype(object)


def read_wave(path: str | Path, spec: Spec) -> Wave:
    """Load a wave, drop PII, redact free text, check the spec's columns and derive flags.

    Parameters
    ----------
    path : str or Path
        csv (UTF-8, UTF-8 with BOM, GBK/GB18030), xlsx, SPSS .sav or parquet.
    spec : Spec

    Returns
    -------
    Wave

    Raises
    ------
    InputError
        Unreadable file, or a column the spec names that the file lacks (naming both).
    """
    path = Path(path)
    frame, fmt, encoding, labels = read_table(path, spec)
    pii = tuple(c for c in spec.pii if c in frame.columns)
    frame = frame.drop(columns=list(pii))
    missing = [c for c in spec.required_columns() if c not in frame.columns]
    if missing:
        roles = spec.roles()
        what = ", ".join(f"{c!r} ({roles[c]})" for c in missing)
        where = f" named by {Path(spec.source).name}" if spec.source else ""
        raise InputError(path, f"missing column{'s' if len(missing) > 1 else ''} {what}{where}")
    clash = [c for c in frame.columns if c.startswith(DERIVED_PREFIX)]
    if clash:
        raise InputError(path, f"column {clash[0]!r} uses the reserved prefix {DERIVED_PREFIX!r}")
    for col in spec.text:
        frame[col] = redact_series(frame[col])
    frame = frame.reset_index(drop=True)
    declared = spss_missing(path) if fmt == "sav" else {}
    view = answer_view(frame, spec, declared)
    frame = add_derived_columns(frame, spec, declared, view)
    return Wave(frame=frame, spec=spec, path=path, sha256=_sha256(path), file_format=fmt,
                encoding=encoding, value_labels=labels, pii_dropped=pii, declared=declared, answers=view)


def add_derived_columns(frame: pd.DataFrame, spec: Spec, declared: dict[str, FileMissing] | None = None,
                        view: AnswerView | None = None) -> pd.DataFrame:
    """Add the derived columns (DESIGN: load → frame + derived columns).

    Gaps per dimension, composite scores, each rated column's answer codes, and the
    straight-line, speeder and repeated-header flags; see
    :func:`csatlib.ingest.recode.derived_columns`. ``declared``: what the file declares missing
    (SPSS); ``view``: the answers already read, so they are not read twice.
    """
    view = view if view is not None else answer_view(frame, spec, declared)
    derived = derived_columns(frame, spec, view)
    return pd.concat([frame, pd.DataFrame(derived, index=frame.index)], axis=1)
