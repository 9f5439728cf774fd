"""Satisfaction → loyalty: does satisfaction turn into loyalty, and where does loyalty jump?

For each loyalty item of the spec, and for NPS promoter status (recommend 9-10):

* OLS of loyalty on satisfaction with HC3 errors (a linear probability model for promoters and
  binary loyalty items, ``type: binary``);
* an ordered logit for ordinal items, a logit for promoter status and binary items;
* a non-linearity test: one dummy per satisfaction point against the straight line, by a
  likelihood-ratio test on the same rows;
* the loyalty curve: predicted loyalty (or promoter share) at each satisfaction point with a 95%
  band, and the step where it rises most, in words.

When the spec is design-based (weights, raking or a sample design), every standard error is
design-based — the sandwich of R's ``svyglm``/``svyolr`` over the sample design — the curve's
bands are domain estimates of the whole sample, and the non-linearity test is a design-based
Wald F test (R's ``regTermTest``) instead of the likelihood-ratio test, whose χ² reference does
not hold under weights. Without weights: OLS with HC3, maximum-likelihood SEs for the logits, LR test.

All models are fitted on collapsed answer patterns (:mod:`csatlib.models`), so a million
responses cost about what a thousand do. Design weights are scaled to mean 1 first, so that
where a model treats them as frequency weights its base stays the number of respondents. Satisfaction points answered by fewer than
``MIN_POINT_BASE`` respondents are left out of the curve and the non-linearity test (and named).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..frame import row_weights
from ..sampling import design_of
from ..stats.models import design, fit_linear, fit_logit, fit_ordered_logit, lr_test, wald_test
from ..results import LoyaltyCurve, LoyaltyModel, ModelSummary
from ..spec import Spec
from ..stats.estimators import ALPHA, t_interval, weighted_mean, wilson_interval, z_interval
from ..stats.survey import SurveyDesign

__all__ = ["loyalty_models", "loyalty_curve", "MIN_POINT_BASE", "PROMOTER"]

MIN_POINT_BASE = 10
PROMOTER = "promoter"


def _summary(fit) -> ModelSummary:
    return ModelSummary.from_dict(fit.to_dict())


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _dummies(levels: list[float]):
    """The design of one dummy per satisfaction level, built from collapsed satisfaction values."""
    return lambda values: design(values[:, 0], levels)[0]


def _line_and_dummies(levels: list[float]):
    """The design [1, s, one dummy per level in ``levels``], built from collapsed satisfaction values."""
    return lambda values: np.column_stack([design(values[:, 0])[0], design(values[:, 0], levels)[0]])


def loyalty_curve(s: np.ndarray, y: np.ndarray, w: np.ndarray, binary: bool,
                  sample_design: SurveyDesign | None = None) -> tuple[LoyaltyCurve, dict]:
    """The curve and the non-linearity test of ``y`` on satisfaction ``s``.

    Points with fewer than ``MIN_POINT_BASE`` answers are left out of both (on the same rows).
    ``sample_design`` (the design of these rows) makes the bands and the test design-based: the
    test is then a Wald F test of the free curve's extra coefficients on the design's degrees of
    freedom, else a likelihood-ratio test.
    """
    levels, counts = np.unique(s, return_counts=True)
    kept = [float(v) for v, c in zip(levels, counts) if c >= MIN_POINT_BASE]
    left_out = [float(v) for v, c in zip(levels, counts) if c < MIN_POINT_BASE]
    mask = np.isin(s, kept)
    ss, yy, ww = s[mask], y[mask], w[mask]
    sub = sample_design.subset(mask) if sample_design is not None else None
    rows = []
    if binary:
        for v in kept:
            m = sub.mean(yy, ss == v) if sub is not None else weighted_mean(yy[ss == v], ww[ss == v])
            lo, hi = wilson_interval(m.mean, m.n_eff)
            rows.append({"satisfaction": v, "estimate": m.mean, "ci_low": lo, "ci_high": hi, "n": m.n})
    else:
        # collapsed on satisfaction and the answer, then expanded into one dummy per point
        fit = fit_linear(ss, yy, ww, design(ss[:0], kept)[1], sample_design=sub, expand=_dummies(kept))
        est, se = fit.predict(np.eye(len(kept)))
        for j, v in enumerate(kept):
            lo, hi = (t_interval(est[j], se[j], fit.df_resid) if fit.df_resid is not None
                      else z_interval(est[j], se[j]))
            rows.append({"satisfaction": v, "estimate": float(est[j]), "ci_low": lo, "ci_high": hi,
                         "n": int((ss == v).sum())})
    points = pd.DataFrame(rows)
    test: dict[str, Any] = {"levels": kept, "left_out": left_out}
    # a Wald test needs variation at every point it tests: a point where every answer is the same
    # (0% or 100% promoters) has an infinite logit or a zero variance, so it is left out of the test
    varied = [v for v in kept if np.ptp(yy[ss == v]) > 0] if sub is not None else kept
    if len(varied) >= 3 and sub is not None:
        if len(varied) < len(kept):
            test["constant"] = [v for v in kept if v not in varied]
        on = np.isin(ss, varied)
        sv, yv, wv, dv = ss[on], yy[on], ww[on], sub.subset(on)
        # [1, s, one dummy per point beyond the first two] spans the free curve; test the dummies
        names = design(sv[:0])[1] + design(sv[:0], varied[2:])[1]
        free = _line_and_dummies(varied[2:])
        full = (fit_logit(yv, sv, wv, names, sample_design=dv, expand=free) if binary
                else fit_linear(sv, yv, wv, names, sample_design=dv, expand=free))
        test["model"] = ("logit" if binary else "linear model") + ": one dummy per satisfaction point vs. linear"
        test.update(wald_test(full.params, full.vcov, list(range(2, len(names))), ddf=full.df_resid))
        test["nonlinear"] = bool(test["p"] < ALPHA)
    elif len(kept) >= 3 and sub is None:
        lin_x, lin_names = design(ss)
        dum_names, dummies = design(ss[:0], kept)[1], _dummies(kept)
        if binary:
            restricted = fit_logit(yy, lin_x, ww, lin_names)
            full = fit_logit(yy, ss, ww, dum_names, expand=dummies)
            test["model"] = "logit: one dummy per satisfaction point vs. linear"
        else:
            restricted = fit_linear(lin_x, yy, ww, lin_names, cov_type="nonrobust")
            full = fit_linear(ss, yy, ww, dum_names, cov_type="nonrobust", expand=dummies)
            test["model"] = "Gaussian linear model: one dummy per satisfaction point vs. linear"
        test.update(lr_test(restricted.llf, full.llf, len(kept) - 2))
        test["nonlinear"] = bool(test["p"] < ALPHA)
    steep = None
    typical = None
    if len(points) >= 2:
        rise = np.diff(points["estimate"].to_numpy()) / np.diff(points["satisfaction"].to_numpy())
        j = int(np.argmax(rise))
        steep = (float(points["satisfaction"][j]), float(points["satisfaction"][j + 1]), float(rise[j]))
        others = np.delete(rise, j)
        typical = float(np.median(others)) if len(others) else None
    curve = LoyaltyCurve(points, steep[0] if steep else None, steep[1] if steep else None,
                         steep[2] if steep else None, typical, left_out)
    return curve, test


def _sentence(label: str, curve: LoyaltyCurve, test: dict, binary: bool, slope: float) -> str:
    unit = " percentage points" if binary else ""
    scale = 100 if binary else 1
    if "p" not in test or curve.steepest_rise is None:
        return f"{label}: too few satisfaction points with enough answers to test the shape of the curve."
    p_text = "p < 0.001" if test["p"] < 0.001 else f"p = {test['p']:.3f}"
    name = "Wald test" if "Wald" in str(test.get("test", "")) else "LR test"
    if test["nonlinear"]:
        rest = (f", against a median of {scale * curve.typical_rise:+.2f}{unit} per point elsewhere"
                if curve.typical_rise is not None else "")
        return (f"{label} does not rise in a straight line with satisfaction ({name} {p_text}): it rises most "
                f"steeply from {_fmt(curve.steepest_from)} to {_fmt(curve.steepest_to)} "
                f"({scale * curve.steepest_rise:+.2f}{unit}){rest}.")
    return (f"{label} rises about linearly with satisfaction ({scale * slope:+.2f}{unit} per point); a free curve "
            f"fits no better than a straight line ({name} {p_text}).")


def _one(outcome: str, label: str, s: np.ndarray, y: np.ndarray, w: np.ndarray, binary: bool,
         sample_design: SurveyDesign | None = None) -> LoyaltyModel:
    lin_x, lin_names = design(s)
    notes = []
    se_kind = "design-based" if sample_design is not None else "HC3"
    linear = fit_linear(lin_x, y, w, lin_names, cov_type="HC3", sample_design=sample_design,
                        name=f"OLS ({se_kind})" if not binary else f"linear probability model ({se_kind})")
    if binary:
        logit = fit_logit(y, lin_x, w, lin_names, sample_design=sample_design)
    elif len(np.unique(y)) >= 3:
        try:
            logit = fit_ordered_logit(y, s[:, None], w, ["satisfaction"], sample_design=sample_design)
        except RuntimeError as exc:
            logit = None
            notes.append(f"Ordered logit not reported: {exc}.")
    else:
        logit = fit_logit((y == y.max()).astype(float), lin_x, w, lin_names, sample_design=sample_design)
        notes.append("Only two answer categories: a logit replaces the ordered logit.")
    curve, test = loyalty_curve(s, y, w, binary, sample_design)
    if curve.left_out:
        notes.append(f"Satisfaction points with fewer than {MIN_POINT_BASE} answers are left out of the curve "
                     f"and the shape test: {', '.join(_fmt(v) for v in curve.left_out)}.")
    if test.get("constant"):
        notes.append("Satisfaction points where every answer is the same are left out of the shape test: "
                     f"{', '.join(_fmt(v) for v in test['constant'])}.")
    slope = float(linear.params.iloc[1])
    return LoyaltyModel(outcome, label, "binary" if binary else "ordinal", int(len(y)), _summary(linear),
                        _summary(logit) if logit is not None else None, test, curve,
                        _sentence(label, curve, test, binary, slope), notes)


def loyalty_models(frame: pd.DataFrame, spec: Spec, sample_design: SurveyDesign | None = None) -> list[LoyaltyModel]:
    """Models of every loyalty item and of promoter status, on the rows that have their inputs.

    Parameters
    ----------
    frame : DataFrame
        Clean rows.
    spec : Spec
    sample_design : SurveyDesign, optional
        The design of ``frame``'s rows when they are a domain of a larger sample
        (:func:`csatlib.analysis.kpis.kpis`).

    Returns
    -------
    list of LoyaltyModel
        Empty when the spec has neither loyalty items nor an NPS item.
    """
    sat = pd.to_numeric(frame[spec.satisfaction.column], errors="coerce").to_numpy(float)
    full_design = design_of(frame, spec, sample_design)
    w_all = row_weights(frame, spec) if full_design is None else full_design.weights
    outcomes: list[tuple[str, str, np.ndarray, bool]] = []
    for item in spec.loyalty:  # a binary item (type: binary) is 1/0 in the clean rows: a logit
        outcomes.append((item.column, item.title, pd.to_numeric(frame[item.column], errors="coerce")
                         .to_numpy(float), item.binary))
    if spec.nps:
        rec = pd.to_numeric(frame[spec.nps.column], errors="coerce").to_numpy(float)
        outcomes.append((PROMOTER, "Promoter share (recommend 9-10)", np.where(np.isnan(rec), np.nan,
                                                                                 (rec >= 9).astype(float)), True))
    out = []
    for name, label, y, binary in outcomes:
        keep = ~np.isnan(sat) & ~np.isnan(y) & np.isfinite(w_all) & (w_all > 0)
        if keep.sum() < 3 * MIN_POINT_BASE or len(np.unique(sat[keep])) < 2:
            continue
        w = w_all[keep] * keep.sum() / w_all[keep].sum()  # design weights scaled to mean 1 (sum = n)
        sub = full_design.subset(keep) if full_design is not None else None
        out.append(_one(name, label, sat[keep], y[keep], w, binary, sub))
    return out
