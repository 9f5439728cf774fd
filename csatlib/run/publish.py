"""Whole-folder publishing: a report folder changes as a unit, or not at all.

A run never writes into a published folder (``reports/<wave>/``, or a batch's
``reports/<wave>/by-<column>/<value>/``). It builds the complete new folder beside it, as
``.<name>.tmp-XXXX/<name>/`` on the same file system: its own new files, plus a hard link to every
entry of the current folder that it does not replace (for example the ``by-<column>/`` folders of
``csat batch`` inside a wave folder, or the earlier report beside the validation files of a
blocked run). The new folder sits one level down in a hidden holder, so nothing that looks for
``reports/*/results.json`` (the index, the trend) ever mistakes it for a published wave. Then the
new folder takes the published name in one step:

* Linux (``renameat2`` with ``RENAME_EXCHANGE``, kernel 3.15+; ext4, xfs, btrfs, tmpfs, overlayfs):
  the two folders are swapped atomically. At every instant the published name holds either the
  old folder or the new one, complete; the old one is then removed from under the staging name.
* Elsewhere (or where the file system refuses the exchange): two renames, ``<name>`` →
  ``.<name>.tmp-XXXX/old`` then ``.<name>.tmp-XXXX/<name>`` → ``<name>``. Between them the folder
  is briefly absent (never mixed). If the process dies in between, :func:`recover` — run by the
  next writer of that folder, under its lock — finishes the switch (the new folder was complete
  before the first rename) and removes the leftovers.

Readers therefore see one run's files: every file of the folder comes from the same publish.
Files are flushed to disk (``fsync``) before the switch, so a power cut does not leave a
published folder of empty files either.

Interruptions: :data:`LEDGER` records what this process has published, so that a signal handler
(:mod:`csatlib.cli`) can say exactly what was and was not published; inside the switch itself
(:meth:`Ledger.critical`) a signal is held back until the step and its record are complete.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

__all__ = ["PUBLISH_ORDER", "REPORT_FILES", "staging_dir", "discard", "publish", "recover", "Ledger", "LEDGER",
           "exchange_supported"]

REPORT_FILES = ("quarantine.csv", "validation.json", "report.ipynb", "report.html", "results.json")
PUBLISH_ORDER = REPORT_FILES  # the order in which :func:`publish` lists a report's files (results.json last)

Step = Callable[[str], None]


class Ledger:
    """What this process set out to publish and what it has published, for an accurate exit message.

    Units are short descriptions (``"the report of wave 2026Q3 (reports/2026Q3)"``). The CLI reads
    :meth:`describe` when a signal ends a command; library callers may ignore the ledger.
    """

    def __init__(self) -> None:
        self.expected: list[str] = []
        self.published: list[str] = []
        self._critical = 0
        self._deferred: int | None = None

    def expect(self, *units: str) -> None:
        """Units this command means to publish (listed as "not published" until :meth:`done`)."""
        self.expected.extend(u for u in units if u not in self.expected)

    def done(self, unit: str) -> None:
        """``unit`` is published (complete, under its final name)."""
        if unit not in self.published:
            self.published.append(unit)
        if unit not in self.expected:
            self.expected.append(unit)

    def forget(self, unit: str) -> None:
        """Drop an expected unit (replaced by finer ones once they are known)."""
        if unit in self.expected and unit not in self.published:
            self.expected.remove(unit)

    def missing(self) -> list[str]:
        return [u for u in self.expected if u not in self.published]

    def describe(self) -> str:
        """``published: ...; not published: ...`` (or ``nothing was published``)."""
        parts = []
        if self.published:
            parts.append("published: " + ", ".join(self.published))
        if self.missing():
            parts.append(("not published (earlier files unchanged): " if self.published
                          else "nothing was published (earlier files unchanged): ") + ", ".join(self.missing()))
        return "; ".join(parts) if parts else "nothing was published"

    def reset(self) -> None:
        self.expected.clear()
        self.published.clear()

    # --- holding signals back during a switch -------------------------------------------------
    @property
    def in_critical(self) -> bool:
        return self._critical > 0

    def defer(self, signum: int) -> bool:
        """Called by a signal handler: True (and the signal is kept) while a switch is in progress."""
        if self._critical > 0:
            self._deferred = self._deferred or signum
            return True
        return False

    @contextmanager
    def critical(self) -> Iterator[None]:
        """A block that a signal handler consulting :meth:`defer` does not interrupt; a signal that
        arrived meanwhile is raised again when the block ends."""
        self._critical += 1
        try:
            yield
        finally:
            self._critical -= 1
            if self._critical == 0 and self._deferred is not None:
                signum, self._deferred = self._deferred, None
                signal.raise_signal(signum)


LEDGER = Ledger()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush every regular file and folder of ``root`` to disk (hard-linked files included: cheap
    when they are already clean)."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2 = None
_exchange_ok: bool | None = None


def _libc_renameat2():
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(None, use_errno=True).renameat2
                fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
                fn.restype = ctypes.c_int
                _renameat2 = fn
            except (OSError, AttributeError):  # glibc < 2.28 or musl without the wrapper
                _renameat2 = False
    return _renameat2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False when the platform or file system cannot."""
    global _exchange_ok
    fn = _libc_renameat2()
    if not fn or _exchange_ok is False:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        _exchange_ok = True
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system has no exchange: use the two-rename protocol
    raise OSError(err, os.strerror(err), str(b))


