"""R² of predictor subsets and their Shapley decomposition (LMG), from a correlation matrix.

Every R² comes from the correlation matrix of the outcome and the predictors, never from the
rows: the R² of a subset S is r_S' R_SS⁻¹ r_S. Exact Shapley values average each predictor's
increment over all 2^k subsets (batched solves on stacked matrices); above ``exact_max``
predictors they average over sampled orderings, in antithetic rotation blocks, until every
share's Monte Carlo standard error is below the target (see :mod:`csatlib.stats.importance`
for the method, its references and R's ``relaimpo`` equivalent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .moments import DegenerateDataError, column_label

__all__ = ["ShapleyDecomposition", "subset_r2", "all_subsets_r2", "shapley_r2", "shapley_values", "as_problem",
           "spectrum", "check_r2", "EXACT_MAX", "EXACT_LIMIT", "MC_ERROR", "REPLICATE_MC_ERROR", "MAX_ORDERINGS",
           "MIN_BLOCKS"]

EXACT_MAX = 16
"""Default largest number of predictors decomposed exactly (2^16 subsets, about 5 ms)."""
EXACT_LIMIT = 20
"""Largest ``exact_max`` accepted (2^20 subsets: about 80 ms and 60 MB)."""
MC_ERROR = 0.001
"""Default target Monte Carlo standard error of each share of R² in the sampled regime."""
REPLICATE_MC_ERROR = 0.0025
"""Suggested ``mc_error`` for bootstrap replicates (up to 6x fewer orderings than ``MC_ERROR``)."""
MAX_ORDERINGS = 100_000
"""Default cap on the number of sampled orderings."""
MIN_BLOCKS = 10
"""Fewest blocks (of 2k orderings) before the stopping rule is checked."""

_SINGULAR = 1e-10  # smallest/largest eigenvalue of R_xx below this: collinear
_CHUNK = 1 << 21  # doubles per stacked batch


@dataclass(frozen=True)
class ShapleyDecomposition:
    """Shapley (LMG) decomposition of R².

    Attributes
    ----------
    values : ndarray, shape (k,)
        Each predictor's Shapley value; they sum to R² (to rounding error, also when sampled).
    method : str
        Human-readable description, starting with ``"exact"`` or ``"sampled"``.
    exact : bool
        True when computed over all 2^k subsets.
    orderings : int or None
        Number of orders of entry averaged (None when exact).
    mc_se : ndarray or None
        Monte Carlo standard error of each value, on the same (R²) scale as ``values``
        (None when exact). Divide by :attr:`r2` (see :attr:`share_mc_se`) for shares.
    """

    values: np.ndarray
    method: str
    exact: bool
    orderings: int | None = None
    mc_se: np.ndarray | None = None

    @property
    def r2(self) -> float:
        """R² of the full model (the sum of the values)."""
        return float(self.values.sum())

    @property
    def shares(self) -> np.ndarray:
        """Values as shares of R² (sum to 1)."""
        return self.values / self.r2

    @property
    def share_mc_se(self) -> np.ndarray | None:
        """Monte Carlo standard errors of :attr:`shares` (None when exact)."""
        return None if self.mc_se is None else self.mc_se / self.r2


# ----------------------------------------------------------------------------------------------
# checks and the eigen-decomposition


def as_problem(rxx, rxy) -> tuple[np.ndarray, np.ndarray]:
    """Check a relative-importance problem and return it as float arrays, ``rxx`` symmetrised.

    Parameters
    ----------
    rxx : array-like, shape (k, k)
        Correlation matrix of the predictors (unit diagonal, symmetric).
    rxy : array-like, shape (k,)
        Correlations of the predictors with the outcome.

    Raises
    ------
    ValueError
        Wrong shapes, non-finite values, an asymmetric matrix or one without a unit diagonal.
    """
    rxx = np.asarray(rxx, dtype=float)
    rxy = np.asarray(rxy, dtype=float)
    k = len(rxy) if rxy.ndim == 1 else -1
    if k < 1 or rxx.shape != (k, k):
        raise ValueError(f"rxx must be k×k and rxy of length k ≥ 1, got {rxx.shape} and {rxy.shape}")
    if not (np.isfinite(rxx).all() and np.isfinite(rxy).all()):
        raise ValueError("rxx and rxy must be finite")
    if not np.allclose(rxx, rxx.T, rtol=0, atol=1e-10):
        raise ValueError("rxx is not symmetric")
    if not np.allclose(np.diag(rxx), 1.0, rtol=0, atol=1e-8):
        raise ValueError("rxx must be a correlation matrix (unit diagonal); convert a covariance first")
    return (rxx + rxx.T) / 2, rxy


def spectrum(rxx: np.ndarray, names=None) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of R_xx (eigenvalues ascending, eigenvectors as columns).

    Raises
    ------
    DegenerateDataError
        R_xx is (numerically) singular; the error names the predictors of the null direction.
    """
    evals, evecs = np.linalg.eigh(rxx)
    if evals[0] <= _SINGULAR * max(evals[-1], 1.0):
        v = np.abs(evecs[:, 0])
        involved = np.flatnonzero(v > 0.1 * v.max())
        cols = [column_label(int(i), names) for i in involved]
        raise DegenerateDataError(
            f"collinear predictors (linearly dependent; smallest eigenvalue of the correlation matrix "
            f"{evals[0]:.3g}): {', '.join(map(str, cols))}", "collinear", cols)
    return evals, evecs


