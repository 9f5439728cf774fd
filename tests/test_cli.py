"""The csat command as a scheduled job uses it: exit codes, stderr lines, outputs, privacy."""
from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser

import nbformat
import pandas as pd
import pytest

from .conftest import CSAT, DATA, ROOT, SAMPLE_SPEC, run_cli


def one_clear_line(stderr: str, *needles: str) -> None:
    lines = [l for l in stderr.strip().splitlines() if l.startswith("csat: error")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def hotel_run(hotel, tmp_path_factory):
    out = tmp_path_factory.mktemp("hotel-out")
    exp = tmp_path_factory.mktemp("hotel-exp")
    proc = run_cli("run", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                   "--out", str(out), "--expectations", str(exp))
    return proc, out, exp


def test_run_on_a_differently_shaped_survey(hotel_run, hotel):
    proc, out, exp = hotel_run
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # progress goes to stderr
    assert "csat: [2026-秋] validated" in proc.stderr
    folder = out / "2026-秋"
    for name in ("report.html", "report.ipynb", "results.json", "validation.json", "quarantine.csv"):
        assert (folder / name).is_file(), name
    assert (out / "index.html").is_file()
    assert (exp / "酒店满意度.json").is_file()
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert doc["survey"] == "酒店满意度" and doc["weighted"] is True
    rows = doc["rows"]
    assert rows["read"] == rows["clean"] + rows["quarantined"] == len(hotel["frame"])
    ids = {e["id"] for e in doc["estimates"]}
    assert {"satisfaction.score", "satisfaction.index", "satisfaction.rate", "nps", "loyalty.再次入住.score"} <= ids
    for e in doc["estimates"]:
        assert {"id", "segment", "estimate", "ci_low", "ci_high", "n", "n_eff", "p"} <= set(e)
    seg = [e for e in doc["estimates"] if e["segment"] == {"城市": "上海"}]
    assert seg and seg[0]["estimate"] is not None
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "酒店满意度" in html and "上海" in html


def test_no_pii_in_any_output(hotel_run, hotel):
    _, out, _ = hotel_run
    phones = set(hotel["frame"]["手机"])
    planted = "13912345678"
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="ignore")
            assert planted not in text, path
            assert not any(p in text for p in phones), path


