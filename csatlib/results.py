"""Result objects and the one serialiser of results.json (DESIGN "results.json (contract)").

Every number the report shows is an :class:`Estimate` in :class:`Results`; the notebook reads
results.json back with :func:`load_results`, so the report and the machine-readable file can
never disagree.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError, first_line
from .output import atomic_write_json, to_jsonable
from .stats.estimators import ALPHA

__all__ = ["Estimate", "Results", "load_results", "RESULTS_VERSION", "kpi_kind", "wave_sort_key", "ModelSummary",
           "LoyaltyCurve", "LoyaltyModel", "GapAnalysis", "DriverAnalysis", "QualitySummary", "Provenance",
           "HEADLINE_IDS", "ALPHA", "WeightingSummary"]

RESULTS_VERSION = 2
HEADLINE_IDS = ("satisfaction.score", "satisfaction.index", "satisfaction.rate", "nps")


@dataclass(frozen=True)
class Estimate:
    """One estimate as results.json stores it.

    ``segment`` is None for the total, else ``{column: value}``. Suppressed segments carry
    ``suppressed=True`` and no estimate. ``p_adjusted``/``significant`` are set for tests that
    belong to a family (segment comparisons, wave changes).
    """

    id: str
    estimate: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    n_eff: float | None = None
    p: float | None = None
    se: float | None = None
    segment: dict[str, str] | None = None
    p_adjusted: float | None = None
    significant: bool | None = None
    suppressed: bool = False
    method: str | None = None
    df: float | None = None  # design degrees of freedom of a design-based estimate (else n - 1 applies)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.suppressed:
            d.pop("suppressed")
        if self.df is None:
            d.pop("df")
        return to_jsonable(d)

    def with_(self, **changes) -> "Estimate":
        return replace(self, **changes)


def _frame(records: Any) -> pd.DataFrame:
    return records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records or []))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")


class _TableRepr:
    """A ``_repr_html_`` (a table in JupyterLab) and ``to_frame()`` for result objects with a ``table``."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(type(self).__name__)}</b></p>" + self.table.to_html(index=False, escape=True)


@dataclass
class ModelSummary:
    """A fitted model as the report and results.json keep it: coefficients and fit statistics.

    Built from a fitted :class:`csatlib.stats.models.ModelFit` (``ModelSummary.from_dict(fit.to_dict())``).
    ``coefficients`` has one row per term: ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p``.
    """

    model: str
    cov_type: str
    nobs: float
    llf: float | None
    df_model: int
    coefficients: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> pd.Series:
        return self.coefficients["estimate"]

    @property
    def bse(self) -> pd.Series:
        return self.coefficients["se"]

    def to_dict(self) -> dict[str, Any]:
        coefs = [{"term": str(term), **{k: float(v) for k, v in row.items()}}
                 for term, row in self.coefficients.iterrows()]
        return {"model": self.model, "cov_type": self.cov_type, "nobs": self.nobs, "llf": self.llf,
                "df_model": self.df_model, "coefficients": coefs, **self.extra}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelSummary":
        d = dict(d)
        coefs = pd.DataFrame(d.pop("coefficients", []))
        coefs = coefs.set_index("term") if "term" in coefs else coefs
        coefs.index.name = None
        return cls(model=d.pop("model"), cov_type=d.pop("cov_type"), nobs=d.pop("nobs"), llf=d.pop("llf", None),
                   df_model=d.pop("df_model", 0), coefficients=coefs, extra=d)

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.rename_axis("term").reset_index()

    def _repr_html_(self) -> str:
        return (f"<p><b>{html.escape(self.model)}</b> ({html.escape(self.cov_type)}, n = {self.nobs:,.0f})</p>"
                + self.coefficients.to_html(escape=True))


@dataclass
class LoyaltyCurve:
    """Predicted loyalty at each satisfaction point, with its 95% band and the steepest step."""

    points: pd.DataFrame  # satisfaction, estimate, ci_low, ci_high, n
    steepest_from: float | None
    steepest_to: float | None
    steepest_rise: float | None
    typical_rise: float | None
    left_out: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"points": _records(self.points), "steepest_from": self.steepest_from,
                "steepest_to": self.steepest_to, "steepest_rise": self.steepest_rise,
                "typical_rise": self.typical_rise, "left_out": list(self.left_out)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LoyaltyCurve":
        return cls(_frame(d.get("points")), d.get("steepest_from"), d.get("steepest_to"), d.get("steepest_rise"),
                   d.get("typical_rise"), list(d.get("left_out") or []))


