"""What the page holds and its head: the sections present in a run (the table of contents), links
between them, the title and the header."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from ...results import Estimate, Results
from ..labels import Labels
from ..questionnaire import has_questionnaire
from .markup import Fragment, esc

__all__ = ["FILES_MARKER", "SIBLING_FILES", "HEADLINE", "Section", "sections", "other_estimates", "link", "title",
           "header", "segment_columns", "skipped_analyses"]

FILES_MARKER = "<!--csat:files-->"
# sibling files a run writes beside report.html, in the order the header links them
SIBLING_FILES = (("report.pdf", "PDF"), ("tables.xlsx", "Tables (Excel)"), ("results.json", "results.json"),
                 ("validation.json", "validation.json"), ("quarantine.csv", "quarantine.csv"),
                 ("report.ipynb", "notebook"))
HEADLINE = ("satisfaction.score", "satisfaction.rate", "nps")


# ----------------------------------------------------------------------------------------
# what the page holds
@dataclass(frozen=True)
class Section:
    """One section of the page: its anchor ``id``, heading and table-of-contents entry."""

    id: str
    title: str  # the heading
    short: str  # the table-of-contents entry


def other_estimates(results: Results) -> list[Estimate]:
    """Total estimates that are neither headline KPIs nor shown in another section."""
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
    if segment_columns(results):
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
    if skipped_analyses(results):
        out.append(Section("not-included", "Not in this report", "Not included"))
    out.append(Section("appendix", "Methods appendix", "Appendix"))
    return out


def link(results: Results, id: str, text: str | None = None) -> str:
    """A link to section ``id`` when this run's page has it, else an empty string."""
    present = {s.id: s for s in sections(results)}
    if id not in present:
        return ""
    return f'<a href="#{id}">{esc(text or present[id].title)}</a>'


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
    prev = (f" · compared with wave <b>{esc(results.previous_wave)}</b>" if results.previous_wave
            else " · first wave reported: no earlier wave to compare with, so no change is tested")
    weighted = "weighted" if results.weighted else "unweighted"
    toc = "".join(f'<li><a href="#{s.id}">{esc(s.short)}</a></li>' for s in sections(results))
    return Fragment(
        f'<header class="csat page-head"><h1>{esc(title(results))}</h1>'
        f'<p class="meta">{r.get("clean", 0):,} clean responses of {r.get("read", 0):,} read '
        f'({r.get("quarantined", 0):,} set aside) · {weighted}{prev}</p>'
        f'<p class="meta">Run {esc(when.strftime("%Y-%m-%d %H:%M"))} UTC · csat {esc(version)}</p>'
        f'<p class="files">{FILES_MARKER}</p></header>'
        f'<nav class="csat toc" aria-label="Contents"><ul>{toc}</ul></nav>')


def segment_columns(results: Results) -> list[str]:
    """The segment columns with estimates in this run: the spec's order first, then any other."""
    labels = Labels(results)
    present: list[str] = []
    for e in results.estimates:
        for col in (e.segment or {}):
            if col not in present:
                present.append(col)
    ordered = [c for c in labels.segments if c in present]
    return ordered + [c for c in present if c not in ordered]


def skipped_analyses(results: Results) -> dict[str, str]:
    """Every analysis not in the report (by key) with the sentence saying why."""
    out = dict(results.skipped)
    if results.drivers is None and "drivers" not in out:
        out["drivers"] = "Key drivers: not computed in this run."
    if results.gap is None and "gap" not in out:
        out["gap"] = "Expectation gaps: not computed in this run."
    return out
