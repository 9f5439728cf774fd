"""Great Expectations on each column's distinct values, mapped back to the rows.

A survey's answers are discrete: a million rows of a 1-10 rating hold ten or so distinct values.
An expectation that looks at one cell at a time (a value in a set, between bounds, matching a
pattern, null or not) fails on a row exactly when it fails on that row's value, so GX can check
each distinct value once and the rows holding a failing value are the unexpected rows. This
module builds that frame of distinct values, lets GX validate it, and turns GX's answer back into
row-level results with the counts and percentages GX gives on the full frame (tested equal).

Expectations that need every row (uniqueness, a ``mostly`` share, table-level checks, hand-added
expectations of other kinds) and columns with too many distinct values to gain anything (ids,
free text, continuous weights) are validated on the rows, as before.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

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
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    codes = np.asarray(codes, dtype=np.int64)
    firsts = pd.Series(codes).drop_duplicates()  # hashing, not sorting: each code at its first row
    first = np.empty(len(uniques), dtype=np.int64)
    first[firsts.to_numpy()] = firsts.index.to_numpy()
    return codes, first


def _expectation_column(e: dict[str, Any]) -> str | None:
    return (e.get("kwargs") or {}).get("column")


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
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    on_values, on_rows, on_columns = [], [], []
    for e in expectations:
        col = _expectation_column(e)
        if e.get("type") in SCHEMA_EXPECTATIONS and n:  # about the columns, not the rows
            on_columns.append(e)
            continue
        if e.get("type") not in CELL_EXPECTATIONS or col not in frame.columns or max_distinct_share is None:
            on_rows.append(e)
            continue
        if col not in codes:
            codes[col] = _column_codes(frame[col])
        if len(codes[col][1]) > max(1.0, max_distinct_share * n):
            on_rows.append(e)
        else:
            on_values.append(e)
    results = []
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
        results.append(_to_rows(r, frame, codes, n) if is_cell else r)
    return results


def _to_rows(r, frame: pd.DataFrame, codes: dict[str, tuple[np.ndarray, np.ndarray]], n: int):
    """GX's result on the distinct values as the result on the rows."""
    if r.exception_info and r.exception_info.get("raised_exception"):
        return r
    cfg = r.expectation_config
    column = dict(cfg.kwargs).get("column")
    row_codes, first = codes[column]
    bad_positions = [int(i) for i in ((r.result or {}).get("unexpected_index_list") or [])]
    bad = np.zeros(len(first), dtype=bool)
    bad[np.asarray(bad_positions, dtype=np.int64) % len(first)] = True
    rows = bad[row_codes]
    count = int(rows.sum())
    if cfg.type in _OF_ALL_ROWS:
        base = n
    else:
        base = int(frame[column].notna().sum())
    result = {"element_count": n, "unexpected_count": count,
              "unexpected_percent": (100.0 * count / base) if base else None,
              "unexpected_index_list": frame.index[rows].tolist()}
    mostly = dict(cfg.kwargs).get("mostly")
    # GX: success when the share of expected values among those it counts reaches ``mostly``
    success = count == 0 if mostly is None else (not base or 1.0 - count / base >= float(mostly))
    return RowResult(expectation_config=cfg, success=success, result=result, exception_info=r.exception_info or {})
