"""The methods appendix: methods, model details with their standard errors, validation checks and
provenance, each collapsible."""
from __future__ import annotations

import json
from typing import Callable

from ...results import ModelSummary, Results
from ..labels import Labels, humanise
from ..variance import (bootstrap_caveat, design_methods, gap_methods, loyalty_methods, mediation_rows,
                        mediation_variance, model_name, model_variance, shape_test)
from ..wording import SMALL_CHANGE, finite, fmt, format_p
from .markup import Fragment, ci_span, data_table, esc, section, td, th_row
from .associations import loyalty_label
from .evidence import column_name

__all__ = ["appendix_section"]


# ----------------------------------------------------------------------------------------
# appendix
def _model_table(model: ModelSummary, name: Callable[[str], str], caption: str) -> str:
    rows = []
    for term, c in model.coefficients.iterrows():
        rows.append("<tr>" + th_row(esc(name(str(term))))
                    + td(esc(f"{c.get('estimate'):.3f}") if finite(c.get("estimate")) else "–", c.get("estimate"))
                    + td(esc(f"{c.get('se'):.3f}") if finite(c.get("se")) else "–", c.get("se"))
                    + td(esc(f"{c.get('ci_low'):.3f} to {c.get('ci_high'):.3f}")
                          if finite(c.get("ci_low"), c.get("ci_high")) else "–")
                    + td(esc(format_p(c.get("p"))), c.get("p")) + "</tr>")
    return data_table(["term", "estimate", "SE", "95% CI", "p"], rows, caption, sortable=False)


def _details(id: str, summary: str, body: str) -> str:
    return f"<details id='{id}'><summary>{esc(summary)}</summary><div class='details-body'>{body}</div></details>"


