"""Matching the spec's column names to a file's headers.

Exports rarely spell headers exactly as a spec does: ``Mail`` for ``mail``, a trailing space
from Excel, a full-width letter, a line break inside a long question title. A spec column
matches the header that is equal to it after Unicode (NFKC) normalisation, trimming, collapsing
inner whitespace and case folding. Two headers that are equal under that comparison and match a
spec column are an error naming both (neither is picked). A spec column with no match is an
error with "did you mean" suggestions taken from the file's headers (:mod:`difflib`).
"""
from __future__ import annotations

import difflib
import json
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import InputError

__all__ = ["header_key", "match_headers", "count_matches", "export_label_rows", "unnamed_header", "is_unnamed",
           "joined_headers"]


def header_key(name: object) -> str:
    """The form headers are compared in: NFKC, trimmed, inner whitespace collapsed, case-folded.

    Examples
    --------
    >>> header_key("  Overall\\u00a0Satisfaction ")
    'overall satisfaction'
    >>> header_key("ＮＰＳ") == header_key("nps")
    True
    """
    return " ".join(unicodedata.normalize("NFKC", str(name)).split()).casefold()


def count_matches(cells: Iterable[object], wanted_keys: set[str]) -> int:
    """How many of ``wanted_keys`` a row of cells holds (to find the header row)."""
    return len({header_key(c) for c in cells if c is not None} & wanted_keys)


def unnamed_header(position: str) -> str:
    """The name of a column with no header: its position (``(column 3)``, ``(column C)`` in a workbook)."""
    return f"(column {position})"


_UNNAMED = re.compile(r"\(column [0-9A-Z]+\)")
# the answer labels SurveyMonkey writes under a question's own column in its second header row
_ANSWER_HEADS = frozenset({"response", "open-ended response"})


def is_unnamed(header: str) -> bool:
    return bool(_UNNAMED.fullmatch(header))


def _cell_text(cell: object) -> str:
    """A cell below the header as trimmed text; "" for an empty one (None, NaN)."""
    return "" if cell is None or (isinstance(cell, float) and cell != cell) else str(cell).strip()


def joined_headers(headers: list[str], below: Iterable[object]) -> list[str] | None:
    """SurveyMonkey's two header rows as one, or None when the row below the header is not such a row.

    SurveyMonkey writes each question's text once, over its first column, and under it a second
    header row: ``Response`` (or ``Open-Ended Response``) under a single-answer question, the
    item (or choice) under each column of a grid or multiple-choice question. Two ``Response``
    cells at least are the evidence. A column is then named by its question, and a grid's or
    choice's column by its question and item: ``Please rate: - Staff``.

    Examples
    --------
    >>> joined_headers(["ID", "Overall?", "Please rate:", "(column 4)"], ["", "Response", "Staff", "Price"])
    >>> joined_headers(["ID", "Overall?", "Rate:", "(column 4)", "NPS"], ["", "Response", "Staff", "Price", "Response"])
    ['ID', 'Overall?', 'Rate: - Staff', 'Rate: - Price', 'NPS']
    """
    subs = [_cell_text(c) for c in below]
    if sum(header_key(sub) in _ANSWER_HEADS for sub in subs) < 2:
        return None
    joined, question = [], ""
    for header, sub in zip(headers, [*subs, *[""] * (len(headers) - len(subs))]):
        if not is_unnamed(header):
            question = header
        if not sub or header_key(sub) in _ANSWER_HEADS or not question:
            joined.append(header)
        else:
            joined.append(f"{question} - {sub}")
    return joined


def _is_import_id(text: str) -> bool:
    if not (text.startswith("{") and text.endswith("}")):
        return False
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and "ImportId" in value


def export_label_rows(rows: Iterable[Iterable[object]]) -> int:
    """How many of the first rows below the header label the columns instead of answering them.

    A Qualtrics export has two such rows: the question texts, then the import ids
    (``{"ImportId":"QID1"}`` in every column); with question texts turned off, only the import
    ids. The import-id row is the evidence (every non-empty cell is such an object, two at least);
    without it nothing is skipped, whatever the rows hold.

    Parameters
    ----------
    rows : iterable of rows of cells
        The first two rows below the header, as read (text).

    Returns
    -------
    int
        0, 1 (the import ids) or 2 (the question texts and the import ids).

    Examples
    --------
    >>> export_label_rows([["Response ID", "How satisfied?"], ['{"ImportId":"_recordId"}', '{"ImportId":"QID1"}']])
    2
    >>> export_label_rows([["R_1", "4"], ["R_2", "5"]])
    0
    """
    for position, row in enumerate(list(rows)[:2]):
        cells = [text for text in map(_cell_text, row) if text]
        if len(cells) >= 2 and all(_is_import_id(text) for text in cells):
            return position + 1
    return 0


def match_headers(headers: list[str], wanted: Mapping[str, str], path: str | Path, *,
                  optional: Iterable[str] = (), where: str = "", spec_file: str | None = None) -> dict[str, str]:
    """Find each spec column among the file's headers.

    Parameters
    ----------
    headers : list of str
        The file's headers, as read.
    wanted : mapping
        Spec column -> its role (``"satisfaction"``, ``"pii"`` ...), in spec order.
    path : str or Path
        The data file, named in errors.
    optional : iterable of str
        Spec columns the file may lack (PII columns: they are dropped anyway).
    where : str
        Appended to the missing-column error, e.g. ``" (sheet 'Data', header on row 3)"``.
    spec_file : str, optional
        The spec's file name, named in the missing-column error.

    Returns
    -------
    dict
        File header -> spec column, for every spec column found.

    Raises
    ------
    InputError
        Two headers match one spec column (naming both), two spec columns match one header, or
        a required spec column has no header (naming it, its role and the closest headers).
    """
    optional = set(optional)
    by_key: dict[str, list[str]] = {}
    for h in headers:
        by_key.setdefault(header_key(h), []).append(h)
    found: dict[str, str] = {}
    missing: list[str] = []
    for col, role in wanted.items():
        exact = [h for h in headers if h == col]
        hits = by_key.get(header_key(col), [])
        if len(hits) > 1:
            shown = " and ".join(repr(h) for h in hits)
            raise InputError(path, f"headers {shown} both match the spec's {role} column {col!r}; rename one "
                                   f"of them in the file")
        hit = exact[0] if exact else (hits[0] if hits else None)
        if hit is None:
            if col not in optional:
                missing.append(col)
            continue
        if hit in found:
            raise InputError(path, f"header {hit!r} matches two spec columns, {found[hit]!r} and {col!r}")
        found[hit] = col
    if missing:
        keys = list(by_key)
        parts = []
        for col in missing:
            close = difflib.get_close_matches(header_key(col), keys, n=3, cutoff=0.6)
            guess = [h for k in close for h in by_key[k] if h not in found]
            hint = f"; did you mean {' or '.join(repr(g) for g in guess)}?" if guess else ""
            parts.append(f"{col!r} ({wanted[col]}{hint})")
        named = f" named by {Path(spec_file).name}" if spec_file else ""
        raise InputError(path, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(parts)}{named}{where}")
    return found
