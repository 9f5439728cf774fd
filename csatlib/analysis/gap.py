"""The expectation gap: which expectations are not met, and does closing a gap pay off?

Per dimension with an expectation item (gap = perception − expectation):

* the (weighted) mean gap with a t interval, a paired t test (mean gap = 0; with design weights
  on the linearised SE) and the Wilcoxon signed-rank test (unweighted), both Holm-adjusted across
  dimensions;
* the share of customers whose expectation was not met (gap < 0), Wilson interval on n_eff.

With a design-based spec (weights, raking or a sample design) the mean gap, the unmet share and
the t test use the design-based SE (R's ``svymean``; a dimension's skipped answers are a domain
of the whole sample) and, with a complex design, the design's degrees of freedom and effective
n; the disconfirmation regression then has design-based SEs (R's ``svyglm``).

Across dimensions:

* the disconfirmation regression of overall satisfaction on all gaps (WLS, HC3; design-based with a
  design-based spec);
* a mediation analysis (statsmodels ``Mediation``, parametric, seeded): overall gap (the mean of
  a respondent's dimension gaps) → satisfaction → first loyalty item. ``Mediation`` contrasts
  exposure values 0 and 1, so the exposure is coded as gap + 1: the effects are those of
  raising a respondent's mean gap from −1 (one scale point short of expectations) to 0 (met).
  Mediation costs O(rows) per replicate, so above ``MEDIATION_MAX_ROWS`` rows (or with design
  weights) it is fitted on a seeded subsample drawn with probability proportional to weight, and
  the result says so.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from ..frame import gap_column, row_weights
from ..sampling import design_based, design_of
from .preconditions import mediation_inputs, regression_problem
from ..stats.models import LinearFit, fit_linear
from ..results import GapAnalysis, ModelSummary
from ..spec import Spec
from ..stats.estimators import ALPHA, holm, signed_rank_test, t_interval, weighted_mean, wilson_interval
from ..stats.mediation import mediator_ols
from ..stats.survey import SurveyDesign

__all__ = ["gap_analysis", "gap_mediation", "MEDIATION_MAX_ROWS", "MEDIATION_REPLICATES"]

MEDIATION_MAX_ROWS = 20_000
MEDIATION_REPLICATES = 200


def gap_analysis(frame: pd.DataFrame, spec: Spec, seed: int = 20261123,
                 mediation_replicates: int = MEDIATION_REPLICATES,
                 mediation_max_rows: int = MEDIATION_MAX_ROWS,
                 sample_design: SurveyDesign | None = None, mediation: bool = True) -> GapAnalysis | None:
    """Gap statistics of every dimension that has an expectation item.

    Returns None when the spec has no such dimension. Each dimension uses the rows that answered
    both its perception and its expectation item. ``sample_design``: the design of ``frame``'s rows
    when they are a domain of a larger sample (:func:`csatlib.analysis.kpis.kpis`).
    ``mediation=False`` leaves the mediation out (None), for a caller that computes
    :func:`gap_mediation` elsewhere (``csat run`` does, in its second process).
    """
    dims = spec.gap_dimensions
    if not dims:
        return None
    sample_design = design_of(frame, spec, sample_design)
    w_all = row_weights(frame, spec) if sample_design is None else sample_design.weights
    rows = []
    for d in dims:
        g_all = frame[gap_column(d.name)].to_numpy(float)
        keep = ~np.isnan(g_all) & np.isfinite(w_all) & (w_all > 0)
        g, w = g_all[keep], w_all[keep]
        m = sample_design.mean(g_all) if sample_design is not None else weighted_mean(g, w)
        lo, hi = t_interval(m.mean, m.se, m.df)
        t = m.mean / m.se if m.se > 0 else float("nan")
        p_t = float(2 * st.t.sf(abs(t), m.df)) if np.isfinite(t) else float("nan")
        if np.any(g != 0):
            w_stat, p_w = signed_rank_test(g)
        else:
            w_stat, p_w = float("nan"), 1.0
        unmet = (sample_design.mean(np.where(keep, (g_all < 0).astype(float), np.nan)) if sample_design is not None
                 else weighted_mean((g < 0).astype(float), w))
        u_lo, u_hi = wilson_interval(unmet.mean, unmet.n_eff)
        rows.append({"dimension": d.name, "label": d.title, "mean_gap": m.mean, "se": m.se, "ci_low": lo,
                     "ci_high": hi, "n": m.n, "n_eff": m.n_eff, "t": t, "p_t": p_t, "wilcoxon_statistic": w_stat,
                     "p_wilcoxon": p_w, "unmet_share": unmet.mean, "unmet_ci_low": u_lo, "unmet_ci_high": u_hi,
                     "unmet_n_eff": unmet.n_eff,
                     "mean_perception": _mean(frame[d.perception], w_all),
                     "mean_expectation": _mean(frame[d.expectation], w_all),
                     **({"df": float(m.df)} if m.design_df is not None else {})})
    table = pd.DataFrame(rows)
    table["p_t_holm"] = holm(table["p_t"])
    table["p_wilcoxon_holm"] = holm(table["p_wilcoxon"])
    table["significant"] = table["p_t_holm"] < ALPHA
    notes = []
    if spec.weight or spec.weighting:
        notes.append("The Wilcoxon signed-rank test ignores design weights (there is no weighted version in "
                     "scipy); the t test and all estimates are weighted.")
    disconfirmation = _disconfirmation(frame, spec, dims, w_all, sample_design)
    found = _mediation(frame, spec, w_all, seed, mediation_replicates, mediation_max_rows) if mediation else None
    return GapAnalysis(table, ModelSummary.from_dict(disconfirmation.to_dict()) if disconfirmation else None,
                       found, bool(spec.weight or spec.weighting), notes)


def gap_mediation(frame: pd.DataFrame, spec: Spec, seed: int = 20261123,
                  replicates: int = MEDIATION_REPLICATES, max_rows: int = MEDIATION_MAX_ROWS,
                  sample_design: SurveyDesign | None = None) -> dict[str, Any] | None:
    """The mediation of :func:`gap_analysis` on its own (``GapAnalysis.mediation``, the same
    numbers): overall gap → satisfaction → first loyalty item; None without gap dimensions, a
    loyalty or NPS item, or enough answers."""
    if not spec.gap_dimensions:
        return None
    sample_design = design_of(frame, spec, sample_design)
    w_all = row_weights(frame, spec) if sample_design is None else sample_design.weights
    return _mediation(frame, spec, w_all, seed, replicates, max_rows)


def _mean(values: pd.Series, w: np.ndarray) -> float:
    return weighted_mean(pd.to_numeric(values, errors="coerce").to_numpy(float), w).mean


def _disconfirmation(frame, spec, dims, w_all, sample_design=None) -> LinearFit | None:
    sat = pd.to_numeric(frame[spec.satisfaction.column], errors="coerce").to_numpy(float)
    gaps = np.column_stack([frame[gap_column(d.name)].to_numpy(float) for d in dims])
    keep = ~np.isnan(sat) & ~np.isnan(gaps).any(axis=1) & np.isfinite(w_all) & (w_all > 0)
    if keep.sum() <= len(dims) + 2 or regression_problem(gaps[keep], sat[keep], w_all[keep]):
        return None  # too few answers, no variance or a singular design: see analysis.preconditions
    x = np.column_stack([np.ones(int(keep.sum())), gaps[keep]])
    sub = sample_design.subset(keep) if sample_design is not None else None
    return fit_linear(x, sat[keep], w_all[keep], ["const", *[d.name for d in dims]], cov_type="HC3",
                      sample_design=sub,
                      name=f"disconfirmation regression: satisfaction on gaps ({'design-based' if sub else 'HC3'})")


def _mediation(frame, spec, w_all, seed, replicates, max_rows) -> dict[str, Any] | None:
    """Overall gap → satisfaction → loyalty with statsmodels' Mediation (see the module docstring)."""
    if not spec.loyalty and not spec.nps:
        return None
    from statsmodels.regression.linear_model import OLS
    from statsmodels.stats.mediation import Mediation

    gap, outcome, outcome_label = mediation_inputs(frame, spec)  # the mean over the gaps answered
    sat = pd.to_numeric(frame[spec.satisfaction.column], errors="coerce").to_numpy(float)
    keep = ~np.isnan(sat) & ~np.isnan(outcome) & ~np.isnan(gap) & np.isfinite(w_all) & (w_all > 0)
    n = int(keep.sum())
    if n < 30 or regression_problem(np.column_stack([gap, sat])[keep], outcome[keep], w_all[keep]):
        return None  # too few answers, no variance or a singular design: see analysis.preconditions
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(keep)
    note = f"all {n:,} complete rows"
    weighted = bool(spec.weight or spec.weighting)  # raked weights count as weights too
    if weighted or n > max_rows:
        size = min(n, max_rows)
        p = w_all[idx] / w_all[idx].sum()
        idx = rng.choice(idx, size=size, replace=weighted, p=p if weighted else None)
        note = (f"a seeded subsample of {size:,} of {n:,} rows" + (", drawn with probability proportional to "
                                                                    "the design weight" if weighted else ""))
    exposure, mediator = gap[idx] + 1.0, sat[idx]
    ones = np.ones(len(idx))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # array models (not formulas): a formula model re-runs patsy on every simulated prediction
        mediator_model = mediator_ols(mediator, np.column_stack([ones, exposure]))
        outcome_model = OLS(outcome[idx], np.column_stack([ones, exposure, mediator]))
        # positions: exposure is column 1 of both models, the mediator column 2 of the outcome model
        res = Mediation(outcome_model, mediator_model, (1, 1), 2).fit(
            method="parametric", n_rep=replicates, rng=np.random.default_rng(seed))
        summary = res.summary()
    effects = {}
    for label, key in (("ACME (average)", "indirect"), ("ADE (average)", "direct"), ("Total effect", "total"),
                       ("Prop. mediated (average)", "proportion_mediated")):
        row = summary.loc[label]
        effects[key] = {"estimate": float(row["Estimate"]), "ci_low": float(row["Lower CI bound"]),
                        "ci_high": float(row["Upper CI bound"]), "p": float(row["P-value"])}
    variance = "intervals by parametric simulation from the model-based (OLS) covariance of both regressions"
    if design_based(spec):
        d = spec.design
        parts = [name for name, col in (("strata", d.strata), ("clusters", d.psu), ("fpc", d.fpc)) if col] if d else []
        ignored = " and ".join(f"the {x}" for x in parts) if parts else "the weights' effect on the variance"
        variance += (f"; not design-based: the simulation ignores {ignored}"
                     + (", and the rows were resampled with probability proportional to the weight" if weighted else ""))
    return {"exposure": "mean gap across dimensions (coded gap + 1: the contrast is gap −1 → 0)",
            "mediator": spec.satisfaction.column, "outcome": outcome_label, "rows": note, "n": int(len(idx)),
            "replicates": replicates, "method": "statsmodels Mediation, parametric simulation, seeded",
            "cov_type": "model-based", "variance": variance, **effects}
