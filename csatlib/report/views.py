"""The report's sections as HTML fragments, built from typed :class:`~csatlib.results.Results`.

The report notebook displays these one by one; keeping them here makes them testable and the
notebook thin. The order of the page is the reviewer's: key findings first, then the headline
KPIs (each with its change once), the single priority table, segments, loyalty, gaps and
verbatims, data quality, and the method details in collapsible appendices.

Every piece of text that comes from the data (labels, segment values, comments, file names)
goes through :func:`html.escape`, so a comment holding ``<script>`` shows as text. Views read
results; they compute nothing statistical (the borderline rule of the priority table lives in
:mod:`csatlib.report.priorities`).
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..results import ALPHA, Estimate, LoyaltyModel, ModelSummary, Results
from . import charts
from .labels import Labels, humanise
from .priorities import BORDERLINE, VERDICTS, PriorityTable, priority_table
from .questionnaire import has_questionnaire, questionnaire_section, weighting_section
from .variance import (SIMPLE, bootstrap_caveat, design_methods, effective_n, estimate_errors, gap_methods,
                       loyalty_methods, loyalty_variance, mediation_rows, mediation_variance, model_name,
                       model_variance, sample_kind, shape_test, test_name)
from .wording import (SMALL_CHANGE, finite, fmt, fmt_change, fmt_ci, format_p, is_small_change,
                      kind_of, plural)

__all__ = ["Fragment", "Section", "sections", "header", "findings_section", "kpi_section", "trend_section",
           "index_section", "questionnaire_and_weights_section",
           "priorities_section", "segments_section", "loyalty_section", "gaps_section", "verbatims_section",
           "quality_section", "skipped_section", "appendix_section", "report_body", "FILES_MARKER",
           "SIBLING_FILES", "heading", "title"]

FILES_MARKER = "<!--csat:files-->"
# sibling files a run writes beside report.html, in the order the header links them
SIBLING_FILES = (("report.pdf", "PDF"), ("tables.xlsx", "Tables (Excel)"), ("results.json", "results.json"),
                 ("validation.json", "validation.json"), ("quarantine.csv", "quarantine.csv"),
                 ("report.ipynb", "notebook"))
HEADLINE = ("satisfaction.score", "satisfaction.rate", "nps")


class Fragment(str):
    """A string of HTML that Jupyter displays as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def heading(text: str, level: int = 3) -> Fragment:
    """An escaped HTML heading (for labels that come from the data)."""
    return Fragment(f"<h{level}>{_e(text)}</h{level}>")


def _section(id: str, title: str, body: str, css: str = "") -> Fragment:
    return Fragment(f'<section id="{id}" class="csat {css}" aria-labelledby="{id}-h">'
                    f'<h2 id="{id}-h">{_e(title)}</h2>{body}</section>')


