"""Validate a loaded wave with Great Expectations: quarantine bad rows, block bad tables.

GX does the checking. This module only prepares the frame GX sees (numbers coerced, the raw
text of non-numeric answers beside them), reads back the unexpected index lists, turns them into
one reason string per row, and writes validation.json and quarantine.csv.

Row-level expectations quarantine rows and the run goes on; table-level ones block it (exit 1).
The clean-base and quarantine-share checks run on the clean rows after quarantine.

Before GX sees a rated column, its answers are read (:mod:`csatlib.ingest.recode`): value labels
become codes and answer codes (not applicable, don't know, refused, SPSS user-missing values) are
set apart, so they are never a quarantine reason; what is left unread is quarantined. Respondents
screened out by ``screen_out`` are set aside before validation and counted apart: rows read =
clean + quarantined + screened out. Expectations of level ``flag`` (``quality.straightline:
flag``) count rows without quarantining them.
"""
from __future__ import annotations

import copy
import logging
import math
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .suite import (MIN_CLEAN_PARAMETER, READ_SUFFIX, RESPONDENT_SUFFIX, SUMMARY_REGEX, TEXT_SUFFIX, WAVE_PARAMETER,
                    read_column, respondent_column, text_column)
from ..frame import DERIVED_PREFIX, HEADER_ROW
from ..ingest.load import Wave
from ..ingest.recode import AnswerView, FileMissing, analysis_numbers, answer_view, band_labels, band_numbers, \
    screened_rows
from ..output import atomic_write_json, atomic_write_text, to_jsonable
from ..spec import Spec, format_number, answer_key

__all__ = ["ExpectationOutcome", "ValidationResult", "validate_wave", "validation_frame", "REASONS_COLUMN",
           "ROW_COLUMN"]

REASONS_COLUMN = "_reasons"
ROW_COLUMN = "_row"  # quarantine.csv of a file without an id column: the row's number in the data, from 1
NOT_RESPONDENT = ("summary_row", "header_row")  # a row that is no respondent: its other reasons are moot
CHECK_LABELS = {"scale": "answer outside its scale", "numeric": "answer is not a number",
                "required": "required answer missing", "weight": "weight missing or not > 0",
                "category": "category not allowed", "speeder": "speeder (interview too short)",
                "straightline": "straight-liner (same answer to every item)",
                "unique_id": "duplicate id", "wave": "wrong wave label", "custom": "custom expectation",
                "label": "answer is not a number or a listed label",
                "binary": "answer is neither a positive nor a negative answer",
                "summary_row": "summary row (total, average), not a respondent",
                "header_row": "repeated header row"}
