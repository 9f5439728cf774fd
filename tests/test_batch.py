"""csat batch on a real Dask LocalCluster and on a real scheduler/worker pair on loopback."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from .conftest import make_hotel_wave, run_cli

DASK = str(Path(sys.executable).parent / "dask")


@pytest.fixture(scope="module")
def hotel_batch_input(hotel, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch-in")
    frame = make_hotel_wave(500, seed=12)
    frame.loc[:7, "城市"] = "深圳/南山"  # a small value (below min_base 20) with a path separator
    frame.loc[:7, "城市"] = "深圳/南山"
    data = folder / "hotel.csv"
    frame.to_csv(data, index=False)
    spec = folder / "hotel.yaml"
    spec.write_text(hotel["spec"].read_text(encoding="utf-8").replace("categories: {城市: [北京, 上海, 广州]}\n", ""),
                    encoding="utf-8")
    return data, spec, folder


def batch_args(data, spec, out, exp, *extra):
    return ("batch", "--data", str(data), "--spec", str(spec), "--wave", "2026-秋", "--by", "城市", "--out", str(out),
            "--expectations", str(exp), *extra)


def test_local_cluster_batch_and_idempotent_rerun(hotel_batch_input, tmp_path):
    data, spec, _ = hotel_batch_input
    out, exp = tmp_path / "o", tmp_path / "e"
    proc = run_cli(*batch_args(data, spec, out, exp))
    assert proc.returncode == 0, proc.stderr
    folder = out / "2026-秋" / "by-城市"
    for city in ("北京", "上海", "广州"):
        assert (folder / city / "report.html").is_file()
        doc = json.loads((folder / city / "results.json").read_text(encoding="utf-8"))
        assert doc["meta"]["segment"] == {"城市": city}
        assert doc["rows"]["read"] == doc["rows"]["clean"] + doc["rows"]["quarantined"]
        assert city in (folder / city / "report.html").read_text(encoding="utf-8")
    assert not (folder / "深圳_南山").exists()  # below min_base: no report, and no path escape
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "深圳/南山" in index and "suppressed" in index and "min_base 20" in index
    assert index.count("report.html") == 3
    assert proc.stderr.count("report written") == 3 and "batch finished" in proc.stderr
    # re-run: same inputs, nothing re-rendered, outputs unchanged
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("report.html")}
    again = run_cli(*batch_args(data, spec, out, exp))
    assert again.returncode == 0 and "3 unchanged" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("report.html")} == before
    forced = run_cli(*batch_args(data, spec, out, exp, "--force"))
    assert forced.returncode == 0 and "3 rendered" in forced.stderr


def test_failed_segment_exit_3_and_marked(hotel_batch_input, tmp_path):
    data, spec, _ = hotel_batch_input
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('results_dir = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "import json, pathlib\n"
                    "seg = json.loads(pathlib.Path(results_dir, 'results.json').read_text(encoding='utf-8'))['meta']['segment']\n"
                    "if '上海' in seg.values():\n    raise RuntimeError('planted failure')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "fails_for_shanghai.ipynb"
    nbformat.write(nb, str(path))
    out = tmp_path / "o"
    proc = run_cli(*batch_args(data, spec, out, tmp_path / "e", "--notebook", str(path)))
    assert proc.returncode == 3
    errors = [l for l in proc.stderr.splitlines() if l.startswith("csat: error")]
    assert len(errors) == 1 and "'上海'" in errors[0] and "planted failure" in errors[0]
    folder = out / "2026-秋" / "by-城市"
    assert (folder / "北京" / "report.html").is_file() and (folder / "广州" / "report.html").is_file()
    assert not (folder / "上海" / "results.json").exists()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "failed" in index and "planted failure" in index


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_batch_on_a_real_scheduler_and_worker(hotel_batch_input, tmp_path):
    data, spec, _ = hotel_batch_input
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=(logs / "scheduler.log").open("w"))
    worker = None
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        worker = subprocess.Popen([DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                   "--local-directory", str(tmp_path / "worker")],
                                  stdout=subprocess.DEVNULL, stderr=(logs / "worker.log").open("w"))
        out = tmp_path / "o"
        proc = run_cli(*batch_args(data, spec, out, tmp_path / "e", "--scheduler", address), timeout=300)
        assert proc.returncode == 0, proc.stderr + (logs / "worker.log").read_text()
        folder = out / "2026-秋" / "by-城市"
        assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == sorted(["北京", "上海", "广州"])
    finally:
        for p in (worker, scheduler):
            if p is not None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


@pytest.mark.parametrize("label, expected", [
    ("华东", "华东"), ("深圳/南山", "深圳_南山"), ("..", "_.."), (".", "_."), ("", "_"), ("CON", "_CON"),
    ("nul.txt", "_nul.txt"), ("a\\b:c*d", "a_b_c_d"), ("  online  ", "online"), ("x" * 300, "x" * 120),
])
def test_safe_folder_names(label, expected):
    from csatlib.output import safe_name

    assert safe_name(label) == expected
    assert "/" not in safe_name(label) and safe_name(label) not in (".", "..", "")


def test_previous_wave_per_segment_from_file_batch_folder_and_run_folder(hotel, tmp_path):
    from csatlib.analysis.kpis import dimension_kpis, kpis
    from csatlib.results import Estimate, Provenance, Results
    from csatlib.run.previous import load_previous
    from csatlib.spec import load_spec

    spec = load_spec(hotel["spec"])
    earlier = make_hotel_wave(300, seed=21, wave="2026-夏")
    data = tmp_path / "summer.csv"
    earlier.to_csv(data, index=False)
    by_file = load_previous(data, spec, tmp_path / "e", by="城市")
    assert set(by_file.by_value) == {"北京", "上海", "广州"} and by_file.wave == "2026-夏"
    shanghai = earlier[earlier["城市"] == "上海"]
    expected = {e.id: e.estimate for e in kpis(shanghai, spec) + dimension_kpis(shanghai, spec)}
    got = {e.id: e.estimate for e in by_file.for_segment("城市", "上海").estimates}
    assert got == pytest.approx(expected)
    # from an earlier batch folder: <wave>/by-<column>/<value>/results.json
    folder = tmp_path / "2026-夏" / "by-城市" / "上海"
    Results(spec.name, "2026-夏", None, True, {}, [Estimate("nps", 12.5, n=90)],
            provenance=Provenance(segment={"城市": "上海"})).write(folder / "results.json")
    by_folder = load_previous(tmp_path / "2026-夏", spec, by="城市")
    seg = by_folder.for_segment("城市", "上海")
    assert seg.wave == "2026-夏" and seg.estimates[0].estimate == 12.5
    assert by_folder.for_segment("城市", "北京") is None
    # regression: a whole-wave run folder (reports/<wave>/) feeds each segment from its segment estimates
    run_folder = tmp_path / "run" / "2026-夏"
    Results(spec.name, "2026-夏", None, True, {}, [Estimate("nps", 3.0, n=300),
                                                  Estimate("nps", 7.5, n=80, segment={"城市": "北京"})]
            ).write(run_folder / "results.json")
    from_run = load_previous(run_folder, spec, by="城市")
    beijing = from_run.for_segment("城市", "北京")
    assert beijing is not None and beijing.estimates[0].estimate == 7.5 and beijing.estimates[0].segment is None


RAKE_CITY = "weighting:\n  rake:\n    城市: {北京: 0.6, 上海: 0.4}\n"


def test_batch_by_a_raked_column_uses_the_whole_wave_weights(hotel, tmp_path):
    """Weights are raked on the whole wave, then it is split: one report per raked category works
    (raking a segment alone fails: the other category has no rows) and each segment's numbers
    come from the whole wave's weights and design."""
    import numpy as np

    from csatlib.sampling import frame_weights
    from csatlib.spec import load_spec

    frame = make_hotel_wave(240, seed=31)
    frame = frame[frame["城市"] != "广州"].reset_index(drop=True)
    data = tmp_path / "two_cities.csv"
    frame.to_csv(data, index=False)
    spec_path = tmp_path / "hotel_raked.yaml"
    spec_path.write_text(hotel["spec"].read_text(encoding="utf-8") + RAKE_CITY, encoding="utf-8")
    out = tmp_path / "o"
    proc = run_cli(*batch_args(data, spec_path, out, tmp_path / "e"))
    assert proc.returncode == 0, proc.stderr
    w = frame_weights(frame, load_spec(spec_path)).weights  # raked on every row of the wave
    for city in ("北京", "上海"):
        doc = json.loads((out / "2026-秋" / "by-城市" / city / "results.json").read_text(encoding="utf-8"))
        assert doc["rows"]["quarantined"] == 0
        mask = (frame["城市"] == city).to_numpy()
        score = next(e for e in doc["estimates"] if e["id"] == "satisfaction.score" and e.get("segment") is None)
        assert score["estimate"] == pytest.approx(np.average(frame["总体满意"][mask], weights=w[mask]), rel=1e-12)
        weighting = doc["weighting"]
        assert weighting["n"] == int(mask.sum()) and weighting["min"] == pytest.approx(w[mask].min())
        assert {m["value"]: m["achieved"] for m in weighting["margins"]} == pytest.approx({"北京": 0.6, "上海": 0.4})
        assert any("raked on the whole wave" in n for n in weighting["notes"])
        html = (out / "2026-秋" / "by-城市" / city / "report.html").read_text(encoding="utf-8")
        assert "raked on the whole wave" in html


