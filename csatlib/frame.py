"""The working frame's shared vocabulary: derived-column names, row weights, numeric views.

The loader adds derived columns (one gap per dimension, a straight-line flag, a speeder flag, a
repeated-header flag, each composite's score and each rated column's answer codes) under the
reserved ``_csat_`` prefix; validation, the analyses and the report all refer to them
through the names defined here, never by spelling them out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .spec import CODE_KINDS, COMPOSITE_PREFIX, composite_column

if TYPE_CHECKING:
    from .spec import Spec

__all__ = ["DERIVED_PREFIX", "STRAIGHTLINE", "SPEEDER", "MISSING_SEGMENT", "gap_column", "row_weights",
           "numeric_view", "HEADER_ROW", "code_column", "composite_column", "CODE_KINDS", "kind_of_code",
           "band_order", "segment_order", "KIND_CODES", "WEIGHT"]


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


HEADER_ROW = "_csat_header_row"
"""Derived flag: the row repeats the header (column names in the cells), e.g. concatenated exports."""

assert COMPOSITE_PREFIX.startswith(DERIVED_PREFIX)


KIND_CODES = {kind: i + 1 for i, kind in enumerate(CODE_KINDS)}


def code_column(column: str) -> str:
    """Name of the derived column holding a rated column's non-substantive answer kind per row.

    Values are small integers: 0 = a rating or a blank cell, else ``1 + CODE_KINDS.index(kind)``
    (1 not applicable, 2 don't know, 3 refused, 4 other declared missing). Read them with
    :func:`kind_of_code`.
    """
    return f"{DERIVED_PREFIX}code_{column}"


def kind_of_code(code: int) -> str | None:
    """The kind (``"not_applicable"``, ...) of a :func:`code_column` value; None for 0."""
    return CODE_KINDS[int(code) - 1] if code else None


def band_order(edges: tuple[float, ...]) -> list[str]:
    """The labels of a banded column's segments, lowest first: ``<18``, ``18-24``, ..., ``65+``.

    Edges are lower bounds: band ``[a, b)``. With whole-number edges a band is shown as
    ``a-(b-1)`` (``18-24``), otherwise as ``a to <b``.

    >>> band_order((18, 25, 35))
    ['<18', '18-24', '25-34', '35+']
    """
    whole = all(float(e).is_integer() for e in edges)

    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else f"{x:g}"

    labels = [f"<{fmt(edges[0])}"]
    for a, b in zip(edges, edges[1:]):
        if whole:
            labels.append(fmt(a) if b - 1 == a else f"{fmt(a)}-{fmt(b - 1)}")
        else:
            labels.append(f"{fmt(a)} to <{fmt(b)}")
    labels.append(f"{fmt(edges[-1])}+")
    return labels


def segment_order(spec: "Spec", column: str) -> tuple[str, ...] | None:
    """The spec's order of a segment column's values: its categories, or its bands; else None."""
    if column in spec.bands:
        return tuple(band_order(spec.bands[column]))
    return spec.categories.get(column)
