"""The survey spec: the YAML contract of DESIGN.md parsed into typed, immutable objects.

Every stage reads the spec instead of hard-coding column names. Parsing is strict: unknown
keys, wrong types, inverted scales and a column used in two roles are errors that name the
key path (``dimensions.price.scale``) so a researcher can fix the file without reading code.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .codeframe import parse_codeframes
from .errors import SpecError

__all__ = ["Scale", "Item", "Dimension", "Quality", "Spec", "load_spec", "parse_spec", "Banner"]

NPS_SCALE = (0, 10)


@dataclass(frozen=True)
class Scale:
    """An answer scale ``[low, high]`` (inclusive, integer points)."""

    low: float
    high: float

    def __str__(self) -> str:
        return f"{_fmt(self.low)}-{_fmt(self.high)}"

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Item:
    """One rated question: its column, its scale and (for satisfaction) the top-box threshold."""

    column: str
    scale: Scale
    top_box: float | None = None
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.column


@dataclass(frozen=True)
class Dimension:
    """An attribute rated as perception and, optionally, expectation and stated importance."""

    name: str
    perception: str
    scale: Scale
    expectation: str | None = None
    importance: str | None = None
    label: str | None = None

    @property
    def has_gap(self) -> bool:
        return self.expectation is not None

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Quality:
    """Data-quality thresholds (DESIGN "Validation rules")."""

    min_duration_s: float | None = None
    max_straightline_share: float = 0.05
    min_base: int = 30
    max_quarantine_share: float = 0.2


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
class Spec:
    """A parsed survey spec. Build it with :func:`load_spec` or :func:`parse_spec`."""

    name: str
    id: str
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
            for col in (d.perception, d.expectation, d.importance):
                if col:
                    out.append((col, d, d.scale))
        return out

    def roles(self) -> dict[str, str]:
        """Map each column the spec names (except PII) to its role, e.g. ``{"overall_sat": "satisfaction"}``."""
        roles = {self.id: "id"}
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
            roles[d.perception] = f"dimensions.{d.name}.perception"
            if d.expectation:
                roles[d.expectation] = f"dimensions.{d.name}.expectation"
            if d.importance:
                roles[d.importance] = f"dimensions.{d.name}.importance"
        for t in self.text:
            roles[t] = "text"
        for b in (self.banner.columns if self.banner else ()):
            roles.setdefault(b, "banner")
        return roles

    def required_columns(self) -> list[str]:
        """Columns the data file must have (PII columns are optional: they are dropped anyway)."""
        return list(self.roles())

    def straightline_columns(self) -> list[str]:
        """Perception and expectation items, the battery a straight-liner answers identically."""
        cols: list[str] = []
        for d in self.dimensions:
            cols.append(d.perception)
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


# --------------------------------------------------------------------------------------------
# YAML: a safe loader that also refuses duplicate keys (a silent overwrite hides a typo)
class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen[key] = loader.construct_object(value_node, deep=deep)
    return seen


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

MAX_SPEC_BYTES = 1_000_000


def load_spec(path: str | Path) -> Spec:
    """Read and check a survey spec file.

    Parameters
    ----------
    path : str or Path
        A YAML file following DESIGN.md's spec contract.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        Unreadable file, malformed YAML, or a contract violation; the message names the file
        and the key path.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read spec ({exc.strerror or exc})") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"{path}: spec is {len(data)} bytes; a survey spec is at most {MAX_SPEC_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: spec is not UTF-8 text") from None
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}: invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise SpecError(f"{path}: invalid YAML: nesting too deep") from None
    return parse_spec(doc, source=str(path))


def parse_spec(doc: Any, source: str | None = None) -> Spec:
    """Check a spec already parsed from YAML/JSON (a mapping) and build a :class:`Spec`."""
    where = f"{source}: " if source else "spec: "
    try:
        return _Parser(doc).spec(source)
    except SpecError as exc:
        raise SpecError(f"{where}{exc}") from None


_TOP_KEYS = {"name", "id", "wave", "weight", "segments", "categories", "satisfaction", "nps",
             "loyalty", "dimensions", "text", "pii", "duration", "quality"}
