"""Reader-facing names: spec labels first, else a humanised column or dimension name.

A report is read by people who never saw the data file: ``price_value`` becomes the spec's
``label:`` ("Price / value 性价比") or, without one, "Price value". Everything here is read
from the spec stored in the results (``results.provenance.spec``), so a report rendered from
an old results.json names things exactly as the run that made it did.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..results import Results

__all__ = ["humanise", "Labels"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def humanise(name: Any) -> str:
    """A readable name for a column or dimension name.

    Underscores, dashes and camelCase become spaces and the first letter is capitalised;
    names in other scripts (Chinese, Korean) are left as they are.

    Examples
    --------
    >>> humanise("price_value"), humanise("overallSat"), humanise("清洁")
    ('Price value', 'Overall sat', '清洁')
    """
    text = str(name).strip()
    if not text:
        return text
    spaced = _CAMEL.sub(" ", text.replace("_", " ").replace("-", " "))
    spaced = re.sub(r"\s+", " ", spaced).strip()
    words = [w if (len(w) > 1 and w.isupper()) else w.lower() for w in spaced.split(" ")]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float

    def __str__(self) -> str:
        return f"{_num(self.low)}–{_num(self.high)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class Labels:
    """Names and answer scales of a run's items, dimensions and segments, from its spec.

    Works from the spec mapping stored in results.json; anything the spec does not say falls
    back to a humanised name, so unknown estimates from newer analyses still get a name.
    """

    def __init__(self, results: Results):
        spec = results.provenance.spec or {}
        self.spec: dict[str, Any] = spec if isinstance(spec, dict) else {}
        self._items: dict[str, dict[str, Any]] = {}
        for key in ("satisfaction", "nps"):
            item = self.spec.get(key)
            if isinstance(item, dict) and item.get("column") is not None:
                self._items[str(item["column"])] = item
        for item in self.spec.get("loyalty") or []:
            if isinstance(item, dict) and item.get("column") is not None:
                self._items[str(item["column"])] = item
        dims = self.spec.get("dimensions") or {}
        self._dims: dict[str, dict[str, Any]] = {str(k): v for k, v in dims.items() if isinstance(v, dict)} \
            if isinstance(dims, dict) else {}

    # names -------------------------------------------------------------------------------
    def dimension(self, name: str) -> str:
        d = self._dims.get(str(name)) or {}
        return str(d["label"]) if d.get("label") else humanise(name)

    def item(self, column: str) -> str:
        it = self._items.get(str(column)) or {}
        return str(it["label"]) if it.get("label") else humanise(column)

    def segment(self, column: str) -> str:
        """A segment column's name (the spec has no label key for segments: humanised)."""
        return humanise(column)

    @property
    def satisfaction(self) -> str:
        sat = self.spec.get("satisfaction") or {}
        return str(sat["label"]) if isinstance(sat, dict) and sat.get("label") else "Overall satisfaction"

    @property
    def dimensions(self) -> list[str]:
        return list(self._dims)

    @property
    def segments(self) -> list[str]:
        seg = self.spec.get("segments") or []
        return [str(s) for s in ([seg] if isinstance(seg, str) else seg)]

    def categories(self, column: str) -> list[str]:
        cats = (self.spec.get("categories") or {}).get(column) or []
        return [str(c) for c in cats]

    def kpi(self, id: str) -> str:
        """The name of an estimate id as a reader sees it."""
        if id == "satisfaction.score":
            return "Satisfaction score"
        if id == "satisfaction.index":
            return "Satisfaction index (0–100)"
        if id == "satisfaction.rate":
            return "Satisfaction rate"
        if id == "nps":
            return "NPS"
        parts = id.split(".")
        if len(parts) == 3 and parts[0] == "loyalty" and parts[2] == "score":
            return self.item(parts[1])
        if len(parts) == 3 and parts[0] == "dimension" and parts[2] == "score":
            return self.dimension(parts[1])
        if len(parts) == 2 and parts[0] in ("gap", "driver"):
            return self.dimension(parts[1])
        return humanise(id.replace(".", " "))

    def kpi_note(self, id: str) -> str:
        """What the number is, in a few words (``mean on 1–10``)."""
        sat = self.spec.get("satisfaction") or {}
        if id == "satisfaction.score":
            scale = self.scale(id)
            return f"mean of {self.satisfaction} on {scale}" if scale else "mean"
        if id == "satisfaction.rate":
            top, scale = sat.get("top_box"), self.scale("satisfaction.score")
            return (f"share answering {_num(top)}–{_num(scale.high)}" if top is not None and scale
                    else "share in the top box")
        if id == "nps":
            return "% promoters (9–10) − % detractors (0–6)"
        if id == "satisfaction.index":
            return "the score rescaled to 0–100"
        scale = self.scale(id)
        return f"mean on {scale}" if scale else ""

    # scales ------------------------------------------------------------------------------
    def scale(self, id: str) -> _Scale | None:
        """The answer scale of a mean estimate (``satisfaction.score``, ``loyalty.<c>.score``,
        ``dimension.<d>.score``), or None."""
        parts = id.split(".")
        raw = None
        if id in ("satisfaction.score",):
            raw = (self.spec.get("satisfaction") or {}).get("scale")
        elif len(parts) == 3 and parts[0] == "loyalty":
            raw = (self._items.get(parts[1]) or {}).get("scale")
        elif len(parts) >= 2 and parts[0] in ("dimension", "gap", "driver"):
            raw = (self._dims.get(parts[1]) or {}).get("scale")
        try:
            low, high = float(raw[0]), float(raw[1])
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        return _Scale(low, high) if low < high else None

    def dimension_scale(self, name: str) -> _Scale | None:
        return self.scale(f"dimension.{name}.score")
