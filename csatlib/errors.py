"""One error hierarchy for csatlib; each error knows the CLI exit code it maps to.

Only :mod:`csatlib.cli` turns these into a stderr line and an exit code; library callers
(notebooks, scripts) catch them like any exception.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["CsatError", "SpecError", "InputError", "ValidationBlocked", "NotebookFailed", "LockTimeout",
           "first_line"]


def first_line(exc: BaseException | str, limit: int = 300) -> str:
    """The first non-empty line of an exception's message (or its type name), at most ``limit`` characters.

    Examples
    --------
    >>> first_line(ValueError("bad value\\nmore detail"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = exc if isinstance(exc, str) else str(exc)
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return type(exc).__name__ if isinstance(exc, BaseException) else ""


class CsatError(Exception):
    """Base class of every error csatlib raises on purpose."""

    exit_code = 2


class SpecError(CsatError):
    """The survey spec is malformed (the message names the file and the key path)."""

    exit_code = 2


class InputError(CsatError):
    """An input (data file, folder, results file, notebook) is missing, unreadable or unusable.

    Parameters
    ----------
    path : str or Path
        The file or folder at fault; the message starts with it.
    problem : str
        What is wrong with it, in one line.
    """

    exit_code = 2

    def __init__(self, path: str | Path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self):  # picklable (a run's second process sends its errors back)
        return type(self), (self.path, self.problem)


class ValidationBlocked(CsatError):
    """The wave failed a table-level (blocking) expectation; validation outputs were written."""

    exit_code = 1

    def __init__(self, message: str, failures: list[str] | None = None):
        super().__init__(message)
        self.failures = list(failures or [])

    def __reduce__(self):
        return type(self), (str(self), self.failures)


class NotebookFailed(CsatError):
    """The report notebook raised while executing; ``notebook`` is the kept partial output."""

    exit_code = 3

    def __init__(self, message: str, notebook: str | None = None):
        super().__init__(message)
        self.notebook = notebook

    def __reduce__(self):
        return type(self), (str(self), self.notebook)


class LockTimeout(CsatError):
    """Another run held the wave's lock for longer than the caller was willing to wait."""

    exit_code = 2
