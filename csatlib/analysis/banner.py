"""Banner tables: every question of the spec down the side, the breakdowns across the top.

The deliverable research agencies call crosstabs or banner tables (SPSS Custom Tables, Q,
Displayr): for each *table* (a rated item, the NPS, a gap, a categorical column) and each
*column* (Total, then each value of each banner column) the weighted percentages and means with
their bases, and *letters* marking which columns of the same banner group a cell is significantly
higher than.

Statistics (weights-only design, as everywhere in csatlib):

* shares: ``Σw[answer in set] / Σw[answered]``; means: ``Σw·y / Σw`` with the linearised SE of
  :func:`csatlib.stats.estimators.weighted_mean` (R ``survey::svymean``);
  bases: unweighted n, weighted n (Σw) and Kish's effective n ``(Σw)²/Σw²`` of the rows that
  answered the table's question (skipped questions leave the base, they are not zeros);
* column letters on shares: the pooled two-sample z test of column proportions on effective
  bases, the convention of SPSS's column-proportions test (with weights, SPSS's "effective base"
  option): ``z = (p_i − p_j) / sqrt(p̄(1 − p̄)(1/n_i + 1/n_j))`` with ``p̄`` pooled on the
  effective bases;
* column letters on means (and the NPS, a mean of 100/0/−100 scores): Welch's t test on the
  design-based SEs, Satterthwaite df with ``n_i − 1`` per column
  (:func:`csatlib.stats.estimators.welch_test`);
* within each row of a banner group, the p values of the k(k−1)/2 column pairs that could be
  tested form one family: Bonferroni (default, as SPSS) or Holm adjusted, or left alone;
* a cell whose unweighted base is below ``quality.min_base`` is suppressed: its base is shown,
  its value is not, and it takes part in no test. The Total column is never tested.

Every count is one ``np.bincount`` over the rows per question: a row's banner cell (its column
in every banner group at once, in mixed radix) times the number of answer points plus its
answer. Each group's table is then a sum over that small joint table, so a million rows, a
12-column banner and 40 questions take about a hundred bincounts, whatever the banner's shape.

R equivalent of one column's cells (a column's SE is that of its own rows, as the report's
segment KPIs; ``svyby`` on the full design treats the column as a domain, same mean, SE smaller
by the factor sqrt[(n_d/(n_d−1)) / (n/(n−1))]: 1.7% for a column of 30 respondents, 0.5% for 100)::

    d <- svydesign(ids = ~1, weights = ~w, data = df[df$region == "华东", ])
    svymean(~I(sat >= 9), d)                      # top-2 box of a 1-10 item in one column
    svymean(~sat, d)                              # its mean and linearised SE
    svyby(~sat, ~region, svydesign(ids = ~1, weights = ~w, data = df), svymean)  # domain SEs
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..frame import MISSING_SEGMENT, row_weights
from ..results import BANNER_TIDY_COLUMNS as TIDY_COLUMNS
from ..results import BANNER_TOTAL as TOTAL
from ..results import BannerTables
from ..spec import Spec
from .banner_inputs import (CORRECTIONS, MAX_BANNER_VALUES, MAX_DISTRIBUTION_POINTS, BannerGroup, TooManyValues,
                            banner_questions, banner_settings, categorical_codes, column_letters, table_stubs)
from .banner_stats import (adjust_rows, column_means, count_cells, significance_letters, welch_pvalues,
                           z_pvalues)

__all__ = ["banner", "BannerTables", "banner_settings", "TIDY_COLUMNS", "TOTAL", "MAX_BANNER_VALUES",
           "MAX_DISTRIBUTION_POINTS", "CORRECTIONS", "column_letters", "adjust_rows"]


# ---------------------------------------------------------------------------------------------
class _Rows:
    """Column-wise accumulator of the tidy frame."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(self, table: str, table_label: str, stub: str, stub_label: str, statistic: str, test: str,
            group: BannerGroup, letters_of_group: list[str], values: np.ndarray, letters: list[str] | None,
            suppressed: np.ndarray, n: np.ndarray) -> None:
        self.parts.append(dict(table=table, table_label=table_label, stub=stub, stub_label=stub_label,
                               statistic=statistic, test=test, group=group.name, columns=group.labels,
                               letter=letters_of_group, value=values, letters=letters, suppressed=suppressed, n=n))

    def frame(self) -> pd.DataFrame:
        lengths = np.array([len(p["columns"]) for p in self.parts])
        rep = lambda key: np.repeat(np.array([p[key] for p in self.parts], dtype=object), lengths)  # noqa: E731
        cat = lambda key: np.concatenate([np.asarray(p[key]) for p in self.parts]) if self.parts else []  # noqa: E731
        data = {key: rep(key) for key in ("table", "table_label", "stub", "stub_label", "statistic", "test", "group")}
        data["column"] = np.concatenate([np.asarray(p["columns"], dtype=object) for p in self.parts])
        data["letter"] = np.concatenate([np.asarray(p["letter"], dtype=object) for p in self.parts])
        data["value"] = cat("value").astype(float)
        data["letters"] = np.concatenate([np.asarray(p["letters"] if p["letters"] is not None
                                                     else [""] * len(p["columns"]), dtype=object)
                                          for p in self.parts])
        data["suppressed"] = cat("suppressed").astype(bool)
        data["n"] = cat("n").astype(np.int64)
        out = pd.DataFrame(data, columns=TIDY_COLUMNS)
        for col in ("table", "table_label", "stub", "stub_label", "statistic", "test", "group", "column", "letter",
                    "letters"):
            out[col] = out[col].astype(str)
        return out



