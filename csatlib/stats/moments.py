"""Weighted covariance and correlation matrices, the inputs of every relative-importance method.

Frequency or sampling weights w_i: means, (co)variances and correlations are weighted, so a
collapsed answer pattern with weight n_p gives the same matrix as its n_p rows. A column with
(almost) no variance, or too few rows, raises :class:`DegenerateDataError` naming it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["DegenerateDataError", "weighted_covariance", "weighted_correlation", "column_label", "CONSTANT_SD"]

CONSTANT_SD = 1e-12
"""A column's sd below this fraction of its largest absolute value counts as zero variance."""


class DegenerateDataError(ValueError):
    """The data cannot be decomposed: a zero-variance column or linearly dependent predictors.

    Attributes
    ----------
    reason : str
        ``"zero variance"``, ``"collinear"``, ``"no weight"`` or (logistic fits) ``"separation"``.
    columns : tuple
        The columns involved: names when the raising function was given ``names``, else indices
        (into ``values`` for :func:`weighted_correlation` and :func:`decompose`, where 0 is the
        outcome; into the predictors for the functions taking ``rxx``).
    """

    def __init__(self, message: str, reason: str, columns: Sequence = ()):
        super().__init__(message)
        self.reason = reason
        self.columns = tuple(columns)

    def __reduce__(self):  # picklable with its reason and columns
        return type(self), (str(self), self.reason, self.columns)


def column_label(i: int, names: Sequence[str] | None):
    """The name of predictor ``i`` (its position when there are no names)."""
    return names[i] if names is not None else i


def weighted_covariance(values, weights=None) -> np.ndarray:
    """Weighted covariance matrix of the columns of ``values``.

    Parameters
    ----------
    values : array_like, shape (n, p)
        Rows of data, e.g. distinct answer patterns. Must be finite.
    weights : array_like, shape (n,), optional
        Non-negative row weights (frequency × design weight of each pattern); all ones if
        omitted. Zero weights are allowed (e.g. from a Poisson bootstrap).

    Returns
    -------
    ndarray, shape (p, p)
        Σ w_i (x_i - x̄_w)(x_i - x̄_w)' / Σ w_i (divisor Σw, not Σw - 1: correlations and R²
        do not depend on it). Integer frequency weights give exactly the covariance of the rows
        repeated that many times.

    Raises
    ------
    ValueError
        Non-finite values, negative or non-finite weights, or weights summing to zero.

    Notes
    -----
    Equivalent to R's ``cov.wt(x, wt = w / sum(w), method = "ML")$cov``.

    Examples
    --------
    >>> weighted_covariance([[1.0, 2.0], [3.0, 5.0]], [1, 3])
    array([[0.75  , 1.125 ],
           [1.125 , 1.6875]])
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"values must be a 2-D array (rows, columns), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("values contain NaN or infinite entries; drop or impute them first")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(x),):
        raise ValueError(f"weights must have shape ({len(x)},), got {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    total = w.sum()
    if not total > 0:
        raise DegenerateDataError("weights sum to zero: no data to analyse", "no weight")
    mean = w @ x / total
    centred = x - mean
    cov = (centred.T * w) @ centred / total
    return (cov + cov.T) / 2


def weighted_correlation(values, weights=None, *, names: Sequence[str] | None = None) -> np.ndarray:
    """Weighted correlation matrix of the columns of ``values`` (from :func:`weighted_covariance`).

    Parameters
    ----------
    values : array_like, shape (n, p)
    weights : array_like, shape (n,), optional
        Non-negative row weights; all ones if omitted.
    names : sequence of str, optional
        Column names, used in error messages and :attr:`DegenerateDataError.columns`.

    Returns
    -------
    ndarray, shape (p, p)
        Correlation matrix with an exact unit diagonal.

    Raises
    ------
    DegenerateDataError
        With ``reason="zero variance"`` when a column is constant over the rows with positive
        weight (its standard deviation is below 1e-12 of its largest absolute value).

    Notes
    -----
    Equivalent to R's ``cov.wt(x, wt = w, cor = TRUE)$cor``.

    Examples
    --------
    >>> r = weighted_correlation([[1, 2], [2, 3], [3, 7]], [1, 1, 2])
    >>> round(float(r[0, 1]), 6)
    0.95976
    """
    cov = weighted_covariance(values, weights)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    x = np.abs(np.asarray(values, dtype=float))
    w = None if weights is None else np.asarray(weights, dtype=float)
    scale = (x if w is None else x[w > 0]).max(axis=0)
    flat = np.flatnonzero(sd <= CONSTANT_SD * scale)
    if flat.size:
        cols = [column_label(int(i), names) for i in flat]
        raise DegenerateDataError(f"zero variance (constant column): {', '.join(map(str, cols))}",
                                  "zero variance", cols)
    r = cov / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    return r
