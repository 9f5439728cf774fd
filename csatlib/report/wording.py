"""How the report words numbers: KPI labels, p values, estimates and changes.

:func:`describe_change` is the one place that words a change, so the report never calls a
difference a rise or a fall without saying whether the test supports it.
"""
from __future__ import annotations

import math

from ..results import Estimate, kpi_kind

__all__ = ["KPI_LABELS", "format_p", "format_estimate", "describe_change"]


KPI_LABELS = {"satisfaction.score": "Satisfaction score", "satisfaction.index": "Satisfaction index",
              "satisfaction.rate": "Satisfaction rate", "nps": "NPS"}


def format_p(p: float | None) -> str:
    """``p = 0.012`` / ``p < 0.001``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def format_estimate(id: str, value: float | None) -> str:
    """A KPI value as the report prints it: rates in %, NPS and index with one decimal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    kind = kpi_kind(id)
    if kind == "rate":
        return f"{100 * value:.1f}%"
    if kind in ("nps", "index"):
        return f"{value:.1f}"
    return f"{value:.2f}"


def describe_change(label: str, current: Estimate, change: Estimate | None, previous_wave: str | None = None) -> str:
    """The sentence the report prints about a KPI and its change since the previous wave.

    Only a change whose (Holm-adjusted) test is significant is called a rise or a fall.

    Examples
    --------
    >>> cur = Estimate("nps", 31.0)
    >>> describe_change("NPS", cur, Estimate("change.nps", 4.2, p=0.004, p_adjusted=0.012, significant=True))
    'NPS rose 4.2 points to 31.0, a significant change (p = 0.012, Holm-adjusted).'
    >>> describe_change("NPS", cur, Estimate("change.nps", 4.2, p=0.31, p_adjusted=0.31, significant=False))
    'NPS is 31.0, 4.2 points above the previous wave: a change within sampling noise (p = 0.310, Holm-adjusted).'
    """
    kind = kpi_kind(current.id)
    now = format_estimate(current.id, current.estimate)
    if change is None or change.estimate is None:
        return f"{label} is {now}; there is no earlier wave to compare with."
    scale = 100.0 if kind == "rate" else 1.0
    unit = "percentage points" if kind == "rate" else "points"
    d = change.estimate * scale
    decimals = 2 if kind == "mean" else 1
    size = f"{abs(d):.{decimals}f} {unit}"
    since = f"wave {previous_wave}" if previous_wave else "the previous wave"
    adjusted = change.p_adjusted is not None
    p_text = format_p(change.p_adjusted if adjusted else change.p) + (", Holm-adjusted" if adjusted else "")
    if change.significant:
        verb = "rose" if d > 0 else "fell"
        return f"{label} {verb} {size} to {now}, a significant change ({p_text})."
    if round(d, decimals) == 0:
        return f"{label} is {now}, the same as {since} ({p_text})."
    where = "above" if d > 0 else "below"
    return f"{label} is {now}, {size} {where} {since}: a change within sampling noise ({p_text})."
