"""Great Expectations on each column's distinct values, mapped back to the rows.

A survey's answers are discrete: a million rows of a 1-10 rating hold ten or so distinct values.
An expectation that looks at one cell at a time (a value in a set, between bounds, matching a
pattern, null or not) fails on a row exactly when it fails on that row's value, so GX can check
each distinct value once and the rows holding a failing value are the unexpected rows. This
module builds that frame of distinct values, lets GX validate it, and turns GX's answer back into
row-level results with the counts and percentages GX gives on the full frame (tested equal).

A column with too many distinct values to gain anything (an id, free text) is checked another
way for the null, pattern and uniqueness expectations: GX sees only the rows that can fail one,
found with the very pandas operation GX's pandas engine applies (``isna``, ``str.contains`` of
the pattern on the values as text, ``duplicated(keep=False)``), and its verdict on them is the
record; every other row passes by that same operation. At a million ids this replaces GX's
copies of the whole column with a few rows. The other expectations (a value set or bounds on a
continuous column, table-level checks, hand-added expectations of other kinds) are validated on
the rows, as before.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..concurrency import map_in_threads
from ..stats.collapse import value_codes

__all__ = ["CELL_EXPECTATIONS", "SCHEMA_EXPECTATIONS", "MAX_DISTINCT_SHARE", "RowResult", "validate_on_distinct_values"]

# expectations decided cell by cell (GX "column map" expectations; a ``mostly`` share is then a
# share of the rows' verdicts)
CELL_EXPECTATIONS = frozenset({
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex", "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null"})
# expectations about the columns present, answered by any frame with the same columns
SCHEMA_EXPECTATIONS = frozenset({"expect_column_to_exist", "expect_table_columns_to_match_ordered_list",
                                 "expect_table_columns_to_match_set", "expect_table_column_count_to_equal",
                                 "expect_table_column_count_to_be_between"})
# GX's unexpected_percent divides by all rows for these, by the non-missing rows for the others
_OF_ALL_ROWS = frozenset({"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"})
# a column is worth collapsing when its distinct values are at most this share of the rows
MAX_DISTINCT_SHARE = 0.2
# on a column with more distinct values, these are checked on the rows that can fail them
SUSPECT_EXPECTATIONS = frozenset({"expect_column_values_to_not_be_null", "expect_column_values_to_match_regex",
                                  "expect_column_values_to_not_match_regex"})
UNIQUE = "expect_column_values_to_be_unique"
# rows read to guess whether a text column has too many distinct values to collapse
_SAMPLE_ROWS = 20_000


@dataclass
class RowResult:
    """One expectation's result on the rows, shaped like GX's ExpectationValidationResult as the
    validation step reads it (``expectation_config``, ``success``, ``result``, ``exception_info``)."""

    expectation_config: Any
    success: bool
    result: dict[str, Any]
    exception_info: dict[str, Any] = field(default_factory=dict)


def _column_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row, row position of each code's first occurrence); missing values get a code."""
    if values.dtype == np.float64:  # ratings are coded from their values, not hashed
        codes, size = value_codes(values.to_numpy())
    elif len(values) and values.isna().all():  # a text column nobody needed
        return np.zeros(len(values), dtype=np.uint8), np.zeros(1, dtype=np.int64)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        size = len(uniques)
    firsts = pd.Series(codes).drop_duplicates()  # hashing, not sorting: each code at its first row
    first = np.full(size, -1, dtype=np.int64)
    first[firsts.to_numpy()] = firsts.index.to_numpy()
    used = first >= 0
    if not used.all():  # codes read off the values skip the values nobody gave: number them densely
        codes, first = (np.cumsum(used) - 1)[codes], first[used]
    # the smallest integer type that holds the codes: a million rows of a rating in 1 MB, not 8
    return np.asarray(codes).astype(np.min_scalar_type(max(len(first) - 1, 0))), first


def _expectation_column(e: dict[str, Any]) -> str | None:
    return (e.get("kwargs") or {}).get("column")


def _row_conditioned(e: dict[str, Any]) -> bool:
    """Whether ``e`` applies only to rows meeting a condition on other columns (only GX on the rows
    can apply one)."""
    return bool((e.get("kwargs") or {}).get("row_condition"))


