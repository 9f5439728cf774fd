"""Wave-over-wave comparison, the trend across earlier waves, and significance-aware wording.

Changes are computed from the two waves' summary estimates (mean, SE, n, n_eff), so an earlier
wave may come from its raw file or from the results.json of an earlier run: Welch t for scores,
the pooled z test with Newcombe's interval for rates, a z test for NPS. The KPIs compared form
one family, Holm-adjusted. :func:`describe_change` is the one place that words a change, so the
report never calls a difference a rise or fall without saying whether the test supports it.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from .metrics import ALPHA, kpi_test
from .results import Estimate
from .stats import MeanEstimate, holm

__all__ = ["compare_waves", "describe_change", "format_p", "collect_trend", "wave_sort_key", "KPI_LABELS",
           "kpi_kind", "format_estimate"]

KPI_LABELS = {"satisfaction.score": "Satisfaction score", "satisfaction.index": "Satisfaction index",
              "satisfaction.rate": "Satisfaction rate", "nps": "NPS"}


def kpi_kind(id: str) -> str:
    """``rate``, ``nps``, ``index`` or ``mean`` for a headline estimate id."""
    if id.endswith(".rate") or id.endswith(".unmet"):
        return "rate"
    if id == "nps":
        return "nps"
    if id.endswith(".index"):
        return "index"
    return "mean"


def _as_mean(e: Estimate) -> MeanEstimate:
    return MeanEstimate(e.estimate, e.se if e.se is not None else float("nan"), int(e.n or 0),
                        float(e.n_eff if e.n_eff is not None else e.n or 0))


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


_NUM = re.compile(r"(\d+)")


def wave_sort_key(label: str):
    """Natural order of wave labels: 2026Q2 < 2026Q10, 2025-12 < 2026-01."""
    return [int(p) if p.isdigit() else p.lower() for p in _NUM.split(str(label))]


def collect_trend(out_dir: str | Path | None, survey: str, current: dict[str, Any] | None = None,
                  ids: tuple[str, ...] = ("satisfaction.score", "satisfaction.index", "satisfaction.rate",
                                          "nps")) -> list[dict[str, Any]]:
    """Headline KPIs of every wave of ``survey`` found in ``out_dir/*/results.json``, oldest first.

    ``current`` (``{"wave": ..., "estimates": [...]}``) replaces a stored wave of the same label.
    Unreadable or foreign results files are skipped: the trend is a view, never a blocker.
    """
    waves: dict[str, list[dict]] = {}
    for path in sorted(Path(out_dir).glob("*/results.json")) if out_dir else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if doc.get("survey") == survey and isinstance(doc.get("estimates"), list):
            waves[str(doc.get("wave"))] = doc["estimates"]
    if current is not None:
        waves[str(current["wave"])] = [e.to_dict() if isinstance(e, Estimate) else e for e in current["estimates"]]
    trend = []
    for wave in sorted(waves, key=wave_sort_key):
        row: dict[str, Any] = {"wave": wave}
        for e in waves[wave]:
            if e.get("segment") is None and e.get("id") in ids:
                row[e["id"]] = {k: e.get(k) for k in ("estimate", "ci_low", "ci_high", "n")}
        trend.append(row)
    return trend
