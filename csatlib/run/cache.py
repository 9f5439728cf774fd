"""A researcher's re-run without re-validation: loaded and validated waves, cached.

:func:`csatlib.analyse_file` in a notebook is typically run again and again on the same file
while the analysis or the report is being worked on. Loading and validating with Great
Expectations is the expensive part of it and gives the same answer every time, so the loaded
:class:`~csatlib.ingest.load.Wave` and its :class:`~csatlib.validation.check.ValidationResult`
are kept, keyed by everything they depend on:

* the SHA-256 of the data file's bytes (a changed file, even with the same name and size, misses);
* the spec's fingerprint (:meth:`csatlib.spec.Spec.fingerprint`);
* the fingerprint of the expectation suite in force (a hand-edited stored suite misses);
* the wave label the rows are checked against;
* the csatlib version and this cache's format.

The cache lives in the process (least recently used entries are dropped beyond ``maxsize``)
and, when given a ``folder``, also on disk (pickles written atomically, so an interrupted write
never leaves a truncated entry; an unreadable entry is a miss). A disk cache is only for the
user's own machine: pickles are trusted input, so never point it at a folder others can write.

Returned frames are shallow copies (pandas copy-on-write), so a caller that adds a column to
``validation.clean`` does not change what the cache holds.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

__all__ = ["WaveCache", "default_cache", "file_sha256", "suite_fingerprint", "CACHE_FORMAT"]

CACHE_FORMAT = 1


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def suite_fingerprint(suite: dict[str, Any]) -> str:
    """A stable hash of an expectation suite's contents."""
    blob = json.dumps(suite, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class WaveCache:
    """Loaded and validated waves by (file hash, spec, suite, wave label); see the module docstring.

    Parameters
    ----------
    maxsize : int
        Entries kept in memory (least recently used dropped first).
    folder : str or Path, optional
        Also keep entries on disk here (created when needed).

    Attributes
    ----------
    hits, misses : int
        Lookups served from the cache (memory or disk) and lookups that were not.
    """

    def __init__(self, maxsize: int = 4, folder: str | Path | None = None):
        self.maxsize = maxsize
        self.folder = Path(folder) if folder is not None else None
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, tuple[Any, Any]] = OrderedDict()

    def key(self, data: str | Path, spec, suite: dict[str, Any], wave: str) -> str:
        """The cache key of validating ``data`` against ``suite`` for ``spec`` and ``wave``."""
        from .. import __version__

        parts = [f"format {CACHE_FORMAT}", f"csatlib {__version__}", file_sha256(data), spec.fingerprint(),
                 suite_fingerprint(suite), str(wave)]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def get(self, key: str):
        """``(Wave, ValidationResult)`` cached under ``key``, or None (counted as a miss)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        elif self.folder is not None:
            entry = self._read(key)
            if entry is not None:
                self._remember(key, entry)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return _fresh(entry)

    def put(self, key: str, loaded, validation) -> None:
        """Keep ``(loaded, validation)`` under ``key`` (and on disk when the cache has a folder)."""
        entry = _fresh((loaded, validation))
        self._remember(key, entry)
        if self.folder is not None:
            from ..output import atomic_write_bytes

            atomic_write_bytes(self.folder / f"{key}.pkl", pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))

    def clear(self) -> None:
        """Forget every entry in memory (disk entries stay; delete the folder to drop them)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        where = f", folder={str(self.folder)!r}" if self.folder else ""
        return f"WaveCache({len(self)}/{self.maxsize} in memory{where}, hits={self.hits}, misses={self.misses})"

    def _remember(self, key: str, entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def _read(self, key: str):
        path = self.folder / f"{key}.pkl"
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:  # truncated, from another Python, or not ours: recompute
            return None


def _fresh(entry):
    """Shallow copies of the frames in an entry (copy-on-write keeps the cached ones intact)."""
    loaded, validation = entry
    return (replace(loaded, frame=loaded.frame.copy(deep=False)),
            replace(validation, clean=validation.clean.copy(deep=False),
                    quarantine=validation.quarantine.copy(deep=False)))


_DEFAULT: WaveCache | None = None


def default_cache() -> WaveCache:
    """The process-wide cache :func:`csatlib.analyse_file` uses by default."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = WaveCache()
    return _DEFAULT
