"""The top of the page: key findings in sentences, the headline KPI tiles and the trend across waves."""
from __future__ import annotations

from ...results import Estimate, Results
from .. import charts
from ..labels import Labels
from ..priorities import priority_table
from ..variance import SIMPLE, effective_n, estimate_errors, sample_kind
from ..wording import finite, fmt, fmt_change, fmt_ci, format_p, is_small_change, kind_of
from .markup import Fragment, ci_span, data_table, esc, join_words, num, section, td, th_row
from .outline import HEADLINE, link, other_estimates, segment_columns
from .associations import loyalty_label

__all__ = ["findings_section", "kpi_section", "trend_section", "headline_estimates", "kpi_axis"]


# ----------------------------------------------------------------------------------------
# key findings
def headline_estimates(results: Results) -> list[Estimate]:
    """The headline KPIs and loyalty scores of the total sample that have an estimate."""
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
        for e in headline_estimates(results):
            ch = results.get(f"change.{e.id}")
            if ch is None or not finite(ch.estimate):
                continue
            kind = kind_of(e.id)
            name = labels.kpi(e.id)
            name = name if e.id == "nps" or not name.isascii() else name[:1].lower() + name[1:]
            if ch.significant:
                small = " but small" if is_small_change(kind, ch.estimate, _scale_width(labels, e.id)) else ""
                sig.append(f"{esc(name)} {'rose' if ch.estimate > 0 else 'fell'} "
                           f"{esc(fmt_change(kind, ch.estimate).lstrip('+−'))} to {esc(fmt(kind, e.estimate))} "
                           f"(significant{small})")
            else:
                noise.append(esc(name))
        if sig:
            text = f"Since wave {esc(results.previous_wave)}, " + join_words(sig)
            if noise:
                text += f"; {join_words(noise)} changed within sampling noise"
            items.append(text + ". " + link(results, "kpis", "KPIs"))
        elif noise:
            items.append(f"No headline measure changed significantly since wave {esc(results.previous_wave)} "
                         f"(Holm-adjusted tests). {link(results, 'kpis', 'KPIs')}")
    # 2. the biggest unmet expectation
    if results.gap is not None and len(results.gap.table):
        unmet = [r for r in results.gap.table.to_dict(orient="records")
                 if r.get("significant") and finite(r.get("mean_gap")) and r["mean_gap"] < 0]
        if unmet:
            w = min(unmet, key=lambda r: r["mean_gap"])
            scale = labels.dimension_scale(w["dimension"])
            items.append(f"The biggest unmet expectation is <b>{esc(labels.dimension(w['dimension']))}</b>: "
                         f"perceptions trail expectations by {esc(fmt('mean', abs(w['mean_gap'])))} points"
                         f"{' on ' + esc(scale) if scale else ''}, and {esc(fmt('rate', w.get('unmet_share')))} of "
                         f"customers rate it below what they expected. {link(results, 'gaps', 'Gaps')}")
        elif len(results.gap.table):
            items.append("No expectation is significantly unmet (Holm-adjusted paired t tests). "
                         + link(results, "gaps", "Gaps"))
    # 3. drivers: the strongest, and the most important one performing below average
    pt = priority_table(results, labels)
    if pt is not None and pt.rows:
        top = pt.rows[0]
        below = [p for p in pt.rows if p.performance < pt.performance_line]
        text = (f"<b>{esc(top.label)}</b> is the strongest driver of overall satisfaction "
                f"({esc(fmt('share', top.importance))} of the explained variance)")
        if below and below[0].dimension != top.dimension:
            b = below[0]
            text += (f"; the most important attribute performing below the average attribute is "
                     f"<b>{esc(b.label)}</b> ({esc(fmt('share', b.importance))})")
        elif below:
            text += ", and it performs below the average attribute"
        items.append(text + ". " + link(results, "priorities", "Priorities"))
    # 4. segments that differ from the rest after Holm
    diffs: dict[tuple[str, str, str], list[str]] = {}
    for column in segment_columns(results):
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
        text = "; ".join(f"{esc(v)} ({esc(labels.segment(c).lower())}) is significantly {w} the rest on "
                         f"{esc(join_words(kpis))}" for (c, v, w), kpis in list(diffs.items())[:3])
        more = f" ({len(diffs) - 3} more in the tables)" if len(diffs) > 3 else ""
        items.append(text + more + ". " + link(results, "segments", "Segments"))
    elif segment_columns(results):
        items.append("No segment differs significantly from the rest after Holm correction. "
                     + link(results, "segments", "Segments"))
    # 5. where loyalty jumps
    for m in results.loyalty:
        c = m.curve
        if m.nonlinearity.get("nonlinear") and finite(c.steepest_from, c.steepest_to):
            items.append(f"<b>{esc(loyalty_label(labels, m))}</b> rises most steeply between satisfaction "
                         f"{esc(num(c.steepest_from))} and {esc(num(c.steepest_to))}, not evenly along the scale. "
                         + link(results, "loyalty", "Loyalty"))
            break
    if not items:
        items.append("This run has no tested differences to report; the sections below give the estimates.")
    return section("findings", "Key findings", "<ul class='findings'>" +
                    "".join(f"<li>{i}</li>" for i in items[:6]) + "</ul>")


