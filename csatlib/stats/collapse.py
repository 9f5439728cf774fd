"""Collapse rows into distinct response patterns with summed weights.

Survey answers are discrete: a million responses on 7- and 10-point scales hold a few thousand
to a few hundred thousand distinct patterns of the variables a model uses. Any statistic that is
a weighted sum over rows (means, cross-products, log-likelihoods) is the same sum over patterns
weighted by ``weight`` (frequency × design weight), at a fraction of the cost.

:func:`poisson_bootstrap_weights` resamples patterns for a Poisson bootstrap of rows: each
pattern's bootstrap weight has the mean (Σw) and variance (Σw²) of the sum of its rows'
Poisson(1)-multiplied weights. It is exactly the row-level Poisson bootstrap when the rows of a
pattern share one weight (always so without design weights) and a moment-matched
approximation otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Patterns", "collapse", "poisson_bootstrap_weights", "value_codes"]


@dataclass(frozen=True)
class Patterns:
    """Distinct rows of ``values`` with their summed weights and row counts."""

    values: np.ndarray  # (patterns, variables)
    weight: np.ndarray  # Σ w over the rows of each pattern
    weight_sq: np.ndarray  # Σ w² (for Kish n_eff and the bootstrap)
    count: np.ndarray  # rows per pattern
    columns: tuple[str, ...] = ()
    index: np.ndarray | None = None  # each row's pattern (rows of ``values`` in input order)

    @property
    def n_rows(self) -> int:
        return int(self.count.sum())

    @property
    def n_eff(self) -> float:
        return float(self.weight.sum() ** 2 / self.weight_sq.sum())

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.values, columns=list(self.columns) or None)
        out["_weight"], out["_count"] = self.weight, self.count
        return out

    def __repr__(self) -> str:
        return f"Patterns({len(self.weight):,} patterns of {self.n_rows:,} rows, columns={list(self.columns)})"


def collapse(values: np.ndarray | pd.DataFrame | tuple, weights: np.ndarray | None = None,
             columns: tuple[str, ...] | None = None) -> Patterns:
    """Group identical rows of ``values`` (no NaN expected), summing weights.

    Parameters
    ----------
    values : array or DataFrame, shape (n, k), or a tuple of arrays (n,) or (n, k_j)
        A tuple is read as its arrays side by side, without copying them into one matrix.
    weights : array, optional
        Design weights (1 for every row when omitted).

    Returns
    -------
    Patterns
        ``index`` maps each input row to its pattern, so per-pattern quantities (a model's
        score) can be summed back over rows grouped another way (by PSU, for a design-based
        variance).
    """
    if isinstance(values, pd.DataFrame):
        columns = tuple(map(str, values.columns)) if columns is None else columns
        values = values.to_numpy(dtype=float)
    blocks = [np.asarray(b, dtype=float) for b in (values if isinstance(values, tuple) else (values,))]
    blocks = [b.reshape(len(b), -1) if b.ndim != 2 else b for b in blocks]
    n = len(blocks[0])
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if n == 0:
        width = sum(b.shape[1] for b in blocks)
        return Patterns(np.zeros((0, width)), np.zeros(0), np.zeros(0),
                        np.zeros(0, dtype=int), tuple(columns or ()), np.zeros(0, dtype=np.int64))
    codes = _pattern_codes([b[:, j] for b in blocks for j in range(b.shape[1])])
    k = int(codes.max()) + 1
    first = np.full(k, -1)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # first row of each pattern
    return Patterns(values=np.column_stack([b[first] for b in blocks]),
                    weight=np.bincount(codes, weights=w, minlength=k),
                    weight_sq=np.bincount(codes, weights=w * w, minlength=k),
                    count=np.bincount(codes, minlength=k), columns=tuple(columns or ()), index=codes)


# a column of whole numbers within this range is coded by its value, without hashing
_DIRECT_RANGE = 1 << 16


def value_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0 .. size − 1 of a float column, increasing with the values, and ``size`` (codes need
    not all be used). A missing value (NaN) is code 0. Whole numbers in a short range (ratings)
    are read off their values; any other column is factorised.

    >>> value_codes(np.array([3.0, np.nan, 1.0, 3.0]))
    (array([3, 0, 1, 3]), 4)
    """
    missing = np.isnan(values)
    present = values[~missing] if missing.any() else values
    if len(present):
        low, high = float(present.min()), float(present.max())
        if (np.isfinite(low) and np.isfinite(high) and high - low < _DIRECT_RANGE
                and np.array_equal(present, np.floor(present))):
            return np.where(missing, 0, values - low + 1).astype(np.int64), int(high - low) + 2
    codes, uniques = pd.factorize(values, sort=True)
    return codes + 1, len(uniques) + 1


def _pattern_codes(columns: list[np.ndarray]) -> np.ndarray:
    """Dense pattern ids of the rows, in the lexicographic order of their values: each column
    coded (directly for whole numbers, else factorised), then combined in mixed radix (a
    multi-column groupby is 10-20x slower on a million rows)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    radix = 1
    for values in columns:
        codes, size = value_codes(values)
        if radix > (2 ** 62) // size:  # the combined key would overflow: fall back to a groupby
            frame = pd.DataFrame({j: c for j, c in enumerate(columns)})
            return frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup().to_numpy()
        key = key * size + codes
        radix *= size
    return pd.factorize(key, sort=True)[0].astype(np.int64)


def poisson_bootstrap_weights(patterns: Patterns, rng: np.random.Generator) -> np.ndarray:
    """One replicate of bootstrap weights per pattern (see the module docstring)."""
    w, v = patterns.weight, patterns.weight_sq
    scale = np.divide(v, w, out=np.zeros_like(w), where=w > 0)  # = the common weight when equal
    effective = np.divide(w * w, v, out=np.zeros_like(w), where=v > 0)  # = the row count when equal
    return scale * rng.poisson(effective)
