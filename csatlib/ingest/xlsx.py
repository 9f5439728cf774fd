"""Reading one sheet of an Excel workbook as text, every row accounted for.

openpyxl (read-only, cached formula values) gives the cells; this module picks the sheet
(``source.sheet``, or the one sheet whose header holds the spec's columns), finds the header
row (``source.header_row``, or the row holding the spec's columns, so title rows above it are
skipped), and turns cells into the text a reader of the sheet sees: ``4`` not ``4.0``, dates as
ISO dates. The sheet's recorded used range is compared with the rows actually present (a
stale range, which makes readers that trust it drop rows, is read past and noted); wholly empty
rows are skipped and counted, never merged.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .headers import header_key, unnamed_header
from .sniff import HEAD_ROWS, find_header_row

__all__ = ["Sheet", "read_sheet", "cell_text"]


@dataclass
class Sheet:
    """A sheet read as text.

    Attributes
    ----------
    frame : DataFrame
        Every data row below the header (empty rows skipped), cells as text ("" when empty).
    headers : list of str
    name : str
    header_row : int
        1-based row number of the header in the sheet.
    notes : list of str
        What a reader should know (empty rows skipped, a stale used range, the sheet chosen).
    lines : list of int
        The sheet row number of each frame row.
    """

    frame: pd.DataFrame
    headers: list[str]
    name: str
    header_row: int
    notes: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def cell_text(value: object) -> str:
    """A cell as a reader of the sheet sees it under Excel's General format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _open(path: Path):
    import openpyxl

    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _pick_sheet(wb, path: Path, wanted_keys: set[str], sheet: str | int | None, notes: list[str]):
    names = list(wb.sheetnames)
    listing = ", ".join(repr(n) for n in names)
    if isinstance(sheet, int):
        if not 1 <= sheet <= len(names):
            raise InputError(path, f"source.sheet {sheet}: the workbook has {len(names)} sheet"
                                   f"{'s' if len(names) > 1 else ''} ({listing})")
        return wb[names[sheet - 1]]
    if isinstance(sheet, str):
        if sheet in names:
            return wb[sheet]
        hits = [n for n in names if header_key(n) == header_key(sheet)]
        if len(hits) == 1:
            return wb[hits[0]]
        raise InputError(path, f"no sheet {sheet!r} (source.sheet); the workbook has {listing}")
    if len(names) == 1:
        return wb[names[0]]
    scores = []
    for n in names:
        rows = [list(r) for _, r in zip(range(HEAD_ROWS), wb[n].iter_rows(values_only=True))]
        _, matches = find_header_row([[cell_text(c) for c in r] for r in rows], wanted_keys)
        scores.append(matches)
    full = [n for n, s in zip(names, scores) if s == len(wanted_keys) and s]
    if len(full) > 1:
        raise InputError(path, f"sheets {', '.join(repr(n) for n in full)} all hold the spec's columns; "
                               f"set source.sheet in the spec to the one to read")
    best = names[max(range(len(names)), key=lambda i: (scores[i], -i))]
    if best != names[0]:
        notes.append(f"read sheet {best!r}, the one holding the spec's columns (the workbook has {listing})")
    return wb[best]


def read_sheet(path: str | Path, wanted_keys: set[str], *, sheet: str | int | None = None,
               header_row: int | None = None) -> Sheet:
    """Read one sheet of an xlsx workbook as text.

    Parameters
    ----------
    path : str or Path
    wanted_keys : set of str
        :func:`~csatlib.ingest.headers.header_key` of every spec column (to find sheet and header).
    sheet : str or int, optional
        ``source.sheet``: a name, or a 1-based position (as R's ``readxl::read_excel(sheet = 2)``).
    header_row : int, optional
        ``source.header_row``, 1-based.

    Raises
    ------
    InputError
        No such sheet, several sheets holding the spec's columns, an empty sheet, duplicate
        headers (naming them).
    """
    path = Path(path)
    notes: list[str] = []
    wb = _open(path)
    try:
        ws = _pick_sheet(wb, path, wanted_keys, sheet, notes)
        try:
            declared = ws.max_row if ws.max_row and ws.max_row > 0 else None
        except (TypeError, ValueError):  # no recorded range
            declared = None
        ws.reset_dimensions()  # read every row present, whatever range the file records
        grid = [[cell_text(v) for v in values] for values in ws.iter_rows(values_only=True)]
        title = ws.title
    finally:
        wb.close()
    if not any(any(c.strip() for c in r) for r in grid):
        raise InputError(path, f"sheet {title!r} is empty")
    if header_row is not None:
        if header_row > len(grid):
            raise InputError(path, f"source.header_row {header_row} is below the last row ({len(grid)}) of "
                                   f"sheet {title!r}")
        start = header_row - 1
    else:
        start, _ = find_header_row(grid[:HEAD_ROWS], wanted_keys)
    headers_raw = grid[start]
    rows, numbers, empty = [], [], 0
    for r, cells in enumerate(grid[start + 1:], start=start + 2):
        if any(c.strip() for c in cells):
            rows.append(cells)
            numbers.append(r)
        else:
            empty += 1
    del grid
    last = numbers[-1] if numbers else start + 1
    # trailing columns without a header and without data are not columns
    width = max([len(headers_raw), *map(len, rows)], default=0)
    used = 0
    for j in range(width):
        if (j < len(headers_raw) and headers_raw[j].strip()) or any(j < len(r) and r[j].strip() for r in rows):
            used = j + 1
    headers = []
    for j in range(used):
        h = headers_raw[j] if j < len(headers_raw) else ""
        headers.append(h if h.strip() else unnamed_header(_letters(j + 1)))
    dupes = sorted({h for h in headers if headers.count(h) > 1})
    if dupes:
        raise InputError(path, f"duplicate column names {dupes} in sheet {title!r}")
    data = [list(r[:used]) + [""] * (used - len(r[:used])) for r in rows]
    frame = pd.DataFrame(data, columns=headers, dtype="str") if data else \
        pd.DataFrame({h: pd.Series([], dtype="str") for h in headers})
    if empty:
        notes.append(f"{empty} empty row{'s' if empty > 1 else ''} in sheet {title!r} skipped")
    if declared is not None and last > declared:
        notes.append(f"sheet {title!r} records a used range ending at row {declared} but holds data to "
                     f"row {last}; every row was read")
    return Sheet(frame=frame, headers=headers, name=title, header_row=start + 1, notes=notes, lines=numbers)


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out
