"""Composite dimensions: a construct measured by several items, scored as their mean.

The loader scores each composite per respondent (the mean of the substantive item answers,
reversed items reversed, when at least ``min_answered`` items have one). This module reports how
consistently the items measure one thing: Cronbach's alpha on the respondents who gave a
substantive answer to every item, and alpha with each item left out (an item whose removal
raises alpha clearly may not belong to the construct). Alpha describes the measure, so it is
computed unweighted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..results import CompositeReliability
from ..spec import Spec

__all__ = ["cronbach_alpha", "composite_reliability"]


def cronbach_alpha(items) -> float:
    """Cronbach's (1951) alpha of the columns of ``items`` (rows = respondents, no missing values).

    ``k / (k - 1) * (1 - sum of item variances / variance of the total)``, variances with n - 1.
    NaN with fewer than two items or two rows, or when the total does not vary.

    Examples
    --------
    >>> # R: psych::alpha(x)$total$raw_alpha
    >>> round(cronbach_alpha([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 5, 5]]), 4)
    0.965
    """
    x = np.asarray(items, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] < 2:
        return float("nan")
    k = x.shape[1]
    total = x.sum(axis=1).var(ddof=1)
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total))


def composite_reliability(frame: pd.DataFrame, spec: Spec) -> CompositeReliability | None:
    """Cronbach's alpha (and alpha if an item is deleted) of every composite dimension.

    Parameters
    ----------
    frame : DataFrame
        Clean rows: analysis values (codes missing, reversed items reversed) and the loader's
        composite score columns.
    spec : Spec

    Returns
    -------
    CompositeReliability, or None when the spec has no composite.
    """
    composites = [d for d in spec.dimensions if d.is_composite]
    if not composites:
        return None
    rows = []
    for d in composites:
        block = frame[list(d.items)].apply(pd.to_numeric, errors="coerce")
        complete = block.dropna().to_numpy(float)
        deleted = ({item: cronbach_alpha(np.delete(complete, j, axis=1)) if len(d.items) > 2 else None
                    for j, item in enumerate(d.items)})
        rows.append({"dimension": d.name, "label": d.title, "items": list(d.items), "k": len(d.items),
                     "n": int(len(complete)), "alpha": cronbach_alpha(complete), "alpha_if_deleted": deleted,
                     "min_answered": d.min_answered,
                     "scored": int(frame[d.perception].notna().sum()) if d.perception in frame else 0})
    rule = ("A composite's score is the mean of a respondent's substantive answers to its items (reversed items "
            "reversed), given when at least min_answered items (by default half, rounded up) have one. Alpha "
            "uses the respondents who answered every item, unweighted.")
    return CompositeReliability(pd.DataFrame(rows), rule)
