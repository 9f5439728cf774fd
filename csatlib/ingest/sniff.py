"""Sniffing a csv's delimiter and the row that holds its header.

European Excel writes ``;``-separated files (the comma being the decimal mark), "Unicode text"
exports are tab-separated, some systems use ``|``. Title rows ("Customer survey 2026 - export")
often sit above the header. The spec knows the column names, which makes both questions easy to
answer on files never seen before: the delimiter is the one under which a row of the first
:data:`HEAD_ROWS` holds the most spec columns (then the one giving the most consistent field
counts), and the header is that row. ``source.delimiter`` and ``source.header_row`` override.
"""
from __future__ import annotations

from dataclasses import dataclass

from .headers import count_matches
from .records import read_records

__all__ = ["CANDIDATE_DELIMITERS", "HEAD_ROWS", "Layout", "sniff_layout", "find_header_row"]

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
HEAD_ROWS = 30          # rows searched for the header
_SNIFF_CHARS = 1 << 16  # text examined


@dataclass(frozen=True)
class Layout:
    """Where the table starts and how its fields are separated.

    Attributes
    ----------
    delimiter : str
    header_row : int
        1-based record number of the header (title rows above it are skipped).
    matches : int
        Spec columns found in that row.
    sniffed : bool
        True when the delimiter was not given by the spec.
    """

    delimiter: str
    header_row: int
    matches: int
    sniffed: bool


def find_header_row(rows: list[list[object]], wanted_keys: set[str]) -> tuple[int, int]:
    """The 0-based index of the first row holding the most spec columns, and how many it holds.

    Row 0 when no row holds any (the missing-column error then lists that row's headers).
    """
    best, best_n = 0, 0
    for i, row in enumerate(rows[:HEAD_ROWS]):
        n = count_matches(row, wanted_keys)
        if n > best_n:
            best, best_n = i, n
            if n == len(wanted_keys):
                break
    return best, best_n


def sniff_layout(text: str, wanted_keys: set[str], *, delimiter: str | None = None,
                 header_row: int | None = None, default: str = ",") -> Layout:
    """Choose the delimiter and the header row of a csv text.

    Parameters
    ----------
    text : str
        The decoded file (only its start is examined).
    wanted_keys : set of str
        :func:`~csatlib.ingest.headers.header_key` of every spec column.
    delimiter, header_row : optional
        From the spec's ``source``; what is given is not sniffed.
    default : str
        The delimiter when nothing tells them apart (``\\t`` for .tsv files).
    """
    head = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in head:
        head = head[: head.rfind("\n") + 1]
    candidates = [delimiter] if delimiter else [default, *[d for d in CANDIDATE_DELIMITERS if d != default]]
    best: tuple | None = None
    for d in candidates:
        rows = read_records(head, d, HEAD_ROWS + 50)
        if header_row:
            idx = header_row - 1
            n = count_matches(rows[idx], wanted_keys) if idx < len(rows) else 0
        else:
            idx, n = find_header_row(rows, wanted_keys)
        width = len(rows[idx]) if idx < len(rows) else 0
        body = [r for r in rows[idx + 1:] if r]
        consistent = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (n, width > 1, round(consistent, 2), width)
        if best is None or score > best[0]:
            best = (score, d, idx, n)
    assert best is not None
    _, d, idx, n = best
    return Layout(delimiter=d, header_row=idx + 1, matches=n, sniffed=delimiter is None)
