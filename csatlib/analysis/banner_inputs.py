"""What a banner tabulates: its settings, the banner groups across the top, the questions down
the side and the rows (stubs) of each question's table.

:func:`banner_questions` turns every table the spec allows (rated items, the NPS, loyalty items,
gaps, categorical columns) into point indexes per row, so that :mod:`csatlib.analysis.banner_stats`
counts each with one bincount; :func:`table_stubs` lists the rows of a table (answer points,
boxes, NPS groups, the mean). :func:`csatlib.analysis.banner.banner` puts them together.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..spec import Banner, Dimension, Item, Spec

__all__ = ["MAX_BANNER_VALUES", "MAX_DISTRIBUTION_POINTS", "MAX_STUB_VALUES", "CORRECTIONS", "banner_settings",
           "column_letters", "BannerGroup", "Question", "TooManyValues", "categorical_codes", "banner_questions",
           "Stub", "table_stubs"]

MAX_BANNER_VALUES = 26  # one letter A-Z per column of a banner group
MAX_DISTRIBUTION_POINTS = 11  # scales with more points (0-100 sliders) show boxes and means only
MAX_STUB_VALUES = 100  # a categorical column with more values gets no table (a note says so)
CORRECTIONS = ("bonferroni", "holm", "none")

# ---------------------------------------------------------------------------------------------
# settings
def banner_settings(spec: Spec, columns: str | Sequence[str] | None = None, *, confidence: float | None = None,
                    correction: str | None = None) -> Banner:
    """The banner to build: explicit arguments, else the spec's ``banner:``, else its segments."""
    given = spec.banner or Banner()
    if columns is None:
        cols = tuple(given.columns) or tuple(spec.segments)
    else:
        cols = (columns,) if isinstance(columns, str) else tuple(columns)
    conf = given.confidence if confidence is None else float(confidence)
    if conf > 1:
        conf /= 100
    if not 0.5 <= conf < 1:
        raise ValueError(f"confidence must be a level like 0.95 (50% up to below 100%), got {confidence}")
    corr = (given.correction if correction is None else str(correction)).lower()
    if corr not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    if len(set(cols)) != len(cols):
        raise ValueError(f"banner column {next(c for c in cols if cols.count(c) > 1)!r} is listed twice")
    return Banner(cols, conf, corr)


def column_letters(k: int) -> list[str]:
    """Letters of the columns of one banner group: A, B, C … (at most 26)."""
    if k > MAX_BANNER_VALUES:
        raise ValueError(f"a banner group has at most {MAX_BANNER_VALUES} columns, got {k}")
    return [chr(ord("A") + i) for i in range(k)]



# ---------------------------------------------------------------------------------------------
# inputs: banner groups and questions
@dataclass
class BannerGroup:
    """One banner group across the top: its column labels and each row's column index."""

    name: str  # the banner column ("" for the Total)
    labels: list[str]
    codes: np.ndarray  # each row's column index in this group

    @property
    def k(self) -> int:
        return len(self.labels)


@dataclass
class Question:
    """One table's source: each row's answer as an index into ``points`` (−1: not answered)."""

    table: str
    label: str
    kind: str  # "rated", "nps", "gap", "category"
    idx: np.ndarray
    points: np.ndarray  # numeric value of each point (NaN for categories)
    point_labels: list[str]
    item: Item | Dimension | None = None
    top_box: float | None = None
    distribution: bool = True


def _value_text(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v)


def _label_map(labels: Mapping[Any, str] | None) -> dict[str, str]:
    """SPSS value labels keyed by the text form of the code (1.0 and 1 both become '1')."""
    return {_value_text(k): str(v) for k, v in (labels or {}).items()}


class TooManyValues(ValueError):
    """A categorical column with more distinct values than a table or a banner group shows (``count``)."""

    def __init__(self, count: int):
        super().__init__(count)
        self.count = count


