"""The frame Great Expectations validates: numbers coerced, the raw text of non-numeric answers
beside them, and the rows that are no respondent (repeated headers, summary rows) set apart."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .suite import SUMMARY_REGEX, read_column, respondent_column, text_column
from ..frame import HEADER_ROW
from ..ingest.recode import AnswerView, FileMissing, answer_view, band_numbers
from ..spec import Spec, answer_key

__all__ = ["validation_frame", "summary_rows"]


def validation_frame(frame: pd.DataFrame, spec: Spec, answers: AnswerView | None = None,
                     declared: dict[str, FileMissing] | None = None) -> pd.DataFrame:
    """The frame GX validates.

    * each rated column as its ratings (value labels mapped to codes, answer codes set apart:
      missing), the cells that are no rating, label or code in ``<column> [as text]``, and the
      column as read (blanks missing) in ``<column> [as read]``;
    * weight and duration as numbers (weight also as text and as read);
    * a banded column's non-numeric text in ``<column> [as text]``;
    * the id of respondent rows (not summary or repeated header rows) in ``<id> [respondents]``;
    * every other column as read, labels as text.

    ``answers``: the rated columns already read (``Wave.answers``); else they are read here
    with ``declared`` (what the file declares missing).
    """
    view = answers if answers is not None else answer_view(frame, spec, declared)
    cols: dict[str, pd.Series] = {}
    no_text = pd.Series(pd.NA, index=frame.index, dtype="string")
    for col in view.numbers.columns:
        raw = frame[col]
        num = view.numbers[col]
        unknown = view.unknown.get(col)
        kinds = view.kinds.get(col)
        blank = num.isna().to_numpy().copy()
        if unknown is not None:
            blank &= ~unknown
        if kinds is not None:
            blank &= kinds == 0
        cols[read_column(col)] = raw.mask(blank) if blank.any() else raw
        cols[col] = num
        cols[text_column(col)] = (raw.where(unknown).astype("string") if unknown is not None else no_text)
    if spec.weight:
        raw = frame[spec.weight]
        cols[read_column(spec.weight)] = raw
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            cols[spec.weight] = raw.astype("float64")
            cols[text_column(spec.weight)] = no_text
        else:
            num = pd.to_numeric(raw, errors="coerce").astype("float64")
            cols[spec.weight] = num
            cols[text_column(spec.weight)] = raw.where(num.isna() & raw.notna()).astype("string")
    if spec.duration:
        cols[spec.duration] = pd.to_numeric(frame[spec.duration], errors="coerce").astype("float64")
    text_codes = {k for k in spec.codes.lookup() if isinstance(k, str)}
    for col in spec.bands:
        raw = frame[col]
        nums = band_numbers(raw)
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        ok = np.array([answer_key(u) is None or answer_key(u) in text_codes for u in uniques] + [True])
        cols[text_column(col)] = raw.where(np.isnan(nums) & ~ok[codes]).astype("string")
    # rows that are no respondent (repeated headers, totals) are quarantined with that reason; the
    # table-level checks (duplicate ids, wave label) look at respondents only
    not_respondent = (frame[HEADER_ROW].to_numpy(bool) if HEADER_ROW in frame.columns
                      else np.zeros(len(frame), bool)).copy()
    for col in [c for c in (spec.id, *spec.segments) if c and c not in spec.bands and c in frame.columns]:
        not_respondent |= summary_rows(frame[col])
    if spec.id:
        cols[respondent_column(spec.id)] = frame[spec.id].mask(not_respondent)
    for col in frame.columns:
        if col not in cols:
            cols[col] = frame[col]
    out = pd.DataFrame(cols, index=frame.index, copy=False)  # each column as it is: no consolidation copy
    if spec.wave:
        out[spec.wave] = frame[spec.wave].astype("string").mask(not_respondent)
    return out


def summary_rows(values: pd.Series) -> np.ndarray:
    """Cells that mark a summary row (``Total``, ``Average``, ``合计`` ...: the suite's
    ``SUMMARY_REGEX``), matched by Arrow's RE2 engine (an id column has a value per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype("string[pyarrow]"))
    hit = pc.match_substring_regex(arr, SUMMARY_REGEX.removeprefix("(?i)"), ignore_case=True)
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
