"""What a reviewer takes away: ``tables.xlsx`` (every report table) and ``report.pdf``.

Both are written beside report.html, atomically, from the same results.json the page shows:

* ``tables.xlsx`` (openpyxl): one sheet per report table, every number unrounded with its 95%
  interval, base (n, effective n), p value and significance, so a spreadsheet and the page can
  never disagree. Text from the data is written as text, never as a formula.
* ``report.pdf``: headless Chromium's print of the page with every appendix opened (inline SVG
  charts and the embedded CJK font come along). Without Chromium the PDF is skipped with a
  note; the run itself does not fail.

:func:`write_exports` is what ``csat run`` (and ``csat batch``, without the PDF) calls once
report.html exists; it also fills in the page's links to the files that are really there.
"""
from __future__ import annotations

import html
import io
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..output import atomic_write_bytes, atomic_write_text
from ..results import Results, load_results
from .labels import Labels
from .priorities import priority_table
from .variance import effective_n, estimate_errors
from .views import FILES_MARKER, SIBLING_FILES

if TYPE_CHECKING:
    from .browser import Chromium

__all__ = ["write_tables", "write_pdf", "write_exports", "link_files", "report_tables", "EXPORT_FILES"]

EXPORT_FILES = ("tables.xlsx", "report.pdf")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _rows_of(records: Iterable[dict[str, Any]], columns: list[str]) -> list[list[Any]]:
    return [[r.get(c) for c in columns] for r in records]