def categorical_codes(values: pd.Series, allowed: Sequence[str] | None, labels: Mapping[Any, str] | None,
                 limit: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Codes (−1: missing) and labels of a categorical column: allowed categories first (spec
    order), then other values (ascending when all are numbers, else by size, as the report).

    Parameters
    ----------
    values : Series
    allowed : sequence of str, optional
        The spec's ``categories:`` of the column, in their order.
    labels : mapping, optional
        SPSS value labels ``{code: label}``.
    limit : int, optional
        Most distinct values allowed.

    Returns
    -------
    (ndarray, list of str)
        Each row's code and the label of each code.

    Raises
    ------
    TooManyValues
        The column has more than ``limit`` distinct values.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if limit is not None and len(uniques) > 4 * limit:  # before any per-value work (an id column)
        raise TooManyValues(len(uniques))
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    texts = [_value_text(u) for u in uniques]
    # distinct raw values may share a text form (1, 1.0 and "1"): they are one value
    merged, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True) if texts else ([], [])
    size = dict(zip(merged, np.bincount(np.asarray(inverse, dtype=np.int64), weights=counts,
                                        minlength=len(merged)).astype(int))) if texts else {}
    if limit is not None and len(size) > limit:
        raise TooManyValues(len(size))
    head = [a for a in (allowed or ()) if a in size]
    rest = [t for t in size if t not in set(head)]
    if all(_is_number(t) for t in rest):
        rest.sort(key=float)
    else:
        rest.sort(key=lambda t: (-size[t], t))
    position = {t: i for i, t in enumerate(head + rest)}
    lut = np.array([position[t] for t in texts] + [-1], dtype=np.int64)
    out = lut[codes]  # code −1 picks the trailing −1
    vl = _label_map(labels)
    return out, [vl.get(t, t) for t in head + rest]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rated(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Point indexes of answers on a scale; answers outside it count as not answered.

    Returns (idx, points, number of answers outside the scale).
    """
    offset = values - low
    with np.errstate(invalid="ignore"):
        inside = (offset >= 0) & (offset <= high - low)  # NaN (not answered) is neither
    outside = int(values.size - np.count_nonzero(np.isnan(values)) - np.count_nonzero(inside))
    if float(low).is_integer() and float(high).is_integer():
        where = np.where(inside, offset, -1.0)
        idx = where.astype(np.int64)
        if np.array_equal(idx, where):  # whole-number answers: the point is the offset itself
            return idx, np.arange(low, high + 1, dtype=float), outside
    points, inv = np.unique(values[inside], return_inverse=True)
    idx = np.full(len(values), -1, dtype=np.int64)
    idx[inside] = inv.ravel()
    return idx, points, outside


def banner_questions(frame: pd.DataFrame, spec: Spec, value_labels: Mapping[str, Mapping[Any, str]],
               cat_cache: dict, notes: list[str]) -> list[Question]:
    """Every table the spec allows, in questionnaire order.

    Parameters
    ----------
    frame : DataFrame
    spec : Spec
    value_labels : mapping
        ``{column: {code: label}}``.
    cat_cache : dict
        Categorical codes already computed, by column (filled in here).
    notes : list of str
        Receives a note for answers outside a scale and for columns with too many values.

    Returns
    -------
    list of Question
    """
    out: list[Question] = []
    numeric: dict[str, np.ndarray] = {}

    def values_of(col: str) -> np.ndarray:
        if col not in numeric:
            numeric[col] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        return numeric[col]

    rated_idx: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def rated(table: str, label: str, col: str, item, scale, kind="rated", top_box=None) -> None:
        idx, points, outside = _rated(values_of(col), scale.low, scale.high)
        rated_idx[col] = idx, points
        if outside:
            notes.append(f"{label}: {outside:,} answer{'s' if outside > 1 else ''} outside the scale {scale} "
                         f"left out of its base.")
        vl = _label_map(value_labels.get(col))
        plabels = []
        for p in points:
            t = _value_text(p)
            lab = vl.get(t)
            plabels.append(t if not lab else (lab if lab.startswith(t) else f"{t} {lab}"))
        out.append(Question(table, label, kind, idx, points, plabels, item, top_box,
                             distribution=len(points) <= MAX_DISTRIBUTION_POINTS))

    sat = spec.satisfaction
    rated("satisfaction", sat.title, sat.column, sat, sat.scale, top_box=sat.top_box)
    if spec.nps:
        rated("nps", spec.nps.title, spec.nps.column, spec.nps, spec.nps.scale, kind="nps")
    for it in spec.loyalty:
        rated(f"loyalty.{it.column}", it.title, it.column, it, it.scale)
    for d in spec.dimensions:
        rated(f"dimension.{d.name}", d.title, d.perception, d, d.scale)
        if d.expectation:
            rated(f"dimension.{d.name}.expectation", f"{d.title} (expectation)", d.expectation, d, d.scale)
        if d.importance:
            rated(f"dimension.{d.name}.importance", f"{d.title} (importance)", d.importance, d, d.scale)
    for d in spec.gap_dimensions:
        (pi, pp), (ei, ep) = rated_idx[d.perception], rated_idx[d.expectation]
        width = d.scale.width
        if len(pp) == len(ep) == width + 1:  # whole-number scale points: the gap of the point indexes
            idx = np.where((pi >= 0) & (ei >= 0), pi - ei + int(width), -1)
            points = np.arange(-width, width + 1, dtype=float)
        else:
            gap = np.where(pi >= 0, pp[pi], np.nan) - np.where(ei >= 0, ep[ei], np.nan)
            idx, points, _ = _rated(gap, -width, width)
        out.append(Question(f"gap.{d.name}", f"{d.title}: gap (perception − expectation)", "gap", idx, points,
                             [_value_text(x) for x in points], d, distribution=False))
    for col in dict.fromkeys([*spec.segments, *spec.categories]):
        if col not in cat_cache:
            try:
                cat_cache[col] = categorical_codes(frame[col], spec.categories.get(col), value_labels.get(col),
                                              limit=MAX_STUB_VALUES)
            except TooManyValues as exc:
                notes.append(f"{col}: {exc.count:,} distinct values, more than a table shows "
                             f"({MAX_STUB_VALUES}); left out.")
                continue
        idx, names = cat_cache[col]
        out.append(Question(f"segment.{col}", col, "category", idx, np.full(len(names), np.nan), names))
    return out



# ---------------------------------------------------------------------------------------------
# stubs of one table
@dataclass
class Stub:
    """One row of a table: a share of answer points (``weights`` a mask) or a mean (``weights`` scores)."""

    id: str
    label: str
    kind: str  # "share" (mask over points) or "mean" (scores per point)
    weights: np.ndarray  # mask (share) or scores (mean)
    mean_label: str = "mean"


def table_stubs(q: Question) -> list[Stub]:
    """The rows of one question's table: answer points, top/bottom boxes or NPS groups, and the mean.

    Parameters
    ----------
    q : Question

    Returns
    -------
    list of Stub
    """
    P = len(q.points)
    pts = q.points
    out: list[Stub] = []
    if q.kind == "category":
        return [Stub(f"value.{lab}", lab, "share", np.arange(P) == i) for i, lab in enumerate(q.point_labels)]
    if q.kind == "gap":
        return [Stub("mean", "Mean gap (perception − expectation)", "mean", pts),
                Stub("unmet", "Expectation not met (gap < 0)", "share", pts < 0)]
    if q.distribution:
        out += [Stub(f"point.{_value_text(v)}", lab, "share", np.arange(P) == i)
                for i, (v, lab) in enumerate(zip(pts, q.point_labels))]
    if q.kind == "nps":
        out += [Stub("promoters", "Promoters (9-10)", "share", pts >= 9),
                Stub("passives", "Passives (7-8)", "share", (pts >= 7) & (pts < 9)),
                Stub("detractors", "Detractors (0-6)", "share", pts <= 6),
                Stub("nps", "NPS (promoters − detractors, −100 to 100)", "mean",
                      np.where(pts >= 9, 100.0, np.where(pts <= 6, -100.0, 0.0)))]
        return out
    scale = q.item.scale
    on_scale = float(scale.low).is_integer() and float(scale.high).is_integer()
    n_points = int(scale.high - scale.low + 1) if on_scale else 0
    hi, lo = _value_text(scale.high), _value_text(scale.low)
    if q.top_box is not None:
        out.append(Stub("rate", f"Satisfied ({_value_text(q.top_box)}-{hi})", "share", pts >= q.top_box))
    if n_points >= 3:
        out.append(Stub("top_box", f"Top box ({hi})", "share", pts >= scale.high))
    if n_points >= 4:
        out.append(Stub("top2_box", f"Top 2 box ({_value_text(scale.high - 1)}-{hi})", "share",
                         pts >= scale.high - 1))
        out.append(Stub("bottom2_box", f"Bottom 2 box ({lo}-{_value_text(scale.low + 1)})", "share",
                         pts <= scale.low + 1))
    out.append(Stub("mean", "Mean", "mean", pts))
    return out

