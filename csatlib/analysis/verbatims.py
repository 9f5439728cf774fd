"""Verbatim comments chosen for the report (already PII-redacted by the loader)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..spec import Spec

__all__ = ["verbatim_sample"]


def verbatim_sample(frame: pd.DataFrame, spec: Spec, per_segment: int = 5, seed: int = 0) -> list[dict[str, Any]]:
    """A seeded sample of (already redacted) comments per value of the first segment column.

    Returns one entry per group: ``{"column", "segment", "comments": n, "sample": [...]}``.
    Escaping for HTML is the report's job; the texts here are as redacted by the loader.
    """
    if not spec.text:
        return []
    stacked = frame[list(spec.text)].astype("string").stack()
    stacked = stacked[stacked.str.strip().str.len() > 0].astype(str)
    if stacked.empty:
        return []
    rows = stacked.index.get_level_values(0)
    seg_col = spec.segments[0] if spec.segments else None
    groups = (frame.loc[rows, seg_col].astype(object).where(frame.loc[rows, seg_col].notna(), "(missing)")
              .astype(str).to_numpy() if seg_col else np.full(len(stacked), "all respondents"))
    out = []
    rng = np.random.default_rng(seed)
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        pick = np.sort(rng.choice(idx, size=min(per_segment, idx.size), replace=False))
        out.append({"column": seg_col, "segment": g, "comments": int(idx.size),
                    "sample": [str(stacked.iloc[i]) for i in pick]})
    return out
