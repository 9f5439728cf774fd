"""Banner tables on paper: the report's HTML appendix, a workbook and the tidy csv.

Reads a :class:`~csatlib.analysis.banner.BannerTables` (never computes a statistic):

* :func:`appendix` — HTML for the report: one table per question, Total and every banner
  group across the top, letters as superscripts, the test and correction under every table,
  bases in the footer; rows sort by any column with a click (a few lines of inline script, no
  network), the question column stays in view when a wide banner scrolls on a phone;
* :func:`write_xlsx` — ``banner.xlsx``: a contents sheet linking to every table, then one sheet
  per banner group (Total + that group), frozen headers, number formats, letters in their own
  column next to each value (so every value cell stays a number), written atomically;
* :func:`write_csv` — ``banner.csv``: the tidy frame, UTF-8 with a BOM for Excel;
* :func:`page` — a self-contained HTML page of the appendix (``csat tables``).

Every label is escaped: banner values and answer labels come from the data.
"""
from __future__ import annotations

import html
import io
import math
import re
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..results import BANNER_TIDY_COLUMNS as TIDY_COLUMNS
from ..results import BANNER_TOTAL as TOTAL
from ..results import BannerTables
from ..output import atomic_write_bytes, atomic_write_text

__all__ = ["appendix", "appendix_for", "page", "write_xlsx", "write_csv", "read_csv", "sheet_name",
           "BANNER_CSV", "BANNER_XLSX", "BANNER_HTML", "NUMBER_FORMATS", "STAT_LABELS"]

BANNER_CSV, BANNER_XLSX, BANNER_HTML = "banner.csv", "banner.xlsx", "banner.html"

NUMBER_FORMATS = {"share": "0%", "mean": "0.00", "se": "0.000", "n": "#,##0", "n_weighted": "#,##0.0",
                  "n_eff": "#,##0.0"}
NPS_FORMAT = "0.0"
GAP_FORMAT = "+0.00;-0.00;0.00"
STAT_LABELS = {"se": "Standard error", "n": "Base (unweighted)", "n_weighted": "Base (weighted)",
               "n_eff": "Base (effective)"}
"""Row labels of the statistics that are not the stub's own value (shares and means use the stub label)."""

_CSS = """<style>
.csat-banner-wrap{overflow-x:auto;max-width:100%;margin:.3em 0 1.2em}
table.csat-banner{border-collapse:collapse;font-size:12.5px;font-variant-numeric:tabular-nums}
table.csat-banner th,table.csat-banner td{border-bottom:1px solid #e3e8ee;padding:3px 8px;text-align:right;white-space:nowrap}
table.csat-banner th:first-child,table.csat-banner td:first-child{text-align:left;position:sticky;left:0;background:#fff;
 white-space:normal;min-width:9em;max-width:22em}
table.csat-banner thead th{background:#f3f6f9;font-weight:600}
table.csat-banner thead th:first-child{background:#f3f6f9}
table.csat-banner thead tr.cols th[data-col]{cursor:pointer}
table.csat-banner thead tr.cols th[data-dir=desc]::after{content:" ▼";font-size:9px}
table.csat-banner thead tr.cols th[data-dir=asc]::after{content:" ▲";font-size:9px}
table.csat-banner th.g,table.csat-banner td.g{border-left:2px solid #c9d3dd}
table.csat-banner sup{color:#1f5a8a;font-weight:700;margin-left:2px}
table.csat-banner .se{display:block;color:#7a8794;font-size:11px}
table.csat-banner tfoot td{color:#4a5560;font-size:11.5px;background:#fafbfc}
table.csat-banner td.sup{color:#9aa5b1}
.csat-banner-note{color:#4a5560;font-size:12px;margin:.2em 0 0;max-width:60em}
details.csat-banner-table>summary{cursor:pointer;font-weight:600;margin:.4em 0}
</style>"""

