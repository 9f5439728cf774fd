"""Headline KPIs, per segment, with intervals and segment-vs-rest tests.

* ``satisfaction.score``: (weighted) mean on the native scale, t interval (df = n - 1).
* ``satisfaction.index``: the same on 0-100, ``100 (mean - min) / (max - min)``.
* ``satisfaction.rate``: share at or above ``top_box``, Wilson interval on Kish n_eff.
* ``nps``: mean of 100 / 0 / -100 scores, normal interval on its linearised SE.
* ``loyalty.<column>.score``: mean of each loyalty item, t interval (``loyalty.<column>.rate``,
  the share of positive answers, for a binary item).
* ``dimension.<name>.score``: mean perception of each dimension (a composite's score for a
  composite), t interval; ``dimension.<name>.not_applicable``: the share of respondents for whom
  the dimension does not apply (every answer they gave to its perception items is a
  not-applicable code), Wilson interval on n_eff, for dimensions that have a not-applicable code.

A binary satisfaction item (``type: binary``) has a rate only: the share of positive answers.
A mean score or a 0-100 index of a 0/1 answer would only repeat the rate.

Each KPI uses the rows that have a substantive answer to its input (skipped questions and
non-substantive answers such as "don't know" are left out) and states its base: ``n`` is the
base after exclusions, and the method says how many non-substantive answers were excluded.
When the spec is design-based (a weight, ``weighting:`` or ``design:``;
:func:`csatlib.sampling.design_based`) every SE comes from the sample design
(:meth:`csatlib.stats.survey.SurveyDesign.mean`, R's ``svymean``/``svyby``): a skipped answer
and a segment are domains of the whole sample. With a complex design (strata, clusters, fpc or
raking) the t intervals and tests use the design's degrees of freedom (PSUs − strata), rates
use Wilson on the design's effective n (n / deff), NPS a t interval on the design df, and a
segment is compared with the rest of the sample by a design-based t test of the difference
(the two share PSUs, so they are not independent samples). Without a design the textbook
formulas apply, segment by segment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from scipy import stats as _st

from ..frame import KIND_CODES, MISSING_SEGMENT, code_column, row_weights, segment_order
from ..results import Estimate
from ..sampling import design_of
from ..spec import Dimension, Item, Spec
from ..stats.estimators import (ALPHA, MeanEstimate, TestResult, holm, nps_scores, t_interval, two_proportion_z_test, weighted_mean, welch_test, wilson_interval, z_interval, z_test)
from ..stats.partition import partition_means
from ..stats.survey import SurveyDesign

__all__ = ["kpis", "segment_kpis", "kpi_inputs", "KpiInput", "ALPHA", "kpi_test", "dimension_inputs",
           "dimension_kpis", "segment_dimension_kpis", "not_applicable_indicator", "design_test"]



@dataclass(frozen=True)
class KpiInput:
    """What one KPI is computed from: per-row values (NaN = not answered) and its kind."""

    id: str
    values: np.ndarray
    kind: str  # "mean", "index", "rate", "nps"
    item: Item | Dimension
    excluded: np.ndarray | None = None  # rows whose answer is non-substantive (left out of the base)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _non_substantive(frame: pd.DataFrame, columns) -> np.ndarray | None:
    """Rows with a non-substantive answer (a code) to any of ``columns``; None when none can have one."""
    cols = [code_column(c) for c in columns if code_column(c) in frame.columns]
    if not cols:
        return None
    return (frame[cols].to_numpy() > 0).any(axis=1)


def kpi_inputs(frame: pd.DataFrame, spec: Spec) -> list[KpiInput]:
    """Per-row inputs of every headline KPI the spec allows, in report order.

    ``frame`` holds analysis values (the clean rows of a validation: codes missing, binary items
    1/0, reversed items reversed).
    """
    sat = spec.satisfaction
    y = _numbers(frame, sat.column)
    sat_codes = _non_substantive(frame, [sat.column])
    if sat.binary:
        out = [KpiInput("satisfaction.rate", y, "rate", sat, sat_codes)]
    else:
        rate = np.where(np.isnan(y), np.nan, (y >= sat.top_box).astype(float))
        out = [KpiInput("satisfaction.score", y, "mean", sat, sat_codes),
               KpiInput("satisfaction.index", y, "index", sat, sat_codes),
               KpiInput("satisfaction.rate", rate, "rate", sat, sat_codes)]
    if spec.nps:
        rec = _numbers(frame, spec.nps.column)
        out.append(KpiInput("nps", nps_scores(rec), "nps", spec.nps, _non_substantive(frame, [spec.nps.column])))
    for it in spec.loyalty:
        v = _numbers(frame, it.column)
        codes = _non_substantive(frame, [it.column])
        if it.binary:
            out.append(KpiInput(f"loyalty.{it.column}.rate", v, "rate", it, codes))
        else:
            out.append(KpiInput(f"loyalty.{it.column}.score", v, "mean", it, codes))
    return out


def not_applicable_indicator(frame: pd.DataFrame, columns) -> np.ndarray:
    """Per respondent: 1 when every answer given to ``columns`` is a not-applicable code, 0 when
    some answer is a rating or another code, NaN when every column is blank."""
    n = len(frame)
    answered = np.zeros(n, dtype=int)
    na = np.zeros(n, dtype=int)
    for col in columns:
        rated = frame[col].notna().to_numpy() if col in frame.columns else np.zeros(n, bool)
        kinds = (frame[code_column(col)].to_numpy() if code_column(col) in frame.columns
                 else np.zeros(n, dtype=np.int8))
        answered += rated | (kinds > 0)
        na += kinds == KIND_CODES["not_applicable"]
    return np.where(answered > 0, (na == answered).astype(float), np.nan)


def _has_not_applicable(frame: pd.DataFrame, spec: Spec, d: Dimension) -> bool:
    for col in d.perception_columns:
        try:
            if spec.answer(col).codes.not_applicable:
                return True
        except KeyError:
            pass
        if code_column(col) in frame.columns and (frame[code_column(col)].to_numpy() == KIND_CODES["not_applicable"]).any():
            return True
    return False


def dimension_inputs(frame: pd.DataFrame, spec: Spec) -> list[KpiInput]:
    """Per-row inputs of ``dimension.<name>.score`` and ``dimension.<name>.not_applicable``."""
    out = []
    for d in spec.dimensions:
        if d.perception not in frame.columns:
            continue
        codes = _non_substantive(frame, d.perception_columns)
        out.append(KpiInput(f"dimension.{d.name}.score", _numbers(frame, d.perception), "mean", d, codes))
        if _has_not_applicable(frame, spec, d):
            out.append(KpiInput(f"dimension.{d.name}.not_applicable",
                                not_applicable_indicator(frame, d.perception_columns), "na_share", d))
    return out


def _estimate(inp: KpiInput, m: MeanEstimate, segment: dict | None, mask: np.ndarray | None = None) -> Estimate:
    """Turn a mean of the KPI's per-row values into the KPI's estimate and interval."""
    est = _interval(inp, m, segment)
    if inp.excluded is not None and m.n:
        # rows left out of the base because of a non-substantive answer (a composite scored from
        # its other items keeps the respondent)
        left_out = inp.excluded & np.isnan(inp.values)
        excluded = int((left_out if mask is None else left_out[mask]).sum())
        if excluded:
            est = est.with_(method=f"{est.method}; base {m.n:,} excludes {excluded:,} respondent"
                                   f"{'s' if excluded != 1 else ''} with a non-substantive answer (not applicable, "
                                   f"don't know, refused)")
    return est


def _interval(inp: KpiInput, m: MeanEstimate, segment: dict | None) -> Estimate:
    """The estimate and interval of one KPI from the mean of its per-row values.

    ``m.design_df`` is set when the sample has a complex design: the intervals then use the
    design's degrees of freedom and effective n.
    """
    if m.n == 0:
        return Estimate(inp.id, None, None, None, 0, 0.0, segment=segment)
    complex_design = m.design_df is not None
    df = float(m.df) if complex_design else None
    if inp.kind in ("rate", "na_share"):
        lo, hi = wilson_interval(m.mean, m.n_eff)
        method = ("Wilson interval on the design's effective n (n / deff)" if complex_design
                  else "Wilson interval on Kish n_eff")
        if inp.kind == "na_share":
            method = ("share of respondents answering 'not applicable' to every perception item they answered; "
                      + method)
        return Estimate(inp.id, m.mean, lo, hi, m.n, m.n_eff, se=m.se, segment=segment, df=df, method=method)
    if inp.kind == "nps":
        if complex_design:
            lo, hi = t_interval(m.mean, m.se, m.df)
            method = f"t interval on the design df ({m.df:g}), design-based SE of the 100/0/-100 score"
        else:
            lo, hi = z_interval(m.mean, m.se)
            method = "normal interval, linearised SE of the 100/0/-100 score"
        return Estimate(inp.id, m.mean, lo, hi, m.n, m.n_eff, se=m.se, segment=segment, df=df, method=method)
    lo, hi = t_interval(m.mean, m.se, m.df)
    t_text = f"t interval (design df = {m.df:g})" if complex_design else "t interval (df = n - 1)"
    if inp.kind == "index":
        scale = inp.item.scale
        f = 100.0 / scale.width
        return Estimate(inp.id, (m.mean - scale.low) * f, (lo - scale.low) * f, (hi - scale.low) * f,
                        m.n, m.n_eff, se=m.se * f, segment=segment, df=df, method=f"{t_text}, 0-100")
    return Estimate(inp.id, m.mean, lo, hi, m.n, m.n_eff, se=m.se, segment=segment, df=df, method=t_text)


def _mean_of(design: SurveyDesign | None, values: np.ndarray, w: np.ndarray, domain=None) -> MeanEstimate:
    """The design-based domain mean, or (no design) the textbook mean of the domain's rows."""
    if design is not None:
        return design.mean(values, domain)
    if domain is None:
        return weighted_mean(values, w)
    return weighted_mean(values[domain], w[domain])


