"""Multiple-response questions: the share of respondents choosing each option.

A question is stored either as one cell holding the chosen options joined by a delimiter
(``"kiosk, app"``) or as one column per option marking it chosen (``1``/``0``, ``Yes``/``No``).
The base of a question is the respondents who answered it: a non-blank cell (one delimited
cell), or at least one non-blank option column. A cell that is a survey-wide answer code
(``"Don't know"``) is a non-substantive answer and leaves the base. Options are compared ignoring
case and spaces and shown as first written (or as the spec's ``options``). Shares of one question
may sum to more than 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import row_weights
from ..results import MultipleResponseShares
from ..spec import MultipleResponse, Spec, answer_key
from ..stats.estimators import weighted_mean, wilson_interval

__all__ = ["multiple_response_shares", "chosen_options"]


def chosen_options(frame: pd.DataFrame, question: MultipleResponse, codes: dict) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``(chosen, options, base)``: a rows × options 0/1 matrix, the option labels and the rows
    that answered the question. ``codes``: answer keys that are non-substantive answers."""
    n = len(frame)
    if question.column:
        cells, uniques = pd.factorize(frame[question.column], use_na_sentinel=True)
        order: dict = {answer_key(o): o for o in question.options}
        parsed = []
        for u in uniques:
            key = answer_key(u)
            if key is None or key in codes:
                parsed.append(None)
                continue
            tokens = [t.strip() for t in str(u).split(question.delimiter)]
            keys = []
            for t in tokens:
                k = answer_key(t)
                if k is None:
                    continue
                order.setdefault(k, t)
                keys.append(k)
            parsed.append(keys)
        options = list(order)
        col_of = {k: j for j, k in enumerate(options)}
        lut = np.zeros((len(uniques) + 1, len(options)), dtype=float)
        answered = np.zeros(len(uniques) + 1, dtype=bool)
        for i, keys in enumerate(parsed):
            if keys is None:
                continue
            answered[i] = True
            for k in keys:
                lut[i, col_of[k]] = 1.0
        return lut[cells], [str(order[k]) for k in options], answered[cells]
    chosen = np.zeros((n, len(question.columns)), dtype=float)
    base = np.zeros(n, dtype=bool)
    for j, col in enumerate(question.columns):
        cells, uniques = pd.factorize(frame[col], use_na_sentinel=True)
        keys = [answer_key(u) for u in uniques]
        sel = np.array([k in question.selected for k in keys] + [False])
        given = np.array([k is not None and k not in codes for k in keys] + [False])
        chosen[:, j] = sel[cells]
        base |= given[cells]
    return chosen, list(question.options), base


def multiple_response_shares(frame: pd.DataFrame, spec: Spec) -> MultipleResponseShares | None:
    """Share of respondents choosing each option of every multiple-response question.

    Parameters
    ----------
    frame : DataFrame
        Clean rows.
    spec : Spec

    Returns
    -------
    MultipleResponseShares, or None when the spec has no multiple-response question.

    Examples
    --------
    >>> # R: svymean(~I(grepl("app", types)), subset(design, types != ""))
    """
    if not spec.multiple_response:
        return None
    w_all = row_weights(frame, spec)
    codes = spec.codes.lookup()
    rows = []
    for q in spec.multiple_response:
        chosen, options, base = chosen_options(frame, q, codes)
        ok = base & np.isfinite(w_all) & (w_all > 0)
        for j, option in enumerate(options):
            m = weighted_mean(chosen[ok, j], w_all[ok])
            lo, hi = wilson_interval(m.mean, m.n_eff) if m.n else (None, None)
            rows.append({"question": q.name, "label": q.title, "option": option, "chosen": int(chosen[ok, j].sum()),
                         "base": int(ok.sum()), "share": m.mean if m.n else None, "ci_low": lo, "ci_high": hi,
                         "n_eff": m.n_eff})
    return MultipleResponseShares(pd.DataFrame(rows), spec.weight is not None)
