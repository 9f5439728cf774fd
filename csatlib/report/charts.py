"""Report charts as inline SVG: crisp at any size, searchable text, hover titles, no network.

Each chart is a ``<figure>`` holding an ``<svg role="img">`` whose ``<title>`` and ``<desc>``
give its name and its finding (the text alternative a screen reader reads), and a caption
stating the same finding for sighted readers. Text is real text in the page's font, so the
embedded CJK subset font renders Chinese labels. Charts are drawn in a 440-unit-wide view box
with text of at least 12.5 units: on a 390-pixel phone screen the smallest text is still
above 10 pixels.

Honesty rules every chart follows: value axes of means span the whole answer scale (rates
0-100%, NPS −100 to 100), so a 0.2-point change looks like one; numbers are printed in a
column of their own or above the interval, never across an error bar; every number uses the
format of :func:`csatlib.report.wording.fmt`.
"""
from __future__ import annotations

import hashlib
import html
import math
import unicodedata
from pathlib import Path
from typing import Any, Sequence

from .wording import finite, fmt

__all__ = ["Chart", "interval_chart", "trend_chart", "curve_chart", "priority_map", "nice_ticks", "text_width",
           "cjk_font_path", "PALETTE", "WIDTH", "MIN_FONT"]

PALETTE = {"main": "#1f5a8a", "accent": "#b35c00", "muted": "#6b7885", "grid": "#e3e8ee", "good": "#2e7d4f",
           "bad": "#b23b3b", "band": "#9cc3e4", "text": "#1d2730"}
WIDTH = 440
MIN_FONT = 12.5
FONT = 13.0
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path | None:
    """Path of the Noto Sans CJK SC font shipped by ``mplfonts``, or None if it is not installed."""
    try:
        import mplfonts
    except ImportError:
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE
    return path if path.exists() else None


