"""The building blocks of every result: one :class:`Estimate`, and the table helpers of result objects."""
from __future__ import annotations

import html
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from ..output import to_jsonable

__all__ = ['Estimate', 'as_frame', 'as_records', 'TableRepr']


@dataclass(frozen=True)
class Estimate:
    """One estimate as results.json stores it.

    ``segment`` is None for the total, else ``{column: value}``. Suppressed segments carry
    ``suppressed=True`` and no estimate. ``p_adjusted``/``significant`` are set for tests that
    belong to a family (segment comparisons, wave changes).
    """

    id: str
    estimate: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    n_eff: float | None = None
    p: float | None = None
    se: float | None = None
    segment: dict[str, str] | None = None
    p_adjusted: float | None = None
    significant: bool | None = None
    suppressed: bool = False
    method: str | None = None
    df: float | None = None  # design degrees of freedom of a design-based estimate (else n - 1 applies)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.suppressed:
            d.pop("suppressed")
        if self.df is None:
            d.pop("df")
        return to_jsonable(d)

    def with_(self, **changes) -> "Estimate":
        return replace(self, **changes)


def as_frame(records: Any) -> pd.DataFrame:
    """A copy of a frame, or a frame of a list of records (results.json's form of a table)."""
    return records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records or []))


def as_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as results.json keeps it: one dict per row."""
    return frame.to_dict(orient="records")


class TableRepr:
    """A ``_repr_html_`` (a table in JupyterLab) and ``to_frame()`` for result objects with a ``table``."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(type(self).__name__)}</b></p>" + self.table.to_html(index=False, escape=True)
