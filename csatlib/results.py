"""Result objects and the one serialiser of results.json (DESIGN "results.json (contract)").

Every number the report shows is an :class:`Estimate` in :class:`Results`; the notebook reads
results.json back with :func:`load_results`, so the report and the machine-readable file can
never disagree.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .output import atomic_write_json, to_jsonable

__all__ = ["Estimate", "Results", "load_results", "RESULTS_VERSION"]

RESULTS_VERSION = 1


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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.suppressed:
            d.pop("suppressed")
        return to_jsonable(d)

    def with_(self, **changes) -> "Estimate":
        return replace(self, **changes)


@dataclass
class Results:
    """Everything one run found: estimates, models, data quality and provenance."""

    survey: str
    wave: str
    previous_wave: str | None
    weighted: bool
    rows: dict[str, int]
    estimates: list[Estimate] = field(default_factory=list)
    models: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    trend: list[dict[str, Any]] = field(default_factory=list)
    verbatims: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def get(self, id: str, segment: dict | None = None) -> Estimate | None:
        """The estimate with this id (and segment; None = the total)."""
        for e in self.estimates:
            if e.id == id and e.segment == segment:
                return e
        return None

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

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({
            "results_version": RESULTS_VERSION,
            "survey": self.survey, "wave": self.wave, "previous_wave": self.previous_wave,
            "weighted": self.weighted, "rows": self.rows,
            "estimates": [e.to_dict() for e in self.estimates],
            "models": self.models, "quality": self.quality, "trend": self.trend,
            "verbatims": self.verbatims, "meta": self.meta,
        })

    def write(self, path: str | Path) -> Path:
        """Write results.json atomically."""
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
        raise InputError(f"{path}: no such results file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read results ({exc})") from None
    try:
        ests = [Estimate(**{k: v for k, v in e.items() if k in Estimate.__dataclass_fields__})
                for e in doc["estimates"]]
        return Results(survey=doc["survey"], wave=doc["wave"], previous_wave=doc.get("previous_wave"),
                       weighted=bool(doc.get("weighted")), rows=doc.get("rows", {}), estimates=ests,
                       models=doc.get("models", {}), quality=doc.get("quality", {}),
                       trend=doc.get("trend", []), verbatims=doc.get("verbatims", []),
                       meta=doc.get("meta", {}))
    except (KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a csat results file (missing {exc})") from None