_TOP_KEYS.add("banner")
_TOP_KEYS.add("themes")
_BANNER_KEYS = {"columns", "confidence", "correction"}
_QUALITY_KEYS = {"min_duration_s", "max_straightline_share", "min_base", "max_quarantine_share"}


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class _Parser:
    """Walks the YAML document, raising SpecError with the key path of the first problem."""

    def __init__(self, doc: Any):
        self.doc = doc

    # generic checks ---------------------------------------------------------------------
    @staticmethod
    def _mapping(value: Any, path: str, allowed: set[str], required: set[str] = frozenset()):
        if not isinstance(value, dict):
            raise SpecError(f"{path or 'the spec'} must be a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise SpecError(f"{_join(path, str(key))}: keys must be text")
            if key not in allowed:
                raise SpecError(f"unknown key {_join(path, key)!r} (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required):
            if key not in value or value[key] is None:
                raise SpecError(f"{_join(path, key)} is required")
        return value

    @staticmethod
    def _column(value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
            raise SpecError(f"{path} must be a column name, got {_kind(value)}")
        return str(value)

    def _columns(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            raise SpecError(f"{path} must be a list of column names, got {_kind(value)}")
        return tuple(self._column(v, f"{path}[{i}]") for i, v in enumerate(value))

    @staticmethod
    def _number(value: Any, path: str, *, integer: bool = False, low=None, high=None,
                low_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{path} must be a number, got {_kind(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise SpecError(f"{path} must be a finite number")
        if integer and not float(value).is_integer():
            raise SpecError(f"{path} must be a whole number, got {value}")
        if low is not None and (value <= low if low_open else value < low):
            raise SpecError(f"{path} must be {'>' if low_open else '>='} {low}, got {value}")
        if high is not None and value > high:
            raise SpecError(f"{path} must be <= {high}, got {value}")
        return int(value) if integer else value

    def _scale(self, value: Any, path: str) -> Scale:
        if (not isinstance(value, list) or len(value) != 2):
            raise SpecError(f"{path} must be a list [low, high], got {_kind(value)}")
        low = self._number(value[0], f"{path}[0]")
        high = self._number(value[1], f"{path}[1]")
        if low >= high:
            raise SpecError(f"{path} is inverted or empty: [{_fmt(low)}, {_fmt(high)}] needs low < high")
        return Scale(low, high)

    @staticmethod
    def _label(value: Any, path: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise SpecError(f"{path} must be text, got {_kind(value)}")
        return value

    def _item(self, value: Any, path: str, *, top_box: bool = False) -> Item:
        allowed = {"column", "scale", "label"} | ({"top_box"} if top_box else set())
        m = self._mapping(value, path, allowed, {"column", "scale"})
        scale = self._scale(m["scale"], f"{path}.scale")
        tb = None
        if top_box:
            if m.get("top_box") is None:
                raise SpecError(f"{path}.top_box is required (the satisfaction rate is the share >= top_box)")
            tb = self._number(m["top_box"], f"{path}.top_box")
            if not (scale.low < tb <= scale.high):
                raise SpecError(f"{path}.top_box {_fmt(tb)} is outside the scale {scale} "
                                f"(it must be above {_fmt(scale.low)} and at most {_fmt(scale.high)})")
        return Item(self._column(m["column"], f"{path}.column"), scale, tb,
                    self._label(m.get("label"), f"{path}.label"))

    # the document -------------------------------------------------------------------------
    def spec(self, source: str | None) -> Spec:
        doc = self.doc
        if doc is None:
            raise SpecError("the spec is empty: a questionnaire needs at least name, id and satisfaction")
        m = self._mapping(doc, "", _TOP_KEYS)
        for key in ("name", "id", "satisfaction"):
            if m.get(key) is None:
                raise SpecError(f"{key} is required (the questionnaire needs name, id and satisfaction)")
        name = m["name"]
        if not isinstance(name, str) or not name.strip():
            raise SpecError(f"name must be non-empty text, got {_kind(name)}")

        sat = self._item(m["satisfaction"], "satisfaction", top_box=True)
        nps = None
        if m.get("nps") is not None:
            nps = self._item(m["nps"], "nps")
            if (nps.scale.low, nps.scale.high) != NPS_SCALE:
                raise SpecError(f"nps.scale must be [0, 10] (promoters 9-10, detractors 0-6), got "
                                f"[{_fmt(nps.scale.low)}, {_fmt(nps.scale.high)}]")
        loyalty_raw = m.get("loyalty") or []
        if not isinstance(loyalty_raw, list):
            raise SpecError(f"loyalty must be a list of items, got {_kind(loyalty_raw)}")
        loyalty = tuple(self._item(v, f"loyalty[{i}]") for i, v in enumerate(loyalty_raw))

        dims_raw = m.get("dimensions") or {}
        if not isinstance(dims_raw, dict):
            raise SpecError(f"dimensions must be a mapping of name -> item, got {_kind(dims_raw)}")
        dims = []
        for dname, dval in dims_raw.items():
            if not isinstance(dname, str) or not dname.strip():
                raise SpecError(f"dimensions: {dname!r} is not a valid dimension name")
            p = f"dimensions.{dname}"
            dm = self._mapping(dval, p, {"perception", "expectation", "importance", "scale", "label"},
                               {"perception", "scale"})
            dims.append(Dimension(
                name=dname,
                perception=self._column(dm["perception"], f"{p}.perception"),
                scale=self._scale(dm["scale"], f"{p}.scale"),
                expectation=(self._column(dm["expectation"], f"{p}.expectation")
                             if dm.get("expectation") is not None else None),
                importance=(self._column(dm["importance"], f"{p}.importance")
                            if dm.get("importance") is not None else None),
                label=self._label(dm.get("label"), f"{p}.label"),
            ))

        cats_raw = m.get("categories") or {}
        if not isinstance(cats_raw, dict):
            raise SpecError(f"categories must be a mapping of column -> allowed values, got {_kind(cats_raw)}")
        categories: dict[str, tuple[str, ...]] = {}
        for col, values in cats_raw.items():
            col = self._column(col, "categories")
            if not isinstance(values, list) or not values:
                raise SpecError(f"categories.{col} must be a non-empty list of allowed values")
            vals = []
            for i, v in enumerate(values):
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    raise SpecError(f"categories.{col}[{i}] must be text or a number, got {_kind(v)}")
                vals.append(str(v))
            if len(set(vals)) != len(vals):
                raise SpecError(f"categories.{col} lists a value twice")
            categories[col] = tuple(vals)

        quality = self._quality(m.get("quality"))
        spec = Spec(
            name=name.strip(),
            id=self._column(m["id"], "id"),
            satisfaction=sat,
            wave=self._column(m["wave"], "wave") if m.get("wave") is not None else None,
            weight=self._column(m["weight"], "weight") if m.get("weight") is not None else None,
            segments=self._columns(m.get("segments"), "segments"),
            categories=categories,
            nps=nps,
            loyalty=loyalty,
            dimensions=tuple(dims),
            text=self._columns(m.get("text"), "text"),
            pii=self._columns(m.get("pii"), "pii"),
            duration=self._column(m["duration"], "duration") if m.get("duration") is not None else None,
            quality=quality,
            source=source,
            raw=json.loads(json.dumps(doc, default=str)),
            banner=self._banner(m.get("banner"), "banner" in m),
            themes=parse_codeframes(m.get("themes"), self._columns(m.get("text"), "text")),
        )
        self._check_roles(spec)
        self._check_banner(spec)
        if spec.quality.min_duration_s is not None and spec.duration is None:
            raise SpecError("quality.min_duration_s needs a duration column (spec key 'duration')")
        return spec

    def _quality(self, value: Any) -> Quality:
        if value is None:
            return Quality()
        m = self._mapping(value, "quality", _QUALITY_KEYS)
        q = Quality()
        return Quality(
            min_duration_s=(self._number(m["min_duration_s"], "quality.min_duration_s", low=0)
                            if m.get("min_duration_s") is not None else None),
            max_straightline_share=(self._number(m["max_straightline_share"], "quality.max_straightline_share",
                                                 low=0, high=1)
                                    if m.get("max_straightline_share") is not None else q.max_straightline_share),
            min_base=(self._number(m["min_base"], "quality.min_base", integer=True, low=1)
                      if m.get("min_base") is not None else q.min_base),
            max_quarantine_share=(self._number(m["max_quarantine_share"], "quality.max_quarantine_share",
                                               low=0, high=1)
                                  if m.get("max_quarantine_share") is not None else q.max_quarantine_share),
        )

    def _banner(self, value: Any, given: bool) -> Banner | None:
        """``banner: [col, ...]`` or ``banner: {columns: [...], confidence: 0.95, correction: holm}``."""
        if not given:
            return None
        if value is None or isinstance(value, (list, str, int)) and not isinstance(value, bool):
            return Banner(columns=self._columns(value, "banner"))
        m = self._mapping(value, "banner", _BANNER_KEYS)
        conf = Banner.confidence
        if m.get("confidence") is not None:
            conf = self._number(m["confidence"], "banner.confidence", low=0, high=100, low_open=True)
            conf = conf / 100 if conf > 1 else conf  # 95 and 0.95 both mean 95%
            if not 0.5 <= conf < 1:
                raise SpecError(f"banner.confidence must be a level like 0.95 or 95 (50% up to below 100%), "
                                f"got {m['confidence']}")
        correction = Banner.correction
        if m.get("correction") is not None:
            correction = str(m["correction"]).strip().lower()
            if correction not in BANNER_CORRECTIONS:
                raise SpecError(f"banner.correction must be one of {', '.join(BANNER_CORRECTIONS)}, "
                                f"got {_kind(m['correction'])}")
        return Banner(self._columns(m.get("columns"), "banner.columns"), float(conf), correction)

    @staticmethod
    def _check_banner(spec: Spec) -> None:
        """Banner columns are categorical breakdowns: never the id, weight, wave, duration, text or PII."""
        if spec.banner is None:
            return
        cols = spec.banner.columns
        if len(set(cols)) != len(cols):
            raise SpecError(f"banner lists column {next(c for c in cols if cols.count(c) > 1)!r} twice")
        banned = {spec.id: "id", spec.weight: "weight", spec.wave: "wave", spec.duration: "duration",
                  **{t: "text" for t in spec.text}, **{p: "pii" for p in spec.pii}}
        for i, col in enumerate(cols):
            if col in banned:
                raise SpecError(f"banner[{i}]: column {col!r} is the {banned[col]}; a banner column is a "
                                f"categorical breakdown (a segment, a category or a rated item)")

    @staticmethod
    def _check_roles(spec: Spec) -> None:
        """A column may play one role only (segments may also be listed under categories)."""
        uses: dict[str, list[str]] = {}

        def use(col: str | None, role: str) -> None:
            if col is not None:
                uses.setdefault(col, []).append(role)

        use(spec.id, "id")
        use(spec.wave, "wave")
        use(spec.weight, "weight")
        use(spec.duration, "duration")
        for s in spec.segments:
            use(s, "segments")
        use(spec.satisfaction.column, "satisfaction.column")
        if spec.nps:
            use(spec.nps.column, "nps.column")
        for i, it in enumerate(spec.loyalty):
            use(it.column, f"loyalty[{i}].column")
        for d in spec.dimensions:
            use(d.perception, f"dimensions.{d.name}.perception")
            use(d.expectation, f"dimensions.{d.name}.expectation")
            use(d.importance, f"dimensions.{d.name}.importance")
        for i, t in enumerate(spec.text):
            use(t, f"text[{i}]")
        for i, p in enumerate(spec.pii):
            use(p, f"pii[{i}]")
        for col, roles in uses.items():
            if len(roles) > 1:
                raise SpecError(f"column {col!r} is used twice: {' and '.join(roles)}")
        for col in spec.categories:
            if uses.get(col) not in (["segments"], None):
                raise SpecError(f"categories.{col}: column {col!r} is already the {uses[col][0]}; "
                                f"categories apply to segment columns")
        for col in spec.pii:
            if col in spec.categories:
                raise SpecError(f"column {col!r} is PII and cannot have categories")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