@dataclass
class LoyaltyModel:
    """All models of one loyalty outcome (``csatlib.loyalty_models``).

    ``linear`` is OLS with HC3 errors (a linear probability model for a binary outcome);
    ``logit`` the ordered logit (ordinal items) or logit (binary outcomes); ``nonlinearity`` the
    shape test of the loyalty curve.
    """

    outcome: str
    label: str
    kind: str  # "ordinal" or "binary"
    n: int
    linear: ModelSummary
    logit: ModelSummary | None
    nonlinearity: dict[str, Any]
    curve: LoyaltyCurve
    sentence: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "label": self.label, "kind": self.kind, "n": self.n,
                "ols_hc3": self.linear.to_dict(), "logit": self.logit.to_dict() if self.logit else None,
                "nonlinearity": self.nonlinearity, "curve": self.curve.to_dict(), "sentence": self.sentence,
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LoyaltyModel":
        return cls(d["outcome"], d.get("label") or d["outcome"], d["kind"], int(d.get("n") or 0),
                   ModelSummary.from_dict(d["ols_hc3"]), ModelSummary.from_dict(d["logit"]) if d.get("logit") else None,
                   dict(d.get("nonlinearity") or {}), LoyaltyCurve.from_dict(d.get("curve") or {}),
                   d.get("sentence", ""), list(d.get("notes") or []))

    def to_frame(self) -> pd.DataFrame:
        return self.curve.points.copy()

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.sentence)}</p>" + self.curve.points.to_html(index=False, escape=True)

    def __repr__(self) -> str:
        return f"LoyaltyModel({self.outcome!r}, n={self.n}): {self.sentence}"


@dataclass
class GapAnalysis(_TableRepr):
    """Per-dimension gap statistics, the disconfirmation regression and the mediation (``csatlib.gap_analysis``)."""

    table: pd.DataFrame
    disconfirmation: ModelSummary | None
    mediation: dict[str, Any] | None
    weighted: bool
    notes: list[str] = field(default_factory=list)

    def estimates(self) -> list[Estimate]:
        """``gap.<dim>`` and ``gap.<dim>.unmet`` for results.json."""
        out = []
        for r in self.table.itertuples():
            df = getattr(r, "df", None)  # design degrees of freedom (complex designs only)
            df = float(df) if df is not None and df == df else None
            out.append(Estimate(f"gap.{r.dimension}", r.mean_gap, r.ci_low, r.ci_high, r.n, r.n_eff, p=r.p_t,
                                se=r.se, p_adjusted=r.p_t_holm, significant=bool(r.p_t_holm < ALPHA),
                                method="mean of perception − expectation, t interval; paired t test, Holm", df=df))
            out.append(Estimate(f"gap.{r.dimension}.unmet", r.unmet_share, r.unmet_ci_low, r.unmet_ci_high, r.n,
                                getattr(r, "unmet_n_eff", r.n_eff), method="share with gap < 0, Wilson interval on "
                                "n_eff", df=df))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"dimensions": _records(self.table),
                "disconfirmation": self.disconfirmation.to_dict() if self.disconfirmation else None,
                "mediation": self.mediation, "weighted": self.weighted, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "GapAnalysis":
        disc = d.get("disconfirmation")
        return cls(_frame(d.get("dimensions")), ModelSummary.from_dict(disc) if disc else None, d.get("mediation"),
                   bool(d.get("weighted")), list(d.get("notes") or []))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "mean_gap", "ci_low", "ci_high", "p_t_holm", "unmet_share"]
                if c in self.table]
        return "GapAnalysis\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class DriverAnalysis(_TableRepr):
    """Relative importance of each dimension for overall satisfaction (``csatlib.key_drivers``).

    ``table`` has one row per dimension: ``lmg`` and ``rw`` (raw, sum to R²), their shares of R²
    with bootstrap intervals, the standardised coefficient and its sign, ``performance`` and the
    IPA ``quadrant``. ``mc_error`` is the largest Monte Carlo standard error of a share when the
    Shapley values were estimated from sampled orderings (None when exact).
    """

    predictors: str
    table: pd.DataFrame
    r2: float
    n: int
    n_eff: float
    method: str
    bootstrap: int
    notes: list[str] = field(default_factory=list)
    mc_error: float | None = None

    def top(self, k: int = 3) -> pd.DataFrame:
        return self.table.sort_values("lmg_share", ascending=False).head(k)

    def estimates(self) -> list[Estimate]:
        """``driver.<dimension>`` estimates (LMG share of R², 0-1) for results.json."""
        return [Estimate(f"driver.{r.dimension}", float(r.lmg_share), float(r.lmg_share_ci_low),
                         float(r.lmg_share_ci_high), self.n, self.n_eff, method=self.method)
                for r in self.table.itertuples()]

    def to_dict(self) -> dict[str, Any]:
        return {"predictors": self.predictors, "r2": self.r2, "n": self.n, "n_eff": self.n_eff,
                "method": self.method, "bootstrap_replicates": self.bootstrap, "mc_error": self.mc_error,
                "notes": list(self.notes), "dimensions": _records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DriverAnalysis":
        return cls(d["predictors"], _frame(d.get("dimensions")), d["r2"], int(d.get("n") or 0),
                   float(d.get("n_eff") or 0), d.get("method", ""), int(d.get("bootstrap_replicates") or 0),
                   list(d.get("notes") or []), d.get("mc_error"))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "lmg_share", "rw_share", "sign", "quadrant"] if c in self.table]
        return (f"DriverAnalysis(predictors={self.predictors!r}, R²={self.r2:.3f}, n={self.n})\n"
                + self.table[cols].to_string(index=False))


