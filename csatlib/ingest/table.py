"""Read a data file as it is — every row, every header, cells as text for csv and xlsx — before
the spec's columns are matched (:func:`read_table`; :func:`csatlib.ingest.load.read_wave` builds
on it).

Text files are decoded with the spec's ``source.encoding`` or a detected encoding that is never
a silent guess (:mod:`.encoding`); the delimiter and the header row are sniffed from the spec's
column names (:mod:`.sniff`); the record count is checked against an independent strict count,
so a stray double quote cannot merge rows unnoticed (:mod:`.records`). Workbooks: the sheet
holding the spec's columns (:mod:`.xlsx`). SPSS files keep their value labels.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..errors import InputError
from ..spec import Source, Spec
from .encoding import decode_bytes
from .headers import export_label_rows, header_key, joined_headers, unnamed_header
from .records import line_offsets, read_records, scan_records, verify_rows
from .sniff import sniff_layout

__all__ = ["Table", "read_table", "FORMATS", "wanted_columns"]

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".sav": "sav", ".zsav": "sav", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class Table:
    """A data file as read, before the spec's columns are matched (see :func:`read_table`)."""

    frame: pd.DataFrame
    file_format: str
    encoding: str | None = None
    encoding_source: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    value_labels: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    text: bool = True  # cells are text as read (csv, xlsx), not typed values (sav, parquet)
    longest: int | None = None  # an upper bound on any cell's length in characters, when known


def wanted_columns(spec: Spec) -> dict[str, str]:
    """Every column the spec names, PII included, with its role."""
    wanted = dict(spec.roles())
    for p in spec.pii:
        wanted.setdefault(p, "pii")
    return wanted


def _spec_strings(value: Any) -> Iterator[str]:
    """Every text in the spec document (column names, allowed values, labels)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _spec_strings(k)
            yield from _spec_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _spec_strings(v)


def read_table(path: str | Path, spec: Spec) -> Table:
    """Read a data file as-is: every row, every header, cells as text for csv and xlsx.

    Parameters
    ----------
    path : str or Path
    spec : Spec
        Its ``source`` options are applied and its column names guide the sniffing (delimiter,
        header row, sheet, encoding evidence).

    Returns
    -------
    Table

    Raises
    ------
    InputError
        Missing, empty, corrupt or unsupported file, ambiguous encoding, a record count that
        disagrees with the parser's, duplicate headers; the message names the file.
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
    source = spec.data_source
    wanted_keys = {header_key(c) for c in wanted_columns(spec)}
    try:
        if fmt == "csv":
            table = _read_csv(path, spec, source, wanted_keys)
        elif fmt == "xlsx":
            from .xlsx import read_sheet

            sheet = read_sheet(path, wanted_keys, sheet=source.sheet, header_row=source.header_row)
            table = Table(sheet.frame, "xlsx", sheet=sheet.name, header_row=sheet.header_row, notes=sheet.notes)
        elif fmt == "sav":
            table = _read_sav(path, spec, source)
        else:
            frame = pd.read_parquet(path)
            table = Table(frame, "parquet", text=False)
    except InputError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # readers raise many types on corrupt input (ParserError, BadZipFile, ...)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"cannot read as {fmt}: {detail[:200]}") from None
    frame = table.frame
    frame.columns = [str(c) for c in frame.columns]
    joined = joined_headers(list(frame.columns), frame.iloc[0].tolist()) if table.text and len(frame) else None
    if joined is not None:
        frame = table.frame = frame.iloc[1:].reset_index(drop=True)
        frame.columns = joined
        table.notes.append("the row below the header holds SurveyMonkey's answer labels ('Response', the items "
                           "of grid and multiple-choice questions): joined to the header, an item's column is "
                           "named 'question - item'")
    dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupes:
        raise InputError(path, f"duplicate column names {dupes}")
    if not any(c.strip() for c in frame.columns):
        raise InputError(path, "file has no header row or data")
    if table.text:
        labelling = export_label_rows(frame.iloc[:2].itertuples(index=False, name=None))
        if labelling:
            table.frame = frame.iloc[labelling:].reset_index(drop=True)
            what = "the question texts and the import ids" if labelling == 2 else "the import ids"
            table.notes.append(f"the {labelling} row{'s' if labelling > 1 else ''} below the header "
                               f"({what} of a Qualtrics export) label the columns: not read as respondents")
    return table


