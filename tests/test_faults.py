"""Faults around a run: signals at any moment, a full disk, read-only folders, a lock path that is
a folder, a corrupt stored suite, a truncated earlier results.json.

Each fault gives the contract's exit code with one accurate stderr line, loses nothing that was
published before, and leaves no staging folder behind. Signals at exact points of publishing are
sent by the process itself through the fault-injection hook of csatlib.run.publish
(``CSAT_TEST_PUBLISH_SIGNAL``); a full disk and a read-only folder are real (a small tmpfs), so
those tests need root and are skipped elsewhere.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from csatlib.report.wording import format_estimate

from .conftest import CSAT, ROOT, make_hotel_wave, run_cli

WAVE = "2026-秋"


def error_line(proc, *needles: str) -> str:
    """The single ``csat:`` line of a failed command (exit 2 / 143 / 130), checked for ``needles``."""
    lines = [l for l in proc.stderr.strip().splitlines() if l.startswith("csat:") and not l.startswith("csat: [")]
    assert len(lines) == 1, proc.stderr  # progress lines aside
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Hidden entries a run may leave: staging holders, temp files, lock files (none is allowed)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_run(folder: Path) -> int:
    """The folder holds one run's report: its files agree on the rows read; returns that number."""
    res = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    val = json.loads((folder / "validation.json").read_text(encoding="utf-8"))
    assert res["rows"]["read"] == val["rows"]["read"]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>")
    head = {e["id"]: e["estimate"] for e in res["estimates"] if e["segment"] is None}
    for kpi in ("satisfaction.score", "nps"):  # the page shows this run's numbers
        assert format_estimate(kpi, head[kpi]) in html, kpi
    json.loads((folder / "report.ipynb").read_text(encoding="utf-8"))
    return res["rows"]["read"]


@pytest.fixture(scope="module")
def waves(hotel, tmp_path_factory):
    """Two versions of the autumn wave (400 and 350 rows) and a published report of the first."""
    root = tmp_path_factory.mktemp("faults")
    second = root / "second.csv"
    make_hotel_wave(350, seed=9).to_csv(second, index=False)
    out, exp = root / "published", root / "exp"
    proc = run_cli("run", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", WAVE,
                   "--out", str(out), "--expectations", str(exp), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert one_run(out / WAVE) == 400
    return {"first": hotel["data"], "second": second, "spec": hotel["spec"], "published": out, "exp": exp}


def rerun(waves, out: Path, *extra: str, env: dict | None = None, data: Path | None = None):
    args = [*CSAT, "run", "--data", str(data or waves["second"]), "--spec", str(waves["spec"]), "--wave", WAVE,
            "--out", str(out), "--expectations", str(waves["exp"]), "--quiet", *extra]
    full_env = {k: v for k, v in os.environ.items() if k not in ("CSAT_DEBUG", "PYTHONWARNINGS")}
    full_env.update(env or {})
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=300)


