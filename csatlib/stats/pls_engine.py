"""The PLS path-modelling algorithm on covariance matrices (see :mod:`csatlib.stats.pls`).

The path model (:class:`PathModel`), the Lohmöller iteration of outer and inner weights run on a
batch of (weighted) covariance matrices at once (:func:`estimate_batch`), and what a fit reports
per block (:func:`unidimensionality`). :func:`csatlib.stats.pls.fit_pls` runs it on one matrix,
:func:`csatlib.stats.pls.bootstrap_pls` on one matrix per replicate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["PLSError", "PathModel", "Batch", "estimate_batch", "model_matrix", "observation_weights",
           "check_variance", "unidimensionality", "SCHEMES", "MODES"]

SCHEMES = ("centroid", "factorial", "path")
MODES = ("A", "B")


class PLSError(ValueError):
    """The model cannot be estimated on these data.

    ``reason`` is ``"not converged"``, ``"zero variance"``, ``"singular"`` or ``"too few rows"``;
    ``columns`` names the columns or latent variables involved, when known.
    """

    def __init__(self, message: str, reason: str, columns: Sequence[str] = ()):
        super().__init__(message)
        self.reason = reason
        self.columns = tuple(columns)

    def __reduce__(self):  # picklable with its reason and columns
        return type(self), (str(self), self.reason, self.columns)


# ----------------------------------------------------------------------------------------------
# the model


@dataclass(frozen=True)
class PathModel:
    """Blocks of manifest variables and the paths between their latent variables.

    Parameters
    ----------
    blocks : mapping of str to sequence of str
        Latent variable name → its manifest variables (column names), in the order wanted.
        A column may belong to one block only.
    paths : sequence of (str, str)
        Directed paths ``(from, to)``; the inner model must be acyclic (recursive).
    modes : mapping of str to {"A", "B"}, optional
        Measurement mode per latent variable: ``"A"`` reflective (default), ``"B"`` formative.

    Examples
    --------
    >>> m = PathModel({"IMAG": ["i1", "i2"], "SAT": ["s1", "s2"]}, [("IMAG", "SAT")])
    >>> m.inner.tolist()  # plspm's path_matrix: row = to, column = from
    [[0, 0], [1, 0]]
    """

    blocks: Mapping[str, Sequence[str]]
    paths: Sequence[tuple[str, str]]
    modes: Mapping[str, str] | None = None

    def __post_init__(self):
        blocks = {str(k): tuple(str(c) for c in v) for k, v in dict(self.blocks).items()}
        if not blocks:
            raise ValueError("a path model needs at least one block")
        seen: dict[str, str] = {}
        for name, items in blocks.items():
            if not items:
                raise ValueError(f"block {name!r} has no manifest variables")
            for c in items:
                if c in seen:
                    raise ValueError(f"column {c!r} is in two blocks: {seen[c]!r} and {name!r}")
                seen[c] = name
        paths = tuple((str(a), str(b)) for a, b in self.paths)
        for a, b in paths:
            for x in (a, b):
                if x not in blocks:
                    raise ValueError(f"path {a} → {b}: {x!r} is not a block")
            if a == b:
                raise ValueError(f"path {a} → {b} points to itself")
        if len(set(paths)) != len(paths):
            raise ValueError("a path is listed twice")
        modes = {k: "A" for k in blocks}
        for k, v in dict(self.modes or {}).items():
            if k not in blocks:
                raise ValueError(f"mode given for {k!r}, which is not a block")
            if v not in MODES:
                raise ValueError(f"mode of {k!r} must be 'A' or 'B', got {v!r}")
            modes[k] = v
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "modes", modes)
        if _has_cycle(self.inner):
            raise ValueError("the paths form a cycle: PLS path models must be recursive")

    @property
    def names(self) -> tuple[str, ...]:
        """Latent variables, in block order."""
        return tuple(self.blocks)

    @property
    def items(self) -> tuple[str, ...]:
        """Manifest variables, block after block (the column order of the data matrix)."""
        return tuple(c for v in self.blocks.values() for c in v)

    @property
    def block_index(self) -> np.ndarray:
        """Index of the block of each manifest variable."""
        return np.repeat(np.arange(len(self.blocks)), [len(v) for v in self.blocks.values()])

    @property
    def inner(self) -> np.ndarray:
        """The inner model as plspm's ``path_matrix``: ``inner[to, from] = 1``."""
        k = {n: i for i, n in enumerate(self.blocks)}
        m = np.zeros((len(k), len(k)), dtype=int)
        for a, b in self.paths:
            m[k[b], k[a]] = 1
        return m

    @property
    def endogenous(self) -> np.ndarray:
        """True for the latent variables that at least one path points to."""
        return self.inner.sum(axis=1) > 0


def _has_cycle(inner: np.ndarray) -> bool:
    k = len(inner)
    reach = inner.astype(bool)
    for _ in range(k):
        reach = reach | (reach.astype(int) @ reach.astype(int) > 0)
    return bool(np.diag(reach).any())


# ----------------------------------------------------------------------------------------------
# the algorithm on batches of covariance matrices


