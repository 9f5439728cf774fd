"""Atomic file output: write to a temp file in the target folder, then ``os.replace``.

A reader (a reviewer's browser, the index builder, a later ``--previous``) never sees a
half-written file: it sees the old complete file or the new complete one.
"""
from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_text", "atomic_write_bytes", "atomic_write_json", "to_jsonable", "safe_name",
           "describe_os_error"]


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are shared like any file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


_ERRNO_WORDS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EFBIG: "file too large for the file system",
    errno.EISDIR: "is a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EBUSY: "the folder is in use (a mount point?)",
}


def describe_os_error(exc: OSError) -> str:
    """A short lower-case reason for an operating-system error, e.g. ``no space left on the device``."""
    return _ERRNO_WORDS.get(exc.errno) or (exc.strerror or str(exc) or type(exc).__name__).lower()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types from numpy scalars, tuples and dataclass dicts; NaN/inf become null."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    return str(obj)


def atomic_write_json(path: str | Path, doc: Any) -> Path:
    text = json.dumps(to_jsonable(doc), ensure_ascii=False, indent=2, allow_nan=False)
    return atomic_write_text(path, text + "\n")


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(label: str) -> str:
    """A folder name for a wave or segment label: any Unicode letter or digit is kept; path
    separators, control and shell-special characters become ``_``; ``.``/``..`` and Windows
    reserved names are prefixed, so a label can never escape or clash with its parent folder."""
    text = str(label).strip()
    out = "".join(ch if (ch.isalnum() or ch in "-_.+@ ") else "_" for ch in text).strip(" ")
    out = out.replace(" ", "_")[:120]
    if not out or set(out) <= {"."} or out.split(".")[0].upper() in _RESERVED:
        out = f"_{out}" if out else "_"
    return out
