"""HTML fragments of the report, built from a :class:`~csatlib.results.Results`.

The notebook displays these; keeping them here makes them testable and keeps the notebook thin.
Every piece of text that comes from the data (labels, segment values, comments, file names) goes
through :func:`html.escape`, so a comment holding ``<script>`` shows as text.
"""
from __future__ import annotations

import html
import json
import math
from typing import Any, Iterable

from .wording import KPI_LABELS, describe_change, format_estimate, format_p
from ..results import kpi_kind
from ..results import Estimate, Results

__all__ = ["Fragment", "loyalty_section", "loyalty_curves", "gap_section", "gap_rows", "drivers_section", "skipped_section", "driver_rows", "heading", "title", "segment_chart_rows", "headline_table", "change_summary", "segment_table", "quality_section",
           "verbatims_section", "methods_section", "kpi_label", "STYLE"]

STYLE = """<style>
.csat table{border-collapse:collapse;margin:.4em 0 1em;font-size:13px}
.csat th,.csat td{border-bottom:1px solid #dde3ea;padding:4px 10px;text-align:right}
.csat th:first-child,.csat td:first-child{text-align:left}
.csat th{background:#f3f6f9;font-weight:600}
.csat .sig-up{color:#2e7d4f;font-weight:600}.csat .sig-down{color:#b23b3b;font-weight:600}
.csat .muted{color:#7a8794}.csat .note{color:#4a5560;font-size:12.5px}
.csat .kpi{display:inline-block;margin:0 18px 10px 0;padding:10px 14px;border:1px solid #dde3ea;border-radius:6px}
.csat .kpi b{display:block;font-size:22px;color:#1f5a8a}
.csat blockquote{margin:4px 0;padding:2px 10px;border-left:3px solid #c9d3dd;color:#333}
</style>"""


