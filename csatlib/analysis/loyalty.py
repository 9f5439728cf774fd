"""Satisfaction → loyalty: does satisfaction turn into loyalty, and where does loyalty jump?

For each loyalty item of the spec, and for NPS promoter status (recommend 9-10):

* OLS of loyalty on satisfaction with HC3 errors (a linear probability model for promoters and
  binary loyalty items, ``type: binary``);
* an ordered logit for ordinal items, a logit for promoter status and binary items;
* a non-linearity test: one dummy per satisfaction point against the straight line, by a
  likelihood-ratio test on the same rows;
* the loyalty curve: predicted loyalty (or promoter share) at each satisfaction point with a 95%
  band, and the step where it rises most, in words.

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
from ..stats.models import design, fit_linear, fit_logit, fit_ordered_logit, lr_test
from ..results import LoyaltyCurve, LoyaltyModel, ModelSummary
from ..spec import Spec
from ..stats.estimators import ALPHA, weighted_mean, wilson_interval, z_interval

__all__ = ["loyalty_models", "loyalty_curve", "MIN_POINT_BASE", "PROMOTER"]

MIN_POINT_BASE = 10
PROMOTER = "promoter"


def _summary(fit) -> ModelSummary:
    return ModelSummary.from_dict(fit.to_dict())


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def loyalty_curve(s: np.ndarray, y: np.ndarray, w: np.ndarray, binary: bool) -> tuple[LoyaltyCurve, dict]:
    """The curve and the non-linearity LR test of ``y`` on satisfaction ``s``.

    Points with fewer than ``MIN_POINT_BASE`` answers are left out of both (on the same rows).
    """
    levels, counts = np.unique(s, return_counts=True)
    kept = [float(v) for v, c in zip(levels, counts) if c >= MIN_POINT_BASE]
    left_out = [float(v) for v, c in zip(levels, counts) if c < MIN_POINT_BASE]
    mask = np.isin(s, kept)
    ss, yy, ww = s[mask], y[mask], w[mask]
    rows = []
    if binary:
        for v in kept:
            m = weighted_mean(yy[ss == v], ww[ss == v])
            lo, hi = wilson_interval(m.mean, m.n_eff)
            rows.append({"satisfaction": v, "estimate": m.mean, "ci_low": lo, "ci_high": hi, "n": m.n})
    else:
        dummies, names = design(ss, kept)
        fit = fit_linear(dummies, yy, ww, names)
        est, se = fit.predict(np.eye(len(kept)))
        for j, v in enumerate(kept):
            lo, hi = z_interval(est[j], se[j])
            rows.append({"satisfaction": v, "estimate": float(est[j]), "ci_low": lo, "ci_high": hi,
                         "n": int((ss == v).sum())})
    points = pd.DataFrame(rows)
    test: dict[str, Any] = {"levels": kept, "left_out": left_out}
    if len(kept) >= 3:
        lin_x, lin_names = design(ss)
        dum_x, dum_names = design(ss, kept)
        if binary:
            restricted, full = fit_logit(yy, lin_x, ww, lin_names), fit_logit(yy, dum_x, ww, dum_names)
            test["model"] = "logit: one dummy per satisfaction point vs. linear"
        else:
            restricted = fit_linear(lin_x, yy, ww, lin_names, cov_type="nonrobust")
            full = fit_linear(dum_x, yy, ww, dum_names, cov_type="nonrobust")
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
    if test["nonlinear"]:
        rest = (f", against a median of {scale * curve.typical_rise:+.2f}{unit} per point elsewhere"
                if curve.typical_rise is not None else "")
        return (f"{label} does not rise in a straight line with satisfaction (LR test {p_text}): it rises most "
                f"steeply from {_fmt(curve.steepest_from)} to {_fmt(curve.steepest_to)} "
                f"({scale * curve.steepest_rise:+.2f}{unit}){rest}.")
    return (f"{label} rises about linearly with satisfaction ({scale * slope:+.2f}{unit} per point); a free curve "
            f"fits no better than a straight line (LR test {p_text}).")


def _one(outcome: str, label: str, s: np.ndarray, y: np.ndarray, w: np.ndarray, binary: bool) -> LoyaltyModel:
    lin_x, lin_names = design(s)
    notes = []
    linear = fit_linear(lin_x, y, w, lin_names, cov_type="HC3", name="OLS (HC3)" if not binary
                        else "linear probability model (HC3)")
    if binary:
        logit = fit_logit(y, lin_x, w, lin_names)
    elif len(np.unique(y)) >= 3:
        try:
            logit = fit_ordered_logit(y, s[:, None], w, ["satisfaction"])
        except RuntimeError as exc:
            logit = None
            notes.append(f"Ordered logit not reported: {exc}.")
    else:
        logit = fit_logit((y == y.max()).astype(float), lin_x, w, lin_names)
        notes.append("Only two answer categories: a logit replaces the ordered logit.")
    curve, test = loyalty_curve(s, y, w, binary)
    if curve.left_out:
        notes.append(f"Satisfaction points with fewer than {MIN_POINT_BASE} answers are left out of the curve "
                     f"and the shape test: {', '.join(_fmt(v) for v in curve.left_out)}.")
    slope = float(linear.params.iloc[1])
    return LoyaltyModel(outcome, label, "binary" if binary else "ordinal", int(len(y)), _summary(linear),
                        _summary(logit) if logit is not None else None, test, curve,
                        _sentence(label, curve, test, binary, slope), notes)


def loyalty_models(frame: pd.DataFrame, spec: Spec) -> list[LoyaltyModel]:
    """Models of every loyalty item and of promoter status, on the rows that have their inputs.

    Parameters
    ----------
    frame : DataFrame
        Clean rows.
    spec : Spec

    Returns
    -------
    list of LoyaltyModel
        Empty when the spec has neither loyalty items nor an NPS item.
    """
    sat = pd.to_numeric(frame[spec.satisfaction.column], errors="coerce").to_numpy(float)
    w_all = row_weights(frame, spec)
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
        out.append(_one(name, label, sat[keep], y[keep], w, binary))
    return out
