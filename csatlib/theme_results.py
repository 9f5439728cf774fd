"""Result objects of comment themes and sentiment (``csatlib.theme_analysis`` builds them,
:mod:`csatlib.report.themes` prints them, :class:`csatlib.results.Results` carries them as ``themes``).

Self-contained: tables go to results.json as records and come back as DataFrames; the
:class:`~csatlib.results.Estimate` objects are imported when :meth:`ThemeColumn.estimates` is called
(results.py imports this module).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ThemeColumn", "ThemeAnalysis"]


def _frame(records: Any) -> pd.DataFrame:
    return records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records or []))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")

@dataclass
class ThemeColumn:
    """Themes and sentiment of one free-text column (``csatlib.theme_analysis``).

    Attributes
    ----------
    column : str
        The text column.
    comments, n_eff : int, float
        Non-empty comments (the base of every share) and their Kish effective base.
    table : DataFrame
        One row per codeframe theme, then ``(other)`` (no theme) and ``(coded)`` (at least one):
        ``theme``, ``kind`` (``codeframe``/``other``/``coded``), ``mentions``, ``share``, ``ci_low``,
        ``ci_high`` (Wilson on n_eff), ``sentiment`` (mean sentiment of the comments), and the
        association with satisfaction: ``score_with``, ``score_without``, ``difference``, ``p``,
        ``p_adjusted`` (Welch t, Holm across themes), ``significant``.
    by_segment, by_group : DataFrame
        ``theme``, ``column``/``group``, ``value``, ``comments``, ``share``, ``ci_low``, ``ci_high``,
        ``p`` (two-proportion z test of the group vs the rest on effective bases), ``p_adjusted``
        (Holm across every theme × value of the table), ``significant``, ``suppressed``.
    grouping : str
        What the satisfaction groups are (``NPS groups of <column>`` or ``boxes of <column>``).
    discovered : list of dict
        Topics of the uncoded comments: ``topic``, ``terms``, ``weights``, ``comments``, ``share`` (of all
        comments), ``share_uncoded``, ``examples`` (two redacted comments), ``suggestion`` (a YAML line).
    sentiment : dict
        ``method``, ``mean``, ``positive``/``neutral``/``negative`` shares and ``agreement``
        (Spearman's rho with the rating: ``rho``, ``ci_low``, ``ci_high``, ``n``, ``p``, ``against``).
    examples : dict
        Theme → list of ``{"group", "text"}`` (redacted comments, balanced across groups).
    """

    column: str
    comments: int
    n_eff: float
    table: pd.DataFrame
    by_segment: pd.DataFrame
    by_group: pd.DataFrame
    grouping: str
    discovered: list[dict[str, Any]] = field(default_factory=list)
    sentiment: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def themes(self) -> list[str]:
        return [str(t) for t, k in zip(self.table["theme"], self.table["kind"]) if k == "codeframe"]

    def estimates(self) -> list:
        """``theme.<name>.share`` (total and per segment), ``themes.<column>.coded``/``.other`` and
        ``sentiment.<column>.agreement`` for results.json (:class:`~csatlib.results.Estimate` objects)."""
        from .results import Estimate

        out = []
        method = "share of non-empty comments, Wilson interval on n_eff"
        for r in self.table.itertuples():
            rid = (f"theme.{r.theme}.share" if r.kind == "codeframe" else f"themes.{self.column}.{r.kind}")
            out.append(Estimate(rid, float(r.share), _num(r.ci_low), _num(r.ci_high), self.comments, self.n_eff,
                                method=method))
        for r in self.by_segment.itertuples():
            seg = {str(r.column): str(r.value)}
            if r.suppressed:
                out.append(Estimate(f"theme.{r.theme}.share", None, n=int(r.comments), segment=seg, suppressed=True,
                                    method="suppressed: base below min_base"))
                continue
            out.append(Estimate(f"theme.{r.theme}.share", float(r.share), _num(r.ci_low), _num(r.ci_high),
                                int(r.comments), _num(r.n_eff), p=_num(r.p), segment=seg,
                                p_adjusted=_num(r.p_adjusted),
                                significant=None if _num(r.p_adjusted) is None else bool(r.significant),
                                method=method + "; vs rest: z (pooled) on n_eff, Holm"))
        agr = self.sentiment.get("agreement") or {}
        if agr.get("rho") is not None and agr.get("rho") == agr.get("rho"):
            out.append(Estimate(f"sentiment.{self.column}.agreement", agr["rho"], agr.get("ci_low"), agr.get("ci_high"),
                                int(agr.get("n") or 0), p=agr.get("p"),
                                method=f"Spearman rank correlation of comment sentiment with {agr.get('against')}"))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "comments": self.comments, "n_eff": self.n_eff, "themes": _records(self.table),
                "by_segment": _records(self.by_segment), "by_group": _records(self.by_group),
                "grouping": self.grouping, "discovered": list(self.discovered), "sentiment": dict(self.sentiment),
                "examples": dict(self.examples), "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ThemeColumn":
        return cls(d["column"], int(d.get("comments") or 0), float(d.get("n_eff") or 0), _frame(d.get("themes")),
                   _frame(d.get("by_segment")), _frame(d.get("by_group")), d.get("grouping", ""),
                   list(d.get("discovered") or []), dict(d.get("sentiment") or {}), dict(d.get("examples") or {}),
                   list(d.get("notes") or []))

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        return f"<p><b>ThemeColumn {html.escape(self.column)}</b></p>" + self.table.to_html(index=False, escape=True)

    def __repr__(self) -> str:
        cols = [c for c in ["theme", "mentions", "share", "ci_low", "ci_high", "difference", "p_adjusted"]
                if c in self.table]
        agr = self.sentiment.get("agreement") or {}
        return (f"ThemeColumn({self.column!r}, {self.comments} comments, sentiment agreement rho="
                f"{agr.get('rho', float('nan')):.2f})\n" + self.table[cols].round(3).to_string(index=False))


def _num(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


@dataclass
class ThemeAnalysis:
    """Comment themes and sentiment of every coded text column (``csatlib.theme_analysis``).

    ``comments`` is the per-comment coding (id, column, redacted comment, themes, topic,
    sentiment) that ``themes.csv`` holds; it stays in memory and is not part of results.json.
    """

    columns: list[ThemeColumn]
    method: str
    comments: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, column: str) -> ThemeColumn:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(column)

    def estimates(self) -> list:
        return [e for c in self.columns for e in c.estimates()]

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ThemeAnalysis":
        return cls([ThemeColumn.from_dict(c) for c in d.get("columns") or []], d.get("method", ""))

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([c.table.assign(text_column=c.column) for c in self.columns], ignore_index=True)

    def _repr_html_(self) -> str:
        return "".join(f"<p><b>{html.escape(c.column)}</b>: {c.comments:,} comments</p>"
                       + c.table.to_html(index=False, escape=True) for c in self.columns)

    def __repr__(self) -> str:
        return "\n".join(repr(c) for c in self.columns) or "ThemeAnalysis(no columns)"
