"""Banner tables as a tidy frame (:mod:`csatlib.analysis.banner` computes them,
:mod:`csatlib.report.banner` prints them)."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd


__all__ = ['BannerTables', 'BANNER_TIDY_COLUMNS', 'BANNER_TOTAL']


BANNER_TOTAL = "Total"

BANNER_TIDY_COLUMNS = ["table", "table_label", "stub", "stub_label", "statistic", "test", "group", "column",
                       "letter", "value", "letters", "suppressed", "n"]
"""Columns of :attr:`BannerTables.frame`, one row per table × stub × statistic × banner column:

table, table_label
    id (``satisfaction``, ``nps``, ``loyalty.<column>``, ``dimension.<name>``,
    ``dimension.<name>.expectation``, ``gap.<name>``, ``segment.<column>``, ``base``) and title.
stub, stub_label
    the row of the table: ``point.<value>``, ``top_box``, ``top2_box``, ``bottom2_box``, ``rate``,
    ``mean``, ``promoters``, ``passives``, ``detractors``, ``nps``, ``unmet``, ``value.<label>``,
    ``base``.
statistic
    ``share`` (0-1), ``mean`` (for ``nps``: −100..100), ``se``, ``n``, ``n_weighted``, ``n_eff``.
test
    ``z`` (column proportions), ``welch`` (means) or empty (not tested: bases, SEs).
group, column, letter
    the banner column (empty for the Total), its value, its letter within the group.
value, letters, suppressed, n
    the number (NaN when suppressed), the letters of the columns it is significantly higher than,
    whether the cell is suppressed, and the unweighted base of the table in that column.