def test_previous_wave_segments_of_a_raked_column_are_domains_of_the_whole_wave(hotel, tmp_path):
    import numpy as np

    from csatlib.analysis.kpis import segment_kpis
    from csatlib.run.previous import load_previous
    from csatlib.sampling import apply_weighting
    from csatlib.spec import load_spec

    spec_path = tmp_path / "hotel_raked.yaml"
    spec_path.write_text(hotel["spec"].read_text(encoding="utf-8")
                         + RAKE_CITY.replace("上海: 0.4}", "上海: 0.25, 广州: 0.15}"), encoding="utf-8")
    spec = load_spec(spec_path)
    earlier = make_hotel_wave(300, seed=22, wave="2026-夏")
    data = tmp_path / "summer.csv"
    earlier.to_csv(data, index=False)
    prev = load_previous(data, spec, tmp_path / "e", by="城市")
    weighted, _ = apply_weighting(earlier, spec)
    whole = {e.id: e for e in segment_kpis(weighted, spec) if e.segment == {"城市": "上海"}}
    got = {e.id: e for e in prev.for_segment("城市", "上海").estimates}
    w = weighted["_csat_weight"].to_numpy(float)
    mask = (earlier["城市"] == "上海").to_numpy()
    assert got["satisfaction.score"].estimate == pytest.approx(np.average(earlier["总体满意"][mask], weights=w[mask]))
    for kpi in ("satisfaction.score", "nps"):
        assert got[kpi].estimate == pytest.approx(whole[kpi].estimate, rel=1e-12)
        assert got[kpi].se == pytest.approx(whole[kpi].se, rel=1e-12)