_SCRIPT = """<script>(function(){if(window.csatBannerSort)return;window.csatBannerSort=true;
document.addEventListener('click',function(ev){var th=ev.target.closest&&ev.target.closest('table.csat-banner tr.cols th[data-col]');
if(!th)return;var table=th.closest('table'),body=table.tBodies[0],col=+th.getAttribute('data-col'),
dir=th.getAttribute('data-dir')==='desc'?'asc':'desc';
Array.prototype.forEach.call(table.querySelectorAll('tr.cols th'),function(h){h.removeAttribute('data-dir')});
var rows=Array.prototype.slice.call(body.rows);
if(col===0){rows.sort(function(a,b){return a.getAttribute('data-i')-b.getAttribute('data-i')});}
else{th.setAttribute('data-dir',dir);rows.sort(function(a,b){
var x=parseFloat(a.cells[col].getAttribute('data-v')),y=parseFloat(b.cells[col].getAttribute('data-v'));
if(isNaN(x))return isNaN(y)?0:1;if(isNaN(y))return -1;return dir==='desc'?y-x:x-y;});}
rows.forEach(function(r){body.appendChild(r)});});})();</script>"""


class Fragment(str):
    """HTML that Jupyter displays as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _text(value: float, statistic: str, table: str, stub: str) -> str:
    """A value as the tables print it (the workbook keeps the full number)."""
    if _is_nan(value):
        return "*"
    if statistic == "share":
        return f"{100 * value:.0f}%"
    if statistic == "mean":
        if stub == "nps":
            return f"{value:.1f}"
        return f"{value:+.2f}" if table.startswith("gap.") else f"{value:.2f}"
    if statistic == "se":
        return f"{value:.3f}"
    if statistic == "n":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _number_format(statistic: str, table: str, stub: str) -> str:
    if statistic == "mean" and stub == "nps":
        return NPS_FORMAT
    if statistic == "mean" and table.startswith("gap."):
        return GAP_FORMAT
    return NUMBER_FORMATS.get(statistic, "General")


def _columns(tables: BannerTables, groups: Sequence[str] | None = None) -> list[tuple[str, str, str]]:
    """(group, column, letter) of the banner, limited to ``groups`` (the Total always first)."""
    cols = list(tables.columns[["group", "column", "letter"]].itertuples(index=False, name=None))
    return [c for c in cols if c[0] == "" or groups is None or c[0] in groups]


class _Layout:
    """The tidy frame indexed once: table titles, each table's lines in order, every cell."""

    def __init__(self, tables: BannerTables):
        f = tables.frame
        self.titles: dict[str, str] = {}
        self.order: dict[str, dict[tuple[str, str], str]] = {}
        self.cells: dict[tuple[str, str, str, str, str], tuple[float, str]] = {}
        self.tests: dict[str, set[str]] = {}
        for t, tl, stub, sl, stat, g, c, v, let, test in zip(*(f[k].tolist() for k in (
                "table", "table_label", "stub", "stub_label", "statistic", "group", "column", "value", "letters",
                "test"))):
            self.titles.setdefault(t, tl)
            if test:
                self.tests.setdefault(t, set()).add(test)
            self.order.setdefault(t, {}).setdefault(
                (stub, stat), sl if stat in ("share", "mean") else STAT_LABELS.get(stat, stat))
            self.cells[(t, stub, stat, g, c)] = (v, let)

    def blocks(self) -> list[tuple[str, str]]:
        """(table id, title) of every question table (the respondents' table is the header)."""
        return [(t, title) for t, title in self.titles.items() if t != "base"]

    def lines(self, table: str, columns: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        """The printed lines of one table: per (stub, statistic) the cells of ``columns`` in order."""
        nan = (float("nan"), "")
        return [{"stub": stub, "label": label, "statistic": stat,
                 "cells": [self.cells.get((table, stub, stat, g, c), nan) for g, c, _ in columns]}
                for (stub, stat), label in self.order.get(table, {}).items()]


# ---------------------------------------------------------------------------------------------
# HTML
def _html_table(tables: BannerTables, layout: _Layout, tid: str) -> str:
    columns = _columns(tables)
    groups = [g for g in dict.fromkeys(g for g, _, _ in columns)]
    first_of = {g: next(i for i, c in enumerate(columns) if c[0] == g) for g in groups}
    head1 = ["<th></th>"] + [f"<th class='g' style='text-align:center' colspan='{sum(1 for c in columns if c[0] == g)}'>"
                             f"{_e(g)}</th>" for g in groups]
    head2 = ["<th data-col='0' title='original order'>&nbsp;</th>"]
    for j, (g, c, letter) in enumerate(columns):
        cls = " class='g'" if first_of[g] == j else ""
        tag = f"<br><span class='muted'>({_e(letter)})</span>" if letter else ""
        head2.append(f"<th{cls} data-col='{j + 1}'>{_e(c)}{tag}</th>")
    body, foot = [], []
    lines = layout.lines(tid, columns)
    se_of = {ln["stub"]: ln for ln in lines if ln["statistic"] == "se"}
    i = 0
    for ln in lines:
        stat, stub = ln["statistic"], ln["stub"]
        if stat == "se":
            continue
        base = stub == "base"
        cells = []
        for j, (value, letters) in enumerate(ln["cells"]):
            cls = ["g"] if first_of[columns[j][0]] == j else []
            if _is_nan(value) and not base:
                cls.append("sup")
            text = _e(_text(value, stat, tid, stub))
            if letters:
                text += f"<sup>{_e(letters)}</sup>"
            if stat == "mean" and stub in se_of:
                se = se_of[stub]["cells"][j][0]
                if not _is_nan(se):
                    text += f"<span class='se'>±{_e(_text(se, 'se', tid, stub))}</span>"
            v = "" if _is_nan(value) else f"{float(value):.6g}"  # enough to sort by
            cells.append(f"<td{' class=' + chr(39) + ' '.join(cls) + chr(39) if cls else ''} data-v='{v}'>{text}</td>")
        row = f"<td>{_e(ln['label'])}</td>" + "".join(cells)
        if base:
            foot.append(f"<tr>{row}</tr>")
        else:
            body.append(f"<tr data-i='{i}'>{row}</tr>")
            i += 1
    note = _e(tables.footnote(layout.tests.get(tid, ())))
    return (f"<div class='csat-banner-wrap'><table class='csat-banner'><thead><tr>{''.join(head1)}</tr>"
            f"<tr class='cols'>{''.join(head2)}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"<tfoot>{''.join(foot)}</tfoot></table></div><p class='csat-banner-note'>{note}</p>")


def appendix(tables: BannerTables, heading: str = "Appendix: banner tables", open_tables: int = 1) -> Fragment:
    """The banner tables as one HTML fragment for the report (or a notebook).

    Each table is a collapsible block (the first ``open_tables`` open); a click on a column
    header sorts the rows by that column, a click on the corner restores the order.
    """
    cols = tables.columns
    groups = [g for g in dict.fromkeys(cols["group"]) if g]
    shape = "; ".join(f"{_e(g)}: {', '.join(_e(f'{c} ({l})') for c, l in cols.loc[cols['group'] == g, ['column', 'letter']].itertuples(index=False, name=None))}"
                      for g in groups) or "Total only (no banner columns)"
    intro = (f"<p>Every question of the survey by {shape}. Percentages and means per column with their bases; "
             f"letters mark the columns a cell is significantly higher than. Open a table by its title; "
             f"click a column header to sort its rows.</p>")
    notes = "".join(f"<p class='csat-banner-note'>{_e(n)}</p>" for n in tables.notes)
    parts = [f"<h2>{_e(heading)}</h2>" if heading else "", intro, notes]
    layout = _Layout(tables)
    for k, (tid, title) in enumerate(layout.blocks()):
        parts.append(f"<details class='csat-banner-table'{' open' if k < open_tables else ''}>"
                     f"<summary>{_e(title)}</summary>{_html_table(tables, layout, tid)}</details>")
    return Fragment(f"<div class='csat csat-banner-appendix'>{_CSS}{''.join(parts)}{_SCRIPT}</div>")


def page(tables: BannerTables, title: str | None = None) -> str:
    """A self-contained HTML page of :func:`appendix` (no external reference)."""
    title = title or f"{tables.survey}: banner tables"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_e(title)}</title>"
            f"<style>body{{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,'Noto Sans CJK SC',"
            f"'Microsoft YaHei',sans-serif;margin:1.2em;color:#1d2733}} .muted{{color:#7a8794}}</style></head>"
            f"<body>{appendix(tables, heading=title, open_tables=len(tables.tables))}</body></html>")


