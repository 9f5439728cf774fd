"""Build, store and reconcile the Great Expectations suite of a survey spec.

The suite is generated from the spec (docs/validation.md) and stored as GX 1.x JSON beside the
spec, in ``<spec folder>/expectations/<spec name>.json``, with sorted keys, so a diff shows what changed. Each generated
expectation carries ``meta.csat`` (its key, level and check, and a fingerprint of the kwargs it
was generated with). That lets :func:`ensure_suite` rebuild the suite when the spec changes
while keeping expectations a user added or edited by hand, and say on stderr what changed.

GX is imported lazily: ``csat --help`` and stages that do not validate never pay for it.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..frame import HEADER_ROW, STRAIGHTLINE
from ..output import atomic_write_text
from ..spec import Spec

__all__ = ["build_suite", "suite_path", "default_suite_dir", "ensure_suite", "write_suite", "read_suite", "SuiteUpdate",
           "text_column", "read_column", "NUMBER_REGEX", "WAVE_PARAMETER", "MIN_CLEAN_PARAMETER", "GENERATOR_VERSION",
           "SUMMARY_REGEX", "respondent_column"]

# 2: answer codes and value labels read before validation, binary items, composites' items,
#    bands, summary and repeated header rows, straight-lining quarantine | flag | off
GENERATOR_VERSION = 2
NUMBER_REGEX = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
WAVE_PARAMETER = "wave_labels"
MIN_CLEAN_PARAMETER = "min_clean_rows"
TEXT_SUFFIX = " [as text]"
READ_SUFFIX = " [as read]"
RESPONDENT_SUFFIX = " [respondents]"
SUMMARY_REGEX = (r"(?i)^\s*(grand\s*total|sub-?\s*totals?|totals?|sum|average|avg\.?|mean|median|count|"
                 r"std\.?(\s*dev\.?)?|standard\s+deviation|合计|合計|總計|总计|小计|小計|总和|平均(值|数|分)?|均值|"
                 r"中位数|标准差|합계|총계|소계|평균|중앙값|표준편차)\s*[:：]?\s*$")
MAX_WEIGHT = 1.7976931348623157e308  # largest float: infinite weights fail the range check


def read_column(column: str) -> str:
    """Name of the validation column holding a rated column's values exactly as read."""
    return f"{column}{READ_SUFFIX}"


def respondent_column(column: str) -> str:
    """Name of the validation column holding the id of rows that are not summary or header rows
    (the column the duplicate-id check reads, so repeated header rows do not count as duplicates)."""
    return f"{column}{RESPONDENT_SUFFIX}"


def text_column(column: str) -> str:
    """Name of the validation column holding the raw text of answers not read as numbers."""
    return f"{column}{TEXT_SUFFIX}"


def _expectation(kind: str, key: str, level: str, check: str, **kwargs) -> dict[str, Any]:
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    fp = _kwargs_fingerprint(kwargs)
    return {"type": kind, "kwargs": kwargs,
            "meta": {"csat": {"key": key, "level": level, "check": check, "fingerprint": fp}},
            "severity": "critical" if level == "table" else "warning"}