def banner(frame: Any, spec: Spec, banner: str | Sequence[str] | None = None, *, confidence: float | None = None,
           correction: str | None = None, min_base: int | None = None,
           value_labels: Mapping[str, Mapping[Any, str]] | None = None) -> BannerTables:
    """Banner tables of a wave: every rated item, the NPS, loyalty items, gaps and categorical
    columns down the side; Total and each value of each banner column across the top.

    Parameters
    ----------
    frame : DataFrame or Wave
        The rows to tabulate (clean rows after validation); a loaded ``Wave`` also brings its
        SPSS value labels.
    spec : Spec
    banner : str or list of str, optional
        Banner columns; default the spec's ``banner:`` columns, else its segments.
    confidence : float, optional
        Level of the column tests (0.95 or 95); default the spec's, else 95%.
    correction : {"bonferroni", "holm", "none"}, optional
        Adjustment of the pairwise tests within each row of a banner group; default the spec's,
        else Bonferroni.
    min_base : int, optional
        Suppress cells whose unweighted base is below this; default ``quality.min_base``.
    value_labels : dict, optional
        ``{column: {code: label}}`` (SPSS value labels) for answer points and banner values.

    Returns
    -------
    BannerTables
        ``.frame`` is the tidy table (:data:`TIDY_COLUMNS`); ``.table(id)`` one table wide.

    Raises
    ------
    ValueError
        A banner column the data lacks, or one with more than 26 values.

    Examples
    --------
    >>> tables = csatlib.banner(clean, spec, banner=["region"])      # doctest: +SKIP
    >>> tables.table("satisfaction")                                  # doctest: +SKIP
    >>> # R: svyby(~I(overall_sat >= 9), ~region, design, svymean)  -> the top-2 box row (means);
    >>> #    SEs: svymean on each column's rows (tests/test_banner.py checks both against R)
    """
    if value_labels is None:
        value_labels = getattr(frame, "value_labels", None) or {}
    frame = getattr(frame, "frame", frame)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"banner() needs a DataFrame or a loaded Wave, got {type(frame).__name__}")
    settings = banner_settings(spec, banner, confidence=confidence, correction=correction)
    min_base = int(spec.quality.min_base if min_base is None else min_base)
    alpha = 1 - settings.confidence
    notes: list[str] = []
    missing = [c for c in settings.columns if c not in frame.columns]
    if missing:
        raise ValueError(f"banner column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(repr(c) for c in missing)} not in the data")

    w = row_weights(frame, spec)
    valid = np.isfinite(w) & (w > 0)
    if not valid.all():
        notes.append(f"{int((~valid).sum()):,} rows without a valid weight were left out.")
        frame, w = frame.loc[valid], w[valid]
    weighted = spec.weight is not None or spec.weighting is not None  # file or raked weights
    w2 = w * w if weighted else None
    wv = w if weighted else None

    cat_cache: dict = {}
    groups: list[BannerGroup] = []
    for col in settings.columns:
        try:
            codes, names = cat_cache[col] = categorical_codes(frame[col], spec.categories.get(col), value_labels.get(col),
                                                         limit=MAX_BANNER_VALUES)
        except TooManyValues as exc:
            count = exc.count
        else:
            if (codes < 0).any():  # rows without a value form their own column, as in the report's segments
                codes, names = np.where(codes < 0, len(names), codes), [*names, MISSING_SEGMENT]
            count = len(names)
        if count > MAX_BANNER_VALUES:
            raise ValueError(f"banner column {col!r} has {count:,} distinct values; a banner column is a "
                             f"categorical breakdown with at most {MAX_BANNER_VALUES} values (one letter each)")
        groups.append(BannerGroup(col, names, codes))
    total = BannerGroup("", [TOTAL], np.zeros(len(frame), dtype=np.int64))
    all_groups = [total, *groups]
    group_letters = [[""]] + [column_letters(g.k) for g in groups]

    rows = _Rows()
    cells: dict = {}
    # the respondents of each column
    ones = np.zeros(len(frame), dtype=np.int64)
    for g, counts, lets in zip(all_groups, count_cells(groups, ones, 1, wv, w2), group_letters):
        n = counts.n
        sup = n < min_base
        for stat, vals in (("n", n), ("n_weighted", counts.w), ("n_eff", counts.n_eff)):
            rows.add("base", "Respondents", "base", "Base (all respondents)", stat, "", g, lets,
                     vals.astype(float), None, sup, n)
    header = rows.frame()

    rows = _Rows()
    for q in banner_questions(frame, spec, value_labels, cat_cache, notes):
        counts_by_group = count_cells(groups, q.idx, len(q.points), wv, w2, cells)
        stubs = table_stubs(q)
        for g, counts, lets in zip(all_groups, counts_by_group, group_letters):
            n, neff, wsum = counts.n, counts.n_eff, counts.w
            sup = n < min_base
            ok = ~sup & (n > 0)
            testable = g.name != "" and g.k > 1
            shares = [s for s in stubs if s.kind == "share"]
            means = [s for s in stubs if s.kind == "mean"]
            share_vals = {}
            if shares:
                mask = np.array([s.weights for s in shares], dtype=float)  # (S, P)
                with np.errstate(invalid="ignore", divide="ignore"):
                    p = (counts.sw @ mask.T).T / wsum[None, :]  # (S, k)
                let = (significance_letters(p, z_pvalues(p, neff, ok), settings.correction, alpha, lets)
                       if testable else None)
                for i, s in enumerate(shares):
                    share_vals[s.id] = (p[i], let[i] if let else None)
            mean_vals = {}
            if means:
                ms, ses = zip(*(column_means(counts, s.weights) for s in means))
                m, se = np.array(ms), np.array(ses)
                let = (significance_letters(m, welch_pvalues(m, se, n, ok), settings.correction, alpha, lets)
                       if testable else None)
                for i, s in enumerate(means):
                    mean_vals[s.id] = (m[i], se[i], let[i] if let else None)
            for s in stubs:
                if s.kind == "share":
                    v, let_s = share_vals[s.id]
                    rows.add(q.table, q.label, s.id, s.label, "share", "z" if testable else "", g, lets,
                             np.where(ok, v, np.nan), let_s, sup, n)
                else:
                    m_s, se_s, let_s = mean_vals[s.id]
                    rows.add(q.table, q.label, s.id, s.label, "mean", "welch" if testable else "", g, lets,
                             np.where(ok, m_s, np.nan), let_s, sup, n)
                    rows.add(q.table, q.label, s.id, s.label, "se", "", g, lets, np.where(ok, se_s, np.nan),
                             None, sup, n)
            for stat, vals in (("n", n), ("n_weighted", wsum), ("n_eff", neff)):
                rows.add(q.table, q.label, "base", "Base (answered)", stat, "", g, lets, vals.astype(float),
                         None, sup, n)
    tidy = rows.frame()
    # suppressed cells take part in no test: their letters were never set (ok excluded them)
    tidy = pd.concat([header, tidy], ignore_index=True) if len(tidy) else header
    cols = header[header["statistic"] == "n"][["group", "column", "letter", "value", "suppressed"]]
    cols = cols.rename(columns={"value": "n"}).reset_index(drop=True)
    cols["n"] = cols["n"].astype(np.int64)
    cols.insert(4, "n_weighted", header.loc[header["statistic"] == "n_weighted", "value"].to_numpy())
    cols.insert(5, "n_eff", header.loc[header["statistic"] == "n_eff", "value"].to_numpy())
    return BannerTables(frame=tidy, columns=cols, confidence=settings.confidence, correction=settings.correction,
                        min_base=min_base, weighted=weighted, survey=spec.name, notes=tuple(notes))
