"""The ACSI / ECSI-type structural model of the spec's ``index_model`` key, estimated by PLS path
modelling (:mod:`csatlib.stats.pls`): outer weights and loadings, paths with bootstrap intervals,
reliability, the 0-100 construct indices and the importance-performance map.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .drivers import ipa_quadrants
from ..frame import numeric_view, row_weights
from ..results import IndexModel
from ..spec import Spec
from ..stats.estimators import CONFIDENCE
from ..stats.pls import MAX_UNITS, PathModel, PLSError, bootstrap_pls, fit_pls

__all__ = ["index_model", "on_100", "SEED"]

SEED = 20261121  # seed of the index bootstraps: re-runs give identical intervals


def on_100(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Answers on a ``low``-``high`` scale as 0-100 (low → 0, high → 100)."""
    return 100.0 * (values - low) / (high - low)


def _model_rows(frame: pd.DataFrame, spec: Spec) -> tuple[pd.DataFrame, np.ndarray]:
    """Complete rows of the model's items on 0-100, and their weights."""
    im = spec.index_model
    cols = [c for con in im.constructs for c in con.items]
    x = numeric_view(frame, cols)
    for con in im.constructs:
        for col, sc in zip(con.items, con.scales):
            x[col] = on_100(x[col].to_numpy(), sc.low, sc.high)
    w = row_weights(frame, spec)
    keep = x.notna().all(axis=1).to_numpy() & np.isfinite(w) & (w > 0)
    return x[keep].reset_index(drop=True), w[keep]