FLAG_LABELS = {"straightline": "straight-liner (same answer to every item), flagged and kept"}


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, as validation.json lists it."""

    key: str
    type: str
    column: str | None
    level: str  # "row" (quarantine) or "table" (blocking)
    check: str
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: Any = None
    kwargs: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type, "column": self.column, "severity": self.level,
                "check": self.check, "success": self.success, "unexpected_count": self.unexpected_count,
                "unexpected_percent": self.unexpected_percent, "observed_value": to_jsonable(self.observed_value),
                "kwargs": to_jsonable(self.kwargs)}


@dataclass
class ValidationResult:
    """The outcome of validating one wave.

    Attributes
    ----------
    clean : DataFrame
        Rows that passed every row-level expectation (with derived columns).
    quarantine : DataFrame
        Rejected rows as read (PII dropped, text redacted) plus ``_reasons``.
    outcomes : list of ExpectationOutcome
    blocking : list of str
        One sentence per failed table-level expectation; empty when the wave may be analysed.
    """

    wave: str
    rows_read: int
    clean: pd.DataFrame
    quarantine: pd.DataFrame
    outcomes: list[ExpectationOutcome]
    blocking: list[str]
    suite_name: str
    suite_path: str | None = None
    reason_tally: Counter = field(default_factory=Counter)
    reading: dict = field(default_factory=dict)  # how the file was read (Wave.reading), incl. normalised cells
    screened_out: pd.DataFrame | None = None
    flags: Counter = field(default_factory=Counter)

    @property
    def rows_clean(self) -> int:
        return len(self.clean)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def rows_screened_out(self) -> int:
        return 0 if self.screened_out is None else len(self.screened_out)

    @property
    def rows(self) -> dict[str, int]:
        """The row accounting: ``read == clean + quarantined + screened_out``."""
        return {"read": self.rows_read, "clean": self.rows_clean, "quarantined": self.rows_quarantined,
                "screened_out": self.rows_screened_out}

    def flagged(self) -> list[dict[str, Any]]:
        """Rows counted by ``flag`` expectations (kept in the analyses), e.g. flagged straight-liners."""
        return [{"flag": FLAG_LABELS.get(check, check), "check": check, "rows": int(count)}
                for check, count in sorted(self.flags.items())]

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)

    def reason_counts(self) -> pd.DataFrame:
        """Rows per reason (check and column); a row with two reasons counts under both."""
        rows = [{"reason": CHECK_LABELS.get(check, check), "column": column, "rows": count}
                for (check, column), count in self.reason_tally.items()]
        frame = pd.DataFrame(rows, columns=["reason", "column", "rows"])
        return frame.sort_values(["rows", "reason"], ascending=[False, True], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "suite": self.suite_name,
            "suite_path": self.suite_path,
            "success": not self.blocked,
            "rows": self.rows,
            "blocking_failures": list(self.blocking),
            "reasons": self.reason_counts().to_dict(orient="records"),
            "flagged": self.flagged(),
            "expectations": [o.to_dict() for o in self.outcomes],
            "input": self.reading,
        }

    def __repr__(self) -> str:
        state = "BLOCKED: " + "; ".join(self.blocking) if self.blocked else "passed"
        screened = f", screened_out={self.rows_screened_out}" if self.rows_screened_out else ""
        return (f"ValidationResult(wave={self.wave!r}, read={self.rows_read}, clean={self.rows_clean}, "
                f"quarantined={self.rows_quarantined}{screened}, {state})")


def _numeric_columns(spec: Spec) -> list[str]:
    cols = list(dict.fromkeys(a.column for a in spec.answers))
    cols += [c for c in (spec.weight, spec.duration) if c]
    return cols


def validation_frame(frame: pd.DataFrame, spec: Spec, answers: AnswerView | None = None,
                     declared: dict[str, FileMissing] | None = None) -> pd.DataFrame:
    """The frame GX validates.

    * each rated column as its ratings (value labels mapped to codes, answer codes set apart:
      missing), the cells that are no rating, label or code in ``<column> [as text]``, and the
      column as read (blanks missing) in ``<column> [as read]``;
    * weight and duration as numbers (weight also as text and as read);
    * a banded column's non-numeric text in ``<column> [as text]``;
    * the id of respondent rows (not summary or repeated header rows) in ``<id> [respondents]``;
    * every other column as read, labels as text.

    ``answers``: the rated columns already read (``Wave.answers``); else they are read here
    with ``declared`` (what the file declares missing).
    """
    view = answers if answers is not None else answer_view(frame, spec, declared)
    cols: dict[str, pd.Series] = {}
    no_text = pd.Series(pd.NA, index=frame.index, dtype="string")
    for col in view.numbers.columns:
        raw = frame[col]
        num = view.numbers[col]
        unknown = view.unknown.get(col)
        kinds = view.kinds.get(col)
        blank = num.isna().to_numpy().copy()
        if unknown is not None:
            blank &= ~unknown
        if kinds is not None:
            blank &= kinds == 0
        cols[read_column(col)] = raw.mask(blank) if blank.any() else raw
        cols[col] = num
        cols[text_column(col)] = (raw.where(unknown).astype("string") if unknown is not None else no_text)
    if spec.weight:
        raw = frame[spec.weight]
        cols[read_column(spec.weight)] = raw
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            cols[spec.weight] = raw.astype("float64")
            cols[text_column(spec.weight)] = no_text
        else:
            num = pd.to_numeric(raw, errors="coerce").astype("float64")
            cols[spec.weight] = num
            cols[text_column(spec.weight)] = raw.where(num.isna() & raw.notna()).astype("string")
    if spec.duration:
        cols[spec.duration] = pd.to_numeric(frame[spec.duration], errors="coerce").astype("float64")
    text_codes = {k for k in spec.codes.lookup() if isinstance(k, str)}
    for col in spec.bands:
        raw = frame[col]
        nums = band_numbers(raw)
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        ok = np.array([answer_key(u) is None or answer_key(u) in text_codes for u in uniques] + [True])
        cols[text_column(col)] = raw.where(np.isnan(nums) & ~ok[codes]).astype("string")
    # rows that are no respondent (repeated headers, totals) are quarantined with that reason; the
    # table-level checks (duplicate ids, wave label) look at respondents only
    not_respondent = (frame[HEADER_ROW].to_numpy(bool) if HEADER_ROW in frame.columns
                      else np.zeros(len(frame), bool)).copy()
    for col in [c for c in (spec.id, *spec.segments) if c and c not in spec.bands and c in frame.columns]:
        not_respondent |= summary_rows(frame[col])
    if spec.id:
        cols[respondent_column(spec.id)] = frame[spec.id].mask(not_respondent)
    for col in frame.columns:
        if col not in cols:
            cols[col] = frame[col]
    out = pd.DataFrame(cols, index=frame.index)
    if spec.wave:
        out[spec.wave] = frame[spec.wave].astype("string").mask(not_respondent)
    return out


def summary_rows(values: pd.Series) -> np.ndarray:
    """Cells that mark a summary row (``Total``, ``Average``, ``合计`` ...: the suite's
    ``SUMMARY_REGEX``), matched by Arrow's RE2 engine (an id column has a value per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype("string[pyarrow]"))
    hit = pc.match_substring_regex(arr, SUMMARY_REGEX.removeprefix("(?i)"), ignore_case=True)
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _gx_validate(df: pd.DataFrame, suite: dict[str, Any], parameters: dict[str, Any]):
    """Validate ``df`` against ``suite`` on an ephemeral GX context; return GX's results list."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.core import ExpectationSuite
        from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    try:
        context.enable_analytics(False)
    except Exception:  # older 1.x releases lack the switch; the env variable covers them
        pass
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_def = (context.data_sources.add_pandas("csat").add_dataframe_asset("wave")
                 .add_batch_definition_whole_dataframe("whole"))
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # deepcopy: GX mutates the dict it is given
        res = batch.validate(ExpectationSuite(**copy.deepcopy(suite)), result_format="COMPLETE",
                             expectation_parameters=parameters)
    return res.results


def _meta(cfg) -> dict[str, Any]:
    meta = cfg.meta or {}
    return meta.get("csat", {}) if isinstance(meta, dict) else {}


def validate_wave(wave: Wave, wave_label: str, suite: dict[str, Any]) -> ValidationResult:
    """Validate a loaded wave against an expectation suite.

    Parameters
    ----------
    wave : Wave
        From :func:`csatlib.read_wave`.
    wave_label : str
        The ``--wave`` label; with a spec ``wave`` column every row must carry it.
    suite : dict
        A GX 1.x suite dict, usually ``ensure_suite(spec).suite``.

    Returns
    -------
    ValidationResult
        Row accounting always holds: ``rows_read == rows_clean + rows_quarantined + rows_screened_out``.
    """
    spec, full = wave.spec, wave.frame
    screened = screened_rows(full, spec.screen_out)
    frame = full.loc[~screened] if screened.any() else full
    answers = wave.answers
    if answers is not None and not answers.numbers.index.equals(full.index):
        answers = None  # the frame was changed after loading: read its answers again
    if answers is not None and screened.any():
        answers = AnswerView(answers.numbers.loc[~screened], {k: v[~screened] for k, v in answers.kinds.items()},
                             {k: v[~screened] for k, v in answers.unknown.items()})
    on_clean = [e for e in suite["expectations"] if ((e.get("meta") or {}).get("csat") or {}).get("on") == "clean"]
    on_rows = [e for e in suite["expectations"] if e not in on_clean]
    vframe = validation_frame(frame, spec, answers, wave.declared)
    # GX hashes, and copies on every filter, each column of the frame it is given: give it only
    # the columns some expectation names (a suite without column expectations gets them all)
    named = {e.get("kwargs", {}).get("column") for e in on_rows} - {None}
    if named and all(c in vframe.columns for c in named) and not any(
            e["type"].startswith("expect_table_column") for e in on_rows):
        vframe = vframe[[c for c in vframe.columns if c in named or c in _numeric_columns(spec)]]
    n = len(frame)
    results = _gx_validate(vframe, {**suite, "expectations": on_rows}, {WAVE_PARAMETER: [wave_label]}) if n else []

    reasons: dict[Any, list] = {}
    tally: Counter = Counter()
    flags: Counter = Counter()
    outcomes: list[ExpectationOutcome] = []
    blocking: list[str] = []
    for r in _in_suite_order(results, on_rows):
        cfg = r.expectation_config
        meta = _meta(cfg)
        kwargs = _plain_kwargs(cfg)
        column = kwargs.get("column")
        idx = r.result.get("unexpected_index_list") if r.result else None
        check = meta.get("check", "custom")
        level = meta.get("level") or ("row" if idx is not None else "table")
        if r.exception_info and r.exception_info.get("raised_exception"):
            msg = (r.exception_info.get("exception_message") or "error").splitlines()[0]
            blocking.append(f"{cfg.type}({column or ''}) could not run: {msg[:160]}")
            outcomes.append(_outcome(meta, cfg, kwargs, column, "table", check, False, None, None, None))
            continue
        res = r.result or {}
        if level == "flag":
            flags[check] += int(res.get("unexpected_count") or 0)
        elif idx and check != "straightline_share":  # the share check blocks; the row check quarantines
            values = vframe[column] if column in vframe.columns else None
            shown = column.removesuffix(TEXT_SUFFIX).removesuffix(READ_SUFFIX) if column else None
            shown = None if shown and shown.startswith(DERIVED_PREFIX) else shown
            tag = (check if check in CHECK_LABELS else "custom", shown)
            for i in idx:
                text = _reason(check, cfg.type, column, kwargs, _value(values, i), spec, wave_label)
                reasons.setdefault(i, []).append((tag, text))
        outcomes.append(_outcome(meta, cfg, kwargs, column, level, check, bool(r.success),
                                 res.get("unexpected_count"), res.get("unexpected_percent"),
                                 res.get("observed_value")))
        if level == "table" and not r.success:
            blocking.append(_blocking_sentence(check, column, res, kwargs, spec, wave_label, n))

    bad = frame.index.isin(list(reasons))
    clean = frame.loc[~bad].copy()
    # clean rows hold the analysis values: the ratings read for GX (one reading per run),
    # reversed items recoded, banded columns as their band labels
    numeric = [c for c in _numeric_columns(spec) if c in vframe.columns]
    if numeric:
        values = vframe.loc[~bad, numeric]
        rated = [c for c in values.columns if c in {a.column for a in spec.answers}]
        values = pd.concat([analysis_numbers(values[rated], spec), values.drop(columns=rated)], axis=1)
        for col in numeric:
            clean[col] = values[col].astype("float64")
    for col, edges in spec.bands.items():
        clean[col] = band_labels(clean[col], edges)
    quarantine = wave.as_read(frame.index[bad])  # every cell exactly as read: text in, text out
    for i in quarantine.index:
        reasons[i] = _dedupe_reasons(reasons[i])
        if any(tag[0] in NOT_RESPONDENT for tag, _ in reasons[i]):
            reasons[i] = [(tag, text) for tag, text in reasons[i] if tag[0] in NOT_RESPONDENT]
        tally.update(tag for tag, _ in reasons[i])
    if not spec.id:  # no id column: the row's number in the data says which row it is
        quarantine.insert(0, ROW_COLUMN, (np.flatnonzero(np.asarray(bad)) if not screened.any()
                                          else full.index.get_indexer(quarantine.index)) + 1)
    quarantine[REASONS_COLUMN] = ["; ".join(text for _, text in reasons[i]) for i in quarantine.index]

    # table-level checks on the clean rows (clean base, quarantined share)
    min_clean = math.ceil(n * (1 - spec.quality.max_quarantine_share) - 1e-9) if n else 0
    # the clean-row checks count rows: one narrow column is all GX needs to see
    clean_results = _gx_validate(pd.DataFrame({"row": np.flatnonzero(~bad)}, index=clean.index),
                                 {**suite, "expectations": on_clean}, {MIN_CLEAN_PARAMETER: min_clean}) \
        if on_clean else []
    for r in _in_suite_order(clean_results, on_clean):
        cfg, meta, res = r.expectation_config, _meta(r.expectation_config), (r.result or {})
        kwargs = _plain_kwargs(cfg)
        if isinstance(kwargs.get("min_value"), dict):
            kwargs["min_value"] = min_clean
        check = meta.get("check", "custom")
        outcomes.append(_outcome(meta, cfg, kwargs, None, "table", check, bool(r.success), None, None,
                                 res.get("observed_value")))
        if not r.success:
            blocking.append(_blocking_sentence(check, None, res, kwargs, spec, wave_label, n))
    screened_frame = wave.as_read(full.index[np.asarray(screened, dtype=bool)])  # as read, like quarantine
    return ValidationResult(wave=wave_label, rows_read=len(full), clean=clean, quarantine=quarantine,
                            outcomes=outcomes, blocking=blocking, suite_name=suite.get("name", spec.name),
                            reason_tally=tally, reading=wave.reading(), screened_out=screened_frame, flags=flags)


def _in_suite_order(results, expectations):
    """GX returns results in no fixed order; put them back in suite order."""
    order = {}
    for i, e in enumerate(expectations):
        order.setdefault((e["type"], _freeze(e.get("kwargs", {}))), i)

    def key(r):
        cfg = r.expectation_config
        return order.get((cfg.type, _freeze(_plain_kwargs(cfg))), len(order))

    return sorted(results, key=key)


def _plain_kwargs(cfg) -> dict:
    """An expectation's own kwargs, without what GX adds at run time."""
    return {k: v for k, v in dict(cfg.kwargs).items() if k not in ("result_format", "catch_exceptions", "batch_id")}


