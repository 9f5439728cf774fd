"""Wave-over-wave comparison, the trend across earlier waves, and significance-aware wording.

Changes are computed from the two waves' summary estimates (mean, SE, n, n_eff, design df), so
an earlier wave may come from its raw file or from the results.json of an earlier run: Welch t
for scores, the pooled z test with Newcombe's interval for rates, a z test for NPS. The two
waves are independent samples, so the variance of a change is the sum of the two design-based
variances; with a complex design the SEs, effective n and the Welch degrees of freedom (each
wave's design df in place of n − 1) come from the design. The KPIs compared form
one family, Holm-adjusted. :func:`describe_change` is the one place that words a change, so the
report never calls a difference a rise or fall without saying whether the test supports it.
"""
from __future__ import annotations

import math
from typing import Any

from .kpis import ALPHA, kpi_test
from ..results import Estimate, kpi_kind
from ..stats.estimators import MeanEstimate, holm

__all__ = ["compare_waves"]


def _as_mean(e: Estimate) -> MeanEstimate:
    """The summary a test needs; ``df`` is the design's degrees of freedom of a design-based estimate."""
    return MeanEstimate(e.estimate, e.se if e.se is not None else float("nan"), int(e.n or 0),
                        float(e.n_eff if e.n_eff is not None else e.n or 0), design_df=e.df)


def compare_waves(current: list[Estimate], previous: list[Estimate]) -> list[Estimate]:
    """``change.<id>`` estimates (current − previous) for every total KPI both waves have.

    Parameters
    ----------
    current, previous : list of Estimate
        Headline estimates of two waves (segment estimates are ignored).

    Returns
    -------
    list of Estimate
        ``estimate`` is the difference with its interval; ``p`` the test's p value,
        ``p_adjusted`` Holm across the KPIs compared, ``significant`` ``p_adjusted < 0.05``.
        The 0-100 index shares the test of the score it rescales (it is not a second test).
    """
    prev = {e.id: e for e in previous if e.segment is None and not e.suppressed and e.estimate is not None}
    changes: list[Estimate] = []
    family: list[int] = []
    score_test: dict[str, Any] = {}
    for e in current:
        if e.segment is not None or e.suppressed or e.estimate is None or e.id not in prev:
            continue
        kind = kpi_kind(e.id)
        if kind == "index":
            continue
        test = kpi_test(kind, _as_mean(e), _as_mean(prev[e.id]))
        changes.append(Estimate(f"change.{e.id}", test.difference, test.ci_low, test.ci_high, e.n, e.n_eff,
                                p=test.p, se=test.se, method=test.method))
        family.append(len(changes) - 1)
        score_test[e.id] = test
    adjusted = holm([changes[i].p for i in family])
    for i, p_adj in zip(family, adjusted):
        if not math.isnan(p_adj):
            changes[i] = changes[i].with_(p_adjusted=float(p_adj), significant=bool(p_adj < ALPHA))
    # the index change: the score change rescaled, with the score's test
    for e in current:
        if e.segment is None and kpi_kind(e.id) == "index" and e.id in prev and e.estimate is not None:
            base = e.id.removesuffix(".index") + ".score"
            ref = next((c for c in changes if c.id == f"change.{base}"), None)
            if ref is None or prev[e.id].estimate is None:
                continue
            f = (e.estimate - prev[e.id].estimate) / ref.estimate if ref.estimate else 0.0
            changes.append(Estimate(f"change.{e.id}", e.estimate - prev[e.id].estimate,
                                    ref.ci_low * f if f else None, ref.ci_high * f if f else None,
                                    e.n, e.n_eff, p=ref.p, se=(ref.se or 0) * abs(f), p_adjusted=ref.p_adjusted,
                                    significant=ref.significant, method=f"{ref.method} (rescaled score change)"))
    return changes


