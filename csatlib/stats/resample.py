"""Bootstrap resampling of rows as moment totals: units, draws and per-replicate moments.

Rows are grouped into bootstrap units (each row its own unit, or above :data:`MAX_UNITS` rows
random groups of rows); a replicate draws units with replacement. What an estimator built on
(weighted) means and covariances needs from each replicate is its moment totals, so a bootstrap
is a product of the draw counts with the per-unit totals, never a loop over replicates or rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ResamplePlan", "resample_plan", "unit_sums", "unit_crossproducts", "unit_moments", "replicate_moments",
           "MAX_UNITS"]

MAX_UNITS = 5000
"""Most bootstrap units: above this many rows, rows are pooled into this many random groups."""


@dataclass(frozen=True)
class ResamplePlan:
    """Which bootstrap unit each row belongs to and how often each replicate draws each unit.

    Attributes
    ----------
    unit : ndarray, shape (n,)
        Unit of each row: the row itself, or its random group when rows are pooled.
    n_units : int
    counts : ndarray, shape (replicates, n_units)
        Draws of each unit in each replicate (each row sums to ``n_units``).
    grouped : bool
        True when rows were pooled into random groups (more than ``max_units`` rows).
    order : ndarray, shape (n,) or None
        When grouped: the random order of the rows; group g is ``order[g*size:(g+1)*size]``.
    size : int
        Rows per group (the last group may hold fewer); 1 when not grouped.
    """

    unit: np.ndarray
    n_units: int
    counts: np.ndarray
    grouped: bool
    order: np.ndarray | None = None
    size: int = 1

    @property
    def replicates(self) -> int:
        return int(self.counts.shape[0])


def _counts(draws: np.ndarray, n_units: int) -> np.ndarray:
    offset = (np.arange(len(draws)) * n_units)[:, None]
    return np.bincount((draws + offset).ravel(), minlength=len(draws) * n_units).reshape(len(draws), n_units) \
        .astype(float)


def resample_plan(n: int, replicates: int, rng: np.random.Generator | int | None = None, *,
                  max_units: int = MAX_UNITS, resamples=None) -> ResamplePlan:
    """Bootstrap draws of ``n`` rows: ``replicates`` samples of the units drawn with replacement.

    Up to ``max_units`` rows each row is a unit: the ordinary (Efron) bootstrap of rows, the one
    plspm runs. Above that the rows are dealt in random order into groups of ``ceil(n /
    max_units)`` rows (the last group may be smaller) and the groups are resampled: a random-group
    bootstrap (Wolter 2007, ch. 2). A replicate's moment totals then have the same expectation
    and, to O(1/groups), the same variance as when rows are resampled, at a cost that does not
    grow with n.

    Parameters
    ----------
    n : int
    replicates : int
    rng : Generator, int or None
        Seeds the grouping and the draws.
    max_units : int
    resamples : array_like of int, shape (replicates, n), optional
        Row indices (0-based) of each replicate, drawn elsewhere (e.g. R's ``sample.int`` draws
        minus 1); then rows are the units and ``rng`` is not used.
    """
    if resamples is not None:
        r = np.asarray(resamples)
        if r.ndim != 2 or r.shape[1] != n or r.min() < 0 or r.max() >= n:
            raise ValueError(f"resamples must be row indices of shape (replicates, {n})")
        return ResamplePlan(np.arange(n), n, _counts(r, n), False)
    rng = np.random.default_rng(rng)
    if n <= max_units:
        draws = rng.integers(0, n, size=(replicates, n))
        return ResamplePlan(np.arange(n), n, _counts(draws, n), False)
    size = -(-n // max_units)
    n_units = -(-n // size)
    order = rng.permutation(n)
    unit = np.empty(n, dtype=np.int64)
    unit[order] = np.arange(n) // size
    draws = rng.integers(0, n_units, size=(replicates, n_units))
    return ResamplePlan(unit, n_units, _counts(draws, n_units), True, order, size)


def unit_sums(plan: ResamplePlan, values) -> np.ndarray:
    """Σ over the rows of each unit of ``values`` (n,) or (n, q): shape (n_units,) or (n_units, q)."""
    v = np.asarray(values, dtype=float)
    if not plan.grouped:
        return v.copy()
    if v.ndim == 1:
        return np.bincount(plan.unit, weights=v, minlength=plan.n_units)
    return np.column_stack([np.bincount(plan.unit, weights=v[:, j], minlength=plan.n_units)
                            for j in range(v.shape[1])])


def unit_crossproducts(plan: ResamplePlan, x, weights) -> np.ndarray:
    """Σ over the rows of each unit of w_i x_i x_i': shape (n_units, q, q)."""
    return unit_moments(plan, x, weights)[2]


def unit_moments(plan: ResamplePlan, x, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Σw, Σ w x and Σ w x x' over the rows of each unit: shapes (u,), (u, q), (u, q, q)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(weights, dtype=float)
    if not plan.grouped:
        xw = x * w[:, None]
        return w.copy(), xw, np.einsum("ni,nj->nij", xw, x)
    q = x.shape[1]
    root = np.zeros(plan.n_units * plan.size)
    np.sqrt(w[plan.order], out=root[:len(x)])
    xs = np.zeros((len(root), q))
    np.take(x, plan.order, axis=0, out=xs[:len(x)])
    xs *= root[:, None]  # √w x: the cross-products need one batched product of it with itself
    xs = xs.reshape(plan.n_units, plan.size, q)
    root = root.reshape(plan.n_units, plan.size)
    sums = np.matmul(root[:, None, :], xs)[:, 0, :]
    return np.square(root).sum(axis=1), sums, np.matmul(xs.transpose(0, 2, 1), xs)


def replicate_moments(plan: ResamplePlan, x, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted totals, means and covariances of the columns of ``x`` in every replicate.

    Returns (total (B,), mean (B, q), cov (B, q, q)), the covariance with divisor Σw.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(weights, dtype=float)
    centre = w @ x / w.sum()  # shift first: the moments of centred data lose no precision
    tw, t1, t2 = unit_moments(plan, x - centre, w)
    c = plan.counts
    total = c @ tw
    mean = (c @ t1) / total[:, None]
    upper = np.triu_indices(x.shape[1])  # the cross-products are symmetric: resample one triangle
    half = c @ t2[:, upper[0], upper[1]]
    second = np.empty((len(c), x.shape[1], x.shape[1]))
    second[:, upper[0], upper[1]] = half
    second[:, upper[1], upper[0]] = half
    cov = second / total[:, None, None] - mean[:, :, None] * mean[:, None, :]
    return total, mean + centre, cov
