"""A wave split by the values of one column, after it was weighed as a whole.

Raking targets population margins of the whole wave, and a sample design describes the whole
wave: so the weights are computed (and the design built) once, over every clean row, and only
then is the wave split. Each segment keeps the whole wave's weights in its rows and is analysed
as a :class:`~csatlib.sampling.Domain` of the whole design — the same numbers a whole-wave
report gives for that segment. ``csat batch`` and the earlier wave's per-segment estimates
(:func:`csatlib.run.previous.load_previous`) both split this way.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import MISSING_SEGMENT
from ..sampling import DesignError, WeightedSample, weigh_sample
from ..spec import Spec

__all__ = ["WaveSegment", "weigh_wave", "split_wave", "segment_labels"]


def segment_labels(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column's values as segment labels (missing values labelled ``MISSING_SEGMENT``)."""
    col = frame[column]
    return col.astype(object).where(col.notna(), MISSING_SEGMENT).astype(str)


@dataclass(frozen=True)
class WaveSegment:
    """One value's rows of a weighed wave.

    ``at`` holds the rows' positions in the wave's frame; ``rows`` the rows themselves, carrying
    the weights computed on the whole wave.
    """

    value: str
    at: np.ndarray
    rows: pd.DataFrame


def weigh_wave(clean: pd.DataFrame, spec: Spec, source: str | Path) -> WeightedSample:
    """Weights, design and weighting summary of a wave's clean rows, computed on all of them.

    Raises
    ------
    InputError
        The weights or the design cannot be computed (naming ``source``).
    """
    try:
        return weigh_sample(clean, spec)
    except DesignError as exc:
        raise InputError(source, str(exc)) from None


def split_wave(sample: WeightedSample, column: str) -> dict[str, WaveSegment]:
    """The rows of each value of ``column`` (missing values as ``MISSING_SEGMENT``), in order of
    first appearance; each segment's analyses use ``sample.domain(segment.at, column, value)``."""
    codes, values = pd.factorize(segment_labels(sample.frame, column))
    out = {}
    for i, value in enumerate(values):
        at = np.flatnonzero(codes == i)
        out[str(value)] = WaveSegment(str(value), at, sample.frame.iloc[at])
    return out
