"""Hostile input, concurrency, privacy and injection: the guarantees the README lists."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csatlib.cli import main
from csatlib.errors import SpecError
from csatlib.spec import load_spec

from .conftest import CSAT, DATA, ROOT, SAMPLE_SPEC, run_cli

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", max_examples=500, deadline=None, derandomize=False,  # make fuzz
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NAME_CHARS = st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd"), min_codepoint=48, max_codepoint=0x9FFF)
names = st.text(NAME_CHARS, min_size=1, max_size=6).filter(lambda s: not s.startswith("_csat_") and s.strip() == s)


@st.composite
def surveys(draw):
    """A random spec and a random, often broken, data file for it."""
    cols = draw(st.lists(names, min_size=6, max_size=6, unique_by=lambda s: s.lower()))
    rid, sat, rec, w, seg, text = cols
    low = draw(st.integers(-3, 3))
    high = low + draw(st.integers(1, 9))
    spec = {"name": draw(names), "id": rid,
            "satisfaction": {"column": sat, "scale": [low, high], "top_box": high},
            "quality": {"min_base": draw(st.integers(1, 5)), "max_quarantine_share": draw(st.sampled_from([0.2, 1.0]))}}
    if draw(st.booleans()):
        spec["nps"] = {"column": rec, "scale": [0, 10]}
    if draw(st.booleans()):
        spec["weight"] = w
    if draw(st.booleans()):
        spec["segments"] = [seg]
    if draw(st.booleans()):
        spec["text"] = [text]
    n = draw(st.integers(0, 25))
    answer = st.one_of(st.integers(low - 2, high + 2), st.just(np.nan), st.sampled_from(["x", "7,5", " ", "∞"]),
                       st.floats(allow_nan=True, allow_infinity=True, width=32))
    frame = pd.DataFrame({
        rid: draw(st.lists(st.one_of(st.integers(0, 30).map(str), st.just(np.nan)), min_size=n, max_size=n)),
        sat: draw(st.lists(answer, min_size=n, max_size=n)),
        rec: draw(st.lists(answer, min_size=n, max_size=n)),
        w: draw(st.lists(st.one_of(st.floats(-1, 5), st.just(float("nan")), st.just(float("inf"))), min_size=n,
                         max_size=n)),
        seg: draw(st.lists(st.sampled_from(["华东", "A", "", "B/..", np.nan]), min_size=n, max_size=n)),
        text: draw(st.lists(st.text(max_size=40) | st.just("<script>x</script> a@b.cn " + "长" * 300),
                            min_size=n, max_size=n)),
    })
    drop = draw(st.sampled_from([None, None, None, sat, rid]))
    if drop:
        frame = frame.drop(columns=[drop])
    kind = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "parquet", "empty", "dupcols"]))
    return spec, frame, kind


def _write(frame: pd.DataFrame, folder, kind) -> str:
    if kind == "parquet":
        path = folder / "wave.parquet"
        frame.astype(str).to_parquet(path)
    elif kind == "empty":
        path = folder / "wave.csv"
        path.write_bytes(b"")
    elif kind == "dupcols":
        path = folder / "wave.csv"
        text = frame.to_csv(index=False)
        header, _, rest = text.partition("\n")
        path.write_text(header + "," + header.split(",")[0] + "\n" + rest, encoding="utf-8")
    else:
        path = folder / "wave.csv"
        try:
            frame.to_csv(path, index=False, encoding=kind)
        except UnicodeEncodeError:
            frame.to_csv(path, index=False, encoding="utf-8")
    return str(path)


@given(case=surveys())
def test_validate_keeps_the_contract_on_any_input(case, tmp_path_factory, capsys):
    spec, frame, kind = case
    root = tmp_path_factory.mktemp("prop")
    inputs = root / "in"
    inputs.mkdir()
    spec_path = inputs / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    data = _write(frame, inputs, kind)
    code = main(["validate", "--data", data, "--spec", str(spec_path), "--wave", "W", "--out", str(root / "out"),
                 "--expectations", str(root / "exp"), "--quiet"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert len([l for l in err.splitlines() if l.startswith("csat: error")]) == 1, err
    else:
        doc = json.loads((root / "out" / "W" / "validation.json").read_text(encoding="utf-8"))
        assert doc["rows"]["read"] == doc["rows"]["clean"] + doc["rows"]["quarantined"] == len(frame)
        assert doc["success"] == (code == 0)
    assert sorted(p.name for p in root.iterdir()) in (["in"], ["in", "out"], ["exp", "in", "out"], ["exp", "in"])
    assert sorted(p.name for p in inputs.iterdir()) == sorted(["spec.yaml", os.path.basename(data)])


@given(text=st.one_of(
    st.text(max_size=300),
    st.text(alphabet="\t :-[]{}&*!|>'\"%@`#,?\nabcé中", max_size=200),
    st.sampled_from(["a: &x [1]\nb: *x\n", "name: a\nname: b\n", "!!python/object/apply:os.system ['id']",
                     "x: !!python/name:os.system", "\tname: a", "- - - -", "a: " + "[" * 5000,
                     "name: n\nid: i\nsatisfaction: {column: s, scale: [1, 5], top_box: 5}\n" + "x" * 2_000_000])))
def test_spec_loader_only_raises_spec_error(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_spec(path)
    except SpecError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


def test_one_row_and_all_bad_files_block_cleanly(tmp_path, hotel):
    one = hotel["frame"].head(1)
    bad = hotel["frame"].head(40).assign(总体满意=99)
    for name, frame in (("one.csv", one), ("bad.csv", bad)):
        data = tmp_path / name
        frame.to_csv(data, index=False)
        out = tmp_path / f"out-{name}"
        proc = run_cli("run", "--data", str(data), "--spec", str(hotel["spec"]), "--wave", "2026-秋",
                       "--out", str(out), "--expectations", str(tmp_path / "e"), "--quiet")
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        doc = json.loads((out / "2026-秋" / "validation.json").read_text(encoding="utf-8"))
        assert doc["rows"]["read"] == len(frame) == doc["rows"]["clean"] + doc["rows"]["quarantined"]
        assert not (out / "2026-秋" / "report.html").exists()
    # --out naming a file is bad usage: one clear line, exit 2
    proc = run_cli("run", "--data", str(data), "--spec", str(hotel["spec"]), "--wave", "2026-秋", "--out", str(data))
    assert proc.returncode == 2 and "--out must be a folder" in proc.stderr and "internal error" not in proc.stderr


def _start_run(out, exp, *extra):
    return subprocess.Popen([*CSAT, "run", "--data", str(DATA / "retail_2026Q2.csv"), "--spec", str(SAMPLE_SPEC),
                             "--wave", "2026Q2", "--out", str(out), "--expectations", str(exp), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_runs_wait_for_each_other(tmp_path):
    out, exp = tmp_path / "o", tmp_path / "e"
    first = _start_run(out, exp)
    time.sleep(1.5)
    second = _start_run(out, exp)
    _, err1 = first.communicate(timeout=300)
    _, err2 = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "waiting for pid" in err2 or "waiting for pid" in err1
    json.loads((out / "2026Q2" / "results.json").read_text(encoding="utf-8"))
    assert (out / "2026Q2" / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_second_run_refuses_after_wait(tmp_path):
    out, exp = tmp_path / "o", tmp_path / "e"
    first = _start_run(out, exp)
    deadline = time.time() + 60
    while not (out / ".2026Q2.lock").exists() or not (out / ".2026Q2.lock").read_text().strip():
        assert time.time() < deadline
        time.sleep(0.1)
    proc = run_cli("run", "--data", str(DATA / "retail_2026Q2.csv"), "--spec", str(SAMPLE_SPEC), "--wave", "2026Q2",
                   "--out", str(out), "--expectations", str(exp), "--wait", "0")
    first.communicate(timeout=300)
    assert proc.returncode == 2
    errors = [l for l in proc.stderr.splitlines() if l.startswith("csat: error")]
    assert len(errors) == 1 and f"pid {first.pid}" in errors[0]


def test_stale_lock_is_recovered(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".2026Q2.lock").write_text("999999")  # a lock file left by a dead process
    (out / ".2026Q2.tmp-dead").mkdir()  # and its staging folder
    proc = run_cli("validate", "--data", str(DATA / "retail_2026Q2.csv"), "--spec", str(SAMPLE_SPEC),
                   "--wave", "2026Q2", "--out", str(out), "--expectations", str(tmp_path / "e"), "--wait", "0")
    assert proc.returncode == 0, proc.stderr


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+86[\s-]?1[3-9]\d")


def test_no_pii_anywhere_in_the_demo_outputs(demo_reports):
    spec = load_spec(SAMPLE_SPEC)
    raw = pd.read_csv(DATA / "retail_2026Q3.csv", dtype=str)
    emails = set(raw["email"])
    phones = set(raw["phone"])
    assert spec.pii == ("email", "phone")
    for path in demo_reports.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        assert not EMAIL.search(text), (path, EMAIL.search(text).group(0))
        assert not PHONE.search(text), path
        assert not any(e in text for e in list(emails)[:500]), path
        assert not any(p in text for p in list(phones)[:500]), path
    nb = (demo_reports / "2026Q3" / "report.ipynb").read_text(encoding="utf-8")
    ids = set(raw["respondent_id"])
    assert not any(i in nb for i in ids)  # no respondent-level output at all
    assert 'class="dataframe"' not in nb  # no DataFrame dumps


def test_injection_is_inert(tmp_path, hotel):
    frame = hotel["frame"].copy()
    frame["评论"] = ["**bold** [click](http://evil.example/x) <img src=x onerror=alert(1)>",
                   "=HYPERLINK(\"http://evil.example\",\"x\")", "<script>alert('x')</script>", "普通评论"] * 100
    data = tmp_path / "inj.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "o"
    bad = frame.copy()
    proc = run_cli("run", "--data", str(data), "--spec", str(hotel["spec"]), "--wave", "2026-秋", "--out", str(out),
                   "--expectations", str(tmp_path / "e"))
    assert proc.returncode == 0, proc.stderr
    html = (out / "2026-秋" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>alert" not in html and 'href="http://evil' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "[click](http://evil.example/x)" in html
    # quarantine.csv keeps values exactly as read (the data owner's audit copy)
    bad.loc[0, "总体满意"] = 99
    bad.to_csv(data, index=False)
    run_cli("validate", "--data", str(data), "--spec", str(hotel["spec"]), "--wave", "2026-秋", "--out", str(out),
            "--expectations", str(tmp_path / "e"))
    q = pd.read_csv(out / "2026-秋" / "quarantine.csv", encoding="utf-8-sig", dtype=str)
    assert q.loc[0, "评论"] == frame.loc[0, "评论"]


def test_an_escaping_wave_label_is_refused_by_every_command(tmp_path, hotel):
    """``--wave ../../escape`` once created ``.._.._escape`` folders; now every command refuses it
    with one line, exit 2, before writing anything."""
    out = tmp_path / "deep" / "er" / "out"
    common = ["--data", str(hotel["data"]), "--spec", str(hotel["spec"]), "--wave", "../../escape",
              "--out", str(out), "--expectations", str(tmp_path / "e")]
    for command in (["run"], ["validate"], ["batch", "--by", "城市"]):
        proc = run_cli(*command, *common)
        assert proc.returncode == 2, (command, proc.stderr)
        errors = [l for l in proc.stderr.splitlines() if l.startswith("csat: error")]
        assert len(errors) == 1 and "'../../escape' is not a safe folder name" in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == []  # nothing anywhere