# --- signals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("at, signame, code, published", [
    ("staged", "SIGTERM", 143, False),    # the new folder is complete, the switch has not happened
    ("switched", "SIGINT", 130, True),    # the signal arrives inside the switch: held back until it is done
    ("cleaned", "SIGTERM", 143, True),    # after the switch, before the index
])
def test_a_signal_while_publishing_says_exactly_what_was_published(waves, tmp_path, at, signame, code, published):
    out = tmp_path / "reports"
    shutil.copytree(waves["published"], out)
    before = snapshot(out / WAVE)
    proc = rerun(waves, out, env={"CSAT_TEST_PUBLISH_SIGNAL": f"{at}:{signame}"})
    assert proc.returncode == code, proc.stderr
    what = "terminated (SIGTERM)" if signame == "SIGTERM" else "interrupted (SIGINT)"
    line = error_line(proc, f"csat: {what}; ")
    report, index = f"the report of wave {WAVE} ({out / WAVE})", f"the index ({out / 'index.html'})"
    if published:
        assert f"published: {report}; not published (earlier files unchanged): {index}" in line, line
        assert one_run(out / WAVE) == 350
    else:
        assert f"nothing was published (earlier files unchanged): {report}, {index}" in line, line
        assert snapshot(out / WAVE) == before
    assert leftovers(out) == []  # no staging holder, no lock file


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc to see signal handlers")
def test_sigterm_during_start_up_exits_143_with_the_message(tmp_path):
    proc = subprocess.Popen([*CSAT, "demo", "--out", str(tmp_path / "o")], stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            break
        caught = int(next(l.split()[1] for l in status.splitlines() if l.startswith("SigCgt:")), 16)
        if caught >> (signal.SIGTERM - 1) & 1:
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    lines = [l for l in err.splitlines() if l.startswith("csat:")]
    assert lines and lines[-1].startswith("csat: terminated (SIGTERM); nothing was published"), err
    assert "Traceback" not in err
    assert not (tmp_path / "o" / "2026Q2" / "results.json").exists()


def test_sigterm_during_a_batch_lists_the_segments(hotel, tmp_path):
    """The third switch of the batch (wave-level validation files, then two segments) is interrupted:
    exactly the segments switched in are reported published, the others not, and only those exist."""
    out = tmp_path / "o"
    env = {k: v for k, v in os.environ.items() if k not in ("CSAT_DEBUG", "PYTHONWARNINGS")}
    env["CSAT_TEST_PUBLISH_SIGNAL"] = "switched#3:SIGTERM"
    proc = subprocess.run([*CSAT, "batch", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave",
                           WAVE, "--by", "城市", "--out", str(out), "--expectations", str(tmp_path / "e"), "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 143, proc.stderr
    line = error_line(proc, "csat: terminated (SIGTERM); published: ")
    batch = out / WAVE / "by-城市"
    published, _, missing = line.partition("; not published (earlier files unchanged): ")
    assert f"validation.json and quarantine.csv of wave {WAVE} ({batch})" in published
    done = [c for c in ("北京", "上海", "广州") if f"segment {c} ({batch / c})" in published]
    not_done = [c for c in ("北京", "上海", "广州") if f"segment {c} ({batch / c})" in missing]
    assert len(done) == 2 and len(not_done) == 1, line
    assert f"the batch index ({batch / 'index.html'})" in missing
    for city in done:
        assert one_run(batch / city) > 0
    assert not (batch / not_done[0]).exists() and not (batch / "index.html").exists()
    assert leftovers(out) == []


# --- resource faults ----------------------------------------------------------------------------

@contextmanager
def tmpfs(where: Path, size: str):
    """A small tmpfs mounted at ``where`` (root only; the test is skipped elsewhere)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", f"csat-{uuid.uuid4().hex[:8]}",
                           str(where)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(folder: Path, leave: int) -> None:
    """Fill ``folder``'s file system up to ``leave`` free bytes."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "filler.bin", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def test_a_full_disk_is_one_line_and_loses_nothing(waves, tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        out = disk / "reports"
        shutil.copytree(waves["published"], out)
        before = snapshot(out / WAVE)
        fill(disk, 200_000)  # room for the lock and a few files, not for a second report
        proc = rerun(waves, out)
        assert proc.returncode == 2, proc.stderr
        error_line(proc, f"csat: error: {out / WAVE}: cannot write the new report (no space left on the device); "
                         "the earlier report of this wave is unchanged")
        assert snapshot(out / WAVE) == before
        assert leftovers(out) == []


def test_a_full_disk_for_the_expectation_suite_is_one_line(waves, tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        fill(disk, 2_000)  # a suite is ~16 KB
        proc = run_cli("validate", "--data", str(waves["first"]), "--spec", str(waves["spec"]), "--wave", WAVE,
                       "--out", str(tmp_path / "o"), "--expectations", str(disk / "exp"))
        assert proc.returncode == 2, proc.stderr
        error_line(proc, f"{disk / 'exp'}: cannot write the expectation suite (no space left on the device)")
        assert leftovers(disk) == [] and not (tmp_path / "o" / WAVE).exists()


def test_read_only_folders_are_one_line(waves, tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        out = disk / "reports"
        shutil.copytree(waves["published"], out)
        before = snapshot(out / WAVE)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        proc = rerun(waves, out)
        assert proc.returncode == 2, proc.stderr
        error_line(proc, f"{out}: cannot write the output folder (read-only file system)")
        assert snapshot(out / WAVE) == before
        # a read-only expectations folder without the suite it needs
        proc = rerun(waves, tmp_path / "o", "--expectations", str(disk / "exp"))
        assert proc.returncode == 2, proc.stderr
        error_line(proc, f"{disk / 'exp'}: cannot write the expectation suite (read-only file system)")


def test_a_lock_path_that_is_a_folder_is_one_line(waves, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(waves["published"], out)
    (out / f".{WAVE}.lock").mkdir()
    before = snapshot(out)
    proc = rerun(waves, out)
    assert proc.returncode == 2, proc.stderr
    error_line(proc, f"{out / f'.{WAVE}.lock'}: cannot open the lock file (is a folder)")
    assert snapshot(out) == before


def test_a_corrupt_stored_suite_is_one_line_and_kept(waves, tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(waves["exp"], exp)
    suite = next(exp.glob("*.json"))
    suite.write_bytes(b'{"name": "\xe9\x85\x92\xe5\xba\x97", "expectations": [{"type": ')  # cut off mid-way
    out = tmp_path / "reports"
    shutil.copytree(waves["published"], out)
    before = snapshot(out)
    proc = rerun(waves, out, "--expectations", str(exp))
    assert proc.returncode == 2, proc.stderr
    error_line(proc, f"{suite}: cannot read expectation suite")
    assert suite.read_bytes().endswith(b'[{"type": ')  # not overwritten: the user decides
    assert snapshot(out) == before and leftovers(out) == []


def test_a_truncated_previous_results_json_is_one_line(waves, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(waves["published"], out)
    earlier = tmp_path / "earlier" / "2026-夏"
    shutil.copytree(waves["published"] / WAVE, earlier)
    text = (earlier / "results.json").read_bytes()
    (earlier / "results.json").write_bytes(text[: len(text) // 2])
    before = snapshot(out)
    proc = rerun(waves, out, "--previous", str(earlier))
    assert proc.returncode == 2, proc.stderr
    error_line(proc, f"{earlier / 'results.json'}: cannot read results")
    assert snapshot(out) == before and leftovers(out) == []


def test_a_truncated_results_json_of_another_wave_does_not_stop_a_run(waves, tmp_path):
    """The trend and the index skip a damaged results.json of another wave; the run goes on."""
    out = tmp_path / "reports"
    shutil.copytree(waves["published"] / WAVE, out / "2026-夏")
    damaged = out / "2026-夏" / "results.json"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    proc = rerun(waves, out)
    assert proc.returncode == 0, proc.stderr
    assert one_run(out / WAVE) == 350
    assert "2026-夏" not in (out / "index.html").read_text(encoding="utf-8")
