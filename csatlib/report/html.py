"""Offline HTML from an executed notebook (nbconvert), with the page's CJK glyphs embedded.

The template removes every script reference nbconvert would load from a CDN; a subset of
Noto Sans CJK SC holding only the characters the page uses is embedded as a data: URL web font,
so Chinese labels render on a reviewer's machine without network access or CJK system fonts.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["notebook_to_html", "FontSubset", "embed_cjk_font", "subset_woff", "TEMPLATE_DIR"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def notebook_to_html(executed: Path, font: "FontSubset | None" = None, title: str | None = None) -> str:
    """Offline HTML of an executed notebook: no input cells, no prompts, no network references.

    ``font``: a :class:`FontSubset` prepared while the notebook ran (else it is built here).
    ``title``: the page's ``<title>``; by default the survey and wave of the results.json beside
    the notebook (a run writes both into one folder), else the notebook's own title.
    The report's table of contents (``<nav class="csat toc">``, displayed by the first cell) is
    moved out of its cell to the top of the page, where it can stay in view while scrolling.
    """
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    name = title or _results_title(Path(executed).parent) or nb.metadata.get("title", "report")
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": name}})
    return embed_cjk_font(_place_nav(body), font)


NAV_MARKER = "<!--csat:nav-->"
_NAV = re.compile(r'<nav\b[^>]*\bclass="csat toc"[^>]*>.*?</nav>', re.S)


def _place_nav(page: str) -> str:
    """Move the first table-of-contents ``<nav>`` to the template's marker (or drop the marker)."""
    hit = _NAV.search(page)
    if hit is None or NAV_MARKER not in page:
        return page.replace(NAV_MARKER, "")
    nav = hit.group(0)
    page = page[:hit.start()] + page[hit.end():]
    return page.replace(NAV_MARKER, nav, 1)


def _results_title(folder: Path) -> str | None:
    """``<survey> — wave <wave>`` from the results.json in ``folder``, if there is one."""
    if not (folder / "results.json").is_file():
        return None
    from ..errors import InputError
    from ..results import load_results
    from .views import title

    try:
        return title(load_results(folder))
    except InputError:
        return None


@functools.lru_cache(maxsize=1)
def _exporter():
    """One HTMLExporter per process: building it (template lookup, Jinja compilation) costs
    0.2-0.5 s, which a batch worker would otherwise pay for every segment."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="csat_report", extra_template_basedirs=[str(TEMPLATE_DIR)],
                        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


CJK_FIRST_CODEPOINT = 0x2E80  # CJK radicals onward: Han, kana, Hangul, full-width forms


EMBEDDED_FAMILY = "CSAT CJK"


class FontSubset:
    """The CJK subset font for a set of characters, built in a background thread.

    Subsetting is pure Python (fontTools); started before the notebook executes, it overlaps
    with the kernel's work instead of adding about 0.7 s to the run.
    """

    def __init__(self, text: str):
        import threading

        self.chars = frozenset(ord(c) for c in text if ord(c) >= CJK_FIRST_CODEPOINT)
        self._woff: bytes | None = None
        self._thread = threading.Thread(target=self._build, name="csat-font-subset", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        try:
            self._woff = subset_woff(self.chars) if self.chars else None
        except Exception:  # a page without the embedded font still renders where CJK fonts exist
            self._woff = None
        try:
            _exporter()  # and have the HTML exporter ready too (0.2-0.5 s, also while the kernel works)
        except Exception:  # notebook_to_html will raise it where it can be reported
            pass

    def woff_for(self, chars: set[int]) -> bytes | None:
        """The subset, if it covers ``chars``; else None (the caller builds one)."""
        self._thread.join()
        return self._woff if chars <= self.chars else None


@functools.lru_cache(maxsize=8)
def subset_woff(chars: frozenset[int]) -> bytes | None:
    """The Noto Sans CJK SC glyphs of the code points ``chars`` as a WOFF font (no hinting, name
    table reduced to family and style), or None when the font is not installed.

    The last few sets of characters are kept: a batch worker whose next segment shows the same
    characters (the same labels, comments without new ones) skips a subsetting of about 0.3 s.
    """
    import io

    from .charts import cjk_font_path

    font_path = cjk_font_path()
    if font_path is None:
        return None
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = [1, 2]
    font = subset.load_font(str(font_path), options, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=set(chars))
    subsetter.subset(font)
    buf = io.BytesIO()
    try:
        subset.save_font(font, buf, options)
    finally:
        font.close()
    return buf.getvalue()


def embed_cjk_font(page: str, prepared: FontSubset | None = None) -> str:
    """Embed the CJK glyphs a page uses as a subset web font (data: URL), so Chinese labels
    render on any reviewer's machine, with or without CJK system fonts, and nothing is fetched.

    The subset of Noto Sans CJK SC (from ``mplfonts``) holds only the characters in the page,
    typically 10-40 KB. Pages without CJK text, or machines without the font, are unchanged.
    """
    import base64

    chars = {ord(c) for c in page if ord(c) >= CJK_FIRST_CODEPOINT}
    if not chars or "</head>" not in page:
        return page
    woff = prepared.woff_for(chars) if prepared is not None else None
    if woff is None:
        woff = subset_woff(frozenset(chars))
    if woff is None:
        return page
    data = base64.b64encode(woff).decode("ascii")
    # the embedded face comes first and declares the characters it has (unicode-range): every
    # other character goes on to the system fonts, and a CJK character never depends on the
    # browser's fallback search (which, on a machine without CJK fonts, sometimes printed bold
    # CJK text as empty boxes)
    families = (f'"{EMBEDDED_FAMILY}", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, '
                '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif')
    ranges = ",".join(f"U+{c:X}" for c in sorted(chars))
    style = (f'<style>@font-face{{font-family:"{EMBEDDED_FAMILY}";src:url(data:font/woff;base64,{data}) '
             f'format("woff");font-display:block;unicode-range:{ranges};}}'
             f':root{{--font:{families};--jp-content-font-family:{families};--jp-ui-font-family:{families};}}'
             f'body{{font-family:{families};}}</style>')
    page = page.replace("</head>", style + "\n</head>", 1)
    # Chromium shapes the first CJK run before a data: font is decoded and keeps the fallback for
    # it; an invisible run of every character, first in the body, takes that hit instead.
    primer = (f'<div aria-hidden="true" style="position:absolute;left:-10000px;top:0;font-family:'
              f'&quot;{EMBEDDED_FAMILY}&quot;">{"".join(sorted(chr(c) for c in chars))}</div>')
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + primer, page, count=1)
