"""The sentences validation writes: one short reason per failing cell (quarantine.csv's
``_reasons``) and one per failed table-level expectation (what blocked the run)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .suite import READ_SUFFIX, RESPONDENT_SUFFIX, TEXT_SUFFIX
from ..output import to_jsonable
from ..spec import Spec, format_number

__all__ = ["row_reason", "dedupe_reasons", "blocking_sentence"]


def _show(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "missing"
    if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
        return format_number(float(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    text = str(v)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def row_reason(check: str, kind: str, column: str | None, kwargs: dict, value: Any, spec: Spec, wave: str) -> str:
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


def dedupe_reasons(parts: list[tuple[tuple[str, str | None], str]]):
    """Drop repeated reasons (a row can fail two expectations that say the same thing)."""
    return list(dict.fromkeys(parts))


def blocking_sentence(check, column, res, kwargs, spec: Spec, wave: str, n: int) -> str:
    """One sentence saying why a failed table-level expectation blocks the run (``res``: GX's result
    dict, ``n``: rows validated)."""
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
