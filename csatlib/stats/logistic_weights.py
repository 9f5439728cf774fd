"""Relative weights for a binary outcome (Tonidandel & LeBreton 2010).

Johnson's relative weights with the outcome's part played by a logistic regression on the
orthogonalised predictors (see :mod:`csatlib.stats.importance` for the method and references).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .moments import DegenerateDataError, weighted_correlation, weighted_covariance
from .shapley import as_problem, spectrum

__all__ = ["LogisticRelativeWeights", "logistic_relative_weights"]


@dataclass(frozen=True)
class LogisticRelativeWeights:
    """Relative weights of the predictors of a binary outcome (:func:`logistic_relative_weights`).

    Attributes
    ----------
    rw : ndarray, shape (k,)
        Raw relative weights ε_j; they sum to ``r2``.
    r2 : float
        Squared correlation between the outcome and the fitted probability.
    beta : ndarray, shape (k,)
        Standardised logistic coefficients β* of the orthogonal counterparts Z.
    iterations : int
        Newton-Raphson iterations of the logistic fit.
    method : str
        Human-readable description.
    """

    rw: np.ndarray
    r2: float
    beta: np.ndarray
    iterations: int
    method: str = "relative weights for logistic regression (Tonidandel & LeBreton 2010)"

    @property
    def rw_share(self) -> np.ndarray:
        """Relative weights as shares of ``r2``."""
        return self.rw / self.r2


def _logistic_newton(design: np.ndarray, y: np.ndarray, w: np.ndarray, max_iter: int, tol: float):
    """Weighted logistic regression by Newton-Raphson; returns (coefficients, iterations).

    Raises DegenerateDataError on (quasi-)separation: the fit does not converge, or the fitted
    probabilities reach 0 or 1 for rows with positive weight."""
    coef = np.zeros(design.shape[1])
    total = w.sum()
    mean = float(w @ y / total)
    coef[0] = math.log(mean / (1 - mean))
    previous = -np.inf
    for it in range(1, max_iter + 1):
        eta = design @ coef
        p = np.exp(-np.logaddexp(0.0, -eta))  # 1 / (1 + e^-η) without overflow
        ll = float(w @ (y * eta - np.logaddexp(0, eta)))
        grad = design.T @ (w * (y - p))
        hess = (design.T * (w * p * (1 - p))) @ design
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        coef = coef + step
        if abs(ll - previous) <= tol * (abs(ll) + tol) and np.max(np.abs(step)) < 1e-8 * (1 + np.max(np.abs(coef))):
            p = np.exp(-np.logaddexp(0.0, -(design @ coef)))
            if np.min(np.minimum(p, 1 - p)[w > 0]) < 1e-10:
                break
            return coef, it
        previous = ll
    raise DegenerateDataError("the logistic regression does not converge (the outcome is (quasi-)separated by "
                              "the predictors)", "separation")


def logistic_relative_weights(values, weights=None, *, names: Sequence[str] | None = None, max_iter: int = 100,
                              tol: float = 1e-12) -> LogisticRelativeWeights:
    """Relative weights for a binary outcome (Tonidandel & LeBreton 2010).

    Parameters
    ----------
    values : array_like, shape (n, 1 + k)
        Column 0 the outcome coded 0/1, columns 1..k the predictors; rows may be distinct
        patterns with their summed weights.
    weights : array_like, shape (n,), optional
        Non-negative row weights (all ones if omitted); integer weights equal repeated rows.
    names : sequence of str, optional
        Column names (outcome first), for error messages.
    max_iter, tol : int, float
        Newton-Raphson limits of the logistic fit (relative change of the log-likelihood).

    Returns
    -------
    LogisticRelativeWeights
        ``rw`` (sums to ``r2``), ``r2`` (squared correlation of outcome and fitted probability),
        ``beta`` (standardised coefficients of the orthogonal counterparts).

    Raises
    ------
    DegenerateDataError
        A constant outcome or predictor (``"zero variance"``), collinear predictors
        (``"collinear"``), or an outcome the predictors separate (``"separation"``).
    ValueError
        An outcome other than 0/1, NaN values, negative weights.

    Notes
    -----
    The module docstring gives the steps. R equivalent: the published RWA-Web code of
    Tonidandel & LeBreton, ``glm(y ~ Z, family = binomial)`` on the orthogonal counterparts
    ``Z = svd(scale(X))$u %*% t(svd(scale(X))$v)``, ``beta <- b * sqrt(Rsq) / sd(logit(fitted))``,
    ``epsilon <- Lambda^2 %*% beta^2``; the ``rwa`` package's ``rwa_logit``.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> x = rng.normal(size=(400, 2)); y = (x @ [1.5, 0.3] + rng.logistic(size=400) > 0).astype(float)
    >>> d = logistic_relative_weights(np.column_stack([y, x]))
    >>> bool(np.isclose(d.rw.sum(), d.r2)), bool(d.rw[0] > d.rw[1])
    (True, True)
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"values must have shape (n, 1 + k) with k ≥ 1, got {x.shape}")
    if names is not None and len(names) != x.shape[1]:
        raise ValueError(f"{len(names)} names for {x.shape[1]} columns")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    r = weighted_correlation(x, w, names=names)  # checks values, weights and zero variance
    y = x[:, 0]
    if not np.isin(y[w > 0], (0.0, 1.0)).all():
        raise ValueError("the outcome (column 0) must be coded 0/1")
    labels = list(range(1, x.shape[1])) if names is None else list(names)[1:]
    rxx, _ = as_problem(r[1:, 1:], r[0, 1:])
    evals, evecs = spectrum(rxx, labels)
    total = w.sum()
    pred = x[:, 1:]
    mean = w @ pred / total
    sd = np.sqrt(np.diag(weighted_covariance(pred, w)))
    std = (pred - mean) / sd
    z = std @ ((evecs / np.sqrt(evals)) @ evecs.T)  # X_std R^{-1/2}: weighted covariance I
    coef, iterations = _logistic_newton(np.column_stack([np.ones(len(z)), z]), y, w, max_iter, tol)
    b = coef[1:]
    eta = z @ b
    prob = np.exp(-np.logaddexp(0.0, -(coef[0] + eta)))
    r2 = float(weighted_correlation(np.column_stack([y, prob]), w)[0, 1] ** 2) if np.ptp(prob[w > 0]) > 0 else 0.0
    sd_eta = float(np.sqrt(b @ b))  # cov(Z) = I
    beta = b * math.sqrt(r2) / sd_eta if sd_eta > 0 else np.zeros_like(b)
    root = (evecs * np.sqrt(evals)) @ evecs.T  # R^{1/2}: corr(X_j, Z_k)
    return LogisticRelativeWeights(rw=(root ** 2) @ (beta ** 2), r2=r2, beta=beta, iterations=iterations)
