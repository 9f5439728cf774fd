"""The evidence behind the numbers: verbatim comments, data quality and what the report leaves out."""
from __future__ import annotations

import re
from typing import Any

from ...results import Results
from ..labels import Labels, humanise
from ..wording import finite, fmt, plural
from .markup import Fragment, data_table, esc, num, section, td, th_row
from .outline import skipped_analyses

__all__ = ["verbatims_section", "quality_section", "skipped_section", "column_name"]


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
        head = f"{esc(labels.segment(col))}: {esc(g['segment'])}" if col else esc(g.get("segment", "All respondents"))
        quotes = []
        for q in g.get("sample") or []:
            if isinstance(q, dict):
                score = q.get("satisfaction")
                tag = q.get("group") or ""
                who = (f"satisfaction {num(score)}" + (f"/{num(sat_scale.high)}" if sat_scale else "")
                       if finite(score) else "satisfaction not given")
                quotes.append(f"<blockquote class='{esc(tag)}'><p>{esc(q.get('text', ''))}</p>"
                              f"<footer>{esc(who)}{' · ' + esc(tag) if tag else ''}</footer></blockquote>")
            else:
                quotes.append(f"<blockquote><p>{esc(q)}</p></blockquote>")
        parts.append(f"<h3>{head} <span class='muted'>({plural(int(g.get('comments') or 0), 'comment')}, "
                     f"{len(quotes)} shown)</span></h3>{''.join(quotes)}")
    if withheld:
        parts.append(f"<p class='note'>{plural(withheld, 'comment')} from segments below the minimum base "
                     f"{'is' if withheld == 1 else 'are'} not quoted.</p>")
    return section("verbatims", "Verbatim comments", "".join(parts))


# ----------------------------------------------------------------------------------------
# data quality
def column_name(labels: Labels, column: Any) -> str:
    """A data column as the page names it: item or dimension label, role, or a readable name."""
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
        rows = ["<tr>" + th_row(esc(str(x.get("reason", "")).capitalize()))
                + td(esc(column_name(labels, x.get("column")) or "–"), css="text")
                + td(f"{int(x.get('rows') or 0):,}", int(x.get("rows") or 0)) + "</tr>" for x in reasons]
        parts.append(data_table(["reason", "question", "rows"], rows, "Why rows were set aside"))
        several = (f"A row can fail several checks, so the reasons add up to {total:,} against {quarantined:,} rows "
                   f"set aside." if total > quarantined else
                   "A row can fail several checks; here each row set aside failed one.")
        parts.append(f"<p class='note'>{several}</p>")
    if results.quality.blocking_failures:
        parts.append("<p><b>Blocking problems:</b> " + "; ".join(esc(b) for b in results.quality.blocking_failures)
                     + "</p>")
    checked = results.quality.expectations_checked
    failed = len(results.quality.failed_expectations)
    if checked:
        parts.append(f"<p class='note'>{checked} validation checks ran ({failed} found rows to set aside); each is "
                     f"listed in the <a href='#appendix-checks'>appendix</a> and in "
                     f"<a href='validation.json'>validation.json</a>.</p>")
    return section("quality", "Data quality", "".join(parts))


# ----------------------------------------------------------------------------------------
# not in this report


def skipped_section(results: Results) -> Fragment:
    """Analyses the spec leaves out (by key of ``results.skipped``), so none looks forgotten."""
    skipped = skipped_analyses(results)
    if not skipped:
        return Fragment("")
    return section("not-included", "Not in this report",
                    "<ul class='note'>" + "".join(f"<li data-analysis='{esc(k)}'>{esc(v)}</li>"
                                                  for k, v in skipped.items()) + "</ul>")