def _partition_means(design: SurveyDesign | None, values: np.ndarray, w: np.ndarray, groups: np.ndarray,
                     n_groups: int) -> list[tuple[MeanEstimate, MeanEstimate]] | None:
    """:func:`_mean_of` of every group and of the rest of the rows at once; None for a complex
    design (its domains are estimated one at a time)."""
    if design is not None:
        return design.partition_means(values, groups, n_groups)
    return partition_means(values, w, groups, n_groups)


def kpis(frame: pd.DataFrame, spec: Spec, segment: dict | None = None,
         sample_design: SurveyDesign | None = None) -> list[Estimate]:
    """Headline KPIs of the rows in ``frame`` (weighted when the spec has a weight).

    Parameters
    ----------
    frame : DataFrame
        Clean rows (after validation).
    spec : Spec
    segment : dict, optional
        Label stored on each estimate, e.g. ``{"region": "华东"}``.
    sample_design : SurveyDesign, optional
        The design of ``frame``'s rows when they are a domain of a larger sample (a batch
        segment: the whole wave's design restricted to them, :class:`csatlib.sampling.Domain`);
        default: the design of ``frame`` itself when the spec is design-based.

    Returns
    -------
    list of Estimate
    """
    design = design_of(frame, spec, sample_design)
    w = row_weights(frame, spec) if design is None else design.weights
    return [_estimate(inp, _mean_of(design, inp.values, w), segment) for inp in kpi_inputs(frame, spec)]


