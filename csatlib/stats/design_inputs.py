"""What a sample design is made of, read and checked: the design's error, the raking
information the variance needs, the design structure shared by every view of a
:class:`csatlib.stats.survey.SurveyDesign`, strata and PSU labels as codes, and the fpc as 1 − f_h.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CsatError

__all__ = ["LONELY_PSU", "RAKING_PASSES", "DesignError", "Calibration", "DesignContrast", "DesignStructure",
           "design_codes", "design_label", "fpc_factor", "format_size"]

LONELY_PSU = ("fail", "adjust", "average", "remove", "certainty")
RAKING_PASSES = 10  # survey:::svyrecvar iterates the raking projections ten times


class DesignError(CsatError, ValueError):
    """The sample design cannot be used as given (missing design values, lonely PSU, bad fpc, ...)."""

    exit_code = 2


@dataclass(frozen=True)
class Calibration:
    """What the variance needs to know about a raked design (R: the ``postStrata`` of ``rake``).

    Parameters
    ----------
    margins : tuple of int arrays
        For each raking margin, each row's category code (0 .. categories − 1).
    weights : array
        The raked weights (before any trimming: ``trimWeights`` keeps the raking information).
    passes : int
        Residualisation passes (R uses 10).
    """

    margins: tuple[np.ndarray, ...]
    weights: np.ndarray
    passes: int = RAKING_PASSES


@dataclass(frozen=True)
class DesignContrast:
    """A design-based difference of two domain means with its SE and design df."""

    difference: float
    se: float
    df: float
    n: int


@dataclass(frozen=True)
class DesignStructure:
    """The design of the full sample, shared by every subset view."""

    weights: np.ndarray          # (N,)
    stratum: np.ndarray          # (N,) stratum code of each row
    psu: np.ndarray | None       # (N,) PSU code (unique across strata); None = each row its own PSU
    psu_stratum: np.ndarray | None  # (P,) stratum of each PSU
    n_h: np.ndarray              # (H,) PSUs (or rows) per stratum in the full sample
    scale_h: np.ndarray          # (H,) (1 − f_h) · n_h / (n_h − 1); lonely strata: (1 − f_h)
    lonely: np.ndarray           # (H,) bool: a stratum with one PSU
    stratum_labels: tuple[str, ...]
    lonely_psu: str
    calibration: Calibration | None
    has_strata: bool
    has_fpc: bool
    all_positive: bool = True  # no zero weight (no row outside the sample)
    cache: dict = field(default_factory=dict, compare=False)


def design_codes(values: Any, what: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes (sorted labels) of a label column; a missing label is an error."""
    s = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values)
    missing = s.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)
        shown = ", ".join(str(r + 1) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        raise DesignError(f"{what}: {len(rows)} {'rows have' if len(rows) != 1 else 'row has'} no value "
                          f"(row {shown} of the analysed rows); every respondent needs one")
    # label the distinct values only (a million rows hold a few hundred strata or PSUs)
    raw_codes, raw_uniques = pd.factorize(s)
    labels = np.array([design_label(u) for u in raw_uniques], dtype=object)
    uniques, inverse = np.unique(labels, return_inverse=True)  # 1 and 1.0 are one label
    return inverse.ravel()[raw_codes].astype(np.int64), [str(u) for u in uniques]


def design_label(v: Any) -> str:
    """A stratum or PSU value as its label (1.0 and 1 are one label)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def fpc_factor(fpc, stratum, n_h, labels, name) -> np.ndarray:
    """1 − f_h per stratum from population sizes (or sampling fractions when all are <= 1)."""
    raw = np.asarray(fpc)
    values = (raw.astype(float) if raw.dtype.kind in "iuf" else
              pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(float))
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DesignError(f"{name}: {int(bad.sum())} value(s) are missing or not numbers (first: "
                          f"{raw[i]!r} in row {i + 1}); the fpc is the population number of PSUs per stratum")
    if (values <= 0).any():
        raise DesignError(f"{name}: values must be positive (population sizes, or sampling fractions in (0, 1])")
    h_count = len(labels)
    by = pd.Series(values).groupby(stratum).agg(["min", "max"]).reindex(range(h_count))
    lo, hi = by["min"].to_numpy(float), by["max"].to_numpy(float)
    varying = np.flatnonzero(hi - lo > 1e-9 * np.maximum(1, np.abs(hi)))
    if len(varying):
        raise DesignError(f"{name}: the fpc differs within stratum {labels[varying[0]]!r} "
                          f"({format_size(lo[varying[0]])} and {format_size(hi[varying[0]])}); "
                          f"it must be constant per stratum")
    if np.all(values <= 1):  # sampling fractions, as survey::svydesign reads them
        return 1.0 - hi
    if np.any(hi < n_h):
        h = int(np.flatnonzero(hi < n_h)[0])
        raise DesignError(f"{name}: stratum {labels[h]!r} has {int(n_h[h])} sampled PSUs but a population of "
                          f"{format_size(hi[h])}; the fpc is the population number of PSUs (or a fraction <= 1)")
    return (hi - n_h) / hi


def format_size(v: float) -> str:
    """A population size or fraction as written: 120, not 120.0."""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
