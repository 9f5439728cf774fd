"""The survey spec: the YAML contract (docs/spec-reference.md) parsed into typed, immutable objects.

Every stage reads the spec instead of hard-coding column names. Parsing is strict: unknown
keys, wrong types, inverted scales and a column used in two roles are errors that name the
key path (``dimensions.price.scale``) so a researcher can fix the file without reading code.
"""
from __future__ import annotations

import codecs
import hashlib
import json
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .codeframe import parse_codeframes
from .errors import SpecError

__all__ = ["Scale", "Item", "Dimension", "Quality", "Source", "Spec", "load_spec", "parse_spec", "Banner",
           "IndexSpec", "Construct", "IndexModelSpec", "Codes", "Answer", "ScreenOut", "MultipleResponse",
           "answer_key", "CODE_KINDS", "COMPOSITE_PREFIX", "composite_column", "Design", "Weighting", "spec_keys"]

NPS_SCALE = (0, 10)

CODE_KINDS = ("not_applicable", "dont_know", "refused", "missing")
"""Kinds of non-substantive answers, in the order results list them. ``missing`` is a value the
file itself declares missing (SPSS user-missing values) that no spec code or label classifies."""

COMPOSITE_PREFIX = "_csat_composite_"


def composite_column(name: str) -> str:
    """Name of the derived column holding a composite dimension's score per respondent."""
    return f"{COMPOSITE_PREFIX}{name}"


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"'})
_SPACES = re.compile(r"\s+")
_NUMBER_TEXT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def answer_key(value: Any) -> float | str | None:
    """The form in which answers, codes and value labels are compared.

    Numbers become floats, so ``98``, ``98.0``, ``"98"`` and full-width ``"９８"`` are one key.
    Text is NFKC-normalised, case-folded, with curly quotes made straight and runs of white
    space made one space, so ``"Don’t  Know"`` matches ``"don't know"`` and ``" 不知道 "`` matches
    ``"不知道"``. Blank cells (None, NaN, empty or white-space text) give None.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        x = float(value)
        return None if math.isnan(x) else x
    if not isinstance(value, str):
        try:
            if value != value:  # NaN-like (pandas NaT)
                return None
        except (TypeError, ValueError):  # pandas NA refuses comparison
            return None
        value = str(value)
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value).translate(_QUOTES)).strip()
    if not text:
        return None
    if _NUMBER_TEXT.match(text):
        return float(text)
    return text.casefold()


@dataclass(frozen=True)
class Codes:
    """Answer codes that are legitimate answers but not ratings (spec key ``codes:``).

    Each kind holds numbers and/or text labels as the spec wrote them. A code is excluded from
    the analyses of its item (set to missing in the analysis view), reported as a share, and is
    never a quarantine reason.
    """

    not_applicable: tuple = ()
    dont_know: tuple = ()
    refused: tuple = ()

    def __bool__(self) -> bool:
        return bool(self.not_applicable or self.dont_know or self.refused)

    def lookup(self) -> dict[float | str, str]:
        """``{answer_key(code): kind}`` for every code."""
        out: dict[float | str, str] = {}
        for kind in CODE_KINDS[:3]:
            for v in getattr(self, kind):
                out[answer_key(v)] = kind
        return out

    def to_dict(self) -> dict[str, list]:
        return {k: list(getattr(self, k)) for k in CODE_KINDS[:3] if getattr(self, k)}


@dataclass(frozen=True)
class Answer:
    """One rated column as the file holds it, with everything needed to read its answers.

    Attributes
    ----------
    column : str
    role : str
        The spec key path that names the column (``dimensions.image.items[1]``).
    scale : Scale or None
        None for a binary item without a scale.
    codes : Codes
        The codes in force for this column: its own ``codes:`` per kind, else the survey-wide
        ones (survey-wide numbers that lie on this column's scale are answers here, not codes).
    values : mapping
        ``{answer_key(label): code}`` from ``values:``.
    reverse : bool
        Recode high <-> low on the scale (``low + high - x``) before any analysis.
    binary : bool
        A binary item: ``positive`` answers count 1, ``negative`` ones 0 (every other substantive
        answer when ``negative`` is None).
    """

    column: str
    role: str
    scale: Scale | None
    codes: Codes = field(default_factory=Codes)
    values: Mapping[float | str, float] = field(default_factory=dict)
    reverse: bool = False
    binary: bool = False
    positive: tuple = ()
    negative: tuple | None = None

    def code_lookup(self) -> dict[float | str, str]:
        return self.codes.lookup()

    def label_of(self) -> dict[float, str]:
        """``{code: label}`` (the inverse of ``values``), for reading codes by their labels."""
        return {float(code): str(label) for label, code in self.values.items()}


@dataclass(frozen=True)
class ScreenOut:
    """Respondents screened out of the analysis base (counted apart, not quarantined)."""

    column: str
    values: tuple  # answer keys
    shown: tuple = ()  # the values as the spec wrote them


@dataclass(frozen=True)
class MultipleResponse:
    """A multiple-response question: one delimited cell, or one 0/1 column per option."""

    name: str
    column: str | None = None
    delimiter: str | None = None
    columns: tuple[str, ...] = ()
    selected: tuple = (1.0,)  # answer keys that mark an option column as chosen
    options: tuple[str, ...] = ()
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def source_columns(self) -> tuple[str, ...]:
        return (self.column,) if self.column else self.columns


@dataclass(frozen=True)
class Scale:
    """An answer scale ``[low, high]`` (inclusive, integer points)."""

    low: float
    high: float

    def __str__(self) -> str:
        return f"{format_number(self.low)}-{format_number(self.high)}"

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
    type: str = "interval"  # "interval" or "binary"
    positive: tuple = ()  # binary: the answers (labels or codes) that count as positive
    negative: tuple | None = None  # binary: the negative answers; None = every other answer
    reverse: bool = False

    @property
    def title(self) -> str:
        return self.label or self.column

    @property
    def binary(self) -> bool:
        return self.type == "binary"


@dataclass(frozen=True)
class Dimension:
    """An attribute rated as perception and, optionally, expectation and stated importance."""

    name: str
    perception: str
    scale: Scale
    expectation: str | None = None
    importance: str | None = None
    label: str | None = None
    items: tuple[str, ...] = ()  # a composite: the items whose mean is the perception score
    min_answered: int | None = None  # composite: substantive items needed for a score

    @property
    def has_gap(self) -> bool:
        return self.expectation is not None

    @property
    def is_composite(self) -> bool:
        return bool(self.items)

    @property
    def perception_columns(self) -> tuple[str, ...]:
        """The file columns behind the perception score: the composite's items, or the one column."""
        return self.items or (self.perception,)

    @property
    def title(self) -> str:
        return self.label or self.name


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
# YAML 1.2 booleans: only true/false. YAML 1.1 also reads yes/no/on/off as booleans, which turns
# answer labels such as `positive: [Yes]` into True; here they stay text.
_BOOL_TAG = "tag:yaml.org,2002:bool"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_StrictLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))

