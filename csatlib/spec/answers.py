"""Answers and items of a questionnaire: scales, answer codes and labels, items, dimensions."""
from __future__ import annotations

import math
import numbers
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping



__all__ = ['NPS_SCALE', 'CODE_KINDS', 'COMPOSITE_PREFIX', 'composite_column', 'answer_key', 'Codes', 'Answer', 'ScreenOut', 'MultipleResponse', 'Scale', 'Item', 'Dimension', 'format_number']

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


def format_number(x: float) -> str:
    """A scale point as the spec and the report write it: ``5``, ``2.5``."""
    return str(int(x)) if float(x).is_integer() else str(x)
