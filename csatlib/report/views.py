"""The report's sections as HTML fragments, built from typed :class:`~csatlib.results.Results`.

The report notebook displays these one by one; keeping them here makes them testable and the
notebook thin. The order of the page is the reviewer's: key findings first, then the headline
KPIs (each with its change once), the single priority table, segments, loyalty, gaps and
verbatims, data quality, and the method details in collapsible appendices.

Every piece of text that comes from the data (labels, segment values, comments, file names)
goes through :func:`html.escape`, so a comment holding ``<script>`` shows as text. Views read
results; they compute nothing statistical (the borderline rule of the priority table lives in
:mod:`csatlib.report.priorities`, the wording of standard errors in :mod:`csatlib.report.variance`).

This module gathers the page; each job has its module in :mod:`csatlib.report.page`:
``markup`` (HTML building blocks), ``outline`` (the sections present and the header),
``headline`` (findings, KPIs, trend), ``breakdown`` (priorities, index, segments, weights),
``associations`` (loyalty and gaps), ``evidence`` (verbatims, data quality, what is left out)
and ``appendix``.
"""
from __future__ import annotations

import datetime as _dt
from typing import Callable

from ..results import Results
from .page.appendix import appendix_section
from .page.associations import gaps_section, loyalty_section
from .page.breakdown import index_section, priorities_section, questionnaire_and_weights_section, segments_section
from .page.evidence import quality_section, skipped_section, verbatims_section
from .page.headline import findings_section, headline_estimates, kpi_section, trend_section
from .page.markup import Fragment, heading
from .page.outline import FILES_MARKER, HEADLINE, SIBLING_FILES, Section, header, sections, title

__all__ = ["Fragment", "Section", "sections", "header", "findings_section", "kpi_section", "trend_section",
           "index_section", "questionnaire_and_weights_section",
           "priorities_section", "segments_section", "loyalty_section", "gaps_section", "verbatims_section",
           "quality_section", "skipped_section", "appendix_section", "report_body", "FILES_MARKER",
           "SIBLING_FILES", "heading", "title", "HEADLINE", "SECTION_VIEWS", "headline_estimates"]

SECTION_VIEWS: dict[str, Callable[[Results], Fragment]] = {
    "findings": findings_section, "kpis": kpi_section, "trend": trend_section, "priorities": priorities_section,
    "segments": segments_section, "loyalty": loyalty_section, "gaps": gaps_section,
    "verbatims": verbatims_section, "quality": quality_section, "not-included": skipped_section,
    "appendix": appendix_section, "index": index_section, "questionnaire": questionnaire_and_weights_section}


def report_body(results: Results, run_date: _dt.datetime | None = None) -> Fragment:
    """The whole page body (header, contents and every section) as one fragment."""
    return Fragment(header(results, run_date) + "".join(SECTION_VIEWS[s.id](results) for s in sections(results)))