def report_tables(results: Results) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every table of the report as ``(sheet name, columns, rows)``, numbers unrounded."""
    labels = Labels(results)
    est_cols = ["estimate", "ci_low", "ci_high", "n", "n_eff"]
    tables: list[tuple[str, list[str], list[list[Any]]]] = []
    # headline KPIs (every unsegmented estimate that is not a gap or driver share), with changes
    kpi_rows = []
    for e in results.estimates:
        if e.segment is not None or e.id.startswith(("change.", "gap.", "driver.")):
            continue
        ch = results.get(f"change.{e.id}")
        kpi_rows.append([e.id, labels.kpi(e.id), e.estimate, e.ci_low, e.ci_high, e.n, e.n_eff,
                         ch.estimate if ch else None, ch.ci_low if ch else None, ch.ci_high if ch else None,
                         ch.p if ch else None, ch.p_adjusted if ch else None, ch.significant if ch else None])
    tables.append(("KPIs", ["id", "measure", *est_cols, "change", "change_ci_low", "change_ci_high", "change_p",
                            "change_p_holm", "change_significant"], kpi_rows))
    # priorities
    pt = priority_table(results, labels)
    if pt is not None:
        tables.append(("Priorities", ["dimension", "attribute", "verdict", "borderline", "importance",
                                      "importance_ci_low", "importance_ci_high", "performance", "performance_ci_low",
                                      "performance_ci_high", "gap", "gap_ci_low", "gap_ci_high", "gap_significant",
                                      "below_expectation"],
                       [[p.dimension, p.label, p.verdict, p.borderline, p.importance, p.importance_low,
                         p.importance_high, p.performance, p.performance_low, p.performance_high, p.gap, p.gap_low,
                         p.gap_high, p.gap_significant, p.unmet_share] for p in pt.rows]))
    # segments: one sheet per segment column
    columns: list[str] = []
    for e in results.estimates:
        for c in (e.segment or {}):
            if c not in columns:
                columns.append(c)
    for column in columns:
        rows = [[str(e.segment[column]), e.id, labels.kpi(e.id), e.estimate, e.ci_low, e.ci_high, e.n, e.n_eff, e.p,
                 e.p_adjusted, e.significant, e.suppressed]
                for e in results.estimates if e.segment and column in e.segment]
        tables.append((f"By {column}", [column, "id", "measure", *est_cols, "p_vs_rest", "p_holm", "significant",
                                        "suppressed"], rows))
    if results.trend:
        rows = [[row["wave"], id, labels.kpi(id), v.get("estimate"), v.get("ci_low"), v.get("ci_high"), v.get("n")]
                for row in results.trend for id, v in row.items() if id != "wave" and isinstance(v, dict)]
        tables.append(("Trend", ["wave", "id", "measure", "estimate", "ci_low", "ci_high", "n"], rows))
    if results.gap is not None and len(results.gap.table):
        cols = [c for c in ["dimension", "mean_perception", "mean_expectation", "mean_gap", "ci_low", "ci_high", "se",
                            "p_t", "p_t_holm", "p_wilcoxon", "p_wilcoxon_holm", "significant", "unmet_share",
                            "unmet_ci_low", "unmet_ci_high", "n", "n_eff"] if c in results.gap.table]
        recs = results.gap.table.to_dict(orient="records")
        tables.append(("Gaps", ["attribute", *cols], [[labels.dimension(r["dimension"]), *[r.get(c) for c in cols]]
                                                       for r in recs]))
    for key, d in (("Drivers", results.drivers), ("Gap drivers", results.drivers_gap)):
        if d is not None and len(d.table):
            cols = [c for c in ["dimension", "lmg", "lmg_share", "lmg_share_ci_low", "lmg_share_ci_high", "rw",
                                "rw_share", "rw_share_ci_low", "rw_share_ci_high", "std_coefficient", "sign",
                                "performance"] if c in d.table]
            recs = d.table.to_dict(orient="records")
            tables.append((key, ["attribute", *cols, "r2", "n"],
                           [[labels.dimension(r["dimension"]), *[r.get(c) for c in cols], d.r2, d.n] for r in recs]))
    model_rows = []
    for m in results.loyalty:
        for model in (m.linear, m.logit):
            if model is not None:
                for term, c in model.coefficients.iterrows():
                    model_rows.append([m.outcome, model.model, model.cov_type, str(term), c.get("estimate"),
                                       c.get("se"), c.get("ci_low"), c.get("ci_high"), c.get("p"), model.nobs])
    if results.gap is not None and results.gap.disconfirmation is not None:
        d = results.gap.disconfirmation
        for term, c in d.coefficients.iterrows():
            model_rows.append(["satisfaction", d.model, d.cov_type, str(term), c.get("estimate"), c.get("se"),
                               c.get("ci_low"), c.get("ci_high"), c.get("p"), d.nobs])
    if model_rows:
        tables.append(("Models", ["outcome", "model", "cov_type", "term", "estimate", "se", "ci_low", "ci_high", "p",
                                  "nobs"], model_rows))
    curve_rows = [[m.outcome, p.get("satisfaction"), p.get("estimate"), p.get("ci_low"), p.get("ci_high"), p.get("n")]
                  for m in results.loyalty for p in m.curve.points.to_dict(orient="records")]
    if curve_rows:
        tables.append(("Loyalty curves", ["outcome", "satisfaction", "estimate", "ci_low", "ci_high", "n"], curve_rows))
    if results.gap is not None and results.gap.mediation:
        m = results.gap.mediation
        rows = [[k, v.get("estimate"), v.get("ci_low"), v.get("ci_high"), v.get("p"), m.get("n")]
                for k, v in m.items() if isinstance(v, dict)]
        tables.append(("Mediation", ["effect", "estimate", "ci_low", "ci_high", "p", "n"], rows))
    r = results.rows
    tables.append(("Rows", ["rows", "count"], [[key, count] for key, count in r.items()]))
    if results.quality.reasons:
        tables.append(("Quarantine reasons", ["reason", "column", "rows"],
                       _rows_of(results.quality.reasons, ["reason", "column", "rows"])))
    return tables


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "Sheet"
    base = base[:31]
    out, k = base, 2
    while out.lower() in used:
        suffix = f" ({k})"
        out = base[:31 - len(suffix)] + suffix
        k += 1
    used.add(out.lower())
    return out


def write_tables(results: Results, path: str | Path) -> Path:
    """``tables.xlsx``: an *About* sheet, then one sheet per report table (atomic write)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    about = wb.active
    about.title = "About"
    info = [["survey", results.survey], ["wave", results.wave], ["previous wave", results.previous_wave],
            ["weighted", results.weighted], ["csat version", results.provenance.versions.get("csatlib")],
            ["note", "Every number as in results.json, unrounded; intervals are 95%; p_holm is Holm-adjusted; "
                     "suppressed segments have no estimate."],
            ["n_eff", effective_n(results)], ["standard errors", estimate_errors(results)]]
    for row in info:
        _append(about, row)
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 90
    used = {"about"}
    bold = Font(bold=True)
    for name, columns, rows in report_tables(results):
        ws = wb.create_sheet(_sheet_name(name, used))
        _append(ws, columns)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            _append(ws, row)
        ws.freeze_panes = "B2"
        for i, col in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(str(col)) + 4))
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


