"""Counting the records of a csv independently of the parser that reads it, so no row vanishes.

A stray double quote in a comment (``"great service`` with no closing quote) opens a quoted
field that swallows the following lines until the next quote; a lenient parser then merges
those rows into one and reports fewer rows, without a message. This module finds the record
structure the strict reading of RFC 4180 gives (Python's :mod:`csv` with ``strict=True`` is the
reference), and :func:`verify_rows` compares it with the parser's row count.

For speed the structure is computed with numpy over the bytes: in a file whose every quote is
well placed (an opening quote at the start of a field, a closing quote before a delimiter or
line end, doubled quotes inside quoted fields) the quoted state at any byte is the parity of the
quotes before it, so record boundaries are the newlines after an even number of quotes. Where
any quote is placed otherwise, the file is scanned with :mod:`csv` itself (strict), which
either gives the records or names the line of the first bad quote. ``tests/test_records.py``
checks that both ways agree on generated files.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["RecordScan", "scan_records", "verify_rows", "read_records", "line_offsets"]

_QUOTE, _NL = ord('"'), ord("\n")
# bytes compared per pass: a comparison of the whole file at once would allocate a boolean array,
# and an array of offsets of every delimiter, the size of the file (page faults on each)
_CHUNK = 1 << 22


@dataclass
class RecordScan:
    """The record structure of a csv body (the bytes from the header record on).

    Attributes
    ----------
    n_fields : int
        Fields in the header record.
    starts : ndarray
        Byte offset where each non-blank data record starts (the header excluded).
    lines : ndarray
        1-based line number (in the whole file) where each of those records starts.
    fields : ndarray
        Field count of each of those records.
    spans : ndarray
        Physical lines each of those records covers (1 unless a quoted field holds line breaks).
    header_end : int
        Byte offset just past the header record (its line end included).
    exact : str
        ``"parity"`` (vectorised) or ``"csv"`` (the file needed Python's csv module).
    blank_like : int
        Lines holding only spaces or tabs: no records (as empty lines), counted apart.
    row_names : bool
        Every record has one field more than the header: a row name first, under no header (as
        R's ``write.table`` writes them, and R's ``read.table`` and pandas' ``read_csv`` read them),
        or a delimiter ending every record; the reader tells which from the last field.
    """

    n_fields: int
    header_end: int
    starts: np.ndarray
    lines: np.ndarray
    fields: np.ndarray
    spans: np.ndarray
    exact: str
    blank_like: int = 0
    row_names: bool = False

    @property
    def n_records(self) -> int:
        return len(self.starts)


def scan_records(body: bytes, delimiter: str, path: str | Path, first_line: int = 1) -> RecordScan:
    """Records of a UTF-8 csv body whose line ends are ``\\n``.

    Parameters
    ----------
    body : bytes
        The file from its header record on, UTF-8, ``\\r\\n`` already turned into ``\\n``.
    delimiter : str
        One ASCII character.
    path : str or Path
        Named in errors.
    first_line : int
        The line number of the header in the whole file (title rows above it count).

    Raises
    ------
    InputError
        A quote the strict csv reading refuses (text after a closing quote, a quoted field that
        never closes, a quoted field swallowing lines that look like rows of their own), or a
        record with more fields than the header; the message names the line.
    """
    buf = np.frombuffer(body, dtype=np.uint8)
    quotes, newlines = _positions(buf, _QUOTE, _NL)
    if _parity_holds(buf, quotes, ord(delimiter)):
        scan = _scan_parity(buf, quotes, newlines, ord(delimiter), first_line)
    else:
        scan = _scan_csv(body, delimiter, path, first_line)
    _check_fields(scan, body, delimiter, path)
    return scan


def _positions(buf: np.ndarray, *values: int) -> list[np.ndarray]:
    """The offsets of each of ``values`` in ``buf``, ascending (one pass, a chunk at a time)."""
    found: list[list[np.ndarray]] = [[] for _ in values]
    for start in range(0, len(buf), _CHUNK):
        chunk = buf[start:start + _CHUNK]
        for parts, value in zip(found, values):
            parts.append(np.flatnonzero(chunk == value) + start)
    return [np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64) for parts in found]


def _count_before(buf: np.ndarray, value: int, *offsets: np.ndarray) -> list[np.ndarray]:
    """For each ascending array of offsets in ``[0, len(buf)]``: how many ``value`` bytes lie before each.

    Equal to ``np.searchsorted(np.flatnonzero(buf == value), offsets)`` without the array of every
    occurrence (a csv's delimiters can be a fifth of its bytes).
    """
    counts = [np.zeros(len(o), dtype=np.int64) for o in offsets]
    starts = np.arange(0, len(buf), _CHUNK)
    limits = np.append(starts, len(buf) + 1)  # the last chunk also takes the offset len(buf)
    edges = [np.searchsorted(o, limits) for o in offsets]
    seen = 0
    for k, start in enumerate(starts):
        local = np.flatnonzero(buf[start:start + _CHUNK] == value)
        for o, e, c in zip(offsets, edges, counts):
            c[e[k]:e[k + 1]] = seen + np.searchsorted(local, o[e[k]:e[k + 1]] - start)
        seen += len(local)
    return counts


def _parity_holds(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """True when every quote sits where the parity model and the strict csv reading agree."""
    k = len(quotes)
    if k == 0:
        return True
    if k % 2:
        return False  # a quoted field never closes: the csv scan names the line
    n = len(buf)
    opening, closing = quotes[0::2], quotes[1::2]
    prev = np.where(opening > 0, buf[np.maximum(opening - 1, 0)], _NL)
    # the second quote of a doubled pair ("") follows the closing-looking quote directly
    paired = np.zeros(len(opening), dtype=bool)
    paired[1:] = opening[1:] - 1 == closing[:-1]
    if not np.all((prev == delim) | (prev == _NL) | paired):
        return False
    nxt = np.where(closing + 1 < n, buf[np.minimum(closing + 1, n - 1)], _NL)
    return bool(np.all((nxt == delim) | (nxt == _NL) | (nxt == _QUOTE)))


def _scan_parity(buf, quotes, newlines, delim, first_line) -> RecordScan:
    n = len(buf)
    opening, closing = quotes[0::2], quotes[1::2]
    # a record ends at a newline after an even number of quotes (outside quoted fields), or at
    # the end of the file
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0] if len(quotes) else newlines
    if n and buf[-1] != _NL:
        ends = np.append(ends, n)
    if not len(ends):
        ends = np.array([n])
    starts = np.concatenate([[0], ends[:-1] + 1])
    # fields: delimiters per record, less those inside its quoted fields
    at_bounds, at_opening, at_closing = _count_before(buf, delim, np.append(starts, n), opening, closing)
    fields = np.diff(at_bounds) + 1
    if len(opening):
        quoted = at_closing - at_opening
        fields -= np.bincount(np.searchsorted(ends, opening), weights=quoted, minlength=len(ends)).astype(np.int64)
    lines = np.searchsorted(newlines, starts) + first_line
    last = np.searchsorted(newlines, np.maximum(ends - 1, starts)) + first_line
    spans = last - lines + 1
    keep = ends > starts  # blank lines are no records
    keep[0] = False       # the header
    blank_like = 0
    lead = buf[np.minimum(starts, max(n - 1, 0))] if n else np.zeros(len(starts), dtype=np.uint8)
    maybe = keep & (fields == 1) & (spans == 1) & ((lead == 32) | (lead == 9))
    for i in np.flatnonzero(maybe):  # lines of spaces only are blank too
        if not bytes(buf[starts[i]:ends[i]]).strip(b" \t"):
            keep[i] = False
            blank_like += 1
    header_end = int(min(ends[0] + 1, n))
    return RecordScan(n_fields=int(fields[0]), header_end=header_end, starts=starts[keep], lines=lines[keep],
                      fields=fields[keep], spans=spans[keep], exact="parity", blank_like=blank_like)


def _scan_csv(body: bytes, delimiter: str, path, first_line: int) -> RecordScan:
    text = body.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=True)
    starts, lines, fields, spans = [], [], [], []
    n_fields = None
    blank_like = 0
    header_end = len(body)
    prev_line = 0
    offsets = line_offsets(body)
    try:
        for record in reader:
            start_line = prev_line + 1
            prev_line = reader.line_num
            if n_fields is None:
                n_fields = len(record)
                header_end = int(offsets[reader.line_num]) if reader.line_num < len(offsets) else len(body)
                continue
            if not record or (len(record) == 1 and not record[0].strip(" \t")
                              and reader.line_num == start_line):
                blank_like += bool(record)
                continue
            starts.append(offsets[start_line - 1])
            lines.append(start_line + first_line - 1)
            fields.append(len(record))
            spans.append(reader.line_num - start_line + 1)
    except csv.Error as exc:
        start = prev_line + first_line
        if "unexpected end of data" in str(exc):
            raise InputError(path, f"line {start}: a double quote opens a field that never closes "
                                   f"(a stray double quote?); the file cannot be read safely") from None
        at = reader.line_num + first_line - 1
        where = f"line {start}" if at == start else f"line {start} (the record starting there fails at line {at})"
        raise InputError(path, f"{where}: {exc} (a double quote inside a field must be doubled and the field "
                               f"quoted; a stray double quote?)") from None
    return RecordScan(n_fields=n_fields or 0, header_end=min(header_end, len(body)), starts=np.asarray(starts, dtype=np.int64),
                      lines=np.asarray(lines, dtype=np.int64), fields=np.asarray(fields, dtype=np.int64),
                      spans=np.asarray(spans, dtype=np.int64), exact="csv", blank_like=blank_like)


def line_offsets(body: bytes) -> np.ndarray:
    """Byte offset where each line of ``body`` starts (0 first, then one past each ``\\n``)."""
    newlines, = _positions(np.frombuffer(body, dtype=np.uint8), _NL)
    return np.concatenate([[0], newlines + 1])


def _check_fields(scan: RecordScan, body: bytes, delimiter: str, path) -> None:
    h = scan.n_fields
    if scan.n_records and h and bool(np.all(scan.fields == h + 1)):
        scan.row_names = True  # a row name first (R's write.table), or a delimiter ending each record
        h += 1
    multi = scan.spans > 1
    # more fields than the header anywhere; a multi-line record with any other count means a
    # quoted field swallowed other rows
    bad = np.flatnonzero((scan.fields > h) | (multi & (scan.fields != h)))
    if len(bad):
        i = int(bad[0])
        if multi[i]:
            raise InputError(path, f"line {scan.lines[i]}: a quoted field runs over {scan.spans[i]} lines and "
                                   f"the record has {scan.fields[i]} fields, not {h} (a stray double quote?)")
        raise InputError(path, f"line {scan.lines[i]}: {scan.fields[i]} fields, but the header has {h}")
    # multi-line records with the right field count: do the swallowed lines look like rows?
    sep = delimiter.encode()
    for i in np.flatnonzero(multi)[:1000]:
        start = scan.starts[i]
        end = scan.starts[i + 1] if i + 1 < scan.n_records else len(body)
        inner = body[start:end].rstrip(b"\n").split(b"\n")[1:-1]
        if h >= 4 and len(inner) >= 2 and all(ln.count(sep) == h - 1 for ln in inner):
            raise InputError(path, f"line {scan.lines[i]}: a quoted field runs over {scan.spans[i]} lines that "
                                   f"look like rows of their own (a stray double quote?)")


def read_records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    """The first ``limit`` records of a text, read leniently (for sniffing and finding the header)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    out: list[list[str]] = []
    try:
        for record in reader:
            out.append(record)
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def verify_rows(scan: RecordScan, body: bytes, delimiter: str, parsed_first, n_parsed: int, path) -> None:
    """Compare the parser's row count with the independent record count.

    Parameters
    ----------
    scan : RecordScan
    body : bytes
        The bytes the scan was made on.
    delimiter : str
    parsed_first : sequence of str
        The first column of every parsed row (to find where the two part).
    n_parsed : int
        Rows the parser read.

    Raises
    ------
    InputError
        Naming the first line where the two disagree.
    """
    if n_parsed == scan.n_records:
        return
    parsed_first = list(parsed_first)
    line = None
    for i in range(min(n_parsed, scan.n_records)):
        end = scan.starts[i + 1] if i + 1 < scan.n_records else len(body)
        record = next(csv.reader(io.StringIO(body[scan.starts[i]:end].decode("utf-8"), newline=""),
                                 delimiter=delimiter), [""])
        if str(parsed_first[i]) != (record[0] if record else ""):
            line = int(scan.lines[i])
            break
    if line is None:
        i = min(n_parsed, scan.n_records)
        line = int(scan.lines[i]) if i < scan.n_records else (int(scan.lines[-1]) + 1 if scan.n_records else 2)
    raise InputError(path, f"the parser read {n_parsed} rows but a strict line-by-line count finds "
                           f"{scan.n_records} records; they part at line {line} (a stray double quote?)")
