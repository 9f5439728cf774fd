"""HTML building blocks of the report page: escaped text, sections, tables, cells, intervals."""
from __future__ import annotations

import html
import re
from typing import Any

from ..wording import finite, fmt_ci

__all__ = ["Fragment", "esc", "heading", "section", "data_table", "td", "th_row", "ci_span", "join_words",
           "num"]


class Fragment(str):
    """A string of HTML that Jupyter displays as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def esc(text: Any) -> str:
    """Text (from the data or the spec) escaped for HTML, quotes included."""
    return html.escape(str(text), quote=True)


def heading(text: str, level: int = 3) -> Fragment:
    """An escaped HTML heading (for labels that come from the data)."""
    return Fragment(f"<h{level}>{esc(text)}</h{level}>")


def section(id: str, title: str, body: str, css: str = "") -> Fragment:
    """One ``<section>`` of the page with its ``<h2>`` heading (``id`` is the anchor)."""
    return Fragment(f'<section id="{id}" class="csat {css}" aria-labelledby="{id}-h">'
                    f'<h2 id="{id}-h">{esc(title)}</h2>{body}</section>')


def data_table(head: list[str], rows: list[str], caption: str, sortable: bool = True, css: str = "") -> str:
    """A table in a horizontally scrollable region whose first column stays in place."""
    ths = "".join(f'<th scope="col"><button type="button" class="sort" title="Sort by {esc(_strip(h))}">{h}'
                  f'<span class="arrow" aria-hidden="true"></span></button></th>' if sortable else
                  f'<th scope="col">{h}</th>' for h in head)
    cls = " ".join(c for c in ("sortable" if sortable else "", css) if c)
    return (f'<div class="table-wrap" role="region" tabindex="0" aria-label="{esc(caption)}">'
            f'<table class="{cls}"><caption>{esc(caption)}</caption><thead><tr>{ths}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _strip(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def td(text: str, sort: Any = None, css: str = "") -> str:
    """A table cell; ``sort`` is the value the table sorts by (omitted when not finite)."""
    s = f' data-sort="{esc(sort)}"' if sort is not None and (not isinstance(sort, float) or finite(sort)) else ""
    c = f' class="{css}"' if css else ""
    return f"<td{c}{s}>{text}</td>"


def th_row(text: str, sort: Any = None) -> str:
    """A row-header cell (the label of a row), with an optional sort value."""
    s = f' data-sort="{esc(sort)}"' if sort is not None else ""
    return f'<th scope="row"{s}>{text}</th>'


def ci_span(kind: str, lo: Any, hi: Any) -> str:
    """A 95% interval in the format of its estimate (empty when either end is missing)."""
    return f"<span class='ci'>{esc(fmt_ci(kind, lo, hi))}</span>" if finite(lo, hi) else ""


def join_words(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def num(x: Any) -> str:
    """A scale point as written: ``7``, ``7.5``, or ``–`` when missing."""
    return str(int(x)) if finite(x) and float(x).is_integer() else f"{x:g}" if finite(x) else "–"