def _inner_weights(scheme: str, cor: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Inner weights E (batch, k, k): z_j = Σ_i y_i E[i, j]."""
    adj = (inner + inner.T).astype(float)
    if scheme == "centroid":
        return np.sign(cor * adj)
    if scheme == "factorial":
        return cor * adj
    e = np.zeros_like(cor)
    for j in range(inner.shape[0]):
        pred = np.flatnonzero(inner[j])  # LVs explaining j: regression coefficients
        if pred.size:
            e[:, pred, j] = np.linalg.solve(cor[:, pred[:, None], pred[None, :]], cor[:, pred, j][..., None])[..., 0]
        succ = np.flatnonzero(inner[:, j])  # LVs j explains: correlations
        if succ.size:
            e[:, succ, j] = cor[:, j, succ]
    return e


def _outer_weights(cov: np.ndarray, total: np.ndarray, model: PathModel, scheme: str, tol: float,
                   maxiter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lohmöller's iteration for a batch of covariance matrices of the (treated) MVs.

    Returns (w, converged, iterations): w (batch, p) the last weights, not yet normalised.
    """
    idx = model.block_index
    k = len(model.names)
    odm = np.eye(k)[idx]  # (p, k) outer design matrix
    inner = model.inner
    modes = [model.modes[n] for n in model.names]
    # plspm: Y = scale(XW) * sqrt((N-1)/N); the constant only sets the scale of the iterates
    sdv = np.sqrt(np.clip((total - 1) / total, 1e-12, None))
    batch = cov.shape[0]
    block_var = np.einsum("pk,bpq,qk->bk", odm, cov, odm)
    w = 1.0 / np.sqrt(block_var)[:, idx]
    w_final = w.copy()
    converged = np.zeros(batch, dtype=bool)
    iterations = np.full(batch, maxiter)
    active = np.arange(batch)
    it = 1
    while active.size:
        s = cov[active]
        wa = w[active]
        big_w = wa[:, :, None] * odm
        sw = s @ big_w
        v = np.einsum("bpk,bpl->bkl", big_w, sw)
        d = np.sqrt(np.einsum("bkk->bk", v))
        cor = v / (d[:, :, None] * d[:, None, :])
        e = _inner_weights(scheme, cor, inner)
        t = (sw * (sdv[active][:, None] / d)[:, None, :]) @ e  # X'Z / N for every MV and every LV
        w_new = t[:, np.arange(len(idx)), idx]
        for j, mode in enumerate(modes):
            if mode == "B":
                cols = np.flatnonzero(idx == j)
                w_new[:, cols] = np.linalg.solve(s[:, cols[:, None], cols[None, :]], t[:, cols, j][..., None])[..., 0]
        dif = np.square(np.abs(wa) - np.abs(w_new)).sum(axis=1)
        done = dif < tol
        if it >= maxiter:  # plspm: reaching maxiter is a failure, whatever the last change
            done = np.ones_like(done)
        finished = active[done]
        w_final[finished] = w_new[done]
        converged[finished] = dif[done] < tol if it < maxiter else False
        iterations[finished] = it
        w[active] = w_new
        active = active[~done]
        it += 1
    return w_final, converged, iterations


@dataclass
class Batch:
    """Everything estimated per covariance matrix of a batch (index 0 = the only one for a fit)."""

    weights: np.ndarray  # (b, p) normalised, sign-fixed
    lv_cor: np.ndarray  # (b, k, k)
    crossloadings: np.ndarray  # (b, p, k)
    loadings: np.ndarray  # (b, p)
    path: np.ndarray  # (b, k, k) [to, from]
    r2: np.ndarray  # (b, k)
    total: np.ndarray  # (b, k, k) total effects [to, from]
    converged: np.ndarray  # (b,)
    iterations: np.ndarray  # (b,)


def estimate_batch(cov_raw: np.ndarray, total: np.ndarray, model: PathModel, scheme: str, scaled: bool, tol: float,
                   maxiter: int) -> Batch:
    """PLS on a batch of covariance matrices at once.

    Parameters
    ----------
    cov_raw : ndarray, shape (batch, p, p)
        (Weighted) covariance matrices of the raw manifest variables, in ``model.items`` order.
    total : ndarray, shape (batch,)
        Total weight N behind each matrix.
    model, scheme, scaled, tol, maxiter
        As :func:`csatlib.stats.pls.fit_pls`.

    Returns
    -------
    Batch
        Weights, LV correlations, loadings, path coefficients, R² and total effects per matrix;
        ``converged`` says which matrices' iterations met ``tol``.
    """
    sd = np.sqrt(np.einsum("bpp->bp", cov_raw))
    cov = cov_raw / (sd[:, :, None] * sd[:, None, :]) if scaled else cov_raw
    w, converged, iterations = _outer_weights(cov, total, model, scheme, tol, maxiter)
    idx = model.block_index
    k = len(model.names)
    odm = np.eye(k)[idx]
    big_w = w[:, :, None] * odm
    sw = cov @ big_w
    v = np.einsum("bpk,bpl->bkl", big_w, sw)
    d = np.sqrt(np.einsum("bkk->bk", v))
    big_w = big_w / d[:, None, :]
    sw = sw / d[:, None, :]
    item_sd = np.sqrt(np.einsum("bpp->bp", cov))
    cross = sw / item_sd[:, :, None]  # cor(X, Y)
    sign = np.sign(np.einsum("bpk,pk->bk", np.sign(cross), odm))
    sign[sign == 0] = -1
    big_w = big_w * sign[:, None, :]
    cross = cross * sign[:, None, :]
    weights = big_w.sum(axis=2)
    lv_cor = (v / (d[:, :, None] * d[:, None, :])) * sign[:, :, None] * sign[:, None, :]
    inner = model.inner
    path = np.zeros_like(lv_cor)
    r2 = np.zeros(lv_cor.shape[:2])
    for j in range(k):
        pred = np.flatnonzero(inner[j])
        if pred.size:
            beta = np.linalg.solve(lv_cor[:, pred[:, None], pred[None, :]], lv_cor[:, pred, j][..., None])[..., 0]
            path[:, j, pred] = beta
            r2[:, j] = np.einsum("bi,bi->b", beta, lv_cor[:, j, pred])
    total_eff = np.zeros_like(path)
    power = path.copy()
    for _ in range(max(k - 1, 1)):
        total_eff += power
        power = power @ path
    return Batch(weights=weights, lv_cor=lv_cor, crossloadings=cross, loadings=cross[:, np.arange(len(idx)), idx],
                 path=path, r2=r2, total=total_eff, converged=converged, iterations=iterations)


# ----------------------------------------------------------------------------------------------
# a fit's inputs, checked, and what it reports per block


def model_matrix(data, model: PathModel) -> np.ndarray:
    """The manifest variables as a float matrix in ``model.items`` order.

    Parameters
    ----------
    data : DataFrame or array-like
        A frame holding every item column, or a matrix whose columns are ``model.items``.
    model : PathModel

    Raises
    ------
    KeyError
        An item column is not in the frame.
    ValueError
        The matrix has the wrong shape, or a missing or infinite value (PLS needs complete rows).
    """
    if isinstance(data, pd.DataFrame):
        missing = [c for c in model.items if c not in data.columns]
        if missing:
            raise KeyError(f"columns not in the data: {', '.join(map(repr, missing))}")
        x = data[list(model.items)].to_numpy(dtype=float)
    else:
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(model.items):
            raise ValueError(f"data must have {len(model.items)} columns (model.items), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("data contain missing or infinite values: PLS needs complete rows")
    return x


def observation_weights(weights, n: int) -> np.ndarray:
    """The observation (frequency) weights of ``n`` rows: ones when ``weights`` is None.

    Raises
    ------
    ValueError
        Wrong length, or a weight that is negative, missing or infinite.
    """
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    return w


def check_variance(cov: np.ndarray, x: np.ndarray, model: PathModel) -> None:
    """Raise :class:`PLSError` (reason ``"zero variance"``) naming every constant item.

    An item counts as constant when its standard deviation in ``cov`` is below 1e-12 of its
    largest absolute value in ``x``.
    """
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    scale = np.maximum(np.abs(x.max(axis=0)), np.abs(x.min(axis=0)))
    flat = np.flatnonzero(sd <= 1e-12 * np.maximum(scale, 1e-300))
    if flat.size:
        cols = [model.items[i] for i in flat]
        raise PLSError(f"zero variance (constant column): {', '.join(cols)}", "zero variance", cols)


def unidimensionality(cor: np.ndarray, model: PathModel) -> pd.DataFrame:
    """Unidimensionality of each block (R: ``plspm``'s ``unidim``).

    Parameters
    ----------
    cor : ndarray, shape (p, p)
        Correlation matrix of the manifest variables, in ``model.items`` order.
    model : PathModel

    Returns
    -------
    DataFrame
        One row per LV: ``lv``, ``mode``, ``items``, Cronbach's ``alpha`` (standardised items),
        Dillon-Goldstein's ``rho`` (from the first principal component; both 0 for a mode B
        block) and the first two eigenvalues ``eig1``, ``eig2``.
    """
    rows = []
    idx = model.block_index
    for j, name in enumerate(model.names):
        cols = np.flatnonzero(idx == j)
        p = cols.size
        if p == 1:
            rows.append((name, model.modes[name], 1, 1.0, 1.0, 1.0, 0.0))
            continue
        r = cor[np.ix_(cols, cols)]
        evals, evecs = np.linalg.eigh(r)
        evals, evecs = evals[::-1], evecs[:, ::-1]
        if model.modes[name] == "A":
            alpha = 2 * r[np.tril_indices(p, -1)].sum() / r.sum() * p / (p - 1)
            alpha = max(alpha, 0.0)
            load = evecs[:, 0] * math.sqrt(max(evals[0], 0.0))  # cor(x, first principal component)
            num = load.sum() ** 2
            rho = num / (num + p - np.square(load).sum())
        else:
            alpha = rho = 0.0
        rows.append((name, model.modes[name], p, float(alpha), float(rho), float(evals[0]), float(evals[1])))
    return pd.DataFrame(rows, columns=["lv", "mode", "items", "alpha", "rho", "eig1", "eig2"])