def validate_on_distinct_values(frame: pd.DataFrame, expectations: list[dict[str, Any]],
                                validate: Callable[[pd.DataFrame, list[dict[str, Any]]], list], *,
                                max_distinct_share: float | None = MAX_DISTINCT_SHARE) -> list:
    """Validate ``frame`` against ``expectations`` with GX, cell-by-cell checks on distinct values.

    Parameters
    ----------
    frame : DataFrame
        The rows to validate (any index).
    expectations : list of dict
        GX 1.x expectation dicts.
    validate : callable
        ``validate(df, expectations)`` runs GX on ``df`` and returns its results list (one
        ExpectationValidationResult per expectation).

    Returns
    -------
    list
        One result per expectation: GX's own for those run on the rows, :class:`RowResult` for
        those run on distinct values, whose ``unexpected_index_list`` holds row labels of
        ``frame`` and whose counts are row counts, as GX reports them on the full frame.

    Other Parameters
    ----------------
    max_distinct_share : float or None
        A column is validated on its distinct values when they are at most this share of the
        rows; None validates everything on the rows (GX alone, the reference the tests compare with).
    """
    n = len(frame)
    many: dict[str, bool] = {}  # columns with too many distinct values to collapse
    for e in expectations:
        col = _expectation_column(e)
        if (e.get("type") in CELL_EXPECTATIONS and col in frame.columns and col not in many
                and max_distinct_share is not None and not _row_conditioned(e)):
            many[col] = _too_many_to_collapse(frame[col], max_distinct_share)
    coded = [col for col, too_many in many.items() if not too_many]
    # each column coded on its own: pandas' and numpy's kernels run two columns at once
    codes = dict(zip(coded, map_in_threads(_column_codes, [frame[col] for col in coded])))
    for col in coded:
        many[col] = len(codes[col][1]) > max(1.0, max_distinct_share * n)
    on_values, on_rows, on_columns, on_suspects = [], [], [], []
    for e in expectations:
        col = _expectation_column(e)
        kind = e.get("type")
        if kind in SCHEMA_EXPECTATIONS and n:  # about the columns, not the rows
            on_columns.append(e)
            continue
        if col not in frame.columns or max_distinct_share is None or _row_conditioned(e):
            on_rows.append(e)  # (a row condition reads other columns of the row: only GX on the rows can apply it)
            continue
        if kind == UNIQUE:
            on_suspects.append(e)
            continue
        if kind not in CELL_EXPECTATIONS:
            on_rows.append(e)
            continue
        if not many[col]:
            on_values.append(e)
        elif kind in SUSPECT_EXPECTATIONS:
            on_suspects.append(e)
        else:
            on_rows.append(e)
    results = _validate_suspects(frame, on_suspects, validate) if on_suspects else []
    if on_rows:
        needed = [c for c in frame.columns if c in {_expectation_column(e) for e in on_rows}]
        all_columns = any(_expectation_column(e) is None for e in on_rows)
        results += validate(frame if all_columns else frame[needed], on_rows)
    if not (on_values or on_columns):
        return results
    columns = list(dict.fromkeys(_expectation_column(e) for e in on_values))
    length = max([len(codes[c][1]) for c in columns] or [1])
    # each column's distinct values, padded with its first value (repeats change no verdict); the
    # schema checks also see every other column (its first row, repeated)
    distinct = pd.DataFrame({
        c: frame[c].iloc[np.resize(codes[c][1], length) if c in codes and c in columns
                         else np.zeros(length, dtype=np.int64)].reset_index(drop=True)
        for c in frame.columns if c in columns or on_columns})
    for r in validate(distinct, on_values + on_columns):
        is_cell = r.expectation_config.type in CELL_EXPECTATIONS
        results.append(_to_rows(r, frame, codes) if is_cell else r)
    return results


def _too_many_to_collapse(values: pd.Series, max_share: float) -> bool:
    """A text column whose first rows are nearly all distinct (an id, free text): not worth
    factorising a million values only to learn that."""
    n = len(values)
    if n <= _SAMPLE_ROWS or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    head = values.iloc[:_SAMPLE_ROWS]
    return head.nunique(dropna=False) > 2 * max_share * len(head)


def _can_fail(values: pd.Series, e: dict[str, Any]) -> np.ndarray:
    """The rows that can fail ``e``, by the operation GX's pandas engine applies to each row;
    a null fails only the not-null check, and uniqueness compares the non-null values."""
    kind, kwargs = e["type"], e.get("kwargs") or {}
    missing = values.isna().to_numpy()
    if kind == "expect_column_values_to_not_be_null":
        return missing
    if kind == UNIQUE:
        return values.duplicated(keep=False).to_numpy() & ~missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "has match groups": only whether it matches is read
        found = values.astype(str).str.contains(kwargs["regex"]).to_numpy(dtype=bool, na_value=False)
    return ~missing & (found if kind == "expect_column_values_to_not_match_regex" else ~found)


def _validate_suspects(frame: pd.DataFrame, expectations: list[dict[str, Any]], validate) -> list:
    """GX on the rows that can fail one of ``expectations``; its results as results on all rows."""
    suspects = np.zeros(len(frame), dtype=bool)
    for e in expectations:
        suspects |= _can_fail(frame[_expectation_column(e)], e)
    columns = list(dict.fromkeys(_expectation_column(e) for e in expectations))
    out = []
    for r in validate(frame.loc[suspects, columns], expectations):
        if r.exception_info and r.exception_info.get("raised_exception"):
            out.append(r)
            continue
        rows = list((r.result or {}).get("unexpected_index_list") or [])
        out.append(_row_result(r.expectation_config, rows, frame, r.exception_info))
    return out


def _row_result(cfg, rows: list, frame: pd.DataFrame, exception_info) -> RowResult:
    """A result on all rows of ``frame`` with the unexpected ``rows`` (labels), counted as GX
    counts: a share of all rows for the null checks, of the non-null values otherwise."""
    n = len(frame)
    base = n if cfg.type in _OF_ALL_ROWS else int(frame[dict(cfg.kwargs).get("column")].notna().sum())
    count = len(rows)
    result = {"element_count": n, "unexpected_count": count,
              "unexpected_percent": (100.0 * count / base) if base else None, "unexpected_index_list": rows}
    mostly = dict(cfg.kwargs).get("mostly")
    # GX: success when the share of expected values among those it counts reaches ``mostly``
    success = count == 0 if mostly is None else (not base or 1.0 - count / base >= float(mostly))
    return RowResult(expectation_config=cfg, success=success, result=result, exception_info=exception_info or {})


def _to_rows(r, frame: pd.DataFrame, codes: dict[str, tuple[np.ndarray, np.ndarray]]):
    """GX's result on the distinct values as the result on the rows."""
    if r.exception_info and r.exception_info.get("raised_exception"):
        return r
    cfg = r.expectation_config
    column = dict(cfg.kwargs).get("column")
    row_codes, first = codes[column]
    bad_positions = [int(i) for i in ((r.result or {}).get("unexpected_index_list") or [])]
    bad = np.zeros(len(first), dtype=bool)
    bad[np.asarray(bad_positions, dtype=np.int64) % len(first)] = True
    return _row_result(cfg, frame.index[bad[row_codes]].tolist(), frame, r.exception_info)
