"""Verbatim comments chosen for the report (already PII-redacted by the loader).

A reviewer reads a handful of comments per segment, so each one should count: repeated
comments are shown once, segments come in the spec's order, segments too small to report
(fewer clean rows than ``quality.min_base``) are never quoted, every comment carries its
respondent's satisfaction score, and the choice alternates between less and more satisfied
customers (NPS detractors and promoters when the spec has an NPS item, else below and at or
above the satisfaction top box), drawn with a fixed seed so re-runs quote the same comments.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..frame import MISSING_SEGMENT
from ..spec import Spec

__all__ = ["verbatim_sample"]

_SPACE = re.compile(r"\s+")


def _label(value: Any) -> str:
    """A segment value as the report names it (missing: :data:`MISSING_SEGMENT`)."""
    return MISSING_SEGMENT if pd.isna(value) else str(value)


def _groups(frame: pd.DataFrame, spec: Spec, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group label, satisfaction score) of each commenting row: detractor/passive/promoter from
    the NPS answer when there is one, else less satisfied / satisfied from the top box."""
    sat = pd.to_numeric(frame[spec.satisfaction.column].iloc[rows], errors="coerce").to_numpy(float)
    group = np.where(sat >= spec.satisfaction.top_box, "satisfied", "less satisfied").astype(object)
    group[np.isnan(sat)] = "not rated"
    if spec.nps is not None:
        rec = pd.to_numeric(frame[spec.nps.column].iloc[rows], errors="coerce").to_numpy(float)
        nps = np.where(rec >= 9, "promoter", np.where(rec >= 7, "passive", "detractor")).astype(object)
        group = np.where(np.isnan(rec), group, nps)
    return group, sat


def _comments(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The non-blank comments as text, row by row and within a row in ``columns`` order, with the
    row position of each."""
    positions, order, texts = [], [], []
    for j, column in enumerate(columns):
        values = frame[column]
        present = np.flatnonzero(values.notna().to_numpy())
        text = values.iloc[present].astype(str)
        blank = text.str.strip().str.len().to_numpy() == 0
        positions.append(present[~blank])
        order.append(np.full(int((~blank).sum()), j))
        texts.append(text.to_numpy(dtype=object)[~blank])
    pos, col = np.concatenate(positions), np.concatenate(order)
    sort = np.lexsort((col, pos))
    return np.concatenate(texts)[sort], pos[sort]


class _Keys:
    """The comparison key of each comment (trimmed, case-folded, runs of white space as one
    space), computed only for the comments looked at."""

    def __init__(self, texts: np.ndarray):
        self.texts, self.cache = texts, {}

    def __getitem__(self, i: int) -> str:
        key = self.cache.get(i)
        if key is None:
            key = self.cache[i] = _SPACE.sub(" ", str(self.texts[i]).strip().casefold())
        return key


def _order(values: list[str], spec: Spec, column: str | None) -> list[str]:
    listed = list(spec.categories.get(column, ())) if column else []
    first = [v for v in listed if v in values]
    rest = sorted(v for v in values if v not in listed and v != MISSING_SEGMENT)
    return first + rest + ([MISSING_SEGMENT] if MISSING_SEGMENT in values else [])


def verbatim_sample(frame: pd.DataFrame, spec: Spec, per_segment: int = 5, seed: int = 0) -> list[dict[str, Any]]:
    """Comments to quote per value of the first segment column (one group when there is none).

    Returns one entry per group, in the spec's order of the segment values:
    ``{"column", "segment", "comments": n, "withheld": bool, "sample": [{"text", "satisfaction",
    "group"}, ...]}``. A group whose segment has fewer clean rows than ``quality.min_base`` is
    ``withheld`` with an empty sample. Texts are as redacted by the loader; escaping for HTML is
    the report's job.
    """
    if not spec.text:
        return []
    texts, rows = _comments(frame, list(spec.text))  # rows: positions
    if not texts.size:
        return []
    seg_col = spec.segments[0] if spec.segments else None
    if seg_col:
        counts = frame[seg_col].value_counts(dropna=False)  # rows per segment label, over all clean rows
        sizes = pd.Series(counts.to_numpy(), index=[_label(v) for v in counts.index]).groupby(level=0).sum()
        codes, values = pd.factorize(frame[seg_col].iloc[rows], use_na_sentinel=False)
        segments = np.array([_label(v) for v in values], dtype=object)[codes]
    else:
        sizes = pd.Series({"All respondents": len(frame)})
        segments = np.full(texts.size, "All respondents", dtype=object)
    group, sat = _groups(frame, spec, rows)
    keys = _Keys(texts)
    low_groups, high_groups = ("detractor", "less satisfied"), ("promoter", "satisfied")
    is_low, is_high = np.isin(group, low_groups), np.isin(group, high_groups)
    rng = np.random.default_rng(seed)
    shown: set[str] = set()
    out = []
    for value in _order(list(pd.unique(segments)), spec, seg_col):
        idx = np.flatnonzero(segments == value)
        entry: dict[str, Any] = {"column": seg_col, "segment": value, "comments": int(idx.size), "withheld": False,
                                 "sample": []}
        if int(sizes.get(value, 0)) < spec.quality.min_base:
            entry["withheld"] = True
            out.append(entry)
            continue
        order = idx[rng.permutation(idx.size)]
        low, high = is_low[order], is_high[order]
        pools = {"low": order[low], "high": order[high], "other": order[~(low | high)]}
        next_of = {k: 0 for k in pools}

        def take(pool: str) -> int | None:
            while next_of[pool] < pools[pool].size:
                i = int(pools[pool][next_of[pool]])
                next_of[pool] += 1
                if keys[i] not in shown:  # each distinct comment once on the page
                    shown.add(keys[i])
                    return i
            return None

        picked: list[int] = []
        while len(picked) < per_segment:
            first = ["low", "high"] if len(picked) % 2 == 0 else ["high", "low"]
            i = next((j for j in (take(p) for p in first + ["other"]) if j is not None), None)
            if i is None:
                break
            picked.append(i)
        picked.sort(key=lambda i: (np.nan_to_num(sat[i], nan=np.inf), keys[i]))
        entry["sample"] = [{"text": str(texts[i]), "satisfaction": None if np.isnan(sat[i]) else float(sat[i]),
                            "group": str(group[i])} for i in picked]
        out.append(entry)
    return out
