"""Results of the satisfaction index: the weighted index, the PLS index model, both together."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


from .estimate import Estimate, TableRepr, as_frame, as_records

__all__ = ['WeightedIndex', 'IndexModel', 'IndexAnalysis']


def _estimate_or_none(d: dict[str, Any] | None) -> Estimate | None:
    if not d:
        return None
    return Estimate(**{k: v for k, v in d.items() if k in Estimate.__dataclass_fields__})


@dataclass
class WeightedIndex(TableRepr):
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
        return {"weights": self.weights, "dimensions": as_records(self.table), "csi": self.csi.to_dict(),
                "segments": [e.to_dict() for e in self.segments],
                "change": self.change.to_dict() if self.change is not None else None,
                "bootstrap_replicates": self.bootstrap, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WeightedIndex":
        return cls(d["weights"], as_frame(d.get("dimensions")), _estimate_or_none(d["csi"]),
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
        return {"constructs": as_records(self.constructs), "outer": as_records(self.outer), "paths": as_records(self.paths),
                "effects": as_records(self.effects), "ipma": as_records(self.ipma), "target": self.target,
                "gof": self.gof, "scheme": self.scheme, "scaled": self.scaled, "n": self.n, "n_eff": self.n_eff,
                "iterations": self.iterations, "bootstrap_replicates": self.bootstrap, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "IndexModel":
        return cls(as_frame(d.get("constructs")), as_frame(d.get("outer")), as_frame(d.get("paths")),
                   as_frame(d.get("effects")), as_frame(d.get("ipma")), d.get("target"), d.get("gof"),
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
