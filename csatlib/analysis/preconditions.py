"""What each analysis needs from the answers, and the sentence saying why it was skipped.

A wave can pass validation and still leave an analysis nothing to work with: every respondent
gives the same satisfaction, a loyalty item has a single answer, a dimension was never asked,
three respondents in all, or weights that put nearly everything on one respondent. Fitting a
model to such data either fails (a singular matrix) or returns numbers that mean nothing (an
infinite odds ratio, an R² of 0/0). The checks here run before the models:

* :func:`plan_analyses` decides, item by item, which loyalty outcomes, gap dimensions and driver
  dimensions can be analysed, and gives for each of the others one sentence for the report;
  :func:`csatlib.run.stages.analyse` runs each analysis on what passed and records the rest in
  ``Results.skipped``, which the report shows.
* :func:`regression_problem` and :func:`separation_problem` are the checks themselves, for the
  models inside an analysis (the disconfirmation regression, the mediation models).

Each check needs (weighted) variance in every variable, enough answers (an effective base, so
that extreme weights count as few answers), a design of full rank in which no single answer
determines a coefficient (leverage below 1), and for logit models outcomes that satisfaction does
not separate perfectly (otherwise the maximum-likelihood estimate does not exist: Albert &
Anderson 1984).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..frame import gap_column, row_weights
from ..spec import Spec
from ..stats.estimators import kish_n_eff

__all__ = ["AnalysisPlan", "plan_analyses", "regression_problem", "separation_problem", "variance_problem",
           "MIN_MODEL_ROWS", "MIN_EFFECTIVE_BASE", "RANK_TOLERANCE"]

MIN_MODEL_ROWS = 30
"""Answers a loyalty model needs (three times the loyalty curve's smallest point base)."""
MIN_EFFECTIVE_BASE = 10.0
"""Kish effective base below which weights leave too few respondents for a model."""
RANK_TOLERANCE = 1e-10
"""Smallest eigenvalue of the design's scaled cross-product matrix below this fraction of the
largest: the design is of deficient rank (a condition number above 10^10)."""


def _fmt(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _valid(w: np.ndarray) -> np.ndarray:
    return np.isfinite(w) & (w > 0)


def variance_problem(values, weights=None, name: str = "the item") -> str | None:
    """Why ``values`` (NaN = unanswered) cannot enter a model, or None: no answers, or one value only.

    >>> variance_problem([3, 3, np.nan, 3], name="repurchase")
    'every answer to repurchase is 3 (no variance)'
    >>> variance_problem([1, 2]) is None
    True
    """
    y = np.asarray(values, dtype=float)
    if weights is not None:
        y = np.where(_valid(np.asarray(weights, dtype=float)), y, np.nan)
    if np.isnan(y).all():
        return f"nobody answered {name}"
    low, high = np.nanmin(y), np.nanmax(y)
    if low == high:
        return f"every answer to {name} is {_fmt(low)} (no variance)"
    return None


def regression_problem(x, y, weights=None, names: list[str] | None = None, outcome: str = "the outcome",
                       min_rows: int | None = None) -> str | None:
    """Why the least-squares regression of ``y`` on ``x`` (plus a constant) cannot be fitted, or None.

    Rows with a missing value or an invalid weight are left out, as the models do. Checked:
    enough rows (more than the coefficients, and ``min_rows`` when given) and as many effective
    ones (Kish), variance in ``y`` and in every column of ``x``, full column rank of the design,
    and every row's leverage below 1 (an HC2/HC3 sandwich divides by ``1 - h``: a respondent who
    alone determines a coefficient makes it undefined). Cost O(n k²) (a million rows: a few
    tens of milliseconds).
    """
    x = np.asarray(x, dtype=float)
    x = x.reshape(len(x), -1)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    names = names or [f"x{j}" for j in range(x.shape[1])]
    keep = ~np.isnan(y + x @ np.ones(x.shape[1])) & _valid(w)  # NaN anywhere in the row propagates
    if not keep.all():
        x, y, w = x[keep], y[keep], w[keep]
    k = x.shape[1] + 1
    n = len(y)
    need = max(k + 2, min_rows or 0)
    if n < need:
        return f"only {_count(n, 'complete answer')} (at least {need} needed)"
    n_eff = kish_n_eff(w)
    if n_eff < need:
        return f"the weights leave an effective base of {n_eff:.1f} respondents (at least {need} needed)"
    if y.min() == y.max():
        return f"every answer to {outcome} is {_fmt(y[0])} (no variance)"
    # the k×k weighted cross-product of the design [1, x] gives variances, rank and leverages
    xw = x * w[:, None]
    gram = np.empty((k, k))
    gram[0, 0], gram[0, 1:] = w.sum(), w @ x
    gram[1:, 0], gram[1:, 1:] = gram[0, 1:], x.T @ xw
    means = gram[0, 1:] / gram[0, 0]
    variances = np.diag(gram)[1:] / gram[0, 0] - means ** 2
    for j in np.flatnonzero(variances <= 1e-12 * (1 + means ** 2)):
        if x[:, j].min() == x[:, j].max():  # confirm exactly: the cross-product only flags candidates
            return f"every answer to {names[j]} is {_fmt(x[0, j])} (no variance)"
    scale = np.sqrt(np.diag(gram))
    eig, vectors = np.linalg.eigh(gram / np.outer(scale, scale))
    if eig[0] <= RANK_TOLERANCE * eig[-1]:
        involved = [names[j - 1] for j in range(1, k) if abs(vectors[j, 0]) > 0.05] or names
        return f"{', '.join(involved)} are linearly dependent (one is a combination of the others)"
    inverse = np.linalg.inv(gram)
    # h_i = w_i d_i' G⁻¹ d_i ≤ w_i |d_i|² / λ_min(G): exact leverages only when the bound allows 1
    bound = float((w * (1 + np.einsum("ij,ij->i", x, x))).max()) * float(np.linalg.eigvalsh(inverse)[-1])
    if bound >= 1 - 1e-8:
        lev = w * (inverse[0, 0] + 2 * x @ inverse[1:, 0] + np.einsum("ij,ij->i", x @ inverse[1:, 1:], x))
        if lev.max() >= 1 - 1e-8:
            return "a single answer determines a coefficient (leverage 1): too few distinct answers"
    return None


def separation_problem(outcome, satisfaction, weights=None, name: str = "the outcome") -> str | None:
    """Why a (cumulative) logit of ``outcome`` on satisfaction has no finite estimate, or None.

    For a binary outcome the slope runs off to infinity when satisfaction separates the two
    groups, even with ties at one point (quasi-complete separation: Albert & Anderson 1984). For
    an ordinal outcome the proportional-odds slope does so when every cut point is separated in
    the same direction. Rows with a missing value or an invalid weight are ignored.
    """
    y = np.asarray(outcome, dtype=float)
    s = np.asarray(satisfaction, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(y) & ~np.isnan(s) & _valid(w)
    by_level = pd.Series(s[keep]).groupby(y[keep]).agg(["min", "max"]).sort_index()
    if len(by_level) < 2:
        return None  # no variance: variance_problem says so
    lo, hi = by_level["min"].to_numpy(), by_level["max"].to_numpy()
    # cut after level j: answers ≤ j against answers > j
    below_max, below_min = np.maximum.accumulate(hi)[:-1], np.minimum.accumulate(lo)[:-1]
    above_min, above_max = np.minimum.accumulate(lo[::-1])[::-1][1:], np.maximum.accumulate(hi[::-1])[::-1][1:]
    up, down = bool((below_max <= above_min).all()), bool((above_max <= below_min).all())
    if not (up or down):
        return None
    if len(by_level) == 2:
        where = (f"everyone with satisfaction above {_fmt(hi[0])} has the higher answer" if up
                 else f"everyone with satisfaction above {_fmt(hi[1])} has the lower answer")
    else:
        where = "every higher answer comes with an equal or higher satisfaction" if up else \
            "every higher answer comes with an equal or lower satisfaction"
    return (f"satisfaction separates {name} perfectly ({where}), so the logit model has no finite "
            f"estimate")


@dataclass(frozen=True)
class AnalysisPlan:
    """The spec each analysis runs on (restricted to what the answers allow) and why the rest is skipped.

    ``skipped`` maps an analysis or item (``loyalty``, ``loyalty.<column>``, ``gap``,
    ``gap.<dimension>``, ``gap.disconfirmation``, ``gap.mediation``, ``drivers``,
    ``drivers.<dimension>``, ``drivers_gap``) to a sentence for the report.
    """

    loyalty: Spec
    gap: Spec
    drivers: Spec
    drivers_gap: Spec
    skipped: dict[str, str] = field(default_factory=dict)


class _Columns:
    """Numeric views of the frame's columns, each converted once (``NaN`` = no numeric answer), and
    regression checks, each run once (the disconfirmation regression and the key drivers among the
    gaps share a design)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame, self._cache, self._checks = frame, {}, {}

    def __call__(self, column: str) -> np.ndarray:
        if column not in self._cache:
            self._cache[column] = pd.to_numeric(self.frame[column], errors="coerce").to_numpy(dtype=float)
        return self._cache[column]

    def regression(self, key: tuple, *args, **kwargs) -> str | None:
        if key not in self._checks:
            self._checks[key] = regression_problem(*args, **kwargs)
        return self._checks[key]


def _no_variance(values: np.ndarray, name: str) -> str | None:
    """:func:`variance_problem` for values already free of NaN (at least one)."""
    low = values.min()
    return f"every answer to {name} is {_fmt(low)} (no variance)" if low == values.max() else None


def _loyalty(num: _Columns, spec: Spec, sat: np.ndarray, w: np.ndarray, skipped: dict) -> Spec:
    sat_name = f"overall satisfaction ({spec.satisfaction.column})"
    outcomes = [(item, item.title, num(item.column), False) for item in spec.loyalty]
    if spec.nps:
        rec = num(spec.nps.column)
        outcomes.append((spec.nps, "promoter status", np.where(np.isnan(rec), np.nan, (rec >= 9).astype(float)),
                         True))
    base = ~np.isnan(sat) & _valid(w)
    kept = []
    for item, label, y, binary in outcomes:
        keep = base & ~np.isnan(y)
        n = int(keep.sum())
        if n < MIN_MODEL_ROWS:
            problem = (f"only {_count(n, 'respondent')} answered both satisfaction and {label} "
                       f"(at least {MIN_MODEL_ROWS} needed)")
        elif kish_n_eff(w[keep]) < MIN_EFFECTIVE_BASE:
            problem = (f"the weights leave an effective base of {kish_n_eff(w[keep]):.1f} respondents "
                       f"(at least {MIN_EFFECTIVE_BASE:g} needed)")
        else:
            ss, yy = sat[keep], y[keep]
            problem = _no_variance(ss, sat_name) or _no_variance(yy, label) or separation_problem(yy, ss, None, label)
        if problem:
            skipped["loyalty.promoter" if binary else f"loyalty.{item.column}"] = \
                f"Satisfaction → {label}: not modelled: {problem}."
        else:
            kept.append(item)
    return replace(spec, loyalty=tuple(i for i in kept if i is not spec.nps),
                   nps=spec.nps if spec.nps is not None and any(i is spec.nps for i in kept) else None)


def _gap(frame: pd.DataFrame, num: _Columns, spec: Spec, sat: np.ndarray, w: np.ndarray, skipped: dict) -> Spec:
    kept = []
    valid = _valid(w)
    for d in spec.dimensions:
        if not d.has_gap:
            kept.append(d)  # not part of the gap analysis: left as it is
            continue
        n = int((~np.isnan(frame[gap_column(d.name)].to_numpy(dtype=float)) & valid).sum())
        if n < 2:
            skipped[f"gap.{d.name}"] = (f"Expectation gap of {d.title}: {_count(n, 'respondent')} answered both "
                                        f"its perception and its expectation (at least 2 needed).")
        else:
            kept.append(d)
    restricted = replace(spec, dimensions=tuple(kept))
    dims = restricted.gap_dimensions
    if not dims:
        return restricted
    gaps = np.column_stack([frame[gap_column(d.name)].to_numpy(dtype=float) for d in dims])
    problem = num.regression(("gaps", *(d.name for d in dims)), gaps, sat, w,
                             [f"the gap of {d.title}" for d in dims],
                             outcome=f"overall satisfaction ({spec.satisfaction.column})")
    if problem:
        skipped["gap.disconfirmation"] = f"Disconfirmation regression (satisfaction on the gaps): not fitted: {problem}."
    if spec.loyalty or spec.nps:
        exposure, outcome, label = mediation_inputs(frame, restricted, num)
        problem = regression_problem(np.column_stack([exposure, sat]), outcome, w,
                                     ["the mean gap", f"overall satisfaction ({spec.satisfaction.column})"],
                                     outcome=label, min_rows=30)
        if problem:
            skipped["gap.mediation"] = f"Mediation (gap → satisfaction → {label}): not fitted: {problem}."
    return restricted


def mediation_inputs(frame: pd.DataFrame, spec: Spec, num=None) -> tuple[np.ndarray, np.ndarray, str]:
    """The mediation's exposure (each respondent's mean gap over the dimensions answered), its
    outcome (the first loyalty item, else promoter status) and the outcome's label."""
    num = num or _Columns(frame)
    if spec.loyalty:
        outcome, label = num(spec.loyalty[0].column), spec.loyalty[0].title
    else:
        rec = num(spec.nps.column)
        outcome, label = np.where(np.isnan(rec), np.nan, (rec >= 9).astype(float)), "promoter status"
    # each respondent's mean over the gaps answered, summed column by column (no rows × gaps copies)
    total = np.zeros(len(frame))
    answered = np.zeros(len(frame))
    for d in spec.gap_dimensions:
        gap = frame[gap_column(d.name)].to_numpy(dtype=float)
        has = ~np.isnan(gap)
        total += np.where(has, gap, 0.0)
        answered += has
    with np.errstate(invalid="ignore", divide="ignore"):
        exposure = np.where(answered > 0, total / answered, np.nan)
    return exposure, outcome, label


def _drivers(frame: pd.DataFrame, num: _Columns, spec: Spec, sat: np.ndarray, w: np.ndarray, predictors: str,
             skipped: dict) -> Spec:
    """Driver dimensions that can enter the decomposition: answered by someone and varying among
    the complete answers. The analysis as a whole needs two of them, a varying satisfaction and a
    design of full rank (checked on the dimensions that remain)."""
    key = "drivers" if predictors == "perception" else "drivers_gap"
    what = "Key drivers" if predictors == "perception" else "Key drivers among the expectation gaps"
    dims = [d for d in spec.dimensions if predictors == "perception" or d.has_gap]
    if not dims:
        return replace(spec, dimensions=())
    cols = [num(d.perception) if predictors == "perception" else frame[gap_column(d.name)].to_numpy(dtype=float)
            for d in dims]
    base = ~np.isnan(sat) & _valid(w)
    reasons = {}
    kept = [j for j, col in enumerate(cols) if (base & ~np.isnan(col)).any()]
    for j, d in enumerate(dims):
        if j not in kept:
            reasons[d.name] = f"{d.title} left out: nobody who rated satisfaction answered it"
    while len(kept) >= 2:  # a dimension constant among the complete answers cannot take a share of R²
        complete = base.copy()
        for j in kept:
            complete &= ~np.isnan(cols[j])
        if not complete.any():
            break
        constant = [(j, problem) for j in kept if (problem := _no_variance(cols[j][complete], dims[j].title))]
        if not constant:
            break
        for j, problem in constant:
            reasons[dims[j].name] = f"{dims[j].title} left out: {problem}"
        kept = [j for j in kept if j not in dict(constant)]
    if len(dims) >= 2:
        if len(kept) < 2:
            problem = "fewer than two dimensions can take part (" + "; ".join(reasons.values()) + ")"
        else:
            names = [dims[j].title if predictors == "perception" else f"the gap of {dims[j].title}" for j in kept]
            key_ = ("gaps" if predictors == "gap" else "perceptions", *(dims[j].name for j in kept))
            problem = num.regression(key_, np.column_stack([cols[j] for j in kept]), sat, w, names,
                                     outcome=f"overall satisfaction ({spec.satisfaction.column})")
        if problem:
            skipped[key] = f"{what}: not computed: {problem}."
        else:
            for name, reason in reasons.items():
                skipped[f"{key}.{name}"] = f"{what}: {reason}."
    keep_names = {dims[j].name for j in kept}
    return replace(spec, dimensions=tuple(d for d in spec.dimensions if d.name in keep_names))


def plan_analyses(frame: pd.DataFrame, spec: Spec) -> AnalysisPlan:
    """Check the preconditions of the loyalty, gap and driver analyses on the clean rows.

    Returns the spec each analysis should run on (loyalty outcomes, gap dimensions and driver
    dimensions that the answers allow) and a sentence for every analysis or item left out. An
    analysis whose inputs the spec does not define is not mentioned here (the stage says so).
    """
    skipped: dict[str, str] = {}
    num = _Columns(frame)
    sat = num(spec.satisfaction.column)
    w = row_weights(frame, spec)
    loyalty = _loyalty(num, spec, sat, w, skipped)
    gap = _gap(frame, num, spec, sat, w, skipped)
    drivers = _drivers(frame, num, spec, sat, w, "perception", skipped)
    drivers_gap = _drivers(frame, num, spec, sat, w, "gap", skipped) if "drivers" not in skipped else drivers
    return AnalysisPlan(loyalty=loyalty, gap=gap, drivers=drivers, drivers_gap=drivers_gap, skipped=skipped)
