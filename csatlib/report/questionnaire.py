"""Report sections for what the questionnaire itself says: non-substantive answers, composite
reliability, multiple-response questions, stated vs derived importance, and the weights used.

Each renderer reads one typed result of :mod:`csatlib.results` and returns escaped HTML; a run
without that result gets an empty string, so the page shows only what exists.
"""
from __future__ import annotations

import html
import math
from typing import Any, Iterable

from ..results import Results
from .variance import COMPLEX, effective_n, sample_kind

__all__ = ["questionnaire_section", "weighting_section", "has_questionnaire"]


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(v) else f"{100 * v:.1f}%"


def _num(x: Any, digits: int = 2) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(v) else f"{v:,.{digits}f}"


def _table(caption: str, head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A sortable table whose first column stays in place (the report's own table style)."""
    ths = "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<div class="table-wrap" role="region" tabindex="0" aria-label="{_e(caption)}"><table class="sortable">'
            f"<caption>{_e(caption)}</caption><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table></div>")


def has_questionnaire(results: Results) -> bool:
    """Whether the run has any of the questionnaire results this module shows."""
    ns = results.nonsubstantive
    shows_codes = ns is not None and len(ns.table) and any(
        c in ns.table and ns.table[c].fillna(0).sum() > 0 for c in ("not_applicable", "dont_know", "refused", "missing"))
    return bool(shows_codes or results.composites is not None or results.multiple_response is not None
                or results.importance is not None)


def _nonsubstantive(results: Results) -> str:
    ns = results.nonsubstantive
    if ns is None or not len(ns.table):
        return ""
    t = ns.table
    kinds = [(k, label) for k, label in (("not_applicable", "not applicable"), ("dont_know", "don't know"),
                                         ("refused", "refused"), ("missing", "declared missing"))
             if k in t and t[k].fillna(0).sum() > 0]
    if not kinds:
        return ""
    rows = [[_e(r["column"]), _e(r.get("role", "")), f"{int(r['answered']):,}", f"{int(r['substantive']):,}",
             *[_pct(r.get(f"{k}_share")) for k, _ in kinds]] for _, r in t.iterrows()]
    return ("<h3>Non-substantive answers</h3><p>Answers such as \"not applicable\" or \"don't know\" are "
            "legitimate, but they are not ratings: each item's analyses use only its substantive answers (the "
            "base shown), and the shares below are of the respondents who answered the item.</p>"
            + _table("Non-substantive answers per item", ["item", "role", "answered", "base (ratings)",
                                                         *[label for _, label in kinds]], rows))


def _composites(results: Results) -> str:
    c = results.composites
    if c is None or not len(c.table):
        return ""
    rows = [[_e(r.get("label") or r["dimension"]), _e(", ".join(map(str, r["items"]))), f"{int(r['n']):,}",
             _num(r["alpha"], 3)] for _, r in c.table.iterrows()]
    return ("<h3>Composite dimensions</h3><p>A composite is the mean of its items per respondent"
            + (f" ({_e(c.rule)})" if c.rule else "") + ". Cronbach's alpha measures how consistently the items "
            "move together; values below about 0.7 suggest the items do not measure one thing.</p>"
            + _table("Cronbach's alpha of each composite", ["dimension", "items", "base", "alpha"], rows))


def _multiple(results: Results) -> str:
    m = results.multiple_response
    if m is None or not len(m.table):
        return ""
    rows = [[_e(r.get("label") or r["question"]), _e(r["option"]), f"{int(r['chosen']):,}", f"{int(r['base']):,}",
             f"{_pct(r['share'])} ({_pct(r['ci_low'])}–{_pct(r['ci_high'])})"] for _, r in m.table.iterrows()]
    return ("<h3>Multiple-response questions</h3><p>Shares of the respondents who answered each question; a "
            "respondent may choose several options, so the shares of a question can add up to more than 100%"
            + (" (weighted)" if m.weighted else "") + ".</p>"
            + _table("Share choosing each option, 95% Wilson interval", ["question", "option", "chose", "base",
                                                                        "share (95% CI)"], rows))


def _importance(results: Results) -> str:
    imp = results.importance
    if imp is None or not len(imp.table):
        return ""
    rows = [[_e(r.get("label") or r["dimension"]), _num(r["stated"]), _num(r["stated_rank"], 1),
             _pct(r["derived"]), _num(r["derived_rank"], 1)] for _, r in imp.table.iterrows()]
    notes = "".join(f"<li>{_e(n)}</li>" for n in imp.notes)
    return ("<h3>Stated and derived importance</h3>" + f"<p>{_e(imp.sentence)}</p>"
            + _table("What respondents say matters against what drives their satisfaction",
                     ["dimension", "stated (mean)", "stated rank", "derived (share of R²)", "derived rank"], rows)
            + (f"<ul class='note'>{notes}</ul>" if notes else ""))


def questionnaire_section(results: Results) -> str:
    """Non-substantive answers, composites, multiple-response shares and stated vs derived importance."""
    return "".join(part(results) for part in (_nonsubstantive, _composites, _multiple, _importance))


def weighting_section(results: Results) -> str:
    """How the weights were made and what they cost: design effect, efficiency, range, margins vs targets."""
    w = results.weighting
    if w is None:
        return ""
    lead = (f"<h3>Weights</h3><p>{_e(w.method)}. {w.n:,} respondents; weights from {_num(w.min, 3)} to "
            f"{_num(w.max, 3)} (mean {_num(w.mean, 3)}). Kish's design effect of the weights {_num(w.design_effect)} "
            f"(efficiency {_pct(w.efficiency)}): "
            + (f"from the unequal weights alone, the sample carries about as much information as {_num(w.n_eff, 0)} "
               f"unweighted respondents. {_e(effective_n(results))}</p>" if sample_kind(results) == COMPLEX else
               f"the weighted sample carries about as much information as {_num(w.n_eff, 0)} unweighted "
               f"respondents.</p>"))
    notes = "".join(f"<li>{_e(n)}</li>" for n in w.notes or ())
    notes = f"<ul class='note'>{notes}</ul>" if notes else ""
    if not w.margins:
        return lead + notes
    margins = w.to_frame()
    rows = [[_e(r["column"]), _e(r["value"]), _pct(r.get("target")), _pct(r.get("achieved")), _pct(r.get("before"))]
            for _, r in margins.iterrows()]
    return lead + _table("Raking margins: population targets and the shares achieved",
                         ["column", "category", "target", "achieved", "before weighting"], rows) + notes
