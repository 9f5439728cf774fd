"""The sample behind a frame: its weights (from the file, raked, trimmed) and its design.

Everything here is read from the spec, never from fixed column names:

* ``weight:`` names the base (design) weight column; without it every row starts at 1.
* ``weighting: {rake: {COLUMN: {value: share}}, trim: [low, high]}`` rakes the base weights to
  population shares on the clean rows (:func:`csatlib.stats.weighting.rake`, R's
  ``survey::rake``), the population total being the sum of the base weights, then trims them
  to ``[low, high] × mean weight`` (R's ``trimWeights(strict = TRUE)``).
* ``design: {strata, psu, fpc, lonely_psu}`` adds the sample design
  (:class:`csatlib.stats.survey.SurveyDesign`, R's ``svydesign``).

A spec with any of the three is *design-based*: every standard error then follows the design
(R's ``survey`` package), segments are domains of the whole sample, and models use the
design-based sandwich. A spec with none is a simple random sample, analysed with the textbook
formulas.

:func:`apply_weighting` adds the computed weights to the clean frame as derived columns
(``_csat_weight``, and ``_csat_raked_weight`` before trimming) so that every analysis of the
run, and every segment of a batch, uses the same weights. A batch weighs the whole wave once
(:func:`weigh_sample`) and analyses each segment as a :class:`Domain` of it: the segment's rows
keep the whole wave's weights and its standard errors are domain SEs of the whole wave's design.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .frame import DERIVED_PREFIX, WEIGHT
from .results import WeightingSummary
from .spec import Spec
from .stats.survey import Calibration, DesignError, SurveyDesign
from .stats.weighting import RakeResult, TrimResult, kish_design_effect, rake, trim

__all__ = ["WEIGHT", "RAKED_WEIGHT", "design_based", "frame_weights", "apply_weighting", "survey_design",
           "ComputedWeights", "labels_of", "DesignError", "WeightedSample", "weigh_sample", "Domain", "design_of",
           "domain_weighting"]

RAKED_WEIGHT = f"{DERIVED_PREFIX}raked_weight"


def design_based(spec: Spec) -> bool:
    """True when the spec has weights, a raking target or a sample design."""
    return bool(spec.weight or spec.weighting or spec.design)


def labels_of(values: pd.Series) -> pd.Series:
    """Labels of a categorical column as text (whole numbers without '.0'), missing kept as NaN."""
    def conv(v):
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)

    codes, uniques = pd.factorize(values)  # label the distinct values only
    labels = np.array([conv(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(labels[codes], index=values.index, dtype=object)


def base_weights(frame: pd.DataFrame, spec: Spec) -> np.ndarray:
    """The weight column of the file (NaN where not a number), or 1 for every row."""
    if spec.weight:
        return pd.to_numeric(frame[spec.weight], errors="coerce").to_numpy(dtype=float)
    return np.ones(len(frame))


@dataclass(frozen=True)
class ComputedWeights:
    """Weights computed from the clean rows: raked (and possibly trimmed), with the raking margins."""

    weights: np.ndarray
    raked: np.ndarray  # before trimming; the variance's calibration weights
    base: np.ndarray
    margins: tuple[np.ndarray, ...]  # each rake column's category code per row
    margin_labels: tuple[tuple[str, ...], ...]
    shares: tuple[np.ndarray, ...]  # target shares, in margin_labels order
    rake: RakeResult | None
    trim: TrimResult | None


def _margins(frame: pd.DataFrame, spec: Spec) -> tuple[list[np.ndarray], list[tuple[str, ...]], list[np.ndarray]]:
    codes, labels, shares = [], [], []
    for col, targets in spec.weighting.rake.items():
        path = f"weighting.rake.{col}"
        values = labels_of(frame[col])
        missing = values.isna().to_numpy()
        if missing.any():
            raise DesignError(f"{path}: {int(missing.sum())} clean row(s) have no {col!r} value; every respondent "
                              f"needs a category to be raked")
        counts = values.value_counts()
        unknown = [v for v in counts.index if v not in targets]
        if unknown:
            shown = ", ".join(f"{v!r} ({counts[v]} rows)" for v in unknown[:5])
            raise DesignError(f"{path}: the data hold value(s) with no population share: {shown}; give every value "
                              f"of {col!r} a share")
        absent = [v for v in targets if v not in counts.index]
        if absent:
            shown = ", ".join(f"{v!r} (share {targets[v]:g})" for v in absent)
            raise DesignError(f"{path}: no clean row has {shown}, so that margin cannot be reached; merge the "
                              f"category with another or drop it from the targets")
        order = tuple(targets)
        codes.append(pd.Categorical(values, categories=list(order)).codes.astype(np.int64))
        labels.append(order)
        shares.append(np.array([targets[v] for v in order], dtype=float))
    return codes, labels, shares


def frame_weights(frame: pd.DataFrame, spec: Spec) -> ComputedWeights:
    """Rake (and trim) the base weights of ``frame`` as ``spec.weighting`` says.

    Raises
    ------
    DesignError
        A row without a category, a category without a share or a share without rows, missing
        or non-positive base weights, or raking that does not converge.
    """
    base = base_weights(frame, spec)
    bad = ~np.isfinite(base) | (base <= 0)
    if bad.any():
        raise DesignError(f"weight: {int(bad.sum())} row(s) have a missing or non-positive weight in "
                          f"{spec.weight!r}; raking starts from positive base weights")
    wt = spec.weighting
    if wt is None:
        return ComputedWeights(base, base, base, (), (), (), None, None)
    codes, labels, shares = _margins(frame, spec) if wt.rake else ([], [], [])
    raked_result = None
    raked = base
    if codes:
        total = float(base.sum())
        raked_result = rake(base, codes, [s * total for s in shares])
        raked = raked_result.weights
    trimmed = None
    final = raked
    if wt.trim is not None:
        mean = float(raked.mean())
        trimmed = trim(raked, wt.trim[0] * mean, wt.trim[1] * mean, strict=True)
        final = trimmed.weights
    return ComputedWeights(final, raked, base, tuple(codes), tuple(labels), tuple(shares), raked_result, trimmed)


@dataclass(frozen=True)
class Domain:
    """Rows analysed as a domain of a larger sample (a batch segment of a wave).

    The rows carry the weights computed on the whole sample; ``design`` is the whole sample's
    design restricted to them (:meth:`SurveyDesign.subset`, R's ``subset(design, ...)``), so
    every standard error is a domain SE of the whole design, as ``svyby`` gives; ``weighting``
    summarises the whole sample's weights. The domain is the rows with ``column`` = ``value``.
    """

    column: str
    value: str
    whole_rows: int
    design: SurveyDesign | None = None
    weighting: WeightingSummary | None = None

    @property
    def label(self) -> str:
        return f"{self.column} = {self.value}"

    @classmethod
    def at_rows(cls, at, column: str, value: str, *, whole_rows: int, design: SurveyDesign | None,
                weighting: WeightingSummary | None) -> "Domain":
        """The rows at positions ``at`` of a sample of ``whole_rows`` rows whose (whole) design is
        ``design`` and weighting summary ``weighting``."""
        mask = np.zeros(whole_rows, dtype=bool)
        mask[np.asarray(at, dtype=np.int64)] = True
        return cls(column, value, whole_rows, design.subset(mask) if design is not None else None, weighting)


@dataclass(frozen=True)
class WeightedSample:
    """A whole sample: its frame (with the computed weight columns), their summary and its design."""

    frame: pd.DataFrame
    weighting: WeightingSummary | None
    design: SurveyDesign | None

    def domain(self, at, column: str, value: str) -> Domain:
        """The rows at positions ``at`` of :attr:`frame` (those with ``column`` = ``value``) as a
        :class:`Domain` of this sample."""
        return Domain.at_rows(at, column, value, whole_rows=len(self.frame), design=self.design,
                              weighting=self.weighting)


def weigh_sample(frame: pd.DataFrame, spec: Spec) -> WeightedSample:
    """Compute the weights of the whole ``frame`` (when the spec rakes or trims), its design and summary.

    Raises
    ------
    DesignError
        As :func:`frame_weights` and :func:`survey_design`.
    """
    computed = None
    if spec.weighting is not None:
        if WEIGHT in frame.columns:
            computed = _stored(frame, spec)
        else:
            computed = frame_weights(frame, spec)
            frame = frame.assign(**{WEIGHT: computed.weights, RAKED_WEIGHT: computed.raked})
    if not design_based(spec):
        return WeightedSample(frame, None, None)
    design = survey_design(frame, spec)
    return WeightedSample(frame, weighting_summary(frame, spec, computed, design), design)


def apply_weighting(frame: pd.DataFrame, spec: Spec) -> tuple[pd.DataFrame, WeightingSummary | None]:
    """Add the computed weights to ``frame`` (when the spec rakes or trims) and summarise the weights.

    Returns the frame (a new one when columns were added) and a :class:`WeightingSummary`
    (None when the spec has neither weights, weighting nor a design).
    """
    sample = weigh_sample(frame, spec)
    return sample.frame, sample.weighting


def design_of(frame: pd.DataFrame, spec: Spec, design: SurveyDesign | None = None) -> SurveyDesign | None:
    """The design the analyses of ``frame`` use: ``design`` when given (a :class:`Domain`'s), else
    :func:`survey_design` of ``frame`` for a design-based spec, else None (textbook formulas)."""
    if design is not None:
        if design.n != len(frame):
            raise DesignError(f"the design given has {design.n} rows for a frame of {len(frame)}")
        return design
    return survey_design(frame, spec) if design_based(spec) else None


def domain_weighting(frame: pd.DataFrame, spec: Spec, domain: Domain) -> WeightingSummary | None:
    """The weights section of a domain's report: the spread of the domain's weights, with the
    whole sample's method, margins, raking, trimming and design, and a note saying so."""
    whole = domain.weighting
    if whole is None:
        return None
    if spec.weighting is not None and WEIGHT not in frame.columns:
        raise DesignError("a domain's rows must carry the weights computed on the whole sample")
    w = domain.design.weights if domain.design is not None else row_weights_of(frame, spec)
    if spec.weighting is not None:
        head = (f"The weights were {'raked' if spec.weighting.rake else 'trimmed'} on the whole wave "
                f"({domain.whole_rows:,} clean respondents) before it was split by {domain.column}, and this report "
                f"of {domain.label} uses them" + ("; the raking margins shown are the whole wave's."
                                                  if whole.margins else "."))
    else:
        head = f"This report of {domain.label} covers part of a wave of {domain.whole_rows:,} clean respondents."
    note = (f"{head} Its estimates are domain estimates of the whole wave's design (R's svyby), not of a "
            f"separate design per segment.")
    method = f"{whole.method} (on the whole wave)" if spec.weighting is not None else whole.method
    return replace(whole, method=method, notes=[*whole.notes, note], **_spread(w))


def _spread(w: np.ndarray) -> dict[str, Any]:
    """Size, range, mean and Kish design effect of a set of weights (WeightingSummary's fields)."""
    n = len(w)
    deff = kish_design_effect(w) if n else float("nan")
    return dict(n=n, sum_weights=float(w.sum()), min=float(w.min()) if n else float("nan"),
                max=float(w.max()) if n else float("nan"), mean=float(w.mean()) if n else float("nan"),
                design_effect=deff, efficiency=1 / deff if deff else float("nan"),
                n_eff=float(w.sum() ** 2 / np.sum(w * w)) if n else 0.0)


def _stored(frame: pd.DataFrame, spec: Spec) -> ComputedWeights:
    """The weights a previous :func:`apply_weighting` stored in ``frame`` (a batch segment's rows)."""
    w = frame[WEIGHT].to_numpy(float)
    raked = frame[RAKED_WEIGHT].to_numpy(float) if RAKED_WEIGHT in frame.columns else w
    codes, labels, shares = [], [], []
    for col, targets in (spec.weighting.rake or {}).items():
        values = labels_of(frame[col])
        order = tuple(targets)
        codes.append(pd.Categorical(values, categories=list(order)).codes.astype(np.int64))
        labels.append(order)
        shares.append(np.array([targets[v] for v in order], dtype=float))
    return ComputedWeights(w, raked, base_weights(frame, spec), tuple(codes), tuple(labels), tuple(shares), None, None)


def row_weights_of(frame: pd.DataFrame, spec: Spec) -> np.ndarray:
    """Each row's analysis weight: stored computed weights, else computed now, else the file's, else 1."""
    if WEIGHT in frame.columns:
        return frame[WEIGHT].to_numpy(float)
    if spec.weighting is not None:
        return frame_weights(frame, spec).weights
    return base_weights(frame, spec)


def survey_design(frame: pd.DataFrame, spec: Spec) -> SurveyDesign:
    """The :class:`SurveyDesign` of ``frame``'s rows under ``spec`` (weights, design, raking margins).

    Raises
    ------
    DesignError
        Missing design values, a lonely PSU under ``lonely_psu: fail``, a bad fpc, bad weights.
    """
    d = spec.design
    if WEIGHT in frame.columns or spec.weighting is None:
        weights = row_weights_of(frame, spec)
        computed = _stored(frame, spec) if spec.weighting is not None else None
    else:
        computed = frame_weights(frame, spec)
        weights = computed.weights
    calibration = None
    if computed is not None and computed.margins:
        if any((c < 0).any() for c in computed.margins):
            raise DesignError("weighting.rake: some rows have a category without a population share")
        calibration = Calibration(computed.margins, computed.raked)
    # rows without a usable weight (only in frames that skipped validation) drop out of the sample
    weights = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    names = {"weights": f"weight ({spec.weight})" if spec.weight else "weights"}
    kwargs: dict[str, Any] = {}
    if d is not None:
        for key in ("strata", "psu", "fpc"):
            col = getattr(d, key)
            if col:
                kwargs[key] = frame[col].to_numpy()
                names[key] = f"design.{key} ({col})"
    return SurveyDesign(weights, n=len(frame), lonely_psu=d.lonely_psu if d else "fail", calibration=calibration,
                        names=names, **kwargs)


def weighting_summary(frame: pd.DataFrame, spec: Spec, computed: ComputedWeights | None,
                      design: SurveyDesign) -> WeightingSummary:
    """What the report's weights section shows: spread, design effect, margins against targets, design."""
    w = design.weights
    if spec.weighting is not None and spec.weighting.rake:
        method = "raked to population margins" + (f", starting from the weights in {spec.weight!r}" if spec.weight
                                                  else ", starting from equal weights")
    elif spec.weight:
        method = f"design weights from the column {spec.weight!r}"
    else:
        method = "equal weights"
    if spec.weighting is not None and spec.weighting.trim is not None:
        method += f", trimmed to [{spec.weighting.trim[0]:g}, {spec.weighting.trim[1]:g}] × the mean weight"
    margins: list[dict[str, Any]] = []
    notes: list[str] = []
    raking: dict[str, Any] | None = None
    trimming: dict[str, Any] | None = None
    if computed is not None and computed.margins:
        total = float(w.sum())
        base_total = float(computed.base.sum())
        for col, codes, labels, shares in zip(spec.weighting.rake, computed.margins, computed.margin_labels,
                                              computed.shares):
            achieved = np.bincount(codes, weights=w, minlength=len(labels)) / total
            before = np.bincount(codes, weights=computed.base, minlength=len(labels)) / base_total
            rows = np.bincount(codes, minlength=len(labels))
            margins += [{"column": col, "value": lab, "target": float(t), "achieved": float(a), "before": float(b),
                         "rows": int(r)} for lab, t, a, b, r in zip(labels, shares, achieved, before, rows)]
        if computed.rake is not None:
            r = computed.rake
            raking = {"sweeps": r.sweeps, "converged": r.converged, "max_margin_error": r.max_error,
                      "factor_min": r.factor_min, "factor_max": r.factor_max}
        if computed.trim is not None:
            t = computed.trim
            trimming = {"low": spec.weighting.trim[0], "high": spec.weighting.trim[1], "lower": t.lower,
                        "upper": t.upper, "below_before": t.n_below, "above_before": t.n_above, "passes": t.passes}
            gap = max((abs(m["achieved"] - m["target"]) for m in margins), default=0.0)
            notes.append(f"Trimming moved the achieved margins up to {100 * gap:.2f} percentage points away from "
                         f"their targets.")
    desc = design.describe()
    d = spec.design
    design_info = None
    if d is not None:
        design_info = {"strata": d.strata, "n_strata": desc["strata"], "psu": d.psu, "n_psu": desc["psu"],
                       "fpc": d.fpc, "df": desc["df"], "lonely_psu": d.lonely_psu,
                       "lonely_strata": desc["lonely_strata"]}
        if desc["lonely_strata"]:
            notes.append(f"Strata with a single PSU ({', '.join(desc['lonely_strata'][:5])}) are handled by the "
                         f"rule '{d.lonely_psu}' (R's survey.lonely.psu).")
    return WeightingSummary(method=method, base=spec.weight, **_spread(w), raking=raking, trimming=trimming, margins=margins, design=design_info, notes=notes)
