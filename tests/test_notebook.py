"""Report kernels: a pooled kernel reused across notebooks gives the same output as a fresh one
(real kernels, real papermill; no timing assertions)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from csatlib.errors import NotebookFailed
from csatlib.report.html import notebook_to_html
from csatlib.report.notebook import KernelPool, WarmKernel, execute_notebook, report_notebook

PROBE = [
    "x: int = 0  # parameter",
    # what a notebook can observe of the state it starts in
    "import os, json, matplotlib, matplotlib.pyplot as plt\n"
    "state = {'names': sorted(k for k in globals() if not k.startswith('_') and k not in "
    "('In', 'Out', 'get_ipython', 'exit', 'quit', 'open')),\n"
    "         'cwd': os.path.basename(os.getcwd()), 'figures': plt.get_fignums(),\n"
    "         'rc': {k: str(matplotlib.rcParams[k]) for k in ('figure.figsize', 'font.size', 'axes.grid')},\n"
    "         'count': get_ipython().execution_count}\n"
    "print(json.dumps(state, sort_keys=True))",
    # and the state it leaves behind
    "leak = 42\nmatplotlib.rcParams['font.size'] = 31\nplt.figure()\nos.environ.get('HOME') and None",
]


def probe_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE[0], metadata={"tags": ["parameters"]}),
                *[nbformat.v4.new_code_cell(c) for c in PROBE[1:]]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "probe.ipynb"
    nbformat.write(nb, str(path))
    return path


def observed(executed: Path) -> dict:
    nb = nbformat.read(str(executed), as_version=4)
    probe = next(c for c in nb.cells if c.source.startswith("import os, json"))
    return json.loads(probe.outputs[0]["text"])


def cells(executed: Path) -> list:
    """Cell sources, execution counts and outputs (what a reader of report.ipynb sees)."""
    nb = nbformat.read(str(executed), as_version=4)
    return [(c.source, c.get("execution_count"), c.get("outputs")) for c in nb.cells]


def test_a_pooled_kernel_starts_each_notebook_like_a_fresh_one(tmp_path):
    pool = KernelPool()
    try:
        first, second = probe_notebook(tmp_path / "a"), probe_notebook(tmp_path / "b")
        execute_notebook(first, tmp_path / "a" / "out.ipynb", {"x": 1}, kernel=pool.acquire(first.parent))
        execute_notebook(second, tmp_path / "b" / "out.ipynb", {"x": 2}, kernel=pool.acquire(second.parent))
        assert pool.started == 1  # the second notebook ran on the first one's kernel
    finally:
        pool.shutdown()
    fresh = probe_notebook(tmp_path / "b2")
    execute_notebook(fresh, tmp_path / "b2" / "out.ipynb", {"x": 2}, kernel=WarmKernel(fresh.parent))
    reused, new = observed(tmp_path / "b" / "out.ipynb"), observed(tmp_path / "b2" / "out.ipynb")
    assert "leak" not in reused["names"] and reused["figures"] == [] and reused["rc"]["font.size"] != "31.0"
    assert reused["cwd"] == "b" and new["cwd"] == "b2"
    assert {k: v for k, v in reused.items() if k != "cwd"} == {k: v for k, v in new.items() if k != "cwd"}
    assert [c[1] for c in cells(tmp_path / "b" / "out.ipynb")] == [c[1] for c in cells(tmp_path / "b2" / "out.ipynb")]


def test_a_failed_notebook_does_not_return_its_kernel(tmp_path):
    pool = KernelPool()
    try:
        bad = probe_notebook(tmp_path / "bad")
        nb = nbformat.read(str(bad), as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('boom')"))
        nbformat.write(nb, str(bad))
        kernel = pool.acquire(bad.parent)
        with pytest.raises(NotebookFailed, match="boom"):
            execute_notebook(bad, bad.parent / "out.ipynb", {}, kernel=kernel)
        assert not kernel.alive() and repr(pool).startswith("KernelPool(0 idle")
        good = probe_notebook(tmp_path / "good")
        execute_notebook(good, good.parent / "out.ipynb", {"x": 3}, kernel=pool.acquire(good.parent))
        assert pool.started == 2 and "leak" not in observed(good.parent / "out.ipynb")["names"]
    finally:
        pool.shutdown()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_a_pooled_kernel_leaks_no_file_descriptors(tmp_path):
    import os

    pool = KernelPool()
    try:
        path = probe_notebook(tmp_path)
        counts = []
        for i in range(6):
            execute_notebook(path, tmp_path / f"out{i}.ipynb", {"x": i}, kernel=pool.acquire(tmp_path))
            counts.append(len(os.listdir("/proc/self/fd")))
        assert pool.started == 1
        assert counts[-1] <= counts[1]  # nbclient's kernel client is closed after every notebook
    finally:
        pool.shutdown()


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory):
    """results.json of two segments of the hotel survey (Chinese labels, weights)."""
    from csatlib.results import Provenance
    from csatlib.run.stages import analyse
    from csatlib.spec import parse_spec

    from .conftest import HOTEL_SPEC, make_hotel_wave
    import yaml

    spec = parse_spec(yaml.safe_load(HOTEL_SPEC))
    frame = make_hotel_wave(n=500, seed=21)
    from csatlib.ingest.load import add_derived_columns

    frame = add_derived_columns(frame.drop(columns=["手机"]), spec)
    out = {}
    for city in ("北京", "上海"):
        rows = frame[frame["城市"] == city]
        folder = tmp_path_factory.mktemp(f"seg-{city}")
        analyse(rows, spec, wave="2026-秋", rows={"read": len(rows), "clean": len(rows), "quarantined": 0},
                provenance=Provenance(spec=spec.to_dict()), segment={"城市": city}).write(folder / "results.json")
        out[city] = folder
    return out


def test_report_on_a_reused_kernel_equals_the_report_on_a_fresh_kernel(two_segments, tmp_path):
    notebook = report_notebook()
    pool = KernelPool()
    try:
        for city in ("北京", "上海"):  # 上海 runs on the kernel 北京 used
            folder = two_segments[city]
            execute_notebook(notebook, tmp_path / f"pooled-{city}.ipynb", {"results_dir": str(folder)},
                             kernel=pool.acquire(folder))
        assert pool.started == 1
    finally:
        pool.shutdown()
    folder = two_segments["上海"]
    execute_notebook(notebook, tmp_path / "fresh.ipynb", {"results_dir": str(folder)}, kernel=WarmKernel(folder))
    # the header says when the notebook ran, to the minute: the two runs may fall in different minutes
    assert without_run_time(cells(tmp_path / "pooled-上海.ipynb")) == without_run_time(cells(tmp_path / "fresh.ipynb"))
    # the pages differ only in the random id papermill gives its injected parameters cell (and the minute)
    page = lambda name: without_run_time(re.sub(r"cell-id=[0-9a-f-]+", "cell-id",  # noqa: E731
                                                notebook_to_html(tmp_path / name)))
    assert page("pooled-上海.ipynb") == page("fresh.ipynb")


def without_run_time(value):
    """``value`` (text, or cells as :func:`cells` gives them) with the header's "Run <date> <time> UTC"
    stamp taken out; every other character stays."""
    if isinstance(value, str):
        return re.sub(r"Run \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "Run (time) UTC", value)
    return json.loads(without_run_time(json.dumps(value, ensure_ascii=False)))


def test_a_pooled_kernel_is_reused_after_its_last_folder_is_deleted(tmp_path):
    """A batch renders each segment in a temporary folder that is gone by the next segment: the
    pooled kernel must still be reset and reused (its reset once failed there, and every other
    segment paid for a fresh kernel)."""
    import shutil

    pool = KernelPool()
    try:
        first = probe_notebook(tmp_path / "a")
        execute_notebook(first, tmp_path / "a" / "out.ipynb", {"x": 1}, kernel=pool.acquire(first.parent))
        shutil.rmtree(tmp_path / "a")
        second = probe_notebook(tmp_path / "b")
        kernel = pool.acquire(second.parent)
        execute_notebook(second, tmp_path / "b" / "out.ipynb", {"x": 2}, kernel=kernel)
        assert pool.started == 1 and not kernel.broken  # the second notebook ran on the first one's kernel
        assert observed(tmp_path / "b" / "out.ipynb")["cwd"] == "b"
    finally:
        pool.shutdown()


@pytest.mark.parametrize("last_cell, error", [("raise ValueError('boom')", "boom"),
                                              ("import os\nos._exit(1)", "DeadKernelError"),
                                              ("import time\ntime.sleep(3600)", "CellTimeoutError")],
                         ids=["cell error", "kernel died", "cell timed out"])
def test_a_failed_notebook_keeps_what_ran_on_a_warm_kernel(tmp_path, last_cell, error):
    """The notebook is written once at the end, not after every cell: a failing cell, a kernel
    that dies or a cell that runs past the timeout still leaves the partial notebook, with the
    outputs of the cells that ran, and never hangs the run (a warm kernel's client must let
    nbclient watch the heartbeat and the clock)."""
    bad = probe_notebook(tmp_path / "bad")
    nb = nbformat.read(str(bad), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(last_cell))
    nbformat.write(nb, str(bad))
    kept = tmp_path / "kept" / "report.failed.ipynb"
    with pytest.raises(NotebookFailed, match=error):
        execute_notebook(bad, bad.parent / "out.ipynb", {"x": 5}, failed_copy=kept, timeout=30,
                         kernel=WarmKernel(bad.parent))
    assert observed(kept)["cwd"] == "bad"  # the probe cell ran, and its output was kept