def exchange_supported(folder: str | Path) -> bool:
    """Whether ``folder``'s file system swaps folders atomically (probed with two empty folders)."""
    folder = Path(folder)
    a = Path(tempfile.mkdtemp(prefix=".csat-probe-", dir=folder))
    b = Path(tempfile.mkdtemp(prefix=".csat-probe-", dir=folder))
    try:
        return _exchange(a, b)
    finally:
        shutil.rmtree(a, ignore_errors=True)
        shutil.rmtree(b, ignore_errors=True)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        shutil.copy2(src, dst, follow_symlinks=False)  # a file system without hard links


def _carry(entry: Path, into: Path) -> None:
    """Put ``entry`` (a file or a folder of the published folder) into the staging folder, by hard
    links: no data is copied and the published files stay untouched."""
    dest = into / entry.name
    if entry.is_symlink() or entry.is_file():
        _link_or_copy(str(entry), str(dest))
    elif entry.is_dir():
        shutil.copytree(entry, dest, symlinks=True, copy_function=_link_or_copy)


def _holders(target: Path) -> list[Path]:
    """Hidden staging holders of ``target`` (``.<name>.tmp-*``) left in its parent folder."""
    prefix = f".{target.name}.tmp-"
    return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix))


def recover(target: str | Path) -> str | None:
    """Finish or clean up a switch of ``target`` that a killed process left half done.

    Call it only while holding the folder's lock (no live writer's staging folder can then be
    among the leftovers). Returns a sentence saying what was done, or None if nothing was left.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return None
    said = None
    if not target.exists() and not target.is_symlink():
        for holder in _holders(target):
            old, new = holder / "old", holder / target.name
            if not old.is_dir():
                continue
            if new.is_dir():  # killed between the two renames: the new folder was complete
                os.rename(new, target)
                said = f"finished publishing {target} (an earlier run was killed while switching folders)"
            else:
                os.rename(old, target)
                said = f"restored {target} (an earlier run was killed while switching folders)"
            _fsync_dir(target.parent)
            break
    for holder in _holders(target):
        shutil.rmtree(holder, ignore_errors=True)
    return said


def staging_dir(target: str | Path) -> Path:
    """A fresh, empty staging folder for ``target``: ``.<name>.tmp-XXXX/<name>/`` beside it (same
    file system, so the switch is a rename).

    Leftovers of a killed run are recovered or removed first (:func:`recover`); call this only
    while holding the wave's lock (:func:`csatlib.run.lock.wave_lock`). Remove an unused staging
    folder with :func:`discard`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    staging = holder / target.name
    mask = os.umask(0)
    os.umask(mask)
    staging.mkdir(mode=0o777 & ~mask)  # mkdtemp makes 0700; a published folder is shared like any folder
    os.chmod(staging, 0o777 & ~mask)
    return staging


