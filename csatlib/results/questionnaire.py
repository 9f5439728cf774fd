"""Results of the questionnaire's roles: non-substantive answers, composite reliability,
multiple-response shares and stated against derived importance."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


from .estimate import TableRepr, as_frame, as_records

__all__ = ['NonSubstantive', 'CompositeReliability', 'MultipleResponseShares', 'ImportanceComparison']


@dataclass
class NonSubstantive(TableRepr):
    """Non-substantive answers per rated column (``csatlib.nonsubstantive_answers``).

    ``table`` has one row per rated column of the clean rows: ``column``, ``role`` (its spec key),
    ``rows`` (clean rows), ``blank`` (skipped), ``answered`` (non-blank), ``substantive`` (ratings:
    the item's base in every analysis), and per kind (``not_applicable``, ``dont_know``,
    ``refused``, ``missing``: values the file declares missing) the count and its share of the
    answered (``<kind>_share``). Counts are of rows, unweighted.
    """

    table: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {"columns": as_records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "NonSubstantive":
        return cls(as_frame(d.get("columns")))

    def __repr__(self) -> str:
        cols = [c for c in ["column", "answered", "substantive", "not_applicable_share", "dont_know_share",
                            "refused_share", "missing_share"] if c in self.table]
        return "NonSubstantive\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class CompositeReliability(TableRepr):
    """Internal consistency of each composite dimension (``csatlib.composite_reliability``).

    ``table`` has one row per composite: ``dimension``, ``label``, ``items`` (list), ``k``, ``n``
    (respondents with a substantive answer to every item: the base of alpha), ``alpha``
    (Cronbach's alpha), ``alpha_if_deleted`` (``{item: alpha}``), ``min_answered`` and
    ``scored`` (respondents with a score under the composite's rule).
    """

    table: pd.DataFrame
    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "composites": as_records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CompositeReliability":
        return cls(as_frame(d.get("composites")), d.get("rule", ""))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "k", "n", "alpha", "scored"] if c in self.table]
        return "CompositeReliability\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class MultipleResponseShares(TableRepr):
    """Share of respondents choosing each option of each multiple-response question.

    ``table``: ``question``, ``label``, ``option``, ``chosen`` (respondents), ``base``
    (respondents who answered the question), ``share`` (weighted when the spec has weights),
    ``ci_low``/``ci_high`` (Wilson on Kish n_eff), ``n_eff``. Shares of one question may sum to
    more than 1.
    """

    table: pd.DataFrame
    weighted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"weighted": self.weighted, "options": as_records(self.table)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MultipleResponseShares":
        return cls(as_frame(d.get("options")), bool(d.get("weighted")))

    def __repr__(self) -> str:
        cols = [c for c in ["question", "option", "chosen", "base", "share"] if c in self.table]
        return "MultipleResponseShares\n" + self.table[cols].round(4).to_string(index=False)


@dataclass
class ImportanceComparison(TableRepr):
    """Stated importance (what respondents say matters) against derived importance (what drives
    their overall satisfaction), per dimension (``csatlib.stated_vs_derived``).

    ``table``: ``dimension``, ``label``, ``stated`` (mean stated importance), ``stated_n``,
    ``stated_rank``, ``derived`` (share of R² from the key-driver analysis), ``derived_rank``,
    ``rank_difference`` (stated − derived rank; ranks 1 = most important). ``spearman``/``kendall``
    are the rank correlations with their p values.
    """

    table: pd.DataFrame
    spearman: float
    spearman_p: float | None
    kendall: float
    kendall_p: float | None
    derived_method: str
    sentence: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"dimensions": as_records(self.table), "spearman": self.spearman, "spearman_p": self.spearman_p,
                "kendall": self.kendall, "kendall_p": self.kendall_p, "derived_method": self.derived_method,
                "sentence": self.sentence, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ImportanceComparison":
        return cls(as_frame(d.get("dimensions")), d.get("spearman"), d.get("spearman_p"), d.get("kendall"),
                   d.get("kendall_p"), d.get("derived_method", ""), d.get("sentence", ""), list(d.get("notes") or []))

    def __repr__(self) -> str:
        cols = [c for c in ["dimension", "stated", "stated_rank", "derived", "derived_rank"] if c in self.table]
        return f"ImportanceComparison: {self.sentence}\n" + self.table[cols].round(4).to_string(index=False)
