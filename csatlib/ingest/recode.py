"""Reading answers: value labels, answer codes, binary outcomes, reversed items, composites, bands.

A rated column of a real survey file holds more than ratings. This module reads each cell of
each rated column (the spec's :class:`~csatlib.spec.Answer`) into one of:

* a **rating**: a number (a value label such as ``"Very good"`` is mapped to its code first,
  ``values:``; a scale point written with its label, ``"7 - Very satisfied"``, is the point), or
  for a binary item 1 (a ``positive`` answer) / 0 (a ``negative`` one; ``"1 - Yes"`` is a listed
  answer by its label or its code);
* a **non-substantive answer**: a code of the spec's ``codes:`` (not applicable, don't know,
  refused; numbers or text labels, compared ignoring case and spaces), a value whose label is
  such a text code (SPSS value labels or the spec's ``values:``), or a value the file itself
  declares missing (SPSS user-missing values). It becomes missing in the analysis view, its kind
  is kept in a derived column, and it is never a quarantine reason;
* a **blank** (skipped question);
* an **unknown** answer: text that is none of the above. Validation quarantines it.

Numbers outside the scale stay numbers here: the Great Expectations scale check quarantines them.

Reversed items (``reverse: true``) become ``low + high - x`` in the analysis view only, after
validation, so a quarantine reason always shows the value as answered. Composites are the mean
of a respondent's substantive, reversed-where-declared item answers when at least
``min_answered`` items (default: half, rounded up) have one. ``bands`` turn a numeric column into
ordered segment labels (``18-24``, ``25-34`` ... ``65+``).
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..frame import HEADER_ROW, KIND_CODES, SPEEDER, STRAIGHTLINE, band_order, code_column, gap_column
from ..spec import Answer, Dimension, ScreenOut, Spec, answer_key

__all__ = ["FileMissing", "ColumnAnswers", "AnswerView", "read_answers", "answer_view", "reverse_scale",
           "analysis_numbers", "composite_scores", "band_labels", "band_order", "screened_rows", "header_rows",
           "spss_missing", "KIND_CODE", "band_numbers", "derived_columns", "straightliners", "MIN_STRAIGHTLINE_ITEMS"]

MIN_STRAIGHTLINE_ITEMS = 3

KIND_CODE = KIND_CODES

# Phrases that sort values a file declares missing (SPSS user-missing) into kinds when no spec code
# names their label. They never decide *whether* a value is missing: the file already said so.
_FILE_MISSING_PHRASES = {
    "not_applicable": ("not applicable", "n/a", "na", "does not apply", "not relevant", "no experience",
                       "不适用", "不適用", "无此项", "해당없음", "해당 없음", "該当なし"),
    "dont_know": ("don't know", "dont know", "do not know", "dk", "not sure", "can't say", "cannot say",
                  "no opinion", "不知道", "不清楚", "说不清", "無法回答", "모름", "잘 모르겠다", "모르겠음",
                  "わからない"),
    "refused": ("refused", "refusal", "prefer not to say", "prefer not to answer", "no answer", "拒绝回答",
                "拒答", "拒絶", "拒絕回答", "무응답", "응답거부", "응답 거부"),
}
_PHRASE_KIND = {answer_key(p): kind for kind, ps in _FILE_MISSING_PHRASES.items() for p in ps}

# A scale point written with its label, as exports with labelled end points write them:
# "7 - Very satisfied", "0 = Not at all likely", "10: Extremely likely", "1. Poor", "5 (매우 만족)",
# "-3 Strongly disagree"; or the label first: "Very satisfied (7)", "Extremely likely = 10". The
# label holds letters and no digit, so a range ("1-2 times", "3 or 4"), a decimal or a count is
# never read as a point.
_LABELLED_POINT = re.compile(r"(?P<point>[+-]?[0-9]+)(?:\s*(?P<open>\()\s*|\s*[-–—=:.]\s*|\s+)"
                             r"(?![\s0-9+\-.,])(?P<label>.*\S)")
_POINT_AFTER_LABEL = re.compile(r"(?P<label>.*[^\s0-9.,])\s*(?:\(\s*(?P<bracketed>[+-]?[0-9]+)\s*\)|"
                                r"[-–—=:]\s*(?P<point>[+-]?[0-9]+))")


def labelled_point(text: str) -> tuple[float, str] | None:
    """The scale point and the label of an answer written as both, else None.

    Examples
    --------
    >>> labelled_point("7 - Very satisfied"), labelled_point("0 = not at all likely")
    ((7.0, 'Very satisfied'), (0.0, 'not at all likely'))
    >>> labelled_point("5 (매우 만족)"), labelled_point("Very satisfied (7)")
    ((5.0, '매우 만족'), (7.0, 'Very satisfied'))
    >>> [labelled_point(t) for t in ("1-2 times", "3 or 4", "Very satisfied", "7 -")]
    [None, None, None, None]
    """
    m = _LABELLED_POINT.fullmatch(text)
    if m is not None and _is_label(m["label"]):
        label = m["label"][:-1].rstrip() if m["open"] and m["label"].endswith(")") else m["label"]
        return float(m["point"]), label
    m = _POINT_AFTER_LABEL.fullmatch(text)
    if m is not None and _is_label(m["label"]):
        return float(m["bracketed"] or m["point"]), m["label"].rstrip(" -–—=:")
    return None


def _is_label(text: str) -> bool:
    return any(ch.isalpha() for ch in text) and not any(ch.isdigit() for ch in text)


@dataclass(frozen=True)
class FileMissing:
    """What a data file itself declares about a column: missing values/ranges and value labels."""

    values: frozenset = frozenset()
    ranges: tuple[tuple[float, float], ...] = ()
    labels: dict[float, str] = field(default_factory=dict)

    def declares(self, x: float) -> bool:
        return x in self.values or any(lo <= x <= hi for lo, hi in self.ranges)


def spss_missing(path: str | Path) -> dict[str, FileMissing]:
    """The user-missing values and value labels an SPSS file declares, per column.

    R: ``haven::read_sav(path, user_na = TRUE)`` keeps them as ``labelled_spss`` values.
    Only the file's dictionary is read (pyreadstat ``metadataonly``).
    """
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(path), metadataonly=True, user_missing=True)
    labels = {col: {float(k): str(v) for k, v in (lab or {}).items() if isinstance(k, (int, float))}
              for col, lab in (meta.variable_value_labels or {}).items()}
    out = {}
    for col in set(labels) | set(meta.missing_ranges or {}):
        values, ranges = set(), []
        for r in (meta.missing_ranges or {}).get(col, []):
            lo, hi = r.get("lo"), r.get("hi")
            if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
                continue  # string user-missing values: compared as text codes below
            if lo == hi:
                values.add(float(lo))
            else:
                ranges.append((float(lo), float(hi)))
        out[col] = FileMissing(frozenset(values), tuple(ranges), labels.get(col, {}))
    return out


@dataclass
class ColumnAnswers:
    """One rated column read cell by cell (arrays aligned with the frame's rows)."""

    numbers: np.ndarray  # float: ratings (labels mapped, binary 1/0); NaN otherwise; not reversed
    kinds: np.ndarray  # int8: 0 or KIND_CODE of the non-substantive answer
    unknown: np.ndarray  # bool: non-blank cells that are no rating, label or code
    labelled_points: int = 0  # cells written as a scale point with its label ("7 - Very satisfied")

    @property
    def has_codes(self) -> bool:
        return bool(self.kinds.any())


def _listed_answers(answer: Answer, lookup: dict) -> set:
    """Every answer key the spec names for the item: value labels, codes, a binary item's answers."""
    listed = set(answer.values) | set(lookup)
    if answer.binary:
        listed |= set(answer.positive) | set(answer.negative or ())
    return listed


def _point_of_label(key: Any, answer: Answer, listed: set) -> float | str | None:
    """What a text answer written as a point and its label stands for: its label when the spec
    lists the label (a code: "99 - don't know", a value label, a binary item's positive or
    negative answer), else the point when it is a code ("98 - don't know"), a binary item's
    listed answer, or a point on a rated item's scale; None otherwise. ``listed``: the item's
    :func:`_listed_answers`."""
    both = labelled_point(key) if isinstance(key, str) else None
    if both is None or key in listed:
        return None
    point, label = both[0], answer_key(both[1])
    if label in listed:
        return label
    if point in listed or (not answer.binary and (answer.scale is None or
                                                  answer.scale.low <= point <= answer.scale.high)):
        return point
    return None


def _classify(key: Any, answer: Answer, lookup: dict, declared: FileMissing | None,
              label_of: dict[float, str]) -> tuple[float, int, bool]:
    """(number, kind code, unknown) of one distinct answer key (never None; a labelled point
    already read as what it stands for)."""
    if isinstance(key, str) and key in answer.values:
        key = answer.values[key]
    kind = lookup.get(key)
    if kind is None and isinstance(key, float):
        label = label_of.get(key)
        if label is None and declared is not None:
            label = declared.labels.get(key)
        label_key = answer_key(label) if label is not None else None
        if label_key is not None and label_key in lookup:
            kind = lookup[label_key]  # a value whose label is a text code ("Don't know")
        elif declared is not None and declared.declares(key):
            kind = _PHRASE_KIND.get(label_key, "missing")
    if kind is not None:
        return math.nan, KIND_CODE[kind], False
    if answer.binary:
        if isinstance(key, float) and answer.scale is not None and not (answer.scale.low <= key <= answer.scale.high):
            return math.nan, 0, True
        label = answer_key(label_of.get(key) or (declared.labels.get(key) if declared else None)) \
            if isinstance(key, float) else None
        if key in answer.positive or (label is not None and label in answer.positive):
            return 1.0, 0, False
        if answer.negative is None or key in answer.negative or (label is not None and label in answer.negative):
            return 0.0, 0, False
        return math.nan, 0, True
    if isinstance(key, float):
        return key, 0, False
    return math.nan, 0, True


def read_answers(raw: pd.Series, answer: Answer, declared: FileMissing | None = None) -> ColumnAnswers:
    """Read one rated column: ratings, non-substantive answers, blanks and unknown answers.

    Parameters
    ----------
    raw : Series
        The column as read from the file.
    answer : Answer
        How the spec says to read it (``spec.answer(column)``).
    declared : FileMissing, optional
        Missing values and value labels the file declares for the column (SPSS).

    Returns
    -------
    ColumnAnswers
    """
    lookup = answer.code_lookup()
    label_of = answer.label_of()
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return _read_numbers(raw.to_numpy(dtype=float), answer, lookup, declared, label_of)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    n_u = len(uniques)
    num = np.full(n_u + 1, np.nan)  # the last slot serves the sentinel -1 (NaN / None)
    kind = np.zeros(n_u + 1, dtype=np.int8)
    unknown = np.zeros(n_u + 1, dtype=bool)
    labelled = np.zeros(n_u + 1, dtype=bool)
    listed = _listed_answers(answer, lookup)
    for j, u in enumerate(uniques):
        key = answer_key(u)
        if key is None:
            continue
        meant = _point_of_label(key, answer, listed)  # "7 - very satisfied": the point 7
        labelled[j] = meant is not None
        num[j], kind[j], unknown[j] = _classify(key if meant is None else meant, answer, lookup, declared, label_of)
    n_labelled = int(np.bincount(codes[codes >= 0], minlength=n_u + 1)[labelled].sum()) if labelled.any() else 0
    return ColumnAnswers(num[codes], kind[codes], unknown[codes], n_labelled)


def _read_numbers(x: np.ndarray, answer: Answer, lookup: dict, declared: FileMissing | None,
                  label_of: dict[float, str]) -> ColumnAnswers:
    """:func:`read_answers` of a column read as numbers: classify its distinct values only, and
    keep the column itself when every value is a rating (the common case costs one pass)."""
    present = pd.unique(x[~np.isnan(x)])
    values = np.sort(present)
    num = np.empty(len(values))
    kind = np.zeros(len(values), dtype=np.int8)
    unknown = np.zeros(len(values), dtype=bool)
    for j, v in enumerate(values):
        num[j], kind[j], unknown[j] = _classify(float(v), answer, lookup, declared, label_of)
    n = len(x)
    if np.array_equal(num, values) and not kind.any():
        return ColumnAnswers(x, np.zeros(n, dtype=np.int8), np.zeros(n, dtype=bool))
    blank = np.isnan(x)
    idx = np.searchsorted(values, np.where(blank, values[0] if len(values) else 0.0, x))
    out_num = np.where(blank, np.nan, num[idx])
    out_kind = np.where(blank, 0, kind[idx]).astype(np.int8)
    out_unknown = np.where(blank, False, unknown[idx])
    return ColumnAnswers(out_num, out_kind, out_unknown)


@dataclass
class AnswerView:
    """Every rated column of a frame read by :func:`read_answers`.

    ``numbers`` holds ratings as float (not reversed); ``kinds`` the non-substantive answer kind
    codes of columns that can hold codes; ``unknown`` the cells validation must quarantine.
    """

    numbers: pd.DataFrame
    kinds: dict[str, np.ndarray]
    unknown: dict[str, np.ndarray]
    labelled_points: dict[str, int] = field(default_factory=dict)  # per column, when any


def answer_view(frame: pd.DataFrame, spec: Spec, declared: dict[str, FileMissing] | None = None) -> AnswerView:
    """:func:`read_answers` of every rated column the spec names (columns the frame lacks are skipped)."""
    declared = declared or {}
    numbers, kinds, unknown, labelled = {}, {}, {}, {}
    for a in spec.answers:
        if a.column not in frame.columns or a.column in numbers:
            continue
        res = read_answers(frame[a.column], a, declared.get(a.column))
        numbers[a.column] = res.numbers
        if res.labelled_points:
            labelled[a.column] = res.labelled_points
        if res.has_codes or a.codes or a.column in declared:
            kinds[a.column] = res.kinds
        if res.unknown.any():
            unknown[a.column] = res.unknown
    # copy=False: one float64 array per column, no consolidation copy (1M rows x 40 items: 0.3 GB saved)
    return AnswerView(pd.DataFrame(numbers, index=frame.index, copy=False), kinds, unknown, labelled)


def reverse_scale(x: np.ndarray | pd.Series, low: float, high: float):
    """High <-> low on the scale: ``low + high - x`` (1-10: 10 -> 1, 7 -> 4)."""
    return low + high - x


def analysis_numbers(numbers: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The ratings as analysed: reversed items recoded high <-> low on their scale."""
    reversed_items = {a.column: a.scale for a in spec.answers
                      if a.reverse and a.column in numbers.columns and a.scale is not None}
    # the other columns are the same arrays (copy-on-write keeps ``numbers`` safe): nothing is copied
    return pd.DataFrame({c: reverse_scale(numbers[c], reversed_items[c].low, reversed_items[c].high)
                         if c in reversed_items else numbers[c] for c in numbers.columns},
                        index=numbers.index, copy=False)


def composite_scores(numbers: pd.DataFrame, dimension: Dimension) -> pd.Series:
    """A composite's score per respondent: the mean of the substantive item answers, when at
    least ``dimension.min_answered`` items have one (else missing).

    ``numbers`` must hold analysis values (codes missing, reversed items reversed), as
    :func:`analysis_numbers` gives. R: ``ifelse(rowSums(!is.na(X)) >= m, rowMeans(X, na.rm = TRUE), NA)``.
    """
    block = numbers[list(dimension.items)]
    answered = block.notna().sum(axis=1)
    mean = block.mean(axis=1, skipna=True)
    return mean.where(answered >= (dimension.min_answered or 1))


def band_numbers(values: pd.Series) -> np.ndarray:
    """A banded column's values as numbers (text that is not a number, and blanks: NaN)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = [answer_key(u) for u in uniques]
    lut = np.array([k if isinstance(k, float) else np.nan for k in keys] + [np.nan], dtype=float)
    return lut[codes]


def band_labels(values: pd.Series, edges: tuple[float, ...]) -> pd.Series:
    """Each value's band label (see :func:`band_order`); missing or non-numeric values stay missing."""
    x = band_numbers(values)
    labels = np.array(band_order(edges), dtype=object)
    idx = np.searchsorted(np.asarray(edges, dtype=float), x, side="right")
    out = np.where(np.isnan(x), None, labels[np.clip(idx, 0, len(labels) - 1)])
    return pd.Series(out, index=values.index, dtype=object)


def screened_rows(frame: pd.DataFrame, screen_out: ScreenOut | None) -> np.ndarray:
    """Rows whose screening answer is one of ``screen_out.values`` (compared ignoring case and spaces)."""
    if screen_out is None or screen_out.column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    codes, uniques = pd.factorize(frame[screen_out.column], use_na_sentinel=True)
    hit = np.array([answer_key(u) in screen_out.values for u in uniques] + [False], dtype=bool)
    return hit[codes]


def header_rows(frame: pd.DataFrame, spec: Spec) -> np.ndarray:
    """Rows that repeat the header: at least two, and at least half, of the spec's columns hold
    their own column name (as written, trimmed, or in upper, lower or title case), as in files
    concatenated from several exports."""
    columns = [c for c in spec.required_columns() if c in frame.columns and c not in spec.text]
    hits = np.zeros(len(frame), dtype=np.int32)
    if any(pd.api.types.is_numeric_dtype(frame[c]) for c in columns):
        return hits > 0  # a header row would have made every column text: there is none
    for col in columns:
        raw = frame[col]
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        # a hash lookup over the distinct values (an id column has one per row): the name as
        # written, trimmed, or in upper, lower or title case, with or without padding
        name = str(col)
        spellings = {v for n in {name, name.strip(), unicodedata.normalize("NFKC", name).strip()}
                     for v in (n, n.upper(), n.lower(), n.title())}
        spellings |= {f" {v}" for v in spellings} | {f"{v} " for v in spellings}
        hit = np.append(pd.Index(uniques, dtype=object).isin(list(spellings)), False)
        hits += hit[codes]
    return (hits >= 2) & (hits * 2 >= max(len(columns), 1))


def straightliners(numbers: pd.DataFrame, spec: Spec) -> pd.Series:
    """The straight-line rule on the battery of perception and expectation items, as answered.

    A respondent straight-lines who gives the same rating to every item of the battery (with
    ``quality.min_items``: to at least that many items, ignoring skipped and non-substantive
    ones). Needs a battery of at least three items; ``quality.straightline: off`` flags nobody.
    """
    battery = spec.straightline_columns()
    if spec.quality.straightline == "off" or len(battery) < MIN_STRAIGHTLINE_ITEMS:
        return pd.Series(False, index=numbers.index)
    block = numbers[battery]
    answered = block.notna().sum(axis=1)
    same = block.max(axis=1) == block.min(axis=1)
    if spec.quality.min_items is None:
        enough = answered == len(battery)
    else:
        enough = answered >= spec.quality.min_items
    return enough & same


def derived_columns(frame: pd.DataFrame, spec: Spec, view: AnswerView) -> dict[str, Any]:
    """The loader's derived columns, computed from the answers as read (:func:`answer_view`).

    * ``_csat_code_<column>``: kind code of each non-substantive answer (columns that can hold codes);
    * ``_csat_composite_<dimension>``: each composite's score (:func:`composite_scores`);
    * ``_csat_gap_<dimension>``: perception − expectation on analysis values (reversed where
      declared, codes missing), missing where either is;
    * ``_csat_straightliner`` (:func:`straightliners`, on the answers as given, not reversed),
      ``_csat_speeder`` (interview shorter than ``quality.min_duration_s``) and
      ``_csat_header_row`` (:func:`header_rows`).
    """
    derived: dict[str, Any] = {code_column(col): kinds for col, kinds in view.kinds.items()}
    values = analysis_numbers(view.numbers, spec)
    for d in spec.dimensions:
        if d.is_composite and all(c in values.columns for c in d.items):
            values[d.perception] = composite_scores(values, d)
            derived[d.perception] = values[d.perception]
    for d in spec.gap_dimensions:
        if d.perception in values.columns and d.expectation in values.columns:
            derived[gap_column(d.name)] = values[d.perception] - values[d.expectation]
    if all(c in view.numbers.columns for c in spec.straightline_columns()):
        derived[STRAIGHTLINE] = straightliners(view.numbers, spec)
    else:
        derived[STRAIGHTLINE] = pd.Series(False, index=frame.index)
    if spec.duration and spec.quality.min_duration_s is not None and spec.duration in frame.columns:
        dur = pd.to_numeric(frame[spec.duration], errors="coerce")
        derived[SPEEDER] = dur < spec.quality.min_duration_s
    else:
        derived[SPEEDER] = pd.Series(False, index=frame.index)
    derived[HEADER_ROW] = header_rows(frame, spec)
    return derived
