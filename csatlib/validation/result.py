"""What validating a wave found: each expectation's outcome, the row accounting, clean and
quarantined rows, and the files that record it (validation.json, quarantine.csv)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..output import atomic_write_json, atomic_write_text, to_jsonable

__all__ = ["ExpectationOutcome", "ValidationResult", "write_validation", "REASONS_COLUMN", "ROW_COLUMN",
           "CHECK_LABELS", "FLAG_LABELS"]

REASONS_COLUMN = "_reasons"
ROW_COLUMN = "_row"  # quarantine.csv of a file without an id column: the row's number in the data, from 1
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
