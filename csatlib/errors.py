"""One error hierarchy for csatlib; each error knows the CLI exit code it maps to.

Only :mod:`csatlib.cli` turns these into a stderr line and an exit code; library callers
(notebooks, scripts) catch them like any exception.
"""
from __future__ import annotations

__all__ = ["CsatError", "SpecError", "InputError", "ValidationBlocked", "NotebookFailed"]


class CsatError(Exception):
    """Base class of every error csatlib raises on purpose."""

    exit_code = 2


class SpecError(CsatError):
    """The survey spec is malformed (the message names the file and the key path)."""

    exit_code = 2


class InputError(CsatError):
    """A data file is missing, unreadable, or lacks a column the spec names."""

    exit_code = 2


class ValidationBlocked(CsatError):
    """The wave failed a table-level (blocking) expectation; validation outputs were written."""

    exit_code = 1

    def __init__(self, message: str, failures: list[str] | None = None):
        super().__init__(message)
        self.failures = list(failures or [])


class NotebookFailed(CsatError):
    """The report notebook raised while executing; ``notebook`` is the kept partial output."""

    exit_code = 3

    def __init__(self, message: str, notebook: str | None = None):
        super().__init__(message)
        self.notebook = notebook