def _freeze(obj):
    if isinstance(obj, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(v) for v in obj)
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    return obj


def _outcome(meta, cfg, kwargs, column, level, check, success, count, pct, observed) -> ExpectationOutcome:
    return ExpectationOutcome(key=meta.get("key", f"{cfg.type}:{column or ''}"), type=cfg.type, column=column,
                              level=level, check=check, success=success,
                              unexpected_count=None if count is None else int(count),
                              unexpected_percent=None if pct is None else round(float(pct), 4),
                              observed_value=observed, kwargs=kwargs)


def _value(values: pd.Series | None, i: int) -> Any:
    if values is None:
        return None
    return values.loc[i]


def _show(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "missing"
    if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
        return format_number(float(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    text = str(v)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def _reason(check: str, kind: str, column: str | None, kwargs: dict, value: Any, spec: Spec, wave: str) -> str:
    """One short, human-readable reason for one failing cell."""
    col = column or "row"
    if check == "scale":
        return f"{col}: {_show(value)} outside {format_number(kwargs['min_value'])}-{format_number(kwargs['max_value'])}"
    if check == "numeric":
        return f"{col.removesuffix(TEXT_SUFFIX)}: {_show(value)} is not a number"
    if check == "label":
        return f"{col.removesuffix(TEXT_SUFFIX)}: {_show(value)} is not a number or a listed answer label"
    if check == "binary":
        return f"{col.removesuffix(TEXT_SUFFIX)}: {_show(value)} is neither a positive nor a negative answer"
    if check == "summary_row":
        return f"{col}: {_show(value)} marks a summary row (total, average), not a respondent"
    if check == "header_row":
        return "repeated header row (the cells hold the column names)"
    if check == "required":
        return f"{col.removesuffix(READ_SUFFIX)}: missing"
    if check == "weight":
        shown = _show(value)
        name = col.removesuffix(READ_SUFFIX)
        return f"{name}: weight missing" if shown == "missing" else f"{name}: weight {shown} is not a positive finite number"
    if check == "category":
        return f"{col}: {_show(value)} not in allowed values"
    if check == "speeder":
        return f"speeder: {_show(value)}s < {format_number(kwargs['min_value'])}s"
    if check == "straightline":
        if spec.quality.min_items is not None:
            return (f"straight-liner: same answer to every answered item (at least {spec.quality.min_items} of "
                    f"{len(spec.straightline_columns())})")
        return f"straight-liner: same answer to all {len(spec.straightline_columns())} items"
    if check == "unique_id":
        return f"{col.removesuffix(RESPONDENT_SUFFIX)}: duplicate id {_show(value)}"
    if check == "wave":
        return f"{col}: wave {_show(value)} is not {wave!r}"
    return f"{col}: {_show(value)} fails {kind}"


def _dedupe_reasons(parts: list[tuple[tuple[str, str | None], str]]):
    """Drop repeated reasons (a row can fail two expectations that say the same thing)."""
    return list(dict.fromkeys(parts))


def _blocking_sentence(check, column, res, kwargs, spec: Spec, wave: str, n: int) -> str:
    count = res.get("unexpected_count")
    if check == "unique_id":
        return f"{count} rows share an id with another row ({(column or '').removesuffix(RESPONDENT_SUFFIX)})"
    if check == "wave":
        return f"{count} rows carry a wave label other than {wave!r} ({column})"
    if check == "min_base":
        return f"only {res.get('observed_value')} clean rows, fewer than min_base {kwargs.get('min_value')}"
    if check == "quarantine_share":
        clean = res.get("observed_value") or 0
        share = (n - clean) / n if n else 0
        return (f"{n - clean} of {n} rows quarantined ({share:.1%}), above max_quarantine_share "
                f"{spec.quality.max_quarantine_share:.0%}")
    if check == "straightline_share":
        return (f"{count} straight-liners ({res.get('unexpected_percent', 0):.1f}%), above "
                f"max_straightline_share {spec.quality.max_straightline_share:.0%}")
    if check == "column_exists":
        return f"column {column!r} is missing"
    return f"{check}: {column or 'table'} failed (observed {to_jsonable(res.get('observed_value'))})"


def write_validation(result: ValidationResult, folder: str | Path, extra: dict | None = None) -> tuple[Path, Path]:
    """Write validation.json and quarantine.csv (UTF-8 with BOM, for Excel) atomically."""
    folder = Path(folder)
    doc = result.to_dict()
    if extra:
        doc.update(extra)
    vpath = atomic_write_json(folder / "validation.json", doc)
    qpath = atomic_write_text(folder / "quarantine.csv", _as_read(result.quarantine).to_csv(index=False),
                              encoding="utf-8-sig")
    return vpath, qpath


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows for quarantine.csv: whole numbers that pandas read as floats (a numeric
    column with blanks) are written as they were in the file (``4``, not ``4.0``)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s):
            whole = s.notna() & np.isfinite(s) & (s == np.round(s))
            if whole.any():
                text = s.astype(object).where(s.notna(), None)
                text[whole] = s[whole].astype("int64").astype(str)
                out[col] = text
    return out
