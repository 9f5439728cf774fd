"""Report charts: one consistent matplotlib/seaborn style, with CJK glyphs that render.

matplotlib's default DejaVu Sans has no Chinese glyphs. The PyPI package ``mplfonts`` ships
Noto Sans CJK SC (SIL OFL); :func:`use_report_style` registers that one font file and puts it
first in ``font.family`` with DejaVu Sans after it, so Latin text keeps its usual look.
matplotlib is imported only when a chart is drawn.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["show", "to_png", "use_report_style", "cjk_font_path", "trend_chart", "kpi_interval_chart", "segment_chart",
           "driver_chart", "ipa_chart", "loyalty_curve_chart", "gap_chart",
           "PALETTE"]

PALETTE = {"main": "#1f5a8a", "accent": "#d9822b", "muted": "#8c99a6", "good": "#2e7d4f", "bad": "#b23b3b",
           "band": "#9cc3e4"}
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_STYLE_APPLIED = False


def cjk_font_path() -> Path | None:
    """Path of the Noto Sans CJK SC font shipped by ``mplfonts``, or None if it is not installed."""
    try:
        import mplfonts
    except ImportError:
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE
    return path if path.exists() else None


def use_report_style() -> str | None:
    """Apply the report style and register the CJK font; returns the CJK family name used."""
    global _STYLE_APPLIED
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    family = None
    path = cjk_font_path()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": ([family] if family else []) + ["DejaVu Sans"],
        "axes.unicode_minus": False,
        "figure.dpi": 110, "savefig.dpi": 110, "figure.figsize": (7.5, 3.6),
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
        "axes.titleweight": "normal",  # the CJK font ships one weight; no synthetic bold "axes.titlesize": 11, "axes.labelsize": 9.5,
        "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 8.5, "legend.frameon": False,
    })
    _STYLE_APPLIED = True
    return family


def to_png(fig) -> bytes:
    """PNG bytes of a figure (then closed): embedded in the report whatever the backend."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def show(fig) -> None:
    """Display a figure in a notebook as an embedded PNG and close it."""
    from IPython.display import Image, display

    display(Image(data=to_png(fig), format="png"))


def _fig(width: float = 7.5, height: float = 3.6):
    import matplotlib.pyplot as plt

    if not _STYLE_APPLIED:
        use_report_style()
    return plt.subplots(figsize=(width, height))


