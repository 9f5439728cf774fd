"""Weights computed from the sample: raking to population margins and weight trimming.

:func:`rake` is iterative proportional fitting, the algorithm of R's ``survey::rake``: each
sweep post-stratifies on every margin in turn (w ← w · T_c / Σ_{i∈c} w_i for each category c of
the margin), starting from the base weights, until the weighted joint table of all margin
variables changes by less than ``epsilon · Σ w`` between two sweeps (R's ``epsilon < 1``). The
raked weights are also the fixed point of ``calibrate(calfun = "raking")`` (the two agree to
~1e-12).

:func:`trim` is R's ``trimWeights``: weights below ``lower`` or above ``upper`` are set to the
bound and the amount removed (or added) is spread *equally and additively* over the weights that
were inside the bounds, so the total is kept; ``strict=True`` repeats this until no weight is
outside (weights set to a bound take part in later passes). Trimming moves the margins away
from their targets; the achieved margins say by how much.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .survey import DesignError

__all__ = ["RakeResult", "rake", "trim", "TrimResult", "kish_design_effect", "MAX_SWEEPS", "EPSILON"]

MAX_SWEEPS = 1000
EPSILON = 1e-12  # relative to the sum of the starting weights, as survey::rake's epsilon < 1
MARGIN_TOLERANCE = 1e-6  # largest relative miss of a margin accepted after convergence


@dataclass(frozen=True)
class RakeResult:
    """Raked weights and how the raking went.

    ``achieved`` and ``targets`` hold one array per margin (weighted totals per category after
    raking, and the population totals asked for); ``max_error`` is the largest
    |achieved − target| / target over all categories.
    """

    weights: np.ndarray
    sweeps: int
    converged: bool
    achieved: tuple[np.ndarray, ...]
    targets: tuple[np.ndarray, ...]
    factor_min: float
    factor_max: float

    @property
    def max_error(self) -> float:
        return float(max((np.max(np.abs(a - t) / t) for a, t in zip(self.achieved, self.targets)), default=0.0))

    def __repr__(self) -> str:
        return (f"RakeResult({len(self.weights):,} weights, {self.sweeps} sweeps, converged={self.converged}, "
                f"max margin error={self.max_error:.2e}, factors {self.factor_min:.3f}-{self.factor_max:.3f})")


def rake(weights, margins: Sequence[np.ndarray], totals: Sequence[np.ndarray], *, epsilon: float = EPSILON,
         max_sweeps: int = MAX_SWEEPS) -> RakeResult:
    """Rake ``weights`` so their totals over each margin's categories equal ``totals``.

    Parameters
    ----------
    weights : array (n,)
        Starting (base) weights, > 0.
    margins : sequence of int arrays (n,)
        For each margin, each row's category code 0 .. C−1; every category must hold rows.
    totals : sequence of arrays (C,)
        Population total of each category of each margin (all margins should sum to the same
        population size).
    epsilon : float
        Convergence: the largest change of a cell of the joint weighted table between two sweeps
        below ``epsilon · Σ weights`` (survey::rake's ``control$epsilon`` when < 1).
    max_sweeps : int

    Returns
    -------
    RakeResult

    Raises
    ------
    DesignError
        A category without rows, a non-positive target, no convergence in ``max_sweeps``, or a
        margin still missed by more than ``MARGIN_TOLERANCE`` (relative) when the sweeps settle
        (contradictory margins; R's convergence check, which compares sweeps, would not notice).

    Examples
    --------
    >>> # R: rake(svydesign(ids=~1, weights=~w, data=d), list(~region, ~agegroup),
    >>> #         list(region_totals, age_totals), control=list(maxit=1000, epsilon=1e-12))
    >>> r = rake(w, [region_codes, age_codes], [region_totals, age_totals])  # doctest: +SKIP
    """
    w = np.asarray(weights, dtype=float).copy()
    base = w.copy()
    codes = [np.asarray(m, dtype=np.int64) for m in margins]
    targets = [np.asarray(t, dtype=float) for t in totals]
    if len(codes) != len(targets):
        raise DesignError("rake: one array of totals is needed per margin")
    for j, (c, t) in enumerate(zip(codes, targets)):
        if len(c) != len(w):
            raise DesignError(f"rake: margin {j} has {len(c)} codes for {len(w)} rows")
        if np.any(~np.isfinite(t)) or np.any(t <= 0):
            raise DesignError(f"rake: margin {j} has a target that is not a positive number")
        counts = np.bincount(c, minlength=len(t))
        if len(counts) > len(t) or np.any(counts[:len(t)] == 0):
            raise DesignError(f"rake: margin {j} has a category without respondents (or a code without a target)")
    if not codes:
        return RakeResult(w, 0, True, (), (), 1.0, 1.0)
    cell = _joint_cells(codes)
    n_cells = int(cell.max()) + 1
    eps = epsilon * float(w.sum()) if epsilon < 1 else float(epsilon)
    table = np.bincount(cell, weights=w, minlength=n_cells)
    converged = False
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        for c, t in zip(codes, targets):
            current = np.bincount(c, weights=w, minlength=len(t))
            w *= (t / current)[c]
        new = np.bincount(cell, weights=w, minlength=n_cells)
        delta = float(np.max(np.abs(new - table)))
        table = new
        if delta < eps:
            converged = True
            break
    if not converged:
        raise DesignError(f"raking did not converge after {max_sweeps} sweeps (the margins may contradict each "
                          f"other, e.g. a combination of categories the targets need has no respondents)")
    achieved = tuple(np.bincount(c, weights=w, minlength=len(t)) for c, t in zip(codes, targets))
    factor = w / base
    result = RakeResult(w, sweeps, converged, achieved, tuple(targets), float(factor.min()), float(factor.max()))
    # the sweeps can settle while an earlier margin is still off (contradictory margins): check them all
    if result.max_error > MARGIN_TOLERANCE:
        j, a_, t_ = max(((j, a_, t_) for j, (a_, t_) in enumerate(zip(achieved, targets))),
                        key=lambda e: float(np.max(np.abs(e[1] - e[2]) / e[2])))
        k = int(np.argmax(np.abs(a_ - t_) / t_))
        raise DesignError(f"raking settled after {sweeps} sweeps without reaching margin {j} (category {k}: "
                          f"{a_[k]:.6g} against a target of {t_[k]:.6g}); the margins contradict each other")
    return result


def _joint_cells(codes: list[np.ndarray]) -> np.ndarray:
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        key = key * (int(c.max()) + 1) + c
    return np.unique(key, return_inverse=True)[1].ravel()


@dataclass(frozen=True)
class TrimResult:
    """Trimmed weights, the bounds used and how many weights each pass moved."""

    weights: np.ndarray
    lower: float
    upper: float
    n_below: int  # weights below ``lower`` before trimming
    n_above: int
    passes: int
    n_outside_after: int = 0
    notes: list[str] = field(default_factory=list)


def trim(weights, lower: float, upper: float, strict: bool = True, max_passes: int = 1000) -> TrimResult:
    """Trim weights to ``[lower, upper]`` keeping their sum (R's ``trimWeights``).

    Parameters
    ----------
    weights : array
    lower, upper : float
        Absolute bounds (``csatlib`` passes ratio × mean weight).
    strict : bool
        Repeat until every weight is within the bounds (R's ``strict = TRUE``); otherwise one pass.

    Examples
    --------
    >>> # R: trimWeights(design, lower = 0.5 * mean(w), upper = 1.6 * mean(w), strict = TRUE)
    >>> trim(w, 0.5 * w.mean(), 1.6 * w.mean()).weights  # doctest: +SKIP
    """
    w = np.asarray(weights, dtype=float).copy()
    if not (np.isfinite(lower) and np.isfinite(upper) and 0 <= lower < upper):
        raise DesignError(f"trim: bounds must satisfy 0 <= lower < upper, got [{lower}, {upper}]")
    if not (lower * len(w) <= w.sum() <= upper * len(w)):
        raise DesignError("trim: the bounds cannot hold the total weight (mean weight outside [lower, upper])")
    n_below, n_above = int(np.sum(w < lower)), int(np.sum(w > upper))
    passes = 0
    while passes < max_passes:
        outside = (w < lower) | (w > upper)
        if not outside.any() or outside.all():
            break
        passes += 1
        clamped = np.clip(w, lower, upper)
        spread = float(np.sum(w - clamped)) / int(np.sum(~outside))
        clamped[~outside] += spread
        w = clamped
        if not strict:
            break
    after = int(np.sum((w < lower) | (w > upper)))
    return TrimResult(w, float(lower), float(upper), n_below, n_above, passes, after)


def kish_design_effect(weights) -> float:
    """Kish's design effect of unequal weighting, n Σw² / (Σw)² (1 = equal weights)."""
    w = np.asarray(weights, dtype=float)
    return float(len(w) * np.sum(w * w) / np.sum(w) ** 2) if len(w) else float("nan")