def appendix_section(results: Results) -> Fragment:
    """Methods, model details, validation checks and provenance, each collapsible."""
    labels = Labels(results)
    t = results.quality.thresholds
    how = {k: esc(v) for k, v in design_methods(results).items()}
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
                     f"segments and KPIs. Segments with fewer than {esc(t.get('min_base', '–'))} clean respondents are "
                     "suppressed (listed, not estimated) and never quoted."),
        ("Weighting", how["weighting"]),
        ("Satisfaction → loyalty", "per loyalty item OLS and an ordered logit; for promoter status a logit and a "
                                   "linear probability model. Shape: one dummy per satisfaction point against the "
                                   "straight line" + esc(loyalty_methods(results))),
        ("Expectation gaps", "perception − expectation; mean with t interval, paired t and Wilcoxon signed-rank "
                             "tests, Holm-adjusted; share with gap &lt; 0 (Wilson). Disconfirmation regression of "
                             "satisfaction on all gaps and a mediation analysis gap → satisfaction → loyalty: "
                             "both describe associations in one cross-section. " + esc(gap_methods(results))),
        ("Priorities", "importance = Shapley/LMG share of R² (Lindeman, Merenda &amp; Gold) with a seeded bootstrap "
                       "interval; performance = mean perception. Verdict lines at the average importance (1 / number "
                       "of attributes) and the average performance (Martilla &amp; James 1977); an attribute whose "
                       "interval crosses a line is borderline." + esc(bootstrap_caveat(results))),
    ]
    body = _details("appendix-methods", "Methods", "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in methods)
                    + "</dl>")
    # model details
    models = []
    name_sat = lambda term: labels.satisfaction if term == "satisfaction" else term  # noqa: E731
    for m in results.loyalty:
        title_ = loyalty_label(labels, m)
        for model in (m.linear, m.logit):
            if model is not None:
                models.append(f"<h4>{esc(title_)}: {esc(model_name(model))}</h4>"
                              + _model_table(model, name_sat, f"{title_}: {model_name(model)}")
                              + f"<p class='note'>{esc(model_variance(model, model_name(model), results))}</p>")
        if shape_test(m.nonlinearity):
            models.append(f"<p class='note'>{esc(shape_test(m.nonlinearity, results))}</p>")
    if results.gap is not None and results.gap.disconfirmation is not None:
        d = results.gap.disconfirmation
        models.append(f"<h4>{esc(model_name(d))}</h4>"
                      + _model_table(d, lambda t_: labels.dimension(t_) if t_ != "const" else "intercept",
                                     "Disconfirmation regression")
                      + f"<p class='note'>{esc(model_variance(d, 'The regression', results))}</p>")
    if results.gap is not None and results.gap.mediation:
        m = results.gap.mediation
        rows = []
        for key, label in (("indirect", "through satisfaction (indirect)"), ("direct", "apart from satisfaction"),
                           ("total", "total"), ("proportion_mediated", "share through satisfaction")):
            v = m.get(key)
            if isinstance(v, dict):
                rows.append("<tr>" + th_row(esc(label)) + td(esc(f"{v.get('estimate'):.3f}"))
                            + td(esc(f"{v.get('ci_low'):.3f} to {v.get('ci_high'):.3f}"))
                            + td(esc(format_p(v.get("p")))) + "</tr>")
        models.append(f"<h4>Mediation: mean gap → satisfaction → {esc(m.get('outcome', ''))}</h4>"
                      + data_table(["association", "estimate", "95% CI", "p"], rows, "Mediation", sortable=False)
                      + f"<p class='note'>{esc(m.get('method', ''))}, {esc(m.get('replicates', ''))} replicates, on "
                        f"{esc(mediation_rows(m, results.rows.get('clean')))}. Exposure: {esc(m.get('exposure', ''))}. "
                        f"{esc(mediation_variance(m, results))} An association in one cross-section, not a causal "
                        "effect.</p>")
    for key, d in (("perception", results.drivers), ("gap", results.drivers_gap)):
        if d is None:
            continue
        rows = []
        for r in d.table.sort_values("lmg_share", ascending=False).to_dict(orient="records"):
            rows.append("<tr>" + th_row(esc(labels.dimension(r["dimension"])))
                        + td(f"{esc(fmt('share', r.get('lmg_share')))} "
                              f"{ci_span('share', r.get('lmg_share_ci_low'), r.get('lmg_share_ci_high'))}", r.get("lmg_share"))
                        + td(f"{esc(fmt('share', r.get('rw_share')))} "
                              f"{ci_span('share', r.get('rw_share_ci_low'), r.get('rw_share_ci_high'))}", r.get("rw_share"))
                        + td(esc(f"{r.get('std_coefficient'):+.3f}".replace("-", "−"))
                              if finite(r.get("std_coefficient")) else "–", r.get("std_coefficient")) + "</tr>")
        what = "perception scores" if key == "perception" else "expectation gaps (perception − expectation)"
        models.append(f"<h4>Relative importance of the {what}</h4>"
                      f"<p class='note'>R² = {esc(fmt('share', d.r2))}, n = {d.n:,}; {esc(d.method)}.</p>"
                      + data_table(["attribute", "Shapley/LMG share", "Johnson's weight share", "standardised β"], rows,
                               f"Relative importance of the {what}"))
    if models:
        body += _details("appendix-models", "Model details", "".join(models))
    # validation checks
    failed = results.quality.failed_expectations
    if failed or results.quality.expectations_checked:
        rows = ["<tr>" + th_row(esc(humanise(f.get("check") or f.get("type", ""))))
                + td(esc(column_name(labels, f.get("column")) or "whole table"), css="text")
                + td(esc(f.get("severity", "")), css="text")
                + td(f"{int(f['unexpected_count']):,}" if finite(f.get("unexpected_count")) else "–",
                      f.get("unexpected_count"))
                + td(f"<code>{esc(f.get('type', ''))}</code>", css="text") + "</tr>" for f in failed]
        text = (f"<p>{results.quality.expectations_checked} Great Expectations checks ran; "
                f"{len(failed)} found rows to set aside (the same rows as the reasons in the data-quality "
                f"section, counted per check).</p>")
        body += _details("appendix-checks", "Validation checks",
                         text + (data_table(["check", "question", "severity", "rows", "expectation"], rows,
                                        "Validation checks that found problems", sortable=False) if rows else ""))
    # provenance
    prov = results.provenance
    inp = prov.input or {}
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in (prov.versions or {}).items())
    spec_json = esc(json.dumps(prov.spec, ensure_ascii=False, indent=2))
    # what the reader decided on its own (rows above or below the header skipped, an encoding
    # detected, cells normalised or cut): a reviewer sees it without opening validation.json
    notes = "".join(f"<li>{esc(str(n))}</li>" for n in inp.get("notes") or [])
    reading = f"<p>Reading the file:</p><ul>{notes}</ul>" if notes else ""
    body += _details("appendix-provenance", "Provenance",
                     f"<p>Input file <code>{esc(inp.get('file', '–'))}</code> ({esc(inp.get('format', '–'))}, "
                     f"{esc(inp.get('encoding') or '–')}), SHA-256 <code class='hash'>{esc(inp.get('sha256', '–'))}</code>. "
                     f"PII columns dropped on load: {esc(', '.join(inp.get('pii_dropped') or []) or 'none')}."
                     + (f" Previous wave from <code>{esc(prov.previous)}</code>." if prov.previous else "")
                     + "</p>" + reading
                     + f"<p>Software: {versions}.</p>"
                     f"<details><summary>Survey spec ({esc(prov.spec_file or 'spec')})</summary><pre>{spec_json}</pre>"
                     f"</details>")
    return section("appendix", "Methods appendix", body, "appendix")
