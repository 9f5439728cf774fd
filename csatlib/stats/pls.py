r"""PLS path modelling (Wold / Lohmöller), as R's ``plspm`` 0.4.9 computes it, with observation weights.

A path model has latent variables (LVs), each measured by a block of manifest variables (MVs,
the observed columns), and directed paths between the LVs (a recursive, acyclic inner model).
PLS estimates each LV as a weighted sum of its block's MVs, the outer weights chosen by
alternating two estimates of every LV until the weights stop changing:

* outer estimate  y_j = X_j w_j, standardised;
* inner estimate  z_j = Σ_i e_ij y_i over the LVs i adjacent to j, with inner weights e_ij from
  the *centroid* scheme (sign of cor(y_i, y_j)), the *factorial* scheme (cor(y_i, y_j)) or the
  *path* scheme (for i explaining j: the coefficient of y_i in the regression of y_j on all the
  LVs explaining j; for i explained by j: cor(y_i, y_j));
* new outer weights: mode A (reflective) w_j = X_j' z_j / N, the covariances of the block's MVs
  with the inner estimate; mode B (formative) the regression of z_j on X_j.

The iteration starts from unit weights and stops when Σ (|w_old| − |w_new|)² < ``tol`` (plspm's
criterion and default 1e-6; a run that reaches ``maxiter`` has not converged and raises
:class:`PLSError`, as plspm returns no result then). The final weights are scaled so that every
LV score has (weighted) variance 1, and an LV whose block mostly correlates negatively with it is
flipped (plspm's ``get_scores``). Path coefficients and R² are those of the least-squares
regression of each endogenous LV on the LVs that point to it; loadings are cor(x, y_j);
communality = loading², redundancy = communality · R²; AVE the mean communality of a mode A block;
GoF = √(mean communality of the multi-item blocks, weighted by block size · mean R²).
Cronbach's alpha (standardised items), Dillon-Goldstein's rho (from the block's first principal
component, as plspm's ``unidim``) and the first two eigenvalues of the block's correlation matrix
describe the unidimensionality of each block.

Everything is a function of the (weighted) covariance matrix S of the MVs and the total weight N:
with W the outer weights, cor(Y) = W'SW (normalised), X'Z/N = S W̃ E, cor(X, Y) = S W / sd(X).
:func:`fit_pls` computes S once; :func:`bootstrap_pls` computes one S per bootstrap replicate
from resampled moment totals and runs the iteration for all replicates at once (batched numpy,
no loop over replicates or rows), so a bootstrap costs little more than its moment totals.

Observation weights w_i enter as frequency weights: means, covariances and N = Σ w_i are
weighted, so integer weights give exactly the fit of the data with each row repeated w_i times
(plspm has no case weights; that identity is how this module is checked against it). With
``scaled=True`` (plspm's default) every MV is standardised to (weighted) variance 1 first; with
``scaled=False`` the MVs are only centred, which suits items on one answer scale.

The rescaled scores (:meth:`PLSFit.rescaled_weights`, plspm's ``rescale``) apply the outer
weights, normalised to sum 1 within each block, to the raw MVs: an LV score on the MVs' own
scale, the basis of ACSI/ECSI-type indices. plspm requires every outer weight to be positive
for it; so does :meth:`PLSFit.rescaled_weights`.

Differences from plspm: none in the numbers it reports, except that when an LV is flipped its
outer weights are flipped too (plspm flips the scores but reports the unflipped weights).
Non-metric (``scaling``) PLS, missing-value handling (rows must be complete here) and the
non-linear modes are not implemented.

References
----------
Lohmöller, J.-B. (1989). *Latent Variable Path Modeling with Partial Least Squares*. Physica.
Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M. & Lauro, C. (2005). PLS path modeling.
*Computational Statistics & Data Analysis* 48, 159-205.
Sanchez, G. (2013). *PLS Path Modeling with R*. Trowchez Editions, Berkeley.
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., ch. 2 (random groups). Springer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .pls_engine import (MODES, SCHEMES, Batch, PathModel, PLSError, check_variance, estimate_batch,  # noqa: F401
                         model_matrix, observation_weights, unidimensionality)
from .resample import (MAX_UNITS, ResamplePlan, replicate_moments, resample_plan, unit_crossproducts,  # noqa: F401
                       unit_moments, unit_sums)


__all__ = ["PLSError", "PathModel", "PLSFit", "PLSBootstrap", "ResamplePlan", "fit_pls", "bootstrap_pls",
           "resample_plan", "unit_sums", "unit_crossproducts", "unit_moments", "replicate_moments", "SCHEMES", "MODES",
           "MAX_UNITS"]


@dataclass
class PLSFit:
    """A fitted PLS path model (:func:`fit_pls`).

    Attributes
    ----------
    model : PathModel
    scheme : str
    scaled : bool
    n : int
        Rows used.
    sum_weights, n_eff : float
        Σw and Kish's effective n (both n without weights).
    iterations : int
        Iterations of the outer-weight loop (plspm's ``model$iter``).
    outer : DataFrame
        One row per manifest variable: ``lv``, ``item``, ``weight`` (outer weight),
        ``loading``, ``communality``, ``redundancy`` (plspm's ``outer_model``).
    crossloadings : DataFrame
        cor(MV, LV) for every MV and LV (plspm's ``crossloadings``).
    path : DataFrame
        Path coefficients, rows = to, columns = from (plspm's ``path_coefs``).
    inner : DataFrame
        One row per LV: ``lv``, ``type``, ``r2``, ``communality`` (block mean), ``redundancy``
        (block mean), ``ave`` (plspm's ``inner_summary``).
    effects : DataFrame
        ``from``, ``to``, ``direct``, ``indirect``, ``total`` for every pair joined by a directed
        path (plspm's ``effects``).
    unidim : DataFrame
        ``lv``, ``mode``, ``items``, ``alpha``, ``rho``, ``eig1``, ``eig2`` (plspm's ``unidim``).
    gof : float
    lv_correlation : DataFrame
    scores : DataFrame
        Standardised LV scores (weighted mean 0, variance 1), one row per data row.
    item_means : Series
        (Weighted) means of the raw manifest variables.
    """

    model: PathModel
    scheme: str
    scaled: bool
    n: int
    sum_weights: float
    n_eff: float
    iterations: int
    outer: pd.DataFrame
    crossloadings: pd.DataFrame
    path: pd.DataFrame
    inner: pd.DataFrame
    effects: pd.DataFrame
    unidim: pd.DataFrame
    gof: float
    lv_correlation: pd.DataFrame
    scores: pd.DataFrame = field(repr=False)
    item_means: pd.Series = field(repr=False)

    def path_table(self) -> pd.DataFrame:
        """One row per path of the model: ``from``, ``to``, ``coefficient``."""
        return pd.DataFrame([{"from": a, "to": b, "coefficient": float(self.path.loc[b, a])}
                             for a, b in self.model.paths])

    def rescaled_weights(self) -> pd.Series:
        """Outer weights normalised to sum 1 within each block (plspm's ``rescale``).

        Raises
        ------
        PLSError
            When an outer weight is not positive (``reason="negative weight"``): the rescaled
            score would not be a weighted average of the items.
        """
        w = self.outer.set_index("item")["weight"]
        bad = w.index[w <= 0].tolist()
        if bad:
            raise PLSError(f"outer weights not positive for {', '.join(bad)}: no rescaled score",
                           "negative weight", bad)
        blocks = self.outer.set_index("item")["lv"]
        return w / w.groupby(blocks).transform("sum")

    def rescaled_scores(self, data) -> pd.DataFrame:
        """LV scores on the raw manifest variables' scale: ``data @`` :meth:`rescaled_weights`.

        ``data`` is a DataFrame with the model's columns (or an array in ``model.items`` order).
        Equals R's ``plspm::rescale(fit)``.
        """
        x = model_matrix(data, self.model)
        w = self.rescaled_weights().reindex(list(self.model.items)).to_numpy()
        odm = np.eye(len(self.model.names))[self.model.block_index]
        index = data.index if isinstance(data, pd.DataFrame) else None
        return pd.DataFrame(x @ (w[:, None] * odm), columns=list(self.model.names), index=index)

    def __repr__(self) -> str:
        r2 = ", ".join(f"{r.lv} {r.r2:.3f}" for r in self.inner.itertuples() if r.type == "Endogenous")
        return (f"PLSFit({len(self.model.names)} LVs, {len(self.model.items)} MVs, n={self.n}, scheme={self.scheme!r}, "
                f"scaled={self.scaled}, GoF={self.gof:.4f}; R²: {r2})\n"
                + self.path_table().round(4).to_string(index=False))


def fit_pls(data, model: PathModel, *, weights=None, scheme: str = "centroid", scaled: bool = True,
            tol: float = 1e-6, maxiter: int = 100) -> PLSFit:
    """Fit a PLS path model.

    Parameters
    ----------
    data : DataFrame or array_like, shape (n, p)
        Complete rows; a DataFrame must hold the model's columns (extra columns are ignored),
        an array must have its columns in ``model.items`` order.
    model : PathModel
    weights : array_like, shape (n,), optional
        Non-negative observation weights (frequency or design weights); see the module notes.
    scheme : {"centroid", "factorial", "path"}
        Inner weighting scheme.
    scaled : bool
        Standardise the manifest variables (True, plspm's default) or only centre them.
    tol, maxiter : float, int
        Stopping rule of the outer-weight loop (plspm's ``tol`` and ``maxiter``).

    Returns
    -------
    PLSFit

    Raises
    ------
    PLSError
        A constant column, a singular block (mode B) or inner model, or no convergence.
    ValueError
        Malformed input (missing values, wrong shapes, unknown scheme).

    Notes
    -----
    R equivalent (unit weights): ``plspm::plspm(data, path_matrix, blocks, modes, scheme = scheme,
    scaled = scaled, tol = tol, maxiter = maxiter)``; the rescaled scores are
    ``plspm::rescale(fit)``. Checked against plspm 0.4.9 on its ``satisfaction`` (ECSI) data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(300, 1)); g = 0.6 * f + 0.8 * rng.normal(size=(300, 1))
    >>> x = np.hstack([f + rng.normal(size=(300, 3)), g + rng.normal(size=(300, 3))])
    >>> m = PathModel({"F": ["a1", "a2", "a3"], "G": ["b1", "b2", "b3"]}, [("F", "G")])
    >>> fit = fit_pls(x, m)
    >>> bool(np.isclose(fit.path.loc["G", "F"] ** 2, fit.inner.set_index("lv").loc["G", "r2"]))
    True
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    x = model_matrix(data, model)
    n, p = x.shape
    w = observation_weights(weights, n)
    total = float(w.sum())
    if n <= len(model.names) + 1 or not total > 0:
        raise PLSError(f"{n} rows: too few to fit {len(model.names)} latent variables", "too few rows")
    mean = w @ x / total
    xc = x - mean
    root = xc * np.sqrt(w)[:, None]
    cov = root.T @ root / total
    del root
    cov = (cov + cov.T) / 2
    check_variance(cov, x, model)
    try:
        est = estimate_batch(cov[None], np.array([total]), model, scheme, scaled, tol, maxiter)
    except np.linalg.LinAlgError:
        raise PLSError("singular matrix: a formative block or the inner model has linearly dependent "
                       "variables", "singular") from None
    if not est.converged[0]:
        raise PLSError(f"the outer weights did not converge in {maxiter} iterations (tol {tol:g})",
                       "not converged")
    return _package(est, 0, model, scheme, scaled, xc, mean, w, cov)


def _package(est: Batch, b: int, model: PathModel, scheme: str, scaled: bool, xc: np.ndarray, mean: np.ndarray,
             w: np.ndarray, cov: np.ndarray) -> PLSFit:
    names = list(model.names)
    items = list(model.items)
    idx = model.block_index
    sd = np.sqrt(np.diag(cov))
    cor = cov / np.outer(sd, sd)
    weights = est.weights[b]
    # scores: the treated data times the weights (the weights act on standardised items if scaled)
    odm = np.eye(len(names))[idx]
    scores = xc @ ((weights / sd if scaled else weights)[:, None] * odm)
    r2 = est.r2[b]
    loadings = est.loadings[b]
    communality = loadings ** 2
    redundancy = communality * r2[idx]
    outer = pd.DataFrame({"lv": [names[i] for i in idx], "item": items, "weight": weights, "loading": loadings,
                          "communality": communality, "redundancy": redundancy})
    endo = model.endogenous
    inner_rows = []
    for j, name in enumerate(names):
        c = communality[idx == j]
        ave = float(c.mean()) if model.modes[name] == "A" else 0.0  # Σc / (Σc + Σ(1 - c))
        inner_rows.append({"lv": name, "type": "Endogenous" if endo[j] else "Exogenous", "r2": float(r2[j]),
                           "communality": float(c.mean()), "redundancy": float(redundancy[idx == j].mean()),
                           "ave": ave})
    multi = np.bincount(idx)[idx] > 1
    mean_comm = float(communality[multi].mean()) if multi.any() else float("nan")
    gof = math.sqrt(mean_comm * float(r2[endo].mean())) if endo.any() else float("nan")
    reach = est.total[b] != 0
    effects = []
    for i, a in enumerate(names):
        for j, t in enumerate(names):
            if i != j and (reach[j, i] or model.inner[j, i]):
                direct = float(est.path[b, j, i])
                effects.append({"from": a, "to": t, "direct": direct, "indirect": float(est.total[b, j, i] - direct),
                                "total": float(est.total[b, j, i])})
    return PLSFit(
        model=model, scheme=scheme, scaled=scaled, n=len(xc), sum_weights=float(w.sum()),
        n_eff=float(w.sum() ** 2 / np.square(w).sum()), iterations=int(est.iterations[b]), outer=outer,
        crossloadings=pd.DataFrame(est.crossloadings[b], index=items, columns=names),
        path=pd.DataFrame(est.path[b], index=names, columns=names), inner=pd.DataFrame(inner_rows),
        effects=pd.DataFrame(effects, columns=["from", "to", "direct", "indirect", "total"]),
        unidim=unidimensionality(cor, model), gof=gof,
        lv_correlation=pd.DataFrame(est.lv_cor[b], index=names, columns=names),
        scores=pd.DataFrame(scores, columns=names), item_means=pd.Series(mean, index=items))


# ----------------------------------------------------------------------------------------------
# bootstrap


def _summary(original: np.ndarray, reps: np.ndarray, level: float, labels: dict[str, list]) -> pd.DataFrame:
    a = (1 - level) / 2
    out = pd.DataFrame(labels)
    out["original"] = original
    out["mean"] = reps.mean(axis=0) if len(reps) else np.nan
    out["se"] = reps.std(axis=0, ddof=1) if len(reps) > 1 else np.nan
    out["ci_low"] = np.quantile(reps, a, axis=0) if len(reps) else np.nan
    out["ci_high"] = np.quantile(reps, 1 - a, axis=0) if len(reps) else np.nan
    return out


@dataclass
class PLSBootstrap:
    """Bootstrap of a PLS path model (:func:`bootstrap_pls`).

    Each table has the labels, ``original`` (the fit), ``mean`` and ``se`` (standard deviation)
    of the replicates and the percentile interval ``ci_low``/``ci_high`` (plspm's
    ``boot$paths`` ... columns Original, Mean.Boot, Std.Error, perc.025, perc.975).

    Attributes
    ----------
    fit : PLSFit
    paths, loadings, weights, r2, total_effects : DataFrame
    replicates : dict of ndarray
        Per replicate: ``paths`` (B, paths), ``loadings`` and ``weights`` (B, p), ``r2``
        (B, endogenous LVs), ``total`` (B, effects), ``means`` (B, p) raw item means.
    n_boot, n_failed : int
        Replicates kept, and replicates whose weights did not converge (redrawn when drawn
        here; dropped when ``resamples`` were given).
    grouped : bool
        Rows pooled into random groups (see :func:`resample_plan`).
    level : float
    """

    fit: PLSFit
    paths: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    r2: pd.DataFrame
    total_effects: pd.DataFrame
    replicates: dict[str, np.ndarray] = field(repr=False)
    n_boot: int = 0
    n_failed: int = 0
    grouped: bool = False
    level: float = 0.95

    def __repr__(self) -> str:
        return (f"PLSBootstrap({self.n_boot} replicates{', random groups' if self.grouped else ''}, "
                f"{self.level:.0%} percentile intervals)\n"
                + self.paths.round(4).to_string(index=False))


def bootstrap_pls(data, model: PathModel, *, weights=None, n_boot: int = 500, seed: int | None = 0,
                  resamples=None, level: float = 0.95, scheme: str = "centroid", scaled: bool = True,
                  tol: float = 1e-6, maxiter: int = 100, max_units: int = MAX_UNITS,
                  fit: PLSFit | None = None) -> PLSBootstrap:
    """Fit a PLS path model and bootstrap it: intervals for paths, loadings, weights, R², total effects.

    Every replicate re-runs the whole algorithm on a resample of the rows (with their
    observation weights), as plspm's ``boot.val = TRUE`` does; replicates whose outer weights do
    not converge are drawn again. All replicates are estimated together from their moment
    totals (see the module notes), so 1,000 replicates of a 27-item model take well under a
    second.

    Parameters
    ----------
    data, model, weights, scheme, scaled, tol, maxiter
        As in :func:`fit_pls`.
    n_boot : int
        Replicates (plspm's ``br``; its default is 100).
    seed : int or None
        Seed of the draws: the same seed gives the same intervals.
    resamples : array_like of int, shape (replicates, n), optional
        0-based row indices of each replicate, drawn elsewhere (for instance ``sample.int``
        draws from R, minus 1): then no draws are made and non-converged replicates are dropped.
    level : float
        Percentile interval level.
    max_units : int
        Above this many rows, rows are pooled into random groups (:func:`resample_plan`).
    fit : PLSFit, optional
        The fit of ``data`` with the same settings, when already computed.

    Returns
    -------
    PLSBootstrap

    Notes
    -----
    R equivalent: ``plspm::plspm(..., boot.val = TRUE, br = n_boot)$boot`` (same statistics, same
    percentile intervals, R's ``quantile`` type 7); with ``resamples`` set to R's draws the numbers
    are R's.
    """
    fit = fit or fit_pls(data, model, weights=weights, scheme=scheme, scaled=scaled, tol=tol, maxiter=maxiter)
    x = model_matrix(data, model)
    n = len(x)
    w = observation_weights(weights, n)
    rng = np.random.default_rng(seed)
    scale = np.maximum(np.abs(x.max(axis=0)), np.abs(x.min(axis=0)))
    kept: list[Batch] = []
    means: list[np.ndarray] = []
    failed = 0
    grouped = False
    need = n_boot if resamples is None else len(np.asarray(resamples))
    attempts = 0
    while sum(len(b.converged) for b in kept) < need:
        todo = need - sum(len(b.converged) for b in kept)
        plan = resample_plan(n, todo, rng, max_units=max_units, resamples=resamples)
        grouped = plan.grouped
        total, mean, cov = replicate_moments(plan, x, w)
        sd = np.sqrt(np.clip(np.einsum("bpp->bp", cov), 0, None))
        usable = (sd > 1e-12 * scale).all(axis=1) & (total > 0)
        est = None
        if usable.any():
            with np.errstate(all="ignore"):
                try:
                    est = estimate_batch(cov[usable], total[usable], model, scheme, scaled, tol, maxiter)
                except np.linalg.LinAlgError:
                    est = None
        if est is None:
            ok = np.zeros(0, dtype=bool)
        else:
            ok = est.converged & np.isfinite(est.path).all(axis=(1, 2))
        failed += int(len(usable) - ok.sum())
        if est is not None and ok.any():
            kept.append(_subset(est, ok))
            means.append(mean[usable][ok])
        attempts += 1
        if resamples is not None or attempts > 20:
            break
    if not kept:
        raise PLSError("no bootstrap replicate converged", "not converged")
    est = _concat(kept)
    reps_mean = np.concatenate(means)
    idx = model.block_index
    names = list(model.names)
    paths = [(a, b) for a, b in model.paths]
    pos = {nm: i for i, nm in enumerate(names)}
    rep_paths = np.column_stack([est.path[:, pos[b], pos[a]] for a, b in paths])
    orig_paths = np.array([fit.path.loc[b, a] for a, b in paths])
    endo = [i for i in range(len(names)) if model.endogenous[i]]
    eff = fit.effects
    rep_total = np.column_stack([est.total[:, pos[t], pos[f]] for f, t in zip(eff["from"], eff["to"])]) \
        if len(eff) else np.zeros((len(est.path), 0))
    item_labels = {"lv": [names[i] for i in idx], "item": list(model.items)}
    return PLSBootstrap(
        fit=fit,
        paths=_summary(orig_paths, rep_paths, level, {"from": [a for a, _ in paths], "to": [b for _, b in paths]}),
        loadings=_summary(fit.outer["loading"].to_numpy(), est.loadings, level, item_labels),
        weights=_summary(fit.outer["weight"].to_numpy(), est.weights, level, item_labels),
        r2=_summary(fit.inner["r2"].to_numpy()[endo], est.r2[:, endo], level, {"lv": [names[i] for i in endo]}),
        total_effects=_summary(eff["total"].to_numpy(), rep_total, level,
                               {"from": list(eff["from"]), "to": list(eff["to"])}),
        replicates={"paths": rep_paths, "loadings": est.loadings, "weights": est.weights, "r2": est.r2[:, endo],
                    "total": rep_total, "means": reps_mean},
        n_boot=len(rep_paths), n_failed=failed, grouped=grouped, level=level)


def _subset(est: Batch, keep: np.ndarray) -> Batch:
    return Batch(**{k: getattr(est, k)[keep] for k in est.__dataclass_fields__})


def _concat(parts: list[Batch]) -> Batch:
    return Batch(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in parts[0].__dataclass_fields__})