def check_r2(r2: float) -> None:
    """Raise ValueError when an R² above 1 shows ``rxx`` and ``rxy`` do not come from the same rows."""
    if r2 > 1 + 1e-9:
        raise ValueError(f"rxx and rxy are not jointly a correlation matrix (R² = {r2:.6g} > 1); "
                         f"were they computed from the same rows?")


# ----------------------------------------------------------------------------------------------
# R² of subsets


def _masks_to_members(subsets, k: int) -> np.ndarray:
    s = np.asarray(subsets)
    if s.size == 0:
        return np.zeros((0, k), dtype=bool)
    if s.dtype == bool:
        if s.ndim != 2 or s.shape[1] != k:
            raise ValueError(f"boolean subsets must have shape (m, {k}), got {s.shape}")
        return s
    if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer):
        raise ValueError("subsets must be a 1-D array of integer bit masks or an (m, k) boolean array")
    if k > 62:
        raise ValueError("integer bit masks hold at most 62 predictors; pass a boolean (m, k) array")
    s = s.astype(np.int64)
    if (s < 0).any() or (s >> k).any():
        raise ValueError(f"bit masks must lie in [0, 2^{k})")
    return ((s[:, None] >> np.arange(k)) & 1).astype(bool)


def subset_r2(rxx, rxy, subsets) -> np.ndarray:
    """R² of the regression of y on each of the given subsets of predictors.

    Parameters
    ----------
    rxx : array_like, shape (k, k)
        Correlation matrix of the predictors (positive definite).
    rxy : array_like, shape (k,)
        Correlations of the predictors with y.
    subsets : array_like
        Either integers (bit masks: bit j set when predictor j is in the subset; k ≤ 62) or a
        boolean array of shape (m, k).

    Returns
    -------
    ndarray, shape (m,)
        R²(S) = r_S' R_SS⁻¹ r_S for each subset (0 for the empty set).

    Notes
    -----
    Subsets are grouped by size; the augmented matrices [[R_SS, r_S], [r_S', 2]] of one size are
    stacked (in chunks of about 2M numbers) and factored with one batched
    :func:`numpy.linalg.cholesky` call, R²(S) being the sum of squares of the last row of the
    factor. R equivalent for one subset: ``summary(lm(y ~ ., data = d[, c("y", S)]))$r.squared``.

    Examples
    --------
    >>> rxx = np.array([[1.0, 0.5], [0.5, 1.0]]); rxy = np.array([0.6, 0.3])
    >>> subset_r2(rxx, rxy, [0, 1, 2, 3]).round(4)
    array([0.  , 0.36, 0.09, 0.36])
    """
    rxx, rxy = as_problem(rxx, rxy)
    k = len(rxy)
    member = _masks_to_members(subsets, k)
    sizes = member.sum(axis=1)
    out = np.zeros(len(member))
    for s in np.unique(sizes[sizes > 0]):
        rows = np.flatnonzero(sizes == s)
        idx = np.nonzero(member[rows])[1].reshape(-1, s)  # columns of each subset, ascending
        step = max(1, _CHUNK // ((s + 1) ** 2))
        for a in range(0, len(rows), step):
            ix = idx[a:a + step]
            m = np.empty((len(ix), s + 1, s + 1))
            m[:, :s, :s] = rxx[ix[:, :, None], ix[:, None, :]]
            r = rxy[ix]
            m[:, s, :s] = r
            m[:, :s, s] = r
            m[:, s, s] = 2.0
            try:
                chol = np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                raise DegenerateDataError("collinear predictors: a sub-matrix of rxx is not positive definite",
                                          "collinear") from None
            out[rows[a:a + step]] = np.einsum("mi,mi->m", chol[:, s, :s], chol[:, s, :s])
    return out


def _all_subsets_r2(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    k = len(rxy)
    # part[a, b, m]: partial covariance of variables (x_j, ..., x_{k-1}, y) given subset m of {0..j-1}
    part = np.empty((k + 1, k + 1, 1))
    part[:k, :k, 0], part[:k, k, 0], part[k, :k, 0], part[k, k, 0] = rxx, rxy, rxy, 1.0
    r2 = np.zeros(1)
    for j in range(k):
        pivot = part[0, 0]
        if (pivot <= 0).any():
            raise DegenerateDataError("collinear predictors: a sub-matrix of rxx is not positive definite",
                                      "collinear")
        col = part[1:, 0] / np.sqrt(pivot)
        with_j = r2 + col[-1] ** 2
        if j < k - 1:  # given S (mask m) and given S ∪ {j} (mask m + 2^j)
            rest = part[1:, 1:]
            part = np.concatenate([rest, rest - col[:, None, :] * col[None, :, :]], axis=2)
        r2 = np.concatenate([r2, with_j])
    return r2


def all_subsets_r2(rxx, rxy) -> np.ndarray:
    """R² of y on every subset of the predictors, indexed by bit mask.

    Parameters
    ----------
    rxx : array_like, shape (k, k)
        Correlation matrix of the predictors (positive definite), k ≤ ``EXACT_LIMIT``.
    rxy : array_like, shape (k,)
        Correlations of the predictors with y.

    Returns
    -------
    ndarray, shape (2**k,)
        Entry ``mask`` is R² of the subset {j : bit j of mask set}; entry 0 (empty set) is 0 and
        entry 2**k - 1 is the full model's R².

    Notes
    -----
    Built by sweeping in one predictor at a time, vectorised over all subsets (module
    docstring); about 2 ms for k = 15, 10 ms for k = 18, 40 ms for k = 20. What R's
    ``relaimpo::calc.relimp(fit, type = "lmg")`` computes internally before averaging.

    Examples
    --------
    >>> rxx = np.array([[1.0, 0.5], [0.5, 1.0]]); rxy = np.array([0.6, 0.3])
    >>> all_subsets_r2(rxx, rxy).round(4)
    array([0.  , 0.36, 0.09, 0.36])
    """
    rxx, rxy = as_problem(rxx, rxy)
    if len(rxy) > EXACT_LIMIT:
        raise ValueError(f"all 2^{len(rxy)} subsets is too many (at most 2^{EXACT_LIMIT})")
    return _all_subsets_r2(rxx, rxy)


# ----------------------------------------------------------------------------------------------
# Shapley / LMG


def _exact_shapley(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    k = len(rxy)
    r2 = _all_subsets_r2(rxx, rxy)
    size = np.zeros(1, dtype=np.int64)
    for _ in range(k):
        size = np.concatenate([size, size + 1])
    # weight of a subset S without j: w(|S|) = |S|! (k - |S| - 1)! / k! = 1 / (k · C(k-1, |S|));
    # φ_j = Σ_{T∋j} w(|T|-1) R²(T) - Σ_{S∌j} w(|S|) R²(S)
    #     = Σ_{T∋j} [w(|T|-1) + w(|T|)] R²(T) - Σ_{all S} w(|S|) R²(S)
    w = np.array([1.0 / (k * math.comb(k - 1, s)) for s in range(k)])
    as_with = np.concatenate([[0.0], w])  # w(|T|-1), T containing j
    as_without = np.concatenate([w, [0.0]])  # w(|S|), S not containing j
    both = (as_with + as_without)[size] * r2
    base = float(as_without[size] @ r2)
    return np.array([both.reshape(-1, 2, 1 << j)[:, 1, :].sum() for j in range(k)]) - base


def _rotation_blocks(rxx: np.ndarray, rxy: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Mean R² increment of each predictor over each block: the 2k rotations of each random
    cyclic order (rows of ``cycles``) and of its reverse. Returns shape (blocks, k)."""
    nb, k = cycles.shape
    mats = np.empty((nb, 2, k, k + 1, k + 1))
    orders = (cycles, np.ascontiguousarray(cycles[:, ::-1]))
    for d, cyc in enumerate(orders):
        a = rxx[cyc[:, :, None], cyc[:, None, :]]
        a2 = np.tile(a, (1, 2, 2))  # rotation t is the window a2[t:t+k, t:t+k]
        s0, s1, s2 = a2.strides
        mats[:, d, :, :k, :k] = as_strided(a2, shape=(nb, k, k, k), strides=(s0, s1 + s2, s1, s2))
        r2d = np.tile(rxy[cyc], (1, 2))
        t0, t1 = r2d.strides
        rot = as_strided(r2d, shape=(nb, k, k), strides=(t0, t1, t1))
        mats[:, d, :, k, :k] = rot
        mats[:, d, :, :k, k] = rot
    mats[..., k, k] = 2.0
    z2 = np.linalg.cholesky(mats)[..., k, :k] ** 2  # (nb, 2, rotation t, position i)
    # rotation t puts cycle element (i + t) mod k at position i: total per cycle element q
    pos = (np.arange(k)[None, :] - np.arange(k)[:, None]) % k  # [t, q] -> position of q
    per_q = np.take_along_axis(z2, np.broadcast_to(pos, z2.shape), axis=3).sum(axis=2)  # (nb, 2, q)
    out = np.zeros((nb, k))
    for d, cyc in enumerate(orders):
        part = np.empty((nb, k))
        np.put_along_axis(part, cyc, per_q[:, d, :], axis=1)
        out += part
    return out / (2 * k)


def _sampled_shapley(rxx, rxy, r2, rng, mc_error, max_orderings):
    k = len(rxy)
    block = 2 * k
    max_blocks = max(MIN_BLOCKS, max_orderings // block)
    chunk = max(1, 1024 // block)  # blocks factored per batched call (keeps the stack in cache)
    means: list[np.ndarray] = []
    n = 0
    target = MIN_BLOCKS
    while True:
        while n < target:
            b = min(chunk, target - n)
            cycles = rng.permuted(np.tile(np.arange(k), (b, 1)), axis=1)
            means.append(_rotation_blocks(rxx, rxy, cycles))
            n += b
        arr = np.concatenate(means)
        means = [arr]
        se = arr.std(axis=0, ddof=1) / math.sqrt(n)
        worst = float(se.max() / r2) if r2 > 0 else 0.0
        if worst <= mc_error or n >= max_blocks:
            break
        need = math.ceil(n * (worst / mc_error) ** 2 * 1.05)
        target = min(max_blocks, max(need, n + 1))
    values = arr.mean(axis=0)
    return values, se, n * block, worst


def shapley_r2(rxx, rxy, *, exact_max: int = EXACT_MAX, rng=None, mc_error: float = MC_ERROR,
               max_orderings: int = MAX_ORDERINGS) -> ShapleyDecomposition:
    """Shapley (LMG) decomposition of R² from the correlation matrix.

    Parameters
    ----------
    rxx : array_like, shape (k, k)
        Correlation matrix of the predictors (positive definite).
    rxy : array_like, shape (k,)
        Correlations of the predictors with the outcome.
    exact_max : int, default ``EXACT_MAX`` (16)
        Exact over all 2^k subsets when k ≤ exact_max, else sampled orders of entry. At most
        ``EXACT_LIMIT`` (20); 15 takes about 2 ms, 16 about 5 ms, 18 about 20 ms, 20 about 80 ms.
    rng : numpy.random.Generator, int or None
        Source of the sampled orderings (unused when exact), passed through
        :func:`numpy.random.default_rng`: give a seeded Generator for reproducible numbers, and
        the same Generator to successive bootstrap replicates so each gets fresh orderings.
        None draws fresh OS entropy (results then differ between runs by the Monte Carlo error).
    mc_error : float, default ``MC_ERROR`` (0.001)
        Sampled regime: orderings are added until every share's Monte Carlo standard error
        (on the share-of-R² scale) is at most this.
    max_orderings : int, default ``MAX_ORDERINGS`` (100,000)
        Cap on the number of orderings (rounded to whole blocks of 2k; at least
        ``MIN_BLOCKS`` blocks are always drawn). When it binds, ``method`` says so.

    Returns
    -------
    ShapleyDecomposition
        ``values`` sum to R² of the full model (to rounding error, in both regimes).

    Raises
    ------
    DegenerateDataError
        Linearly dependent predictors (``reason="collinear"``, ``columns`` = predictor indices).
    ValueError
        Malformed input (not a correlation matrix, R² > 1, bad ``exact_max``).

    See Also
    --------
    all_subsets_r2, relative_weights, decompose

    Notes
    -----
    Exact: φ_j = Σ_{S∌j} |S|!(k-|S|-1)!/k! · [R²(S ∪ j) - R²(S)] over all subsets. Sampled: the
    mean over random orders of entry of each predictor's R² increment, the increments of one
    ordering being the squared last row of one Cholesky factor (module docstring), drawn in
    blocks of the 2k rotations of a random cyclic order and of its reverse (unbiased,
    stratified by position). ``mc_se`` is the standard deviation of the block means over
    √blocks, on the R² scale.

    R equivalent: ``relaimpo::calc.relimp(lm(y ~ ., data = d), type = "lmg")$lmg`` (exact;
    relaimpo has no sampled mode and is slow beyond about 15 predictors).

    Examples
    --------
    >>> rxx = np.array([[1.0, 0.5], [0.5, 1.0]]); rxy = np.array([0.6, 0.3])
    >>> d = shapley_r2(rxx, rxy)
    >>> d.values.round(4), d.method
    (array([0.315, 0.045]), 'exact Shapley/LMG over all 4 subsets of 2 predictors')
    """
    rxx, rxy = as_problem(rxx, rxy)
    evals, evecs = spectrum(rxx)
    r2 = float(rxy @ (evecs @ ((evecs.T @ rxy) / evals)))
    check_r2(r2)
    return shapley_values(rxx, rxy, r2, exact_max=exact_max, rng=rng, mc_error=mc_error, max_orderings=max_orderings)


def shapley_values(rxx, rxy, r2, *, exact_max, rng, mc_error, max_orderings) -> ShapleyDecomposition:
    """:func:`shapley_r2` on a problem already checked (:func:`as_problem`) whose full-model R² is ``r2``.

    Exact over all subsets up to ``exact_max`` predictors, else sampled orderings until every
    share's Monte Carlo SE is below ``mc_error`` (at most ``max_orderings``).
    """
    k = len(rxy)
    if not 0 <= exact_max <= EXACT_LIMIT:
        raise ValueError(f"exact_max must be between 0 and {EXACT_LIMIT}, got {exact_max}")
    if k <= exact_max:
        return ShapleyDecomposition(_exact_shapley(rxx, rxy), f"exact Shapley/LMG over all {1 << k:,} subsets "
                                    f"of {k} predictors", exact=True)
    if not mc_error > 0:
        raise ValueError("mc_error must be positive")
    values, se, orderings, worst = _sampled_shapley(rxx, rxy, r2, np.random.default_rng(rng), mc_error,
                                                    max_orderings)
    method = (f"sampled Shapley/LMG from {orderings:,} random orders of entry ({k} predictors, more than "
              f"{exact_max} for exact; rotation blocks), largest Monte Carlo SE of a share {worst:.4f}")
    if worst > mc_error:
        method += f" (cap of {max_orderings:,} orderings reached before the target {mc_error})"
    return ShapleyDecomposition(values, method, exact=False, orderings=orderings, mc_se=se)
