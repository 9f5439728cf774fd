"""The spec key ``themes:``: one codeframe (theme → keywords or phrases) per free-text column.

Kept apart from :mod:`csatlib.spec`, which calls :func:`parse_codeframes` while parsing a spec;
errors name the key path (``themes.comment.价格``) as every spec error does.
"""
from __future__ import annotations

from typing import Any

from .errors import SpecError

__all__ = ["parse_codeframes"]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    return "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else type(value).__name__


def parse_codeframes(value: Any, text: tuple[str, ...]) -> dict[str, dict[str, tuple[str, ...]]]:
    """``themes: {text column: {theme: [keyword or phrase, ...]}}``: the codeframe of each comment column.

    Theme names are unique across columns (each becomes the results id ``theme.<name>.share``);
    every column must be one of the spec's ``text`` columns.

    Raises
    ------
    SpecError
        Naming the key path of the first problem.
    """
    if value is None:
        return {}
    if not isinstance(value, dict) or not value:
        raise SpecError(f"themes must be a mapping of text column -> {{theme: [keywords]}}, got {_kind(value)}")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    seen: dict[str, str] = {}
    for col, frame in value.items():
        if isinstance(col, bool) or not isinstance(col, (str, int)) or not str(col).strip():
            raise SpecError(f"themes: {col!r} is not a column name")
        col = str(col)
        if col not in text:
            raise SpecError(f"themes.{col}: {col!r} is not a free-text column (list it under 'text')")
        if not isinstance(frame, dict) or not frame:
            raise SpecError(f"themes.{col} must be a mapping of theme -> [keywords], got {_kind(frame)}")
        out[col] = {}
        for theme, words in frame.items():
            path = f"themes.{col}.{theme}"
            if isinstance(theme, bool) or not isinstance(theme, (str, int)) or not str(theme).strip():
                raise SpecError(f"themes.{col}: {theme!r} is not a valid theme name")
            theme = str(theme).strip()
            if theme in seen:
                raise SpecError(f"{path}: theme {theme!r} is also defined under themes.{seen[theme]} "
                                f"(theme names are unique: each is the id theme.<name>.share)")
            seen[theme] = col
            if isinstance(words, (str, int)) and not isinstance(words, bool):
                words = [words]
            if not isinstance(words, list) or not words:
                raise SpecError(f"{path} must be a non-empty list of keywords or phrases, got {_kind(words)}")
            kws = []
            for i, w in enumerate(words):
                if isinstance(w, bool) or not isinstance(w, (str, int, float)) or not str(w).strip():
                    raise SpecError(f"{path}[{i}] must be a keyword or phrase, got {_kind(w)}")
                kws.append(str(w).strip())
            out[col][theme] = tuple(dict.fromkeys(kws))
    return out
