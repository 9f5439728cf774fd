"""Validate a loaded wave with Great Expectations: quarantine bad rows, block bad tables.

GX does the checking. Validation only prepares the frame GX sees (numbers coerced, the raw
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

This module runs the checks (:func:`validate_wave`); the frame GX sees is built in
:mod:`.prepare`, the reason sentences in :mod:`.reasons`, and the result with its files in
:mod:`.result` (their public names are importable from here too).
"""
from __future__ import annotations

import copy
import logging
import math
import os
import warnings
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from .distinct import validate_on_distinct_values
from .prepare import summary_rows, validation_frame
from .reasons import blocking_sentence, dedupe_reasons, row_reason
from .result import (CHECK_LABELS, FLAG_LABELS, REASONS_COLUMN, ROW_COLUMN, ExpectationOutcome, ValidationResult,
                     write_validation)
from .suite import MIN_CLEAN_PARAMETER, READ_SUFFIX, TEXT_SUFFIX, WAVE_PARAMETER
from ..frame import DERIVED_PREFIX
from ..ingest.load import Wave
from ..ingest.recode import AnswerView, analysis_numbers, band_labels, screened_rows
from ..spec import Spec

__all__ = ["ExpectationOutcome", "ValidationResult", "validate_wave", "validation_frame", "REASONS_COLUMN",
           "ROW_COLUMN", "write_validation", "summary_rows", "CHECK_LABELS", "FLAG_LABELS", "gx_validate"]

NOT_RESPONDENT = ("summary_row", "header_row")  # a row that is no respondent: its other reasons are moot


def _numeric_columns(spec: Spec) -> list[str]:
    cols = list(dict.fromkeys(a.column for a in spec.answers))
    cols += [c for c in (spec.weight, spec.duration) if c]
    return cols


def gx_validate(df: pd.DataFrame, suite: dict[str, Any], parameters: dict[str, Any]):
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
    n = len(frame)
    # GX checks each column's distinct values for the cell-by-cell expectations (a rating has a
    # handful) and the rows only for the rest, each time seeing only the columns named
    results = validate_on_distinct_values(
        vframe, on_rows, lambda df, ex: gx_validate(df, {**suite, "expectations": ex}, {WAVE_PARAMETER: [wave_label]})
    ) if n else []

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
            cells = [None] * len(idx) if values is None else values.loc[idx].tolist()
            said: dict = {}  # one sentence per distinct failing value
            for i, value in zip(idx, cells):
                key = ("missing", None) if _is_missing(value) else (type(value).__name__, value)
                if key not in said:
                    said[key] = row_reason(check, cfg.type, column, kwargs, value, spec, wave_label)
                reasons.setdefault(i, []).append((tag, said[key]))
        outcomes.append(_outcome(meta, cfg, kwargs, column, level, check, bool(r.success),
                                 res.get("unexpected_count"), res.get("unexpected_percent"),
                                 res.get("observed_value")))
        if level == "table" and not r.success:
            blocking.append(blocking_sentence(check, column, res, kwargs, spec, wave_label, n))

    bad = frame.index.isin(list(reasons))
    # clean rows hold the analysis values: the ratings read for GX (one reading per run),
    # reversed items recoded, banded columns as their band labels; the other columns as loaded
    # (each column copied once: at a million rows the clean frame is built at the run's peak)
    numeric = [c for c in _numeric_columns(spec) if c in vframe.columns]
    columns = {}
    keep = ~bad
    if numeric:
        values = pd.DataFrame({c: vframe[c].to_numpy(dtype="float64")[keep] for c in numeric},
                              index=frame.index[keep], copy=False)
        rated = [c for c in values.columns if c in {a.column for a in spec.answers}]
        values = pd.concat([analysis_numbers(values[rated], spec), values.drop(columns=rated)], axis=1)
        columns = {col: values[col] for col in numeric}
    vframe = None  # done with: freed before the clean rows are copied
    clean = pd.DataFrame({col: columns[col] if col in columns else frame[col].loc[keep] for col in frame.columns},
                         index=frame.index[keep], copy=False)
    for col, edges in spec.bands.items():
        clean[col] = band_labels(clean[col], edges)
    quarantine = wave.as_read(frame.index[bad])  # every cell exactly as read: text in, text out
    for i in quarantine.index:
        reasons[i] = dedupe_reasons(reasons[i])
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
    clean_results = gx_validate(pd.DataFrame({"row": np.flatnonzero(~bad)}, index=clean.index),
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
            blocking.append(blocking_sentence(check, None, res, kwargs, spec, wave_label, n))
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


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


