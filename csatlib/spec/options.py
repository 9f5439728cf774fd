"""Checking the optional sections of a spec: the satisfaction index and its model, quality
rules, banner tables, the file's source, the sampling design and weighting, and the rules that
tie roles together."""
from __future__ import annotations

import codecs
from typing import Any, Mapping


from ..errors import SpecError
from .answers import format_number
from .model import BANNER_CORRECTIONS, Banner, Construct, Design, IndexModelSpec, IndexSpec, Quality, Source, Spec, Weighting
from .values import BANNER_KEYS, CONSTRUCT_KEYS, INDEX_KEYS, INDEX_MODEL_KEYS, QUALITY_KEYS, STRAIGHTLINE_MODES, ValueParser, find_cycle, kind_of


__all__ = ['OptionParser']

class OptionParser(ValueParser):
    """The optional sections of a spec (see :class:`csatlib.spec.sections.SpecParser`)."""

    def _bootstrap(self, value: Any, path: str) -> int:
        return 500 if value is None else self._number(value, path, integer=True, low=0, high=100_000)

    def _index_keys(self, spec: Spec, m: Mapping[str, Any]) -> Spec:
        from dataclasses import replace

        index = self._index(m.get("index"), spec) if m.get("index") is not None else None
        model = self._index_model(m.get("index_model"), spec) if m.get("index_model") is not None else None
        return replace(spec, index=index, index_model=model, answers=tuple(self.answers)) if (index or model) else spec

    def _index(self, value: Any, spec: Spec) -> IndexSpec:
        m = self._mapping(value, "index", INDEX_KEYS, {"weights"})
        how = m["weights"]
        if how not in ("given", "stated", "derived"):
            raise SpecError(f"index.weights must be given, stated or derived, got {kind_of(how)}")
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
                            f"got {kind_of(raw)}")
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
        m = self._mapping(value, "index_model", INDEX_MODEL_KEYS, {"constructs", "paths"})
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
            cm = self._mapping(body, p, CONSTRUCT_KEYS, {"items"})
            items = self._columns(cm["items"], f"{p}.items")
            if not items:
                raise SpecError(f"{p}.items must list at least one column")
            own = self._scale(cm["scale"], f"{p}.scale") if cm.get("scale") is not None else None
            mode = cm.get("mode", "A")
            if mode not in ("A", "B"):
                raise SpecError(f"{p}.mode must be A (reflective) or B (formative), got {kind_of(mode)}")
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
                raise SpecError(f"index_model.paths[{i}] must be a pair [from, to], got {kind_of(pair)}")
            for end in pair:
                if end not in names:
                    raise SpecError(f"index_model.paths[{i}]: {end!r} is not a construct ({', '.join(map(str, names))})")
            paths.append((pair[0], pair[1]))
        if len(set(paths)) != len(paths):
            raise SpecError("index_model.paths lists a path twice")
        for a, b in paths:
            if a == b:
                raise SpecError(f"index_model.paths: {a} → {b} points to itself")
        cycle = find_cycle(names, paths)
        if cycle:
            raise SpecError(f"index_model.paths form a cycle ({' → '.join(cycle)}): the model must be recursive")
        linked = {x for pair in paths for x in pair}
        alone = [n for n in names if n not in linked]
        if alone:
            raise SpecError(f"index_model: construct {alone[0]!r} is on no path")
        scheme = m.get("scheme", "centroid")
        if scheme not in ("centroid", "factorial", "path"):
            raise SpecError(f"index_model.scheme must be centroid, factorial or path, got {kind_of(scheme)}")
        scaled = m.get("scaled", False)
        if not isinstance(scaled, bool):
            raise SpecError(f"index_model.scaled must be true or false, got {kind_of(scaled)}")
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
        m = self._mapping(value, "quality", QUALITY_KEYS)
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
        m = self._mapping(value, "banner", BANNER_KEYS)
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
                                f"got {kind_of(m['correction'])}")
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
                raise SpecError(f"source.encoding must be an encoding name such as cp949, got {kind_of(encoding)}")
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
                                f"{kind_of(delimiter)}")
        decimal = m.get("decimal")
        if decimal is not None and decimal not in (".", ","):
            raise SpecError(f"source.decimal must be '.' or ',', got {kind_of(decimal)}")
        if decimal is not None and decimal == delimiter:
            raise SpecError("source.decimal and source.delimiter cannot be the same character")
        sheet = m.get("sheet")
        if sheet is not None:
            if isinstance(sheet, bool) or not isinstance(sheet, (str, int)) or (isinstance(sheet, str) and not sheet.strip()):
                raise SpecError(f"source.sheet must be a sheet name or a position (1 = first), got {kind_of(sheet)}")
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
            raise SpecError(f"quality.straightline must be one of {', '.join(STRAIGHTLINE_MODES)}, got {kind_of(value)}")
        return value
    def _design(self, value: Any) -> Design | None:
        """``design: {strata, psu, fpc, lonely_psu}`` (at least one column)."""
        if value is None:
            return None
        from ..stats.survey import LONELY_PSU

        m = self._mapping(value, "design", {"strata", "psu", "fpc", "lonely_psu"})
        cols = {k: self._column(m[k], f"design.{k}") for k in ("strata", "psu", "fpc") if m.get(k) is not None}
        if not cols:
            raise SpecError("design needs at least one of strata, psu or fpc (the columns of the sample design)")
        if len(set(cols.values())) < len(cols):
            raise SpecError("design: strata, psu and fpc must be different columns")
        lonely = m.get("lonely_psu", "fail")
        if lonely not in LONELY_PSU:
            raise SpecError(f"design.lonely_psu must be one of {', '.join(LONELY_PSU)} (R's survey.lonely.psu), "
                            f"got {kind_of(lonely)}")
        return Design(cols.get("strata"), cols.get("psu"), cols.get("fpc"), lonely)

    def _weighting(self, value: Any) -> Weighting | None:
        """``weighting: {rake: {COLUMN: {value: share}}, trim: [low, high]}``."""
        if value is None:
            return None
        m = self._mapping(value, "weighting", {"rake", "trim"})
        rake: dict[str, dict[str, float]] = {}
        raw_rake = m.get("rake") or {}
        if not isinstance(raw_rake, dict):
            raise SpecError(f"weighting.rake must be a mapping of column -> {{value: share}}, got {kind_of(raw_rake)}")
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
                raise SpecError(f"weighting.trim must be [low, high] (ratios to the mean weight), got {kind_of(t)}")
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