class Chart(str):
    """The HTML of one chart (a ``<figure>`` with inline SVG); Jupyter displays it as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if math.isfinite(x) else "0"


def text_width(text: str, size: float = FONT) -> float:
    """Approximate rendered width of ``text`` (wide CJK characters count one em, others ~0.58)."""
    w = 0.0
    for ch in str(text):
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            w += 1.0
        elif ch in "il.,:;|'! ":
            w += 0.3
        elif ch.isupper() or ch in "mwMW%":
            w += 0.72
        else:
            w += 0.56
    return w * size


def _wrap(text: str, width: float, size: float = FONT, lines: int = 2) -> list[str]:
    """Split a label into at most ``lines`` lines of at most ``width`` units (ellipsis beyond)."""
    text = str(text)
    if text_width(text, size) <= width:
        return [text]
    tokens = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    out: list[str] = []
    current = ""
    for tok in tokens:
        trial = f"{current}{joiner}{tok}" if current else tok
        if text_width(trial, size) <= width or not current:
            current = trial
        else:
            out.append(current)
            current = tok
    out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1] + "…"
    cut = []
    for line in out:  # a single token longer than the width: cut it
        while text_width(line, size) > width and len(line) > 2:
            line = line[:-2] + "…"
        cut.append(line)
    return cut


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(target - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    v = first
    while v <= high + 1e-9 * step:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _chart_id(*parts: Any) -> str:
    return "c" + hashlib.sha1("|".join(map(str, parts)).encode("utf-8")).hexdigest()[:10]


def _figure(body: str, height: float, title: str, description: str, css: str = "") -> Chart:
    cid = _chart_id(title, description, len(body))
    return Chart(
        f'<figure class="chart {css}"><svg class="chart-svg" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'width="{WIDTH}" height="{_n(height)}" role="img" aria-labelledby="{cid}-t {cid}-d" '
        f'preserveAspectRatio="xMinYMin meet"><title id="{cid}-t">{_e(title)}</title>'
        f'<desc id="{cid}-d">{_e(description)}</desc>{body}</svg>'
        f'<figcaption><b>{_e(title)}.</b> {_e(description)}</figcaption></figure>')


def _text(x: float, y: float, text: str, size: float = FONT, anchor: str = "start", fill: str = PALETTE["text"],
          weight: str = "normal", extra: str = "") -> str:
    w = f' font-weight="{weight}"' if weight != "normal" else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" fill="{fill}"{w}'
            f'{extra}>{_e(text)}</text>')


def _line(x1, y1, x2, y2, stroke: str, width: float = 1.0, dash: str | None = None, extra: str = "") -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
            f'stroke-width="{_n(width)}"{d}{extra}/>')


def _tick_label(kind: str, v: float) -> str:
    if kind == "rate":
        return f"{100 * v:.0f}%"
    if kind == "share":
        return f"{100 * v:.0f}%"
    if kind == "gap":
        return ("+" if v > 0 else "") + (f"{v:g}".replace("-", "−"))
    return f"{v:g}".replace("-", "−")


def interval_chart(rows: Sequence[dict[str, Any]], low: float, high: float, kind: str, title: str,
                   description: str, reference: float | None = None, reference_label: str = "",
                   axis_label: str = "") -> Chart:
    """Horizontal dot-and-interval chart, one row per label, on a fixed axis [low, high].

    ``rows``: ``label``, ``estimate``, ``ci_low``, ``ci_high``, optional ``highlight`` ("up",
    "down") and ``hollow`` (drawn as an open circle). Values are printed in a right-hand column.
    """
    rows = [r for r in rows if finite(r.get("estimate"))]
    label_w = min(max([text_width(r["label"]) for r in rows] + [40]) + 6, 0.36 * WIDTH)
    value_w = max([text_width(fmt(kind, r["estimate"]), FONT) for r in rows] + [30]) + 10
    x0, x1 = label_w + 8, WIDTH - value_w - 6
    wrapped = [_wrap(r["label"], label_w - 4) for r in rows]
    heights = [30 if len(w) == 1 else 44 for w in wrapped]
    top = 26 if reference is not None else 8
    height = top + sum(heights) + 40 + (16 if axis_label else 0)

    def sx(v: float) -> float:
        return x0 + (min(max(v, low), high) - low) / (high - low) * (x1 - x0)

    parts = []
    ticks = nice_ticks(low, high)
    plot_bottom = top + sum(heights)
    for t in ticks:
        parts.append(_line(sx(t), top - 4, sx(t), plot_bottom, PALETTE["grid"]))
        parts.append(_text(sx(t), plot_bottom + 18, _tick_label(kind, t), MIN_FONT, "middle", PALETTE["muted"]))
    if axis_label:
        parts.append(_text((x0 + x1) / 2, plot_bottom + 36, axis_label, MIN_FONT, "middle", PALETTE["muted"]))
    if reference is not None and finite(reference):
        parts.append(_line(sx(reference), top - 6, sx(reference), plot_bottom, PALETTE["muted"], 1.2, "4 3"))
        anchor = "middle" if 0.2 < (reference - low) / (high - low) < 0.8 else (
            "start" if (reference - low) / (high - low) <= 0.2 else "end")
        parts.append(_text(sx(reference), top - 10, reference_label, MIN_FONT, anchor, PALETTE["muted"]))
    y = top
    for r, lines, h in zip(rows, wrapped, heights):
        cy = y + h / 2
        color = {"up": PALETTE["good"], "down": PALETTE["bad"]}.get(r.get("highlight"), PALETTE["main"])
        ci = (f"95% CI {fmt(kind, r['ci_low'])} to {fmt(kind, r['ci_high'])}"
              if finite(r.get("ci_low"), r.get("ci_high")) else "no interval")
        g = [f'<g class="row"><title>{_e(r["label"])}: {_e(fmt(kind, r["estimate"]))} ({_e(ci)})</title>']
        for i, line in enumerate(lines):
            g.append(_text(label_w, cy + 4.5 + (i - (len(lines) - 1) / 2) * 15, line, FONT, "end"))
        if finite(r.get("ci_low"), r.get("ci_high")):
            g.append(_line(sx(r["ci_low"]), cy, sx(r["ci_high"]), cy, color, 3.0, extra=' stroke-linecap="round" '
                           'stroke-opacity="0.55"'))
        fill = "#fff" if r.get("hollow") else color
        g.append(f'<circle cx="{_n(sx(r["estimate"]))}" cy="{_n(cy)}" r="5.5" fill="{fill}" stroke="{color}" '
                 f'stroke-width="2"/>')
        g.append(_text(WIDTH - 4, cy + 4.5, fmt(kind, r["estimate"]), FONT, "end", color,
                       "bold" if r.get("highlight") else "normal"))
        g.append("</g>")
        parts.append("".join(g))
        y += h
    return _figure("".join(parts), height, title, description, "interval")


def trend_chart(points: Sequence[dict[str, Any]], low: float, high: float, kind: str, title: str,
                description: str) -> Chart:
    """A KPI across waves (``wave``, ``estimate``, ``ci_low``, ``ci_high``) on its whole scale."""
    points = [p for p in points if finite(p.get("estimate"))]
    left, right, top, bottom = 44, 16, 14, 40
    height = 230
    x0, x1, y0, y1 = left, WIDTH - right, top, height - bottom
    n = max(len(points), 1)

    def sx(i: int) -> float:
        return x0 + (i + 0.5) * (x1 - x0) / n

    def sy(v: float) -> float:
        return y1 - (min(max(v, low), high) - low) / (high - low) * (y1 - y0)

    parts = []
    for t in nice_ticks(low, high):
        parts.append(_line(x0, sy(t), x1, sy(t), PALETTE["grid"]))
        parts.append(_text(x0 - 6, sy(t) + 4, _tick_label(kind, t), MIN_FONT, "end", PALETTE["muted"]))
    if len(points) > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{_n(sx(i))},{_n(sy(p['estimate']))}" for i, p in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{PALETTE["main"]}" stroke-width="2"/>')
    every = max(1, math.ceil(len(points) / 8))
    for i, p in enumerate(points):
        ci = (f"95% CI {fmt(kind, p['ci_low'])} to {fmt(kind, p['ci_high'])}"
              if finite(p.get("ci_low"), p.get("ci_high")) else "no interval")
        g = [f'<g class="point"><title>{_e(p["wave"])}: {_e(fmt(kind, p["estimate"]))} ({_e(ci)})</title>']
        top_y = sy(p["estimate"])
        if finite(p.get("ci_low"), p.get("ci_high")):
            g.append(_line(sx(i), sy(p["ci_low"]), sx(i), sy(p["ci_high"]), PALETTE["main"], 2))
            top_y = sy(p["ci_high"])
        g.append(f'<circle cx="{_n(sx(i))}" cy="{_n(sy(p["estimate"]))}" r="4.5" fill="{PALETTE["main"]}"/>')
        label_y = top_y - 8 if top_y - 8 > y0 + 10 else sy(p.get("ci_low", p["estimate"])) + 18
        g.append(_text(sx(i), label_y, fmt(kind, p["estimate"]), FONT, "middle", PALETTE["text"], "bold"))
        if i % every == 0 or i == len(points) - 1:
            g.append(_text(sx(i), y1 + 20, str(p["wave"]), MIN_FONT, "middle", PALETTE["muted"]))
        g.append("</g>")
        parts.append("".join(g))
    parts.append(_line(x0, y1, x1, y1, PALETTE["muted"]))
    return _figure("".join(parts), height, title, description, "trend")


def curve_chart(points: Sequence[dict[str, Any]], low: float, high: float, kind: str, title: str, description: str,
                x_label: str, y_label: str, highlight: tuple[float, float] | None = None) -> Chart:
    """A predicted outcome at each satisfaction point (``x``, ``estimate``, ``ci_low``, ``ci_high``)
    with its 95% band, on the outcome's whole scale; the steepest step drawn in the accent colour."""
    points = sorted((p for p in points if finite(p.get("x"), p.get("estimate"))), key=lambda p: p["x"])
    left, right, top, bottom = 62, 14, 14, 54
    height = 250
    x0, x1, y0, y1 = left, WIDTH - right, top, height - bottom
    xs = [p["x"] for p in points] or [0.0, 1.0]
    xlo, xhi = min(xs), max(xs)
    if xhi == xlo:
        xlo, xhi = xlo - 1, xhi + 1
    pad = (xhi - xlo) * 0.04

    def sx(v: float) -> float:
        return x0 + (v - xlo + pad) / (xhi - xlo + 2 * pad) * (x1 - x0)

    def sy(v: float) -> float:
        return y1 - (min(max(v, low), high) - low) / (high - low) * (y1 - y0)

    parts = []
    for t in nice_ticks(low, high):
        parts.append(_line(x0, sy(t), x1, sy(t), PALETTE["grid"]))
        parts.append(_text(x0 - 6, sy(t) + 4, _tick_label(kind, t), MIN_FONT, "end", PALETTE["muted"]))
    band = [p for p in points if finite(p.get("ci_low"), p.get("ci_high"))]
    if len(band) > 1:
        poly = " ".join(f"{_n(sx(p['x']))},{_n(sy(p['ci_high']))}" for p in band)
        poly += " " + " ".join(f"{_n(sx(p['x']))},{_n(sy(p['ci_low']))}" for p in reversed(band))
        parts.append(f'<polygon points="{poly}" fill="{PALETTE["band"]}" fill-opacity="0.45" stroke="none"/>')
    if points:
        path = " ".join(f"{'M' if i == 0 else 'L'}{_n(sx(p['x']))},{_n(sy(p['estimate']))}"
                        for i, p in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{PALETTE["main"]}" stroke-width="2"/>')
    if highlight is not None:
        a = next((p for p in points if p["x"] == highlight[0]), None)
        b = next((p for p in points if p["x"] == highlight[1]), None)
        if a and b:
            parts.append(_line(sx(a["x"]), sy(a["estimate"]), sx(b["x"]), sy(b["estimate"]), PALETTE["accent"], 4))
    for p in points:
        ci = (f"95% CI {fmt(kind, p['ci_low'])} to {fmt(kind, p['ci_high'])}"
              if finite(p.get("ci_low"), p.get("ci_high")) else "no interval")
        parts.append(f'<g class="point"><title>{_e(x_label)} {_e(_n(p["x"]))}: {_e(fmt(kind, p["estimate"]))} '
                     f'({_e(ci)})</title><circle cx="{_n(sx(p["x"]))}" cy="{_n(sy(p["estimate"]))}" r="4" '
                     f'fill="{PALETTE["main"]}"/></g>')
        parts.append(_text(sx(p["x"]), y1 + 18, _n(p["x"]), MIN_FONT, "middle", PALETTE["muted"]))
    parts.append(_line(x0, y1, x1, y1, PALETTE["muted"]))
    parts.append(_text((x0 + x1) / 2, y1 + 38, x_label, MIN_FONT, "middle", PALETTE["muted"]))
    parts.append(_text(14, (y0 + y1) / 2, y_label, MIN_FONT, "middle", PALETTE["muted"],
                       extra=f' transform="rotate(-90 14 {_n((y0 + y1) / 2)})"'))
    return _figure("".join(parts), height, title, description, "curve")


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def priority_map(rows: Sequence[dict[str, Any]], x_line: float, y_line: float, x_kind: str, title: str,
                 description: str, x_label: str, y_label: str, quadrants: dict[str, str]) -> Chart:
    """Importance (y, share of R²) against performance (x), lines at the averages.

    ``rows``: ``label``, ``x``, ``x_low``, ``x_high``, ``y``, ``y_low``, ``y_high``, ``hollow``
    (borderline). Labels go where they collide with no other label or point; a label with no
    free place is replaced by a number keyed below the chart. ``quadrants``: corner names keyed
    ``top_left``, ``top_right``, ``bottom_left``, ``bottom_right``.
    """
    left, right, top, bottom = 60, 14, 26, 56
    height = 380
    x0, x1, y0, y1 = left, WIDTH - right, top, height - bottom
    xs = [v for r in rows for v in (r["x"], r.get("x_low"), r.get("x_high"), x_line) if finite(v)]
    ys = [v for r in rows for v in (r["y"], r.get("y_low"), r.get("y_high"), y_line) if finite(v)]
    xlo, xhi = min(xs), max(xs)
    ylo, yhi = 0.0, max(ys)
    xpad = max((xhi - xlo) * 0.12, 1e-6)
    xlo, xhi = xlo - xpad, xhi + xpad
    yhi = yhi * 1.12 if yhi > 0 else 1.0

    def sx(v: float) -> float:
        return x0 + (v - xlo) / (xhi - xlo) * (x1 - x0)

    def sy(v: float) -> float:
        return y1 - (v - ylo) / (yhi - ylo) * (y1 - y0)

    parts = []
    for t in nice_ticks(xlo, xhi):
        parts.append(_line(sx(t), y0, sx(t), y1, PALETTE["grid"]))
        parts.append(_text(sx(t), y1 + 18, _tick_label(x_kind, t), MIN_FONT, "middle", PALETTE["muted"]))
    for t in nice_ticks(ylo, yhi):
        parts.append(_line(x0, sy(t), x1, sy(t), PALETTE["grid"]))
        parts.append(_text(x0 - 6, sy(t) + 4, _tick_label("share", t), MIN_FONT, "end", PALETTE["muted"]))
    parts.append(_line(sx(x_line), y0, sx(x_line), y1, PALETTE["muted"], 1.2, "5 4"))
    parts.append(_line(x0, sy(y_line), x1, sy(y_line), PALETTE["muted"], 1.2, "5 4"))
    corner = {"top_left": (x0 + 4, y0 - 8, "start"), "top_right": (x1 - 4, y0 - 8, "end"),
              "bottom_left": (x0 + 4, y1 - 6, "start"), "bottom_right": (x1 - 4, y1 - 6, "end")}
    placed: list[tuple[float, float, float, float]] = []
    for key, (cx, cy, anchor) in corner.items():
        name = quadrants.get(key, "")
        if name:
            parts.append(_text(cx, cy, name, MIN_FONT, anchor, PALETTE["accent"]))
            w = text_width(name, MIN_FONT)
            bx = cx if anchor == "start" else cx - w
            placed.append((bx, cy - MIN_FONT, bx + w, cy + 3))
    # points (and their boxes, which labels must not cover)
    pts = []
    for r in rows:
        px, py = sx(r["x"]), sy(r["y"])
        placed.append((px - 6, py - 6, px + 6, py + 6))
        pts.append((r, px, py))
    labels, keyed = [], []
    for i, (r, px, py) in enumerate(pts, start=1):
        text = str(r["label"])
        w = text_width(text, FONT)
        options = [(px + 9, py + 4.5, "start"), (px - 9, py + 4.5, "end"), (px, py - 11, "middle"),
                   (px, py + 20, "middle"), (px + 9, py - 9, "start"), (px - 9, py - 9, "end"),
                   (px + 9, py + 18, "start"), (px - 9, py + 18, "end")]
        spot = None
        for tx, ty, anchor in options:
            bx = tx if anchor == "start" else (tx - w if anchor == "end" else tx - w / 2)
            box = (bx, ty - FONT + 1, bx + w, ty + 3)
            if box[0] < 2 or box[2] > WIDTH - 2 or box[1] < 2 or box[3] > y1:
                continue
            if not any(_overlaps(box, other) for other in placed):
                spot = (tx, ty, anchor, box)
                break
        if spot is None:
            number = str(len(keyed) + 1)
            keyed.append((number, text))
            labels.append(_text(px + 8, py - 6, number, FONT, "start", PALETTE["text"], "bold"))
        else:
            tx, ty, anchor, box = spot
            placed.append(box)
            labels.append(_text(tx, ty, text, FONT, anchor, PALETTE["text"], extra=' class="point-label"'))
    for r, px, py in pts:
        color = PALETTE["main"]
        g = [f'<g class="point"><title>{_e(r["label"])}: importance {_e(fmt("share", r["y"]))}'
             + (f' (95% CI {_e(fmt("share", r["y_low"]))} to {_e(fmt("share", r["y_high"]))})'
                if finite(r.get("y_low"), r.get("y_high")) else "")
             + f', performance {_e(fmt(x_kind, r["x"]))}</title>']
        if finite(r.get("y_low"), r.get("y_high")):
            g.append(_line(px, sy(r["y_low"]), px, sy(r["y_high"]), color, 1.6, extra=' stroke-opacity="0.6"'))
        if finite(r.get("x_low"), r.get("x_high")):
            g.append(_line(sx(r["x_low"]), py, sx(r["x_high"]), py, color, 1.6, extra=' stroke-opacity="0.6"'))
        fill = "#fff" if r.get("hollow") else color
        g.append(f'<circle cx="{_n(px)}" cy="{_n(py)}" r="5.5" fill="{fill}" stroke="{color}" stroke-width="2"/>')
        g.append("</g>")
        parts.append("".join(g))
    parts.extend(labels)
    parts.append(_text((x0 + x1) / 2, y1 + 38, x_label, MIN_FONT, "middle", PALETTE["muted"]))
    parts.append(_text(14, (y0 + y1) / 2, y_label, MIN_FONT, "middle", PALETTE["muted"],
                       extra=f' transform="rotate(-90 14 {_n((y0 + y1) / 2)})"'))
    extra_h = 0.0
    for k, (number, text) in enumerate(keyed):
        parts.append(_text(x0, height + 4 + 18 * k, f"{number} = {text}", FONT))
        extra_h = 18.0 * (k + 1) + 6
    return _figure("".join(parts), height + extra_h, title, description, "map")
