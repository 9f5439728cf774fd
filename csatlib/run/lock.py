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

from ..errors import InputError, LockTimeout

__all__ = ["wave_lock"]


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

    The lock file is removed when the block ends. A waiter that opened the file before it was
    removed notices (its descriptor no longer names the path) and opens the new one.

    Raises
    ------
    LockTimeout
        When another run keeps the lock longer than ``timeout`` (exit code 2).
    InputError
        The folder cannot be created or the lock path is not a file.
    """
    from ..output import describe_os_error

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(folder, f"cannot create the output folder ({describe_os_error(exc)})") from None
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
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputError(path, f"cannot open the lock file ({describe_os_error(exc)}); remove it or "
                                   f"choose another --out") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise LockTimeout(f"{folder}: wave {name!r} is being written by {_holder(path)} "
                                  f"(lock {path.name}); gave up after {timeout:.0f} s") from None
            if not told and progress:
                progress(f"waiting for {_holder(path)} to finish writing wave {name!r}")
                told = True
            time.sleep(0.2)
            continue
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file after we opened it: take the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        os.fsync(fd)
        yield path
    finally:
        try:
            os.unlink(path)  # while still holding the lock, so no one can hold this inode meanwhile
        except OSError:
            pass
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
