"""The survey spec as one immutable object (:class:`Spec`) and its sections: quality rules,
banner tables, the satisfaction index and its model, the file's source, the sampling design and
weighting."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping


from .answers import Answer, Codes, Dimension, Item, MultipleResponse, Scale, ScreenOut


__all__ = ['Quality', 'Banner', 'BANNER_CORRECTIONS', 'IndexSpec', 'Construct', 'IndexModelSpec', 'Source', 'Design', 'Weighting', 'Spec']


@dataclass(frozen=True)
class Quality:
    """Data-quality thresholds (docs/validation.md)."""

    min_duration_s: float | None = None
    max_straightline_share: float = 0.05
    min_base: int = 30
    max_quarantine_share: float = 0.2
    straightline: str = "quarantine"  # "quarantine", "flag" or "off"
    min_items: int | None = None  # answered battery items for the rule; None = every item


@dataclass(frozen=True)
class Banner:
    """The banner of the crosstab tables (spec key ``banner:``).

    ``columns`` empty means the spec's segments. ``confidence`` is the level of the column tests
    (0.95 = 95%); ``correction`` adjusts the pairwise tests within each row of a banner group:
    ``bonferroni`` (the default, as SPSS Custom Tables), ``holm`` or ``none``.
    """

    columns: tuple[str, ...] = ()
    confidence: float = 0.95
    correction: str = "bonferroni"


BANNER_CORRECTIONS = ("bonferroni", "holm", "none")


@dataclass(frozen=True)
class IndexSpec:
    """The weighted-average satisfaction index (spec key ``index``).

    ``weights`` is ``given`` (``given`` holds each dimension's weight as written), ``stated``
    (the mean of each dimension's importance item) or ``derived`` (relative weights of the
    dimensions for overall satisfaction); ``dimensions`` are the dimensions combined, in order.
    """

    weights: str
    dimensions: tuple[str, ...]
    given: Mapping[str, float] = field(default_factory=dict)
    bootstrap: int = 500


@dataclass(frozen=True)
class Construct:
    """A latent construct of the index model: its items and each item's answer scale."""

    name: str
    items: tuple[str, ...]
    scales: tuple[Scale, ...]
    mode: str = "A"
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class IndexModelSpec:
    """The ACSI/ECSI-type structural model (spec key ``index_model``), estimated by PLS.

    ``satisfaction`` names the construct whose drivers the importance-performance map shows
    (given in the spec, else the construct holding the satisfaction item, else None).
    """

    constructs: tuple[Construct, ...]
    paths: tuple[tuple[str, str], ...]
    scheme: str = "centroid"
    scaled: bool = False
    satisfaction: str | None = None
    bootstrap: int = 500

    def construct(self, name: str) -> Construct:
        return next(c for c in self.constructs if c.name == name)


@dataclass(frozen=True)
class Source:
    """How to read the data file (spec key ``source``); what is not given is detected.

    ``sheet`` is a sheet name or a 1-based position; ``header_row`` is 1-based (title rows above
    it are skipped); ``encoding`` is a Python codec name (``cp949``, ``gb18030``, ``cp1252``...).
    """

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | int | None = None
    header_row: int | None = None


@dataclass(frozen=True)
class Design:
    """The sample design (``design:``): stratum, PSU (cluster) and fpc columns, lonely-PSU rule.

    ``fpc`` holds the population number of PSUs in each row's stratum (or the sampling fraction
    when every value is at most 1). ``lonely_psu`` says what a stratum with one PSU contributes
    to a variance: ``fail`` (the default, an error), ``adjust``, ``average``, ``remove`` or
    ``certainty``, as R's ``options(survey.lonely.psu = ...)``.
    """

    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    lonely_psu: str = "fail"

    def columns(self) -> list[str]:
        return [c for c in (self.strata, self.psu, self.fpc) if c]


@dataclass(frozen=True)
class Weighting:
    """Weights computed from the clean rows (``weighting:``).

    ``rake`` maps a column to its population shares ``{value: share}`` (each margin sums to 1);
    the base weights (the spec's ``weight`` column, else 1) are raked to them. ``trim``
    ``(low, high)`` bounds the weights to ``[low, high] × mean weight`` after raking.
    """

    rake: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    trim: tuple[float, float] | None = None

    def columns(self) -> list[str]:
        return list(self.rake)


@dataclass(frozen=True)
class Spec:
    """A parsed survey spec. Build it with :func:`load_spec` or :func:`parse_spec`."""

    name: str
    id: str | None
    satisfaction: Item
    wave: str | None = None
    weight: str | None = None
    segments: tuple[str, ...] = ()
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    nps: Item | None = None
    loyalty: tuple[Item, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    text: tuple[str, ...] = ()
    pii: tuple[str, ...] = ()
    duration: str | None = None
    quality: Quality = field(default_factory=Quality)
    source: str | None = field(default=None, compare=False)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    banner: Banner | None = None
    index: IndexSpec | None = None
    index_model: IndexModelSpec | None = None
    data_source: Source = field(default_factory=Source)  # spec key `source` (`source` is the spec's path)
    codes: Codes = field(default_factory=Codes)
    screen_out: ScreenOut | None = None
    bands: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    multiple_response: tuple[MultipleResponse, ...] = ()
    answers: tuple[Answer, ...] = field(default=(), repr=False)
    design: Design | None = None
    weighting: Weighting | None = None
    themes: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    # -- column roles ---------------------------------------------------------------------
    def numeric_items(self) -> list[tuple[str, Item | Dimension, Scale]]:
        """Every rated column with the item it belongs to and its scale, in spec order."""
        out: list[tuple[str, Item | Dimension, Scale]] = [
            (self.satisfaction.column, self.satisfaction, self.satisfaction.scale)]
        if self.nps:
            out.append((self.nps.column, self.nps, self.nps.scale))
        out += [(it.column, it, it.scale) for it in self.loyalty]
        for d in self.dimensions:
            for col in (*d.perception_columns, d.expectation, d.importance):
                if col:
                    out.append((col, d, d.scale))
        if self.index_model:  # model items the spec rates nowhere else
            named = {c for c, _, _ in out}
            out += [(col, c, sc) for c in self.index_model.constructs for col, sc in zip(c.items, c.scales)
                    if col not in named]
        return out

    def answer(self, column: str) -> Answer:
        """How to read the answers of one rated column (its scale, codes, labels, reversal)."""
        for a in self.answers:
            if a.column == column:
                return a
        raise KeyError(column)

    def roles(self) -> dict[str, str]:
        """Map each column the spec names (except PII) to its role, e.g. ``{"overall_sat": "satisfaction"}``."""
        roles = {self.id: "id"} if self.id else {}
        if self.wave:
            roles[self.wave] = "wave"
        if self.weight:
            roles[self.weight] = "weight"
        if self.duration:
            roles[self.duration] = "duration"
        for s in self.segments:
            roles[s] = "segment"
        for c in self.categories:
            roles.setdefault(c, "segment")
        roles[self.satisfaction.column] = "satisfaction"
        if self.nps:
            roles[self.nps.column] = "nps"
        for it in self.loyalty:
            roles[it.column] = "loyalty"
        for d in self.dimensions:
            if d.is_composite:
                for i, col in enumerate(d.items):
                    roles[col] = f"dimensions.{d.name}.items[{i}]"
            else:
                roles[d.perception] = f"dimensions.{d.name}.perception"
            if d.expectation:
                roles[d.expectation] = f"dimensions.{d.name}.expectation"
            if d.importance:
                roles[d.importance] = f"dimensions.{d.name}.importance"
        for t in self.text:
            roles[t] = "text"
        for b in (self.banner.columns if self.banner else ()):
            roles.setdefault(b, "banner")
        for c in (self.index_model.constructs if self.index_model else ()):
            for col in c.items:
                roles.setdefault(col, f"index_model.constructs.{c.name}")
        for col in self.bands:
            roles[col] = f"bands.{col}"
        for mr in self.multiple_response:
            for col in mr.source_columns:
                roles[col] = f"multiple_response.{mr.name}"
        if self.screen_out:
            roles.setdefault(self.screen_out.column, "screen_out")
        for key in ("strata", "psu", "fpc"):
            if self.design and getattr(self.design, key):
                roles.setdefault(getattr(self.design, key), f"design.{key}")
        for col in (self.weighting.columns() if self.weighting else ()):
            roles.setdefault(col, f"weighting.rake.{col}")
        return roles

    def required_columns(self) -> list[str]:
        """Columns the data file must have (PII columns are optional: they are dropped anyway)."""
        return list(self.roles())

    def straightline_columns(self) -> list[str]:
        """Perception and expectation items, the battery a straight-liner answers identically."""
        cols: list[str] = []
        for d in self.dimensions:
            cols.extend(d.perception_columns)
            if d.expectation:
                cols.append(d.expectation)
        return cols

    @property
    def gap_dimensions(self) -> tuple[Dimension, ...]:
        return tuple(d for d in self.dimensions if d.has_gap)

    def fingerprint(self) -> str:
        """A stable hash of the parsed contents (used to notice a changed spec)."""
        blob = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)