class Fragment(str):
    """A string of HTML that Jupyter displays as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _wrap(body: str) -> Fragment:
    return Fragment(f'<div class="csat">{body}</div>')


def kpi_label(id: str, results: Results | None = None) -> str:
    """Reader-facing name of an estimate id (loyalty items use their column label)."""
    if id in KPI_LABELS:
        return KPI_LABELS[id]
    if id.startswith("loyalty.") and id.endswith(".score"):
        return f"Loyalty: {id[len('loyalty.'):-len('.score')]} (mean)"
    return id


def _headline_estimates(results: Results) -> list[Estimate]:
    """Total (unsegmented) KPI estimates: satisfaction, NPS and loyalty means."""
    return [e for e in results.estimates if e.segment is None
            and (e.id in KPI_LABELS or (e.id.startswith("loyalty.") and e.id.endswith(".score")))]


def _interval(e: Estimate) -> str:
    if e.ci_low is None or e.ci_high is None:
        return "–"
    return f"{format_estimate(e.id, e.ci_low)} – {format_estimate(e.id, e.ci_high)}"


def _base(e: Estimate, weighted: bool) -> str:
    if weighted and e.n_eff is not None:
        return f"{e.n:,} <span class='muted'>(n<sub>eff</sub> {e.n_eff:,.0f})</span>"
    return f"{e.n:,}"


def _change_cell(change: Estimate | None) -> str:
    if change is None or change.estimate is None:
        return "<span class='muted'>–</span>"
    kind = kpi_kind(change.id.removeprefix("change."))
    d = change.estimate * (100 if kind == "rate" else 1)
    txt = f"{d:+.{2 if kind == 'mean' else 1}f}{' pp' if kind == 'rate' else ''}"
    p = change.p_adjusted if change.p_adjusted is not None else change.p
    if change.significant:
        arrow, cls = ("▲", "sig-up") if d > 0 else ("▼", "sig-down")
        return f"<span class='{cls}'>{arrow} {txt}</span> <span class='muted'>({_e(format_p(p))})</span>"
    return f"{txt} <span class='muted'>(n.s., {_e(format_p(p))})</span>"


def headline_table(results: Results) -> Fragment:
    """Headline KPIs with 95% intervals, bases and the change since the previous wave."""
    totals = _headline_estimates(results)
    cards = "".join(f"<div class='kpi'>{_e(kpi_label(e.id))}<b>{_e(format_estimate(e.id, e.estimate))}</b>"
                    f"<span class='muted'>95% CI {_e(_interval(e))}</span></div>"
                    for e in totals if e.id in ("satisfaction.score", "satisfaction.rate", "nps"))
    prev = f"change vs {_e(results.previous_wave)}" if results.previous_wave else "change"
    rows = []
    for e in totals:
        change = results.get(f"change.{e.id}")
        rows.append(f"<tr><td>{_e(kpi_label(e.id))}</td><td>{_e(format_estimate(e.id, e.estimate))}</td>"
                    f"<td>{_e(_interval(e))}</td><td>{_base(e, results.weighted)}</td>"
                    f"<td>{_change_cell(change)}</td></tr>")
    table = (f"<table><tr><th>KPI</th><th>estimate</th><th>95% CI</th><th>base</th><th>{prev}</th></tr>"
             + "".join(rows) + "</table>")
    note = ("<p class='note'>Estimates are weighted (design weights); intervals use design-based standard "
            "errors and bases show Kish's effective n.</p>" if results.weighted else
            "<p class='note'>Unweighted estimates.</p>")
    return _wrap(STYLE + cards + table + note)


def change_summary(results: Results) -> Fragment:
    """One sentence per KPI on its change, worded by :func:`describe_change` (significance-aware)."""
    items = []
    for e in _headline_estimates(results):
        if e.estimate is not None:
            sentence = describe_change(kpi_label(e.id), e, results.get(f"change.{e.id}"), results.previous_wave)
            items.append(f"<li>{_e(sentence)}</li>")
    head = (f"<p>Compared with wave <b>{_e(results.previous_wave)}</b> (Welch t for scores, z test with "
            f"Newcombe interval for rates, z test for NPS; Holm-adjusted across the KPIs compared):</p>"
            if results.previous_wave else "<p>No earlier wave was given, so no change is tested.</p>")
    return _wrap(head + "<ul>" + "".join(items) + "</ul>")


def segment_table(results: Results, column: str, ids: Iterable[str] = ("satisfaction.score",
                                                                          "satisfaction.rate", "nps")) -> Fragment:
    """One row per value of a segment column; suppressed cells are marked with their base."""
    ids = [i for i in ids if results.get(i) is not None]
    values: list[str] = []
    for e in results.estimates:
        if e.segment and column in e.segment and e.segment[column] not in values:
            values.append(e.segment[column])
    head = "".join(f"<th>{_e(kpi_label(i))}</th>" for i in ids)
    rows = []
    for v in values:
        seg = {column: v}
        cells = []
        base = None
        for i in ids:
            e = results.get(i, seg)
            if e is None:
                cells.append("<td>–</td>")
                continue
            base = e.n
            if e.suppressed:
                cells.append("<td class='muted'>suppressed</td>")
                continue
            mark = ""
            if e.significant:
                total = results.get(i)
                up = total is not None and total.estimate is not None and e.estimate > total.estimate
                mark = f" <span class='{'sig-up' if up else 'sig-down'}'>{'▲' if up else '▼'}</span>"
            cells.append(f"<td>{_e(format_estimate(i, e.estimate))}{mark}<br>"
                         f"<span class='muted'>{_e(_interval(e))}</span></td>")
        rows.append(f"<tr><td>{_e(v)}</td><td>{base if base is not None else '–'}</td>{''.join(cells)}</tr>")
    min_base = results.quality.thresholds.get("min_base")
    note = (f"<p class='note'>▲/▼: differs significantly from the rest of the sample (Holm-adjusted across "
            f"all segments and KPIs, p &lt; 0.05); unmarked differences are within sampling noise. "
            f"Segments with fewer than {_e(min_base)} respondents are suppressed.</p>")
    return _wrap(f"<table><tr><th>{_e(column)}</th><th>base</th>{head}</tr>{''.join(rows)}</table>{note}")


def quality_section(results: Results, validation: dict[str, Any] | None = None) -> Fragment:
    """Rows read, clean and quarantined, the reasons with counts, and the failed expectations."""
    r = results.rows
    read = r.get("read", 0)
    share = (r.get("quarantined", 0) / read) if read else 0.0
    parts = [f"<p><b>{read:,}</b> rows were read; <b>{r.get('clean', 0):,}</b> passed every check and were "
             f"analysed; <b>{r.get('quarantined', 0):,}</b> ({share:.1%}) were set aside in "
             f"<code>quarantine.csv</code> with their reasons. Every row is accounted for "
             f"({read:,} = {r.get('clean', 0):,} + {r.get('quarantined', 0):,}).</p>"]
    reasons = results.quality.reasons
    if reasons:
        rows = "".join(f"<tr><td>{_e(x['reason'])}</td><td>{_e(x.get('column') or '')}</td><td>{x['rows']:,}</td></tr>"
                       for x in reasons)
        parts.append("<table><tr><th>reason</th><th>column</th><th>rows</th></tr>" + rows + "</table>")
    failed = results.quality.failed_expectations
    checked = results.quality.expectations_checked
    if failed:
        rows = "".join(f"<tr><td>{_e(f['type'])}</td><td>{_e(f.get('column') or 'table')}</td>"
                       f"<td>{_e(f['severity'])}</td><td>{_e(f.get('unexpected_count') if f.get('unexpected_count') is not None else '–')}</td></tr>"
                       for f in failed)
        parts.append(f"<p>{len(failed)} of {checked} Great Expectations checks found problems:</p>"
                     "<table><tr><th>expectation</th><th>column</th><th>severity</th><th>rows</th></tr>"
                     + rows + "</table>")
    else:
        parts.append(f"<p>All {checked} Great Expectations checks passed.</p>")
    t = results.quality.thresholds
    parts.append(f"<p class='note'>Row-level checks quarantine a row (values outside the scale, non-numeric or "
                 f"missing required answers, categories not allowed, missing or non-positive weights, speeders "
                 f"under {_e(t.get('min_duration_s'))} s, straight-liners). Table-level checks would block the "
                 f"report: duplicate ids, a wrong wave label, fewer than {_e(t.get('min_base'))} clean rows, "
                 f"more than {_e(_pct(t.get('max_quarantine_share')))} of rows quarantined, or more than "
                 f"{_e(_pct(t.get('max_straightline_share')))} straight-liners.</p>")
    return _wrap("".join(parts))


def _pct(x: Any) -> str:
    return f"{100 * x:.0f}%" if isinstance(x, (int, float)) and math.isfinite(x) else "–"


def verbatims_section(results: Results) -> Fragment:
    """A seeded sample of comments per segment with counts; redacted by the loader, escaped here."""
    if not results.verbatims:
        return _wrap("<p class='muted'>The spec names no free-text column, or no comments were given.</p>")
    parts = ["<p class='note'>Comments are shown as written, with emails, phone numbers and ID numbers "
             "replaced by placeholders before any analysis.</p>"]
    for g in results.verbatims:
        label = f"{_e(g['column'])} = {_e(g['segment'])}" if g.get("column") else _e(g["segment"])
        quotes = "".join(f"<blockquote>{_e(t)}</blockquote>" for t in g["sample"])
        parts.append(f"<h4>{label} <span class='muted'>({g['comments']:,} comments, {len(g['sample'])} shown)"
                     f"</span></h4>{quotes}")
    return _wrap("".join(parts))


def methods_section(results: Results) -> Fragment:
    """Methods appendix: formulas and tests, weighting, suppression, versions, spec, input hash."""
    prov = results.provenance
    inp = prov.input
    t = results.quality.thresholds
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in prov.versions.items())
    spec_json = _e(json.dumps(prov.spec, ensure_ascii=False, indent=2))
    weighting = ("Estimates are weighted by the spec's weight column. Means and shares use design-based "
                 "(Taylor linearisation) standard errors for a weights-only design, as R's "
                 "<code>survey::svymean</code>: var = n/(n−1) Σ [w<sub>i</sub>(y<sub>i</sub> − ȳ)]² / (Σw)². "
                 "Bases show Kish's effective sample size n<sub>eff</sub> = (Σw)² / Σw²."
                 if results.weighted else "The spec has no weight column: every respondent counts once.")
    items = [
        ("Satisfaction score", "mean on the native scale with a t interval (df = n − 1); the 0-100 index is "
                               "100 (mean − min) / (max − min) with the same interval rescaled."),
        ("Satisfaction rate", "share of answers at or above the top-box threshold; Wilson score interval on "
                              "the effective base. The rate and the score are different numbers."),
        ("NPS", "% promoters (9-10) − % detractors (0-6), computed as the mean of a score of 100 / 0 / −100, "
                "with a normal interval on that mean's standard error."),
        ("Changes between waves", "Welch t test (Satterthwaite df) for scores; pooled z test with Newcombe's "
                                  "hybrid score interval (1998, method 10) for rates; z test for NPS; Holm "
                                  "correction across the KPIs compared. A change is called significant only "
                                  "when its adjusted p value is below 0.05."),
        ("Segments", f"each segment is tested against the rest of the sample with the tests above; Holm "
                     f"correction across all segments and KPIs at once. Segments with fewer than "
                     f"{_e(t.get('min_base'))} clean respondents are suppressed (listed, not estimated)."),
        ("Weighting", weighting),
        ("Satisfaction → loyalty", "per loyalty item: OLS of loyalty on satisfaction with HC3 errors and an ordered "
                                   "logit (statsmodels OrderedModel, logit link, weighted log-likelihood); for promoter "
                                   "status a logit and a linear probability model (HC3). Shape: one dummy per "
                                   "satisfaction point against the straight line, likelihood-ratio test; the curve is "
                                   "the dummy model's prediction with a 95% band (promoter shares: Wilson). All fitted "
                                   "on collapsed answer patterns, shown equal to the row-level fits in the test suite."),
        ("Expectation gaps", "gap = perception − expectation; mean with t interval, paired t test and Wilcoxon "
                             "signed-rank test, Holm-adjusted across dimensions; share with gap &lt; 0 (Wilson). "
                             "Disconfirmation regression of satisfaction on all gaps (HC3). Mediation gap → "
                             "satisfaction → loyalty with statsmodels Mediation (parametric, seeded)."),
        ("Key drivers", "Shapley/LMG decomposition of R² (Lindeman, Merenda &amp; Gold) and Johnson's relative "
                        "weights for overall satisfaction on the dimension scores; 95% intervals from a seeded "
                        "bootstrap; sign from the full regression; importance-performance quadrants after Martilla "
                        "&amp; James (1977)."),
    ]
    rows = "".join(f"<tr><td>{_e(k)}</td><td style='text-align:left'>{v}</td></tr>" for k, v in items)
    return _wrap(
        f"<table><tr><th>what</th><th style='text-align:left'>how</th></tr>{rows}</table>"
        f"<p><b>Input:</b> {_e(inp.get('file'))} ({_e(inp.get('format'))}"
        f"{', ' + _e(inp.get('encoding')) if inp.get('encoding') else ''}), SHA-256 "
        f"<code>{_e(inp.get('sha256'))}</code>. PII columns dropped on load: "
        f"{_e(', '.join(inp.get('pii_dropped') or []) or 'none')}.</p>"
        f"<p><b>Software:</b> {versions}.</p>"
        f"<details><summary><b>Survey spec</b> ({_e(prov.spec_file or '')})</summary>"
        f"<pre>{spec_json}</pre></details>")


def title(results: Results) -> Fragment:
    """Report heading: survey, wave, comparison wave and the row accounting in one line."""
    r = results.rows
    prev = f" · compared with {_e(results.previous_wave)}" if results.previous_wave else ""
    weighted = "weighted" if results.weighted else "unweighted"
    segment = results.provenance.segment or {}
    where = "".join(f" — {_e(k)} = {_e(v)}" for k, v in segment.items())
    return _wrap(f"<h1>{_e(results.survey)} — wave {_e(results.wave)}{where}</h1>"
                 f"<p class='note'>{r.get('clean', 0):,} clean responses of {r.get('read', 0):,} read "
                 f"({r.get('quarantined', 0):,} quarantined) · {weighted}{prev}</p>")


def segment_chart_rows(results: Results, column: str, id: str = "satisfaction.score") -> list[dict[str, Any]]:
    """Rows for :func:`csatlib.charts.segment_chart`: one per unsuppressed value of ``column``."""
    total = results.get(id)
    rows = []
    for e in results.estimates:
        if e.id == id and e.segment and column in e.segment and not e.suppressed and e.estimate is not None:
            hl = None
            if e.significant and total is not None and total.estimate is not None:
                hl = "up" if e.estimate > total.estimate else "down"
            rows.append({"label": e.segment[column], "estimate": e.estimate, "ci_low": e.ci_low,
                         "ci_high": e.ci_high, "highlight": hl})
    return rows


def heading(text: str, level: int = 3) -> Fragment:
    """An escaped HTML heading (for labels that come from the data)."""
    return Fragment(f"<h{level}>{_e(text)}</h{level}>")


def _finite(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def _pct_ci(share: Any, lo: Any, hi: Any, markup: bool = True) -> str:
    """``35.4% (34–36%)``; the interval greyed out in HTML."""
    if not _finite(share):
        return "–"
    if not _finite(lo, hi):
        return f"{100 * share:.1f}%"
    ci = f"({100 * lo:.0f}–{100 * hi:.0f}%)"
    return f"{100 * share:.1f}% " + (f"<span class='muted'>{ci}</span>" if markup else ci)


def drivers_section(results: Results, key: str = "drivers") -> Fragment:
    """Key drivers in plain words, the importance table and the IPA quadrants."""
    d = results.models.get(key)
    if not d:
        reason = next((s for s in [results.skipped.get("drivers")] if s),
                      "Key drivers were not computed.")
        return _wrap(f"<p class='muted'>{_e(reason)}</p>")
    dims = sorted(d["dimensions"], key=lambda r: -r["lmg_share"])
    what = "perception scores" if d["predictors"] == "perception" else "gaps (perception − expectation)"
    top_text = ", ".join(f"<b>{_e(r['label'])}</b> "
                         f"({_e(_pct_ci(r['lmg_share'], r['lmg_share_ci_low'], r['lmg_share_ci_high'], False))})"
                         for r in dims[:3])
    lead = (f"<p>The {what} of the {len(dims)} dimensions explain <b>{100 * d['r2']:.0f}%</b> of the variance "
            f"of overall satisfaction (R², n = {d['n']:,}). The strongest drivers are {top_text} of the "
            f"explained variance, 95% bootstrap intervals in brackets.</p>")
    perf_head = "mean perception" if d["predictors"] == "perception" else "mean gap"
    rows = "".join(
        f"<tr><td>{_e(r['label'])}</td><td>{_pct_ci(r['lmg_share'], r['lmg_share_ci_low'], r['lmg_share_ci_high'])}</td>"
        f"<td>{_pct_ci(r['rw_share'], r['rw_share_ci_low'], r['rw_share_ci_high'])}</td>"
        f"<td>{'+' if r['sign'] > 0 else '−'}</td><td>{r['performance']:.2f}</td><td>{_e(r['quadrant'])}</td></tr>"
        for r in dims)
    table = (f"<table><tr><th>dimension</th><th>Shapley/LMG share</th><th>Johnson's weight share</th>"
             f"<th>sign</th><th>{perf_head}</th><th>IPA quadrant</th></tr>{rows}</table>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in d.get("notes", []))
    method = (f"<p class='note'>{_e(d['method'])}; Johnson's relative weights exact; intervals from "
              f"{d['bootstrap_replicates']} seeded bootstrap replicates. Quadrants after Martilla &amp; James "
              f"(1977), lines at the means of importance and performance.</p>")
    method += (f"<p class='note'>Shapley/LMG shares estimated from sampled orders of entry: the Monte Carlo standard error of each share is at most {d['mc_error']:.4f} and is included in its interval.</p>" if d.get("mc_error") else "")
    return _wrap(lead + table + (f"<ul class='note'>{notes}</ul>" if notes else "") + method)


def skipped_section(results: Results) -> Fragment:
    """Analyses the spec leaves out, so a reviewer knows they were not forgotten."""
    items = list(results.skipped.values())
    if not items:
        return Fragment("")
    return _wrap("<p class='note'><b>Not in this report:</b></p><ul class='note'>"
                 + "".join(f"<li>{_e(s)}</li>" for s in items) + "</ul>")


def driver_rows(results: Results, key: str = "drivers") -> list[dict[str, Any]]:
    """Rows for :func:`csatlib.charts.driver_chart` and :func:`csatlib.charts.ipa_chart`."""
    d = results.models.get(key)
    return list(d["dimensions"]) if d else []


def _coef_row(name: str, c: dict[str, Any], transform=None, digits: int = 3) -> str:
    f = transform or (lambda v: v)
    return (f"<tr><td>{_e(name)}</td><td>{f(c['estimate']):.{digits}f}</td>"
            f"<td>{f(c['ci_low']):.{digits}f} – {f(c['ci_high']):.{digits}f}</td><td>{_e(format_p(c['p']))}</td></tr>")


def loyalty_section(results: Results) -> Fragment:
    """Satisfaction → loyalty: the verdict in words, model tables and the non-linearity test."""
    models = results.models.get("loyalty") or []
    if not models:
        reason = next((s for s in [results.skipped.get("loyalty")] if s),
                      "No loyalty model was fitted.")
        return _wrap(f"<p class='muted'>{_e(reason)}</p>")
    parts = []
    for m in models:
        ols = {c["term"]: c for c in m["ols_hc3"]["coefficients"]}
        rows = [_coef_row("OLS slope per satisfaction point (HC3)" if m["kind"] == "ordinal"
                          else "linear probability per point (HC3)", ols["satisfaction"])]
        if m.get("logit"):
            coefs = {c["term"]: c for c in m["logit"]["coefficients"]}
            label = "ordered logit: odds ratio per point" if m["logit"]["model"] == "ordered logit" \
                else "logit: odds ratio per point"
            rows.append(_coef_row(label, coefs["satisfaction"], math.exp))
        nl = m["nonlinearity"]
        test = (f"<p class='note'>Shape test ({_e(nl.get('model', ''))}): LR χ² = {nl['statistic']:.1f}, "
                f"df = {nl['df']}, {_e(format_p(nl['p']))}.</p>" if "p" in nl else "")
        notes = "".join(f"<li>{_e(n)}</li>" for n in m.get("notes", []))
        parts.append(f"<h3>{_e(m['label'])}</h3><p>{_e(m['sentence'])}</p>"
                     f"<table><tr><th>model</th><th>estimate</th><th>95% CI</th><th>p</th></tr>{''.join(rows)}</table>"
                     f"{test}<p class='note'>Base: {m['n']:,} respondents with both answers; R² of the linear "
                     f"model {m['ols_hc3']['r2']:.2f}.</p>" + (f"<ul class='note'>{notes}</ul>" if notes else ""))
    return _wrap("".join(parts))


def loyalty_curves(results: Results) -> list[dict[str, Any]]:
    """Curve data per loyalty model for :func:`csatlib.charts.loyalty_curve_chart`."""
    out = []
    for m in results.models.get("loyalty") or []:
        c = m["curve"]
        if c["points"]:
            steep = (c["steepest_from"], c["steepest_to"]) if m["nonlinearity"].get("nonlinear") else None
            out.append({"title": m["label"], "points": c["points"], "binary": m["kind"] == "binary",
                        "highlight": steep})
    return out


def gap_section(results: Results) -> Fragment:
    """Expectation gaps: which are not met (significance-aware), unmet shares, regression, mediation."""
    g = results.models.get("gap")
    if not g:
        reason = next((s for s in [results.skipped.get("gap")] if s),
                      "No gap analysis.")
        return _wrap(f"<p class='muted'>{_e(reason)}</p>")
    dims = g["dimensions"]
    unmet = [d for d in dims if d["significant"] and d["mean_gap"] < 0]
    exceeded = [d for d in dims if d["significant"] and d["mean_gap"] > 0]
    within = [d for d in dims if not d["significant"]]
    sentences = []
    if unmet:
        worst = sorted(unmet, key=lambda d: d["mean_gap"])
        sentences.append("Expectations are significantly <b>not met</b> on " + ", ".join(
            f"<b>{_e(d['label'])}</b> ({d['mean_gap']:+.2f} points; {100 * d['unmet_share']:.0f}% of customers "
            f"below expectation)" for d in worst) + ".")
    if exceeded:
        sentences.append("Perceptions significantly exceed expectations on " + ", ".join(
            f"{_e(d['label'])} ({d['mean_gap']:+.2f})" for d in exceeded) + ".")
    if within:
        sentences.append("The gap is within sampling noise for " + ", ".join(_e(d["label"]) for d in within) + ".")
    rows = "".join(
        f"<tr><td>{_e(d['label'])}</td><td>{d['mean_perception']:.2f}</td><td>{d['mean_expectation']:.2f}</td>"
        f"<td>{d['mean_gap']:+.2f}<br><span class='muted'>{d['ci_low']:+.2f} – {d['ci_high']:+.2f}</span></td>"
        f"<td>{_e(format_p(d['p_t_holm']))}</td><td>{_e(format_p(d['p_wilcoxon_holm']))}</td>"
        f"<td>{_pct_ci(d['unmet_share'], d['unmet_ci_low'], d['unmet_ci_high'])}</td><td>{d['n']:,}</td></tr>"
        for d in dims)
    table = ("<table><tr><th>dimension</th><th>perception</th><th>expectation</th><th>gap (95% CI)</th>"
             "<th>paired t (Holm)</th><th>Wilcoxon (Holm)</th><th>not met (gap &lt; 0)</th><th>base</th></tr>"
             f"{rows}</table>")
    extra = ""
    d = g.get("disconfirmation")
    if d:
        coef_rows = "".join(_coef_row(c["term"], c) for c in d["coefficients"] if c["term"] != "const")
        extra += (f"<h3>Disconfirmation regression</h3><p>Overall satisfaction on all gaps at once (R² = "
                  f"{d['r2']:.2f}, n = {d['nobs']:,.0f}, HC3 errors): the satisfaction points gained per point "
                  f"of gap closed, holding the other gaps fixed.</p><table><tr><th>gap</th><th>coefficient</th>"
                  f"<th>95% CI</th><th>p</th></tr>{coef_rows}</table>")
    m = g.get("mediation")
    if m:
        ind, direct, total = m["indirect"], m["direct"], m["total"]
        extra += (f"<h3>Does closing a gap pay off? (mediation)</h3><p>Raising a customer's mean gap from −1 to 0 "
                  f"changes {_e(m['outcome'])} by <b>{total['estimate']:+.2f}</b> in total "
                  f"(95% CI {total['ci_low']:+.2f} to {total['ci_high']:+.2f}); "
                  f"<b>{ind['estimate']:+.2f}</b> of it through satisfaction (indirect effect, "
                  f"{_e(format_p(ind['p']))}) and {direct['estimate']:+.2f} directly ({_e(format_p(direct['p']))}"
                  f"{'' if direct['p'] < 0.05 else ', within sampling noise'}).</p>"
                  f"<p class='note'>{_e(m['method'])}, {m['replicates']} replicates, fitted on {_e(m['rows'])}. "
                  f"Exposure: {_e(m['exposure'])}.</p>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in g.get("notes", []))
    return _wrap("<p>" + " ".join(sentences) + "</p>" + table
                 + "<p class='note'>Gap = perception − expectation on the same scale; tests are Holm-adjusted across "
                   "dimensions.</p>" + (f"<ul class='note'>{notes}</ul>" if notes else "") + extra)


def gap_rows(results: Results) -> list[dict[str, Any]]:
    """Rows for :func:`csatlib.charts.gap_chart`."""
    g = results.models.get("gap")
    return list(g["dimensions"]) if g else []
