"""The working frame's shared vocabulary: derived-column names, row weights, numeric views.

The loader adds derived columns (one gap per dimension, a straight-line flag, a speeder flag)
under the reserved ``_csat_`` prefix; validation, the analyses and the report all refer to them
through the names defined here, never by spelling them out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .spec import Spec

__all__ = ["DERIVED_PREFIX", "STRAIGHTLINE", "SPEEDER", "MISSING_SEGMENT", "gap_column", "row_weights",
           "numeric_view", "WEIGHT"]


DERIVED_PREFIX = "_csat_"


STRAIGHTLINE = "_csat_straightliner"


SPEEDER = "_csat_speeder"


WEIGHT = "_csat_weight"  # computed (raked, trimmed) weights, when the spec asks for them


def gap_column(dimension: str) -> str:
    """Name of the derived gap column (perception − expectation) of a dimension."""
    return f"{DERIVED_PREFIX}gap_{dimension}"


def row_weights(frame: pd.DataFrame, spec: Spec) -> np.ndarray:
    """Each row's analysis weight (NaN where not a number), or 1 for every row without a weight.

    When the spec rakes (``weighting:``) these are the raked (and trimmed) weights: the ones a
    run stored in the frame, else computed from ``frame``'s rows now
    (:func:`csatlib.sampling.frame_weights`).
    """
    if spec.weighting is not None or WEIGHT in frame.columns:
        from .sampling import row_weights_of

        return row_weights_of(frame, spec)
    if spec.weight:
        return pd.to_numeric(frame[spec.weight], errors="coerce").to_numpy(dtype=float)
    return np.ones(len(frame))


def numeric_view(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The given columns as float64, non-numeric answers becoming NaN."""
    return pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce").astype("float64")
                         for c in columns}, index=frame.index)


MISSING_SEGMENT = "(missing)"
