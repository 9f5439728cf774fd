"""Satisfaction → loyalty and the expectation gaps: the shape of each loyalty curve and the gap
analysis, in words and charts, each model with the standard errors it recorded."""
from __future__ import annotations

import math
from typing import Any

from ...results import ALPHA, LoyaltyModel, ModelSummary, Results
from .. import charts
from ..labels import Labels
from ..variance import estimate_errors, loyalty_variance, mediation_variance, model_variance, test_name
from ..wording import finite, fmt, fmt_change, fmt_ci, format_p
from .markup import Fragment, ci_span, data_table, esc, num, section, td, th_row

__all__ = ["loyalty_section", "gaps_section", "loyalty_label"]


# ----------------------------------------------------------------------------------------
# loyalty
def loyalty_label(labels: Labels, m: LoyaltyModel) -> str:
    """How the page names a loyalty outcome: the item's label, or the promoter share of the NPS item."""
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
        name = loyalty_label(labels, m)
        binary = m.kind == "binary"
        kind = "rate" if binary else "mean"
        scale = labels.scale(f"loyalty.{m.outcome}.score")
        unit = ""
        c, nl = m.curve, m.nonlinearity
        if nl.get("nonlinear") and finite(c.steepest_from, c.steepest_to, c.steepest_rise):
            rise = fmt_change("rate" if binary else "mean", c.steepest_rise)
            typical = fmt_change("rate" if binary else "mean", c.typical_rise) if finite(c.typical_rise) else "–"
            sentence = (f"{name} does not rise evenly with satisfaction ({test_name(nl)}, {format_p(nl.get('p'))}): "
                        f"it rises most steeply from {num(c.steepest_from)} to {num(c.steepest_to)} ({rise}{unit}), "
                        f"against a median of {typical}{unit} per point elsewhere.")
        else:
            slope = _coef(m.linear, "satisfaction")
            sentence = (f"{name} rises about evenly with satisfaction "
                        f"({fmt_change('rate' if binary else 'mean', slope['estimate'])}{unit} per point)."
                        if slope and finite(slope.get("estimate")) else m.sentence)
        parts.append(f"<h3>{esc(name)}</h3><p>{esc(sentence)}</p>")
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
        parts.append(f"<p class='note'>{esc(base)} {esc(notes)}</p>")
    parts.append("<p class='note'>These curves describe how loyalty differs between more and less satisfied "
                 "customers in this wave: an association across customers, not a measured effect of raising "
                 "anyone's satisfaction. Model coefficients are in the <a href='#appendix-models'>appendix</a>.</p>")
    return section("loyalty", "Satisfaction → loyalty", "".join(parts))


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
            f"<b>{esc(name(d))}</b> ({esc(fmt('gap', d['mean_gap']))}; {esc(fmt('rate', d['unmet_share']))} below "
            f"expectation)" for d in unmet) + ".")
    if exceeded:
        sentences.append("Perceptions significantly exceed expectations on "
                         + ", ".join(f"{esc(name(d))} ({esc(fmt('gap', d['mean_gap']))})" for d in exceeded) + ".")
    if within:
        sentences.append("The gap is within sampling noise for " + ", ".join(esc(name(d)) for d in within) + ".")
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
        rows.append("<tr>" + th_row(esc(name(d)), name(d))
                    + td(esc(fmt("mean", d.get("mean_perception"))), d.get("mean_perception"))
                    + td(esc(fmt("mean", d.get("mean_expectation"))), d.get("mean_expectation"))
                    + td(f"{esc(fmt('gap', d['mean_gap']))} {ci_span('gap', d.get('ci_low'), d.get('ci_high'))}",
                          d["mean_gap"])
                    + td(f"{esc(fmt('rate', d.get('unmet_share')))} "
                          f"{ci_span('rate', d.get('unmet_ci_low'), d.get('unmet_ci_high'))}", d.get("unmet_share"))
                    + td(esc(format_p(d.get("p_t_holm"))), d.get("p_t_holm"))
                    + td(f"{int(d['n']):,}" if finite(d.get("n")) else "–", d.get("n")) + "</tr>")
    table = data_table(["attribute", "perception", "expectation", "gap (95% CI)", "below expectation (95% CI)",
                    "paired t, Holm", "base"], rows, "Expectation gap per attribute")
    extra = ""
    disc = g.disconfirmation
    if disc is not None and disc.coefficients is not None and len(disc.coefficients):
        coefs = [(t, r) for t, r in disc.coefficients.iterrows() if t != "const"]
        sig = [(t, r) for t, r in coefs if finite(r.get("p")) and r["p"] < ALPHA]
        strongest = max(sig, key=lambda tr: abs(tr[1]["estimate"])) if sig else None
        r2 = disc.extra.get("r2")
        extra += ("<h3>Satisfaction and the gaps</h3><p>Regressing overall satisfaction on all gaps at once "
                  f"(R² = {esc(fmt('share', r2)) if finite(r2) else '–'}, n = {disc.nobs:,.0f}): "
                  + (f"customers whose perception of <b>{esc(labels.dimension(strongest[0]))}</b> is one point "
                     f"higher relative to their expectation are {esc(fmt('mean', abs(strongest[1]['estimate'])))} "
                     f"points {'more' if strongest[1]['estimate'] > 0 else 'less'} satisfied on average, other gaps "
                     f"equal (the strongest of the {len(sig)} significant gaps)."
                     if strongest else "no gap is significantly associated with satisfaction once the others are "
                                       "held equal.")
                  + f" {esc(model_variance(disc, 'The regression', results))}</p>")
    m = g.mediation
    if m and all(isinstance(m.get(k), dict) for k in ("indirect", "direct", "total")):
        ind, direct, total = m["indirect"], m["direct"], m["total"]
        extra += (f"<h3>Gaps, satisfaction and {esc(m.get('outcome', 'loyalty'))}</h3><p>Customers whose mean gap "
                  f"is one point closer to their expectations (−1 → 0) report {esc(m.get('outcome', 'loyalty'))} "
                  f"{esc(fmt('mean', abs(total['estimate'])))} {'higher' if total['estimate'] >= 0 else 'lower'} "
                  f"(95% CI {esc(fmt_ci('gap', total['ci_low'], total['ci_high']))}), "
                  f"{esc(fmt_change('mean', ind['estimate']))} of it alongside higher satisfaction "
                  f"({esc(format_p(ind.get('p')))}) and {esc(fmt_change('mean', direct['estimate']))} apart from it "
                  f"({esc(format_p(direct.get('p')))}"
                  f"{'' if finite(direct.get('p')) and direct['p'] < ALPHA else ', within sampling noise'}). "
                  f"{esc(mediation_variance(m, results))}</p>")
    if extra:
        extra += ("<p class='note'><b>Associations, not effects.</b> Both analyses compare different customers "
                  "in one survey wave (a single cross-section): they show that smaller gaps go with higher "
                  "satisfaction and loyalty, not that closing a gap would raise them. Model details are in the "
                  "<a href='#appendix-models'>appendix</a>.</p>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in g.notes)
    errors = esc(estimate_errors(results, "Mean gaps and shares below expectation"))
    return section("gaps", "Expectation gaps",
                    "<p>" + " ".join(sentences) + "</p>" + fig + table
                    + "<p class='note'>Gap = perception − expectation on the same scale; tests are Holm-adjusted "
                      f"across attributes. {errors}</p>" + (f"<ul class='note'>{notes}</ul>" if notes else "") + extra)
