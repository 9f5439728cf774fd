"""Whole-folder publishing (csatlib.run.publish): a report folder changes as a unit or not at all.

The kill tests run :func:`publish` in a child process that SIGKILLs itself at one boundary of the
procedure (each staged file, each carried entry, before and after the switch, after the clean-up),
for every boundary in turn and for both switch protocols, and check that the folder a reader sees
holds one run's files only, before and after the next writer's recovery.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from csatlib.run.publish import LEDGER, discard, exchange_supported, publish, recover, staging_dir

from .conftest import ROOT

OLD_FILES = ("quarantine.csv", "validation.json", "report.ipynb", "report.html", "results.json",
             "report.failed.ipynb")
NEW_FILES = ("quarantine.csv", "validation.json", "report.ipynb", "report.html", "results.json")
PROTOCOLS = [pytest.param(True, id="exchange"), pytest.param(False, id="two-renames")]


def make_published(target: Path, tag: str = "A") -> None:
    """A wave folder as an earlier run left it, with a batch's by-<column> folder inside."""
    target.mkdir(parents=True)
    for name in OLD_FILES:
        (target / name).write_text(f"{tag} {name}", encoding="utf-8")
    seg = target / "by-城市" / "上海"
    seg.mkdir(parents=True)
    (seg / "report.html").write_text("batch 上海", encoding="utf-8")
    (target / "by-城市" / "index.html").write_text("batch index", encoding="utf-8")


def state(target: Path) -> str | None:
    """"A" or "B" when the folder is entirely one run's (report files, batch folder intact), None
    when absent; anything else fails the test."""
    if not target.exists():
        return None
    names = sorted(p.name for p in target.iterdir())
    tags = {(target / n).read_text(encoding="utf-8").split()[0] for n in names if (target / n).is_file()}
    assert len(tags) == 1, (names, tags)
    tag = tags.pop()
    expected = OLD_FILES if tag == "A" else NEW_FILES
    assert sorted(names) == sorted([*expected, "by-城市"]), names
    assert (target / "by-城市" / "上海" / "report.html").read_text(encoding="utf-8") == "batch 上海"
    for name in names:
        if (target / name).is_file():
            assert (target / name).read_text(encoding="utf-8") == f"{tag} {name}"
    return tag


CHILD = r"""
import os, signal, sys
from pathlib import Path
from csatlib.run.publish import publish, staging_dir
target, kill_at, exchange = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
steps = []
def step(label):
    steps.append(label)
    print(label, flush=True)
    if len(steps) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
staging = staging_dir(target)
for name in %r:
    (staging / name).write_text("B " + name, encoding="utf-8")
    step("wrote " + name)
publish(staging, target, remove=("report.failed.ipynb",), step=step, exchange=exchange)
""" % (NEW_FILES,)


def run_child(target: Path, kill_at: int, exchange: bool) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(target), str(kill_at), "1" if exchange else "0"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("exchange", PROTOCOLS)
def test_publish_replaces_the_folder_as_a_whole(tmp_path, exchange):
    target = tmp_path / "2026Q3"
    make_published(target)
    carried = os.stat(target / "by-城市" / "上海" / "report.html").st_ino
    staging = staging_dir(target)
    for name in NEW_FILES:
        (staging / name).write_text(f"B {name}", encoding="utf-8")
    LEDGER.reset()
    moved = publish(staging, target, remove=("report.failed.ipynb",), unit="the report", exchange=exchange)
    assert state(target) == "B"
    assert [p.name for p in moved][-1] == "results.json" and {p.name for p in moved} == set(NEW_FILES)
    # the batch folder was carried by hard links: the same files, nothing copied
    assert os.stat(target / "by-城市" / "上海" / "report.html").st_ino == carried
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026Q3"]  # no staging holder left
    mask = os.umask(0)
    os.umask(mask)
    assert (target.stat().st_mode & 0o777) == 0o777 & ~mask  # shared like any folder, not mkdtemp's 0700
    assert LEDGER.published == ["the report"]


def test_first_publication_and_discard(tmp_path):
    target = tmp_path / "W"
    staging = staging_dir(target)
    (staging / "results.json").write_text("B results.json")
    publish(staging, target)
    assert (target / "results.json").read_text() == "B results.json"
    unused = staging_dir(target)
    (unused / "report.html").write_text("half")
    discard(unused)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["W"]
    with pytest.raises(ValueError, match="not a staging folder"):
        publish(tmp_path / "elsewhere", target)


