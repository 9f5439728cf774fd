"""The survey spec: the YAML contract (docs/spec-reference.md) parsed into typed, immutable objects.

Every stage reads the spec instead of hard-coding column names. Parsing is strict: unknown
keys, wrong types, inverted scales and a column used in two roles are errors that name the
key path (``dimensions.price.scale``) so a researcher can fix the file without reading code.

Here: reading the YAML (:func:`load_spec`, duplicate keys refused, only true/false are booleans)
and :func:`parse_spec`. The objects live in :mod:`.answers` (scales, codes, items, dimensions)
and :mod:`.model` (:class:`Spec` and its sections); the checks in :mod:`.values` (single
values), :mod:`.options` (optional sections) and :mod:`.sections` (the walk over a document).
Every public name imports from ``csatlib.spec``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError
from .answers import (CODE_KINDS, COMPOSITE_PREFIX, NPS_SCALE, Answer, Codes, Dimension, Item, MultipleResponse,
                      Scale, ScreenOut, answer_key, composite_column, format_number)
from .model import Banner, Construct, Design, IndexModelSpec, IndexSpec, Quality, Source, Spec, Weighting
from .sections import SpecParser
from .values import TOP_KEYS

__all__ = ["Scale", "Item", "Dimension", "Quality", "Source", "Spec", "load_spec", "parse_spec", "Banner",
           "IndexSpec", "Construct", "IndexModelSpec", "Codes", "Answer", "ScreenOut", "MultipleResponse",
           "answer_key", "CODE_KINDS", "COMPOSITE_PREFIX", "composite_column", "Design", "Weighting", "spec_keys",
           "format_number", "NPS_SCALE"]


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
        return SpecParser(doc).spec(source)
    except SpecError as exc:
        raise SpecError(f"{where}{exc}") from None


def spec_keys() -> list[str]:
    """Every top-level key a survey spec may use, sorted (docs/spec-reference.md documents each)."""
    return sorted(TOP_KEYS)