@dataclass
class QualitySummary:
    """The data-quality record of a run: blocking failures, reasons, thresholds, expectations."""

    blocking_failures: list[str] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)  # reason, column, rows
    failed_expectations: list[dict[str, Any]] = field(default_factory=list)
    expectations_checked: int = 0
    thresholds: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"blocking_failures": list(self.blocking_failures), "reasons": list(self.reasons),
                "failed_expectations": list(self.failed_expectations),
                "expectations_checked": self.expectations_checked, "thresholds": dict(self.thresholds)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "QualitySummary":
        return cls(list(d.get("blocking_failures") or []), list(d.get("reasons") or []),
                   list(d.get("failed_expectations") or []), int(d.get("expectations_checked") or 0),
                   dict(d.get("thresholds") or {}))

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


@dataclass
class Results:
    """Everything one run found: estimates, typed model results, data quality and provenance.

    ``skipped`` maps an analysis (``nps``, ``loyalty``, ``gap``, ``drivers``, ``segments``,
    ``verbatims``, ``weighting``, ``scope``) to the sentence saying why it is not in the report.
    """

    survey: str
    wave: str
    previous_wave: str | None
    weighted: bool
    rows: dict[str, int]
    estimates: list[Estimate] = field(default_factory=list)
    loyalty: list[LoyaltyModel] = field(default_factory=list)
    gap: GapAnalysis | None = None
    drivers: DriverAnalysis | None = None
    drivers_gap: DriverAnalysis | None = None
    quality: QualitySummary = field(default_factory=QualitySummary)
    trend: list[dict[str, Any]] = field(default_factory=list)
    verbatims: list[dict[str, Any]] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance)
    skipped: dict[str, str] = field(default_factory=dict)
    weighting: WeightingSummary | None = None

    def get(self, id: str, segment: dict | None = None) -> Estimate | None:
        """The estimate with this id (and segment; None = the total)."""
        for e in self.estimates:
            if e.id == id and e.segment == segment:
                return e
        return None

    def headline(self, ids: tuple[str, ...] = HEADLINE_IDS) -> dict[str, Estimate]:
        """Total (unsegmented) estimates of ``ids`` that this run has, by id."""
        return {e.id: e for e in self.estimates if e.segment is None and e.id in ids}

    @property
    def models(self) -> dict[str, Any]:
        """The models as results.json stores them (``loyalty``, ``gap``, ``drivers``, ``drivers_gap``)."""
        out: dict[str, Any] = {}
        if self.loyalty:
            out["loyalty"] = [m.to_dict() for m in self.loyalty]
        for key in ("gap", "drivers", "drivers_gap"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.to_dict()
        return out

    def frame(self) -> pd.DataFrame:
        """Estimates as a tidy DataFrame (segment split into ``segment_column``/``segment_value``)."""
        rows = []
        for e in self.estimates:
            d = e.to_dict()
            seg = d.pop("segment") or {}
            (col, val), = seg.items() if seg else ((None, None),)
            rows.append({"id": e.id, "segment_column": col, "segment_value": val, **{k: v for k, v in d.items()
                                                                                      if k != "id"}})
        return pd.DataFrame(rows)

    to_frame = frame

    def _repr_html_(self) -> str:
        head = (f"<p><b>{html.escape(self.survey)}</b>, wave {html.escape(str(self.wave))}: "
                f"{self.rows.get('clean', 0):,} clean of {self.rows.get('read', 0):,} rows</p>")
        frame = self.frame()
        return head + (frame[frame["segment_column"].isna()].drop(columns=["segment_column", "segment_value"])
                       .to_html(index=False, escape=True) if len(frame) else "")

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({
            "results_version": RESULTS_VERSION,
            "survey": self.survey, "wave": self.wave, "previous_wave": self.previous_wave,
            "weighted": self.weighted, "rows": self.rows,
            "estimates": [e.to_dict() for e in self.estimates],
            "models": self.models, "quality": self.quality.to_dict(), "trend": self.trend,
            "verbatims": self.verbatims, "meta": {**self.provenance.to_dict(), "skipped": dict(self.skipped)},
            "weighting": self.weighting.to_dict() if self.weighting else None,
        })

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "Results":
        """The inverse of :meth:`to_dict` (the one reader of results.json)."""
        ests = [Estimate(**{k: v for k, v in e.items() if k in Estimate.__dataclass_fields__})
                for e in doc["estimates"]]
        models = doc.get("models") or {}
        meta = dict(doc.get("meta") or {})
        skipped = meta.pop("skipped", None) or {}
        if isinstance(skipped, list):  # results_version 1 kept sentences only
            skipped = {f"note{i}": s for i, s in enumerate(skipped)}
        return cls(survey=doc["survey"], wave=doc["wave"], previous_wave=doc.get("previous_wave"),
                   weighted=bool(doc.get("weighted")), rows=doc.get("rows", {}), estimates=ests,
                   loyalty=[LoyaltyModel.from_dict(m) for m in models.get("loyalty") or []],
                   gap=GapAnalysis.from_dict(models["gap"]) if models.get("gap") else None,
                   drivers=DriverAnalysis.from_dict(models["drivers"]) if models.get("drivers") else None,
                   drivers_gap=(DriverAnalysis.from_dict(models["drivers_gap"]) if models.get("drivers_gap")
                                else None),
                   quality=QualitySummary.from_dict(doc.get("quality") or {}), trend=doc.get("trend", []),
                   verbatims=doc.get("verbatims", []), provenance=Provenance.from_dict(meta), skipped=dict(skipped),
                   weighting=WeightingSummary.from_dict(doc["weighting"]) if doc.get("weighting") else None)

    def write(self, path: str | Path) -> Path:
        """Write results.json atomically (the one writer of results.json)."""
        return atomic_write_json(path, self.to_dict())

    def __repr__(self) -> str:
        head = self.get("satisfaction.score")
        txt = f", satisfaction.score={head.estimate:.3f}" if head and head.estimate is not None else ""
        return (f"Results(survey={self.survey!r}, wave={self.wave!r}, rows={self.rows}, "
                f"estimates={len(self.estimates)}{txt})")


def load_results(path: str | Path) -> Results:
    """Read a results.json (or the folder holding one) written by :meth:`Results.write`."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such results file") from None
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot read results ({first_line(exc)})") from None
    try:
        return Results.from_dict(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(path, f"not a csat results file ({type(exc).__name__}: {first_line(exc)})") from None


def kpi_kind(id: str) -> str:
    """``rate``, ``nps``, ``index`` or ``mean`` for a headline estimate id."""
    if id.endswith(".rate") or id.endswith(".unmet"):
        return "rate"
    if id == "nps":
        return "nps"
    if id.endswith(".index"):
        return "index"
    return "mean"


_NUM = re.compile(r"(\d+)")


def wave_sort_key(label: str):
    """Natural order of wave labels: 2026Q2 < 2026Q10, 2025-12 < 2026-01."""
    return [int(p) if p.isdigit() else p.lower() for p in _NUM.split(str(label))]