def dimension_kpis(frame: pd.DataFrame, spec: Spec, segment: dict | None = None,
                   sample_design: SurveyDesign | None = None) -> list[Estimate]:
    """``dimension.<name>.score`` and ``.not_applicable`` of the rows in ``frame`` (weighted when
    the spec has a weight); each over the respondents with a substantive answer. ``sample_design``
    as for :func:`kpis`.

    Examples
    --------
    >>> # R: svymean(~p_quality, svydesign(ids = ~1, weights = ~weight, data = clean), na.rm = TRUE)
    """
    design = design_of(frame, spec, sample_design)
    w = row_weights(frame, spec) if design is None else design.weights
    return [_estimate(inp, _mean_of(design, inp.values, w), segment) for inp in dimension_inputs(frame, spec)]


def kpi_test(kind: str, a: MeanEstimate, b: MeanEstimate) -> TestResult:
    """The test the statistics contract prescribes for comparing one KPI between two independent groups."""
    if kind == "rate":
        return two_proportion_z_test(a.mean, a.n_eff, b.mean, b.n_eff)
    if kind == "nps":
        return z_test(a.mean, a.se, b.mean, b.se)
    return welch_test(a, b)


def segment_kpis(frame: pd.DataFrame, spec: Spec, columns: Iterable[str] | None = None,
                 sample_design: SurveyDesign | None = None) -> list[Estimate]:
    """Headline KPIs for every value of every segment column, each tested against the rest of the sample.

    Segments whose base (rows) is below ``quality.min_base`` are listed with ``suppressed=True``
    and no estimate. The p values of all segment-vs-rest tests form one family, Holm-adjusted
    at once; ``significant`` is ``p_adjusted < 0.05``. Rows with no segment value form the
    ``(missing)`` group rather than being dropped.

    With a design-based spec each segment is a domain of the whole sample (R's ``svyby``); with
    a complex design the segment-vs-rest test is a design-based t test of the difference on the
    design's degrees of freedom. ``sample_design`` as for :func:`kpis`.
    """
    return _segment_estimates(frame, spec, kpi_inputs(frame, spec), columns, sample_design)


