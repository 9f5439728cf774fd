"""One writer per wave folder: a lock file holding the holder's pid.

``csat run``/``validate``/``batch`` take ``<out>/.<wave>.lock`` before writing a wave's outputs.
The lock is an advisory ``flock`` on that file, so the operating system releases it when the
holder exits or is killed: a stale lock (a file left by a dead process) never blocks a later
run. The pid written into the file names the holder in the waiting and refusal messages.
Where ``fcntl`` is missing (Windows) the ``filelock`` package provides the same semantics.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .errors import CsatError

__all__ = ["wave_lock", "LockTimeout"]


class LockTimeout(CsatError):
    """Another process held the wave's lock for longer than the caller would wait."""

    exit_code = 2


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except OSError:
        return "another process"
    return f"pid {pid}" if pid else "another process"


@contextmanager
def wave_lock(folder: Path, name: str, timeout: float = 600.0,
              progress: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold ``folder/.<name>.lock`` for the duration of the block, waiting up to ``timeout`` s.

    Raises
    ------
    LockTimeout
        When another run keeps the lock longer than ``timeout`` (exit code 2).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.lock"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    if fcntl is None:  # pragma: no cover
        from filelock import FileLock, Timeout

        try:
            with FileLock(str(path), timeout=timeout):
                yield path
        except Timeout:
            raise LockTimeout(f"{folder}: another csat run is writing wave {name!r}; gave up after {timeout:.0f} s")
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"{folder}: wave {name!r} is being written by {_holder(path)} "
                                      f"(lock {path.name}); gave up after {timeout:.0f} s") from None
                if not told and progress:
                    progress(f"waiting for {_holder(path)} to finish writing wave {name!r}")
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        os.fsync(fd)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
