"""Key drivers of overall satisfaction and the importance-performance map.

Two relative-importance measures split the R² of overall satisfaction regressed on the dimension
scores (perceptions, or the gaps as an alternative predictor set) into one share per dimension:

* **Shapley / LMG** (Lindeman, Merenda & Gold 1980; R's ``relaimpo`` ``type = "lmg"``): each
  dimension's R² increment averaged over all orders of entry. Exact over all 2^k subsets up to
  ``EXACT_MAX`` (16) dimensions; above that the mean over random orders of entry, as many as it
  takes for every share's Monte Carlo standard error to be at most ``MC_ERROR`` (0.001). The
  method string and :attr:`DriverAnalysis.mc_error` say which, and the report shows the error.
* **Johnson's relative weights** (Johnson 2000): R² split through the orthogonal counterparts
  of the predictors; exact at any size.

Both come from :func:`csatlib.stats.importance.decompose`, which works from the weighted
correlation matrix alone: the rows are first collapsed into distinct answer patterns with their
summed weights (:mod:`csatlib.stats.collapse`), so the cost depends on the number of dimensions,
not of respondents. Intervals come from a seeded Poisson bootstrap of the patterns; each
replicate recomputes the correlation matrix and decomposes it, with *fresh* random orderings
drawn from the same seeded Generator in the sampled regime (so the Monte Carlo noise of the
replicates is part of the bootstrap spread), and the point estimate's own Monte Carlo error is
added to each interval in quadrature. Re-runs give identical numbers.

A binary outcome (``satisfaction: {type: binary}``) keeps the Shapley/LMG column as the
decomposition of the linear probability model's R² (the same computation on the 0/1 outcome)
and replaces Johnson's weights by their extension to logistic regression (Tonidandel &
LeBreton 2010, :func:`csatlib.stats.importance.logistic_relative_weights`), which then also
places the dimensions on the importance-performance map.

The sign of each dimension's coefficient in the full regression is reported (signed importance,
as Displayr/Q do). The importance-performance analysis places each dimension by derived
importance (relative-weight share) and performance (mean perception or mean gap), with quadrant
lines at the means (Martilla & James 1977).

When the analysis cannot run, :func:`key_drivers` raises :class:`DriversSkipped`, whose message
is the sentence the report prints in place of the section.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from ..frame import gap_column, row_weights
from ..results import DriverAnalysis
from ..spec import Spec
from ..stats.collapse import collapse, poisson_bootstrap_weights
from ..stats.importance import (EXACT_MAX, MC_ERROR, REPLICATE_MC_ERROR, DegenerateDataError, ReplicateMoments,
                                decompose, logistic_relative_weights)

__all__ = ["ipa_quadrants", "DriverAnalysis", "DriversSkipped", "key_drivers", "QUADRANTS", "EXACT_MAX",
           "MC_ERROR", "BOOTSTRAP_REPLICATES"]

BOOTSTRAP_REPLICATES = 200
QUADRANTS = {(True, False): "Concentrate here", (True, True): "Keep up the good work",
             (False, False): "Low priority", (False, True): "Possible overkill"}


class DriversSkipped(ValueError):
    """Key drivers cannot be computed for this spec or these rows.

    The message is one sentence for the report (``Results.skipped``); ``reason`` is a short
    code: ``"dimensions"`` (fewer than two), ``"rows"`` (too few complete answers),
    ``"zero variance"``, ``"collinear"``, ``"separation"`` (binary outcome) or ``"outcome"``.
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason

    def __reduce__(self):  # picklable (a run's second process sends its errors back)
        return type(self), (str(self), self.reason)


def ipa_quadrants(importance, performance) -> list[str]:
    """Martilla & James (1977) quadrant of each item, with the lines at the means of both axes."""
    imp = np.asarray(importance, dtype=float)
    perf = np.asarray(performance, dtype=float)
    hi_imp = imp >= imp.mean()
    hi_perf = perf >= perf.mean()
    return [QUADRANTS[(bool(i), bool(q))] for i, q in zip(hi_imp, hi_perf)]


def _is_binary(spec: Spec) -> bool:
    return getattr(spec.satisfaction, "type", None) == "binary"


def _outcome(frame: pd.DataFrame, spec: Spec, what: str) -> np.ndarray:
    """Overall satisfaction as numbers; a binary outcome as 1 (a ``positive`` answer) / 0."""
    raw = frame[spec.satisfaction.column]
    if not _is_binary(spec):
        return pd.to_numeric(raw, errors="coerce").to_numpy(float)
    positive = tuple(getattr(spec.satisfaction, "positive", None) or ())
    num = pd.to_numeric(raw, errors="coerce")
    coded = num.notna().sum() == raw.notna().sum() and num.dropna().isin((0.0, 1.0)).all()
    if coded:  # clean rows already hold the answers read as 1 (positive) / 0 (negative)
        return num.to_numpy(float)
    if positive:
        numbers = [float(p) for p in positive if isinstance(p, (int, float)) and not isinstance(p, bool)]
        hit = raw.astype("string").isin([str(p) for p in positive]).fillna(False) | num.isin(numbers)
        return np.where(raw.isna().to_numpy(), np.nan, hit.to_numpy(dtype=float))
    values = num.to_numpy(float)
    if not np.isin(values[~np.isnan(values)], (0.0, 1.0)).all():
        raise DriversSkipped(f"{what}: the binary outcome {spec.satisfaction.column} is not coded 0/1 and the spec "
                             f"names no positive answers.", "outcome")
    return values