# ----------------------------------------------------------------------------------------
# headline KPIs
def _change_line(results: Results, labels: Labels, e: Estimate) -> str:
    ch = results.get(f"change.{e.id}")
    if ch is None or not finite(ch.estimate):
        return ""
    kind = kind_of(e.id)
    p = ch.p_adjusted if ch.p_adjusted is not None else ch.p
    delta = esc(fmt_change(kind, ch.estimate))
    if ch.significant:
        up = ch.estimate > 0
        small = " but small" if is_small_change(kind, ch.estimate, _scale_width(labels, e.id)) else ""
        return (f"<p class='change {'sig-up' if up else 'sig-down'}'><span aria-hidden='true'>{'▲' if up else '▼'}"
                f"</span> {delta} vs {esc(results.previous_wave)}: significant{small} ({esc(format_p(p))})</p>")
    return (f"<p class='change ns'>{delta} vs {esc(results.previous_wave)}: within sampling noise "
            f"({esc(format_p(p))})</p>")


def _base(e: Estimate, weighted: bool) -> str:
    if weighted and finite(e.n_eff):  # weights or a sample design: the effective base differs from n
        return f"n = {e.n:,} (effective {e.n_eff:,.0f})"
    return f"n = {e.n:,}"


def kpi_section(results: Results) -> Fragment:
    """KPI tiles: estimate, 95% interval, base and the change since the previous wave (once)."""
    labels = Labels(results)
    tiles, weighted = [], sample_kind(results) != SIMPLE
    for e in headline_estimates(results):
        kind = kind_of(e.id)
        tiles.append(f"<div class='tile' data-id='{esc(e.id)}'><h3>{esc(labels.kpi(e.id))}</h3>"
                     f"<p class='value'>{esc(fmt(kind, e.estimate))}</p>"
                     f"<p class='sub'>95% CI {esc(fmt_ci(kind, e.ci_low, e.ci_high))}</p>"
                     f"<p class='sub'>{esc(labels.kpi_note(e.id))} · {esc(_base(e, weighted))}</p>"
                     f"{_change_line(results, labels, e)}</div>")
    body = f"<div class='tiles'>{''.join(tiles)}</div>" if tiles else "<p>No headline estimate.</p>"
    if tiles:
        body += f"<p class='note'>{esc(estimate_errors(results))}{' ' + esc(effective_n(results)) if weighted else ''}</p>"
    if results.previous_wave:  # a first wave says so once, in the header
        body += ("<p class='note'>▲/▼: a significant change (Holm-adjusted across the measures compared, "
                 "p &lt; 0.05); “small” marks a significant change below the size threshold stated in the "
                 "<a href='#appendix'>appendix</a>.</p>")
    other = other_estimates(results)
    if other:
        rows = []
        for e in other:
            kind = kind_of(e.id)
            rows.append("<tr>" + th_row(esc(labels.kpi(e.id))) + td(esc(fmt(kind, e.estimate)), e.estimate)
                        + td(ci_span(kind, e.ci_low, e.ci_high), e.ci_low) + td(f"{e.n:,}", e.n) + "</tr>")
        body += "<h3>Other measures</h3>" + data_table(["measure", "estimate", "95% CI", "base"], rows,
                                                   "Other measures in this run")
    return section("kpis", "Headline KPIs", body)


def kpi_axis(labels: Labels, id: str) -> tuple[float, float] | None:
    """The whole scale of a KPI (0-1 for rates, −100..100 for NPS, the answer scale for means)."""
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
        axis = kpi_axis(labels, id)
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
    return section("trend", "Trend across waves", "<div class='charts'>" + "".join(figs) + "</div>")
