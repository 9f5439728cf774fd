"""Stated against derived importance: do customers' own ratings of what matters agree with
what actually moves their overall satisfaction?

Stated importance is the (weighted) mean of each dimension's ``importance`` item over its
substantive answers; derived importance is the dimension's share of R² in the key-driver
analysis (Shapley/LMG). Both are ranked (1 = most important, ties share the average rank) and
compared by Spearman's rho (exact permutation p value up to 8 dimensions) and Kendall's tau. Attributes customers call important that drive
little ("table stakes") and attributes that drive satisfaction without being named (latent
drivers) are named in the sentence.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats as st

from ..frame import row_weights
from ..results import DriverAnalysis, ImportanceComparison
from ..spec import Spec
from ..stats.estimators import weighted_mean

__all__ = ["stated_vs_derived", "spearman_exact", "MIN_DIMENSIONS"]

MIN_DIMENSIONS = 3
EXACT_MAX = 8  # 8! = 40,320 permutations


def stated_vs_derived(frame: pd.DataFrame, spec: Spec, drivers: DriverAnalysis | None) -> ImportanceComparison | None:
    """Compare stated importance with the derived importance of a key-driver analysis.

    Parameters
    ----------
    frame : DataFrame
        Clean rows (analysis values).
    spec : Spec
        Dimensions with an ``importance`` item take part.
    drivers : DriverAnalysis
        The key-driver analysis of the perceptions (its ``lmg_share``, else ``rw_share``).

    Returns
    -------
    ImportanceComparison, or None with fewer than ``MIN_DIMENSIONS`` dimensions that have both.

    Examples
    --------
    >>> # R: cor.test(stated, derived, method = "spearman"); cor.test(..., method = "kendall")
    """
    if drivers is None or drivers.table is None or not len(drivers.table):
        return None
    share_col = "lmg_share" if "lmg_share" in drivers.table else "rw_share"
    derived = dict(zip(drivers.table["dimension"], drivers.table[share_col]))
    dims = [d for d in spec.dimensions if d.importance and d.name in derived and d.importance in frame]
    if len(dims) < MIN_DIMENSIONS:
        return None
    w = row_weights(frame, spec)
    rows = []
    for d in dims:
        m = weighted_mean(pd.to_numeric(frame[d.importance], errors="coerce").to_numpy(float), w)
        rows.append({"dimension": d.name, "label": d.title, "stated": m.mean, "stated_n": m.n,
                     "derived": float(derived[d.name])})
    table = pd.DataFrame(rows)
    if table["stated"].isna().any():
        return None
    table["stated_rank"] = st.rankdata(-table["stated"].to_numpy(), method="average")
    table["derived_rank"] = st.rankdata(-table["derived"].to_numpy(), method="average")
    table["rank_difference"] = table["stated_rank"] - table["derived_rank"]
    rho, p_rho = spearman_exact(table["stated"].to_numpy(), table["derived"].to_numpy())
    tau, p_tau = st.kendalltau(table["stated"], table["derived"])
    k = len(table)
    notes = [f"Derived importance: {share_col.replace('_share', '').upper()} share of R² from the key-driver "
             f"analysis ({drivers.method})."]
    if k < 10:
        notes.append(f"With {k} dimensions a rank correlation describes agreement; it can hardly test it "
                     f"(the smallest possible p value is large).")
    strength = ("agree closely" if rho >= 0.7 else "agree in part" if rho >= 0.3
                else "hardly agree" if rho > -0.3 else "disagree")
    sentence = f"Stated and derived importance {strength} (Spearman ρ = {rho:.2f} over {k} dimensions)."
    said = table.loc[table["rank_difference"] <= -2, "label"].tolist()
    latent = table.loc[table["rank_difference"] >= 2, "label"].tolist()
    if said:
        sentence += f" Rated important but driving little: {', '.join(said)}."
    if latent:
        sentence += f" Driving satisfaction more than customers say: {', '.join(latent)}."
    return ImportanceComparison(table, float(rho), _p(p_rho), float(tau), _p(p_tau), drivers.method, sentence, notes)


def spearman_exact(x, y, max_exact: int = EXACT_MAX) -> tuple[float, float]:
    """Spearman's rho and its two-sided p value: exact (every permutation of ``y``'s ranks) for
    up to ``max_exact`` pairs, where the usual t approximation is poor; else scipy's t approximation.

    Examples
    --------
    >>> # R: cor.test(1:5, c(5, 6, 7, 9, 8), method = "spearman", exact = TRUE)$p.value
    >>> round(spearman_exact([1, 2, 3, 4, 5], [5, 6, 7, 9, 8])[1], 5)  # R: 0.08333333
    0.08333
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    rho = float(st.spearmanr(x, y).statistic)
    n = len(x)
    if n > max_exact or np.isnan(rho):
        return rho, float(st.spearmanr(x, y).pvalue)
    rx, ry = st.rankdata(x), st.rankdata(y)
    perms = np.array(list(itertools.permutations(ry)))
    rx_c = rx - rx.mean()
    ry_c = perms - perms.mean(axis=1, keepdims=True)
    denom = np.sqrt((rx_c ** 2).sum() * (ry_c ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rhos = (ry_c @ rx_c) / denom
    return rho, float(np.mean(np.abs(rhos) >= abs(rho) - 1e-12))


def _p(p) -> float | None:
    p = float(p)
    return None if np.isnan(p) else p