def _read_csv(path: Path, spec: Spec, source: Source, wanted_keys: set[str]) -> Table:
    data = path.read_bytes()
    labels = [*spec.segments, *spec.categories, *([spec.wave] if spec.wave else [])]
    decoded = decode_bytes(data, path, source.encoding,
                           evidence=[s for s in _spec_strings(dict(spec.raw)) if not s.isascii()],
                           shown={header_key(c) for c in labels})
    text = decoded.text
    carriage = "\r" in text
    if carriage:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.isspace():  # (not text.strip(): a copy of the whole file)
        raise InputError(path, "file has no header row or data")
    default = "\t" if path.suffix.lower() == ".tsv" else ","
    layout = sniff_layout(text, wanted_keys, delimiter=source.delimiter, header_row=source.header_row,
                          default=default)
    notes = [f"encoding {decoded.encoding} {decoded.note}"] if decoded.note else []
    # the scan and the parser read UTF-8 bytes with \n line ends: a plain UTF-8 file already is
    body = data if decoded.how == "utf-8" and not carriage else text.encode("utf-8")
    decoded.text = ""  # the bytes are all that is needed from here: free the decoded copy
    del data, text
    offset, first_line = 0, 1
    if layout.header_row > 1:
        offset, first_line = _record_offset(body, layout.delimiter, layout.header_row - 1)
        if offset >= len(body):
            raise InputError(path, f"the header row {layout.header_row} is past the end of the file")
        if source.header_row is None:
            notes.append(f"header found on line {first_line} ({first_line - 1} line"
                         f"{'s' if first_line > 2 else ''} above it skipped); set source.header_row to change it")
        body = body[offset:]
    scan = scan_records(body, layout.delimiter, path, first_line)
    header = read_records(body[: scan.header_end].decode("utf-8"), layout.delimiter, 1)
    headers = [h for h in header[0]] if header else []
    if not any(h.strip() for h in headers):
        raise InputError(path, "file has no header row or data")
    # a column with no name (Excel's empty columns saved as csv) is named by its position, as a
    # workbook's are: no spec can name it, so two of them are no ambiguity
    headers = [h if h.strip() else unnamed_header(str(j + 1)) for j, h in enumerate(headers)]
    dupes = sorted({h for h in headers if headers.count(h) > 1})
    if dupes:
        raise InputError(path, f"duplicate column names {dupes}")
    data_bytes = body[scan.header_end:]
    names = [f"c{i}" for i in range(len(headers) + scan.row_names)]
    longest = int(np.diff(np.append(scan.starts, len(body))).max()) if scan.n_records else 0
    if scan.n_records and not scan.blank_like and bool(np.all(scan.fields == len(names))):
        frame = _parse_arrow(data_bytes, names, layout.delimiter, multiline=bool(np.any(scan.spans > 1)),
                             block_size=max(1 << 20, 2 * longest + 1024))
    else:
        frame = _parse_pandas(data_bytes, names, layout.delimiter)
    verify_rows(scan, body, layout.delimiter, frame["c0"], len(frame), path)
    if scan.row_names:  # every record has one field more than the header
        if bool((frame[names[-1]] == "").all()):  # each ends with a delimiter: an exporter's trailing one
            frame = frame.drop(columns=names[-1])
            notes.append("every row ends with one delimiter more than the header: the empty last field "
                         "is not read as a column")
        else:
            frame = frame.drop(columns=names[0])
            notes.append("every row has one field more than the header: the first is the row's name (as R's "
                         "write.table writes row names), not read as a column")
    frame.columns = headers
    return Table(frame, "csv", encoding=decoded.encoding, encoding_source=decoded.how, delimiter=layout.delimiter,
                 header_row=layout.header_row, notes=notes, longest=longest)


def _record_offset(body: bytes, delimiter: str, records: int) -> tuple[int, int]:
    """Byte offset and 1-based line number of the record after the first ``records`` records."""
    import csv

    text = body.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines = 0
    for _ in range(records):
        if next(reader, None) is None:
            break
        lines = reader.line_num
    starts = line_offsets(body)
    return (int(starts[lines]) if lines < len(starts) else len(body)), lines + 1


def _parse_arrow(data: bytes, names: list[str], delimiter: str, multiline: bool,
                 block_size: int = 1 << 20) -> pd.DataFrame:
    """Every cell as text with Arrow's csv reader (multi-threaded)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not data or data.isspace():
        return pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, block_size=block_size),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                         newlines_in_values=multiline, ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))
    return table.to_pandas()


def _parse_pandas(data: bytes, names: list[str], delimiter: str) -> pd.DataFrame:
    """Every cell as text with pandas' C parser, which pads rows with fewer fields than the header."""
    if not data or data.isspace():
        return pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
    frame = pd.read_csv(io.BytesIO(data), header=None, names=names, sep=delimiter, dtype=str, encoding="utf-8",
                        keep_default_na=False, na_filter=False, index_col=False, skip_blank_lines=True,
                        quotechar='"', doublequote=True, engine="c")
    return frame.fillna("")


def _read_sav(path: Path, spec: Spec, source: Source) -> Table:
    import pyreadstat

    kwargs = {"encoding": source.encoding} if source.encoding else {}
    frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True, **kwargs)
    labels = {col: dict(v) for col, v in (meta.variable_value_labels or {}).items()}
    return Table(frame, "sav", encoding=getattr(meta, "file_encoding", None) or source.encoding,
                 encoding_source="source.encoding" if source.encoding else "file", value_labels=labels, text=False)
