"""Walking a spec document into a :class:`~csatlib.spec.model.Spec`: the questionnaire's items
and dimensions, screen-outs, bands and multiple-response questions, then every optional section."""
from __future__ import annotations

import json
import math
from typing import Any


from ..codeframe import parse_codeframes
from ..errors import SpecError
from .answers import NPS_SCALE, Dimension, MultipleResponse, ScreenOut, answer_key, composite_column, format_number
from .model import Spec
from .values import DIMENSION_KEYS, TOP_KEYS, kind_of

from .options import OptionParser

__all__ = ['SpecParser']

class SpecParser(OptionParser):
    """Walks the YAML document, raising SpecError with the key path of the first problem."""

    def _dimension(self, dname: str, dval: Any) -> Dimension:
        p = f"dimensions.{dname}"
        dm = self._mapping(dval, p, DIMENSION_KEYS, {"scale"})
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
                            f"got {kind_of(value)}")
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
                            f"{kind_of(value)}")
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
        m = self._mapping(doc, "", TOP_KEYS)
        for key in ("name", "satisfaction"):
            if m.get(key) is None:
                raise SpecError(f"{key} is required (the questionnaire needs name and satisfaction)")
        name = m["name"]
        if not isinstance(name, str) or not name.strip():
            raise SpecError(f"name must be non-empty text, got {kind_of(name)}")

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
            raise SpecError(f"loyalty must be a list of items, got {kind_of(loyalty_raw)}")
        loyalty = tuple(self._item(v, f"loyalty[{i}]", binary_ok=True, reverse_ok=True)
                        for i, v in enumerate(loyalty_raw))

        dims_raw = m.get("dimensions") or {}
        if not isinstance(dims_raw, dict):
            raise SpecError(f"dimensions must be a mapping of name -> item, got {kind_of(dims_raw)}")
        dims = []
        for dname, dval in dims_raw.items():
            if not isinstance(dname, str) or not dname.strip():
                raise SpecError(f"dimensions: {dname!r} is not a valid dimension name")
            dims.append(self._dimension(dname, dval))

        cats_raw = m.get("categories") or {}
        if not isinstance(cats_raw, dict):
            raise SpecError(f"categories must be a mapping of column -> allowed values, got {kind_of(cats_raw)}")
        categories: dict[str, tuple[str, ...]] = {}
        for col, values in cats_raw.items():
            col = self._column(col, "categories")
            if not isinstance(values, list) or not values:
                raise SpecError(f"categories.{col} must be a non-empty list of allowed values")
            vals = []
            for i, v in enumerate(values):
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    raise SpecError(f"categories.{col}[{i}] must be text or a number, got {kind_of(v)}")
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
