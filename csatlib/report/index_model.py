"""The satisfaction-index section of the report: the CSI with its trend, the path diagram, the
reliability table and the importance-performance map of the constructs.

Everything is drawn as inline SVG and HTML from :class:`~csatlib.results.Results` (no matplotlib,
nothing computed): the report stays one self-contained file that scales on a phone. Every label
comes from the spec or the data and goes through :func:`html.escape`.
"""
from __future__ import annotations

import html
import math
from typing import Any, Iterable

from .page.markup import Fragment
from .wording import describe_change, format_p
from .variance import SIMPLE, bootstrap_caveat, sample_kind
from ..results import Estimate, IndexAnalysis, IndexModel, Results, WeightedIndex

__all__ = ["index_section", "csi_section", "model_section", "path_diagram_svg", "reliability_table",
           "ipma_svg", "trend_svg"]

_BLUE, _GREY, _INK, _LINE = "#1f5a8a", "#9aa5b1", "#1d2733", "#dde3ea"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _ok(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def _f(value: Any, digits: int = 1) -> str:
    return f"{value:.{digits}f}" if _ok(value) else "–"


def _ci(lo: Any, hi: Any, digits: int = 1) -> str:
    return f"{lo:.{digits}f} – {hi:.{digits}f}" if _ok(lo, hi) else "–"


def _short(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _wrap(body: str) -> Fragment:
    return Fragment(f'<div class="csat csat-index">{body}</div>')


def _svg(width: float, height: float, body: str, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label="{_e(label)}" style="width:100%;max-width:{width:.0f}px;height:auto;'
            f'font-family:sans-serif">{body}</svg>')


# ----------------------------------------------------------------------------------------------
# trend


def trend_svg(trend: list[dict[str, Any]], id: str = "index.csi", title: str = "CSI by wave") -> str:
    """A small line chart of one 0-100 index across waves, with 95% interval whiskers."""
    points = [(str(r["wave"]), r[id]) for r in trend if isinstance(r.get(id), dict) and _ok(r[id].get("estimate"))]
    if len(points) < 2:
        return ""
    w, h, left, right, top, bottom = 560, 200, 44, 44, 18, 40
    values = [p["estimate"] for _, p in points] + [v for _, p in points for v in (p.get("ci_low"), p.get("ci_high"))
                                                    if _ok(v)]
    lo, hi = math.floor(min(values) / 5) * 5, math.ceil(max(values) / 5) * 5
    hi = hi if hi > lo else lo + 5
    step = (w - left - right) / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * (h - top - bottom)

    body = [f'<text x="{left}" y="12" font-size="12" fill="{_INK}">{_e(title)}</text>']
    for v in (lo, (lo + hi) / 2, hi):
        body.append(f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{_LINE}"/>'
                    f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" fill="{_GREY}">'
                    f'{v:g}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(p['estimate']):.1f}" for i, (_, p) in enumerate(points))
    body.append(f'<path d="{path}" fill="none" stroke="{_BLUE}" stroke-width="2"/>')
    for i, (wave, p) in enumerate(points):
        if _ok(p.get("ci_low"), p.get("ci_high")):
            body.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(p["ci_low"]):.1f}" y2="{y(p["ci_high"]):.1f}" '
                        f'stroke="{_BLUE}" stroke-opacity="0.45" stroke-width="3"/>')
        body.append(f'<circle cx="{x(i):.1f}" cy="{y(p["estimate"]):.1f}" r="4" fill="{_BLUE}">'
                    f'<title>{_e(wave)}: {p["estimate"]:.1f}</title></circle>'
                    f'<text x="{x(i):.1f}" y="{h - 22}" font-size="11" text-anchor="middle" fill="{_INK}">'
                    f'{_e(_short(wave, 12))}</text>'
                    f'<text x="{x(i):.1f}" y="{y(p["estimate"]) - 8:.1f}" font-size="11" text-anchor="middle" '
                    f'fill="{_INK}">{p["estimate"]:.1f}</text>')
    return _svg(w, h, "".join(body), title)


# ----------------------------------------------------------------------------------------------
# the weighted CSI


def _estimate_line(label: str, e: Estimate, change: Estimate | None, previous_wave: str | None) -> str:
    return _e(describe_change(label, e, change, previous_wave))


def csi_section(results: Results) -> Fragment:
    """The weighted-average CSI: headline with its interval and change, weights and contributions,
    the trend across waves and the segments."""
    idx: IndexAnalysis | None = results.index
    csi: WeightedIndex | None = idx.csi if idx else None
    if csi is None:
        reason = results.skipped.get("index") or "The weighted satisfaction index was not computed."
        return _wrap(f"<p class='muted'>{_e(reason)}</p>")
    e = csi.csi
    how = {"given": "weights given in the spec", "stated": "weights from stated importance",
           "derived": "weights derived from each dimension's relative importance for overall satisfaction"}
    card = (f"<div class='kpi'>Satisfaction index (CSI, 0-100)<b>{_f(e.estimate)}</b>"
            f"<span class='muted'>95% CI {_ci(e.ci_low, e.ci_high)}</span></div>")
    lead = (f"<p>{_estimate_line('The satisfaction index', e, csi.change, results.previous_wave)} "
            f"It combines {len(csi.table)} dimension scores on 0-100 with {_e(how.get(csi.weights, csi.weights))} "
            f"(base {e.n:,}).</p>")
    rows = []
    for r in csi.table.to_dict(orient="records"):
        weight = f"{100 * r['weight']:.1f}%"
        if _ok(r.get("weight_ci_low"), r.get("weight_ci_high")):
            weight += (f" <span class='muted'>({100 * r['weight_ci_low']:.0f}–"
                       f"{100 * r['weight_ci_high']:.0f}%)</span>")
        rows.append(f"<tr><td>{_e(r['label'])}</td><td>{weight}</td><td>{_f(r['mean'], 2)}</td>"
                    f"<td>{_f(r['score'])}</td><td>{_f(r['contribution'], 2)}</td><td>{r['n']:,}</td></tr>")
    table = ("<table><tr><th>dimension</th><th>weight</th><th>mean (own scale)</th><th>score 0-100</th>"
             "<th>contribution</th><th>base</th></tr>" + "".join(rows)
             + f"<tr><th>CSI</th><th>100%</th><th></th><th></th><th>{_f(e.estimate, 2)}</th><th>{e.n:,}</th></tr>"
             + "</table>")
    segs = [s for s in csi.segments if s.segment]
    seg_html = ""
    if segs:
        srows = []
        for s in segs:
            (col, val), = s.segment.items()
            if s.suppressed:
                srows.append(f"<tr><td>{_e(col)}: {_e(val)}</td><td colspan='3' class='muted'>suppressed "
                             f"(base {s.n:,} below the minimum)</td></tr>")
                continue
            sig = (" <span class='sig-up'>▲</span>" if s.significant and s.estimate > e.estimate else
                   " <span class='sig-down'>▼</span>" if s.significant else "")
            p = s.p_adjusted if s.p_adjusted is not None else s.p
            srows.append(f"<tr><td>{_e(col)}: {_e(val)}</td><td>{_f(s.estimate)}{sig}</td>"
                         f"<td>{_ci(s.ci_low, s.ci_high)}</td><td>{s.n:,} <span class='muted'>"
                         f"({_e(format_p(p))})</span></td></tr>")
        seg_html = ("<p>By segment (the total sample's weights; each segment tested against the rest, "
                    "Holm-adjusted):</p><table><tr><th>segment</th><th>CSI</th><th>95% CI</th><th>base</th></tr>"
                    + "".join(srows) + "</table>")
    trend = trend_svg(idx.trend if idx else [])
    notes = "".join(f"<li>{_e(n)}</li>" for n in csi.notes)
    method = f"<p class='note'>{_e(e.method or '')}.</p>"
    return _wrap(card + lead + table + trend + seg_html
                 + (f"<ul class='note'>{notes}</ul>" if notes else "") + method)


# ----------------------------------------------------------------------------------------------
# the structural model


def _layers(names: list[str], paths: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each construct (sources in layer 0)."""
    layer = {n: 0 for n in names}
    for _ in range(len(names)):
        changed = False
        for a, b in paths:
            if layer[b] < layer[a] + 1:
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    return layer


def _hits_box(p0, p1, box) -> bool:
    """Whether the segment p0-p1 passes through the box (x0, y0, x1, y1) (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def _crosses(a, b, c, d) -> bool:
    def orient(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0


def _positions(names: list[str], paths: list[tuple[str, str]], box_w: float, box_h: float,
               gap_x: float, gap_y: float) -> dict[str, tuple[float, float]]:
    """Constructs in columns by causal order (longest path from the sources), each on one of a few
    rows chosen to keep arrows off other boxes, uncrossed and short (exhaustive for small models)."""
    import itertools

    layer = _layers(names, paths)
    columns: dict[int, list[str]] = {}
    for n in names:
        columns.setdefault(layer[n], []).append(n)
    rows = max(3, max(len(v) for v in columns.values()))
    pitch = box_h + gap_y

    def place(choice: dict[str, int]) -> dict[str, tuple[float, float]]:
        return {n: (20 + layer[n] * (box_w + gap_x) + box_w / 2, 20 + box_h / 2 + choice[n] * pitch) for n in names}

    def cost(pos) -> float:
        total = 0.0
        boxes = {n: (x - box_w / 2 - 4, y - box_h / 2 - 4, x + box_w / 2 + 4, y + box_h / 2 + 4)
                 for n, (x, y) in pos.items()}
        segs = [(pos[a], pos[b], a, b) for a, b in paths]
        for p0, p1, a, b in segs:
            total += 10 * sum(_hits_box(p0, p1, box) for n, box in boxes.items() if n not in (a, b))
            total += abs(p0[1] - p1[1]) / pitch * 0.3
        for (p0, p1, a, b), (q0, q1, c, d) in itertools.combinations(segs, 2):
            if len({a, b, c, d}) == 4 and _crosses(p0, p1, q0, q1):
                total += 3
        used = {y for _, y in pos.values()}
        return total + 0.5 * len(used)

    options = []
    for k in sorted(columns):
        members = columns[k]
        options.append([dict(zip(members, combo)) for combo in itertools.permutations(range(rows), len(members))])
    combos = 1
    for o in options:
        combos *= len(o)
    if combos <= 20000:
        best, best_cost = None, math.inf
        for pick in itertools.product(*options):
            choice = {n: r for part in pick for n, r in part.items()}
            c = cost(place(choice))
            if c < best_cost - 1e-9:
                best, best_cost = choice, c
    else:  # large models: columns centred, no search
        best = {}
        for k, members in columns.items():
            first = (rows - len(members)) // 2
            best.update({n: first + i for i, n in enumerate(members)})
    used = sorted({r for r in best.values()})  # drop empty rows
    return place({n: used.index(r) for n, r in best.items()})


def _edge_point(cx: float, cy: float, tx: float, ty: float, w: float, h: float) -> tuple[float, float]:
    """Where the line from the centre (cx, cy) towards (tx, ty) leaves a w × h box."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(w / 2 / abs(dx) if dx else math.inf, h / 2 / abs(dy) if dy else math.inf)
    return cx + dx * scale, cy + dy * scale


def _blocked(p0, p1, pos, skip, w, h) -> float:
    """Side (±1) of the first box other than its ends that the straight arrow would cross, else 0."""
    (x0, y0), (x1, y1) = p0, p1
    for n, (cx, cy) in pos.items():
        if n not in skip and _hits_box(p0, p1, (cx - w / 2 - 4, cy - h / 2 - 4, cx + w / 2 + 4, cy + h / 2 + 4)):
            cross = (x1 - x0) * (cy - y0) - (y1 - y0) * (cx - x0)
            return 1.0 if cross >= 0 else -1.0
    return 0.0


def path_diagram_svg(model: IndexModel) -> str:
    """The inner model as an SVG: one box per construct (label, 0-100 index, R²), one arrow per path
    with its coefficient; solid dark arrows when the 95% bootstrap interval excludes 0, dashed grey
    otherwise, thicker for larger coefficients."""
    cons = model.constructs.to_dict(orient="records")
    names = [c["construct"] for c in cons]
    info = {c["construct"]: c for c in cons}
    paths = [(r["from"], r["to"], r) for r in model.paths.to_dict(orient="records")]
    box_w, box_h, gap_x, gap_y = 132.0, 58.0, 48.0, 40.0
    pos = _positions(names, [(a, b) for a, b, _ in paths], box_w, box_h, gap_x, gap_y)
    width = max(x for x, _ in pos.values()) + box_w / 2 + 20
    height = max(y for _, y in pos.values()) + box_h / 2 + 40
    defs = (f'<defs><marker id="csat-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{_INK}"/></marker>'
            f'<marker id="csat-arrow-ns" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{_GREY}"/></marker></defs>')
    edges, labels = [], []
    taken: list[tuple[float, float]] = []  # label centres placed so far
    boxes = [(x - box_w / 2, y - box_h / 2, x + box_w / 2, y + box_h / 2) for x, y in pos.values()]

    def free(x: float, y: float) -> bool:
        return (all(abs(x - a) > 44 or abs(y - b) > 18 for a, b in taken)
                and all(not (b0 - 21 < x < b2 + 21 and b1 - 9 < y < b3 + 9) for b0, b1, b2, b3 in boxes))

    for a, b, r in paths:
        (ax, ay), (bx, by) = pos[a], pos[b]
        coef = r.get("coefficient")
        sig = _ok(r.get("ci_low"), r.get("ci_high")) and (r["ci_low"] > 0 or r["ci_high"] < 0)
        side = _blocked((ax, ay), (bx, by), pos, {a, b}, box_w, box_h)
        if side:  # bend around the box in the way
            mx, my = (ax + bx) / 2, (ay + by) / 2
            dx, dy = bx - ax, by - ay
            length = math.hypot(dx, dy) or 1.0
            bend = -side * (box_h + gap_y) * 0.9
            cx, cy = mx - dy / length * bend, my + dx / length * bend
            p0 = _edge_point(ax, ay, cx, cy, box_w, box_h)
            p1 = _edge_point(bx, by, cx, cy, box_w, box_h)
            d = f"M{p0[0]:.1f},{p0[1]:.1f} Q{cx:.1f},{cy:.1f} {p1[0]:.1f},{p1[1]:.1f}"

            def at(t: float, p0=p0, p1=p1, cx=cx, cy=cy) -> tuple[float, float]:
                return ((1 - t) ** 2 * p0[0] + 2 * t * (1 - t) * cx + t * t * p1[0],
                        (1 - t) ** 2 * p0[1] + 2 * t * (1 - t) * cy + t * t * p1[1])
        else:
            p0 = _edge_point(ax, ay, bx, by, box_w, box_h)
            p1 = _edge_point(bx, by, ax, ay, box_w, box_h)
            d = f"M{p0[0]:.1f},{p0[1]:.1f} L{p1[0]:.1f},{p1[1]:.1f}"

            def at(t: float, p0=p0, p1=p1) -> tuple[float, float]:
                return p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])
        candidates = [at(t) for t in (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8)]
        lx, ly = next((c for c in candidates if free(*c)), candidates[0])
        taken.append((lx, ly))
        stroke = 1.2 + 3.5 * min(abs(coef), 1.0) if _ok(coef) else 1.2
        style = (f'stroke="{_INK}" marker-end="url(#csat-arrow)"' if sig or not _ok(r.get("ci_low")) else
                 f'stroke="{_GREY}" stroke-dasharray="5 4" marker-end="url(#csat-arrow-ns)"')
        ci = f" (95% CI {_ci(r.get('ci_low'), r.get('ci_high'), 3)})" if _ok(r.get("ci_low")) else ""
        title = f"{info[a]['label']} → {info[b]['label']}: {_f(coef, 3)}{ci}"
        edges.append(f'<path d="{d}" fill="none" stroke-width="{stroke:.1f}" {style}><title>{_e(title)}</title></path>')
        labels.append(f'<rect x="{lx - 21:.1f}" y="{ly - 9:.1f}" width="42" height="17" rx="3" fill="#fff" '
                      f'fill-opacity="0.92"/><text x="{lx:.1f}" y="{ly + 4:.1f}" font-size="12" text-anchor="middle" '
                      f'fill="{_INK if sig else _GREY}" font-weight="{600 if sig else 400}">{_f(coef, 2)}</text>')
    nodes = []
    for n in names:
        x, y = pos[n]
        c = info[n]
        sub = []
        if _ok(c.get("index")):
            sub.append(f"index {c['index']:.1f}")
        if c.get("type") == "Endogenous" and _ok(c.get("r2")):
            sub.append(f"R² {c['r2']:.2f}")
        target = n == model.target
        nodes.append(f'<g><title>{_e(c["label"])}: {_e(c.get("items", ""))}</title>'
                     f'<rect x="{x - box_w / 2:.1f}" y="{y - box_h / 2:.1f}" width="{box_w:.0f}" height="{box_h:.0f}" '
                     f'rx="{box_h / 2:.0f}" fill="{"#e8f0f8" if target else "#f6f8fa"}" stroke="{_BLUE}" '
                     f'stroke-width="{2.2 if target else 1.2}"/>'
                     f'<text x="{x:.1f}" y="{y - 4:.1f}" font-size="13" font-weight="600" text-anchor="middle" '
                     f'fill="{_INK}">{_e(_short(str(c["label"])))}</text>'
                     f'<text x="{x:.1f}" y="{y + 14:.1f}" font-size="11" text-anchor="middle" fill="{_GREY}">'
                     f'{_e(" · ".join(sub))}</text></g>')
    legend = (f'<text x="20" y="{height - 12:.0f}" font-size="11" fill="{_GREY}">Arrows: PLS path coefficients '
              f'(solid: 95% bootstrap interval excludes 0; dashed: it does not).</text>')
    return _svg(width, height, defs + "".join(edges) + "".join(nodes) + "".join(labels) + legend,
                "Path diagram of the satisfaction index model")


def reliability_table(model: IndexModel) -> str:
    """Per construct: mode, items, index, R², Cronbach's alpha, Dillon-Goldstein's rho, AVE."""
    rows = []
    for c in model.constructs.to_dict(orient="records"):
        flag = (c.get("mode") == "A" and "," in str(c.get("items", "")) and
                ((_ok(c.get("rho")) and c["rho"] < 0.7) or (_ok(c.get("ave")) and c["ave"] < 0.5)))
        cls = " class='sig-down'" if flag else ""
        rows.append(f"<tr><td>{_e(c['label'])}</td><td>{_e(c.get('mode', 'A'))}</td><td>{_e(c.get('items', ''))}</td>"
                    f"<td>{_f(c.get('index'))} <span class='muted'>({_ci(c.get('index_ci_low'), c.get('index_ci_high'))})"
                    f"</span></td><td>{_f(c.get('r2'), 3)}</td><td>{_f(c.get('alpha'), 3)}</td>"
                    f"<td{cls}>{_f(c.get('rho'), 3)}</td><td{cls}>{_f(c.get('ave'), 3)}</td></tr>")
    return ("<table><tr><th>construct</th><th>mode</th><th>items</th><th>index 0-100 (95% CI)</th><th>R²</th>"
            "<th>Cronbach's α</th><th>DG ρ</th><th>AVE</th></tr>" + "".join(rows) + "</table>")


def _paths_table(model: IndexModel, labels: dict[str, str]) -> str:
    rows = []
    for r in model.paths.to_dict(orient="records"):
        rows.append(f"<tr><td>{_e(labels.get(r['from'], r['from']))} → {_e(labels.get(r['to'], r['to']))}</td>"
                    f"<td>{_f(r.get('coefficient'), 3)}</td><td>{_ci(r.get('ci_low'), r.get('ci_high'), 3)}</td>"
                    f"<td>{_f(r.get('se'), 3)}</td></tr>")
    return ("<table><tr><th>path</th><th>coefficient</th><th>95% CI</th><th>bootstrap SE</th></tr>"
            + "".join(rows) + "</table>")


def ipma_svg(model: IndexModel) -> str:
    """Importance-performance map of the constructs driving the satisfaction construct: total effect
    (x) against the 0-100 index (y), quadrant lines at the means."""
    pts = [r for r in model.ipma.to_dict(orient="records") if _ok(r.get("importance"), r.get("performance"))]
    if len(pts) < 2:
        return ""
    w, h, left, right, top, bottom = 560, 320, 52, 24, 28, 44
    xs = [p["importance"] for p in pts]
    ys = [p["performance"] for p in pts]
    x_lo, x_hi = min(0.0, min(xs)), max(xs) * 1.15 if max(xs) > 0 else 1.0
    y_lo = max(0.0, math.floor((min(ys) - 5) / 5) * 5)
    y_hi = min(100.0, math.ceil((max(ys) + 5) / 5) * 5)

    def px(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * (w - left - right)

    def py(v: float) -> float:
        return top + (y_hi - v) / (y_hi - y_lo) * (h - top - bottom)

    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    target = model.constructs.set_index("construct")["label"].get(model.target, model.target)
    body = [f'<text x="{left}" y="16" font-size="12" fill="{_INK}">Drivers of {_e(target)}: importance '
            f'(total effect) and performance (index 0-100)</text>',
            f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" fill="none" '
            f'stroke="{_LINE}"/>',
            f'<line x1="{px(mx):.1f}" x2="{px(mx):.1f}" y1="{top}" y2="{h - bottom}" stroke="{_GREY}" '
            f'stroke-dasharray="4 4"/>',
            f'<line x1="{left}" x2="{w - right}" y1="{py(my):.1f}" y2="{py(my):.1f}" stroke="{_GREY}" '
            f'stroke-dasharray="4 4"/>',
            f'<text x="{(left + w - right) / 2:.0f}" y="{h - 8}" font-size="11" text-anchor="middle" '
            f'fill="{_GREY}">importance: total effect on {_e(target)}</text>',
            f'<text x="14" y="{(top + h - bottom) / 2:.0f}" font-size="11" text-anchor="middle" fill="{_GREY}" '
            f'transform="rotate(-90 14 {(top + h - bottom) / 2:.0f})">performance (index)</text>',
            f'<text x="{w - right - 4}" y="{top + 14}" font-size="10" text-anchor="end" fill="{_GREY}">keep up</text>',
            f'<text x="{w - right - 4}" y="{h - bottom - 6}" font-size="10" text-anchor="end" fill="#b23b3b">'
            f'concentrate here</text>']
    for v in (x_lo, (x_lo + x_hi) / 2, x_hi):
        body.append(f'<text x="{px(v):.1f}" y="{h - bottom + 14}" font-size="10" text-anchor="middle" '
                    f'fill="{_GREY}">{v:.2f}</text>')
    for v in (y_lo, (y_lo + y_hi) / 2, y_hi):
        body.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" font-size="10" text-anchor="end" fill="{_GREY}">'
                    f'{v:.0f}</text>')
    placed: list[tuple[float, float]] = []
    for p in sorted(pts, key=lambda r: -r["performance"]):
        x, y = px(p["importance"]), py(p["performance"])
        ly = y + 4
        while any(abs(ly - qy) < 13 and abs(x - qx) < 90 for qx, qy in placed):  # keep labels apart
            ly += 13
        placed.append((x, ly))
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{_BLUE}" fill-opacity="0.85">'
                    f'<title>{_e(p["label"])}: total effect {p["importance"]:.3f}, index {p["performance"]:.1f}'
                    f'</title></circle><text x="{x + 9:.1f}" y="{ly:.1f}" '
                    f'font-size="12" fill="{_INK}">{_e(_short(str(p["label"]), 18))}</text>')
    return _svg(w, h, "".join(body), f"Importance-performance map of the drivers of {target}")


def model_section(results: Results) -> Fragment:
    """The PLS index model: what it says, the path diagram, paths, reliability, the IPMA, notes."""
    idx: IndexAnalysis | None = results.index
    model = idx.model if idx else None
    if model is None:
        reason = results.skipped.get("index_model") or "The satisfaction index model was not estimated."
        return _wrap(f"<p class='muted'>{_e(reason)}</p>")
    labels = {c["construct"]: str(c["label"]) for c in model.constructs.to_dict(orient="records")}
    head = []
    if model.target:
        t = model.constructs.set_index("construct").loc[model.target]
        e = results.get(f"index.{model.target}")
        change = results.get(f"change.index.{model.target}")
        if e is not None:
            head.append(_e(describe_change(f"The {labels[model.target]} index", e, change, results.previous_wave)))
        if _ok(t.get("r2")):
            head.append(f"The model explains {100 * t['r2']:.0f}% of its variance (R²).")
    ipma = model.ipma.to_dict(orient="records")
    focus = [r for r in ipma if r.get("quadrant") == "Concentrate here"]
    if focus:
        head.append("Above-average importance with below-average performance: "
                    + ", ".join(f"<b>{_e(r['label'])}</b>" for r in focus) + ".")
    lead = (f"<p>{' '.join(head)}</p>" if head else "")
    fit = (f"<p class='note'>PLS path model ({_e(model.scheme)} weighting, items "
           f"{'standardised' if model.scaled else 'on 0-100'}), n = {model.n:,}"
           + (f" (Kish's effective n of the weights {model.n_eff:,.0f})" if sample_kind(results) != SIMPLE else "")
           + f", GoF = {_f(model.gof, 3)}, {model.iterations} iterations; intervals from {model.bootstrap:,} seeded "
           f"bootstrap replicates (percentile).{_e(bootstrap_caveat(results))} Construct indices: outer weights "
           f"normalised to sum 1, applied to the items on 0-100.</p>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in model.notes)
    return _wrap(lead + path_diagram_svg(model) + _paths_table(model, labels)
                 + "<p>Reliability and the construct indices:</p>" + reliability_table(model)
                 + ipma_svg(model) + (f"<ul class='note'>{notes}</ul>" if notes else "") + fit)


def index_section(results: Results) -> Fragment:
    """The whole satisfaction-index section (weighted CSI, then the structural model), or one line
    saying why there is none."""
    if results.index is None:
        reasons: Iterable[str] = [results.skipped[k] for k in ("index", "index_model") if k in results.skipped]
        text = " ".join(reasons) or "No satisfaction index was computed."
        return _wrap(f"<p class='muted'>{_e(text)}</p>")
    parts = []
    if results.index.csi is not None or "index" in results.skipped:
        parts.append("<h3>Satisfaction index (weighted average)</h3>" + csi_section(results))
    if results.index.model is not None or "index_model" in results.skipped:
        parts.append("<h3>Satisfaction index model (structural, PLS)</h3>" + model_section(results))
    return Fragment("".join(parts))
