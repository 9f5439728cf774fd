"""Results of the models: loyalty (curves, linear and logit fits), the expectation gap, key drivers."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..stats.levels import ALPHA

from .estimate import Estimate, TableRepr, as_frame, as_records

__all__ = ['ModelSummary', 'LoyaltyCurve', 'LoyaltyModel', 'GapAnalysis', 'DriverAnalysis']


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
        return {"points": as_records(self.points), "steepest_from": self.steepest_from,
                "steepest_to": self.steepest_to, "steepest_rise": self.steepest_rise,
                "typical_rise": self.typical_rise, "left_out": list(self.left_out)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LoyaltyCurve":
        return cls(as_frame(d.get("points")), d.get("steepest_from"), d.get("steepest_to"), d.get("steepest_rise"),
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
class GapAnalysis(TableRepr):
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
        return {"dimensions": as_records(self.table),
                "disconfirmation": self.disconfirmation.to_dict() if self.disconfirmation else None,
                "mediation": self.mediation, "weighted": self.weighted, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "GapAnalysis":
        disc = d.get("disconfirmation")
        return cls(as_frame(d.get("dimensions")), ModelSummary.from_dict(disc) if disc else None, d.get("mediation"),
                   bool(d.get("weighted")), list(d.get("notes") or []))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "mean_gap", "ci_low", "ci_high", "p_t_holm", "unmet_share"]
                if c in self.table]
        return "GapAnalysis\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class DriverAnalysis(TableRepr):
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
                "notes": list(self.notes), "dimensions": as_records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DriverAnalysis":
        return cls(d["predictors"], as_frame(d.get("dimensions")), d["r2"], int(d.get("n") or 0),
                   float(d.get("n_eff") or 0), d.get("method", ""), int(d.get("bootstrap_replicates") or 0),
                   list(d.get("notes") or []), d.get("mc_error"))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "lmg_share", "rw_share", "sign", "quadrant"] if c in self.table]
        return (f"DriverAnalysis(predictors={self.predictors!r}, R²={self.r2:.3f}, n={self.n})\n"
                + self.table[cols].to_string(index=False))
