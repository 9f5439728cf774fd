"""Banner tables: every question of the spec down the side, the breakdowns across the top.

The deliverable research agencies call crosstabs or banner tables (SPSS Custom Tables, Q,
Displayr): for each *table* (a rated item, the NPS, a gap, a categorical column) and each
*column* (Total, then each value of each banner column) the weighted percentages and means with
their bases, and *letters* marking which columns of the same banner group a cell is significantly
higher than.

Statistics (weights-only design, as everywhere in csatlib):

* shares: ``Σw[answer in set] / Σw[answered]``; means: ``Σw·y / Σw`` with the linearised SE of
  :func:`csatlib.stats.estimators.weighted_mean` (R ``survey::svymean``);
  bases: unweighted n, weighted n (Σw) and Kish's effective n ``(Σw)²/Σw²`` of the rows that
  answered the table's question (skipped questions leave the base, they are not zeros);
* column letters on shares: the pooled two-sample z test of column proportions on effective
  bases, the convention of SPSS's column-proportions test (with weights, SPSS's "effective base"
  option): ``z = (p_i − p_j) / sqrt(p̄(1 − p̄)(1/n_i + 1/n_j))`` with ``p̄`` pooled on the
  effective bases;
* column letters on means (and the NPS, a mean of 100/0/−100 scores): Welch's t test on the
  design-based SEs, Satterthwaite df with ``n_i − 1`` per column
  (:func:`csatlib.stats.estimators.welch_test`);
* within each row of a banner group, the p values of the k(k−1)/2 column pairs that could be
  tested form one family: Bonferroni (default, as SPSS) or Holm adjusted, or left alone;
* a cell whose unweighted base is below ``quality.min_base`` is suppressed: its base is shown,
  its value is not, and it takes part in no test. The Total column is never tested.

Every count is one ``np.bincount`` over the rows per question: a row's banner cell (its column
in every banner group at once, in mixed radix) times the number of answer points plus its
answer. Each group's table is then a sum over that small joint table, so a million rows, a
12-column banner and 40 questions take about a hundred bincounts, whatever the banner's shape.

R equivalent of one column's cells (a column's SE is that of its own rows, as the report's
segment KPIs; ``svyby`` on the full design treats the column as a domain, same mean, SE smaller
by the factor sqrt[(n_d/(n_d−1)) / (n/(n−1))]: 1.7% for a column of 30 respondents, 0.5% for 100)::

    d <- svydesign(ids = ~1, weights = ~w, data = df[df$region == "华东", ])
    svymean(~I(sat >= 9), d)                      # top-2 box of a 1-10 item in one column
    svymean(~sat, d)                              # its mean and linearised SE
    svyby(~sat, ~region, svydesign(ids = ~1, weights = ~w, data = df), svymean)  # domain SEs
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..frame import MISSING_SEGMENT, row_weights
from ..results import BANNER_TIDY_COLUMNS as TIDY_COLUMNS
from ..results import BANNER_TOTAL as TOTAL
from ..results import BannerTables
from ..spec import Banner, Dimension, Item, Spec

__all__ = ["banner", "BannerTables", "banner_settings", "TIDY_COLUMNS", "TOTAL", "MAX_BANNER_VALUES",
           "MAX_DISTRIBUTION_POINTS", "CORRECTIONS", "column_letters", "adjust_rows"]

MAX_BANNER_VALUES = 26  # one letter A-Z per column of a banner group
MAX_DISTRIBUTION_POINTS = 11  # scales with more points (0-100 sliders) show boxes and means only
MAX_STUB_VALUES = 100  # a categorical column with more values gets no table (a note says so)
CORRECTIONS = ("bonferroni", "holm", "none")
MAX_JOINT_BINS = 1 << 22  # cells × answer points of one bincount; larger banners are split into blocks

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
class _Group:
    name: str  # the banner column ("" for the Total)
    labels: list[str]
    codes: np.ndarray  # each row's column index in this group

    @property
    def k(self) -> int:
        return len(self.labels)


@dataclass
class _Question:
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


class _TooManyValues(ValueError):
    def __init__(self, count: int):
        super().__init__(count)
        self.count = count


def _categorical(values: pd.Series, allowed: Sequence[str] | None, labels: Mapping[Any, str] | None,
                 limit: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Codes (−1: missing) and labels of a categorical column: allowed categories first (spec
    order), then other values (ascending when all are numbers, else by size, as the report).

    Raises ``_TooManyValues`` when the column has more than ``limit`` distinct values.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if limit is not None and len(uniques) > 4 * limit:  # before any per-value work (an id column)
        raise _TooManyValues(len(uniques))
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    texts = [_value_text(u) for u in uniques]
    # distinct raw values may share a text form (1, 1.0 and "1"): they are one value
    merged, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True) if texts else ([], [])
    size = dict(zip(merged, np.bincount(np.asarray(inverse, dtype=np.int64), weights=counts,
                                        minlength=len(merged)).astype(int))) if texts else {}
    if limit is not None and len(size) > limit:
        raise _TooManyValues(len(size))
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


def _questions(frame: pd.DataFrame, spec: Spec, value_labels: Mapping[str, Mapping[Any, str]],
               cat_cache: dict, notes: list[str]) -> list[_Question]:
    """Every table the spec allows, in questionnaire order."""
    out: list[_Question] = []
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
        out.append(_Question(table, label, kind, idx, points, plabels, item, top_box,
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
        out.append(_Question(f"gap.{d.name}", f"{d.title}: gap (perception − expectation)", "gap", idx, points,
                             [_value_text(x) for x in points], d, distribution=False))
    for col in dict.fromkeys([*spec.segments, *spec.categories]):
        if col not in cat_cache:
            try:
                cat_cache[col] = _categorical(frame[col], spec.categories.get(col), value_labels.get(col),
                                              limit=MAX_STUB_VALUES)
            except _TooManyValues as exc:
                notes.append(f"{col}: {exc.count:,} distinct values, more than a table shows "
                             f"({MAX_STUB_VALUES}); left out.")
                continue
        idx, names = cat_cache[col]
        out.append(_Question(f"segment.{col}", col, "category", idx, np.full(len(names), np.nan), names))
    return out


# ---------------------------------------------------------------------------------------------
# counting
@dataclass
class _Counts:
    """Per column of a group and per answer point: rows, Σw and Σw² (answered rows only)."""

    count: np.ndarray  # (k, P)
    sw: np.ndarray
    sw2: np.ndarray

    @property
    def n(self) -> np.ndarray:
        return self.count.sum(axis=1)

    @property
    def w(self) -> np.ndarray:
        return self.sw.sum(axis=1)

    @property
    def n_eff(self) -> np.ndarray:
        w2 = self.sw2.sum(axis=1).astype(float)
        return np.divide(self.w ** 2, w2, out=np.zeros(w2.shape), where=w2 > 0)


def _blocks(groups: list[_Group], points: int) -> list[list[int]]:
    """Banner groups packed into blocks whose joint cells × points fit one bincount."""
    blocks: list[list[int]] = []
    size = MAX_JOINT_BINS + 1
    for i, g in enumerate(groups):
        if size * g.k * (points + 1) > MAX_JOINT_BINS or not blocks:
            blocks.append([i])
            size = g.k
        else:
            blocks[-1].append(i)
            size *= g.k
    return blocks


def _count(groups: list[_Group], idx: np.ndarray, n_points: int, w: np.ndarray | None,
           w2: np.ndarray | None, cells: dict | None = None) -> list[_Counts]:
    """Counts of one question for the Total and every banner group (one bincount per block).

    ``cells`` caches each block's joint cell per row across questions.
    """
    out: list[_Counts | None] = [None] * len(groups)
    stride = n_points + 1
    total = None
    cells = {} if cells is None else cells
    for block in _blocks(groups, n_points):
        shape = [groups[i].k for i in block]
        cell = cells.get(tuple(block))
        if cell is None:
            cell = np.zeros(len(idx), dtype=np.int64)
            for i in block:
                cell = cell * groups[i].k + groups[i].codes
            cells[tuple(block)] = cell
        key = cell * stride + (idx + 1)
        bins = int(np.prod(shape)) * stride
        c = np.bincount(key, minlength=bins).reshape(*shape, stride)
        if w is None:
            sw = sw2 = c.astype(float)
        else:
            sw = np.bincount(key, weights=w, minlength=bins).astype(float).reshape(*shape, stride)
            sw2 = np.bincount(key, weights=w2, minlength=bins).astype(float).reshape(*shape, stride)
        for pos, i in enumerate(block):
            axes = tuple(a for a in range(len(shape)) if a != pos)
            out[i] = _Counts(*(a.sum(axis=axes)[:, 1:] if axes else a[:, 1:] for a in (c, sw, sw2)))
        if total is None:
            axes = tuple(range(len(shape)))
            total = _Counts(*(a.sum(axis=axes)[None, 1:] for a in (c, sw, sw2)))
    if total is None:  # no banner group: the Total alone
        c = np.bincount(idx + 1, minlength=stride)
        sw = c.astype(float) if w is None else np.bincount(idx + 1, weights=w, minlength=stride)
        sw2 = c.astype(float) if w is None else np.bincount(idx + 1, weights=w2, minlength=stride)
        total = _Counts(c[None, 1:], sw[None, 1:], sw2[None, 1:])
    return [total, *out]


# ---------------------------------------------------------------------------------------------
# statistics and tests, vectorised over the columns of a group
def _means(c: _Counts, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and linearised SE per column (``weighted_mean`` computed from point sums):
    ``var = n/(n−1) · Σ_p Σw²_p (y_p − ȳ)² / (Σw)²``."""
    n, w = c.n, c.w
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c.sw @ scores) / w
        dev = (scores[None, :] - mean[:, None]) ** 2
        var = n / (n - 1) * (c.sw2 * dev).sum(axis=1) / w ** 2
    se = np.sqrt(np.where(n >= 2, var, np.nan))
    return np.where(n > 0, mean, np.nan), se


