"""The report's "What customers say" section and ``themes.csv``, from a :class:`~csatlib.results.ThemeAnalysis`.

Reads results only. Every text from the data (theme names, segment values, comments, terms)
is escaped. Comments are shown and written as the loader left them: PII-redacted (emails, phone
and ID-card numbers replaced by placeholders) before any analysis saw them.
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..output import atomic_write_text
from ..results import Results
from ..theme_results import ThemeAnalysis, ThemeColumn
from .page.markup import Fragment

__all__ = ["themes_section", "write_themes_csv", "THEMES_CSV", "THEMES_CSV_COLUMNS"]

THEMES_CSV = "themes.csv"
THEMES_CSV_COLUMNS = ["id", "column", "comment", "themes", "discovered_topic", "sentiment", "sentiment_label",
                      "satisfaction_group"]

_HEAT_STYLE = """<style>
.csat .heat td.cell{min-width:3.5em}.csat .theme-q{font-size:12.5px}
.csat code.suggest{background:#f3f6f9;padding:1px 5px;border-radius:3px}
</style>"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _fin(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _pct(x: Any, digits: int = 0) -> str:
    return f"{100 * float(x):.{digits}f}%" if _fin(x) else "–"


def _quote(text: Any) -> str:
    return f"<blockquote class='theme-q'>{_e(text)}</blockquote>"


def _arrow(row: Any) -> str:
    """▲/▼ when the group's share differs significantly (Holm) from the rest."""
    if not bool(row.get("significant")) or not _fin(row.get("p_adjusted")):
        return ""
    return " <span class='sig-up'>▲</span>" if row.get("share", 0) >= row.get("_rest", 0) else \
        " <span class='sig-down'>▼</span>"


def _group_rest(table: pd.DataFrame, overall: dict[str, float]) -> pd.DataFrame:
    t = table.copy()
    t["_rest"] = t["theme"].map(overall)  # direction of a significant difference: vs the overall share
    return t


def _agreement_sentence(col: ThemeColumn) -> str:
    s = col.sentiment or {}
    a = s.get("agreement") or {}
    if not _fin(a.get("rho")):
        return ""
    return (f"agreement with {_e(a.get('against', 'the rating'))}: Spearman ρ = {float(a['rho']):.2f} "
            f"(95% CI {float(a['ci_low']):.2f} to {float(a['ci_high']):.2f}, n = {int(a.get('n') or 0):,})")


def _sentiment_block(col: ThemeColumn) -> str:
    s = col.sentiment or {}
    agreement = _agreement_sentence(col)
    if not agreement:  # sentiment is never shown without its agreement with the respondents' own rating
        return ("<p class='note'>Sentiment is not shown: its agreement with the respondents' own rating cannot "
                "be measured on this wave (too few rated comments, or no variation).</p>")
    rho = float(s["agreement"]["rho"])
    trust = ("tracks the ratings closely" if rho >= 0.5 else "tracks the ratings moderately" if rho >= 0.3
             else "tracks the ratings only weakly: read it with care" if rho > 0 else
             "does not track the ratings on this wave: do not rely on it")
    return (f"<p><b>Sentiment</b> of the comments: {_pct(s.get('positive'))} positive, "
            f"{_pct(s.get('neutral'))} neutral, {_pct(s.get('negative'))} negative "
            f"({agreement}; the lexicon {trust}).</p>"
            f"<p class='note'>Method: {_e(s.get('method', ''))}.</p>")


def _themes_by_group(col: ThemeColumn) -> str:
    t = col.table
    cf = t[t["kind"] == "codeframe"]
    overall = dict(zip(cf["theme"], cf["share"]))
    groups = [g for g in dict.fromkeys(col.by_group["value"])] if len(col.by_group) else []
    bg = _group_rest(col.by_group, overall) if len(col.by_group) else col.by_group
    head = ("<tr><th>theme</th><th>all comments (95% CI)</th>"
            + "".join(f"<th>{_e(g)}</th>" for g in groups)
            + "<th>sentiment</th><th>mean satisfaction: mentioned vs not</th></tr>")
    show_sent = bool(_agreement_sentence(col))
    rows = []
    for r in cf.to_dict("records"):
        cells = [f"<td>{_e(r['theme'])}</td>",
                 f"<td>{_pct(r['share'])} <span class='muted'>({_pct(r['ci_low'])}–{_pct(r['ci_high'])})</span></td>"]
        for g in groups:
            m = bg[(bg["theme"] == r["theme"]) & (bg["value"] == g)]
            if m.empty or bool(m.iloc[0].get("suppressed")):
                cells.append("<td class='muted'>*</td>")
            else:
                row = m.iloc[0].to_dict()
                cells.append(f"<td>{_pct(row['share'])}{_arrow(row)}</td>")
        cells.append(f"<td>{float(r['sentiment']):+.2f}</td>" if show_sent and _fin(r.get("sentiment"))
                     else "<td class='muted'>–</td>")
        if _fin(r.get("difference")):
            sig = bool(r.get("significant"))
            cls = "sig-down" if sig and r["difference"] < 0 else "sig-up" if sig else "muted"
            cells.append(f"<td><span class='{cls}'>{float(r['score_with']):.2f} vs {float(r['score_without']):.2f} "
                         f"({float(r['difference']):+.2f}{'' if sig else ', not significant'})</span></td>")
        else:
            cells.append("<td class='muted'>–</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    for r in t[t["kind"] != "codeframe"].to_dict("records"):
        label = "no codeframe theme (other)" if r["kind"] == "other" else "at least one theme (coded)"
        rows.append(f"<tr><td class='muted'>{label}</td><td>{_pct(r['share'])} <span class='muted'>"
                    f"({_pct(r['ci_low'])}–{_pct(r['ci_high'])})</span></td>"
                    + "<td></td>" * (len(groups) + 2) + "</tr>")
    foot = (f"<p class='note'>Shares of the {col.comments:,} non-empty comments; a comment may mention several "
            f"themes. Groups: {_e(col.grouping)}. ▲/▼: the group's share differs from the rest of the comments "
            f"(two-proportion z test on effective bases, Holm-adjusted across the table, 5%); * base too small. "
            f"The last column is an <i>association</i>: the mean satisfaction of respondents whose comment "
            f"mentions the theme vs the others (Welch t, Holm-adjusted across themes) — it does not show that "
            f"the theme causes the score.</p>")
    return f"<div style='overflow-x:auto'><table>{head}{''.join(rows)}</table></div>{foot}"


def _heat_tables(col: ThemeColumn) -> str:
    seg = col.by_segment
    if seg is None or seg.empty:
        return ""
    out = []
    for column in dict.fromkeys(seg["column"]):
        part = seg[seg["column"] == column]
        values = list(dict.fromkeys(part["value"]))
        top = pd.to_numeric(part["share"], errors="coerce").max()
        top = float(top) if _fin(top) and top > 0 else 1.0
        overall = dict(zip(col.table["theme"], col.table["share"]))
        part = _group_rest(part, overall)
        head = "<tr><th>theme</th>" + "".join(f"<th>{_e(v)}</th>" for v in values) + "</tr>"
        rows = []
        for theme in dict.fromkeys(part["theme"]):
            cells = [f"<td>{_e(theme)}</td>"]
            for v in values:
                m = part[(part["theme"] == theme) & (part["value"] == v)]
                row = m.iloc[0].to_dict() if len(m) else {}
                if not row or bool(row.get("suppressed")) or not _fin(row.get("share")):
                    cells.append("<td class='cell muted'>*</td>")
                    continue
                alpha = 0.08 + 0.62 * float(row["share"]) / top
                cells.append(f"<td class='cell' style='background:rgba(31,90,138,{alpha:.2f})'>"
                             f"{_pct(row['share'])}{_arrow(row)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        out.append(f"<p><b>Themes by {_e(column)}</b></p><div style='overflow-x:auto'><table class='heat'>{head}"
                   f"{''.join(rows)}</table></div>")
    out.append("<p class='note'>Darker = more comments mention the theme. ▲/▼: differs from the rest of the "
               "comments (z test on effective bases, Holm-adjusted across every theme × segment value); * base "
               "below the minimum.</p>")
    return "".join(out)


def _discovered(col: ThemeColumn) -> str:
    if not col.discovered:
        return ""
    items = []
    for t in col.discovered:
        ex = "".join(_quote(x) for x in t.get("examples") or [])
        items.append(f"<li><b>{_e(' / '.join(t.get('terms', [])[:3]))}</b>: {_pct(t.get('share'), 1)} of all comments "
                     f"({int(t.get('comments') or 0):,} uncoded comments). Terms: {_e(', '.join(t.get('terms', [])))}."
                     f"<br>Paste into the codeframe: <code class='suggest'>{_e(t.get('suggestion', ''))}</code>{ex}</li>")
    return ("<p><b>Themes the codeframe misses</b> (suggestions from the uncoded comments, NMF topics of their "
            "words; review and rename before adding them):</p><ol>" + "".join(items) + "</ol>")


def _examples(col: ThemeColumn) -> str:
    parts = []
    for theme, picks in (col.examples or {}).items():
        if not picks:
            continue
        qs = "".join(f"<blockquote class='theme-q'><span class='muted'>[{_e(p.get('group', ''))}]</span> "
                     f"{_e(p.get('text', ''))}</blockquote>" for p in picks)
        parts.append(f"<p><b>{_e(theme)}</b></p>{qs}")
    if not parts:
        return ""
    return ("<p><b>What they write, theme by theme</b> (redacted comments, taken in turn from each satisfaction "
            "group):</p>" + "".join(parts))


def themes_section(results: Results | ThemeAnalysis) -> Fragment:
    """The "What customers say" section: themes by satisfaction group, a theme × segment heat
    table, sentiment with its agreement with the ratings, discovered-theme suggestions and
    example comments per theme.

    Parameters
    ----------
    results : Results or ThemeAnalysis
        A run's results (``results.themes``) or the analysis itself.

    Returns
    -------
    Fragment
        HTML (empty when the spec has no ``themes:``).
    """
    themes = results.themes if isinstance(results, Results) else results
    if themes is None or not themes.columns:
        return Fragment("")
    out = [_HEAT_STYLE, "<div class='csat'><h3>What customers say</h3>"]
    for col in themes.columns:
        t = col.table
        coded = t[t["kind"] == "coded"].to_dict("records")
        other = t[t["kind"] == "other"].to_dict("records")
        out.append(f"<h4>{_e(col.column)}: {col.comments:,} comments</h4>")
        if col.comments == 0:
            out.append("<p class='note'>No comments in this wave.</p>")
            continue
        if coded and other:
            out.append(f"<p>{_pct(coded[0]['share'])} of comments mention at least one theme of the codeframe; "
                       f"{_pct(other[0]['share'])} mention none (other).</p>")
        out.append(_themes_by_group(col))
        out.append(_heat_tables(col))
        out.append(_sentiment_block(col))
        out.append(_discovered(col))
        out.append(_examples(col))
        out += [f"<p class='note'>{_e(n)}</p>" for n in col.notes]
    out.append("</div>")
    return Fragment("".join(out))


def _csv_safe(values: pd.Series) -> pd.Series:
    """Text that a spreadsheet would read as a formula (=, +, -, @ first) gets a leading apostrophe."""
    s = values.astype(str)
    risky = s.str.match(r"^[=+\-@\t\r]")
    return s.where(~risky, "'" + s)


def write_themes_csv(themes: ThemeAnalysis, path: str | Path) -> Path:
    """``themes.csv``: one row per comment (id, text column, redacted comment, its themes joined by
    `` | ``, discovered topic, sentiment −1…+1 and its label, satisfaction group); UTF-8 with a BOM
    so Excel shows Chinese, written atomically."""
    frame = themes.comments if themes.comments is not None else pd.DataFrame(columns=THEMES_CSV_COLUMNS)
    frame = frame[THEMES_CSV_COLUMNS].copy()
    frame["comment"] = _csv_safe(frame["comment"]) if len(frame) else frame["comment"]
    return atomic_write_text(path, frame.to_csv(index=False), encoding="utf-8-sig")