def _table(head: list[str], rows: list[str], caption: str, sortable: bool = True, css: str = "") -> str:
    """A table in a horizontally scrollable region whose first column stays in place."""
    ths = "".join(f'<th scope="col"><button type="button" class="sort" title="Sort by {_e(_strip(h))}">{h}'
                  f'<span class="arrow" aria-hidden="true"></span></button></th>' if sortable else
                  f'<th scope="col">{h}</th>' for h in head)
    cls = " ".join(c for c in ("sortable" if sortable else "", css) if c)
    return (f'<div class="table-wrap" role="region" tabindex="0" aria-label="{_e(caption)}">'
            f'<table class="{cls}"><caption>{_e(caption)}</caption><thead><tr>{ths}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _strip(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _td(text: str, sort: Any = None, css: str = "") -> str:
    s = f' data-sort="{_e(sort)}"' if sort is not None and (not isinstance(sort, float) or finite(sort)) else ""
    c = f' class="{css}"' if css else ""
    return f"<td{c}{s}>{text}</td>"


def _th_row(text: str, sort: Any = None) -> str:
    s = f' data-sort="{_e(sort)}"' if sort is not None else ""
    return f'<th scope="row"{s}>{text}</th>'


def _ci(kind: str, lo: Any, hi: Any) -> str:
    return f"<span class='ci'>{_e(fmt_ci(kind, lo, hi))}</span>" if finite(lo, hi) else ""


# ----------------------------------------------------------------------------------------
# what the page holds
@dataclass(frozen=True)
class Section:
    id: str
    title: str  # the heading
    short: str  # the table-of-contents entry


def _other_estimates(results: Results) -> list[Estimate]:
    known = ("change.", "gap.", "driver.", "dimension.")
    return [e for e in results.estimates if e.segment is None and not e.id.startswith(known)
            and e.id not in HEADLINE and e.id != "satisfaction.index"
            and not (e.id.startswith("loyalty.") and e.id.endswith(".score"))]


def sections(results: Results) -> list[Section]:
    """The sections this run's page shows, in page order (the table of contents)."""
    out = [Section("findings", "Key findings", "Findings"), Section("kpis", "Headline KPIs", "KPIs")]
    if len(results.trend) > 1:
        out.append(Section("trend", "Trend across waves", "Trend"))
    if results.drivers is not None:
        out.append(Section("priorities", "Key drivers and the importance-performance map", "Priorities"))
    if results.index is not None:
        out.append(Section("index", "Satisfaction index", "Index"))
    if _segment_columns(results):
        out.append(Section("segments", "Segments", "Segments"))
    if results.loyalty:
        out.append(Section("loyalty", "Satisfaction → loyalty", "Loyalty"))
    if results.gap is not None:
        out.append(Section("gaps", "Expectation gaps", "Gaps"))
    if results.verbatims:
        out.append(Section("verbatims", "Verbatim comments", "Comments"))
    if has_questionnaire(results) or results.weighting is not None:
        out.append(Section("questionnaire", "Answers, composites and weights", "Answers"))
    out.append(Section("quality", "Data quality", "Data quality"))
    if _skipped(results):
        out.append(Section("not-included", "Not in this report", "Not included"))
    out.append(Section("appendix", "Methods appendix", "Appendix"))
    return out


def _title_of(results: Results, id: str) -> str:
    return next(s.title for s in sections(results) if s.id == id)


def _link(results: Results, id: str, text: str | None = None) -> str:
    present = {s.id: s for s in sections(results)}
    if id not in present:
        return ""
    return f'<a href="#{id}">{_e(text or present[id].title)}</a>'


# ----------------------------------------------------------------------------------------
# header
def title(results: Results) -> str:
    """``<survey> — wave <wave>`` (plus the segment a batch report covers): the page title."""
    where = "".join(f" — {k} = {v}" for k, v in (results.provenance.segment or {}).items())
    return f"{results.survey} — wave {results.wave}{where}"


def header(results: Results, run_date: _dt.datetime | None = None) -> Fragment:
    """Title, run date and csat version, row accounting, sibling files and the table of contents.

    The list of sibling files is a marker that the run fills with the files it actually wrote
    (:func:`csatlib.report.exports.link_files`), so the page never links a file that is absent.
    """
    r = results.rows
    when = (run_date or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    version = results.provenance.versions.get("csatlib", "")
    prev = (f" · compared with wave <b>{_e(results.previous_wave)}</b>" if results.previous_wave
            else " · first wave reported: no earlier wave to compare with, so no change is tested")
    weighted = "weighted" if results.weighted else "unweighted"
    toc = "".join(f'<li><a href="#{s.id}">{_e(s.short)}</a></li>' for s in sections(results))
    return Fragment(
        f'<header class="csat page-head"><h1>{_e(title(results))}</h1>'
        f'<p class="meta">{r.get("clean", 0):,} clean responses of {r.get("read", 0):,} read '
        f'({r.get("quarantined", 0):,} set aside) · {weighted}{prev}</p>'
        f'<p class="meta">Run {_e(when.strftime("%Y-%m-%d %H:%M"))} UTC · csat {_e(version)}</p>'
        f'<p class="files">{FILES_MARKER}</p></header>'
        f'<nav class="csat toc" aria-label="Contents"><ul>{toc}</ul></nav>')


# ----------------------------------------------------------------------------------------
# key findings
def _headline_estimates(results: Results) -> list[Estimate]:
    est = [results.get(i) for i in HEADLINE]
    est += [e for e in results.estimates if e.segment is None and e.id.startswith("loyalty.")
            and e.id.endswith(".score")]
    return [e for e in est if e is not None and finite(e.estimate)]


def _scale_width(labels: Labels, id: str) -> float | None:
    s = labels.scale(id)
    return (s.high - s.low) if s else None


def findings_section(results: Results) -> Fragment:
    """3-6 sentences generated from the results, each linking to the section behind it."""
    labels = Labels(results)
    items: list[str] = []
    # 1. significant changes, with their size (one sentence)
    if results.previous_wave:
        sig, noise = [], []
        for e in _headline_estimates(results):
            ch = results.get(f"change.{e.id}")
            if ch is None or not finite(ch.estimate):
                continue
            kind = kind_of(e.id)
            name = labels.kpi(e.id)
            name = name if e.id == "nps" or not name.isascii() else name[:1].lower() + name[1:]
            if ch.significant:
                small = " but small" if is_small_change(kind, ch.estimate, _scale_width(labels, e.id)) else ""
                sig.append(f"{_e(name)} {'rose' if ch.estimate > 0 else 'fell'} "
                           f"{_e(fmt_change(kind, ch.estimate).lstrip('+−'))} to {_e(fmt(kind, e.estimate))} "
                           f"(significant{small})")
            else:
                noise.append(_e(name))
        if sig:
            text = f"Since wave {_e(results.previous_wave)}, " + _join(sig)
            if noise:
                text += f"; {_join(noise)} changed within sampling noise"
            items.append(text + ". " + _link(results, "kpis", "KPIs"))
        elif noise:
            items.append(f"No headline measure changed significantly since wave {_e(results.previous_wave)} "
                         f"(Holm-adjusted tests). {_link(results, 'kpis', 'KPIs')}")
    # 2. the biggest unmet expectation
    if results.gap is not None and len(results.gap.table):
        unmet = [r for r in results.gap.table.to_dict(orient="records")
                 if r.get("significant") and finite(r.get("mean_gap")) and r["mean_gap"] < 0]
        if unmet:
            w = min(unmet, key=lambda r: r["mean_gap"])
            scale = labels.dimension_scale(w["dimension"])
            items.append(f"The biggest unmet expectation is <b>{_e(labels.dimension(w['dimension']))}</b>: "
                         f"perceptions trail expectations by {_e(fmt('mean', abs(w['mean_gap'])))} points"
                         f"{' on ' + _e(scale) if scale else ''}, and {_e(fmt('rate', w.get('unmet_share')))} of "
                         f"customers rate it below what they expected. {_link(results, 'gaps', 'Gaps')}")
        elif len(results.gap.table):
            items.append("No expectation is significantly unmet (Holm-adjusted paired t tests). "
                         + _link(results, "gaps", "Gaps"))
    # 3. drivers: the strongest, and the most important one performing below average
    pt = priority_table(results, labels)
    if pt is not None and pt.rows:
        top = pt.rows[0]
        below = [p for p in pt.rows if p.performance < pt.performance_line]
        text = (f"<b>{_e(top.label)}</b> is the strongest driver of overall satisfaction "
                f"({_e(fmt('share', top.importance))} of the explained variance)")
        if below and below[0].dimension != top.dimension:
            b = below[0]
            text += (f"; the most important attribute performing below the average attribute is "
                     f"<b>{_e(b.label)}</b> ({_e(fmt('share', b.importance))})")
        elif below:
            text += ", and it performs below the average attribute"
        items.append(text + ". " + _link(results, "priorities", "Priorities"))
    # 4. segments that differ from the rest after Holm
    diffs: dict[tuple[str, str, str], list[str]] = {}
    for column in _segment_columns(results):
        for e in results.estimates:
            if not (e.segment and column in e.segment and e.significant and e.id in HEADLINE and finite(e.estimate)):
                continue
            total = results.get(e.id)
            if total is None or not finite(total.estimate):
                continue
            where = "above" if e.estimate > total.estimate else "below"
            name = labels.kpi(e.id)
            diffs.setdefault((column, str(e.segment[column]), where), []).append(
                name if e.id == "nps" or not name.isascii() else name.lower())
    if diffs:
        text = "; ".join(f"{_e(v)} ({_e(labels.segment(c).lower())}) is significantly {w} the rest on "
                         f"{_e(_join(kpis))}" for (c, v, w), kpis in list(diffs.items())[:3])
        more = f" ({len(diffs) - 3} more in the tables)" if len(diffs) > 3 else ""
        items.append(text + more + ". " + _link(results, "segments", "Segments"))
    elif _segment_columns(results):
        items.append("No segment differs significantly from the rest after Holm correction. "
                     + _link(results, "segments", "Segments"))
    # 5. where loyalty jumps
    for m in results.loyalty:
        c = m.curve
        if m.nonlinearity.get("nonlinear") and finite(c.steepest_from, c.steepest_to):
            items.append(f"<b>{_e(_loyalty_label(labels, m))}</b> rises most steeply between satisfaction "
                         f"{_e(_num(c.steepest_from))} and {_e(_num(c.steepest_to))}, not evenly along the scale. "
                         + _link(results, "loyalty", "Loyalty"))
            break
    if not items:
        items.append("This run has no tested differences to report; the sections below give the estimates.")
    return _section("findings", "Key findings", "<ul class='findings'>" +
                    "".join(f"<li>{i}</li>" for i in items[:6]) + "</ul>")


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _num(x: Any) -> str:
    return str(int(x)) if finite(x) and float(x).is_integer() else f"{x:g}" if finite(x) else "–"


# ----------------------------------------------------------------------------------------
# headline KPIs
def _change_line(results: Results, labels: Labels, e: Estimate) -> str:
    ch = results.get(f"change.{e.id}")
    if ch is None or not finite(ch.estimate):
        return ""
    kind = kind_of(e.id)
    p = ch.p_adjusted if ch.p_adjusted is not None else ch.p
    delta = _e(fmt_change(kind, ch.estimate))
    if ch.significant:
        up = ch.estimate > 0
        small = " but small" if is_small_change(kind, ch.estimate, _scale_width(labels, e.id)) else ""
        return (f"<p class='change {'sig-up' if up else 'sig-down'}'><span aria-hidden='true'>{'▲' if up else '▼'}"
                f"</span> {delta} vs {_e(results.previous_wave)}: significant{small} ({_e(format_p(p))})</p>")
    return (f"<p class='change ns'>{delta} vs {_e(results.previous_wave)}: within sampling noise "
            f"({_e(format_p(p))})</p>")


def _base(e: Estimate, weighted: bool) -> str:
    if weighted and finite(e.n_eff):  # weights or a sample design: the effective base differs from n
        return f"n = {e.n:,} (effective {e.n_eff:,.0f})"
    return f"n = {e.n:,}"


def kpi_section(results: Results) -> Fragment:
    """KPI tiles: estimate, 95% interval, base and the change since the previous wave (once)."""
    labels = Labels(results)
    tiles, weighted = [], sample_kind(results) != SIMPLE
    for e in _headline_estimates(results):
        kind = kind_of(e.id)
        tiles.append(f"<div class='tile' data-id='{_e(e.id)}'><h3>{_e(labels.kpi(e.id))}</h3>"
                     f"<p class='value'>{_e(fmt(kind, e.estimate))}</p>"
                     f"<p class='sub'>95% CI {_e(fmt_ci(kind, e.ci_low, e.ci_high))}</p>"
                     f"<p class='sub'>{_e(labels.kpi_note(e.id))} · {_e(_base(e, weighted))}</p>"
                     f"{_change_line(results, labels, e)}</div>")
    body = f"<div class='tiles'>{''.join(tiles)}</div>" if tiles else "<p>No headline estimate.</p>"
    if tiles:
        body += f"<p class='note'>{_e(estimate_errors(results))}{' ' + _e(effective_n(results)) if weighted else ''}</p>"
    if results.previous_wave:  # a first wave says so once, in the header
        body += ("<p class='note'>▲/▼: a significant change (Holm-adjusted across the measures compared, "
                 "p &lt; 0.05); “small” marks a significant change below the size threshold stated in the "
                 "<a href='#appendix'>appendix</a>.</p>")
    other = _other_estimates(results)
    if other:
        rows = []
        for e in other:
            kind = kind_of(e.id)
            rows.append("<tr>" + _th_row(_e(labels.kpi(e.id))) + _td(_e(fmt(kind, e.estimate)), e.estimate)
                        + _td(_ci(kind, e.ci_low, e.ci_high), e.ci_low) + _td(f"{e.n:,}", e.n) + "</tr>")
        body += "<h3>Other measures</h3>" + _table(["measure", "estimate", "95% CI", "base"], rows,
                                                   "Other measures in this run")
    return _section("kpis", "Headline KPIs", body)


def _kpi_axis(labels: Labels, id: str) -> tuple[float, float] | None:
    kind = kind_of(id)
    if kind == "rate":
        return 0.0, 1.0
    if kind == "nps":
        return -100.0, 100.0
    if kind == "index":
        return 0.0, 100.0
    s = labels.scale(id)
    return (s.low, s.high) if s else None


def trend_section(results: Results) -> Fragment:
    """Each headline KPI across every reported wave, on its whole scale."""
    if len(results.trend) < 2:
        return Fragment("")
    labels = Labels(results)
    figs = []
    for id in HEADLINE:
        pts = [{"wave": row["wave"], **row[id]} for row in results.trend if isinstance(row.get(id), dict)]
        pts = [p for p in pts if finite(p.get("estimate"))]
        axis = _kpi_axis(labels, id)
        if len(pts) < 2 or axis is None:
            continue
        kind = kind_of(id)
        first, last = pts[0], pts[-1]
        ch = results.get(f"change.{id}")
        test = ""
        if ch is not None and finite(ch.estimate):
            test = (" The latest change is significant." if ch.significant
                    else " The latest change is within sampling noise.")
        desc = (f"{labels.kpi(id)} went from {fmt(kind, first['estimate'])} in {first['wave']} to "
                f"{fmt(kind, last['estimate'])} in {last['wave']} ({len(pts)} waves; axis spans the whole "
                f"scale).{test}")
        figs.append(charts.trend_chart(pts, axis[0], axis[1], kind, labels.kpi(id), desc))
    if not figs:
        return Fragment("")
    return _section("trend", "Trend across waves", "<div class='charts'>" + "".join(figs) + "</div>")


# ----------------------------------------------------------------------------------------
# priorities
def _perf_kind(pt: PriorityTable) -> str:
    return "index" if pt.performance_unit == "index" else "mean"


def priorities_section(results: Results) -> Fragment:
    """The single priority table (importance with CI, performance, gap, one verdict) and its map."""
    d = results.drivers
    labels = Labels(results)
    pt = priority_table(results, labels)
    if d is None or pt is None:
        return Fragment("")
    pk = _perf_kind(pt)
    scale = (f"mean on {_num(pt.performance_scale[0])}–{_num(pt.performance_scale[1])}" if pt.performance_scale
             else "0–100" if pk == "index" else "mean")
    what = "perception scores" if d.predictors == "perception" else "gaps"
    lead = (f"<p>The {what} of the {len(pt.rows)} attributes explain <b>{_e(fmt('share', d.r2))}</b> of the "
            f"variance of overall satisfaction (R², n = {d.n:,}). Each attribute gets one verdict from its "
            f"importance (its share of that R²) and its performance against the average attribute; an attribute "
            f"whose 95% interval crosses an average line is <b>{BORDERLINE.lower()}</b>, not given a verdict it "
            f"cannot support.</p>")
    rows = []
    for p in pt.rows:
        verdict_css = "borderline" if p.borderline else re.sub(r"\W+", "-", p.verdict.lower())
        sign = "" if p.sign > 0 else " <span class='neg' title='negative coefficient'>(−)</span>"
        gap = (f"{_e(fmt('gap', p.gap))} {_ci('gap', p.gap_low, p.gap_high)}<br><span class='sub'>"
               f"{_e(p.gap_status)}</span>" if finite(p.gap) else "<span class='muted'>not asked</span>")
        rows.append(
            f"<tr data-dimension='{_e(p.dimension)}'>" + _th_row(_e(p.label) + sign, p.label)
            + _td(f"<span class='verdict {verdict_css}' data-dimension='{_e(p.dimension)}'>{_e(p.verdict)}</span>"
                  f"<br><span class='sub'>{_e(p.why)}</span>", p.verdict, "text")
            + _td(f"{_e(fmt('share', p.importance))} {_ci('share', p.importance_low, p.importance_high)}",
                  p.importance)
            + _td(f"{_e(fmt(pk, p.performance))} {_ci(pk, p.performance_low, p.performance_high)}", p.performance)
            + _td(gap, p.gap if finite(p.gap) else None)
            + _td(_e(fmt("rate", p.unmet_share)) if finite(p.unmet_share) else "–",
                  p.unmet_share if finite(p.unmet_share) else None)
            + "</tr>")
    table = _table(["attribute", "verdict", "importance (95% CI)", f"performance ({_e(scale)})",
                    "expectation gap (95% CI)", "below expectation"], rows,
                   "Priority of each attribute: one verdict from importance and performance")
    map_rows = [{"label": p.label, "x": p.performance, "x_low": p.performance_low, "x_high": p.performance_high,
                 "y": p.importance, "y_low": p.importance_low, "y_high": p.importance_high, "hollow": p.borderline}
                for p in pt.rows]
    improve = [p.label for p in pt.rows if p.verdict == VERDICTS[(True, False)][0]]
    borderline = [p.label for p in pt.rows if p.borderline]
    desc = (f"{len(pt.rows)} attributes by importance and performance; dashed lines at the averages "
            f"({fmt('share', pt.importance_line)} importance, {fmt(pk, pt.performance_line)} performance). "
            + (f"Important and below average: {', '.join(improve)}. " if improve else
               "No attribute is clearly both important and below average. ")
            + (f"Open circles are borderline: {', '.join(borderline)}." if borderline else ""))
    quadrants = {"top_left": VERDICTS[(True, False)][0], "top_right": VERDICTS[(True, True)][0],
                 "bottom_left": VERDICTS[(False, False)][0], "bottom_right": VERDICTS[(False, True)][0]}
    fig = charts.priority_map(map_rows, pt.performance_line, pt.importance_line, pk, "Importance and performance",
                              desc, f"performance ({scale})", "importance (share of R²)", quadrants)
    notes = list(pt.notes) + [n for n in d.notes]
    note_html = "".join(f"<li>{_e(n)}</li>" for n in notes)
    method = (f"<p class='note'>Importance: {_e(d.method)}, 95% intervals from {d.bootstrap:,} seeded bootstrap "
              f"replicates.{_e(bootstrap_caveat(results))} Johnson's relative weights and the gap drivers are in "
              f"the <a href='#appendix-models'>appendix</a>.</p>")
    return _section("priorities", "Key drivers and the importance-performance map",
                    lead + table + fig + (f"<ul class='note'>{note_html}</ul>" if note_html else "") + method)


# ----------------------------------------------------------------------------------------
# segments
def _segment_columns(results: Results) -> list[str]:
    labels = Labels(results)
    present: list[str] = []
    for e in results.estimates:
        for col in (e.segment or {}):
            if col not in present:
                present.append(col)
    ordered = [c for c in labels.segments if c in present]
    return ordered + [c for c in present if c not in ordered]


def _segment_values(results: Results, labels: Labels, column: str) -> list[str]:
    seen: dict[str, None] = {}
    for e in results.estimates:
        if e.segment and column in e.segment:
            seen.setdefault(str(e.segment[column]), None)
    order = labels.categories(column)
    listed = set(order)
    return [v for v in order if v in seen] + [v for v in seen if v not in listed]


def index_section(results: Results) -> Fragment:
    """The satisfaction-index section (weighted CSI and the PLS index model), when the run has one."""
    if results.index is None:
        return Fragment("")
    from .index_model import index_section as body  # index_model builds on this module's Fragment

    return _section("index", "Satisfaction index", str(body(results)))


def questionnaire_and_weights_section(results: Results) -> Fragment:
    """Non-substantive answers, composites, multiple-response shares, stated vs derived importance
    and the weights (:mod:`csatlib.report.questionnaire`), when the run has any of them."""
    body = questionnaire_section(results) + weighting_section(results)
    return _section("questionnaire", "Answers, composites and weights", body) if body else Fragment("")


def segments_section(results: Results) -> Fragment:
    """One table and one chart per segment column, values in the spec's order."""
    columns = _segment_columns(results)
    if not columns:
        return Fragment("")
    labels = Labels(results)
    ids = [i for i in HEADLINE if results.get(i) is not None]
    min_base = results.quality.thresholds.get("min_base")
    lookup = {(e.id, tuple(sorted((e.segment or {}).items()))): e for e in results.estimates}  # hundreds of segments
    parts = []
    for column in columns:
        name = labels.segment(column)
        values = _segment_values(results, labels, column)
        rows, chart_rows, sig_text = [], [], []
        for position, v in enumerate(values):
            seg = {column: v}
            cells, base = [], None
            for i in ids:
                e = lookup.get((i, tuple(sorted(seg.items()))))
                kind = kind_of(i)
                if e is None:
                    cells.append(_td("–"))
                    continue
                base = e.n
                if e.suppressed or not finite(e.estimate):
                    cells.append(_td("<span class='muted'>suppressed</span>"))
                    continue
                mark = ""
                total = results.get(i)
                if e.significant and total is not None and finite(total.estimate):
                    up = e.estimate > total.estimate
                    mark = (f" <span class='{'sig-up' if up else 'sig-down'}' title='significantly "
                            f"{'above' if up else 'below'} the rest'>{'▲' if up else '▼'}</span>")
                    sig_text.append(f"{v} {'above' if up else 'below'} the rest on "
                                    f"{labels.kpi(i) if i == 'nps' else labels.kpi(i).lower()}")
                cells.append(_td(f"{_e(fmt(kind, e.estimate))}{mark}<br>{_ci(kind, e.ci_low, e.ci_high)}",
                                 e.estimate))
                if i == "satisfaction.score":
                    hl = None
                    if e.significant and total is not None and finite(total.estimate):
                        hl = "up" if e.estimate > total.estimate else "down"
                    chart_rows.append({"label": v, "estimate": e.estimate, "ci_low": e.ci_low,
                                       "ci_high": e.ci_high, "highlight": hl})
            suppressed = all("suppressed" in c for c in cells) and cells
            base_txt = f"{base:,}" if base is not None else "–"
            if suppressed and min_base is not None:
                base_txt += f" <span class='muted'>(&lt; {_e(min_base)})</span>"
            rows.append("<tr>" + _th_row(_e(v), position) + _td(base_txt, base) + "".join(cells) + "</tr>")
        head = [_e(name), "base"] + [_e(labels.kpi(i)) for i in ids]
        parts.append(f"<h3>By {_e(name.lower() if name.isascii() else name)}</h3>"
                     + _table(head, rows, f"Headline KPIs by {name}"))
        total = results.get("satisfaction.score")
        axis = _kpi_axis(labels, "satisfaction.score")
        if len(chart_rows) > 1 and axis is not None:
            lo = min(chart_rows, key=lambda r: r["estimate"])
            hi = max(chart_rows, key=lambda r: r["estimate"])
            desc = (f"Satisfaction scores by {name} range from {fmt('mean', lo['estimate'])} ({lo['label']}) to "
                    f"{fmt('mean', hi['estimate'])} ({hi['label']}) on a {axis[0]:g}–{axis[1]:g} axis; "
                    + (f"significantly different from the rest: {', '.join(sorted(set(s for s in sig_text if 'satisfaction score' in s)))}."
                       if any("satisfaction score" in s for s in sig_text) else
                       "no value differs significantly from the rest."))
            parts.append(charts.interval_chart(
                chart_rows, axis[0], axis[1], "mean", f"Satisfaction score by {name}", desc,
                reference=total.estimate if total is not None else None,
                reference_label=f"all: {fmt('mean', total.estimate)}" if total is not None else "",
                axis_label=f"mean on {axis[0]:g}–{axis[1]:g}, 95% CI"))
    note = ("<p class='note'>▲/▼: differs significantly from the rest of the sample (Holm-adjusted across all "
            "segments and KPIs, p &lt; 0.05); unmarked differences are within sampling noise."
            + (f" Segments with fewer than {_e(min_base)} respondents are suppressed." if min_base else "")
            + "</p>")
    return _section("segments", "Segments", "".join(parts) + note)


# ----------------------------------------------------------------------------------------
# loyalty
def _loyalty_label(labels: Labels, m: LoyaltyModel) -> str:
    if m.kind == "binary":
        nps = labels.spec.get("nps") or {}
        if m.outcome == "promoter" and isinstance(nps, dict) and nps.get("column") is not None:
            return f"Promoter share ({labels.item(str(nps['column']))}, 9–10)"
        return m.label
    return labels.item(m.outcome)


def _coef(model: ModelSummary | None, term: str) -> dict[str, Any] | None:
    if model is None or model.coefficients is None or term not in model.coefficients.index:
        return None
    return model.coefficients.loc[term].to_dict()


def loyalty_section(results: Results) -> Fragment:
    """Satisfaction → loyalty: the shape in words and one curve per outcome (models in the appendix)."""
    if not results.loyalty:
        return Fragment("")
    labels = Labels(results)
    parts = []
    for m in results.loyalty:
        name = _loyalty_label(labels, m)
        binary = m.kind == "binary"
        kind = "rate" if binary else "mean"
        scale = labels.scale(f"loyalty.{m.outcome}.score")
        unit = ""
        c, nl = m.curve, m.nonlinearity
        if nl.get("nonlinear") and finite(c.steepest_from, c.steepest_to, c.steepest_rise):
            rise = fmt_change("rate" if binary else "mean", c.steepest_rise)
            typical = fmt_change("rate" if binary else "mean", c.typical_rise) if finite(c.typical_rise) else "–"
            sentence = (f"{name} does not rise evenly with satisfaction ({test_name(nl)}, {format_p(nl.get('p'))}): "
                        f"it rises most steeply from {_num(c.steepest_from)} to {_num(c.steepest_to)} ({rise}{unit}), "
                        f"against a median of {typical}{unit} per point elsewhere.")
        else:
            slope = _coef(m.linear, "satisfaction")
            sentence = (f"{name} rises about evenly with satisfaction "
                        f"({fmt_change('rate' if binary else 'mean', slope['estimate'])}{unit} per point)."
                        if slope and finite(slope.get("estimate")) else m.sentence)
        parts.append(f"<h3>{_e(name)}</h3><p>{_e(sentence)}</p>")
        pts = [{"x": p["satisfaction"], "estimate": p["estimate"], "ci_low": p.get("ci_low"),
                "ci_high": p.get("ci_high")} for p in c.points.to_dict(orient="records")] if len(c.points) else []
        axis = (0.0, 1.0) if binary else ((scale.low, scale.high) if scale else None)
        if len(pts) > 1 and axis is not None:
            steep = (c.steepest_from, c.steepest_to) if nl.get("nonlinear") else None
            desc = (f"Predicted {name.lower() if name.isascii() else name} at each satisfaction point with its 95% band"
                    f" ({'0–100%' if binary else f'whole {scale} scale'}). " + sentence)
            parts.append(charts.curve_chart(pts, axis[0], axis[1], kind, f"{name} by satisfaction", desc,
                                            f"overall satisfaction ({labels.scale('satisfaction.score') or ''})",
                                            "promoter share" if binary else f"{name} (mean)", steep))
        base = f"Base: {m.n:,} respondents with both answers."
        notes = " ".join([*m.notes, *loyalty_variance(m, results)])
        parts.append(f"<p class='note'>{_e(base)} {_e(notes)}</p>")
    parts.append("<p class='note'>These curves describe how loyalty differs between more and less satisfied "
                 "customers in this wave: an association across customers, not a measured effect of raising "
                 "anyone's satisfaction. Model coefficients are in the <a href='#appendix-models'>appendix</a>.</p>")
    return _section("loyalty", "Satisfaction → loyalty", "".join(parts))


# ----------------------------------------------------------------------------------------
# gaps
def gaps_section(results: Results) -> Fragment:
    """Expectation gaps: which are not met (significance-aware), the chart, the table, associations."""
    g = results.gap
    if g is None or not len(g.table):
        return Fragment("")
    labels = Labels(results)
    dims = g.table.to_dict(orient="records")
    unmet = sorted([d for d in dims if d.get("significant") and d["mean_gap"] < 0], key=lambda d: d["mean_gap"])
    exceeded = [d for d in dims if d.get("significant") and d["mean_gap"] > 0]
    within = [d for d in dims if not d.get("significant")]
    name = lambda d: labels.dimension(d["dimension"])  # noqa: E731
    sentences = []
    if unmet:
        sentences.append("Expectations are significantly <b>not met</b> on " + ", ".join(
            f"<b>{_e(name(d))}</b> ({_e(fmt('gap', d['mean_gap']))}; {_e(fmt('rate', d['unmet_share']))} below "
            f"expectation)" for d in unmet) + ".")
    if exceeded:
        sentences.append("Perceptions significantly exceed expectations on "
                         + ", ".join(f"{_e(name(d))} ({_e(fmt('gap', d['mean_gap']))})" for d in exceeded) + ".")
    if within:
        sentences.append("The gap is within sampling noise for " + ", ".join(_e(name(d)) for d in within) + ".")
    widths = [s.high - s.low for s in (labels.dimension_scale(d["dimension"]) for d in dims) if s]
    extent = max([abs(v) for d in dims for v in (d.get("ci_low"), d.get("ci_high"), d.get("mean_gap"))
                  if finite(v)] + [1.0])
    extent = min(float(math.ceil(extent)), max(widths) if widths else extent)
    chart_rows = [{"label": name(d), "estimate": d["mean_gap"], "ci_low": d.get("ci_low"), "ci_high": d.get("ci_high"),
                   "highlight": ("down" if d["mean_gap"] < 0 else "up") if d.get("significant") else None}
                  for d in sorted(dims, key=lambda d: d["mean_gap"])]
    desc = ("Mean perception minus expectation per attribute with 95% intervals; left of zero means expectations "
            "not met. " + (f"Largest shortfall: {name(unmet[0])} ({fmt('gap', unmet[0]['mean_gap'])})."
                           if unmet else "No attribute falls significantly short."))
    fig = charts.interval_chart(chart_rows, -extent, extent, "gap", "Expectation gap by attribute", desc,
                                reference=0.0, reference_label="met", axis_label="perception − expectation (points)")
    rows = []
    for d in dims:
        rows.append("<tr>" + _th_row(_e(name(d)), name(d))
                    + _td(_e(fmt("mean", d.get("mean_perception"))), d.get("mean_perception"))
                    + _td(_e(fmt("mean", d.get("mean_expectation"))), d.get("mean_expectation"))
                    + _td(f"{_e(fmt('gap', d['mean_gap']))} {_ci('gap', d.get('ci_low'), d.get('ci_high'))}",
                          d["mean_gap"])
                    + _td(f"{_e(fmt('rate', d.get('unmet_share')))} "
                          f"{_ci('rate', d.get('unmet_ci_low'), d.get('unmet_ci_high'))}", d.get("unmet_share"))
                    + _td(_e(format_p(d.get("p_t_holm"))), d.get("p_t_holm"))
                    + _td(f"{int(d['n']):,}" if finite(d.get("n")) else "–", d.get("n")) + "</tr>")
    table = _table(["attribute", "perception", "expectation", "gap (95% CI)", "below expectation (95% CI)",
                    "paired t, Holm", "base"], rows, "Expectation gap per attribute")
    extra = ""
    disc = g.disconfirmation
    if disc is not None and disc.coefficients is not None and len(disc.coefficients):
        coefs = [(t, r) for t, r in disc.coefficients.iterrows() if t != "const"]
        sig = [(t, r) for t, r in coefs if finite(r.get("p")) and r["p"] < ALPHA]
        strongest = max(sig, key=lambda tr: abs(tr[1]["estimate"])) if sig else None
        r2 = disc.extra.get("r2")
        extra += ("<h3>Satisfaction and the gaps</h3><p>Regressing overall satisfaction on all gaps at once "
                  f"(R² = {_e(fmt('share', r2)) if finite(r2) else '–'}, n = {disc.nobs:,.0f}): "
                  + (f"customers whose perception of <b>{_e(labels.dimension(strongest[0]))}</b> is one point "
                     f"higher relative to their expectation are {_e(fmt('mean', abs(strongest[1]['estimate'])))} "
                     f"points {'more' if strongest[1]['estimate'] > 0 else 'less'} satisfied on average, other gaps "
                     f"equal (the strongest of the {len(sig)} significant gaps)."
                     if strongest else "no gap is significantly associated with satisfaction once the others are "
                                       "held equal.")
                  + f" {_e(model_variance(disc, 'The regression', results))}</p>")
    m = g.mediation
    if m and all(isinstance(m.get(k), dict) for k in ("indirect", "direct", "total")):
        ind, direct, total = m["indirect"], m["direct"], m["total"]
        extra += (f"<h3>Gaps, satisfaction and {_e(m.get('outcome', 'loyalty'))}</h3><p>Customers whose mean gap "
                  f"is one point closer to their expectations (−1 → 0) report {_e(m.get('outcome', 'loyalty'))} "
                  f"{_e(fmt('mean', abs(total['estimate'])))} {'higher' if total['estimate'] >= 0 else 'lower'} "
                  f"(95% CI {_e(fmt_ci('gap', total['ci_low'], total['ci_high']))}), "
                  f"{_e(fmt_change('mean', ind['estimate']))} of it alongside higher satisfaction "
                  f"({_e(format_p(ind.get('p')))}) and {_e(fmt_change('mean', direct['estimate']))} apart from it "
                  f"({_e(format_p(direct.get('p')))}"
                  f"{'' if finite(direct.get('p')) and direct['p'] < ALPHA else ', within sampling noise'}). "
                  f"{_e(mediation_variance(m, results))}</p>")
    if extra:
        extra += ("<p class='note'><b>Associations, not effects.</b> Both analyses compare different customers "
                  "in one survey wave (a single cross-section): they show that smaller gaps go with higher "
                  "satisfaction and loyalty, not that closing a gap would raise them. Model details are in the "
                  "<a href='#appendix-models'>appendix</a>.</p>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in g.notes)
    errors = _e(estimate_errors(results, "Mean gaps and shares below expectation"))
    return _section("gaps", "Expectation gaps",
                    "<p>" + " ".join(sentences) + "</p>" + fig + table
                    + "<p class='note'>Gap = perception − expectation on the same scale; tests are Holm-adjusted "
                      f"across attributes. {errors}</p>" + (f"<ul class='note'>{notes}</ul>" if notes else "") + extra)


# ----------------------------------------------------------------------------------------
# verbatims
def verbatims_section(results: Results) -> Fragment:
    """Selected comments per segment, each with its respondent's satisfaction (redacted, escaped)."""
    if not results.verbatims:
        return Fragment("")
    labels = Labels(results)
    sat_scale = labels.scale("satisfaction.score")
    parts = ["<p class='note'>Comments are shown as written, with emails, phone numbers and ID numbers replaced "
             "by placeholders before any analysis. Repeated comments are shown once; comments are balanced between "
             "less and more satisfied customers; segments too small to report are not quoted.</p>"]
    withheld = 0
    for g in results.verbatims:
        if g.get("withheld"):
            withheld += int(g.get("comments") or 0)
            continue
        col = g.get("column")
        head = f"{_e(labels.segment(col))}: {_e(g['segment'])}" if col else _e(g.get("segment", "All respondents"))
        quotes = []
        for q in g.get("sample") or []:
            if isinstance(q, dict):
                score = q.get("satisfaction")
                tag = q.get("group") or ""
                who = (f"satisfaction {_num(score)}" + (f"/{_num(sat_scale.high)}" if sat_scale else "")
                       if finite(score) else "satisfaction not given")
                quotes.append(f"<blockquote class='{_e(tag)}'><p>{_e(q.get('text', ''))}</p>"
                              f"<footer>{_e(who)}{' · ' + _e(tag) if tag else ''}</footer></blockquote>")
            else:
                quotes.append(f"<blockquote><p>{_e(q)}</p></blockquote>")
        parts.append(f"<h3>{head} <span class='muted'>({plural(int(g.get('comments') or 0), 'comment')}, "
                     f"{len(quotes)} shown)</span></h3>{''.join(quotes)}")
    if withheld:
        parts.append(f"<p class='note'>{plural(withheld, 'comment')} from segments below the minimum base "
                     f"{'is' if withheld == 1 else 'are'} not quoted.</p>")
    return _section("verbatims", "Verbatim comments", "".join(parts))


# ----------------------------------------------------------------------------------------
# data quality
def _column_name(labels: Labels, column: Any) -> str:
    if column is None:
        return ""
    col = re.sub(r"\s*\[as text\]$", "", str(column))
    if col.startswith("_csat_"):
        return humanise(col[len("_csat_"):])
    dims = labels.spec.get("dimensions") or {}
    for name, d in (dims.items() if isinstance(dims, dict) else []):
        if isinstance(d, dict):
            for role in ("perception", "expectation", "importance"):
                if str(d.get(role)) == col:
                    return f"{labels.dimension(name)} ({role})"
    roles = {"duration": "Interview length", "weight": "Weight", "id": "Respondent id", "wave": "Wave"}
    for key, name in roles.items():
        if str(labels.spec.get(key)) == col:
            return name
    if col in labels._items:  # noqa: SLF001 - same module family
        return labels.item(col)
    return humanise(col)


def quality_section(results: Results) -> Fragment:
    """Rows read, analysed and set aside; the reasons (a row may have several); links to the files."""
    labels = Labels(results)
    r = results.rows
    read, clean, quarantined = r.get("read", 0), r.get("clean", 0), r.get("quarantined", 0)
    share = quarantined / read if read else 0.0
    parts = [f"<p><b>{read:,}</b> rows were read; <b>{clean:,}</b> passed every check and were analysed; "
             f"<b>{quarantined:,}</b> ({fmt('rate', share)}) were set aside in "
             f"<a href='quarantine.csv'>quarantine.csv</a> with their reasons "
             f"({read:,} = {clean:,} + {quarantined:,}).</p>"]
    reasons = results.quality.reasons
    if reasons:
        total = sum(int(x.get("rows") or 0) for x in reasons)
        rows = ["<tr>" + _th_row(_e(str(x.get("reason", "")).capitalize()))
                + _td(_e(_column_name(labels, x.get("column")) or "–"), css="text")
                + _td(f"{int(x.get('rows') or 0):,}", int(x.get("rows") or 0)) + "</tr>" for x in reasons]
        parts.append(_table(["reason", "question", "rows"], rows, "Why rows were set aside"))
        several = (f"A row can fail several checks, so the reasons add up to {total:,} against {quarantined:,} rows "
                   f"set aside." if total > quarantined else
                   "A row can fail several checks; here each row set aside failed one.")
        parts.append(f"<p class='note'>{several}</p>")
    if results.quality.blocking_failures:
        parts.append("<p><b>Blocking problems:</b> " + "; ".join(_e(b) for b in results.quality.blocking_failures)
                     + "</p>")
    checked = results.quality.expectations_checked
    failed = len(results.quality.failed_expectations)
    if checked:
        parts.append(f"<p class='note'>{checked} validation checks ran ({failed} found rows to set aside); each is "
                     f"listed in the <a href='#appendix-checks'>appendix</a> and in "
                     f"<a href='validation.json'>validation.json</a>.</p>")
    return _section("quality", "Data quality", "".join(parts))


# ----------------------------------------------------------------------------------------
# not in this report
def _skipped(results: Results) -> dict[str, str]:
    out = dict(results.skipped)
    if results.drivers is None and "drivers" not in out:
        out["drivers"] = "Key drivers: not computed in this run."
    if results.gap is None and "gap" not in out:
        out["gap"] = "Expectation gaps: not computed in this run."
    return out


def skipped_section(results: Results) -> Fragment:
    """Analyses the spec leaves out (by key of ``results.skipped``), so none looks forgotten."""
    skipped = _skipped(results)
    if not skipped:
        return Fragment("")
    return _section("not-included", "Not in this report",
                    "<ul class='note'>" + "".join(f"<li data-analysis='{_e(k)}'>{_e(v)}</li>"
                                                  for k, v in skipped.items()) + "</ul>")


# ----------------------------------------------------------------------------------------
# appendix
def _model_table(model: ModelSummary, name: Callable[[str], str], caption: str) -> str:
    rows = []
    for term, c in model.coefficients.iterrows():
        rows.append("<tr>" + _th_row(_e(name(str(term))))
                    + _td(_e(f"{c.get('estimate'):.3f}") if finite(c.get("estimate")) else "–", c.get("estimate"))
                    + _td(_e(f"{c.get('se'):.3f}") if finite(c.get("se")) else "–", c.get("se"))
                    + _td(_e(f"{c.get('ci_low'):.3f} to {c.get('ci_high'):.3f}")
                          if finite(c.get("ci_low"), c.get("ci_high")) else "–")
                    + _td(_e(format_p(c.get("p"))), c.get("p")) + "</tr>")
    return _table(["term", "estimate", "SE", "95% CI", "p"], rows, caption, sortable=False)


def _details(id: str, summary: str, body: str) -> str:
    return f"<details id='{id}'><summary>{_e(summary)}</summary><div class='details-body'>{body}</div></details>"


def appendix_section(results: Results) -> Fragment:
    """Methods, model details, validation checks and provenance, each collapsible."""
    labels = Labels(results)
    t = results.quality.thresholds
    how = {k: _e(v) for k, v in design_methods(results).items()}
    methods = [
        ("Satisfaction score", f"mean on the native scale with a t interval ({how['score']}); the 0–100 "
                               "index in results.json and tables.xlsx is the same mean rescaled."),
        ("Satisfaction rate", "share of answers at or above the top-box threshold; Wilson interval on the "
                              "effective base."),
        ("NPS", f"% promoters (9–10) − % detractors (0–6), the mean of a 100 / 0 / −100 score, {how['nps']}."),
        ("Changes between waves", f"Welch t test for scores{how['changes']}, z test with Newcombe's interval for "
                                  "rates, z test for "
                                  "NPS; Holm correction across the measures compared. A significant change is called "
                                  f"small when it is under {SMALL_CHANGE['mean']:.0%} of the answer scale's width "
                                  f"(means), {100 * SMALL_CHANGE['rate']:.0f} percentage points (rates), "
                                  f"{SMALL_CHANGE['nps']:g} points (NPS) or {SMALL_CHANGE['index']:g} points "
                                  "(0–100 indices)."),
        ("Segments", f"each segment against the rest of the sample {how['segments']}, Holm correction across all "
                     f"segments and KPIs. Segments with fewer than {_e(t.get('min_base', '–'))} clean respondents are "
                     "suppressed (listed, not estimated) and never quoted."),
        ("Weighting", how["weighting"]),
        ("Satisfaction → loyalty", "per loyalty item OLS and an ordered logit; for promoter status a logit and a "
                                   "linear probability model. Shape: one dummy per satisfaction point against the "
                                   "straight line" + _e(loyalty_methods(results))),
        ("Expectation gaps", "perception − expectation; mean with t interval, paired t and Wilcoxon signed-rank "
                             "tests, Holm-adjusted; share with gap &lt; 0 (Wilson). Disconfirmation regression of "
                             "satisfaction on all gaps and a mediation analysis gap → satisfaction → loyalty: "
                             "both describe associations in one cross-section. " + _e(gap_methods(results))),
        ("Priorities", "importance = Shapley/LMG share of R² (Lindeman, Merenda &amp; Gold) with a seeded bootstrap "
                       "interval; performance = mean perception. Verdict lines at the average importance (1 / number "
                       "of attributes) and the average performance (Martilla &amp; James 1977); an attribute whose "
                       "interval crosses a line is borderline." + _e(bootstrap_caveat(results))),
    ]
    body = _details("appendix-methods", "Methods", "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in methods)
                    + "</dl>")
    # model details
    models = []
    name_sat = lambda term: labels.satisfaction if term == "satisfaction" else term  # noqa: E731
    for m in results.loyalty:
        title_ = _loyalty_label(labels, m)
        for model in (m.linear, m.logit):
            if model is not None:
                models.append(f"<h4>{_e(title_)}: {_e(model_name(model))}</h4>"
                              + _model_table(model, name_sat, f"{title_}: {model_name(model)}")
                              + f"<p class='note'>{_e(model_variance(model, model_name(model), results))}</p>")
        if shape_test(m.nonlinearity):
            models.append(f"<p class='note'>{_e(shape_test(m.nonlinearity, results))}</p>")
    if results.gap is not None and results.gap.disconfirmation is not None:
        d = results.gap.disconfirmation
        models.append(f"<h4>{_e(model_name(d))}</h4>"
                      + _model_table(d, lambda t_: labels.dimension(t_) if t_ != "const" else "intercept",
                                     "Disconfirmation regression")
                      + f"<p class='note'>{_e(model_variance(d, 'The regression', results))}</p>")
    if results.gap is not None and results.gap.mediation:
        m = results.gap.mediation
        rows = []
        for key, label in (("indirect", "through satisfaction (indirect)"), ("direct", "apart from satisfaction"),
                           ("total", "total"), ("proportion_mediated", "share through satisfaction")):
            v = m.get(key)
            if isinstance(v, dict):
                rows.append("<tr>" + _th_row(_e(label)) + _td(_e(f"{v.get('estimate'):.3f}"))
                            + _td(_e(f"{v.get('ci_low'):.3f} to {v.get('ci_high'):.3f}"))
                            + _td(_e(format_p(v.get("p")))) + "</tr>")
        models.append(f"<h4>Mediation: mean gap → satisfaction → {_e(m.get('outcome', ''))}</h4>"
                      + _table(["association", "estimate", "95% CI", "p"], rows, "Mediation", sortable=False)
                      + f"<p class='note'>{_e(m.get('method', ''))}, {_e(m.get('replicates', ''))} replicates, on "
                        f"{_e(mediation_rows(m, results.rows.get('clean')))}. Exposure: {_e(m.get('exposure', ''))}. "
                        f"{_e(mediation_variance(m, results))} An association in one cross-section, not a causal "
                        "effect.</p>")
    for key, d in (("perception", results.drivers), ("gap", results.drivers_gap)):
        if d is None:
            continue
        rows = []
        for r in d.table.sort_values("lmg_share", ascending=False).to_dict(orient="records"):
            rows.append("<tr>" + _th_row(_e(labels.dimension(r["dimension"])))
                        + _td(f"{_e(fmt('share', r.get('lmg_share')))} "
                              f"{_ci('share', r.get('lmg_share_ci_low'), r.get('lmg_share_ci_high'))}", r.get("lmg_share"))
                        + _td(f"{_e(fmt('share', r.get('rw_share')))} "
                              f"{_ci('share', r.get('rw_share_ci_low'), r.get('rw_share_ci_high'))}", r.get("rw_share"))
                        + _td(_e(f"{r.get('std_coefficient'):+.3f}".replace("-", "−"))
                              if finite(r.get("std_coefficient")) else "–", r.get("std_coefficient")) + "</tr>")
        what = "perception scores" if key == "perception" else "expectation gaps (perception − expectation)"
        models.append(f"<h4>Relative importance of the {what}</h4>"
                      f"<p class='note'>R² = {_e(fmt('share', d.r2))}, n = {d.n:,}; {_e(d.method)}.</p>"
                      + _table(["attribute", "Shapley/LMG share", "Johnson's weight share", "standardised β"], rows,
                               f"Relative importance of the {what}"))
    if models:
        body += _details("appendix-models", "Model details", "".join(models))
    # validation checks
    failed = results.quality.failed_expectations
    if failed or results.quality.expectations_checked:
        rows = ["<tr>" + _th_row(_e(humanise(f.get("check") or f.get("type", ""))))
                + _td(_e(_column_name(labels, f.get("column")) or "whole table"), css="text")
                + _td(_e(f.get("severity", "")), css="text")
                + _td(f"{int(f['unexpected_count']):,}" if finite(f.get("unexpected_count")) else "–",
                      f.get("unexpected_count"))
                + _td(f"<code>{_e(f.get('type', ''))}</code>", css="text") + "</tr>" for f in failed]
        text = (f"<p>{results.quality.expectations_checked} Great Expectations checks ran; "
                f"{len(failed)} found rows to set aside (the same rows as the reasons in the data-quality "
                f"section, counted per check).</p>")
        body += _details("appendix-checks", "Validation checks",
                         text + (_table(["check", "question", "severity", "rows", "expectation"], rows,
                                        "Validation checks that found problems", sortable=False) if rows else ""))
    # provenance
    prov = results.provenance
    inp = prov.input or {}
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in (prov.versions or {}).items())
    spec_json = _e(json.dumps(prov.spec, ensure_ascii=False, indent=2))
    body += _details("appendix-provenance", "Provenance",
                     f"<p>Input file <code>{_e(inp.get('file', '–'))}</code> ({_e(inp.get('format', '–'))}, "
                     f"{_e(inp.get('encoding') or '–')}), SHA-256 <code class='hash'>{_e(inp.get('sha256', '–'))}</code>. "
                     f"PII columns dropped on load: {_e(', '.join(inp.get('pii_dropped') or []) or 'none')}."
                     + (f" Previous wave from <code>{_e(prov.previous)}</code>." if prov.previous else "")
                     + f"</p><p>Software: {versions}.</p>"
                     f"<details><summary>Survey spec ({_e(prov.spec_file or 'spec')})</summary><pre>{spec_json}</pre>"
                     f"</details>")
    return _section("appendix", "Methods appendix", body, "appendix")


# ----------------------------------------------------------------------------------------
SECTION_VIEWS: dict[str, Callable[[Results], Fragment]] = {
    "findings": findings_section, "kpis": kpi_section, "trend": trend_section, "priorities": priorities_section,
    "segments": segments_section, "loyalty": loyalty_section, "gaps": gaps_section,
    "verbatims": verbatims_section, "quality": quality_section, "not-included": skipped_section,
    "appendix": appendix_section, "index": index_section, "questionnaire": questionnaire_and_weights_section}


def report_body(results: Results, run_date: _dt.datetime | None = None) -> Fragment:
    """The whole page body (header, contents and every section) as one fragment."""
    return Fragment(header(results, run_date) + "".join(SECTION_VIEWS[s.id](results) for s in sections(results)))
