"""Where satisfaction comes from and where it differs: the priority table and map, the satisfaction
index, segments, and the questionnaire and weights section."""
from __future__ import annotations

import re

from ...results import Results
from .. import charts
from ..index_model import index_section as index_body
from ..labels import Labels
from ..priorities import BORDERLINE, VERDICTS, PriorityTable, priority_table
from ..questionnaire import questionnaire_section, weighting_section
from ..variance import bootstrap_caveat
from ..wording import finite, fmt, kind_of
from .markup import Fragment, ci_span, data_table, esc, num, section, td, th_row
from .outline import HEADLINE, segment_columns
from .headline import kpi_axis

__all__ = ["priorities_section", "index_section", "questionnaire_and_weights_section", "segments_section"]


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
    scale = (f"mean on {num(pt.performance_scale[0])}–{num(pt.performance_scale[1])}" if pt.performance_scale
             else "0–100" if pk == "index" else "mean")
    what = "perception scores" if d.predictors == "perception" else "gaps"
    lead = (f"<p>The {what} of the {len(pt.rows)} attributes explain <b>{esc(fmt('share', d.r2))}</b> of the "
            f"variance of overall satisfaction (R², n = {d.n:,}). Each attribute gets one verdict from its "
            f"importance (its share of that R²) and its performance against the average attribute; an attribute "
            f"whose 95% interval crosses an average line is <b>{BORDERLINE.lower()}</b>, not given a verdict it "
            f"cannot support.</p>")
    rows = []
    for p in pt.rows:
        verdict_css = "borderline" if p.borderline else re.sub(r"\W+", "-", p.verdict.lower())
        sign = "" if p.sign > 0 else " <span class='neg' title='negative coefficient'>(−)</span>"
        gap = (f"{esc(fmt('gap', p.gap))} {ci_span('gap', p.gap_low, p.gap_high)}<br><span class='sub'>"
               f"{esc(p.gap_status)}</span>" if finite(p.gap) else "<span class='muted'>not asked</span>")
        rows.append(
            f"<tr data-dimension='{esc(p.dimension)}'>" + th_row(esc(p.label) + sign, p.label)
            + td(f"<span class='verdict {verdict_css}' data-dimension='{esc(p.dimension)}'>{esc(p.verdict)}</span>"
                  f"<br><span class='sub'>{esc(p.why)}</span>", p.verdict, "text")
            + td(f"{esc(fmt('share', p.importance))} {ci_span('share', p.importance_low, p.importance_high)}",
                  p.importance)
            + td(f"{esc(fmt(pk, p.performance))} {ci_span(pk, p.performance_low, p.performance_high)}", p.performance)
            + td(gap, p.gap if finite(p.gap) else None)
            + td(esc(fmt("rate", p.unmet_share)) if finite(p.unmet_share) else "–",
                  p.unmet_share if finite(p.unmet_share) else None)
            + "</tr>")
    table = data_table(["attribute", "verdict", "importance (95% CI)", f"performance ({esc(scale)})",
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
    note_html = "".join(f"<li>{esc(n)}</li>" for n in notes)
    method = (f"<p class='note'>Importance: {esc(d.method)}, 95% intervals from {d.bootstrap:,} seeded bootstrap "
              f"replicates.{esc(bootstrap_caveat(results))} Johnson's relative weights and the gap drivers are in "
              f"the <a href='#appendix-models'>appendix</a>.</p>")
    return section("priorities", "Key drivers and the importance-performance map",
                    lead + table + fig + (f"<ul class='note'>{note_html}</ul>" if note_html else "") + method)


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
    return section("index", "Satisfaction index", str(index_body(results)))


def questionnaire_and_weights_section(results: Results) -> Fragment:
    """Non-substantive answers, composites, multiple-response shares, stated vs derived importance
    and the weights (:mod:`csatlib.report.questionnaire`), when the run has any of them."""
    body = questionnaire_section(results) + weighting_section(results)
    return section("questionnaire", "Answers, composites and weights", body) if body else Fragment("")


def segments_section(results: Results) -> Fragment:
    """One table and one chart per segment column, values in the spec's order."""
    columns = segment_columns(results)
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
                    cells.append(td("–"))
                    continue
                base = e.n
                if e.suppressed or not finite(e.estimate):
                    cells.append(td("<span class='muted'>suppressed</span>"))
                    continue
                mark = ""
                total = results.get(i)
                if e.significant and total is not None and finite(total.estimate):
                    up = e.estimate > total.estimate
                    mark = (f" <span class='{'sig-up' if up else 'sig-down'}' title='significantly "
                            f"{'above' if up else 'below'} the rest'>{'▲' if up else '▼'}</span>")
                    sig_text.append(f"{v} {'above' if up else 'below'} the rest on "
                                    f"{labels.kpi(i) if i == 'nps' else labels.kpi(i).lower()}")
                cells.append(td(f"{esc(fmt(kind, e.estimate))}{mark}<br>{ci_span(kind, e.ci_low, e.ci_high)}",
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
                base_txt += f" <span class='muted'>(&lt; {esc(min_base)})</span>"
            rows.append("<tr>" + th_row(esc(v), position) + td(base_txt, base) + "".join(cells) + "</tr>")
        head = [esc(name), "base"] + [esc(labels.kpi(i)) for i in ids]
        parts.append(f"<h3>By {esc(name.lower() if name.isascii() else name)}</h3>"
                     + data_table(head, rows, f"Headline KPIs by {name}"))
        total = results.get("satisfaction.score")
        axis = kpi_axis(labels, "satisfaction.score")
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
            + (f" Segments with fewer than {esc(min_base)} respondents are suppressed." if min_base else "")
            + "</p>")
    return section("segments", "Segments", "".join(parts) + note)
