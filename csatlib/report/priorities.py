"""One verdict per attribute: driver importance, performance and the expectation gap together.

The importance-performance grid (Martilla & James 1977) splits attributes at the average
importance and the average performance. An attribute close to a line can land on either side
by sampling noise alone, so an attribute whose 95% interval (bootstrap interval of its
importance, or the interval of its mean perception when the results carry one) crosses a
line is **borderline** and gets no confident verdict. The expectation gap is shown beside the
verdict as evidence, never as a second grid: two grids gave the same attribute two
contradicting verdicts.

This module only reads results; it fits nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..results import Results
from .labels import Labels
from .wording import finite

__all__ = ["Priority", "PriorityTable", "priority_table", "VERDICTS", "BORDERLINE"]

# (important, performs above average) -> verdict, and what it asks of the reader
VERDICTS = {(True, False): ("Improve", "important, performs below average"),
            (True, True): ("Maintain", "important, performs above average"),
            (False, False): ("Monitor", "less important, performs below average"),
            (False, True): ("Possible overkill", "less important, performs above average")}
BORDERLINE = "Borderline"


@dataclass
class Priority:
    """One attribute's row of the priority table."""

    dimension: str
    label: str
    importance: float
    importance_low: float | None
    importance_high: float | None
    performance: float
    performance_low: float | None
    performance_high: float | None
    verdict: str
    why: str
    borderline: bool
    sign: int = 1
    gap: float | None = None
    gap_low: float | None = None
    gap_high: float | None = None
    gap_significant: bool | None = None
    unmet_share: float | None = None
    n: int | None = None

    @property
    def gap_status(self) -> str:
        """``not met``, ``exceeded``, ``met (within noise)`` or ``not asked``."""
        if not finite(self.gap):
            return "not asked"
        if self.gap_significant:
            return "not met" if self.gap < 0 else "exceeded"
        return "met (within noise)"


@dataclass
class PriorityTable:
    """The priority rows plus the two quadrant lines and how performance is measured."""

    rows: list[Priority]
    importance_line: float
    performance_line: float
    performance_unit: str  # "scale" (a shared answer scale) or "index" (0-100, scales differ)
    performance_scale: tuple[float, float] | None
    performance_intervals: bool
    notes: list[str] = field(default_factory=list)

    def get(self, dimension: str) -> Priority | None:
        return next((r for r in self.rows if r.dimension == dimension), None)


def _crosses(low: Any, high: Any, line: float) -> bool:
    return finite(low, high) and low <= line <= high


def priority_table(results: Results, labels: Labels | None = None) -> PriorityTable | None:
    """The priority table of a run, or None when it has no key-driver analysis.

    Importance is the Shapley/LMG share of R² with its bootstrap interval; performance the
    mean perception (``dimension.<d>.score`` with its interval when the results carry it,
    else the driver analysis's mean, without an interval). When the dimensions use different
    answer scales, performance is compared on 0-100 (``100 (mean − low) / (high − low)``).
    """
    drivers = results.drivers
    if drivers is None or drivers.table is None or len(drivers.table) == 0:
        return None
    labels = labels or Labels(results)
    table = drivers.table
    dims = [str(d) for d in table["dimension"]]
    scales = {d: labels.dimension_scale(d) for d in dims}
    known = [s for s in scales.values() if s is not None]
    same_scale = len(known) == len(dims) and len({(s.low, s.high) for s in known}) == 1
    unit = "scale" if same_scale or not known else "index"

    def to_unit(d: str, v: Any) -> float | None:
        if not finite(v):
            return None
        s = scales.get(d)
        if unit == "index" and s is not None:
            return 100.0 * (v - s.low) / (s.high - s.low)
        return float(v)

    gaps = {}
    if results.gap is not None and len(results.gap.table):
        gaps = {str(r["dimension"]): r for r in results.gap.table.to_dict(orient="records")}
    raw = []
    have_perf_ci = True
    for r in table.to_dict(orient="records"):
        d = str(r["dimension"])
        score = results.get(f"dimension.{d}.score")
        if score is not None and finite(score.estimate):
            perf, plo, phi = to_unit(d, score.estimate), to_unit(d, score.ci_low), to_unit(d, score.ci_high)
        else:
            perf, plo, phi = to_unit(d, r.get("performance")), None, None
        if not finite(plo, phi):
            have_perf_ci = False
        raw.append((d, r, perf, plo, phi))
    perfs = [p for _, _, p, _, _ in raw if finite(p)]
    if not perfs:
        return None
    imp_line = 1.0 / len(raw)  # the mean of shares that sum to 1
    perf_line = sum(perfs) / len(perfs)
    rows = []
    for d, r, perf, plo, phi in raw:
        imp = float(r.get("lmg_share"))
        ilo, ihi = r.get("lmg_share_ci_low"), r.get("lmg_share_ci_high")
        ilo, ihi = (float(ilo), float(ihi)) if finite(ilo, ihi) else (None, None)
        if not finite(perf):
            continue
        crosses = [what for what, hit in (("importance", _crosses(ilo, ihi, imp_line)),
                                          ("performance", _crosses(plo, phi, perf_line))) if hit]
        if crosses:
            verdict = BORDERLINE
            why = f"{' and '.join(crosses)} interval crosses the average"
        else:
            verdict, why = VERDICTS[(imp >= imp_line, perf >= perf_line)]
        g = gaps.get(d) or {}
        rows.append(Priority(
            dimension=d, label=labels.dimension(d), importance=imp, importance_low=ilo, importance_high=ihi,
            performance=perf, performance_low=plo, performance_high=phi, verdict=verdict, why=why,
            borderline=bool(crosses), sign=int(r.get("sign") or 1),
            gap=g.get("mean_gap"), gap_low=g.get("ci_low"), gap_high=g.get("ci_high"),
            gap_significant=(bool(g["significant"]) if g.get("significant") is not None else None),
            unmet_share=g.get("unmet_share"), n=int(g["n"]) if finite(g.get("n")) else None))
    rows.sort(key=lambda p: -p.importance)
    notes = []
    if not have_perf_ci:
        notes.append("This results file has no interval for mean perceptions, so only importance intervals decide "
                     "whether an attribute is borderline.")
    if unit == "index":
        notes.append("The attributes use different answer scales, so performance is compared on 0–100 "
                     "(100 × (mean − lowest answer) / (highest − lowest)).")
    if drivers.mc_error is not None and finite(drivers.mc_error):
        notes.append(f"Importance was estimated from sampled orders of entry (Monte Carlo error up to "
                     f"{100 * drivers.mc_error:.1f} points of share).")
    if any(p.sign < 0 for p in rows):
        notes.append("A negative sign means the attribute's coefficient is negative when all attributes are "
                     "in the model together: its importance is variance explained, not a benefit.")
    sc = known[0] if same_scale and known else None
    return PriorityTable(rows, imp_line, perf_line, unit, (sc.low, sc.high) if sc else None, have_perf_ci, notes)