def test_script_in_comments_is_escaped(hotel_run):
    _, out, _ = hotel_run
    html = (out / "2026-秋" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v:
                self.refs.append(v)


def external_refs(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    refs = [r for r in parser.refs if not r.startswith(("data:", "#"))
            and re.match(r"^[a-z][a-z0-9+.-]*:|^//", r, re.I)]
    css_urls = [u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", html) if not u.startswith(("data:", "#"))]
    imports = re.findall(r"@import\s+['\"]?([^'\";]+)", html)
    return refs + css_urls + imports


def test_report_has_no_external_references(hotel_run):
    _, out, _ = hotel_run
    html = (out / "2026-秋" / "report.html").read_text(encoding="utf-8")
    assert external_refs(html) == []
    assert "<script src" not in html


def test_report_has_no_code_cells(hotel_run):
    _, out, _ = hotel_run
    html = (out / "2026-秋" / "report.html").read_text(encoding="utf-8")
    assert "import csatlib" not in html and "results_dir" not in html and "load_results" not in html


def test_missing_data_file_exit_2(tmp_path):
    proc = run_cli("run", "--data", str(tmp_path / "none.csv"), "--spec", str(SAMPLE_SPEC), "--wave", "X",
                   "--out", str(tmp_path))
    assert proc.returncode == 2
    one_clear_line(proc.stderr, "none.csv", "no such file")


def test_bad_spec_exit_2(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: x\nid: i\nsatisfaction: {column: s, scale: [5, 1], top_box: 3}\n")
    proc = run_cli("validate", "--data", str(tmp_path / "x.csv"), "--spec", str(spec), "--wave", "X",
                   "--out", str(tmp_path))
    assert proc.returncode == 2
    one_clear_line(proc.stderr, "bad.yaml", "satisfaction.scale is inverted")


def test_missing_column_exit_2(tmp_path, hotel):
    data = tmp_path / "short.csv"
    hotel["frame"].drop(columns=["总体满意"]).to_csv(data, index=False)
    proc = run_cli("run", "--data", str(data), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                   "--out", str(tmp_path / "o"), "--expectations", str(tmp_path / "e"))
    assert proc.returncode == 2
    one_clear_line(proc.stderr, "short.csv", "'总体满意' (satisfaction)", "hotel.yaml")
    out = tmp_path / "o"
    assert not out.exists() or list(out.iterdir()) == []  # nothing written; the lock file is removed


def test_bad_usage_exit_2():
    proc = run_cli("run", "--spec", "x.yaml")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_blocked_run_exit_1_keeps_earlier_report(tmp_path, hotel):
    out, exp = tmp_path / "o", tmp_path / "e"
    ok = run_cli("run", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                 "--out", str(out), "--expectations", str(exp))
    assert ok.returncode == 0, ok.stderr
    before = (out / "2026-秋" / "report.html").read_bytes()
    results_before = (out / "2026-秋" / "results.json").read_bytes()
    bad = hotel["frame"].copy()
    bad.loc[:5, "编号"] = "H0000"  # duplicate ids: blocking
    data = tmp_path / "dups.csv"
    bad.to_csv(data, index=False)
    proc = run_cli("run", "--data", str(data), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                   "--out", str(out), "--expectations", str(exp))
    assert proc.returncode == 1
    one_clear_line(proc.stderr, "dups.csv", "6 rows share an id")
    doc = json.loads((out / "2026-秋" / "validation.json").read_text(encoding="utf-8"))
    assert doc["success"] is False and any("share an id" in b for b in doc["blocking_failures"])
    q = pd.read_csv(out / "2026-秋" / "quarantine.csv", encoding="utf-8-sig")
    assert q["_reasons"].str.contains("duplicate id").sum() == 6
    assert (out / "2026-秋" / "report.html").read_bytes() == before
    assert (out / "2026-秋" / "results.json").read_bytes() == results_before


def test_validate_command(tmp_path, hotel):
    proc = run_cli("validate", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                   "--out", str(tmp_path), "--expectations", str(tmp_path / "e"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "2026-秋").iterdir()) == ["quarantine.csv", "validation.json"]
    wrong = run_cli("validate", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "2027",
                    "--out", str(tmp_path), "--expectations", str(tmp_path / "e"))
    assert wrong.returncode == 1
    one_clear_line(wrong.stderr, "wave label other than '2027'")


def test_expectations_command_reports_changes(tmp_path, hotel):
    exp = tmp_path / "e"
    first = run_cli("expectations", "--spec", str(hotel["spec"]), "--expectations", str(exp))
    assert first.returncode == 0 and "created" in first.stderr
    again = run_cli("expectations", "--spec", str(hotel["spec"]), "--expectations", str(exp))
    assert "up to date" in again.stderr
    changed = tmp_path / "hotel2.yaml"
    changed.write_text(hotel["spec"].read_text(encoding="utf-8").replace("min_base: 20", "min_base: 25"),
                       encoding="utf-8")
    third = run_cli("expectations", "--spec", str(changed), "--expectations", str(exp))
    assert "rebuilt" in third.stderr and "changed min_base" in third.stderr


def test_failing_notebook_exit_3_keeps_partial(tmp_path, hotel):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('results_dir = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("raise RuntimeError('chart exploded')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(path))
    out = tmp_path / "o"
    proc = run_cli("run", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                   "--out", str(out), "--expectations", str(tmp_path / "e"), "--notebook", str(path))
    assert proc.returncode == 3
    one_clear_line(proc.stderr, "RuntimeError: chart exploded", "report.failed.ipynb")
    kept = out / "2026-秋" / "report.failed.ipynb"
    assert kept.is_file() and "chart exploded" in kept.read_text(encoding="utf-8")
    assert not (out / "2026-秋" / "report.html").exists() and not (out / "2026-秋" / "results.json").exists()
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]  # no staging folder left behind


def test_previous_as_file_or_folder_gives_the_same_changes(tmp_path, hotel):
    from .conftest import make_hotel_wave

    earlier = tmp_path / "summer.csv"
    make_hotel_wave(350, seed=4, wave="2026-夏").to_csv(earlier, index=False)
    out, exp = tmp_path / "o", tmp_path / "e"
    common = ["--spec", str(hotel["spec"]), "--expectations", str(exp)]
    assert run_cli("run", "--data", str(earlier), "--wave", "2026-夏", "--out", str(out), *common).returncode == 0
    by_folder = run_cli("run", "--data", str(hotel["data"]), "--wave", "2026-秋", "--out", str(out),
                        "--previous", str(out / "2026-夏"), *common)
    assert by_folder.returncode == 0, by_folder.stderr
    doc_folder = json.loads((out / "2026-秋" / "results.json").read_text(encoding="utf-8"))
    by_file = run_cli("run", "--data", str(hotel["data"]), "--wave", "2026-秋", "--out", str(tmp_path / "o2"),
                      "--previous", str(earlier), *common)
    assert by_file.returncode == 0, by_file.stderr
    doc_file = json.loads((tmp_path / "o2" / "2026-秋" / "results.json").read_text(encoding="utf-8"))
    changes = lambda d: {e["id"]: e for e in d["estimates"] if e["id"].startswith("change.")}
    a, b = changes(doc_folder), changes(doc_file)
    assert a.keys() == b.keys() and "change.nps" in a
    for k in a:
        assert a[k]["estimate"] == pytest.approx(b[k]["estimate"], rel=1e-9)
        assert a[k]["p"] == pytest.approx(b[k]["p"], rel=1e-9)
    assert doc_folder["previous_wave"] == doc_file["previous_wave"] == "2026-夏"
    assert [t["wave"] for t in doc_folder["trend"]] == ["2026-夏", "2026-秋"]


def test_second_survey_report_has_every_section(hotel_run):
    _, out, _ = hotel_run
    html = (out / "2026-秋" / "report.html").read_text(encoding="utf-8")
    for section in ("Headline KPIs", "Segments", "Satisfaction → loyalty", "Expectation gaps",
                    "Key drivers and the importance-performance map", "Verbatim comments", "Data quality",
                    "Methods appendix"):
        assert section in html, section
    assert "first wave reported" in html  # one wave: said once in the header, no empty trend section
    assert "再次入住" in html and "Promoter share" in html  # loyalty item and promoter models
    assert "清洁" in html and "位置" in html  # gap dimensions and a perception-only driver
    doc = json.loads((out / "2026-秋" / "results.json").read_text(encoding="utf-8"))
    assert {d["dimension"] for d in doc["models"]["gap"]["dimensions"]} == {"清洁", "服务"}
    assert {d["dimension"] for d in doc["models"]["drivers"]["dimensions"]} == {"清洁", "服务", "位置"}


def test_relative_out_folder_works(tmp_path, hotel):
    # a scheduled job usually runs `csat run ... --out reports` from its own working directory
    proc = run_cli("run", "--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                   "--out", "reports", "--expectations", "expectations", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "reports" / "2026-秋" / "report.html").is_file()
    assert (tmp_path / "expectations" / "酒店满意度.json").is_file()


def test_a_closed_stderr_does_not_stop_the_run(tmp_path):
    # a scheduled job whose log reader went away (csat run ... 2>&1 | head -1): the report is
    # still published and the exit code says how the run ended, not that a progress line failed
    out = tmp_path / "o"
    proc = subprocess.Popen([*CSAT, "run", "--data", str(DATA / "retail_2026Q3.csv"), "--spec", str(SAMPLE_SPEC),
                             "--wave", "2026Q3", "--out", str(out), "--expectations", str(tmp_path / "exp")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = proc.stderr.readline()
    proc.stderr.close()
    assert proc.wait(timeout=300) == 0, first
    assert first.startswith(b"csat: [2026Q3] loaded")
    assert (out / "2026Q3" / "report.html").exists() and (out / "2026Q3" / "results.json").exists()