def appendix_for(results_dir: str | Path | None, results: Any = None) -> Fragment:
    """The appendix of a run folder's ``banner.csv`` (empty when the run wrote none).

    ``results``: the run's loaded results, whose provenance holds the spec (test level,
    correction, suppression threshold). The report notebook calls this.
    """
    if not results_dir:
        return Fragment("")
    path = Path(results_dir) / BANNER_CSV
    if not path.exists():
        return Fragment("")
    from ..spec import parse_spec

    spec = parse_spec(results.provenance.spec) if results is not None else None
    if spec is None:
        raise ValueError("appendix_for needs the run's results (for the spec the tables were built with)")
    return appendix(read_csv(path, spec))


# ---------------------------------------------------------------------------------------------
# csv
def write_csv(tables: BannerTables, path: str | Path) -> Path:
    """``banner.csv``: the tidy frame (:data:`~csatlib.results.BANNER_TIDY_COLUMNS`), full precision,
    UTF-8 with a BOM so Excel shows Chinese labels; written atomically."""
    return atomic_write_text(path, tables.frame[TIDY_COLUMNS].to_csv(index=False), encoding="utf-8-sig")


def read_csv(path: str | Path, spec) -> BannerTables:
    """Read ``banner.csv`` back as :class:`BannerTables` (``spec``: the spec it was built with)."""
    frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values={"value": [""]},
                        dtype={c: str for c in TIDY_COLUMNS if c not in ("value", "n", "suppressed")})
    return BannerTables.from_tidy(frame, spec)


