"""``reports/index.html``: every wave's report, newest first, with its headline KPIs."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..output import atomic_write_text
from ..errors import InputError
from ..results import Results, load_results, wave_sort_key
from .wording import format_estimate

__all__ = ["index_page", "write_index", "INDEX_FILES"]

# files of a wave folder the index links, beside its report
INDEX_FILES = (("report.pdf", "PDF"), ("tables.xlsx", "tables"), ("results.json", "results"),
               ("quarantine.csv", "quarantine"))


def _headline(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in doc.get("estimates", []):
        if e.get("segment") is None:
            out[e["id"]] = e
    return out


INDEX_STYLE = """<style>body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",
sans-serif;max-width:900px;margin:2em auto;padding:0 18px;color:#1d2730}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #dde3ea;padding:6px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f3f6f9}.up{color:#2e7d4f}.down{color:#b23b3b}.ns,.muted{color:#8c99a6}
.bad{color:#b23b3b;font-weight:600}.wrap{overflow-x:auto}td.files{text-align:left;white-space:nowrap}
td.files a{margin-right:.6em}</style>"""


def index_page(title: str, body: str) -> str:
    """A small self-contained HTML page (the wave index and the batch index); ``body`` is HTML,
    ``title`` plain text."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{INDEX_STYLE}</head><body>\n'
            f"{body}\n</body></html>\n")


def write_index(out_root: str | Path) -> Path:
    """``reports/index.html``: every wave of every survey found, newest first, with headline KPIs,
    change arrows only where the change was significant, and links to each wave's files."""
    out_root = Path(out_root)
    surveys: dict[str, list[tuple[str, Results]]] = {}
    for path in out_root.glob("*/results.json"):
        try:
            results = load_results(path)
        except InputError:  # unreadable or foreign: the index is a view, never a blocker
            continue
        surveys.setdefault(str(results.survey), []).append((path.parent.name, results))
    ids = [("satisfaction.score", "Satisfaction score"), ("satisfaction.rate", "Satisfaction rate"),
           ("nps", "NPS")]
    e = html.escape
    sections = []
    for survey in sorted(surveys):
        rows = []
        for folder, res in sorted(surveys[survey], key=lambda fr: wave_sort_key(fr[1].wave or fr[0]), reverse=True):
            head = res.headline(tuple(i for i, _ in ids) + tuple(f"change.{i}" for i, _ in ids))
            cells = []
            for kpi, _ in ids:
                est = head.get(kpi)
                if est is None or est.estimate is None:
                    cells.append("<td>–</td>")
                    continue
                change = head.get(f"change.{kpi}")
                arrow = ""
                if change is not None and change.significant and change.estimate:
                    arrow = " <span class='up'>▲</span>" if change.estimate > 0 else " <span class='down'>▼</span>"
                elif change is not None and change.estimate is not None:
                    arrow = " <span class='ns' title='change within sampling noise'>≈</span>"
                cells.append(f"<td>{e(format_estimate(kpi, est.estimate))}{arrow}</td>")
            link = f"{e(folder)}/report.html"
            has_report = (out_root / folder / "report.html").exists()
            name = f"<a href='{link}'>{e(str(res.wave))}</a>" if has_report else e(str(res.wave))
            files = " ".join(f"<a href='{e(folder)}/{e(fname)}'>{e(label)}</a>" for fname, label in INDEX_FILES
                             if (out_root / folder / fname).is_file())
            clean = res.rows.get("clean")
            rows.append(f"<tr><td>{name}</td><td>{e(f'{clean:,}' if isinstance(clean, int) else '–')}</td>{''.join(cells)}"
                        f"<td class='files'>{files}</td></tr>")
        head_cells = "".join(f"<th>{e(label)}</th>" for _, label in ids)
        sections.append(f"<h2>{e(survey)}</h2><div class='wrap'><table><tr><th>wave</th><th>clean base</th>"
                        f"{head_cells}<th>files</th></tr>" + "".join(rows) + "</table></div>")
    body = ("<h1>CSAT research reports</h1><p>Newest wave first. ▲/▼ mark a change from the previous wave that is "
            "statistically significant (Holm-adjusted p &lt; 0.05); ≈ marks a change within sampling noise.</p>"
            + ("".join(sections) or "<p>No reports yet.</p>"))
    page = index_page("CSAT reports", body)
    return atomic_write_text(out_root / "index.html", page)
