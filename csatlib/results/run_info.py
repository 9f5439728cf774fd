"""What a run records about itself: data quality, weighting and provenance."""
from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from ..output import to_jsonable

__all__ = ['QualitySummary', 'WeightingSummary', 'Provenance']


@dataclass
class QualitySummary:
    """The data-quality record of a run: blocking failures, reasons, thresholds, expectations."""

    blocking_failures: list[str] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)  # reason, column, rows
    failed_expectations: list[dict[str, Any]] = field(default_factory=list)
    expectations_checked: int = 0
    thresholds: dict[str, Any] = field(default_factory=dict)
    flagged: list[dict[str, Any]] = field(default_factory=list)  # flag, check, rows: counted, kept in analyses

    def to_dict(self) -> dict[str, Any]:
        return {"blocking_failures": list(self.blocking_failures), "reasons": list(self.reasons),
                "failed_expectations": list(self.failed_expectations),
                "expectations_checked": self.expectations_checked, "thresholds": dict(self.thresholds),
                "flagged": list(self.flagged)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "QualitySummary":
        return cls(list(d.get("blocking_failures") or []), list(d.get("reasons") or []),
                   list(d.get("failed_expectations") or []), int(d.get("expectations_checked") or 0),
                   dict(d.get("thresholds") or {}), list(d.get("flagged") or []))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.reasons, columns=["reason", "column", "rows"])


@dataclass
class WeightingSummary:
    """The weights a run used: how they were made, their spread, margins against targets, the design.

    ``design_effect`` is Kish's n Σw² / (Σw)² (the variance inflation from unequal weights
    alone) and ``efficiency`` its inverse. ``margins`` has one row per raking category:
    ``column``, ``value``, ``target`` (population share), ``achieved`` (weighted share after
    weighting), ``before`` (share under the base weights) and ``rows``. ``raking`` holds the
    sweeps, convergence and the range of raking factors; ``trimming`` the bounds; ``design`` the
    strata, PSUs, fpc, design degrees of freedom and lonely-PSU rule.
    """

    method: str
    base: str | None
    n: int
    sum_weights: float
    min: float
    max: float
    mean: float
    design_effect: float
    efficiency: float
    n_eff: float
    raking: dict[str, Any] | None = None
    trimming: dict[str, Any] | None = None
    margins: list[dict[str, Any]] = field(default_factory=list)
    design: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WeightingSummary":
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__ if k in d})

    def to_frame(self) -> pd.DataFrame:
        """The margins table (one row per raking category)."""
        return pd.DataFrame(self.margins, columns=["column", "value", "target", "achieved", "before", "rows"])

    def _repr_html_(self) -> str:
        head = (f"<p><b>Weights</b>: {html.escape(self.method)}; n = {self.n:,}, range {self.min:.3g}–{self.max:.3g}, "
                f"design effect {self.design_effect:.2f} (efficiency {100 * self.efficiency:.0f}%)</p>")
        return head + (self.to_frame().to_html(index=False, escape=True) if self.margins else "")

    def __repr__(self) -> str:
        return (f"WeightingSummary({self.method}; n={self.n:,}, weights {self.min:.3g}-{self.max:.3g}, "
                f"deff={self.design_effect:.3f}, n_eff={self.n_eff:,.1f}"
                + (f", {len(self.margins)} margin categories" if self.margins else "")
                + (f", design df={self.design['df']}" if self.design else "") + ")")


@dataclass
class Provenance:
    """Where a run's numbers come from: input file, spec, suite, earlier wave, library versions.

    File names only, never paths: results.json is the same whichever folder a run starts in.
    """

    input: dict[str, Any] = field(default_factory=dict)  # file, sha256, format, encoding, pii_dropped
    spec: dict[str, Any] = field(default_factory=dict)
    spec_file: str | None = None
    suite: str | None = None
    previous: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    segment: dict[str, str] | None = None
    batch_fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "spec": self.spec, "spec_file": self.spec_file, "suite": self.suite,
                "previous": self.previous, "versions": self.versions, "segment": self.segment,
                "batch_fingerprint": self.batch_fingerprint}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Provenance":
        return cls(**{k: d.get(k) for k in ("input", "spec", "spec_file", "suite", "previous", "versions",
                                             "segment", "batch_fingerprint")
                      if d.get(k) is not None})