@pytest.mark.parametrize("exchange", PROTOCOLS)
def test_a_kill_at_every_step_leaves_one_runs_folder(tmp_path, exchange):
    if exchange and not exchange_supported(tmp_path):
        pytest.skip("this file system cannot swap folders atomically (renameat2 RENAME_EXCHANGE)")
    reference = tmp_path / "reference" / "2026Q3"
    make_published(reference)
    full = run_child(reference, 0, exchange)
    assert full.returncode == 0, full.stderr
    steps = full.stdout.split()
    labels = full.stdout.splitlines()
    assert labels[:len(NEW_FILES)] == [f"wrote {n}" for n in NEW_FILES]
    assert "carried by-城市" in labels and "switched" in labels and labels[-1] == "cleaned"
    assert state(reference) == "B"
    switched_at = labels.index("switched") + 1
    for kill_at in range(1, len(labels) + 1):
        target = tmp_path / f"k{kill_at}" / "2026Q3"
        make_published(target)
        proc = run_child(target, kill_at, exchange)
        assert proc.returncode == -9, (kill_at, proc.stderr)
        seen = state(target)  # what a reader finds right after the kill
        if seen is None:  # only between the two renames of the fallback protocol
            assert not exchange and labels[kill_at - 1] == "moved aside", kill_at
        else:
            assert seen == ("B" if kill_at >= switched_at else "A"), (kill_at, labels[kill_at - 1])
        said = recover(target)  # what the next writer does first, under the wave's lock
        after = state(target)
        assert after == ("B" if kill_at >= switched_at - (0 if exchange else 1) else "A"), (kill_at, said)
        assert sorted(p.name for p in target.parent.iterdir()) == ["2026Q3"], kill_at  # no leftovers
    assert len(steps) >= 9


@pytest.mark.parametrize("exchange", PROTOCOLS)
def test_a_reader_never_sees_a_mix(tmp_path, exchange):
    """A reader that opens the folder and reads every file in it, while it is republished 120 times,
    only ever finds files of one run (or, with two renames, no folder for an instant)."""
    if exchange and not exchange_supported(tmp_path):
        pytest.skip("this file system cannot swap folders atomically")
    target = tmp_path / "W"
    make_published(target)
    stop = threading.Event()
    seen: list[frozenset] = []
    absent = [0]

    def reader():
        while not stop.is_set():
            try:
                fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError:
                absent[0] += 1
                continue
            try:
                tags = set()
                names = [n for n in os.listdir(fd) if not n.startswith("by-")]
                for name in names:
                    with open(name, encoding="utf-8", opener=lambda p, f: os.open(p, f, dir_fd=fd)) as fh:
                        tags.add(fh.read().split()[0])
                if not names:  # opened just before a switch, listed after the old folder was emptied:
                    continue  # not a mix (a published folder is never empty), just gone
                seen.append(frozenset(tags))
            except FileNotFoundError:
                pass  # the old folder was being removed after a switch: not a mix, just gone
            finally:
                os.close(fd)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(120):
            tag = "B" if i % 2 == 0 else "A"
            staging = staging_dir(target)
            for name in (NEW_FILES if tag == "B" else OLD_FILES):
                (staging / name).write_text(f"{tag} {name}", encoding="utf-8")
            publish(staging, target, remove=OLD_FILES, exchange=exchange)
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 50
    mixed = [s for s in seen if len(s) != 1]
    assert mixed == [] and {next(iter(s)) for s in seen} == {"A", "B"}
    if exchange:
        assert absent[0] == 0  # the exchange never leaves the name empty
    assert state(target) == "A"


def test_recover_finishes_rolls_back_or_cleans(tmp_path):
    # killed between the two renames: the new folder is complete, so the switch is finished
    target = tmp_path / "forward" / "W"
    holder = target.parent / ".W.tmp-x1"
    make_published(holder / "old")
    (holder / "W").mkdir()
    (holder / "W" / "results.json").write_text("B results.json")
    assert "finished publishing" in recover(target)
    assert (target / "results.json").read_text() == "B results.json" and not holder.exists()
    # the new folder is gone (cannot happen with publish, but a hand-made mess): roll back
    target = tmp_path / "back" / "W"
    holder = target.parent / ".W.tmp-x2"
    make_published(holder / "old")
    assert "restored" in recover(target)
    assert state(target) == "A" and not holder.exists()
    # the folder is in place: leftovers (an abandoned staging folder, an old folder) are removed
    target = tmp_path / "clean" / "W"
    make_published(target)
    for leftover in (".W.tmp-a/W", ".W.tmp-b/old"):
        (target.parent / leftover).mkdir(parents=True)
    assert recover(target) is None
    assert state(target) == "A" and sorted(p.name for p in target.parent.iterdir()) == ["W"]


def test_index_and_trend_never_see_a_staging_folder(tmp_path):
    """A staging folder is one level down in its hidden holder, so ``reports/*/results.json`` (the
    index, the trend) cannot mistake a half-published or abandoned wave for a published one."""
    from csatlib.results import Estimate, Results
    from csatlib.report.index import write_index
    from csatlib.run.previous import collect_trend

    out = tmp_path / "reports"
    Results("s", "2026Q2", None, False, {"clean": 10}, [Estimate("nps", 1.0, n=10)]).write(
        out / "2026Q2" / "results.json")
    staging = staging_dir(out / "2026Q3")
    Results("s", "2026Q3", None, False, {"clean": 10}, [Estimate("nps", 2.0, n=10)]).write(staging / "results.json")
    page = write_index(out).read_text(encoding="utf-8")
    assert "2026Q2" in page and "2026Q3" not in page
    assert [t["wave"] for t in collect_trend(out, "s")] == ["2026Q2"]