def _interval(point: float, replicates: np.ndarray, alpha: float, mc_se: float, z: float) -> tuple[float, float]:
    """Percentile interval of the replicates, widened by the point estimate's Monte Carlo error.

    Each side's distance from the point estimate is combined in quadrature with ``z · mc_se``
    (nothing changes when the decomposition is exact)."""
    if len(replicates) == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(replicates, [alpha, 1 - alpha])
    if mc_se > 0:
        c = z * mc_se
        below, above = max(point - lo, 0.0), max(hi - point, 0.0)
        lo -= math.hypot(below, c) - below
        hi += math.hypot(above, c) - above
    return float(lo), float(hi)


def key_drivers(frame: pd.DataFrame, spec: Spec, predictors: str = "perception", n_boot: int = BOOTSTRAP_REPLICATES,
                seed: int = 20261123, level: float = 0.95, *, exact_max: int = EXACT_MAX,
                mc_error: float = MC_ERROR) -> DriverAnalysis:
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
        Seed of the one Generator behind the bootstrap and the sampled orderings, so re-runs give
        identical numbers.
    level : float
        Confidence level of the intervals.
    exact_max : int
        Largest number of dimensions decomposed exactly (default 16); above it Shapley/LMG is
        estimated from sampled orderings.
    mc_error : float
        Sampled regime: the largest Monte Carlo standard error allowed for a share of the point
        estimate (default 0.001). Bootstrap replicates use ``REPLICATE_MC_ERROR`` (0.0025).

    Returns
    -------
    DriverAnalysis
        ``table`` per dimension: ``lmg``/``rw`` (sum to R²), their shares with intervals,
        ``lmg_share_mc_se`` (Monte Carlo SE of the share; 0 when exact), the standardised
        coefficient, its sign, ``performance`` and the IPA ``quadrant``.

    Raises
    ------
    DriversSkipped
        Fewer than two dimensions, too few complete answers, a constant outcome or dimension,
        collinear dimensions, or a binary outcome the dimensions separate; the message says
        which, naming the dimensions involved.

    Notes
    -----
    R equivalent (unweighted, exact): ``relaimpo::calc.relimp(lm(sat ~ ., d), type = "lmg",
    rela = TRUE)`` for the shares and ``boot.relimp(..., b = 200)`` for intervals (relaimpo
    resamples rows; here rows are Poisson-reweighted); ``rwa::rwa`` for Johnson's weights.

    Examples
    --------
    >>> res = key_drivers(clean, spec)  # doctest: +SKIP
    >>> res.top(3)[["dimension", "lmg_share", "lmg_share_ci_low", "lmg_share_ci_high"]]  # doctest: +SKIP
    """
    binary = _is_binary(spec)
    what = "Key drivers" if predictors == "perception" else "Key drivers among the expectation gaps"
    dims = [d for d in spec.dimensions if predictors == "perception" or d.has_gap]
    if len(dims) < 2:
        raise DriversSkipped(f"{what}: the spec lists fewer than two dimensions"
                             + (" with an expectation item." if predictors == "gap" else "."), "dimensions")
    cols = [d.perception if predictors == "perception" else gap_column(d.name) for d in dims]
    y = _outcome(frame, spec, what)
    x = np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in cols])
    w = row_weights(frame, spec)
    keep = ~np.isnan(y) & ~np.isnan(x).any(axis=1) & np.isfinite(w) & (w > 0)
    y, x, w = y[keep], x[keep], w[keep]
    n = int(keep.sum())
    if n <= len(cols) + 1:
        raise DriversSkipped(f"{what}: only {n} respondents answered overall satisfaction and all {len(cols)} "
                             f"dimensions; at least {len(cols) + 2} are needed.", "rows")
    # weighted moments are sums over rows: compute them over distinct answer patterns
    patterns = collapse((y, x), w)
    z, base = patterns.values, patterns.weight
    names = [spec.satisfaction.title, *[d.title for d in dims]]
    rng = np.random.default_rng(seed)
    options = {"exact_max": exact_max, "names": names}
    try:
        point = decompose(z, base, rng=rng, mc_error=mc_error, **options)
        logistic = logistic_relative_weights(z, base, names=names) if binary else None
    except DegenerateDataError as exc:
        raise DriversSkipped(_degenerate_sentence(what, exc, spec), exc.reason) from None
    r2 = point.r2
    rw = logistic.rw if binary else point.rw
    rw_share = rw / rw.sum()

    boot_lmg, boot_rw, failed = [], [], 0
    moments = ReplicateMoments(z, base, names=names)  # centred once; one cross-product per replicate
    for _ in range(n_boot):
        weights = poisson_bootstrap_weights(patterns, rng)
        try:
            rep = moments.decompose(weights, rng=rng, mc_error=REPLICATE_MC_ERROR, exact_max=exact_max)
            rep_rw = logistic_relative_weights(z, weights, names=names).rw if binary else rep.rw
        except DegenerateDataError:  # e.g. a dimension constant in a small resample
            failed += 1
            continue
        boot_lmg.append(rep.lmg_share)
        boot_rw.append(rep_rw / rep_rw.sum())
    boot_lmg_arr, boot_rw_arr = np.array(boot_lmg).reshape(-1, len(dims)), np.array(boot_rw).reshape(-1, len(dims))
    alpha = (1 - level) / 2
    zq = _normal_quantile(1 - alpha)
    mc_se = point.shapley.share_mc_se
    share_se = np.zeros(len(dims)) if mc_se is None else mc_se

    perf = base @ z[:, 1:] / base.sum()  # mean perception or mean gap
    rows = []
    for k, d in enumerate(dims):
        lo_l, hi_l = _interval(point.lmg_share[k], boot_lmg_arr[:, k], alpha, float(share_se[k]), zq)
        lo_r, hi_r = _interval(rw_share[k], boot_rw_arr[:, k], alpha, 0.0, zq)
        beta = logistic.beta[k] if binary else point.beta[k]
        sign = 1 if beta >= 0 else -1
        rows.append({"dimension": d.name, "label": d.title, "column": cols[k], "lmg": point.lmg[k],
                     "lmg_share": point.lmg_share[k], "lmg_share_ci_low": lo_l, "lmg_share_ci_high": hi_l,
                     "lmg_share_mc_se": float(share_se[k]),
                     "rw": rw[k], "rw_share": rw_share[k], "rw_share_ci_low": lo_r, "rw_share_ci_high": hi_r,
                     "std_coefficient": beta, "sign": sign, "signed_share": sign * point.lmg_share[k],
                     "performance": perf[k]})
    table = pd.DataFrame(rows)
    table["quadrant"] = ipa_quadrants(table["rw_share"], table["performance"])
    method = point.shapley.method
    if binary:
        method = (f"{method} of the linear probability model (binary outcome); importance-performance map and "
                  f"Johnson's weights: {logistic.method}")
    notes = _notes(dims, point, table, boot_lmg_arr, failed, n_boot, binary, logistic)
    return DriverAnalysis(predictors=predictors, table=table, r2=r2, n=n, n_eff=patterns.n_eff, method=method,
                          bootstrap=len(boot_lmg), notes=notes,
                          mc_error=None if mc_se is None else float(mc_se.max()))


def _normal_quantile(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


def _degenerate_sentence(what: str, exc: DegenerateDataError, spec: Spec) -> str:
    involved = ", ".join(map(str, exc.columns))
    if exc.reason == "zero variance":
        return (f"{what}: {involved or 'an item'} has the same value for every respondent, so the variance of "
                f"overall satisfaction cannot be split.")
    if exc.reason == "collinear":
        return (f"{what}: the dimensions {involved + ' ' if involved else ''}are linearly dependent (one is a "
                f"combination of the others), so their shares are not defined.")
    if exc.reason == "separation":
        return (f"{what}: the dimensions predict the binary outcome {spec.satisfaction.column} perfectly "
                f"(separation), so the logistic model has no finite estimates.")
    return f"{what}: {exc}."


def _notes(dims: Sequence, point, table: pd.DataFrame, boot_lmg: np.ndarray, failed: int, n_boot: int,
           binary: bool, logistic) -> list[str]:
    notes = []
    if point.vif.max() > 5:
        worst = dims[int(point.vif.argmax())].name
        notes.append(f"Predictors are strongly collinear (largest VIF {point.vif.max():.1f}, {worst}): "
                     f"their shares are shared credit and the ranking may be unstable.")
    if len(boot_lmg):
        same_top = np.mean(np.argmax(boot_lmg, axis=1) == int(np.argmax(point.lmg)))
        if same_top < 0.8:
            notes.append(f"The top driver is the same in only {same_top:.0%} of bootstrap samples: "
                         f"treat its rank as uncertain.")
    if failed:
        notes.append(f"{failed} of {n_boot} bootstrap replicates could not be decomposed (a dimension was constant "
                     f"or collinear in the resample) and were left out of the intervals.")
    if binary:
        notes.append(f"The outcome is binary: Johnson's weights are relative weights for logistic regression "
                     f"(Tonidandel & LeBreton 2010); they split R² = {logistic.r2:.3f}, the squared correlation of "
                     f"the outcome and the predicted probability.")
    if (table["sign"] < 0).any():
        hurt = ", ".join(table.loc[table["sign"] < 0, "dimension"])
        notes.append(f"Negative coefficient in the full regression (holding the others fixed): {hurt}.")
    return notes
