r"""Satisfaction indices: the weighted-average CSI and the ACSI/ECSI structural model.

Weighted-average index (spec key ``index``)
-------------------------------------------
Each dimension's perception is put on 0-100, ``s = 100 (y - low) / (high - low)``, and its
(weighted) mean m_d taken over the respondents who answered it. The index is

.. math:: \mathrm{CSI} = \sum_d a_d\, m_d, \qquad \sum_d a_d = 1,

and each dimension's contribution is a_d m_d. The weights a_d are

* ``given``: the spec's weights, normalised to sum 1. The index is then a fixed linear
  combination of means; its standard error is the design-based (Taylor) one of that
  combination: with z_id = w_i r_id (s_id − m_d) / Σ_i w_i r_id (r_id = 1 when row i answered
  d) and u_i = Σ_d a_d z_id, var = n/(n−1) Σ_i u_i², n the rows answering any dimension
  (R: ``svycontrast(svymean(~s1 + s2 + ..., design), a)`` for complete answers; the same
  linearisation as ``svyratio`` for each mean otherwise). The interval is t with n − 1 df.
* ``stated``: proportional to the mean stated importance of each dimension (its importance
  item on 0-100), normalised to sum 1;
* ``derived``: Johnson's relative weights of the dimensions for overall satisfaction (the same
  measure as the key-driver analysis, :func:`csatlib.stats.importance.relative_weights`), as
  shares of R².

Stated and derived weights are estimated from the same respondents, so their interval is a
seeded bootstrap (percentile; weights re-estimated in every replicate), and the weights get
intervals too. Segment indices apply the total sample's weights to the segment's means (so
segments are measured on one yardstick) with the linearised interval given those weights;
segments below ``quality.min_base`` are suppressed, and each segment is tested against the rest
(Welch t, Holm across segments). The change from the previous wave is tested with Welch's t
(fixed weights) or a z test on the bootstrap standard errors.

Structural model (spec key ``index_model``)
-------------------------------------------
The constructs and paths of the spec form a PLS path model (:mod:`csatlib.stats.pls`, checked
against R's ``plspm``). Items are put on 0-100 by their scales first (a linear change per item:
every standardised result is unchanged, and items of different scales become comparable), and
rows missing any model item are left out (the base is stated). Each construct's index is the
mean of its rescaled score, the outer weights normalised to sum 1 applied to its 0-100 items
(``plspm::rescale``), so it is on 0-100; path coefficients, R², reliability and GoF come with
the fit, intervals from a seeded bootstrap of the whole model. The importance-performance map
places each construct with a directed path to the satisfaction construct by its total effect on
it (importance) and its index (performance).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from .index_model import SEED, index_model, on_100
from ..frame import MISSING_SEGMENT, numeric_view, row_weights
from ..results import Estimate, IndexAnalysis, WeightedIndex
from ..sampling import design_of
from ..spec import Spec
from ..stats.estimators import ALPHA, CONFIDENCE, MeanEstimate, holm, kish_n_eff, t_interval, weighted_mean, welch_test, z_test
from ..stats.importance import DegenerateDataError, relative_weights, weighted_correlation
from ..stats.survey import SurveyDesign
from ..stats.pls import replicate_moments, resample_plan, unit_sums

__all__ = ["weighted_index", "index_model", "satisfaction_index", "index_changes", "linear_index",
           "design_index_se", "SEED"]


# ----------------------------------------------------------------------------------------------
# the weighted-average index


def linear_index(scores: np.ndarray, weights: np.ndarray, coef: np.ndarray) -> tuple[float, float, int, float]:
    """A fixed linear combination of available-case means and its linearised standard error.

    Parameters
    ----------
    scores : ndarray, shape (n, k)
        Per-row values (NaN = not answered).
    weights : ndarray, shape (n,)
        Positive row weights.
    coef : ndarray, shape (k,)
        Coefficients of the combination.

    Returns
    -------
    (estimate, se, n, n_eff)
        n and n_eff count the rows answering at least one column.

    Notes
    -----
    With complete rows this is ``svycontrast(svymean(~x1 + ... + xk, svydesign(ids = ~1,
    weights = ~w)), coef)`` in R's survey package: the SE of the weighted mean of Σ_d coef_d x_id.
    """
    s = np.asarray(scores, dtype=float)
    w = np.asarray(weights, dtype=float)
    answered = ~np.isnan(s)
    rows = answered.any(axis=1)
    s, w, answered = s[rows], w[rows], answered[rows]
    n = int(rows.sum())
    if n == 0:
        return float("nan"), float("nan"), 0, 0.0
    wr = w[:, None] * answered
    total = wr.sum(axis=0)
    filled = np.where(answered, s, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (wr * filled).sum(axis=0) / total
    used = coef != 0
    if np.isnan(means[used]).any():
        return float("nan"), float("nan"), n, kish_n_eff(w)
    est = float(coef[used] @ means[used])
    if n < 2:
        return est, float("nan"), n, kish_n_eff(w)
    z = wr[:, used] * (filled[:, used] - means[used]) / total[used]
    u = z @ coef[used]
    return est, math.sqrt(n / (n - 1) * float(u @ u)), n, kish_n_eff(w)


def design_index_se(scores: np.ndarray, coef: np.ndarray, design: SurveyDesign, domain=None) -> float:
    """Design-based SE of :func:`linear_index` (in ``domain``) under a complex ``design``.

    The linearised values are those of :func:`linear_index`, their total's variance the design's
    (strata, clusters, fpc, raking): R's ``svycontrast(svymean(~x1 + ... + xk, design), coef)``,
    or ``svyby`` for a domain.
    """
    s = np.asarray(scores, dtype=float)
    keep = np.ones(len(s), dtype=bool) if domain is None else np.asarray(domain, dtype=bool)
    answered = ~np.isnan(s) & keep[:, None]
    wr = design.weights[:, None] * answered
    total = wr.sum(axis=0)
    filled = np.where(answered, s, 0.0)
    used = coef != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (wr * filled).sum(axis=0) / total
        u = (wr[:, used] * (filled[:, used] - means[used]) / total[used]) @ coef[used]
    return math.sqrt(design.cov(u, present=keep)) if np.isfinite(u).all() else float("nan")


def _dimension_scores(frame: pd.DataFrame, spec: Spec, names: Sequence[str], column: str = "perception") -> np.ndarray:
    dims = {d.name: d for d in spec.dimensions}
    cols = [getattr(dims[n], column) for n in names]
    x = numeric_view(frame, cols).to_numpy().copy()
    for j, n in enumerate(names):
        x[:, j] = on_100(x[:, j], dims[n].scale.low, dims[n].scale.high)
    return x


def _available_means(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    answered = ~np.isnan(x)
    wr = w[:, None] * answered
    with np.errstate(invalid="ignore", divide="ignore"):
        return (wr * np.where(answered, x, 0.0)).sum(axis=0) / wr.sum(axis=0)


def _derived_weights(sat: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    keep = ~np.isnan(sat) & ~np.isnan(x).any(axis=1)
    r = weighted_correlation(np.column_stack([sat[keep], x[keep]]), w[keep])
    rw = relative_weights(r[1:, 1:], r[0, 1:])
    return rw / rw.sum()


def _boot_weights(kind: str, plan, w: np.ndarray, sat: np.ndarray, x: np.ndarray, imp: np.ndarray | None) -> np.ndarray:
    """Index weights in every bootstrap replicate (NaN rows where a replicate is degenerate)."""
    c = plan.counts
    if kind == "stated":
        answered = ~np.isnan(imp)
        num = c @ unit_sums(plan, w[:, None] * np.where(answered, imp, 0.0))
        den = c @ unit_sums(plan, w[:, None] * answered)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = num / den
        return means / means.sum(axis=1, keepdims=True)
    complete = ~np.isnan(sat) & ~np.isnan(x).any(axis=1)
    data = np.where(complete[:, None], np.column_stack([sat, x]), 0.0)
    _, _, cov = replicate_moments(plan, data, w * complete)
    out = np.full((len(c), x.shape[1]), np.nan)
    flat = 1e-12 * np.abs(data).max(axis=0)
    for b in range(len(c)):
        sd = np.sqrt(np.clip(np.diag(cov[b]), 0, None))
        if (sd <= flat).any():
            continue
        r = cov[b] / np.outer(sd, sd)
        try:
            rw = relative_weights(r[1:, 1:], r[0, 1:])
        except DegenerateDataError:
            continue
        out[b] = rw / rw.sum()
    return out


def weighted_index(frame: pd.DataFrame, spec: Spec, previous: list[Estimate] | None = None, *,
                   seed: int = SEED, level: float = CONFIDENCE,
                   sample_design: SurveyDesign | None = None) -> WeightedIndex | None:
    """The weighted-average satisfaction index ``index.csi`` of the spec's ``index`` key.

    Parameters
    ----------
    frame : DataFrame
        Clean rows.
    spec : Spec
        Must have ``index``; None is returned otherwise.
    previous : list of Estimate, optional
        The previous wave's estimates; its ``index.csi`` gives ``change``.
    seed : int
        Seed of the bootstrap (stated and derived weights).
    level : float
    sample_design : SurveyDesign, optional
        The design of ``frame``'s rows (a batch segment's: the whole wave's, restricted); by
        default the spec's design of ``frame``. Under a complex design (strata, clusters, fpc,
        raking) the given-weights index has a design-based SE and segments are its domains.

    Returns
    -------
    WeightedIndex or None
        None when the spec has no ``index`` or no row answers its dimensions.

    Notes
    -----
    R equivalent for given weights and complete answers:
    ``svycontrast(svymean(~s1 + s2 + s3, svydesign(ids = ~1, weights = ~w, data = d)), a)``.
    """
    ix = spec.index
    if ix is None:
        return None
    names = list(ix.dimensions)
    dims = {d.name: d for d in spec.dimensions}
    x = _dimension_scores(frame, spec, names)
    w = row_weights(frame, spec)
    ok = np.isfinite(w) & (w > 0)
    x, w = x[ok], w[ok]
    sub = frame[ok]
    if not (~np.isnan(x)).any():
        return None
    notes: list[str] = []
    sat = pd.to_numeric(sub[spec.satisfaction.column], errors="coerce").to_numpy(float)
    imp = _dimension_scores(sub, spec, names, "importance") if ix.weights == "stated" else None
    if ix.weights == "given":
        raw = np.array([ix.given[n] for n in names], dtype=float)
        a = raw / raw.sum()
    elif ix.weights == "stated":
        a = _available_means(imp, w)
        if np.isnan(a).any() or a.sum() <= 0:
            return None
        a = a / a.sum()
    else:
        try:
            a = _derived_weights(sat, x, w)
        except DegenerateDataError as exc:
            notes.append(f"Derived weights are not defined on these data ({exc}).")
            return None
    est, se_lin, n, n_eff = linear_index(x, w, a)
    means = _available_means(x, w)
    a_lo = a_hi = np.full(len(a), np.nan)
    boot = 0
    if sample_design is not None and not ok.all():
        sample_design = sample_design.subset(ok)
    design = design_of(sub, spec, sample_design)
    design = design if design is not None and design.is_complex else None  # weights alone: se_lin is svycontrast's
    if ix.weights == "given" and design is not None:
        se = design_index_se(x, a, design)
        n_eff = n_eff * (se_lin / se) ** 2 if se > 0 else n_eff  # n / deff: the weights' and the design's
        lo, hi = t_interval(est, se, design.degf(), level)
        method = (f"weighted-average index, given weights; design-based SE (strata, clusters, fpc, raking), "
                  f"t interval (design df = {design.degf()})")
    elif ix.weights == "given":
        lo, hi = t_interval(est, se_lin, n - 1, level)
        se = se_lin
        method = "weighted-average index, given weights; linearised (design-based) SE, t interval (df = n - 1)"
    else:
        rng = np.random.default_rng(seed)
        plan = resample_plan(len(x), ix.bootstrap, rng)
        num = plan.counts @ unit_sums(plan, w[:, None] * np.where(np.isnan(x), 0.0, x))
        den = plan.counts @ unit_sums(plan, w[:, None] * ~np.isnan(x))
        with np.errstate(invalid="ignore", divide="ignore"):
            m_b = num / den
        a_b = _boot_weights(ix.weights, plan, w, sat, x, imp)
        reps = np.einsum("bk,bk->b", a_b, m_b)
        good = np.isfinite(reps)
        boot = int(good.sum())
        if boot < len(reps):
            notes.append(f"{len(reps) - boot} of {len(reps)} bootstrap replicates were degenerate and left out.")
        q = (1 - level) / 2
        if boot >= 2:
            lo, hi = (float(v) for v in np.quantile(reps[good], [q, 1 - q]))
            se = float(reps[good].std(ddof=1))
            a_lo, a_hi = np.quantile(a_b[good], [q, 1 - q], axis=0)
        else:
            lo = hi = se = float("nan")
        method = (f"weighted-average index, {ix.weights} weights; bootstrap percentile interval "
                  f"({boot} replicates, weights re-estimated in each)")
        if plan.grouped:
            method += f"; rows pooled into {plan.n_units} random groups"
    rows = []
    for j, name in enumerate(names):
        d = dims[name]
        m = weighted_mean(x[:, j], w)
        native = d.scale.low + m.mean * d.scale.width / 100.0
        rows.append({"dimension": name, "label": d.title, "weight": float(a[j]), "weight_ci_low": float(a_lo[j]),
                     "weight_ci_high": float(a_hi[j]), "mean": float(native), "score": float(means[j]),
                     "score_se": float(m.se), "n": m.n, "contribution": float(a[j] * means[j])})
    table = pd.DataFrame(rows)
    csi = Estimate("index.csi", est, lo, hi, n, n_eff, se=se, method=method)
    segments = _segment_indices(sub, spec, x, w, a, level, design)
    change = None
    if previous:
        change = index_changes([csi], previous)
        change = change[0] if change else None
    return WeightedIndex(ix.weights, table, csi, segments, change, boot, notes)


def _segment_indices(frame: pd.DataFrame, spec: Spec, x: np.ndarray, w: np.ndarray, a: np.ndarray,
                     level: float, design: SurveyDesign | None = None) -> list[Estimate]:
    out: list[Estimate] = []
    tested: list[int] = []
    method = "total sample's weights applied to the segment's means; linearised SE given the weights, t interval"
    for col in spec.segments:
        labels = frame[col].astype(object).where(frame[col].notna(), MISSING_SEGMENT).astype(str).to_numpy()
        counts = pd.Series(labels).value_counts()
        allowed = [v for v in spec.categories.get(col, ()) if v in counts.index]
        for value in allowed + [v for v in counts.index if v not in allowed]:
            mask = labels == value
            seg = {col: str(value)}
            base = int(mask.sum())
            if base < spec.quality.min_base:
                out.append(Estimate("index.csi", None, n=base, segment=seg, suppressed=True,
                                    method=f"suppressed: base {base} < min_base {spec.quality.min_base}"))
                continue
            est, se, n, n_eff = linear_index(x[mask], w[mask], a)
            df = n - 1
            if design is not None:  # a domain of the whole design
                se_lin, se, df = se, design_index_se(x, a, design, mask), design.degf(mask)
                n_eff = n_eff * (se_lin / se) ** 2 if se > 0 else n_eff
            lo, hi = t_interval(est, se, df, level)
            e = Estimate("index.csi", est, lo, hi, n, n_eff, se=se, segment=seg, method=method)
            if (~mask).sum() > 1 and n > 1:
                r_est, r_se, r_n, r_neff = linear_index(x[~mask], w[~mask], a)
                if r_n > 1 and math.isfinite(r_se):
                    test = welch_test(MeanEstimate(est, se, n, n_eff), MeanEstimate(r_est, r_se, r_n, r_neff))
                    e = e.with_(p=test.p, method=f"{method}; vs rest: Welch t")
                    tested.append(len(out))
            out.append(e)
    for i, p_adj in zip(tested, holm([out[i].p for i in tested])):
        if not np.isnan(p_adj):
            out[i] = out[i].with_(p_adjusted=float(p_adj), significant=bool(p_adj < ALPHA))
    return out


def index_changes(current: list[Estimate], previous: list[Estimate], level: float = CONFIDENCE) -> list[Estimate]:
    """``change.index.*`` estimates: each total ``index.*`` estimate minus the previous wave's.

    Welch's t when both waves' intervals are linearised (fixed weights), else a z test on the
    two standard errors (bootstrap). The changes form one family, Holm-adjusted.
    """
    prev = {e.id: e for e in previous if e.segment is None and not e.suppressed and e.estimate is not None
            and e.id.startswith("index.")}
    out: list[Estimate] = []
    for e in current:
        if e.segment is not None or e.suppressed or e.estimate is None or e.id not in prev:
            continue
        p = prev[e.id]
        if e.se is None or p.se is None or not (math.isfinite(e.se) and math.isfinite(p.se)):
            continue
        linear = all("linearised" in (x.method or "") for x in (e, p))
        if linear:
            test = welch_test(MeanEstimate(e.estimate, e.se, e.n, e.n_eff or e.n),
                              MeanEstimate(p.estimate, p.se, p.n, p.n_eff or p.n), level)
        else:
            test = z_test(e.estimate, e.se, p.estimate, p.se, level, method="z (bootstrap SEs)")
        out.append(Estimate(f"change.{e.id}", test.difference, test.ci_low, test.ci_high, e.n, e.n_eff, p=test.p,
                            se=test.se, method=test.method))
    for i, p_adj in enumerate(holm([e.p for e in out])):
        if not np.isnan(p_adj):
            out[i] = out[i].with_(p_adjusted=float(p_adj), significant=bool(p_adj < ALPHA))
    return out


# ----------------------------------------------------------------------------------------------
# the structural model


def satisfaction_index(frame: pd.DataFrame, spec: Spec, previous: list[Estimate] | None = None, *,
                       seed: int = SEED, sample_design: SurveyDesign | None = None
                       ) -> tuple[IndexAnalysis | None, dict[str, str]]:
    """The weighted CSI and the structural model the spec asks for, with changes from ``previous``.

    Returns
    -------
    (IndexAnalysis or None, skipped)
        ``skipped`` maps ``index`` / ``index_model`` to the sentence saying why that part is
        missing (the spec leaves it out, or the data cannot support it).
    """
    skipped: dict[str, str] = {}
    if spec.index is None and spec.index_model is None:
        skipped["index"] = "Satisfaction index: the spec has neither an index nor an index_model key."
        return None, skipped
    csi = weighted_index(frame, spec, previous, seed=seed, sample_design=sample_design) if spec.index else None
    if spec.index and csi is None:
        skipped["index"] = ("Weighted satisfaction index: no respondent answered its dimensions, or its weights "
                            "are not defined on these data.")
    model, reason = index_model(frame, spec, seed=seed) if spec.index_model else (None, None)
    if reason:
        skipped["index_model"] = reason
    if csi is None and model is None:
        return None, skipped
    changes: list[Estimate] = []
    if previous:  # one family of tests for every index compared
        current = ([csi.csi] if csi else []) + (model.estimates() if model else [])
        changes = index_changes(current, previous)
        if csi is not None:
            csi.change = next((c for c in changes if c.id == "change.index.csi"), None)
    return IndexAnalysis(csi=csi, model=model, changes=changes), skipped
