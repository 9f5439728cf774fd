"""Result objects and the one serialiser of results.json (docs/outputs.md).

Every number the report shows is an :class:`Estimate` in :class:`Results`; the notebook reads
results.json back with :func:`load_results`, so the report and the machine-readable file can
never disagree.

The result types live by subject, all importable from here: :mod:`.estimate` (one estimate and
the table helpers), :mod:`.models` (loyalty, gap, drivers), :mod:`.questionnaire` (roles of the
questionnaire), :mod:`.index` (satisfaction index), :mod:`.run_info` (quality, weighting,
provenance) and :mod:`.banner` (banner tables). :class:`Results` and :func:`load_results` below
are the one writer and the one reader of results.json.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, first_line
from ..output import atomic_write_json, to_jsonable
from ..stats.levels import ALPHA
from ..theme_results import ThemeAnalysis
from .banner import BANNER_TIDY_COLUMNS, BANNER_TOTAL, BannerTables
from .estimate import Estimate
from .index import IndexAnalysis, IndexModel, WeightedIndex
from .models import DriverAnalysis, GapAnalysis, LoyaltyCurve, LoyaltyModel, ModelSummary
from .questionnaire import CompositeReliability, ImportanceComparison, MultipleResponseShares, NonSubstantive
from .run_info import Provenance, QualitySummary, WeightingSummary

__all__ = ["Estimate", "Results", "load_results", "RESULTS_VERSION", "kpi_kind", "wave_sort_key", "ModelSummary",
           "LoyaltyCurve", "LoyaltyModel", "GapAnalysis", "DriverAnalysis", "QualitySummary", "Provenance",
           "HEADLINE_IDS", "ALPHA", "WeightedIndex", "IndexModel", "IndexAnalysis", "NonSubstantive",
           "CompositeReliability", "MultipleResponseShares", "ImportanceComparison", "WeightingSummary"]
__all__ += ["BannerTables", "BANNER_TIDY_COLUMNS", "BANNER_TOTAL"]

RESULTS_VERSION = 2
HEADLINE_IDS = ("satisfaction.score", "satisfaction.index", "satisfaction.rate", "nps")


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
