"""Counting and testing the cells of banner tables, vectorised over the columns of a group.

Every count is one ``np.bincount`` over the rows per question and block of banner groups
(:func:`count_cells`); means and their linearised SEs come from the point sums
(:func:`column_means`); every column pair of a row is tested at once (:func:`z_pvalues` for
shares, :func:`welch_pvalues` for means), the pairs of a row adjusted as one family
(:func:`adjust_rows`) and turned into letters (:func:`significance_letters`). The formulas are
those of :mod:`csatlib.analysis.banner`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from .banner_inputs import BannerGroup

__all__ = ["MAX_JOINT_BINS", "Counts", "count_cells", "column_means", "z_pvalues", "welch_pvalues", "adjust_rows",
           "significance_letters"]

MAX_JOINT_BINS = 1 << 22  # cells × answer points of one bincount; larger banners are split into blocks

# ---------------------------------------------------------------------------------------------
# counting
@dataclass
class Counts:
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


def _blocks(groups: list[BannerGroup], points: int) -> list[list[int]]:
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


def count_cells(groups: list[BannerGroup], idx: np.ndarray, n_points: int, w: np.ndarray | None,
           w2: np.ndarray | None, cells: dict | None = None) -> list[Counts]:
    """Counts of one question for the Total and every banner group (one bincount per block).

    Parameters
    ----------
    groups : list of BannerGroup
        The banner groups (the Total excluded).
    idx : ndarray
        Each row's answer point (−1: not answered).
    n_points : int
    w, w2 : ndarray, optional
        Weights and squared weights (None: unweighted).
    cells : dict, optional
        Caches each block's joint cell per row across questions.

    Returns
    -------
    list of Counts
        The Total first, then one per group.
    """
    out: list[Counts | None] = [None] * len(groups)
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
            out[i] = Counts(*(a.sum(axis=axes)[:, 1:] if axes else a[:, 1:] for a in (c, sw, sw2)))
        if total is None:
            axes = tuple(range(len(shape)))
            total = Counts(*(a.sum(axis=axes)[None, 1:] for a in (c, sw, sw2)))
    if total is None:  # no banner group: the Total alone
        c = np.bincount(idx + 1, minlength=stride)
        sw = c.astype(float) if w is None else np.bincount(idx + 1, weights=w, minlength=stride)
        sw2 = c.astype(float) if w is None else np.bincount(idx + 1, weights=w2, minlength=stride)
        total = Counts(c[None, 1:], sw[None, 1:], sw2[None, 1:])
    return [total, *out]



# ---------------------------------------------------------------------------------------------
# statistics and tests, vectorised over the columns of a group
def column_means(c: Counts, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and linearised SE per column (``weighted_mean`` computed from point sums):
    ``var = n/(n−1) · Σ_p Σw²_p (y_p − ȳ)² / (Σw)²``.

    Parameters
    ----------
    c : Counts
    scores : ndarray
        The score of each answer point.

    Returns
    -------
    (ndarray, ndarray)
        Mean and SE per column (NaN where a column has no answer, SE NaN below two).
    """
    n, w = c.n, c.w
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c.sw @ scores) / w
        dev = (scores[None, :] - mean[:, None]) ** 2
        var = n / (n - 1) * (c.sw2 * dev).sum(axis=1) / w ** 2
    se = np.sqrt(np.where(n >= 2, var, np.nan))
    return np.where(n > 0, mean, np.nan), se


def z_pvalues(p: np.ndarray, neff: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Pooled two-proportion z test of every column pair: p (S, k), neff (k,) → p values (S, k, k).

    Parameters
    ----------
    p : ndarray (S, k)
        Shares per stub and column.
    neff : ndarray (k,)
        Effective base of each column.
    ok : ndarray of bool (k,)
        Columns that take part (not suppressed, answered).

    Returns
    -------
    ndarray (S, k, k)
        NaN where a pair cannot be tested.
    """
    ni, nj = neff[:, None], neff[None, :]
    pi, pj = p[:, :, None], p[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (pi * ni + pj * nj) / (ni + nj)
        se = np.sqrt(pooled * (1 - pooled) * (1 / ni + 1 / nj))
        z = (pi - pj) / se
    pv = 2 * _st.norm.sf(np.abs(z))
    valid = ok[:, None] & ok[None, :] & (se > 0) & np.isfinite(z)
    return np.where(valid, pv, np.nan)


def welch_pvalues(mean: np.ndarray, se: np.ndarray, n: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Welch t test of every column pair from means and SEs (S, k), df_i = n_i − 1 → (S, k, k).

    Parameters
    ----------
    mean, se : ndarray (S, k)
    n : ndarray (k,)
        Unweighted base of each column.
    ok : ndarray of bool (k,)

    Returns
    -------
    ndarray (S, k, k)
        NaN where a pair cannot be tested.
    """
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


def significance_letters(est: np.ndarray, pv: np.ndarray, correction: str, alpha: float,
                         names: list[str]) -> list[list[str]]:
    """Letters per row and column: the columns a cell is significantly higher than.

    Parameters
    ----------
    est : ndarray (S, k)
    pv : ndarray (S, k, k)
        Unadjusted p values of every column pair.
    correction : {"bonferroni", "holm", "none"}
        Adjustment of the pairs of one row (:func:`adjust_rows`).
    alpha : float
    names : list of str
        The letter of each column.

    Returns
    -------
    list of list of str
    """
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

