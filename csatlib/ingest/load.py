"""Load one survey wave (csv, xlsx, SPSS .sav, parquet) into a frame the later stages share.

Reading is built for files this project has never seen, with only the spec to go on:

* **text files** are decoded with the spec's ``source.encoding`` or a detected encoding that is
  never a silent guess (:mod:`.encoding`); the delimiter and the header row are sniffed from the
  spec's column names (:mod:`.sniff`); the record count is checked against an independent strict
  count, so a stray double quote cannot merge rows unnoticed (:mod:`.records`);
* **workbooks**: the sheet holding the spec's columns (or ``source.sheet``), title rows above
  the header skipped, every row accounted for (:mod:`.xlsx`);
* **headers** match the spec after trimming and case folding, with "did you mean" on a near
  miss (:mod:`.headers`);
* **privacy first**: PII columns are found like every other column and dropped before anything
  else; free text is redacted and absurdly long cells are cut (:mod:`.privacy`);
* **numbers** written with full-width digits, odd spaces or decimal commas are read as numbers
  before validation, and counted (:mod:`.numbers`).

Every cell is kept exactly as read (:meth:`Wave.as_read`), so quarantine.csv shows ``4``, not
``4.0``. The loader adds the derived columns of the flow: one gap per dimension
(perception − expectation), a straight-line flag and a speeder flag.

This module matches the columns and builds the :class:`Wave`; reading the file itself is
:mod:`.table`'s job (:func:`read_table`, :class:`Table` and ``FORMATS`` are importable from
here too).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..concurrency import in_background, map_in_threads
from ..errors import InputError
from ..frame import DERIVED_PREFIX
from ..spec import Spec
from .headers import match_headers
from .numbers import missing_mask, sniff_decimal, to_numbers, to_seconds
from .privacy import MAX_CELL_CHARS, cap_text, redact_series
from .recode import AnswerView, FileMissing, answer_view, derived_columns, spss_missing
from .table import FORMATS, Table, read_table, wanted_columns

__all__ = ["Wave", "Table", "read_wave", "read_table", "add_derived_columns", "FORMATS"]


@dataclass
class Wave:
    """One loaded wave: the frame as read (PII dropped, text redacted) plus derived columns.

    Attributes
    ----------
    frame : DataFrame
        Columns named as in the spec (file headers matched to them), then ``_csat_*`` derived
        columns; a unique RangeIndex (row number). Rated items, weight and duration hold numbers
        (float64), or, in a column where some cell is not a number, those cells' text as read
        for validation to quarantine. Other columns hold text; empty cells and the usual NA
        spellings (``NA``, ``N/A``, ``NULL``...) are missing.
    spec : Spec
    path : Path
    sha256 : str
        Hash of the input file, for the report's methods appendix and idempotent batches.
    file_format : str
        ``csv``, ``xlsx``, ``sav`` or ``parquet``.
    encoding : str or None
        The text encoding a csv was decoded with; ``encoding_source`` says how it was chosen.
    value_labels : dict
        SPSS value labels per column (``{column: {code: label}}``); empty for other formats.
    pii_dropped : tuple of str
        Spec PII columns found (and dropped).
    raw : DataFrame or None
        Every cell exactly as read (text for csv and xlsx, the reader's values for sav and
        parquet), same index and column names as ``frame`` without derived columns; PII
        dropped, free text redacted. Read it through :meth:`as_read`.
    delimiter, decimal : str or None
        The csv delimiter and the decimal mark used for numeric cells.
    sheet : str or None
        The workbook sheet read.
    header_row : int or None
        1-based row (record) of the header; rows above it were title rows.
    normalised : dict
        Column -> number of numeric cells normalised before validation (full-width digits,
        odd spaces, decimal commas, digit grouping).
    renamed : dict
        File header -> spec column, where the two differ (``"Mail " -> "mail"``).
    notes : tuple of str
        What the reader should know about how the file was read.
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
    raw: pd.DataFrame | None = field(default=None, repr=False)
    encoding_source: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    normalised: dict[str, int] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    declared: dict[str, FileMissing] = field(default_factory=dict, repr=False)
    answers: AnswerView | None = field(default=None, repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def as_read(self, index=None) -> pd.DataFrame:
        """Rows (all, or those of ``index``) with every cell as read: text in, text out.

        Numbers from sav and parquet files are shown as their reader gave them, whole numbers
        without a decimal part (``4``, not ``4.0``).
        """
        cols = [c for c in self.frame.columns if not c.startswith(DERIVED_PREFIX)]
        if self.raw is None:
            out = self.frame.loc[self.frame.index if index is None else index, cols].copy()
        else:
            out = self.raw.loc[self.raw.index if index is None else index, cols].copy()
        for c in out.columns:
            if not pd.api.types.is_string_dtype(out[c]) or out[c].dtype == object:
                out[c] = _as_text(out[c])
            out[c] = out[c].where(out[c] != "")  # an empty cell is a missing one
        return out

    def reading(self) -> dict[str, Any]:
        """How the file was read, for provenance and validation.json."""
        return {"encoding": self.encoding, "encoding_source": self.encoding_source, "delimiter": self.delimiter,
                "decimal": self.decimal, "sheet": self.sheet, "header_row": self.header_row,
                "normalised_cells": dict(self.normalised), "renamed_headers": dict(self.renamed),
                "notes": list(self.notes)}

    def without_rows(self) -> "Wave":
        """This wave with no rows (its columns, file facts and reading kept): what a run keeps
        once the rows are validated, so a million loaded rows do not stay beside the clean ones."""
        return replace(self, frame=self.frame.iloc[:0], raw=None if self.raw is None else self.raw.iloc[:0],
                       answers=None)

    def __repr__(self) -> str:
        extra = f", normalised={sum(self.normalised.values())} cells" if self.normalised else ""
        return (f"Wave({self.path.name!r}, survey={self.spec.name!r}, rows={len(self.frame)}, "
                f"format={self.file_format}, pii_dropped={list(self.pii_dropped)}{extra})")


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


def _numeric_columns(spec: Spec) -> list[str]:
    cols = [c for c, _, _ in spec.numeric_items()]
    cols += [c for c in (spec.weight, spec.duration) if c]
    return list(dict.fromkeys(cols))


def _as_text(values: pd.Series) -> pd.Series:
    """Text form of a column, keeping missing values missing; whole floats lose their '.0'."""
    def conv(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return np.nan
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        if isinstance(v, (float, np.floating)):
            return repr(float(v))
        return str(v)

    return values.map(conv).astype(object)


def _cap_cells(frame: pd.DataFrame, skip: set[str], notes: list[str]) -> None:
    """Cut absurdly long text cells in place (free-text columns are cut while being redacted)."""
    for col in frame.columns:
        if col in skip or not (pd.api.types.is_string_dtype(frame[col]) or frame[col].dtype == object):
            continue
        lengths = frame[col].astype("string").str.len()
        long = (lengths > MAX_CELL_CHARS).fillna(False).to_numpy(bool)
        if long.any():
            values = frame[col].astype(object)
            values[long] = [cap_text(v) for v in values[long]]
            frame[col] = values
            notes.append(f"{col}: {int(long.sum())} cell{'s' if long.sum() > 1 else ''} longer than "
                         f"{MAX_CELL_CHARS:,} characters cut")


def read_wave(path: str | Path, spec: Spec) -> Wave:
    """Load a wave: read it, drop PII, redact free text, match the spec's columns, read numbers.

    Parameters
    ----------
    path : str or Path
        csv/tsv/txt (any common encoding, delimiter and decimal mark), xlsx, SPSS .sav or parquet.
    spec : Spec
        The columns it names are matched to the file's headers (trimmed, case-insensitive); its
        ``source`` key sets what is otherwise detected.

    Returns
    -------
    Wave

    Raises
    ------
    InputError
        Unreadable file, an ambiguous encoding, rows the parser lost, duplicate or ambiguous
        headers, or a column the spec names that the file lacks (naming it, its role and the
        closest headers).

    Examples
    --------
    >>> wave = read_wave("data/retail_2026Q3.csv", load_spec("data/retail-csat.yaml"))  # doctest: +SKIP
    >>> wave.encoding, wave.delimiter, wave.pii_dropped                                    # doctest: +SKIP
    ('utf-8', ',', ('email', 'phone'))
    """
    path = Path(path)
    sha256 = in_background(_sha256, path)  # hashing leaves the interpreter free: it runs beside the read
    table = read_table(path, spec)
    frame, notes = table.frame, list(table.notes)
    wanted = wanted_columns(spec)
    where = ""
    if table.sheet is not None:
        where = f" (sheet {table.sheet!r}, header on row {table.header_row})"
    elif table.header_row and table.header_row > 1:
        where = f" (header on row {table.header_row})"
    found = match_headers(list(frame.columns), wanted, path, optional=spec.pii, where=where,
                          spec_file=spec.source)
    # privacy first: PII columns leave before anything else looks at the rows
    pii_headers = [h for h, c in found.items() if c in set(spec.pii)]
    frame = frame.drop(columns=pii_headers)
    pii = tuple(c for c in spec.pii if c in {found[h] for h in pii_headers})
    renamed = {h: c for h, c in found.items() if h != c and c not in pii}
    frame = frame.rename(columns=renamed)
    labels = {renamed.get(k, k): v for k, v in table.value_labels.items()}
    reserved = [c for c in frame.columns if c.startswith(DERIVED_PREFIX)]
    if reserved:
        raise InputError(path, f"column {reserved[0]!r} uses the reserved prefix {DERIVED_PREFIX!r}")
    frame = frame.reset_index(drop=True)
    may_be_long = table.longest is None or table.longest > MAX_CELL_CHARS
    free_text = [col for col in spec.text if col in frame.columns]
    cap_notes: list[str] = []
    if table.text and may_be_long:
        _cap_cells(frame, set(spec.text), cap_notes)
    numeric = _numeric_columns(spec)
    decimal = spec.data_source.decimal or (sniff_decimal([frame[c] for c in numeric]) if table.text else None)
    text_cols = set(_text_columns(spec))

    def convert(item: tuple[str, pd.Series]) -> tuple[pd.Series, int]:
        col, values = item
        if col == spec.duration:
            return to_seconds(values, decimal or ".")
        if col in numeric:
            return to_numbers(values, decimal or ".")
        if table.text:
            missing = missing_mask(values) if len(values) else np.zeros(0, dtype=bool)
            return (values.where(~missing) if missing.any() else values), 0  # no copy when nothing is missing
        if col in text_cols:
            return _labelled(values, labels.get(col), col in spec.segments or col in spec.categories), 0
        return values, 0

    def redact() -> None:  # pure Python: runs in this thread while the other columns are converted
        for col in free_text:
            before = (frame[col].astype("string").str.len() > MAX_CELL_CHARS).fillna(False).sum() \
                if may_be_long else 0
            frame[col] = redact_series(frame[col])
            if before:
                notes.append(f"{col}: {int(before)} cell{'s' if before > 1 else ''} longer than "
                             f"{MAX_CELL_CHARS:,} characters cut")

    others = [(col, frame[col]) for col in frame.columns if col not in free_text]
    converted = dict(zip([col for col, _ in others], map_in_threads(convert, others, meanwhile=redact)))
    notes += cap_notes
    raw = frame
    converted.update(zip(free_text, map(convert, [(col, frame[col]) for col in free_text])))
    normalised = {col: converted[col][1] for col in frame.columns if converted[col][1]}
    # copy=False: each column keeps its own array (consolidating them would copy every number once more)
    frame = pd.DataFrame({col: converted[col][0] for col in frame.columns}, index=frame.index,
                         columns=list(frame.columns), copy=False)
    if normalised:
        notes.append("numbers normalised before validation: " +
                     ", ".join(f"{c} {n}" for c, n in normalised.items()))
    if spec.duration in frame.columns and frame[spec.duration].dtype == object:
        odd = sum(isinstance(v, str) for v in frame[spec.duration].to_numpy())
        if odd:  # no quarantine reason: the interview may be fine, its length is unknown
            notes.append(f"{spec.duration}: {odd} cell{'s are' if odd > 1 else ' is'} no length of time "
                         f"(not checked for speeding)")
    declared = spss_missing(path) if table.file_format == "sav" else {}
    view = answer_view(frame, spec, declared)
    if view.labelled_points:
        notes.append("answers written as a scale point and its label (\"7 - Very satisfied\") read as the point, "
                     "or as the code the spec lists for the label: " +
                     ", ".join(f"{c} {n}" for c, n in view.labelled_points.items()))
    frame = add_derived_columns(frame, spec, declared, view)
    return Wave(frame=frame, spec=spec, path=path, sha256=sha256(), file_format=table.file_format,
                encoding=table.encoding, value_labels=labels, pii_dropped=pii, raw=raw,
                encoding_source=table.encoding_source, delimiter=table.delimiter, decimal=decimal,
                sheet=table.sheet, header_row=table.header_row, normalised=normalised, renamed=renamed,
                notes=tuple(notes), declared=declared, answers=view)


def _labelled(values: pd.Series, labels: dict | None, use_labels: bool) -> pd.Series:
    """A typed column (sav, parquet) as text; segment codes shown by their SPSS value labels."""
    if labels and use_labels:
        values = values.map(lambda v, m=labels: m.get(v, v))
    return _as_text(values)


def add_derived_columns(frame: pd.DataFrame, spec: Spec, declared: dict[str, FileMissing] | None = None,
                        view: AnswerView | None = None) -> pd.DataFrame:
    """Add the derived columns (load → frame + derived columns).

    Gaps per dimension, composite scores, each rated column's answer codes, and the
    straight-line, speeder and repeated-header flags; see
    :func:`csatlib.ingest.recode.derived_columns`. ``declared``: what the file declares missing
    (SPSS); ``view``: the answers already read, so they are not read twice.
    """
    view = view if view is not None else answer_view(frame, spec, declared)
    derived = derived_columns(frame, spec, view)
    return pd.concat([frame, pd.DataFrame(derived, index=frame.index, copy=False)], axis=1)
