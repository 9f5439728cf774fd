"""Key drivers of overall satisfaction and the importance-performance map.

Two relative-importance measures decompose the R² of overall satisfaction regressed on the
dimension scores (perceptions, or the gaps as an alternative predictor set):

* **Shapley / LMG** (Lindeman, Merenda & Gold 1980; R's ``relaimpo`` ``type = "lmg"``): each
  predictor's R² increment averaged over all orders of entry. Exact (all 2^p subsets) up to
  ``MAX_EXACT_PREDICTORS``; above that it is estimated from random orderings (seeded) and the
  result says so.
* **Johnson's relative weights** (Johnson 2000): R² split through the orthogonal counterpart of
  the predictors; exact at any size.

Both work from the (weighted) correlation matrix, so design weights enter through weighted
moments, computed over collapsed answer patterns (:mod:`csatlib.collapse`). Intervals come from
a seeded Poisson bootstrap (each row's weight multiplied by a Poisson(1) count, drawn per
pattern), so re-runs give identical numbers. The sign of each dimension's coefficient
in the full regression is reported (signed importance, as Displayr/Q do). The importance-
performance analysis places each dimension by derived importance (relative-weight share) and
performance (mean perception or mean gap), with quadrant lines at the means (Martilla & James 1977).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..stats.collapse import collapse, poisson_bootstrap_weights
from ..frame import gap_column, row_weights
from ..results import DriverAnalysis
from ..spec import Spec

__all__ = ["weighted_correlation", "r2_all_subsets", "shapley_r2", "relative_weights", "ipa_quadrants",
           "DriverAnalysis", "key_drivers", "QUADRANTS", "MAX_EXACT_PREDICTORS"]

MAX_EXACT_PREDICTORS = 12
SAMPLED_ORDERINGS = 2000
QUADRANTS = {(True, False): "Concentrate here", (True, True): "Keep up the good work",
             (False, False): "Low priority", (False, True): "Possible overkill"}


def weighted_correlation(data: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Correlation matrix of the columns of ``data`` with (frequency or design) weights."""
    x = np.asarray(data, dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    mean = w @ x / total
    centred = x - mean
    cov = centred.T @ (centred * w[:, None]) / total
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def r2_all_subsets(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """R² of y on every subset of predictors, indexed by bit mask (entry 0 = empty set = 0)."""
    p = len(rxy)
    out = np.zeros(1 << p)
    for mask in range(1, 1 << p):
        idx = [j for j in range(p) if mask >> j & 1]
        r = rxy[idx]
        out[mask] = float(r @ np.linalg.solve(rxx[np.ix_(idx, idx)], r))
    return out


def shapley_r2(rxx: np.ndarray, rxy: np.ndarray, seed: int = 0) -> tuple[np.ndarray, str]:
    """Shapley (LMG) decomposition of R². Returns (values, method); values sum to R².

    Exact over all subsets for up to ``MAX_EXACT_PREDICTORS`` predictors; above that the mean
    over ``SAMPLED_ORDERINGS`` random orders of entry (seeded), which also sums to R² exactly.
    """
    p = len(rxy)
    if p <= MAX_EXACT_PREDICTORS:
        r2 = r2_all_subsets(rxx, rxy)
        size = np.array([bin(m).count("1") for m in range(1 << p)])
        fact = [math.factorial(k) for k in range(p + 1)]
        weight = np.array([fact[s] * fact[p - s - 1] / fact[p] if s < p else 0.0 for s in size])
        values = np.zeros(p)
        masks = np.arange(1 << p)
        for j in range(p):
            without = masks[(masks >> j & 1) == 0]
            values[j] = float(np.sum(weight[without] * (r2[without | (1 << j)] - r2[without])))
        return values, f"exact Shapley/LMG over all {1 << p} subsets"
    rng = np.random.default_rng(seed)
    values = np.zeros(p)
    for _ in range(SAMPLED_ORDERINGS):
        order = rng.permutation(p)
        previous = 0.0
        for k in range(1, p + 1):
            idx = order[:k]
            r = rxy[idx]
            current = float(r @ np.linalg.solve(rxx[np.ix_(idx, idx)], r))
            values[order[k - 1]] += current - previous
            previous = current
    return values / SAMPLED_ORDERINGS, (f"Shapley/LMG estimated from {SAMPLED_ORDERINGS} random orders of entry "
                                        f"(more than {MAX_EXACT_PREDICTORS} predictors: exact needs 2^p subsets)")


def relative_weights(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights: raw weights that sum to R²."""
    evals, evecs = np.linalg.eigh(rxx)
    lam = evecs @ np.diag(np.sqrt(np.clip(evals, 0, None))) @ evecs.T
    beta = np.linalg.solve(lam, rxy)
    return (lam ** 2) @ (beta ** 2)


def ipa_quadrants(importance, performance) -> list[str]:
    """Martilla & James (1977) quadrant of each item, with the lines at the means of both axes."""
    imp = np.asarray(importance, dtype=float)
    perf = np.asarray(performance, dtype=float)
    hi_imp = imp >= imp.mean()
    hi_perf = perf >= perf.mean()
    return [QUADRANTS[(bool(i), bool(q))] for i, q in zip(hi_imp, hi_perf)]


def _vif(rxx: np.ndarray) -> np.ndarray:
    return np.diag(np.linalg.inv(rxx))


def key_drivers(frame: pd.DataFrame, spec: Spec, predictors: str = "perception", n_boot: int = 200,
                seed: int = 20261123, level: float = 0.95) -> DriverAnalysis | None:
    """Key-driver analysis of overall satisfaction on the spec's dimensions.

    Parameters
    ----------
    frame : DataFrame
        Clean rows (with the loader's derived gap columns).
    spec : Spec
    predictors : {"perception", "gap"}
        Dimension perception scores, or the gaps (dimensions with an expectation only).
    n_boot : int
        Bootstrap replicates for the intervals (0: none).
    seed : int
        Seed of the bootstrap, so re-runs give identical numbers.

    Returns
    -------
    DriverAnalysis, or None when fewer than two dimensions are available.
    """
    dims = [d for d in spec.dimensions if predictors == "perception" or d.has_gap]
    if len(dims) < 2:
        return None
    cols = [d.perception if predictors == "perception" else gap_column(d.name) for d in dims]
    y = pd.to_numeric(frame[spec.satisfaction.column], errors="coerce").to_numpy(float)
    x = np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in cols])
    w = row_weights(frame, spec)
    keep = ~np.isnan(y) & ~np.isnan(x).any(axis=1) & np.isfinite(w) & (w > 0)
    y, x, w = y[keep], x[keep], w[keep]
    n = int(keep.sum())
    if n <= len(cols) + 1:
        return None
    # weighted moments are sums over rows: compute them over distinct answer patterns
    patterns = collapse(np.column_stack([y, x]), w)
    z = patterns.values

    def decompose(weights):
        r = weighted_correlation(z, weights)
        rxx, rxy = r[1:, 1:], r[0, 1:]
        lmg, method = shapley_r2(rxx, rxy, seed)
        rw = relative_weights(rxx, rxy)
        beta = np.linalg.solve(rxx, rxy)
        return lmg, rw, beta, method, rxx

    lmg, rw, beta, method, rxx = decompose(patterns.weight)
    r2 = float(lmg.sum())
    boot_lmg, boot_rw = [], []
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        lb, rb, _, _, _ = decompose(poisson_bootstrap_weights(patterns, rng))
        boot_lmg.append(lb / lb.sum())
        boot_rw.append(rb / rb.sum())
    alpha = (1 - level) / 2

    def ci(samples, k):
        if not samples:
            return float("nan"), float("nan")
        arr = np.array(samples)[:, k]
        return float(np.quantile(arr, alpha)), float(np.quantile(arr, 1 - alpha))

    perf = list(patterns.weight @ z[:, 1:] / patterns.weight.sum())  # mean perception or mean gap
    rw_share = rw / rw.sum()
    rows = []
    for k, d in enumerate(dims):
        lo_l, hi_l = ci(boot_lmg, k)
        lo_r, hi_r = ci(boot_rw, k)
        sign = 1 if beta[k] >= 0 else -1
        rows.append({"dimension": d.name, "label": d.title, "column": cols[k], "lmg": lmg[k],
                     "lmg_share": lmg[k] / r2, "lmg_share_ci_low": lo_l, "lmg_share_ci_high": hi_l,
                     "rw": rw[k], "rw_share": rw_share[k], "rw_share_ci_low": lo_r, "rw_share_ci_high": hi_r,
                     "std_coefficient": beta[k], "sign": sign, "signed_share": sign * lmg[k] / r2,
                     "performance": perf[k]})
    table = pd.DataFrame(rows)
    table["quadrant"] = ipa_quadrants(table["rw_share"], table["performance"])
    notes = []
    vif = _vif(rxx)
    if vif.max() > 5:
        worst = dims[int(vif.argmax())].name
        notes.append(f"Predictors are strongly collinear (largest VIF {vif.max():.1f}, {worst}): "
                     f"their shares are shared credit and the ranking may be unstable.")
    if boot_lmg:
        point_order = tuple(np.argsort(-lmg))
        same_top = np.mean([np.argmax(b) == point_order[0] for b in boot_lmg])
        if same_top < 0.8:
            notes.append(f"The top driver is the same in only {same_top:.0%} of bootstrap samples: "
                         f"treat its rank as uncertain.")
    if (table["sign"] < 0).any():
        hurt = ", ".join(table.loc[table["sign"] < 0, "dimension"])
        notes.append(f"Negative coefficient in the full regression (holding the others fixed): {hurt}.")
    return DriverAnalysis(predictors=predictors, table=table, r2=r2, n=n, n_eff=patterns.n_eff, method=method,
                          bootstrap=n_boot, notes=notes)