def _finite(*values) -> bool:
    return all(v is not None and isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def trend_chart(trend: list[dict[str, Any]], kpi: str, title: str, scale: float = 1.0, unit: str = ""):
    """Line chart of one KPI across waves with its 95% interval as error bars."""
    fig, ax = _fig(7.5, 3.0)
    xs, ys, lo, hi = [], [], [], []
    for row in trend:
        e = row.get(kpi)
        if e and _finite(e.get("estimate")):
            xs.append(str(row["wave"]))
            ys.append(e["estimate"] * scale)
            lo.append((e["estimate"] - (e.get("ci_low") if _finite(e.get("ci_low")) else e["estimate"])) * scale)
            hi.append(((e.get("ci_high") if _finite(e.get("ci_high")) else e["estimate"]) - e["estimate"]) * scale)
    ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", color=PALETTE["main"], capsize=4, lw=2)
    for x, y in zip(xs, ys):
        ax.annotate(f"{y:.1f}{unit}", (x, y), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8.5)
    ax.set_title(title)
    ax.set_ylabel(f"{title} (95% CI)")
    ax.margins(x=0.15, y=0.25)
    fig.tight_layout()
    return fig


def kpi_interval_chart(rows: list[dict[str, Any]], title: str, xlabel: str, reference: float | None = None):
    """Horizontal dot-and-interval chart: one row per label (``label``, ``estimate``, ``ci_low``,
    ``ci_high``, optional ``highlight`` in {"up", "down", None})."""
    rows = [r for r in rows if _finite(r.get("estimate"))]
    fig, ax = _fig(7.5, max(1.8, 0.42 * len(rows) + 1.0))
    for i, r in enumerate(rows):
        color = {"up": PALETTE["good"], "down": PALETTE["bad"]}.get(r.get("highlight"), PALETTE["main"])
        if _finite(r.get("ci_low"), r.get("ci_high")):
            ax.plot([r["ci_low"], r["ci_high"]], [i, i], color=color, lw=2.5, alpha=0.55, solid_capstyle="round")
        ax.plot(r["estimate"], i, "o", color=color, ms=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([str(r["label"]) for r in rows])
    ax.invert_yaxis()
    if reference is not None:
        ax.axvline(reference, color=PALETTE["muted"], ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def segment_chart(rows: list[dict[str, Any]], title: str, xlabel: str, total: float | None):
    """Segment estimates with intervals against the total (dashed line); significant segments coloured."""
    return kpi_interval_chart(rows, title, xlabel, reference=total)


def driver_chart(rows: list[dict[str, Any]], title: str):
    """Signed share of R² per dimension with its bootstrap interval (negative = the dimension hurts)."""
    rows = sorted(rows, key=lambda r: -abs(r["signed_share"]))
    fig, ax = _fig(7.5, max(1.8, 0.45 * len(rows) + 1.0))
    labels = [str(r["label"]) for r in rows]
    values = [100 * r["signed_share"] for r in rows]
    colors = [PALETTE["main"] if v >= 0 else PALETTE["bad"] for v in values]
    ax.barh(labels, values, color=colors, alpha=0.85)
    for i, r in enumerate(rows):
        end = values[i]
        if _finite(r.get("lmg_share_ci_low"), r.get("lmg_share_ci_high")):
            lo, hi = 100 * r["lmg_share_ci_low"] * r["sign"], 100 * r["lmg_share_ci_high"] * r["sign"]
            ax.plot([lo, hi], [i, i], color="#222", lw=1.5)
            end = hi if values[i] >= 0 else lo
        ax.annotate(f"{values[i]:.0f}%", (end, i), textcoords="offset points",
                    xytext=(6 if values[i] >= 0 else -6, -3), ha="left" if values[i] >= 0 else "right", fontsize=8.5)
    ax.invert_yaxis()
    ax.axvline(0, color=PALETTE["muted"], lw=1)
    ax.set_xlabel("share of explained variance (Shapley/LMG, %, 95% bootstrap CI)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def ipa_chart(rows: list[dict[str, Any]], title: str, performance_label: str):
    """Importance-performance map: quadrant lines at the means, quadrant names in the corners."""
    fig, ax = _fig(7.5, 4.6)
    imp = [100 * r["rw_share"] for r in rows]
    perf = [r["performance"] for r in rows]
    ax.scatter(perf, imp, s=60, color=PALETTE["main"], zorder=3)
    for r, x, y in zip(rows, perf, imp):
        ax.annotate(str(r["label"]), (x, y), textcoords="offset points", xytext=(6, 5), fontsize=9)
    mx, my = sum(perf) / len(perf), sum(imp) / len(imp)
    ax.axvline(mx, color=PALETTE["muted"], ls="--", lw=1)
    ax.axhline(my, color=PALETTE["muted"], ls="--", lw=1)
    ax.margins(0.25)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    corner = dict(fontsize=8.5, color=PALETTE["accent"], alpha=0.9)
    ax.text(x0, y1, " Concentrate here", va="top", ha="left", **corner)
    ax.text(x1, y1, "Keep up the good work ", va="top", ha="right", **corner)
    ax.text(x0, y0, " Low priority", va="bottom", ha="left", **corner)
    ax.text(x1, y0, "Possible overkill ", va="bottom", ha="right", **corner)
    ax.set_xlabel(performance_label)
    ax.set_ylabel("derived importance (relative weight, % of R²)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def loyalty_curve_chart(points: list[dict[str, Any]], title: str, ylabel: str, scale: float = 1.0,
                        highlight: tuple[float, float] | None = None):
    """Predicted loyalty at each satisfaction point with its 95% band; the steepest step marked."""
    fig, ax = _fig(7.5, 3.4)
    xs = [p["satisfaction"] for p in points]
    ys = [p["estimate"] * scale for p in points]
    lo = [p["ci_low"] * scale for p in points]
    hi = [p["ci_high"] * scale for p in points]
    ax.fill_between(xs, lo, hi, color=PALETTE["band"], alpha=0.5, lw=0, label="95% confidence band")
    ax.plot(xs, ys, marker="o", color=PALETTE["main"], lw=2, label="predicted")
    if highlight is not None:
        a, b = highlight
        ya = ys[xs.index(a)]
        yb = ys[xs.index(b)]
        ax.annotate("", xy=(b, yb), xytext=(a, ya), arrowprops=dict(arrowstyle="->", color=PALETTE["accent"], lw=2.2))
        ax.annotate("steepest rise", ((a + b) / 2, (ya + yb) / 2), textcoords="offset points", xytext=(-70, 8),
                    color=PALETTE["accent"], fontsize=8.5)
    ax.set_xticks(xs)
    ax.set_xlabel("overall satisfaction")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def gap_chart(rows: list[dict[str, Any]], title: str):
    """Mean gap (perception − expectation) per dimension with its 95% interval; unmet in red."""
    data = [{"label": r["label"], "estimate": r["mean_gap"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
             "highlight": ("down" if r["mean_gap"] < 0 else "up") if r.get("significant") else None} for r in rows]
    return kpi_interval_chart(data, title, "mean gap: perception − expectation (scale points, 95% CI)", reference=0.0)
