"""Result objects and the one serialiser of results.json (docs/outputs.md).

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
from .theme_results import ThemeAnalysis

__all__ = ["Estimate", "Results", "load_results", "RESULTS_VERSION", "kpi_kind", "wave_sort_key", "ModelSummary",
           "LoyaltyCurve", "LoyaltyModel", "GapAnalysis", "DriverAnalysis", "QualitySummary", "Provenance",
           "HEADLINE_IDS", "ALPHA", "WeightedIndex", "IndexModel", "IndexAnalysis", "NonSubstantive",
           "CompositeReliability", "MultipleResponseShares", "ImportanceComparison", "WeightingSummary"]

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

    ``linear`` is OLS (a linear probability model for a binary outcome), HC3 or design-based (``cov_type``);
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
class NonSubstantive(_TableRepr):
    """Non-substantive answers per rated column (``csatlib.nonsubstantive_answers``).

    ``table`` has one row per rated column of the clean rows: ``column``, ``role`` (its spec key),
    ``rows`` (clean rows), ``blank`` (skipped), ``answered`` (non-blank), ``substantive`` (ratings:
    the item's base in every analysis), and per kind (``not_applicable``, ``dont_know``,
    ``refused``, ``missing``: values the file declares missing) the count and its share of the
    answered (``<kind>_share``). Counts are of rows, unweighted.
    """

    table: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {"columns": _records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "NonSubstantive":
        return cls(_frame(d.get("columns")))

    def __repr__(self) -> str:
        cols = [c for c in ["column", "answered", "substantive", "not_applicable_share", "dont_know_share",
                            "refused_share", "missing_share"] if c in self.table]
        return "NonSubstantive\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class CompositeReliability(_TableRepr):
    """Internal consistency of each composite dimension (``csatlib.composite_reliability``).

    ``table`` has one row per composite: ``dimension``, ``label``, ``items`` (list), ``k``, ``n``
    (respondents with a substantive answer to every item: the base of alpha), ``alpha``
    (Cronbach's alpha), ``alpha_if_deleted`` (``{item: alpha}``), ``min_answered`` and
    ``scored`` (respondents with a score under the composite's rule).
    """

    table: pd.DataFrame
    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "composites": _records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CompositeReliability":
        return cls(_frame(d.get("composites")), d.get("rule", ""))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "k", "n", "alpha", "scored"] if c in self.table]
        return "CompositeReliability\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class MultipleResponseShares(_TableRepr):
    """Share of respondents choosing each option of each multiple-response question.

    ``table``: ``question``, ``label``, ``option``, ``chosen`` (respondents), ``base``
    (respondents who answered the question), ``share`` (weighted when the spec has weights),
    ``ci_low``/``ci_high`` (Wilson on Kish n_eff), ``n_eff``. Shares of one question may sum to
    more than 1.
    """

    table: pd.DataFrame
    weighted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"weighted": self.weighted, "options": _records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MultipleResponseShares":
        return cls(_frame(d.get("options")), bool(d.get("weighted")))

    def __repr__(self) -> str:
        cols = [c for c in ["question", "option", "chosen", "base", "share"] if c in self.table]
        return "MultipleResponseShares\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class ImportanceComparison(_TableRepr):
    """Stated importance (what respondents say matters) against derived importance (what drives
    their overall satisfaction), per dimension (``csatlib.stated_vs_derived``).

    ``table``: ``dimension``, ``label``, ``stated`` (mean stated importance), ``stated_n``,
    ``stated_rank``, ``derived`` (share of R² from the key-driver analysis), ``derived_rank``,
    ``rank_difference`` (stated − derived rank; ranks 1 = most important). ``spearman``/``kendall``
    are the rank correlations with their p values.
    """

    table: pd.DataFrame
    spearman: float
    spearman_p: float | None
    kendall: float
    kendall_p: float | None
    derived_method: str
    sentence: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"dimensions": _records(self.table), "spearman": self.spearman, "spearman_p": self.spearman_p,
                "kendall": self.kendall, "kendall_p": self.kendall_p, "derived_method": self.derived_method,
                "sentence": self.sentence, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ImportanceComparison":
        return cls(_frame(d.get("dimensions")), d.get("spearman"), d.get("spearman_p"), d.get("kendall"),
                   d.get("kendall_p"), d.get("derived_method", ""), d.get("sentence", ""), list(d.get("notes") or []))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "stated", "stated_rank", "derived", "derived_rank"] if c in self.table]
        return f"ImportanceComparison: {self.sentence}\n" + self.table[cols].round(4).to_string(index=False)


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


def _estimate_or_none(d: dict[str, Any] | None) -> Estimate | None:
    if not d:
        return None
    return Estimate(**{k: v for k, v in d.items() if k in Estimate.__dataclass_fields__})


@dataclass
class WeightedIndex(_TableRepr):
    """The weighted-average satisfaction index ``index.csi`` (``csatlib.weighted_index``).

    ``table`` has one row per dimension: ``dimension``, ``label``, ``weight`` (normalised, sums
    to 1) with ``weight_ci_low``/``weight_ci_high`` when estimated, ``mean`` (native scale),
    ``score`` (0-100) with ``score_se``, ``n``, and ``contribution`` = weight × score (the
    contributions add up to the index). ``csi`` is the index with its interval; ``segments``
    the index per segment value (suppressed below the minimum base), ``change`` its difference
    from the previous wave.
    """

    weights: str  # given | stated | derived
    table: pd.DataFrame
    csi: Estimate
    segments: list[Estimate] = field(default_factory=list)
    change: Estimate | None = None
    bootstrap: int = 0
    notes: list[str] = field(default_factory=list)

    def estimates(self) -> list[Estimate]:
        """``index.csi`` (total and per segment) and ``change.index.csi`` for results.json."""
        return [self.csi, *self.segments] + ([self.change] if self.change is not None else [])

    def to_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "dimensions": _records(self.table), "csi": self.csi.to_dict(),
                "segments": [e.to_dict() for e in self.segments],
                "change": self.change.to_dict() if self.change is not None else None,
                "bootstrap_replicates": self.bootstrap, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WeightedIndex":
        return cls(d["weights"], _frame(d.get("dimensions")), _estimate_or_none(d["csi"]),
                   [_estimate_or_none(e) for e in d.get("segments") or []], _estimate_or_none(d.get("change")),
                   int(d.get("bootstrap_replicates") or 0), list(d.get("notes") or []))

    def __repr__(self) -> str:
        e = self.csi
        head = (f"WeightedIndex({self.weights} weights): CSI {e.estimate:.2f} (95% CI {e.ci_low:.2f}-{e.ci_high:.2f}, "
                f"n={e.n})" if e.estimate is not None else f"WeightedIndex({self.weights} weights): no estimate")
        cols = [c for c in ["dimension", "weight", "score", "contribution"] if c in self.table]
        return head + "\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class IndexModel:
    """The ACSI/ECSI-type structural model estimated by PLS (``csatlib.index_model``).

    ``constructs``: one row per construct (``construct``, ``label``, ``mode``, ``items``,
    ``type``, ``index`` 0-100 with ``index_se``/``index_ci_low``/``index_ci_high``, ``r2``,
    ``alpha``, ``rho`` (Dillon-Goldstein), ``ave``, ``eig1``, ``eig2``). ``outer``: one row per
    item (``construct``, ``item``, ``weight``, ``rescaled_weight``, ``loading`` with its interval,
    ``communality``, ``redundancy``). ``paths``: ``from``, ``to``, ``coefficient``, ``se``,
    ``ci_low``, ``ci_high`` (bootstrap percentile). ``effects``: ``from``, ``to``, ``direct``,
    ``indirect``, ``total`` with the total's interval. ``ipma``: the importance-performance map
    of the constructs driving ``target`` (importance = total effect, performance = index).
    """

    constructs: pd.DataFrame
    outer: pd.DataFrame
    paths: pd.DataFrame
    effects: pd.DataFrame
    ipma: pd.DataFrame
    target: str | None
    gof: float
    scheme: str
    scaled: bool
    n: int
    n_eff: float
    iterations: int
    bootstrap: int
    notes: list[str] = field(default_factory=list)

    def estimates(self) -> list[Estimate]:
        """``index.<construct>`` (0-100) and ``path.<from>.<to>`` for results.json."""
        out = []
        boot = f"bootstrap percentile interval ({self.bootstrap} replicates)" if self.bootstrap else "no interval"
        for r in self.constructs.to_dict(orient="records"):
            if _num(r.get("index")) is not None:
                out.append(Estimate(f"index.{r['construct']}", float(r["index"]), _num(r.get("index_ci_low")),
                                    _num(r.get("index_ci_high")), self.n, self.n_eff, se=_num(r.get("index_se")),
                                    method=f"PLS construct score on 0-100 (outer weights normalised to sum 1); {boot}"))
        for r in self.paths.to_dict(orient="records"):
            out.append(Estimate(f"path.{r['from']}.{r['to']}", float(r["coefficient"]), _num(r.get("ci_low")),
                                _num(r.get("ci_high")), self.n, self.n_eff, se=_num(r.get("se")),
                                method=f"PLS path coefficient ({self.scheme} scheme); {boot}"))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"constructs": _records(self.constructs), "outer": _records(self.outer), "paths": _records(self.paths),
                "effects": _records(self.effects), "ipma": _records(self.ipma), "target": self.target,
                "gof": self.gof, "scheme": self.scheme, "scaled": self.scaled, "n": self.n, "n_eff": self.n_eff,
                "iterations": self.iterations, "bootstrap_replicates": self.bootstrap, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "IndexModel":
        return cls(_frame(d.get("constructs")), _frame(d.get("outer")), _frame(d.get("paths")),
                   _frame(d.get("effects")), _frame(d.get("ipma")), d.get("target"), d.get("gof"),
                   d.get("scheme", ""), bool(d.get("scaled")), int(d.get("n") or 0), float(d.get("n_eff") or 0),
                   int(d.get("iterations") or 0), int(d.get("bootstrap_replicates") or 0), list(d.get("notes") or []))

    def to_frame(self) -> pd.DataFrame:
        return self.paths.copy()

    def _repr_html_(self) -> str:
        return ("<p><b>IndexModel</b> (PLS path model)</p>" + self.paths.to_html(index=False, escape=True)
                + self.constructs.to_html(index=False, escape=True))

    def __repr__(self) -> str:
        cols = [c for c in ["construct", "index", "r2", "alpha", "rho", "ave"] if c in self.constructs]
        return (f"IndexModel(n={self.n}, {self.scheme} scheme, GoF={self.gof:.3f})\n"
                + self.constructs[cols].round(3).to_string(index=False) + "\n"
                + self.paths.round(3).to_string(index=False))


def _num(x: Any) -> float | None:
    return None if x is None or x != x else float(x)


@dataclass
class IndexAnalysis:
    """Satisfaction index results of a run: the weighted CSI, the PLS model, the CSI trend."""

    csi: WeightedIndex | None = None
    model: IndexModel | None = None
    changes: list[Estimate] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)

    def estimates(self) -> list[Estimate]:
        out = self.csi.estimates() if self.csi else []
        out += self.model.estimates() if self.model else []
        have = {e.id for e in out}
        return out + [e for e in self.changes if e.id not in have]

    def to_dict(self) -> dict[str, Any]:
        return {"csi": self.csi.to_dict() if self.csi else None, "model": self.model.to_dict() if self.model else None,
                "changes": [e.to_dict() for e in self.changes], "trend": list(self.trend)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "IndexAnalysis":
        return cls(WeightedIndex.from_dict(d["csi"]) if d.get("csi") else None,
                   IndexModel.from_dict(d["model"]) if d.get("model") else None,
                   [_estimate_or_none(e) for e in d.get("changes") or []], list(d.get("trend") or []))


@dataclass
class Results:
    """Everything one run found: estimates, typed model results, data quality and provenance.

    ``nonsubstantive`` (answers that are codes, per rated column), ``composites`` (Cronbach's
    alpha), ``multiple_response`` (option shares) and ``importance`` (stated vs derived) come from
    the questionnaire's roles and are None when the spec has none. ``skipped`` maps an analysis
    (``nps``, ``loyalty``, ``gap``, ``drivers``, ``segments``, ``verbatims``, ``weighting``,
    ``scope``, or an estimate id such as ``satisfaction.score`` that a binary outcome does not
    have) to the sentence saying why it is not in the report.
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
    index: IndexAnalysis | None = None
    nonsubstantive: NonSubstantive | None = None
    composites: CompositeReliability | None = None
    multiple_response: MultipleResponseShares | None = None
    importance: ImportanceComparison | None = None
    weighting: WeightingSummary | None = None
    themes: ThemeAnalysis | None = None  # comment themes and sentiment (csatlib.theme_results)

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
        if self.index is not None:
            out["index"] = self.index.to_dict()
        for key in _QUESTIONNAIRE_MODELS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value.to_dict()
        out.update({"themes": self.themes.to_dict()} if self.themes is not None else {})
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
                   index=IndexAnalysis.from_dict(models["index"]) if models.get("index") else None,
                   **{key: kind.from_dict(models[key]) for key, kind in _QUESTIONNAIRE_MODELS.items()
                      if models.get(key)},
                   weighting=WeightingSummary.from_dict(doc["weighting"]) if doc.get("weighting") else None,
                   themes=ThemeAnalysis.from_dict(models["themes"]) if models.get("themes") else None)

    def write(self, path: str | Path) -> Path:
        """Write results.json atomically (the one writer of results.json)."""
        return atomic_write_json(path, self.to_dict())

    def __repr__(self) -> str:
        head = self.get("satisfaction.score")
        txt = f", satisfaction.score={head.estimate:.3f}" if head and head.estimate is not None else ""
        return (f"Results(survey={self.survey!r}, wave={self.wave!r}, rows={self.rows}, "
                f"estimates={len(self.estimates)}{txt})")


# results of the questionnaire's roles, stored under results.json "models" by these keys
_QUESTIONNAIRE_MODELS = {"nonsubstantive": NonSubstantive, "composites": CompositeReliability,
                         "multiple_response": MultipleResponseShares, "importance": ImportanceComparison}


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
    if id.endswith(".rate") or id.endswith(".unmet") or id.endswith(".not_applicable"):
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


# --------------------------------------------------------------------------------------------
# Banner tables (csatlib.analysis.banner computes them; csatlib.report.banner prints them)
import math  # noqa: E402
from typing import Iterable  # noqa: E402

__all__ += ["BannerTables", "BANNER_TIDY_COLUMNS", "BANNER_TOTAL"]

BANNER_TOTAL = "Total"

BANNER_TIDY_COLUMNS = ["table", "table_label", "stub", "stub_label", "statistic", "test", "group", "column",
                       "letter", "value", "letters", "suppressed", "n"]
"""Columns of :attr:`BannerTables.frame`, one row per table × stub × statistic × banner column:

table, table_label
    id (``satisfaction``, ``nps``, ``loyalty.<column>``, ``dimension.<name>``,
    ``dimension.<name>.expectation``, ``gap.<name>``, ``segment.<column>``, ``base``) and title.
stub, stub_label
    the row of the table: ``point.<value>``, ``top_box``, ``top2_box``, ``bottom2_box``, ``rate``,
    ``mean``, ``promoters``, ``passives``, ``detractors``, ``nps``, ``unmet``, ``value.<label>``,
    ``base``.
statistic
    ``share`` (0-1), ``mean`` (for ``nps``: −100..100), ``se``, ``n``, ``n_weighted``, ``n_eff``.
test
    ``z`` (column proportions), ``welch`` (means) or empty (not tested: bases, SEs).
group, column, letter
    the banner column (empty for the Total), its value, its letter within the group.
value, letters, suppressed, n
    the number (NaN when suppressed), the letters of the columns it is significantly higher than,
    whether the cell is suppressed, and the unweighted base of the table in that column.
"""


@dataclass(frozen=True)
class BannerTables:
    """Banner tables as a tidy frame (see :data:`BANNER_TIDY_COLUMNS`), with the settings that made them.

    Built by :func:`csatlib.banner`; printed by :mod:`csatlib.report.banner`.

    Attributes
    ----------
    frame : DataFrame
        One row per table × stub × statistic × banner column.
    columns : DataFrame
        The banner's columns in order: ``group``, ``column``, ``letter``, ``n``, ``n_weighted``,
        ``n_eff`` (all respondents of the column) and ``suppressed``.
    confidence, correction, min_base, weighted, survey
        The level of the column tests, the multiple-comparison correction within a row, the
        suppression threshold, whether the spec has weights, and the survey's name.
    notes : tuple of str
        Anything left out (rows without a valid weight, answers outside a scale).
    """

    frame: pd.DataFrame
    columns: pd.DataFrame
    confidence: float = 0.95
    correction: str = "bonferroni"
    min_base: int = 30
    weighted: bool = False
    survey: str = ""
    notes: tuple[str, ...] = ()

    # -- views ------------------------------------------------------------------------------
    @property
    def groups(self) -> list[str]:
        """Banner groups in order (the Total's group is ``""``)."""
        return list(dict.fromkeys(self.columns["group"]))

    @property
    def tables(self) -> list[tuple[str, str]]:
        """``(table id, title)`` of every table, in order (the respondents' base table first)."""
        pairs = self.frame[["table", "table_label"]].drop_duplicates()
        return list(pairs.itertuples(index=False, name=None))

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    @classmethod
    def from_tidy(cls, frame: pd.DataFrame, spec: Any) -> "BannerTables":
        """Rebuild the tables from their tidy frame (``banner.csv`` read back) and the spec that
        made them (its ``banner:`` test level and correction, ``quality.min_base``, weight, name)."""
        frame = frame.copy()
        for col in ("table", "table_label", "stub", "stub_label", "statistic", "test", "group", "column", "letter",
                    "letters"):
            frame[col] = frame[col].fillna("").astype(str)
        frame["suppressed"] = frame["suppressed"].astype(str).str.lower().isin(("true", "1"))
        head = frame[frame["table"] == "base"]
        cols = head[head["statistic"] == "n"][["group", "column", "letter", "value", "suppressed"]]
        cols = cols.rename(columns={"value": "n"}).reset_index(drop=True)
        cols["n"] = cols["n"].astype("int64")
        cols.insert(4, "n_weighted", head.loc[head["statistic"] == "n_weighted", "value"].to_numpy())
        cols.insert(5, "n_eff", head.loc[head["statistic"] == "n_eff", "value"].to_numpy())
        banner = getattr(spec, "banner", None)
        return cls(frame=frame[BANNER_TIDY_COLUMNS].reset_index(drop=True), columns=cols,
                   confidence=banner.confidence if banner else 0.95,
                   correction=banner.correction if banner else "bonferroni",
                   min_base=spec.quality.min_base, weighted=spec.weight is not None, survey=spec.name)

    def table(self, table: str, statistic: str | None = None) -> pd.DataFrame:
        """One table in the familiar wide shape: rows = (stub, statistic), columns = (group, column).

        Values are numbers (NaN where suppressed); :meth:`letters_of` gives the letters.
        """
        return self._wide(table, "value", statistic)

    def letters_of(self, table: str) -> pd.DataFrame:
        """The significance letters of one table, shaped like :meth:`table`."""
        return self._wide(table, "letters", None)

    def _wide(self, table: str, field_: str, statistic: str | None) -> pd.DataFrame:
        rows = self.frame[self.frame["table"] == table]
        if rows.empty:
            raise KeyError(f"no banner table {table!r}; tables: {', '.join(t for t, _ in self.tables)}")
        if statistic is not None:
            rows = rows[rows["statistic"] == statistic]
        keys = ["stub", "stub_label", "statistic"]
        group = rows["group"].where(rows["group"] != "", BANNER_TOTAL)
        wide = rows.assign(group=group).set_index([*keys, "group", "column"])[field_].unstack(["group", "column"])
        order = [(g or BANNER_TOTAL, c) for g, c in self.columns[["group", "column"]].itertuples(index=False, name=None)]
        index = pd.MultiIndex.from_frame(rows[keys].drop_duplicates())
        return wide.reindex(index=index, columns=pd.MultiIndex.from_tuples(order, names=["group", "column"]))

    def footnote(self, tests: Iterable[str] = ("z", "welch")) -> str:
        """The sentence printed under a table whose rows use ``tests`` (``z``, ``welch``)."""
        tests = set(tests)
        level = f"{100 * self.confidence:g}%"
        parts = []
        if tests:
            how = []
            if "z" in tests:
                how.append("percentages by a two-sample z test of column proportions on effective bases "
                           "(pooled, as SPSS's column-proportions test)")
            if "welch" in tests:
                how.append("means by a Welch t test on design-based (linearised) standard errors")
            corr = {"bonferroni": "Bonferroni-adjusted for the column pairs tested within each row",
                    "holm": "Holm-adjusted across the column pairs tested within each row",
                    "none": "not adjusted for multiple comparisons"}[self.correction]
            parts.append(f"Letters mark a cell significantly higher than the column with that letter in the same "
                         f"banner group at {level} confidence: {'; '.join(how)}; p values {corr}.")
        parts.append(f"Cells with an unweighted base below {self.min_base} are suppressed (*) and not tested.")
        parts.append("Percentages and means are weighted; bases: unweighted n, weighted n (sum of weights) and "
                     "Kish's effective n." if self.weighted else "Unweighted; bases count respondents who answered.")
        return " ".join(parts)

    def table_tests(self, table: str) -> list[str]:
        """The tests used in one table (for its footnote)."""
        t = self.frame.loc[self.frame["table"] == table, "test"]
        return [x for x in ("z", "welch") if (t == x).any()]

    def __repr__(self) -> str:
        groups = [g for g in self.groups if g]
        shape = ", ".join(f"{g}: {(self.columns['group'] == g).sum()}" for g in groups) or "no banner columns"
        return (f"BannerTables({self.survey!r}, {len(self.tables)} tables × {len(self.columns)} columns "
                f"(Total + {shape}), {'weighted' if self.weighted else 'unweighted'}, "
                f"{100 * self.confidence:g}% {self.correction}, min_base {self.min_base})")

    def _repr_html_(self, max_tables: int = 12) -> str:
        """A quick look in JupyterLab: the first tables, '42% BC' cells (the report draws the full ones)."""
        out = [f"<p><b>{html.escape(repr(self))}</b></p>"]
        for tid, title in self.tables[:max_tables]:
            values = self.table(tid)
            letters = self.letters_of(tid)
            stats = values.index.get_level_values("statistic")
            shown = values.copy().astype(object)
            for r, stat in enumerate(stats):
                for c in range(values.shape[1]):
                    shown.iat[r, c] = _banner_cell(values.iat[r, c], stat, letters.iat[r, c])
            shown.index = [f"{lab} ({stat})" if stat not in ("share", "mean") else lab
                           for lab, stat in zip(values.index.get_level_values("stub_label"), stats)]
            out.append(f"<h4>{html.escape(title)}</h4>" + shown.to_html(escape=True))
        if len(self.tables) > max_tables:
            out.append(f"<p>… {len(self.tables) - max_tables} more tables (<code>.tables</code>, "
                       f"<code>.table(id)</code>).</p>")
        out.append(f"<p><small>{html.escape(self.footnote())}</small></p>")
        return "".join(out)


def _banner_cell(value: Any, statistic: str, letters: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "*" if statistic in ("share", "mean", "se") else "–"
    if statistic == "share":
        text = f"{100 * value:.0f}%"
    elif statistic in ("mean", "se"):
        text = f"{value:.2f}" if statistic == "mean" else f"{value:.3f}"
    elif statistic == "n":
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}"
    return f"{text} {letters}" if isinstance(letters, str) and letters else text