def _kwargs_fingerprint(kwargs: dict[str, Any]) -> str:
    blob = json.dumps(kwargs, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def generated_expectations(spec: Spec) -> list[dict[str, Any]]:
    """The expectations the validation rules (docs/validation.md) derive from a spec, as GX JSON dicts."""
    ex: list[dict[str, Any]] = []
    add = ex.append
    q = spec.quality
    # columns exist (table-level: a missing column cannot be validated row by row)
    for col in spec.required_columns():
        add(_expectation("expect_column_to_exist", f"exists:{col}", "table", "column_exists", column=col))
    # required answers
    if spec.id:
        add(_expectation("expect_column_values_to_not_be_null", f"required:{spec.id}", "row", "required",
                         column=spec.id))
    add(_expectation("expect_column_values_to_not_be_null", f"required:{spec.satisfaction.column}", "row",
                     "required", column=read_column(spec.satisfaction.column)))
    # rated answers: ratings on their scale; anything that is no rating, label or code is quarantined
    seen: set[str] = set()
    for a in spec.answers:
        if a.column in seen:
            continue
        seen.add(a.column)
        col = a.column
        if a.binary:
            e = _expectation("expect_column_values_to_be_null", f"binary:{col}", "row", "binary",
                             column=text_column(col))
            e["meta"]["csat"]["positive"] = [_show_key(k) for k in a.positive]
            e["meta"]["csat"]["negative"] = (None if a.negative is None else [_show_key(k) for k in a.negative])
            add(_annotate(e, a))
            continue
        check = "label" if a.values else "numeric"
        add(_annotate(_expectation("expect_column_values_to_match_regex", f"numeric:{col}", "row", check,
                                   column=text_column(col), regex=NUMBER_REGEX), a))
        add(_annotate(_expectation("expect_column_values_to_be_between", f"scale:{col}", "row", "scale",
                                   column=col, min_value=a.scale.low, max_value=a.scale.high), a))
    for col in spec.bands:
        add(_expectation("expect_column_values_to_match_regex", f"numeric:{col}", "row", "numeric",
                         column=text_column(col), regex=NUMBER_REGEX))
    # rows that are not respondents: totals/averages below the data, repeated header rows
    for col in [c for c in (spec.id, *spec.segments) if c and c not in spec.bands]:
        add(_expectation("expect_column_values_to_not_match_regex", f"summary_row:{col}", "row", "summary_row",
                         column=col, regex=SUMMARY_REGEX))
    add(_expectation("expect_column_values_to_be_in_set", "header_row", "row", "header_row", column=HEADER_ROW,
                     value_set=[False]))
    if spec.weight:
        w = spec.weight
        add(_expectation("expect_column_values_to_match_regex", f"numeric:{w}", "row", "numeric",
                         column=text_column(w), regex=NUMBER_REGEX))
        add(_expectation("expect_column_values_to_not_be_null", f"required:{w}", "row", "weight",
                         column=read_column(w)))
        add(_expectation("expect_column_values_to_be_between", f"weight:{w}", "row", "weight", column=w,
                         min_value=0, max_value=MAX_WEIGHT, strict_min=True))
    for col, allowed in spec.categories.items():
        add(_expectation("expect_column_values_to_be_in_set", f"category:{col}", "row", "category",
                         column=col, value_set=list(allowed)))
    if spec.duration and q.min_duration_s is not None:
        add(_expectation("expect_column_values_to_be_between", f"speeder:{spec.duration}", "row", "speeder",
                         column=spec.duration, min_value=q.min_duration_s))
    if len(spec.straightline_columns()) >= 3 and q.straightline != "off":
        # "flag": the rows are counted in the data-quality record and stay in the analyses
        add(_expectation("expect_column_values_to_be_in_set", "straightline", "flag" if q.straightline == "flag"
                         else "row", "straightline", column=STRAIGHTLINE, value_set=[False]))
        add(_expectation("expect_column_values_to_be_in_set", "straightline_share", "table",
                         "straightline_share", column=STRAIGHTLINE, value_set=[False],
                         mostly=round(1.0 - q.max_straightline_share, 10)))
    # table-level (blocking)
    if spec.id:
        add(_expectation("expect_column_values_to_be_unique", f"unique:{spec.id}", "table", "unique_id",
                         column=respondent_column(spec.id)))
    if spec.wave:
        add(_expectation("expect_column_values_to_be_in_set", f"wave:{spec.wave}", "table", "wave",
                         column=spec.wave, value_set={"$PARAMETER": WAVE_PARAMETER}))
    clean = [
        _expectation("expect_table_row_count_to_be_between", "min_base", "table", "min_base",
                     min_value=q.min_base),
        _expectation("expect_table_row_count_to_be_between", "quarantine_share", "table",
                     "quarantine_share", min_value={"$PARAMETER": MIN_CLEAN_PARAMETER}),
    ]
    for c in clean:  # these run on the clean rows, after quarantine
        c["meta"]["csat"]["on"] = "clean"
    return ex + clean


def _show_key(key: Any) -> Any:
    return int(key) if isinstance(key, float) and key.is_integer() else key


def _annotate(e: dict[str, Any], answer) -> dict[str, Any]:
    """Record on a rated column's expectation what was read before validation: its answer codes
    (excluded, never quarantined) and value labels (mapped to their codes)."""
    if answer.codes:
        e["meta"]["csat"]["codes"] = answer.codes.to_dict()
    if answer.values:
        e["meta"]["csat"]["values"] = {str(k): _show_key(v) for k, v in answer.values.items()}
    if answer.reverse:
        e["meta"]["csat"]["reverse"] = True
    return e


def build_suite(spec: Spec) -> dict[str, Any]:
    """The spec's expectation suite as a GX 1.x suite dict (``ExpectationSuite(**d)`` restores it)."""
    return {
        "name": spec.name,
        "id": None,
        "expectations": generated_expectations(spec),
        "meta": {"csat": {"spec_fingerprint": spec.fingerprint(), "generator": GENERATOR_VERSION,
                          "builder_fingerprint": _builder_fingerprint(spec),
                          "note": "Generated by `csat expectations` from the survey spec. Hand edits "
                                  "(an extra expectation, a tighter range) are kept when the spec changes."}},
        "notes": None,
    }


def _builder_fingerprint(spec: Spec) -> str:
    """A hash of what this version of the builder generates for ``spec``: it changes when the
    builder changes, even for the same spec, so a suite from an older builder is rebuilt."""
    generated = [{"type": e["type"], "kwargs": e["kwargs"], "csat": e["meta"]["csat"]}
                 for e in generated_expectations(spec)]
    return _kwargs_fingerprint({"generated": generated})


def default_suite_dir(spec: Spec) -> Path:
    """Where a spec's suite is stored by default: ``expectations/`` beside the spec file.

    Never relative to the working directory, so the same data and spec validate the same way
    from any folder. A spec built in memory (no file) has no default folder.
    """
    if not spec.source:
        raise SpecError("a spec built in memory has no folder for its expectation suite; pass one explicitly")
    return Path(spec.source).resolve().parent / "expectations"


def suite_path(spec: Spec, root: str | Path | None = None) -> Path:
    """``<root>/<spec name>.json`` (the name made safe for a file system); ``root`` defaults to
    :func:`default_suite_dir`."""
    root = default_suite_dir(spec) if root is None else root
    safe = "".join(ch if (ch.isalnum() or ch in "-_.") else "_" for ch in spec.name).strip("._") or "survey"
    return Path(root) / f"{safe}.json"


def to_json(suite: dict[str, Any]) -> str:
    return json.dumps(suite, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_suite(suite: dict[str, Any], path: str | Path) -> Path:
    """Write a suite atomically (temp file + rename; the temp file is removed if writing fails)."""
    return atomic_write_text(path, to_json(suite))


def read_suite(path: str | Path) -> dict[str, Any]:
    """Read a stored suite and check it is a GX 1.x suite GX itself accepts."""
    path = Path(path)
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError(f"{path}: cannot read expectation suite ({exc})") from None
    if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list):
        raise SpecError(f"{path}: not a Great Expectations suite (no 'expectations' list)")
    from great_expectations.core import ExpectationSuite

    try:
        ExpectationSuite(**copy.deepcopy(suite))  # GX mutates the dict it is given
    except Exception as exc:  # GX raises pydantic/marshmallow errors of many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(f"{path}: invalid expectation suite: {first[:200]}") from None
    return suite


@dataclass
class SuiteUpdate:
    """What :func:`ensure_suite` did: the suite in force and human-readable change notes."""

    suite: dict[str, Any]
    path: Path
    action: str  # "created", "unchanged", "rebuilt"
    changes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.action == "unchanged":
            return f"{self.path}: up to date"
        head = f"{self.path}: {self.action}"
        return head + (": " + "; ".join(self.changes) if self.changes else "")


def _csat_meta(e: dict[str, Any]) -> dict[str, Any]:
    return ((e.get("meta") or {}).get("csat") or {}) if isinstance(e.get("meta"), dict) else {}


def _is_hand_edited(e: dict[str, Any]) -> bool:
    meta = _csat_meta(e)
    return "fingerprint" not in meta or meta["fingerprint"] != _kwargs_fingerprint(e.get("kwargs", {}))


def reconcile(stored: dict[str, Any], spec: Spec) -> tuple[dict[str, Any], list[str]]:
    """Rebuild ``stored`` for ``spec``, keeping hand-added and hand-edited expectations.

    Returns the new suite and a list of change notes (added / removed / kept hand edits).
    """
    fresh = build_suite(spec)
    old_by_key = {(_csat_meta(e).get("key")): e for e in stored.get("expectations", []) if _csat_meta(e).get("key")}
    new_keys = {_csat_meta(e)["key"] for e in fresh["expectations"]}
    changes: list[str] = []
    merged = []
    for e in fresh["expectations"]:
        key = _csat_meta(e)["key"]
        old = old_by_key.get(key)
        if old is None:
            changes.append(f"added {key}")
            merged.append(e)
        elif _is_hand_edited(old):
            changes.append(f"kept hand-edited {key}")
            merged.append(old)
        else:
            if old.get("kwargs") != e.get("kwargs"):
                changes.append(f"changed {key}")
            merged.append(e)
    for key, old in old_by_key.items():
        if key not in new_keys and not _is_hand_edited(old):
            changes.append(f"removed {key}")
    for e in stored.get("expectations", []):
        if not _csat_meta(e).get("key"):
            merged.append(e)
            changes.append(f"kept hand-added {e.get('type')}({e.get('kwargs', {}).get('column', '')})")
        elif _csat_meta(e)["key"] not in new_keys and _is_hand_edited(e):
            merged.append(e)
            changes.append(f"kept hand-edited {_csat_meta(e)['key']}")
    fresh["expectations"] = merged
    for k in ("notes",):
        if stored.get(k):
            fresh[k] = stored[k]
    return fresh, changes


def ensure_suite(spec: Spec, root: str | Path | None = None) -> SuiteUpdate:
    """Load the stored suite of ``spec``, creating or rebuilding it when the spec changed.

    A stored suite whose spec fingerprint matches is used exactly as stored, hand edits included.
    """
    path = suite_path(spec, root)
    if not path.exists():
        suite = build_suite(spec)
        write_suite(suite, path)
        return SuiteUpdate(suite, path, "created", [f"{len(suite['expectations'])} expectations"])
    stored = read_suite(path)
    meta = _csat_meta(stored)
    spec_same = meta.get("spec_fingerprint") == spec.fingerprint()
    builder_same = (meta.get("generator") == GENERATOR_VERSION
                    and meta.get("builder_fingerprint") == _builder_fingerprint(spec))
    if spec_same and builder_same:
        return SuiteUpdate(stored, path, "unchanged")
    why = ("the spec and the suite builder changed" if not (spec_same or builder_same)
           else "the spec changed" if not spec_same else "the suite builder of this csatlib version changed")
    suite, changes = reconcile(stored, spec)
    write_suite(suite, path)
    return SuiteUpdate(suite, path, f"rebuilt ({why})", changes or ["no expectation changed"])