def segment_dimension_kpis(frame: pd.DataFrame, spec: Spec, columns: Iterable[str] | None = None,
                           sample_design: SurveyDesign | None = None) -> list[Estimate]:
    """Dimension scores per segment value, tested against the rest of the sample as
    :func:`segment_kpis` does. The dimension tests form their own Holm family, so adding
    attributes to a questionnaire never weakens the tests of the headline KPIs."""
    return _segment_estimates(frame, spec, dimension_inputs(frame, spec), columns, sample_design)


def _segment_estimates(frame: pd.DataFrame, spec: Spec, inputs: list[KpiInput],
                       columns: Iterable[str] | None, sample_design: SurveyDesign | None) -> list[Estimate]:
    columns = list(spec.segments if columns is None else columns)
    design = design_of(frame, spec, sample_design)
    w = row_weights(frame, spec) if design is None else design.weights
    out: list[Estimate] = []
    tested: list[int] = []
    for col in columns:
        label_of, labels = _segment_labels(frame[col])
        values = _ordered_values(label_of, labels, segment_order(spec, col))
        position = {v: i for i, v in enumerate(values)}
        groups = np.array([position[v] for v in labels], dtype=np.int64)[label_of]
        # each segment and the rest of the sample, for every input at once (None: one domain at a time)
        split = [_partition_means(design, inp.values, w, groups, len(values)) for inp in inputs]
        for g, value in enumerate(values):
            mask = groups == g
            seg = {col: value}
            base = int(mask.sum())
            if base < spec.quality.min_base:
                out += [Estimate(inp.id, None, n=base, segment=seg, suppressed=True,
                                 method=f"suppressed: base {base} < min_base {spec.quality.min_base}")
                        for inp in inputs]
                continue
            for inp, parts in zip(inputs, split):
                pair = parts[g] if parts is not None else None
                m_in = pair[0] if pair else _mean_of(design, inp.values, w, mask)
                est = _estimate(inp, m_in, seg, mask)
                if inp.kind != "index" and len(mask) - base > 1 and m_in.n > 1:
                    kind = "rate" if inp.kind == "na_share" else inp.kind
                    if design is not None and design.is_complex:
                        test = design_test(design, inp.values, mask)
                    else:
                        test = kpi_test(kind, m_in, pair[1] if pair else _mean_of(design, inp.values, w, ~mask))
                    if test is not None:
                        est = est.with_(p=test.p, method=f"{est.method}; vs rest: {test.method}")
                        tested.append(len(out))
                out.append(est)
    adjusted = holm([out[i].p for i in tested])
    for i, p_adj in zip(tested, adjusted):
        if not np.isnan(p_adj):
            out[i] = out[i].with_(p_adjusted=float(p_adj), significant=bool(p_adj < ALPHA))
    return out


def design_test(design: SurveyDesign, values: np.ndarray, mask: np.ndarray) -> TestResult | None:
    """Domain ``mask`` against the rest of the sample: design-based t test of the difference of means.

    R: ``svycontrast(svyby(~y, ~in_segment, design, svymean), c(-1, 1))`` with a t reference
    on ``degf(design)``.
    """
    c = design.difference(values, mask, ~mask)
    if not (c.se > 0 and np.isfinite(c.se)):
        return None
    t = c.difference / c.se
    df = max(c.df, 1.0)
    lo, hi = t_interval(c.difference, c.se, df)
    return TestResult(c.difference, c.se, lo, hi, float(2 * _st.t.sf(abs(t), df)), t, df,
                      f"design-based t test of the difference (df = {df:g})")


def _segment_labels(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's segment label (its value as text, ``(missing)`` for none) as (code per row, label
    per code); labelled per distinct value, not per row."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    names = [str(u) for u in uniques] + ([MISSING_SEGMENT] if (codes < 0).any() else [])
    distinct = list(dict.fromkeys(names))  # two values may read alike (1 and "1")
    at = {name: i for i, name in enumerate(distinct)}
    label_of = np.array([at[name] for name in names], dtype=np.int64)[codes]  # code -1 (missing) is the last
    return label_of, distinct


def _ordered_values(label_of: np.ndarray, labels: list[str], allowed: tuple[str, ...] | None) -> list[str]:
    """Allowed categories first in spec order, then any other value by size (equal sizes in the
    order the rows first show them, as ``value_counts`` orders the labels of the rows)."""
    counts = np.bincount(label_of, minlength=len(labels))
    seen = pd.unique(label_of)  # codes in the order of their first row
    by_size = pd.Series(counts[seen], index=[labels[c] for c in seen]).sort_values(ascending=False, kind="stable")
    present = list(by_size.index)
    first = [v for v in (allowed or ()) if v in by_size.index]
    return first + [v for v in present if v not in first]


