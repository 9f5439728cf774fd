"""How the report words numbers: one format per quantity, p values, changes and their size.

:func:`describe_change` is the one place that words a change, so the report never calls a
difference a rise or a fall without saying whether the test supports it, nor a significant
but tiny change a big one. Every number of one kind is printed by one function here
(:func:`fmt`), so a table and a chart never disagree on decimals.
"""
from __future__ import annotations

import math
from typing import Any

from ..results import Estimate, kpi_kind

__all__ = ["KPI_LABELS", "format_p", "format_estimate", "describe_change", "fmt", "fmt_ci", "fmt_change",
           "is_small_change", "SMALL_CHANGE", "kind_of", "plural", "finite"]


KPI_LABELS = {"satisfaction.score": "Satisfaction score", "satisfaction.index": "Satisfaction index",
              "satisfaction.rate": "Satisfaction rate", "nps": "NPS"}

# A significant change smaller than this is worded "significant but small". Means: a share of
# the answer scale's width (0.03 × 9 = 0.27 points on 1-10); rates in proportion (3 points);
# NPS and 0-100 indices in their own points.
SMALL_CHANGE = {"mean": 0.03, "rate": 0.03, "nps": 5.0, "index": 3.0}


def finite(*values: Any) -> bool:
    """True when every value is a finite real number (not None, not NaN)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def kind_of(id: str) -> str:
    """The quantity an estimate id holds: ``mean``, ``index``, ``rate``, ``nps``, ``share``
    (importance, 0-1) or ``gap``."""
    if id.startswith("change."):
        return kind_of(id[len("change."):])
    if id.startswith("driver."):
        return "share"
    if id.startswith("gap.") and not id.endswith(".unmet"):
        return "gap"
    if id.endswith(".share"):
        return "rate"
    return kpi_kind(id)


def fmt(kind: str, value: Any) -> str:
    """One number as the report prints every number of its kind.

    Examples
    --------
    >>> fmt("mean", 7.2246), fmt("rate", 0.44982), fmt("nps", 26.32), fmt("share", 0.3277), fmt("gap", -1.114)
    ('7.22', '45.0%', '26.3', '33%', '−1.11')
    """
    if not finite(value):
        return "–"
    if kind == "rate":
        return f"{100 * value:.1f}%"
    if kind == "share":
        return f"{100 * value:.0f}%"
    if kind in ("nps", "index"):
        return _minus(f"{value:.1f}")
    if kind == "gap":
        return _minus(f"{value:+.2f}")
    if kind == "count":
        return f"{value:,.0f}"
    return _minus(f"{value:.2f}")


def fmt_ci(kind: str, low: Any, high: Any) -> str:
    """An interval in the same format as its estimate: ``7.17–7.28``, ``43.2–46.8%``."""
    if not finite(low, high):
        return "–"
    if kind in ("rate", "share"):
        return f"{fmt(kind, low)[:-1]}–{fmt(kind, high)}"
    sep = " to " if (low < 0 or high < 0 or kind == "gap") else "–"
    return f"{fmt(kind, low)}{sep}{fmt(kind, high)}"


def fmt_change(kind: str, delta: Any) -> str:
    """A change between waves: ``+0.16``, ``+4.4 pts`` (rates, percentage points), ``+6.6``."""
    if not finite(delta):
        return "–"
    if kind == "rate":
        return _minus(f"{100 * delta:+.1f} pts")
    if kind in ("nps", "index"):
        return _minus(f"{delta:+.1f}")
    return _minus(f"{delta:+.2f}")


def _minus(text: str) -> str:
    return text.replace("-", "−")


def is_small_change(kind: str, delta: float, scale_width: float | None = None) -> bool:
    """Whether a change is below the stated size threshold (:data:`SMALL_CHANGE`)."""
    if not finite(delta):
        return False
    if kind == "mean":
        return scale_width is not None and abs(delta) < SMALL_CHANGE["mean"] * scale_width
    return abs(delta) < SMALL_CHANGE.get(kind, 0.0)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 row``, ``3 rows``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def format_p(p: float | None) -> str:
    """``p = 0.012`` / ``p < 0.001``."""
    if not finite(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def format_estimate(id: str, value: float | None) -> str:
    """A KPI value as the report prints it: rates in %, NPS and index with one decimal."""
    return fmt(kind_of(id), value)


def describe_change(label: str, current: Estimate, change: Estimate | None, previous_wave: str | None = None,
                    scale_width: float | None = None) -> str:
    """The sentence the report prints about a KPI and its change since the previous wave.

    Only a change whose (Holm-adjusted) test is significant is called a rise or a fall, and a
    significant change under :data:`SMALL_CHANGE` is called small.

    Examples
    --------
    >>> cur = Estimate("nps", 31.0)
    >>> describe_change("NPS", cur, Estimate("change.nps", 7.2, p=0.004, p_adjusted=0.012, significant=True))
    'NPS rose 7.2 points to 31.0, a significant change (p = 0.012, Holm-adjusted).'
    >>> describe_change("NPS", cur, Estimate("change.nps", 4.2, p=0.001, p_adjusted=0.002, significant=True))
    'NPS rose 4.2 points to 31.0, a significant but small change (p = 0.002, Holm-adjusted).'
    >>> describe_change("NPS", cur, Estimate("change.nps", 4.2, p=0.31, p_adjusted=0.31, significant=False))
    'NPS is 31.0, 4.2 points above the previous wave: a change within sampling noise (p = 0.310, Holm-adjusted).'
    """
    kind = kind_of(current.id)
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
        small = " but small" if is_small_change(kind, change.estimate, scale_width) else ""
        return f"{label} {verb} {size} to {now}, a significant{small} change ({p_text})."
    if round(d, decimals) == 0:
        return f"{label} is {now}, the same as {since} ({p_text})."
    where = "above" if d > 0 else "below"
    return f"{label} is {now}, {size} {where} {since}: a change within sampling noise ({p_text})."