"""


@dataclass(frozen=True)
class BannerTables:
    """Banner tables as a tidy frame (see :data:`BANNER_TIDY_COLUMNS`), with the settings that made them.

    Built by :func:`csatlib.banner`; printed by :mod:`csatlib.report.banner`.

    Attributes
    ----------
    frame : DataFrame
        One row per table × stub × statistic × banner column.
    columns : DataFrame
        The banner's columns in order: ``group``, ``column``, ``letter``, ``n``, ``n_weighted``,
        ``n_eff`` (all respondents of the column) and ``suppressed``.
    confidence, correction, min_base, weighted, survey
        The level of the column tests, the multiple-comparison correction within a row, the
        suppression threshold, whether the spec has weights, and the survey's name.
    notes : tuple of str
        Anything left out (rows without a valid weight, answers outside a scale).
    """

    frame: pd.DataFrame
    columns: pd.DataFrame
    confidence: float = 0.95
    correction: str = "bonferroni"
    min_base: int = 30
    weighted: bool = False
    survey: str = ""
    notes: tuple[str, ...] = ()

    # -- views ------------------------------------------------------------------------------
    @property
    def groups(self) -> list[str]:
        """Banner groups in order (the Total's group is ``""``)."""
        return list(dict.fromkeys(self.columns["group"]))

    @property
    def tables(self) -> list[tuple[str, str]]:
        """``(table id, title)`` of every table, in order (the respondents' base table first)."""
        pairs = self.frame[["table", "table_label"]].drop_duplicates()
        return list(pairs.itertuples(index=False, name=None))

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    @classmethod
    def from_tidy(cls, frame: pd.DataFrame, spec: Any) -> "BannerTables":
        """Rebuild the tables from their tidy frame (``banner.csv`` read back) and the spec that
        made them (its ``banner:`` test level and correction, ``quality.min_base``, weight, name)."""
        frame = frame.copy()
        for col in ("table", "table_label", "stub", "stub_label", "statistic", "test", "group", "column", "letter",
                    "letters"):
            frame[col] = frame[col].fillna("").astype(str)
        frame["suppressed"] = frame["suppressed"].astype(str).str.lower().isin(("true", "1"))
        head = frame[frame["table"] == "base"]
        cols = head[head["statistic"] == "n"][["group", "column", "letter", "value", "suppressed"]]
        cols = cols.rename(columns={"value": "n"}).reset_index(drop=True)
        cols["n"] = cols["n"].astype("int64")
        cols.insert(4, "n_weighted", head.loc[head["statistic"] == "n_weighted", "value"].to_numpy())
        cols.insert(5, "n_eff", head.loc[head["statistic"] == "n_eff", "value"].to_numpy())
        banner = getattr(spec, "banner", None)
        return cls(frame=frame[BANNER_TIDY_COLUMNS].reset_index(drop=True), columns=cols,
                   confidence=banner.confidence if banner else 0.95,
                   correction=banner.correction if banner else "bonferroni",
                   min_base=spec.quality.min_base, weighted=spec.weight is not None, survey=spec.name)

    def table(self, table: str, statistic: str | None = None) -> pd.DataFrame:
        """One table in the familiar wide shape: rows = (stub, statistic), columns = (group, column).

        Values are numbers (NaN where suppressed); :meth:`letters_of` gives the letters.
        """
        return self._wide(table, "value", statistic)

    def letters_of(self, table: str) -> pd.DataFrame:
        """The significance letters of one table, shaped like :meth:`table`."""
        return self._wide(table, "letters", None)

    def _wide(self, table: str, field_: str, statistic: str | None) -> pd.DataFrame:
        rows = self.frame[self.frame["table"] == table]
        if rows.empty:
            raise KeyError(f"no banner table {table!r}; tables: {', '.join(t for t, _ in self.tables)}")
        if statistic is not None:
            rows = rows[rows["statistic"] == statistic]
        keys = ["stub", "stub_label", "statistic"]
        group = rows["group"].where(rows["group"] != "", BANNER_TOTAL)
        wide = rows.assign(group=group).set_index([*keys, "group", "column"])[field_].unstack(["group", "column"])
        order = [(g or BANNER_TOTAL, c) for g, c in self.columns[["group", "column"]].itertuples(index=False, name=None)]
        index = pd.MultiIndex.from_frame(rows[keys].drop_duplicates())
        return wide.reindex(index=index, columns=pd.MultiIndex.from_tuples(order, names=["group", "column"]))

    def footnote(self, tests: Iterable[str] = ("z", "welch")) -> str:
        """The sentence printed under a table whose rows use ``tests`` (``z``, ``welch``)."""
        tests = set(tests)
        level = f"{100 * self.confidence:g}%"
        parts = []
        if tests:
            how = []
            if "z" in tests:
                how.append("percentages by a two-sample z test of column proportions on effective bases "
                           "(pooled, as SPSS's column-proportions test)")
            if "welch" in tests:
                how.append("means by a Welch t test on design-based (linearised) standard errors")
            corr = {"bonferroni": "Bonferroni-adjusted for the column pairs tested within each row",
                    "holm": "Holm-adjusted across the column pairs tested within each row",
                    "none": "not adjusted for multiple comparisons"}[self.correction]
            parts.append(f"Letters mark a cell significantly higher than the column with that letter in the same "
                         f"banner group at {level} confidence: {'; '.join(how)}; p values {corr}.")
        parts.append(f"Cells with an unweighted base below {self.min_base} are suppressed (*) and not tested.")
        parts.append("Percentages and means are weighted; bases: unweighted n, weighted n (sum of weights) and "
                     "Kish's effective n." if self.weighted else "Unweighted; bases count respondents who answered.")
        return " ".join(parts)

    def table_tests(self, table: str) -> list[str]:
        """The tests used in one table (for its footnote)."""
        t = self.frame.loc[self.frame["table"] == table, "test"]
        return [x for x in ("z", "welch") if (t == x).any()]

    def __repr__(self) -> str:
        groups = [g for g in self.groups if g]
        shape = ", ".join(f"{g}: {(self.columns['group'] == g).sum()}" for g in groups) or "no banner columns"
        return (f"BannerTables({self.survey!r}, {len(self.tables)} tables × {len(self.columns)} columns "
                f"(Total + {shape}), {'weighted' if self.weighted else 'unweighted'}, "
                f"{100 * self.confidence:g}% {self.correction}, min_base {self.min_base})")

    def _repr_html_(self, max_tables: int = 12) -> str:
        """A quick look in JupyterLab: the first tables, '42% BC' cells (the report draws the full ones)."""
        out = [f"<p><b>{html.escape(repr(self))}</b></p>"]
        for tid, title in self.tables[:max_tables]:
            values = self.table(tid)
            letters = self.letters_of(tid)
            stats = values.index.get_level_values("statistic")
            shown = values.copy().astype(object)
            for r, stat in enumerate(stats):
                for c in range(values.shape[1]):
                    shown.iat[r, c] = _banner_cell(values.iat[r, c], stat, letters.iat[r, c])
            shown.index = [f"{lab} ({stat})" if stat not in ("share", "mean") else lab
                           for lab, stat in zip(values.index.get_level_values("stub_label"), stats)]
            out.append(f"<h4>{html.escape(title)}</h4>" + shown.to_html(escape=True))
        if len(self.tables) > max_tables:
            out.append(f"<p>… {len(self.tables) - max_tables} more tables (<code>.tables</code>, "
                       f"<code>.table(id)</code>).</p>")
        out.append(f"<p><small>{html.escape(self.footnote())}</small></p>")
        return "".join(out)


def _banner_cell(value: Any, statistic: str, letters: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "*" if statistic in ("share", "mean", "se") else "–"
    if statistic == "share":
        text = f"{100 * value:.0f}%"
    elif statistic in ("mean", "se"):
        text = f"{value:.2f}" if statistic == "mean" else f"{value:.3f}"
    elif statistic == "n":
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}"
    return f"{text} {letters}" if isinstance(letters, str) and letters else text