# ---------------------------------------------------------------------------------------------
# xlsx
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique worksheet name (at most 31 characters, none of ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'") or "banner"
    base = base[:31]
    out, i = base, 2
    while out.lower() in {t.lower() for t in taken}:
        suffix = f" ({i})"
        out = base[:31 - len(suffix)] + suffix
        i += 1
    taken.add(out)
    return out


def write_xlsx(tables: BannerTables, path: str | Path, *, title: str | None = None,
               info: Sequence[str] = ()) -> Path:
    """``banner.xlsx``: a contents sheet, then one sheet per banner group (Total + the group).

    Each sheet: the group's columns with their letters and bases frozen at the top, then every
    table: stub rows with the value (a number, formatted) and its letters in the next column,
    the table's bases, and its footnote. Suppressed cells hold ``*``. Written atomically.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    contents = wb.active
    taken = {"Contents"}
    contents.title = "Contents"
    bold, italic = Font(bold=True), Font(italic=True, color="4A5560", size=9)
    head_fill = PatternFill("solid", fgColor="F3F6F9")
    title_fill = PatternFill("solid", fgColor="E6EEF5")
    letter_font = Font(vertAlign="superscript", bold=True, color="1F5A8A")
    thin = Border(bottom=Side(style="thin", color="C9D3DD"))
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    groups = [g for g in dict.fromkeys(tables.columns["group"]) if g] or [""]
    layout = _Layout(tables)
    blocks = layout.blocks()
    anchors: dict[tuple[str, str], tuple[str, int]] = {}

    for group in groups:
        ws = wb.create_sheet(sheet_name(group or TOTAL, taken))
        columns = _columns(tables, [group])
        header = layout.lines("base", columns)
        ws["A1"] = f"{title or tables.survey} — {('banner: ' + group) if group else 'Total'}"
        ws["A1"].font = Font(bold=True, size=13)
        ws["A3"], ws["A4"] = "", ""
        for j, (g, c, letter) in enumerate(columns):
            col = 2 + 2 * j
            ws.cell(3, col, c if g else TOTAL).font = bold
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 1)
            ws.cell(3, col).alignment = center
            ws.cell(4, col, f"({letter})" if letter else "").alignment = center
            ws.merge_cells(start_row=4, start_column=col, end_row=4, end_column=col + 1)
            for r in (3, 4):
                ws.cell(r, col).fill = head_fill
                ws.cell(r, col + 1).fill = head_fill
        ws.cell(3, 1, group or TOTAL).font = bold
        ws.cell(3, 1).fill = ws.cell(4, 1).fill = head_fill
        r = 5
        for ln in header:
            ws.cell(r, 1, ln["label"].replace("Base", "Respondents", 1) if ln["stub"] == "base" else ln["label"])
            for j, (value, _) in enumerate(ln["cells"]):
                cell = ws.cell(r, 2 + 2 * j, None if _is_nan(value) else float(value))
                cell.number_format = _number_format(ln["statistic"], "base", "base")
            r += 1
        for c in range(1, 2 + 2 * len(columns)):
            ws.cell(r - 1, c).border = thin
        ws.freeze_panes = ws.cell(r, 2)
        r += 1
        for tid, label in blocks:
            anchors[(tid, group)] = (ws.title, r)
            ws.cell(r, 1, label).font = bold
            ws.row_dimensions[r].fill = title_fill
            ws.cell(r, 1).fill = title_fill
            r += 1
            for ln in layout.lines(tid, columns):
                stat = ln["statistic"]
                label_cell = ws.cell(r, 1, ln["label"])
                if stat in ("se", "n_weighted", "n_eff"):
                    label_cell.font = italic
                for j, (value, letters) in enumerate(ln["cells"]):
                    col = 2 + 2 * j
                    if _is_nan(value):
                        ws.cell(r, col, "*" if stat in ("share", "mean", "se") else None).alignment = \
                            Alignment(horizontal="right")
                    else:
                        ws.cell(r, col, float(value)).number_format = _number_format(stat, tid, ln["stub"])
                    if letters:
                        ws.cell(r, col + 1, letters).font = letter_font
                if ln["stub"] == "base" and stat == "n_eff":
                    for c in range(1, 2 + 2 * len(columns)):
                        ws.cell(r, c).border = thin
                r += 1
            for sentence in _sentences(tables.footnote(layout.tests.get(tid, ()))):
                ws.cell(r, 1, sentence).font = italic
                r += 1
            r += 1
        ws.column_dimensions["A"].width = min(48, max(18, *(len(str(x[1])) + 2 for x in blocks)))
        for j in range(len(columns)):
            ws.column_dimensions[get_column_letter(2 + 2 * j)].width = 10
            ws.column_dimensions[get_column_letter(3 + 2 * j)].width = 5

    # contents: one row per table, one link per banner group sheet
    c = contents
    c["A1"] = title or f"{tables.survey}: banner tables"
    c["A1"].font = Font(bold=True, size=14)
    r = 2
    for line in [*info, *tables.notes]:
        c.cell(r, 1, line).font = italic
        r += 1
    for sentence in _sentences(tables.footnote()):
        c.cell(r, 1, sentence).font = italic
        r += 1
    r += 1
    c.cell(r, 1, "Table").font = bold
    for j, group in enumerate(groups):
        c.cell(r, 2 + j, f"by {group}" if group else TOTAL).font = bold
    c.cell(r, 1).fill = head_fill
    first_row = r + 1
    for tid, label in blocks:
        r += 1
        c.cell(r, 1, label)
        for j, group in enumerate(groups):
            sheet, row = anchors[(tid, group)]
            cell = c.cell(r, 2 + j, f"→ {sheet}")
            cell.hyperlink = f"#'{sheet}'!A{row}"
            cell.style = "Hyperlink"
    c.column_dimensions["A"].width = min(60, max(20, *(len(str(x[1])) + 2 for x in blocks)) if blocks else 20)
    for j in range(len(groups)):
        c.column_dimensions[get_column_letter(2 + j)].width = 18
    c.freeze_panes = c.cell(first_row, 2)
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=\.)\s+(?=[A-Z])", text) if s.strip()]
