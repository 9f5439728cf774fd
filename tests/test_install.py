"""A real install: the wheel built from the project runs ``csat demo`` outside the checkout.

The wheel is built without network (``--no-deps --no-build-isolation``) and installed into a
fresh virtual environment in a temporary folder. The dependencies come from the test's own
environment through a plain path entry, so nothing of the checkout (its ``notebooks/``,
``data/`` or the editable install) is importable: a file missing from the package data fails here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SetuptoolsDeprecationWarning" not in proc.stderr, proc.stderr[-2000:]
    (path,) = out.glob("csatlib-*.whl")
    return path


def test_wheel_ships_the_report_notebook_and_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "csatlib/report/report.ipynb" in names
    assert any(n.startswith("csatlib/report/templates/csat_report/") for n in names)
    for package in ("ingest", "validation", "stats", "analysis", "report", "run"):
        assert f"csatlib/{package}/__init__.py" in names


def test_installed_wheel_runs_the_demo_outside_the_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    with zipfile.ZipFile(wheel) as zf:  # what pip does for a pure wheel: unpack into site-packages
        zf.extractall(site)
    dist_info = next(site.glob("csatlib-*.dist-info"))
    (site / "csat_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # dependencies only
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CSAT_DEBUG")}
    # the data files pip would have put under the new prefix (nbconvert templates, kernel specs)
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = subprocess.run([str(python), "-c", "import csatlib, sys; print(csatlib.__file__)"], cwd=work,
                           capture_output=True, text=True, env=env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout  # the wheel's copy, not the checkout
    assert (dist_info / "entry_points.txt").read_text().count("csat = csatlib.cli:entry") == 1
    proc = subprocess.run([str(python), "-c", "from csatlib.cli import entry; entry()",
                           "demo", "--out", "reports"], cwd=work, capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for wave in ("2026Q2", "2026Q3"):
        folder = work / "reports" / wave
        assert (folder / "report.html").stat().st_size > 10_000
        assert json.loads((folder / "results.json").read_text(encoding="utf-8"))["wave"] == wave
    assert (work / "reports" / "index.html").exists()
