"""Atomic publishing of a wave's report folder.

Every file is produced in a staging folder beside the target (same file system), then moved
into ``reports/<wave>/`` with :func:`os.replace`, results.json last: its presence means the
report beside it is complete. A run killed half-way leaves the previous report as it was.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["PUBLISH_ORDER", "staging_dir", "publish"]


PUBLISH_ORDER = ("quarantine.csv", "validation.json", "report.ipynb", "report.html", "results.json")


def staging_dir(target: Path) -> Path:
    """A fresh temporary folder beside ``target`` (so os.replace never crosses file systems).

    Staging folders a killed run left behind are removed first; call this only while holding the
    wave's lock (:func:`csatlib.lock.wave_lock`), so no live run's staging folder can be among them.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))


def publish(staging: Path, target: Path, order: tuple[str, ...] = PUBLISH_ORDER) -> list[Path]:
    """Move the files of ``staging`` into ``target`` one by one with os.replace, in ``order``
    (results.json last, so its presence means the report beside it is complete), then remove
    ``staging``."""
    target.mkdir(parents=True, exist_ok=True)
    names = [n for n in order if (staging / n).exists()]
    names += sorted(p.name for p in staging.iterdir() if p.is_file() and p.name not in order)
    moved = []
    for name in sorted(names, key=lambda n: (n == "results.json", names.index(n))):
        os.replace(staging / name, target / name)
        moved.append(target / name)
    shutil.rmtree(staging, ignore_errors=True)
    return moved