def _append(ws, values: list[Any]) -> None:
    """Append a row; text is stored as text (a leading ``=`` never becomes a formula)."""
    import math

    clean = []
    for v in values:
        if hasattr(v, "item"):  # numpy scalar
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        clean.append(v)
    ws.append(clean)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def link_files(page: str, names: Iterable[str]) -> str:
    """Fill the header's file list with links to ``names`` (sibling files that exist)."""
    labels = dict(SIBLING_FILES)
    links = "".join(f'<a href="{html.escape(n)}" data-file="{html.escape(n)}">{html.escape(labels.get(n, n))}</a>'
                    for n in names)
    links += '<a href="../index.html">All reports</a>'
    return page.replace(FILES_MARKER, links, 1)


def write_pdf(html_path: Path, pdf_path: Path, browser: "Chromium | None" = None) -> Path:
    """``report.pdf`` from report.html with every appendix open (atomic write).

    ``browser``: a :class:`~csatlib.report.browser.Chromium` already running (started while the
    notebook executed), else a Chromium is started for this print alone.

    Raises
    ------
    csatlib.report.browser.BrowserError
        Chromium is missing or failed.
    """
    from .browser import BrowserError, print_to_pdf

    page = Path(html_path).read_text(encoding="utf-8")
    printable = re.sub(r"<details(?![^>]*\bopen\b)", "<details open", page)
    with tempfile.TemporaryDirectory(prefix="csat-print-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(printable, encoding="utf-8")
        out = Path(tmp) / "report.pdf"
        try:
            if browser is None:
                raise BrowserError("no running browser")
            browser.print_pdf(src, out)
        except BrowserError:  # none running, or it broke: a Chromium of its own for this print
            print_to_pdf(src, out)
        return atomic_write_bytes(pdf_path, out.read_bytes())


def write_exports(folder: str | Path, pdf: bool = True, progress: Callable[[str], None] | None = None,
                  browser: "Chromium | None" = None) -> list[Path]:
    """Write tables.xlsx (and report.pdf) beside report.html and results.json in ``folder``,
    and link every sibling file that exists from the page's header. Returns the files written.

    Chromium prints the PDF in its own process while the workbook is written, so the two cost
    about as much as the slower one; ``browser`` is a Chromium already started (see
    :func:`write_pdf`). A missing or failing Chromium skips the PDF with a note on
    ``progress``; the rest stands.
    """
    import threading

    from .browser import BrowserError, find_chromium

    folder = Path(folder)
    page_path = folder / "report.html"
    page = page_path.read_text(encoding="utf-8")
    present = [n for n, _ in SIBLING_FILES if n == "tables.xlsx" or (folder / n).is_file()]
    failure: list[BaseException] = []
    printer = None
    if pdf and find_chromium() is not None:
        atomic_write_text(page_path, link_files(page, ["report.pdf", *present]))

        def print_pdf() -> None:
            try:
                write_pdf(page_path, folder / "report.pdf", browser)
            except BaseException as exc:  # reported below, in the calling thread
                failure.append(exc)

        printer = threading.Thread(target=print_pdf, name="csat-print-pdf", daemon=True)
        printer.start()
    elif pdf and progress:
        import os

        progress("report.pdf skipped: " + ("CSAT_CHROMIUM is set empty" if os.environ.get("CSAT_CHROMIUM") == ""
                                           else "no Chromium found (install chromium, or set CSAT_CHROMIUM)"))
    try:
        written = [write_tables(load_results(folder), folder / "tables.xlsx")]
    finally:
        if printer is not None:
            printer.join()
    if printer is not None and not failure:
        return [*written, folder / "report.pdf"]
    if failure and not isinstance(failure[0], BrowserError):
        raise failure[0]
    if failure and progress:
        progress(f"report.pdf skipped: {failure[0]}")
    atomic_write_text(page_path, link_files(page, present))
    return written