def _z_pvalues(p: np.ndarray, neff: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Pooled two-proportion z test of every column pair: p (S, k), neff (k,) → p values (S, k, k)."""
    ni, nj = neff[:, None], neff[None, :]
    pi, pj = p[:, :, None], p[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (pi * ni + pj * nj) / (ni + nj)
        se = np.sqrt(pooled * (1 - pooled) * (1 / ni + 1 / nj))
        z = (pi - pj) / se
    pv = 2 * _st.norm.sf(np.abs(z))
    valid = ok[:, None] & ok[None, :] & (se > 0) & np.isfinite(z)
    return np.where(valid, pv, np.nan)


def _welch_pvalues(mean: np.ndarray, se: np.ndarray, n: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Welch t test of every column pair from means and SEs (S, k), df_i = n_i − 1 → (S, k, k)."""
    vi, vj = (se ** 2)[:, :, None], (se ** 2)[:, None, :]
    dfi, dfj = np.maximum(n - 1, 1)[None, :, None], np.maximum(n - 1, 1)[None, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (mean[:, :, None] - mean[:, None, :]) / np.sqrt(vi + vj)
        df = (vi + vj) ** 2 / (vi ** 2 / dfi + vj ** 2 / dfj)
    pv = 2 * _st.t.sf(np.abs(t), df)
    valid = ok[None, :, None] & ok[None, None, :] & (vi + vj > 0) & np.isfinite(t) & (n >= 2)[None, :, None] \
        & (n >= 2)[None, None, :]
    return np.where(valid, pv, np.nan)


def adjust_rows(pvalues: np.ndarray, method: str) -> np.ndarray:
    """Adjust each row of ``pvalues`` (S, m) as one family; NaN entries are not in the family.

    ``bonferroni``: ``min(1, m·p)``; ``holm``: Holm's step-down, as
    ``statsmodels.stats.multitest.multipletests(p, method="holm")`` (R ``p.adjust``); ``none``.
    """
    p = np.asarray(pvalues, dtype=float)
    if method == "none" or p.size == 0:
        return p.copy()
    m = (~np.isnan(p)).sum(axis=1, keepdims=True)
    if method == "bonferroni":
        return np.minimum(1.0, p * m)
    if method != "holm":
        raise ValueError(f"unknown correction {method!r}")
    order = np.argsort(p, axis=1)  # NaN last
    ps = np.take_along_axis(p, order, axis=1)
    rank = np.arange(p.shape[1])[None, :]
    stepped = np.maximum.accumulate(np.where(np.isnan(ps), -np.inf, (m - rank) * ps), axis=1)
    stepped = np.where(np.isnan(ps), np.nan, np.minimum(1.0, stepped))
    out = np.empty_like(p)
    np.put_along_axis(out, order, stepped, axis=1)
    return out


def _letters(est: np.ndarray, pv: np.ndarray, correction: str, alpha: float, names: list[str]) -> list[list[str]]:
    """Letters per row and column: the columns a cell is significantly higher than. est (S, k), pv (S, k, k)."""
    S, k = est.shape
    iu, ju = np.triu_indices(k, 1)
    adj = np.full_like(pv, np.nan)
    if len(iu):
        a = adjust_rows(pv[:, iu, ju], correction)
        adj[:, iu, ju] = a
        adj[:, ju, iu] = a
    with np.errstate(invalid="ignore"):
        sig = (adj < alpha) & (est[:, :, None] > est[:, None, :])
    out = [[""] * k for _ in range(S)]
    for s, i, j in zip(*np.nonzero(sig)):
        out[s][i] += names[j]
    return out


# ---------------------------------------------------------------------------------------------
# stubs of one table
@dataclass
class _Stub:
    id: str
    label: str
    kind: str  # "share" (mask over points) or "mean" (scores per point)
    weights: np.ndarray  # mask (share) or scores (mean)
    mean_label: str = "mean"


def _stubs(q: _Question) -> list[_Stub]:
    P = len(q.points)
    pts = q.points
    out: list[_Stub] = []
    if q.kind == "category":
        return [_Stub(f"value.{lab}", lab, "share", np.arange(P) == i) for i, lab in enumerate(q.point_labels)]
    if q.kind == "gap":
        return [_Stub("mean", "Mean gap (perception − expectation)", "mean", pts),
                _Stub("unmet", "Expectation not met (gap < 0)", "share", pts < 0)]
    if q.distribution:
        out += [_Stub(f"point.{_value_text(v)}", lab, "share", np.arange(P) == i)
                for i, (v, lab) in enumerate(zip(pts, q.point_labels))]
    if q.kind == "nps":
        out += [_Stub("promoters", "Promoters (9-10)", "share", pts >= 9),
                _Stub("passives", "Passives (7-8)", "share", (pts >= 7) & (pts < 9)),
                _Stub("detractors", "Detractors (0-6)", "share", pts <= 6),
                _Stub("nps", "NPS (promoters − detractors, −100 to 100)", "mean",
                      np.where(pts >= 9, 100.0, np.where(pts <= 6, -100.0, 0.0)))]
        return out
    scale = q.item.scale
    on_scale = float(scale.low).is_integer() and float(scale.high).is_integer()
    n_points = int(scale.high - scale.low + 1) if on_scale else 0
    hi, lo = _value_text(scale.high), _value_text(scale.low)
    if q.top_box is not None:
        out.append(_Stub("rate", f"Satisfied ({_value_text(q.top_box)}-{hi})", "share", pts >= q.top_box))
    if n_points >= 3:
        out.append(_Stub("top_box", f"Top box ({hi})", "share", pts >= scale.high))
    if n_points >= 4:
        out.append(_Stub("top2_box", f"Top 2 box ({_value_text(scale.high - 1)}-{hi})", "share",
                         pts >= scale.high - 1))
        out.append(_Stub("bottom2_box", f"Bottom 2 box ({lo}-{_value_text(scale.low + 1)})", "share",
                         pts <= scale.low + 1))
    out.append(_Stub("mean", "Mean", "mean", pts))
    return out


# ---------------------------------------------------------------------------------------------
class _Rows:
    """Column-wise accumulator of the tidy frame."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(self, table: str, table_label: str, stub: str, stub_label: str, statistic: str, test: str,
            group: _Group, letters_of_group: list[str], values: np.ndarray, letters: list[str] | None,
            suppressed: np.ndarray, n: np.ndarray) -> None:
        self.parts.append(dict(table=table, table_label=table_label, stub=stub, stub_label=stub_label,
                               statistic=statistic, test=test, group=group.name, columns=group.labels,
                               letter=letters_of_group, value=values, letters=letters, suppressed=suppressed, n=n))

    def frame(self) -> pd.DataFrame:
        lengths = np.array([len(p["columns"]) for p in self.parts])
        rep = lambda key: np.repeat(np.array([p[key] for p in self.parts], dtype=object), lengths)  # noqa: E731
        cat = lambda key: np.concatenate([np.asarray(p[key]) for p in self.parts]) if self.parts else []  # noqa: E731
        data = {key: rep(key) for key in ("table", "table_label", "stub", "stub_label", "statistic", "test", "group")}
        data["column"] = np.concatenate([np.asarray(p["columns"], dtype=object) for p in self.parts])
        data["letter"] = np.concatenate([np.asarray(p["letter"], dtype=object) for p in self.parts])
        data["value"] = cat("value").astype(float)
        data["letters"] = np.concatenate([np.asarray(p["letters"] if p["letters"] is not None
                                                     else [""] * len(p["columns"]), dtype=object)
                                          for p in self.parts])
        data["suppressed"] = cat("suppressed").astype(bool)
        data["n"] = cat("n").astype(np.int64)
        out = pd.DataFrame(data, columns=TIDY_COLUMNS)
        for col in ("table", "table_label", "stub", "stub_label", "statistic", "test", "group", "column", "letter",
                    "letters"):
            out[col] = out[col].astype(str)
        return out


def banner(frame: Any, spec: Spec, banner: str | Sequence[str] | None = None, *, confidence: float | None = None,
           correction: str | None = None, min_base: int | None = None,
           value_labels: Mapping[str, Mapping[Any, str]] | None = None) -> BannerTables:
    """Banner tables of a wave: every rated item, the NPS, loyalty items, gaps and categorical
    columns down the side; Total and each value of each banner column across the top.

    Parameters
    ----------
    frame : DataFrame or Wave
        The rows to tabulate (clean rows after validation); a loaded ``Wave`` also brings its
        SPSS value labels.
    spec : Spec
    banner : str or list of str, optional
        Banner columns; default the spec's ``banner:`` columns, else its segments.
    confidence : float, optional
        Level of the column tests (0.95 or 95); default the spec's, else 95%.
    correction : {"bonferroni", "holm", "none"}, optional
        Adjustment of the pairwise tests within each row of a banner group; default the spec's,
        else Bonferroni.
    min_base : int, optional
        Suppress cells whose unweighted base is below this; default ``quality.min_base``.
    value_labels : dict, optional
        ``{column: {code: label}}`` (SPSS value labels) for answer points and banner values.

    Returns
    -------
    BannerTables
        ``.frame`` is the tidy table (:data:`TIDY_COLUMNS`); ``.table(id)`` one table wide.

    Raises
    ------
    ValueError
        A banner column the data lacks, or one with more than 26 values.

    Examples
    --------
    >>> tables = csatlib.banner(clean, spec, banner=["region"])      # doctest: +SKIP
    >>> tables.table("satisfaction")                                  # doctest: +SKIP
    >>> # R: svyby(~I(overall_sat >= 9), ~region, design, svymean)  -> the top-2 box row (means);
    >>> #    SEs: svymean on each column's rows (tests/test_banner.py checks both against R)
    """
    if value_labels is None:
        value_labels = getattr(frame, "value_labels", None) or {}
    frame = getattr(frame, "frame", frame)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"banner() needs a DataFrame or a loaded Wave, got {type(frame).__name__}")
    settings = banner_settings(spec, banner, confidence=confidence, correction=correction)
    min_base = int(spec.quality.min_base if min_base is None else min_base)
    alpha = 1 - settings.confidence
    notes: list[str] = []
    missing = [c for c in settings.columns if c not in frame.columns]
    if missing:
        raise ValueError(f"banner column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(repr(c) for c in missing)} not in the data")

    w = row_weights(frame, spec)
    valid = np.isfinite(w) & (w > 0)
    if not valid.all():
        notes.append(f"{int((~valid).sum()):,} rows without a valid weight were left out.")
        frame, w = frame.loc[valid], w[valid]
    weighted = spec.weight is not None
    w2 = w * w if weighted else None
    wv = w if weighted else None

    cat_cache: dict = {}
    groups: list[_Group] = []
    for col in settings.columns:
        try:
            codes, names = cat_cache[col] = _categorical(frame[col], spec.categories.get(col), value_labels.get(col),
                                                         limit=MAX_BANNER_VALUES)
        except _TooManyValues as exc:
            count = exc.count
        else:
            if (codes < 0).any():  # rows without a value form their own column, as in the report's segments
                codes, names = np.where(codes < 0, len(names), codes), [*names, MISSING_SEGMENT]
            count = len(names)
        if count > MAX_BANNER_VALUES:
            raise ValueError(f"banner column {col!r} has {count:,} distinct values; a banner column is a "
                             f"categorical breakdown with at most {MAX_BANNER_VALUES} values (one letter each)")
        groups.append(_Group(col, names, codes))
    total = _Group("", [TOTAL], np.zeros(len(frame), dtype=np.int64))
    all_groups = [total, *groups]
    group_letters = [[""]] + [column_letters(g.k) for g in groups]

    rows = _Rows()
    cells: dict = {}
    # the respondents of each column
    ones = np.zeros(len(frame), dtype=np.int64)
    for g, counts, lets in zip(all_groups, _count(groups, ones, 1, wv, w2), group_letters):
        n = counts.n
        sup = n < min_base
        for stat, vals in (("n", n), ("n_weighted", counts.w), ("n_eff", counts.n_eff)):
            rows.add("base", "Respondents", "base", "Base (all respondents)", stat, "", g, lets,
                     vals.astype(float), None, sup, n)
    header = rows.frame()

    rows = _Rows()
    for q in _questions(frame, spec, value_labels, cat_cache, notes):
        counts_by_group = _count(groups, q.idx, len(q.points), wv, w2, cells)
        stubs = _stubs(q)
        for g, counts, lets in zip(all_groups, counts_by_group, group_letters):
            n, neff, wsum = counts.n, counts.n_eff, counts.w
            sup = n < min_base
            ok = ~sup & (n > 0)
            testable = g.name != "" and g.k > 1
            shares = [s for s in stubs if s.kind == "share"]
            means = [s for s in stubs if s.kind == "mean"]
            share_vals = {}
            if shares:
                mask = np.array([s.weights for s in shares], dtype=float)  # (S, P)
                with np.errstate(invalid="ignore", divide="ignore"):
                    p = (counts.sw @ mask.T).T / wsum[None, :]  # (S, k)
                let = (_letters(p, _z_pvalues(p, neff, ok), settings.correction, alpha, lets)
                       if testable else None)
                for i, s in enumerate(shares):
                    share_vals[s.id] = (p[i], let[i] if let else None)
            mean_vals = {}
            if means:
                ms, ses = zip(*(_means(counts, s.weights) for s in means))
                m, se = np.array(ms), np.array(ses)
                let = (_letters(m, _welch_pvalues(m, se, n, ok), settings.correction, alpha, lets)
                       if testable else None)
                for i, s in enumerate(means):
                    mean_vals[s.id] = (m[i], se[i], let[i] if let else None)
            for s in stubs:
                if s.kind == "share":
                    v, let_s = share_vals[s.id]
                    rows.add(q.table, q.label, s.id, s.label, "share", "z" if testable else "", g, lets,
                             np.where(ok, v, np.nan), let_s, sup, n)
                else:
                    m_s, se_s, let_s = mean_vals[s.id]
                    rows.add(q.table, q.label, s.id, s.label, "mean", "welch" if testable else "", g, lets,
                             np.where(ok, m_s, np.nan), let_s, sup, n)
                    rows.add(q.table, q.label, s.id, s.label, "se", "", g, lets, np.where(ok, se_s, np.nan),
                             None, sup, n)
            for stat, vals in (("n", n), ("n_weighted", wsum), ("n_eff", neff)):
                rows.add(q.table, q.label, "base", "Base (answered)", stat, "", g, lets, vals.astype(float),
                         None, sup, n)
    tidy = rows.frame()
    # suppressed cells take part in no test: their letters were never set (ok excluded them)
    tidy = pd.concat([header, tidy], ignore_index=True) if len(tidy) else header
    cols = header[header["statistic"] == "n"][["group", "column", "letter", "value", "suppressed"]]
    cols = cols.rename(columns={"value": "n"}).reset_index(drop=True)
    cols["n"] = cols["n"].astype(np.int64)
    cols.insert(4, "n_weighted", header.loc[header["statistic"] == "n_weighted", "value"].to_numpy())
    cols.insert(5, "n_eff", header.loc[header["statistic"] == "n_eff", "value"].to_numpy())
    return BannerTables(frame=tidy, columns=cols, confidence=settings.confidence, correction=settings.correction,
                        min_base=min_base, weighted=weighted, survey=spec.name, notes=tuple(notes))