def discard(staging: str | Path) -> None:
    """Remove a staging folder from :func:`staging_dir` and its hidden holder (no error if gone)."""
    staging = Path(staging)
    holder = staging.parent
    if holder.name.startswith(f".{staging.name}.tmp-"):
        shutil.rmtree(holder, ignore_errors=True)
    else:
        shutil.rmtree(staging, ignore_errors=True)


FAULT_ENV = "CSAT_TEST_PUBLISH_SIGNAL"
_fault_seen: dict[str, int] = {}


def _test_fault() -> Step | None:
    """The fault-injection hook the test suite drives through the environment.

    ``CSAT_TEST_PUBLISH_SIGNAL="<label>[#<n>]:<SIGNAL>"`` sends SIGNAL (``SIGTERM``, ``SIGINT``,
    ``SIGKILL``) to this process at the n-th (default first) boundary named ``label`` (``staged``,
    ``switched``, ``cleaned``, ...) across the publications of the process. Unset: no hook.
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return None
    where, _, signame = spec.rpartition(":")
    label, _, nth = where.partition("#")
    signum = getattr(signal, signame)

    def hook(current: str) -> None:
        if current == label:
            _fault_seen[label] = _fault_seen.get(label, 0) + 1
            if _fault_seen[label] == int(nth or 1):
                os.kill(os.getpid(), signum)

    return hook


def _ordered(names: Iterable[str]) -> list[str]:
    names = list(names)
    return sorted(names, key=lambda n: (n == "results.json", PUBLISH_ORDER.index(n) if n in PUBLISH_ORDER
                                        else len(PUBLISH_ORDER), n))


def publish(staging: str | Path, target: str | Path, remove: Iterable[str] = (), *, unit: str | None = None,
            step: Step | None = None, exchange: bool = True) -> list[Path]:
    """Replace the folder ``target`` by ``staging`` as a whole.

    Entries of the current ``target`` that ``staging`` does not hold are carried over (hard links),
    except those named in ``remove``. Then the folders are switched in one step (see the module
    docstring) and the old folder is removed. ``staging`` is gone afterwards.

    Parameters
    ----------
    staging : path
        A folder from :func:`staging_dir` holding the new files.
    target : path
        The published folder (created if it does not exist yet).
    remove : names
        Entries of the current folder not to carry over (e.g. ``report.failed.ipynb``).
    unit : str, optional
        How :data:`LEDGER` names this publication (recorded as published once switched).
    step : callable, optional
        Called with a label at every boundary of the procedure (each carried entry, before and
        after the switch, after the clean-up) — a fault-injection hook for tests.
    exchange : bool
        False: use the two-rename protocol even where the atomic exchange exists (tests of the
        protocol that other platforms use).

    Returns
    -------
    list of Path
        The files of the new folder that came from ``staging``, results.json last.
    """
    staging, target = Path(staging), Path(target)
    if not (staging.name == target.name and staging.parent.name.startswith(f".{target.name}.tmp-")
            and staging.parent.parent.resolve() == target.parent.resolve()):
        raise ValueError(f"{staging} is not a staging folder of {target} (use staging_dir)")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(target))
    step = step or _test_fault() or (lambda label: None)
    remove = set(remove)
    new = [p.name for p in staging.iterdir()]
    if target.is_dir():
        for entry in sorted(target.iterdir()):
            if entry.name not in new and entry.name not in remove:
                _carry(entry, staging)
                step(f"carried {entry.name}")
    _fsync_tree(staging)
    step("staged")
    holder = staging.parent
    with LEDGER.critical():
        if not target.exists():
            os.rename(staging, target)  # first publication: one rename
            step("switched")
        elif exchange and _exchange(staging, target):
            step("switched")  # the old folder is now inside the holder, under the staging name
        else:
            os.rename(target, holder / "old")
            step("moved aside")
            os.rename(staging, target)
            step("switched")
        _fsync_dir(target.parent)
        if unit:
            LEDGER.done(unit)
    discard(staging)
    step("cleaned")
    return [target / n for n in _ordered(new) if (target / n).is_file()]
