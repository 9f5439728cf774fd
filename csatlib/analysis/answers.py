"""Non-substantive answers: how often each rated question was answered "not applicable",
"don't know" or "refused" (or with a value the file declares missing), and each item's base.

These answers are legitimate: they leave only the analyses that need the item, and the report
shows their share per item so a reader sees what each base excludes. Counts are of clean rows
(unweighted): this is a description of the answers, not an estimate about the population.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import CODE_KINDS, KIND_CODES, code_column
from ..results import NonSubstantive
from ..spec import Spec

__all__ = ["nonsubstantive_answers"]


def nonsubstantive_answers(frame: pd.DataFrame, spec: Spec) -> NonSubstantive | None:
    """Per rated column: rows, blanks, answers, ratings (the base) and each non-substantive kind.

    Parameters
    ----------
    frame : DataFrame
        Clean rows (analysis values, with the loader's ``_csat_code_<column>`` columns).
    spec : Spec

    Returns
    -------
    NonSubstantive, or None when no rated column can hold a code (the spec declares none and the
    file declares no missing values).

    Examples
    --------
    >>> # R: table(factor(x, levels = c(1:5, 0, 98, 99)), useNA = "ifany") on the clean rows
    """
    rows = []
    n = len(frame)
    for a in spec.answers:
        col = a.column
        if col not in frame.columns or any(r["column"] == col for r in rows):
            continue
        rated = frame[col].notna().to_numpy()
        has_codes = code_column(col) in frame.columns
        kinds = frame[code_column(col)].to_numpy() if has_codes else np.zeros(n, dtype=np.int8)
        blank = ~rated & (kinds == 0)
        answered = int(n - blank.sum())
        row = {"column": col, "role": a.role, "rows": n, "blank": int(blank.sum()), "answered": answered,
               "substantive": int(rated.sum()), "codes_declared": bool(a.codes) or has_codes}
        for kind in CODE_KINDS:
            count = int((kinds == KIND_CODES[kind]).sum())
            row[kind] = count
            row[f"{kind}_share"] = count / answered if answered else None
        row["substantive_share"] = row["substantive"] / answered if answered else None
        rows.append(row)
    if not rows or not any(r["codes_declared"] for r in rows):
        return None
    return NonSubstantive(pd.DataFrame(rows))
