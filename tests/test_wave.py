"""``csat run`` as a contract: inputs checked before work, the same numbers from any folder,
the trend and lock behaviour (csatlib.run.wave)."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from csatlib.errors import InputError
from csatlib.run.wave import check_run_inputs, wave_folder

from .conftest import CSAT, make_hotel_wave, run_cli


def one_error_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    lines = [l for l in proc.stderr.strip().splitlines() if l.startswith("csat: ")]
    assert len(lines) == 1 and lines[0].startswith("csat: error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("out", ["/proc/csat-out", "under-a-file/reports"])
def test_an_unusable_out_folder_is_one_error_line(hotel, tmp_path, out):
    (tmp_path / "under-a-file").write_text("x")
    target = out if out.startswith("/") else str(tmp_path / out)
    proc = run_cli("run", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "W1",
                   "--out", target)
    assert proc.returncode == 2
    one_error_line(proc, target, "cannot write the output folder")


def test_a_missing_notebook_is_exit_2_before_any_work(hotel, tmp_path):
    proc = run_cli("run", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "W1",
                   "--out", str(tmp_path / "o"), "--notebook", str(tmp_path / "nope.ipynb"))
    assert proc.returncode == 2
    one_error_line(proc, "nope.ipynb", "no such file")
    assert not (tmp_path / "o" / "W1").exists()


@pytest.mark.parametrize("label", ["", "../../escape", "a/b", ".hidden", "tab\there"])
def test_unsafe_wave_labels_are_refused(label):
    with pytest.raises(InputError):
        wave_folder(label)


def test_safe_wave_labels_keep_their_text():
    assert wave_folder("2026Q3") == "2026Q3" and wave_folder("2026-秋") == "2026-秋"


def test_inputs_are_checked_before_any_work(tmp_path):
    (tmp_path / "data.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match="no such file"):
        check_run_inputs(tmp_path / "data.csv", "W", tmp_path / "out", previous=tmp_path / "missing")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_same_results_from_any_working_directory_and_the_trend_holds_the_previous_wave(hotel, tmp_path):
    earlier = tmp_path / "summer.csv"
    make_hotel_wave(300, seed=21, wave="2026-夏").to_csv(earlier, index=False)
    spec_copy = tmp_path / "specs" / "hotel.yaml"
    spec_copy.parent.mkdir()
    shutil.copy(hotel["spec"], spec_copy)
    data = tmp_path / "autumn.csv"
    shutil.copy(hotel["data"], data)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    runs = []
    for cwd, prefix in ((tmp_path, ""), (elsewhere, "../")):
        out = f"{prefix}out-{len(runs)}"
        proc = run_cli("run", "--data", f"{prefix}autumn.csv", "--spec", f"{prefix}specs/hotel.yaml",
                       "--wave", "2026-秋", "--previous", f"{prefix}summer.csv", "--out", out, cwd=cwd)
        assert proc.returncode == 0, proc.stderr
        runs.append(tmp_path / f"out-{len(runs)}" / "2026-秋")
    first, second = ((r / "results.json").read_bytes() for r in runs)
    assert first == second
    v1, v2 = (json.loads((r / "validation.json").read_text(encoding="utf-8")) for r in runs)
    assert v1["reasons"] == v2["reasons"] and v1["expectations"] == v2["expectations"]
    # the suite is stored beside the spec, not in either working directory
    assert (spec_copy.parent / "expectations").is_dir() and not (elsewhere / "expectations").exists()
    trend = json.loads(first)["trend"]
    assert [row["wave"] for row in trend] == ["2026-夏", "2026-秋"]  # a fresh --out still shows the previous wave
    # the wave's lock file is gone once the run ends
    assert not list(runs[0].parent.glob(".*.lock"))


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has installed a SIGTERM handler (Linux: SigCgt in /proc/<pid>/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(l.split()[1] for l in status.splitlines() if l.startswith("SigCgt:")), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc to see signal handlers")
def test_sigterm_during_start_up_exits_143(tmp_path):
    """The handler is installed before the heavy imports: a signal right after it exits 143."""
    proc = subprocess.Popen([*CSAT, "demo", "--out", str(tmp_path / "o")], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _catches_sigterm(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err and "internal error" not in err