MAX_SPEC_BYTES = 1_000_000


def load_spec(path: str | Path) -> Spec:
    """Read and check a survey spec file.

    Parameters
    ----------
    path : str or Path
        A YAML file following the spec contract (docs/spec-reference.md).

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


_TOP_KEYS = {"name", "id", "wave", "weight", "segments", "categories", "satisfaction", "nps", "loyalty",
             "dimensions", "text", "pii", "duration", "quality", "banner", "themes", "index", "index_model",
             "source", "design", "weighting", "codes", "screen_out", "bands", "multiple_response"}
_BANNER_KEYS = {"columns", "confidence", "correction"}
_INDEX_KEYS = {"weights", "dimensions", "bootstrap"}
_INDEX_MODEL_KEYS = {"constructs", "paths", "scale", "scheme", "scaled", "satisfaction", "bootstrap"}
_CONSTRUCT_KEYS = {"items", "scale", "mode", "label"}
_QUALITY_KEYS = {"min_duration_s", "max_straightline_share", "min_base", "max_quarantine_share", "straightline",
                 "min_items"}
# questionnaire roles and answer codes (answers that are not ratings, labels, outcome types)
_ANSWER_KEYS = {"values", "codes"}
_BINARY_KEYS = {"type", "positive", "negative"}
_DIMENSION_KEYS = {"perception", "items", "expectation", "importance", "scale", "label", "values", "codes",
                   "reverse", "min_answered"}
STRAIGHTLINE_MODES = ("quarantine", "flag", "off")


def format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class _Parser:
    """Walks the YAML document, raising SpecError with the key path of the first problem."""

    def __init__(self, doc: Any):
        self.doc = doc
        self.codes = Codes()
        self.answers: list[Answer] = []

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
            raise SpecError(f"{path} is inverted or empty: [{format_number(low)}, {format_number(high)}] needs low < high")
        return Scale(low, high)

    @staticmethod
    def _label(value: Any, path: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise SpecError(f"{path} must be text, got {_kind(value)}")
        return value

    def _item(self, value: Any, path: str, *, top_box: bool = False, binary_ok: bool = False,
              reverse_ok: bool = False) -> Item:
        allowed = {"column", "scale", "label"} | _ANSWER_KEYS | ({"top_box"} if top_box else set())
        allowed |= (_BINARY_KEYS if binary_ok else set()) | ({"reverse"} if reverse_ok else set())
        m = self._mapping(value, path, allowed, {"column"})
        column = self._column(m["column"], f"{path}.column")
        label = self._label(m.get("label"), f"{path}.label")
        kind = m.get("type", "interval")
        if kind not in ("interval", "binary"):
            raise SpecError(f"{path}.type must be 'interval' or 'binary', got {_kind(kind)}")
        if kind == "binary":
            if m.get("top_box") is not None:
                raise SpecError(f"{path}.top_box does not apply to a binary item: its rate is the share of "
                                f"positive answers")
            if m.get("reverse"):
                raise SpecError(f"{path}.reverse does not apply to a binary item: list the answers that count "
                                f"as positive instead")
            positive = self._answer_list(m.get("positive"), f"{path}.positive", required=True)
            negative = (self._answer_list(m.get("negative"), f"{path}.negative", required=True)
                        if m.get("negative") is not None else None)
            both = {answer_key(v) for v in positive} & {answer_key(v) for v in (negative or ())}
            if both:
                raise SpecError(f"{path}: {sorted(map(str, both))[0]!r} is listed as both positive and negative")
            scale = self._scale(m["scale"], f"{path}.scale") if m.get("scale") is not None else None
            self._add_answer(column, path, path, scale, m, binary=True, positive=positive, negative=negative)
            return Item(column, Scale(0, 1), None, label, "binary", positive, negative)
        for key in _BINARY_KEYS - {"type"}:
            if m.get(key) is not None:
                raise SpecError(f"{path}.{key} applies only to a binary item (add type: binary)")
        if m.get("scale") is None:
            raise SpecError(f"{path}.scale is required (or type: binary with its positive answers)")
        scale = self._scale(m["scale"], f"{path}.scale")
        tb = None
        if top_box:
            if m.get("top_box") is None:
                raise SpecError(f"{path}.top_box is required (the satisfaction rate is the share >= top_box)")
            tb = self._number(m["top_box"], f"{path}.top_box")
            if not (scale.low < tb <= scale.high):
                raise SpecError(f"{path}.top_box {format_number(tb)} is outside the scale {scale} "
                                f"(it must be above {format_number(scale.low)} and at most {format_number(scale.high)})")
        reverse = self._flag(m.get("reverse"), f"{path}.reverse")
        self._add_answer(column, path, path, scale, m, reverse=reverse)
        return Item(column, scale, tb, label, reverse=reverse)

    # answers: codes, value labels, binary answers ----------------------------------------
    @staticmethod
    def _flag(value: Any, path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise SpecError(f"{path} must be true or false, got {_kind(value)}")
        return value

    @staticmethod
    def _answer_list(value: Any, path: str, *, required: bool = False) -> tuple:
        """A list of answers (numbers or text labels); a single value is a list of one."""
        if value is None or value == []:
            if required:
                raise SpecError(f"{path} is required: list the answers (labels or codes)")
            return ()
        if not isinstance(value, list):
            value = [value]
        out = []
        for i, v in enumerate(value):
            if isinstance(v, bool):
                raise SpecError(f"{path}[{i}] must be a number or a text label, got {_kind(v)} "
                                f"(write the label in quotes, e.g. 'Yes')")
            if not isinstance(v, (str, int, float)) or answer_key(v) is None:
                raise SpecError(f"{path}[{i}] must be a number or a text label, got {_kind(v)}")
            if isinstance(v, float) and not math.isfinite(v):
                raise SpecError(f"{path}[{i}] must be a finite number")
            out.append(v)
        keys = [answer_key(v) for v in out]
        if len(set(keys)) != len(keys):
            raise SpecError(f"{path} lists an answer twice (labels are compared ignoring case and spaces)")
        return tuple(out)

    def _codes(self, value: Any, path: str) -> tuple[Codes, frozenset[str]]:
        """Parse a ``codes:`` mapping; returns the codes and the kinds it names."""
        if value is None:
            return Codes(), frozenset()
        m = self._mapping(value, path, set(CODE_KINDS[:3]))
        lists = {k: self._answer_list(m.get(k), f"{path}.{k}") for k in CODE_KINDS[:3] if k in m}
        seen: dict[Any, str] = {}
        for kind, values in lists.items():
            for v in values:
                key = answer_key(v)
                if key in seen:
                    raise SpecError(f"{path}: {v!r} is listed as both {seen[key]} and {kind}")
                seen[key] = kind
        return Codes(**lists), frozenset(lists)

    def _effective_codes(self, own: Codes, given: frozenset[str], scale: Scale | None, path: str,
                         answers: set | None = None, numbers_are_answers: bool = False) -> Codes:
        """An item's codes: its own list for each kind it names, else the survey-wide list.

        A survey-wide number that lies on the item's scale (or is one of a binary item's listed
        answers) is an answer there, not a code: 0 may mean "not applicable" on 1-5 ratings and
        be a legitimate answer on a 0-10 NPS scale.
        """
        out = {}
        for kind in CODE_KINDS[:3]:
            if kind in given:
                for v in getattr(own, kind):
                    key = answer_key(v)
                    if isinstance(key, float) and scale is not None and scale.low <= key <= scale.high:
                        raise SpecError(f"{path}.codes.{kind}: {format_number(key)} is on the scale {scale}; a code "
                                        f"must lie outside the scale")
                    if answers and key in answers:
                        raise SpecError(f"{path}.codes.{kind}: {v!r} is also listed as a positive or "
                                        f"negative answer")
                out[kind] = getattr(own, kind)
                continue
            kept = []
            for v in getattr(self.codes, kind):
                key = answer_key(v)
                if isinstance(key, float) and (numbers_are_answers or (
                        scale is not None and scale.low <= key <= scale.high)):
                    continue
                if answers and key in answers:
                    continue
                kept.append(v)
            out[kind] = tuple(kept)
        return Codes(**out)

    def _values(self, value: Any, path: str, scale: Scale | None, codes: Codes,
                binary: bool = False) -> dict[float | str, float]:
        """``values: {label: code}`` → ``{answer_key(label): code}``."""
        if value is None:
            return {}
        if not isinstance(value, dict) or not value:
            raise SpecError(f"{path} must be a mapping of answer label -> code, e.g. {{Very poor: 1}}, "
                            f"got {_kind(value)}")
        code_numbers = {k for k in codes.lookup() if isinstance(k, float)}
        out: dict[float | str, float] = {}
        for label, code in value.items():
            if not isinstance(label, str) and isinstance(code, str):
                raise SpecError(f"{path}: {label!r}: {code!r} is the wrong way round; values map a label to "
                                f"its code, e.g. {{{code}: {label}}}")
            key = answer_key(label) if isinstance(label, str) else None
            if not isinstance(label, str) or key is None or isinstance(key, float):
                raise SpecError(f"{path}: a value label must be text that is not a number, got {_kind(label)}")
            num = self._number(code, f"{path}.{label}")
            if key in out:
                raise SpecError(f"{path}: the label {label!r} is listed twice (labels are compared ignoring "
                                f"case and spaces)")
            if not binary and scale is not None and not (scale.low <= num <= scale.high) \
                    and float(num) not in code_numbers:
                raise SpecError(f"{path}.{label}: code {format_number(num)} is neither on the scale {scale} nor one of "
                                f"the item's codes")
            out[key] = float(num)
        return out

    def _add_answer(self, column: str, role: str, path: str, scale: Scale | None, m: dict, *,
                    reverse: bool = False, binary: bool = False, positive: tuple = (),
                    negative: tuple | None = None) -> None:
        own, given = self._codes(m.get("codes"), f"{path}.codes")
        answers = {answer_key(v) for v in (*positive, *(negative or ()))} if binary else None
        codes = self._effective_codes(own, given, scale, path, answers,
                                      numbers_are_answers=binary and negative is None and scale is None)
        values = self._values(m.get("values"), f"{path}.values", scale, codes, binary)
        self.answers.append(Answer(
            column=column, role=role, scale=scale, codes=codes, values=values, reverse=reverse, binary=binary,
            positive=tuple(answer_key(v) for v in positive),
            negative=None if negative is None else tuple(answer_key(v) for v in negative)))

    def _dimension(self, dname: str, dval: Any) -> Dimension:
        p = f"dimensions.{dname}"
        dm = self._mapping(dval, p, _DIMENSION_KEYS, {"scale"})
        if (dm.get("perception") is None) == (dm.get("items") is None):
            raise SpecError(f"{p} needs either perception (one column) or items (a composite of several "
                            f"columns)")
        scale = self._scale(dm["scale"], f"{p}.scale")
        items: tuple[str, ...] = ()
        min_answered = None
        if dm.get("items") is not None:
            items = self._columns(dm["items"], f"{p}.items")
            if len(items) < 2:
                raise SpecError(f"{p}.items must list at least two columns (one column is a perception)")
            if len(set(items)) != len(items):
                raise SpecError(f"{p}.items lists a column twice")
            default = math.ceil(len(items) / 2)
            min_answered = (self._number(dm["min_answered"], f"{p}.min_answered", integer=True, low=1,
                                         high=len(items)) if dm.get("min_answered") is not None else default)
        elif dm.get("min_answered") is not None:
            raise SpecError(f"{p}.min_answered applies only to a composite (items)")
        perception = (self._column(dm["perception"], f"{p}.perception") if not items
                      else composite_column(dname))
        expectation = (self._column(dm["expectation"], f"{p}.expectation")
                       if dm.get("expectation") is not None else None)
        importance = (self._column(dm["importance"], f"{p}.importance")
                      if dm.get("importance") is not None else None)
        roles = ([(c, f"{p}.items[{i}]") for i, c in enumerate(items)] if items
                 else [(perception, f"{p}.perception")])
        roles += [(c, f"{p}.{k}") for c, k in ((expectation, "expectation"), (importance, "importance")) if c]
        reverse_raw = dm.get("reverse")
        if isinstance(reverse_raw, bool) or reverse_raw is None:
            reversed_cols = {c for c, _ in roles} if reverse_raw else set()
        else:
            reversed_cols = set(self._columns(reverse_raw, f"{p}.reverse"))
            unknown = reversed_cols - {c for c, _ in roles}
            if unknown:
                raise SpecError(f"{p}.reverse names {sorted(unknown)[0]!r}, which is not a column of this "
                                f"dimension")
        for col, role in roles:
            self._add_answer(col, role, p, scale, dm, reverse=col in reversed_cols)
        return Dimension(name=dname, perception=perception, scale=scale, expectation=expectation,
                         importance=importance, label=self._label(dm.get("label"), f"{p}.label"), items=items,
                         min_answered=min_answered)

    # questionnaire roles ----------------------------------------------------------------
    def _screen_out(self, value: Any) -> ScreenOut | None:
        if value is None:
            return None
        m = self._mapping(value, "screen_out", {"column", "values"}, {"column", "values"})
        values = self._answer_list(m["values"], "screen_out.values", required=True)
        return ScreenOut(self._column(m["column"], "screen_out.column"), tuple(answer_key(v) for v in values),
                         values)

    def _bands(self, value: Any) -> dict[str, tuple[float, ...]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise SpecError(f"bands must be a mapping of column -> band edges, e.g. {{age: [18, 25, 35]}}, "
                            f"got {_kind(value)}")
        out = {}
        for col, edges in value.items():
            col = self._column(col, "bands")
            if not isinstance(edges, list) or not edges:
                raise SpecError(f"bands.{col} must be a non-empty list of band edges, e.g. [18, 25, 35]")
            nums = [self._number(e, f"bands.{col}[{i}]") for i, e in enumerate(edges)]
            if any(b <= a for a, b in zip(nums, nums[1:])):
                raise SpecError(f"bands.{col} must be increasing, got {edges}")
            out[col] = tuple(float(x) for x in nums)
        return out

    def _multiple_response(self, value: Any) -> tuple[MultipleResponse, ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise SpecError(f"multiple_response must be a mapping of question name -> its columns, got "
                            f"{_kind(value)}")
        out = []
        for name, q in value.items():
            if not isinstance(name, str) or not name.strip():
                raise SpecError(f"multiple_response: {name!r} is not a valid question name")
            p = f"multiple_response.{name}"
            m = self._mapping(q, p, {"column", "delimiter", "columns", "selected", "options", "label"})
            if (m.get("column") is None) == (m.get("columns") is None):
                raise SpecError(f"{p} needs either column (one cell with the chosen options and a delimiter) "
                                f"or columns (one 0/1 column per option)")
            label = self._label(m.get("label"), f"{p}.label")
            options = tuple(str(v) for v in self._answer_list(m.get("options"), f"{p}.options"))
            if m.get("column") is not None:
                if m.get("selected") is not None:
                    raise SpecError(f"{p}.selected applies to option columns (columns), not to one delimited cell")
                delim = m.get("delimiter", ",")
                if not isinstance(delim, str) or not delim:
                    raise SpecError(f"{p}.delimiter must be non-empty text, e.g. ','")
                out.append(MultipleResponse(name, column=self._column(m["column"], f"{p}.column"),
                                            delimiter=delim, options=options, label=label))
            else:
                if m.get("delimiter") is not None:
                    raise SpecError(f"{p}.delimiter applies to one delimited cell (column), not to columns")
                cols = self._columns(m["columns"], f"{p}.columns")
                if len(cols) < 2 or len(set(cols)) != len(cols):
                    raise SpecError(f"{p}.columns must list at least two different columns")
                selected = (tuple(answer_key(v) for v in self._answer_list(m["selected"], f"{p}.selected",
                                                                            required=True))
                            if m.get("selected") is not None else (1.0,))
                if options and len(options) != len(cols):
                    raise SpecError(f"{p}.options must give one label per column ({len(cols)}), got {len(options)}")
                out.append(MultipleResponse(name, columns=cols, selected=selected, options=options or cols,
                                            label=label))
        return tuple(out)

    # the document -------------------------------------------------------------------------
    def spec(self, source: str | None) -> Spec:
        doc = self.doc
        if doc is None:
            raise SpecError("the spec is empty: a questionnaire needs at least name and satisfaction")
        m = self._mapping(doc, "", _TOP_KEYS)
        for key in ("name", "satisfaction"):
            if m.get(key) is None:
                raise SpecError(f"{key} is required (the questionnaire needs name and satisfaction)")
        name = m["name"]
        if not isinstance(name, str) or not name.strip():
            raise SpecError(f"name must be non-empty text, got {_kind(name)}")

        self.codes, _ = self._codes(m.get("codes"), "codes")
        sat = self._item(m["satisfaction"], "satisfaction", top_box=True, binary_ok=True, reverse_ok=True)
        nps = None
        if m.get("nps") is not None:
            nps = self._item(m["nps"], "nps")
            if (nps.scale.low, nps.scale.high) != NPS_SCALE:
                raise SpecError(f"nps.scale must be [0, 10] (promoters 9-10, detractors 0-6), got "
                                f"[{format_number(nps.scale.low)}, {format_number(nps.scale.high)}]")
        loyalty_raw = m.get("loyalty") or []
        if not isinstance(loyalty_raw, list):
            raise SpecError(f"loyalty must be a list of items, got {_kind(loyalty_raw)}")
        loyalty = tuple(self._item(v, f"loyalty[{i}]", binary_ok=True, reverse_ok=True)
                        for i, v in enumerate(loyalty_raw))

        dims_raw = m.get("dimensions") or {}
        if not isinstance(dims_raw, dict):
            raise SpecError(f"dimensions must be a mapping of name -> item, got {_kind(dims_raw)}")
        dims = []
        for dname, dval in dims_raw.items():
            if not isinstance(dname, str) or not dname.strip():
                raise SpecError(f"dimensions: {dname!r} is not a valid dimension name")
            dims.append(self._dimension(dname, dval))

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
        bands = self._bands(m.get("bands"))
        segments = self._columns(m.get("segments"), "segments")
        segments += tuple(c for c in bands if c not in segments)  # a banded column is a segment
        spec = Spec(
            name=name.strip(),
            id=self._column(m["id"], "id") if m.get("id") is not None else None,
            satisfaction=sat,
            wave=self._column(m["wave"], "wave") if m.get("wave") is not None else None,
            weight=self._column(m["weight"], "weight") if m.get("weight") is not None else None,
            segments=segments,
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
            data_source=self._source(m.get("source")),
            codes=self.codes,
            screen_out=self._screen_out(m.get("screen_out")),
            bands=bands,
            multiple_response=self._multiple_response(m.get("multiple_response")),
            answers=tuple(self.answers),
            design=self._design(m.get("design")),
            weighting=self._weighting(m.get("weighting")),
            themes=parse_codeframes(m.get("themes"), self._columns(m.get("text"), "text")),
        )
        self._check_roles(spec)
        self._check_banner(spec)
        self._check_design_roles(spec)
        if spec.quality.min_duration_s is not None and spec.duration is None:
            raise SpecError("quality.min_duration_s needs a duration column (spec key 'duration')")
        spec = self._index_keys(spec, m)
        return spec

    # satisfaction index keys (issue 21) -----------------------------------------------------
    def _bootstrap(self, value: Any, path: str) -> int:
        return 500 if value is None else self._number(value, path, integer=True, low=0, high=100_000)

    def _index_keys(self, spec: Spec, m: Mapping[str, Any]) -> Spec:
        from dataclasses import replace

        index = self._index(m.get("index"), spec) if m.get("index") is not None else None
        model = self._index_model(m.get("index_model"), spec) if m.get("index_model") is not None else None
        return replace(spec, index=index, index_model=model, answers=tuple(self.answers)) if (index or model) else spec

    def _index(self, value: Any, spec: Spec) -> IndexSpec:
        m = self._mapping(value, "index", _INDEX_KEYS, {"weights"})
        how = m["weights"]
        if how not in ("given", "stated", "derived"):
            raise SpecError(f"index.weights must be given, stated or derived, got {_kind(how)}")
        known = {d.name: d for d in spec.dimensions}
        raw = m.get("dimensions")
        given: dict[str, float] = {}
        if how == "given":
            if not isinstance(raw, dict) or not raw:
                raise SpecError("index.dimensions must map each dimension to its weight when index.weights is given")
            for name, weight in raw.items():
                given[str(name)] = self._number(weight, f"index.dimensions.{name}", low=0)
            if sum(given.values()) <= 0:
                raise SpecError("index.dimensions: the weights must not all be 0")
            names = list(given)
        elif raw is None:
            names = list(known)
        elif isinstance(raw, list):
            names = [self._column(v, f"index.dimensions[{i}]") for i, v in enumerate(raw)]
        else:
            raise SpecError(f"index.dimensions must be a list of dimension names with weights: {how}, "
                            f"got {_kind(raw)}")
        for name in names:
            if name not in known:
                raise SpecError(f"index.dimensions: {name!r} is not a dimension of the spec"
                                + (f" (dimensions: {', '.join(known)})" if known else " (the spec has none)"))
            if how == "stated" and known[name].importance is None:
                raise SpecError(f"index.weights is stated, but dimension {name!r} has no importance item "
                                f"(dimensions.{name}.importance)")
        if len(set(names)) != len(names):
            raise SpecError("index.dimensions lists a dimension twice")
        if len(names) < (2 if how == "derived" else 1):
            raise SpecError("index: derived weights need at least two dimensions" if how == "derived"
                            else "index needs at least one dimension")
        return IndexSpec(how, tuple(names), given, self._bootstrap(m.get("bootstrap"), "index.bootstrap"))

    def _index_model(self, value: Any, spec: Spec) -> IndexModelSpec:
        m = self._mapping(value, "index_model", _INDEX_MODEL_KEYS, {"constructs", "paths"})
        default_scale = self._scale(m["scale"], "index_model.scale") if m.get("scale") is not None else None
        rated = {col: sc for col, _, sc in spec.numeric_items()}
        roles = spec.roles()
        raw_constructs = m["constructs"]
        if not isinstance(raw_constructs, dict) or not raw_constructs:
            raise SpecError("index_model.constructs must map each construct to its items")
        constructs: list[Construct] = []
        owner: dict[str, str] = {}
        for name, body in raw_constructs.items():
            p = f"index_model.constructs.{name}"
            if not isinstance(name, str) or not name.strip() or "." in name or name == "csi":
                raise SpecError(f"index_model.constructs: {name!r} is not a valid construct name "
                                f"(non-empty, no '.', not 'csi')")
            if isinstance(body, list):
                body = {"items": body}
            cm = self._mapping(body, p, _CONSTRUCT_KEYS, {"items"})
            items = self._columns(cm["items"], f"{p}.items")
            if not items:
                raise SpecError(f"{p}.items must list at least one column")
            own = self._scale(cm["scale"], f"{p}.scale") if cm.get("scale") is not None else None
            mode = cm.get("mode", "A")
            if mode not in ("A", "B"):
                raise SpecError(f"{p}.mode must be A (reflective) or B (formative), got {_kind(mode)}")
            scales = []
            for col in items:
                if col in owner:
                    raise SpecError(f"{p}: column {col!r} is already an item of construct {owner[col]!r}")
                owner[col] = name
                role = roles.get(col)
                if role in ("id", "wave", "weight", "duration", "segment", "text") or col in spec.pii:
                    raise SpecError(f"{p}: column {col!r} is the {role or 'pii'} column, not a rated item")
                # a column the spec rates elsewhere keeps that scale; the model's scale is for the others
                scale = rated.get(col) or own or default_scale
                if scale is None:
                    raise SpecError(f"{p}: item {col!r} has no scale (give index_model.scale or {p}.scale)")
                if own is not None and scale != own:
                    raise SpecError(f"{p}: item {col!r} is rated on {scale} elsewhere in the spec, not {own}")
                if col not in rated:  # read and range-checked like every other rated column
                    self._add_answer(col, p, f"{p}.items.{col}", scale, {})
                scales.append(scale)
            constructs.append(Construct(name, items, tuple(scales), mode, self._label(cm.get("label"), f"{p}.label")))
        names = [c.name for c in constructs]
        raw_paths = m["paths"]
        if not isinstance(raw_paths, list) or not raw_paths:
            raise SpecError("index_model.paths must be a list of [from, to] pairs")
        paths = []
        for i, pair in enumerate(raw_paths):
            if not isinstance(pair, list) or len(pair) != 2:
                raise SpecError(f"index_model.paths[{i}] must be a pair [from, to], got {_kind(pair)}")
            for end in pair:
                if end not in names:
                    raise SpecError(f"index_model.paths[{i}]: {end!r} is not a construct ({', '.join(map(str, names))})")
            paths.append((pair[0], pair[1]))
        if len(set(paths)) != len(paths):
            raise SpecError("index_model.paths lists a path twice")
        for a, b in paths:
            if a == b:
                raise SpecError(f"index_model.paths: {a} → {b} points to itself")
        cycle = _cycle(names, paths)
        if cycle:
            raise SpecError(f"index_model.paths form a cycle ({' → '.join(cycle)}): the model must be recursive")
        linked = {x for pair in paths for x in pair}
        alone = [n for n in names if n not in linked]
        if alone:
            raise SpecError(f"index_model: construct {alone[0]!r} is on no path")
        scheme = m.get("scheme", "centroid")
        if scheme not in ("centroid", "factorial", "path"):
            raise SpecError(f"index_model.scheme must be centroid, factorial or path, got {_kind(scheme)}")
        scaled = m.get("scaled", False)
        if not isinstance(scaled, bool):
            raise SpecError(f"index_model.scaled must be true or false, got {_kind(scaled)}")
        target = m.get("satisfaction")
        if target is not None and target not in names:
            raise SpecError(f"index_model.satisfaction: {target!r} is not a construct")
        if target is None:
            target = owner.get(spec.satisfaction.column)
        return IndexModelSpec(tuple(constructs), tuple(paths), scheme, scaled, target,
                              self._bootstrap(m.get("bootstrap"), "index_model.bootstrap"))

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
            straightline=self._straightline_mode(m.get("straightline")),
            min_items=(self._number(m["min_items"], "quality.min_items", integer=True, low=2)
                       if m.get("min_items") is not None else None),
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

    def _source(self, value: Any) -> Source:
        """``source: {encoding, delimiter, decimal, sheet, header_row}``."""
        if value is None:
            return Source()
        m = self._mapping(value, "source", {"encoding", "delimiter", "decimal", "sheet", "header_row"})
        encoding = m.get("encoding")
        if encoding is not None:
            if not isinstance(encoding, str) or not encoding.strip():
                raise SpecError(f"source.encoding must be an encoding name such as cp949, got {_kind(encoding)}")
            try:
                info = codecs.lookup(encoding.strip())
            except LookupError:
                raise SpecError(f"source.encoding: unknown encoding {encoding!r} (e.g. utf-8, gb18030, cp949, "
                                f"cp1252, shift_jis, utf-16)") from None
            if not getattr(info, "_is_text_encoding", True):
                raise SpecError(f"source.encoding: {encoding!r} is not a text encoding")
            encoding = encoding.strip()
        delimiter = m.get("delimiter")
        if delimiter is not None:
            delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter) if isinstance(delimiter, str) else delimiter
            if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n" \
                    or not delimiter.isascii() or delimiter.isalnum():
                raise SpecError(f"source.delimiter must be one character such as ',', ';', '|' or tab, got "
                                f"{_kind(delimiter)}")
        decimal = m.get("decimal")
        if decimal is not None and decimal not in (".", ","):
            raise SpecError(f"source.decimal must be '.' or ',', got {_kind(decimal)}")
        if decimal is not None and decimal == delimiter:
            raise SpecError("source.decimal and source.delimiter cannot be the same character")
        sheet = m.get("sheet")
        if sheet is not None:
            if isinstance(sheet, bool) or not isinstance(sheet, (str, int)) or (isinstance(sheet, str) and not sheet.strip()):
                raise SpecError(f"source.sheet must be a sheet name or a position (1 = first), got {_kind(sheet)}")
            if isinstance(sheet, int) and sheet < 1:
                raise SpecError(f"source.sheet counts from 1 (the first sheet), got {sheet}")
        header_row = m.get("header_row")
        if header_row is not None:
            header_row = self._number(header_row, "source.header_row", integer=True, low=1)
        return Source(encoding=encoding, delimiter=delimiter, decimal=decimal, sheet=sheet, header_row=header_row)

    @staticmethod
    def _straightline_mode(value: Any) -> str:
        if value is None:
            return "quarantine"
        if value is False:  # YAML reads a bare `off` as false
            return "off"
        if value not in STRAIGHTLINE_MODES:
            raise SpecError(f"quality.straightline must be one of {', '.join(STRAIGHTLINE_MODES)}, got {_kind(value)}")
        return value
    def _design(self, value: Any) -> Design | None:
        """``design: {strata, psu, fpc, lonely_psu}`` (at least one column)."""
        if value is None:
            return None
        from .stats.survey import LONELY_PSU

        m = self._mapping(value, "design", {"strata", "psu", "fpc", "lonely_psu"})
        cols = {k: self._column(m[k], f"design.{k}") for k in ("strata", "psu", "fpc") if m.get(k) is not None}
        if not cols:
            raise SpecError("design needs at least one of strata, psu or fpc (the columns of the sample design)")
        if len(set(cols.values())) < len(cols):
            raise SpecError("design: strata, psu and fpc must be different columns")
        lonely = m.get("lonely_psu", "fail")
        if lonely not in LONELY_PSU:
            raise SpecError(f"design.lonely_psu must be one of {', '.join(LONELY_PSU)} (R's survey.lonely.psu), "
                            f"got {_kind(lonely)}")
        return Design(cols.get("strata"), cols.get("psu"), cols.get("fpc"), lonely)

    def _weighting(self, value: Any) -> Weighting | None:
        """``weighting: {rake: {COLUMN: {value: share}}, trim: [low, high]}``."""
        if value is None:
            return None
        m = self._mapping(value, "weighting", {"rake", "trim"})
        rake: dict[str, dict[str, float]] = {}
        raw_rake = m.get("rake") or {}
        if not isinstance(raw_rake, dict):
            raise SpecError(f"weighting.rake must be a mapping of column -> {{value: share}}, got {_kind(raw_rake)}")
        for col, shares in raw_rake.items():
            col = self._column(col, "weighting.rake")
            p = f"weighting.rake.{col}"
            if not isinstance(shares, dict) or len(shares) < 2:
                raise SpecError(f"{p} must map at least two values of {col!r} to their population shares")
            out: dict[str, float] = {}
            for v, share in shares.items():
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    raise SpecError(f"{p}: {v!r} is not a value of a column")
                key = format_number(v) if isinstance(v, (int, float)) else str(v)
                if key in out:
                    raise SpecError(f"{p} lists the value {key!r} twice")
                out[key] = self._number(share, f"{p}.{key}", low=0, high=1, low_open=True)
            total = sum(out.values())
            if abs(total - 1) > 0.01:
                raise SpecError(f"{p}: the shares sum to {total:g}, not 1 (give each value's share of the population)")
            rake[col] = {k: v / total for k, v in out.items()}
        trim = None
        if m.get("trim") is not None:
            t = m["trim"]
            if not isinstance(t, list) or len(t) != 2:
                raise SpecError(f"weighting.trim must be [low, high] (ratios to the mean weight), got {_kind(t)}")
            low = self._number(t[0], "weighting.trim[0]", low=0)
            high = self._number(t[1], "weighting.trim[1]", low=0, low_open=True)
            if not (low < 1 < high):
                raise SpecError(f"weighting.trim [{format_number(low)}, {format_number(high)}] must have low < 1 < high "
                                f"(bounds are ratios to the mean weight)")
            trim = (float(low), float(high))
        if not rake and trim is None:
            raise SpecError("weighting needs rake (population shares) or trim")
        return Weighting(rake, trim)

    @staticmethod
    def _check_design_roles(spec: Spec) -> None:
        """Design and raking columns may be segments, never a rated item, the id, weight, text or PII."""
        taken: dict[str, str] = {}
        for col, _item, _scale in spec.numeric_items():
            taken.setdefault(col, "a rated item")
        for col, role in ((spec.id, "the id"), (spec.weight, "the weight"), (spec.wave, "the wave"),
                          (spec.duration, "the duration")):
            if col:
                taken[col] = role
        for col in spec.text:
            taken[col] = "free text"
        for col in spec.pii:
            taken[col] = "PII"
        used = []
        if spec.design:
            used += [(f"design.{k}", getattr(spec.design, k)) for k in ("strata", "psu", "fpc")]
        if spec.weighting:
            used += [(f"weighting.rake.{c}", c) for c in spec.weighting.columns()]
        for path, col in used:
            if col and col in taken:
                raise SpecError(f"{path}: column {col!r} is already {taken[col]}")
        if spec.design and spec.design.fpc and spec.weighting and spec.design.fpc in spec.weighting.rake:
            raise SpecError(f"weighting.rake.{spec.design.fpc}: the fpc column cannot be a raking margin")

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
            for i, col in enumerate(d.items):
                use(col, f"dimensions.{d.name}.items[{i}]")
            if not d.is_composite:
                use(d.perception, f"dimensions.{d.name}.perception")
            use(d.expectation, f"dimensions.{d.name}.expectation")
            use(d.importance, f"dimensions.{d.name}.importance")
        for i, t in enumerate(spec.text):
            use(t, f"text[{i}]")
        for i, p in enumerate(spec.pii):
            use(p, f"pii[{i}]")
        for mr in spec.multiple_response:
            for col in mr.source_columns:
                use(col, f"multiple_response.{mr.name}")
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
        for col in spec.bands:
            if col in spec.categories:
                raise SpecError(f"bands.{col}: a banded column gets its segment labels from its bands; "
                                f"it cannot also have categories")
        if spec.screen_out and uses.get(spec.screen_out.column, ["segments"])[0] not in ("segments", "text"):
            raise SpecError(f"screen_out.column {spec.screen_out.column!r} is already "
                            f"{uses[spec.screen_out.column][0]}; screen respondents out on a question of its own "
                            f"or a segment column")
        if spec.quality.min_items is not None and spec.quality.min_items > len(spec.straightline_columns()):
            raise SpecError(f"quality.min_items {spec.quality.min_items} is more than the "
                            f"{len(spec.straightline_columns())} perception and expectation items")


def _cycle(names: list[str], paths: list[tuple[str, str]]) -> list[str]:
    """A directed cycle of the paths (as a closed list of names), or [] when there is none."""
    succ: dict[str, list[str]] = {n: [] for n in names}
    for a, b in paths:
        succ[a].append(b)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str]:
        state[n] = 1
        stack.append(n)
        for nxt in succ[n]:
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[n] = 2
        stack.pop()
        return []

    for n in names:
        if n not in state:
            found = visit(n)
            if found:
                return found
    return []


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


def spec_keys() -> list[str]:
    """Every top-level key a survey spec may use, sorted (docs/spec-reference.md documents each)."""
    return sorted(_TOP_KEYS)
