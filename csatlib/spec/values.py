"""Checking the values of a spec document: the allowed keys of each section and the checks of
single values (mappings, columns, numbers, scales, items, answer codes), with the key path of
the first problem."""
from __future__ import annotations

import math
from typing import Any


from ..errors import SpecError
from .answers import CODE_KINDS, Answer, Codes, Item, Scale, answer_key, format_number


__all__ = ['TOP_KEYS', 'BANNER_KEYS', 'INDEX_KEYS', 'INDEX_MODEL_KEYS', 'CONSTRUCT_KEYS', 'QUALITY_KEYS', 'ANSWER_KEYS', 'BINARY_KEYS', 'DIMENSION_KEYS', 'STRAIGHTLINE_MODES', 'ValueParser', 'find_cycle', 'join_path', 'kind_of']

TOP_KEYS = {"name", "id", "wave", "weight", "segments", "categories", "satisfaction", "nps", "loyalty",
            "dimensions", "text", "pii", "duration", "quality", "banner", "themes", "index", "index_model",
            "source", "design", "weighting", "codes", "screen_out", "bands", "multiple_response"}
BANNER_KEYS = {"columns", "confidence", "correction"}
INDEX_KEYS = {"weights", "dimensions", "bootstrap"}
INDEX_MODEL_KEYS = {"constructs", "paths", "scale", "scheme", "scaled", "satisfaction", "bootstrap"}
CONSTRUCT_KEYS = {"items", "scale", "mode", "label"}
QUALITY_KEYS = {"min_duration_s", "max_straightline_share", "min_base", "max_quarantine_share", "straightline",
                "min_items"}
# questionnaire roles and answer codes (answers that are not ratings, labels, outcome types)
ANSWER_KEYS = {"values", "codes"}
BINARY_KEYS = {"type", "positive", "negative"}
DIMENSION_KEYS = {"perception", "items", "expectation", "importance", "scale", "label", "values", "codes",
                  "reverse", "min_answered"}
STRAIGHTLINE_MODES = ("quarantine", "flag", "off")


class ValueParser:
    """The checks every part of a spec needs (mappings, columns, numbers, scales, items, answer
    codes and labels), each raising SpecError with the key path of the first problem."""

    def __init__(self, doc: Any):
        self.doc = doc
        self.codes = Codes()
        self.answers: list[Answer] = []

    # generic checks ---------------------------------------------------------------------
    @staticmethod
    def _mapping(value: Any, path: str, allowed: set[str], required: set[str] = frozenset()):
        if not isinstance(value, dict):
            raise SpecError(f"{path or 'the spec'} must be a mapping, got {kind_of(value)}")
        for key in value:
            if not isinstance(key, str):
                raise SpecError(f"{join_path(path, str(key))}: keys must be text")
            if key not in allowed:
                raise SpecError(f"unknown key {join_path(path, key)!r} (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required):
            if key not in value or value[key] is None:
                raise SpecError(f"{join_path(path, key)} is required")
        return value

    @staticmethod
    def _column(value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
            raise SpecError(f"{path} must be a column name, got {kind_of(value)}")
        return str(value)

    def _columns(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            raise SpecError(f"{path} must be a list of column names, got {kind_of(value)}")
        return tuple(self._column(v, f"{path}[{i}]") for i, v in enumerate(value))

    @staticmethod
    def _number(value: Any, path: str, *, integer: bool = False, low=None, high=None,
                low_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{path} must be a number, got {kind_of(value)}")
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
            raise SpecError(f"{path} must be a list [low, high], got {kind_of(value)}")
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
            raise SpecError(f"{path} must be text, got {kind_of(value)}")
        return value

    def _item(self, value: Any, path: str, *, top_box: bool = False, binary_ok: bool = False,
              reverse_ok: bool = False) -> Item:
        allowed = {"column", "scale", "label"} | ANSWER_KEYS | ({"top_box"} if top_box else set())
        allowed |= (BINARY_KEYS if binary_ok else set()) | ({"reverse"} if reverse_ok else set())
        m = self._mapping(value, path, allowed, {"column"})
        column = self._column(m["column"], f"{path}.column")
        label = self._label(m.get("label"), f"{path}.label")
        kind = m.get("type", "interval")
        if kind not in ("interval", "binary"):
            raise SpecError(f"{path}.type must be 'interval' or 'binary', got {kind_of(kind)}")
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
        for key in BINARY_KEYS - {"type"}:
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
            raise SpecError(f"{path} must be true or false, got {kind_of(value)}")
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
                raise SpecError(f"{path}[{i}] must be a number or a text label, got {kind_of(v)} "
                                f"(write the label in quotes, e.g. 'Yes')")
            if not isinstance(v, (str, int, float)) or answer_key(v) is None:
                raise SpecError(f"{path}[{i}] must be a number or a text label, got {kind_of(v)}")
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
                            f"got {kind_of(value)}")
        code_numbers = {k for k in codes.lookup() if isinstance(k, float)}
        out: dict[float | str, float] = {}
        for label, code in value.items():
            if not isinstance(label, str) and isinstance(code, str):
                raise SpecError(f"{path}: {label!r}: {code!r} is the wrong way round; values map a label to "
                                f"its code, e.g. {{{code}: {label}}}")
            key = answer_key(label) if isinstance(label, str) else None
            if not isinstance(label, str) or key is None or isinstance(key, float):
                raise SpecError(f"{path}: a value label must be text that is not a number, got {kind_of(label)}")
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


def find_cycle(names: list[str], paths: list[tuple[str, str]]) -> list[str]:
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


def join_path(path: str, key: str) -> str:
    """The key path of ``key`` inside ``path`` (``dimensions.price`` + ``scale``)."""
    return f"{path}.{key}" if path else key


def kind_of(value: Any) -> str:
    """What a wrong value is, for an error message: ``a number (3)``, ``text ('x')``, ``a list``..."""
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