def index_model(frame: pd.DataFrame, spec: Spec, *, seed: int = SEED,
                level: float = CONFIDENCE) -> tuple[IndexModel | None, str | None]:
    """Estimate the spec's ``index_model`` by PLS, with bootstrap intervals.

    Returns
    -------
    (IndexModel or None, reason or None)
        The reason says, in the report's words, why there is no model (too few complete rows,
        a constant item, no convergence).

    Notes
    -----
    R equivalent (unweighted, items on one scale): ``plspm::plspm(data, path_matrix, blocks,
    modes, scheme = scheme, scaled = scaled, boot.val = TRUE, br = bootstrap)`` and
    ``colMeans(plspm::rescale(fit))`` for the indices (on the item scale).
    """
    im = spec.index_model
    if im is None:
        return None, None
    model = PathModel({c.name: c.items for c in im.constructs}, im.paths, {c.name: c.mode for c in im.constructs})
    x, w = _model_rows(frame, spec)
    need = max(spec.quality.min_base, len(im.constructs) + 2)
    if len(x) < need:
        return None, (f"Satisfaction index model: {len(x)} respondents answered every model item; "
                      f"at least {need} are needed.")
    try:
        fit = fit_pls(x, model, weights=w, scheme=im.scheme, scaled=im.scaled)
        boot = (bootstrap_pls(x, model, weights=w, n_boot=im.bootstrap, seed=seed, level=level, scheme=im.scheme,
                              scaled=im.scaled, fit=fit) if im.bootstrap else None)
    except PLSError as exc:
        return None, f"Satisfaction index model: not estimable on these data ({exc})."
    notes: list[str] = []
    names = list(model.names)
    idx = model.block_index
    weights = fit.outer["weight"].to_numpy()
    means = fit.item_means.to_numpy()
    q = (1 - level) / 2
    rows = []
    rescaled = np.full(len(weights), np.nan)
    uni = fit.unidim.set_index("lv")
    inner = fit.inner.set_index("lv")
    r2_ci = boot.r2.set_index("lv") if boot else None
    for j, name in enumerate(names):
        cols = idx == j
        con = im.construct(name)
        index = lo = hi = se = float("nan")
        if (weights[cols] > 0).all():
            rescaled[cols] = weights[cols] / weights[cols].sum()
            index = float(rescaled[cols] @ means[cols])
            if boot:
                bw = boot.replicates["weights"][:, cols]
                reps = (bw * boot.replicates["means"][:, cols]).sum(axis=1) / bw.sum(axis=1)
                lo, hi = (float(v) for v in np.quantile(reps, [q, 1 - q]))
                se = float(reps.std(ddof=1))
        else:
            notes.append(f"{con.title}: an outer weight is not positive (an item relates negatively to the "
                         f"construct), so its 0-100 index is not defined.")
        u = uni.loc[name]
        rows.append({"construct": name, "label": con.title, "mode": con.mode, "items": ", ".join(con.items),
                     "type": inner.loc[name, "type"], "index": index, "index_se": se, "index_ci_low": lo,
                     "index_ci_high": hi, "r2": float(inner.loc[name, "r2"]) if inner.loc[name, "type"] == "Endogenous"
                     else float("nan"),
                     "r2_ci_low": float(r2_ci.loc[name, "ci_low"]) if r2_ci is not None and name in r2_ci.index
                     else float("nan"),
                     "r2_ci_high": float(r2_ci.loc[name, "ci_high"]) if r2_ci is not None and name in r2_ci.index
                     else float("nan"),
                     "alpha": float(u["alpha"]), "rho": float(u["rho"]), "ave": float(inner.loc[name, "ave"]),
                     "eig1": float(u["eig1"]), "eig2": float(u["eig2"])})
    constructs = pd.DataFrame(rows)
    outer = fit.outer.rename(columns={"lv": "construct"}).copy()
    outer["rescaled_weight"] = rescaled
    outer["item_mean"] = means
    if boot:
        outer["loading_ci_low"] = boot.loadings["ci_low"].to_numpy()
        outer["loading_ci_high"] = boot.loadings["ci_high"].to_numpy()
        paths = boot.paths.rename(columns={"original": "coefficient"}).drop(columns=["mean"])
        tot = boot.total_effects.set_index(["from", "to"])
    else:
        paths = fit.path_table().assign(se=np.nan, ci_low=np.nan, ci_high=np.nan)
        tot = None
    effects = fit.effects.copy()
    if tot is not None and len(effects):
        keys = list(zip(effects["from"], effects["to"]))
        effects["total_ci_low"] = tot.loc[keys, "ci_low"].to_numpy()
        effects["total_ci_high"] = tot.loc[keys, "ci_high"].to_numpy()
    ipma = _ipma(effects, constructs, im.satisfaction)
    low_rel = constructs[(constructs["mode"] == "A") & (constructs["items"].str.count(",") > 0)
                         & ((constructs["rho"] < 0.7) | (constructs["ave"] < 0.5))]
    if len(low_rel):
        notes.append("Reliability below the usual thresholds (Dillon-Goldstein's rho < 0.7 or AVE < 0.5): "
                     + ", ".join(low_rel["label"]) + ".")
    if boot is not None and boot.grouped:
        notes.append(f"With more than {MAX_UNITS:,} respondents the bootstrap resamples {MAX_UNITS:,} random "
                     f"groups of respondents instead of single respondents.")
    if boot is not None and boot.n_failed:
        notes.append(f"{boot.n_failed} bootstrap replicates did not converge and were drawn again.")
    if im.satisfaction is None:
        notes.append("No construct is marked as satisfaction (index_model.satisfaction), so there is no "
                     "importance-performance map.")
    result = IndexModel(constructs=constructs, outer=outer, paths=paths.reset_index(drop=True), effects=effects,
                        ipma=ipma, target=im.satisfaction, gof=fit.gof, scheme=im.scheme, scaled=im.scaled,
                        n=fit.n, n_eff=fit.n_eff, iterations=fit.iterations, bootstrap=boot.n_boot if boot else 0,
                        notes=notes)
    return result, None


def _ipma(effects: pd.DataFrame, constructs: pd.DataFrame, target: str | None) -> pd.DataFrame:
    cols = ["construct", "label", "importance", "performance", "quadrant"]
    if target is None or not len(effects):
        return pd.DataFrame(columns=cols)
    drivers = effects[(effects["to"] == target) & (effects["total"] != 0)]
    info = constructs.set_index("construct")
    rows = [{"construct": f, "label": info.loc[f, "label"], "importance": float(t),
             "performance": float(info.loc[f, "index"])} for f, t in zip(drivers["from"], drivers["total"])]
    out = pd.DataFrame(rows, columns=cols[:-1])
    ok = out["performance"].notna() if len(out) else pd.Series(dtype=bool)
    out["quadrant"] = None
    if ok.sum() >= 2:
        out.loc[ok, "quadrant"] = ipa_quadrants(out.loc[ok, "importance"], out.loc[ok, "performance"])
    return out[cols]


# ----------------------------------------------------------------------------------------------
# both
