"""The rendered report: CJK glyphs, offline HTML, the index, atomic publishing, a real browser."""
from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
import warnings

import pytest

from csatlib.report.charts import cjk_font_path, kpi_interval_chart, to_png, use_report_style
from csatlib.report.html import embed_cjk_font
from csatlib.run.publish import publish, staging_dir

from .conftest import CSAT, DATA, ROOT, SAMPLE_SPEC
from .test_cli import external_refs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_chinese_chart_labels_have_real_glyphs():
    assert cjk_font_path() is not None, "mplfonts must ship Noto Sans CJK SC"
    use_report_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" becomes an error
        fig = kpi_interval_chart([{"label": "华东", "estimate": 7.2, "ci_low": 7.0, "ci_high": 7.4},
                                  {"label": "西南 (小样本)", "estimate": 6.9, "ci_low": 6.5, "ci_high": 7.3}],
                                 "满意度 by 区域", "平均分")
        png = to_png(fig)
    assert png.startswith(b"\x89PNG")


def test_embedded_cjk_font_is_a_data_url_subset():
    page = "<html><head><title>t</title></head><body><p>华东 满意度</p></body></html>"
    out = embed_cjk_font(page)
    assert "@font-face" in out and "data:font/woff;base64," in out
    assert external_refs(out) == []
    assert len(out) < 60_000  # a subset, not the 16 MB font
    plain = "<html><head></head><body>only latin</body></html>"
    assert embed_cjk_font(plain) == plain


def test_publish_moves_results_last(tmp_path):
    target = tmp_path / "2026Q3"
    staging = staging_dir(target)
    for name in ("results.json", "report.html", "validation.json", "extra.txt"):
        (staging / name).write_text(name)
    moved = [p.name for p in publish(staging, target)]
    assert moved[-1] == "results.json" and set(moved) == {"results.json", "report.html", "validation.json",
                                                           "extra.txt"}
    assert not staging.exists()


def test_demo_renders_both_waves_and_index(demo_reports):
    for wave in ("2026Q2", "2026Q3"):
        html = (demo_reports / wave / "report.html").read_text(encoding="utf-8")
        assert external_refs(html) == []
        for section in ("Headline KPIs", "Change since the previous wave", "Trend across waves", "Segments",
                        "Verbatim comments", "Data quality", "Methods appendix"):
            assert section in html, (wave, section)
        assert "华东" in html and "suppressed" in html
        assert "example.com" not in html
    q3 = json.loads((demo_reports / "2026Q3" / "results.json").read_text(encoding="utf-8"))
    assert q3["previous_wave"] == "2026Q2"
    assert any(e["id"] == "change.nps" for e in q3["estimates"])
    assert [t["wave"] for t in q3["trend"]] == ["2026Q2", "2026Q3"]
    index = (demo_reports / "index.html").read_text(encoding="utf-8")
    assert index.index("2026Q3/report.html") < index.index("2026Q2/report.html")  # newest first
    assert external_refs(index) == []


def test_killed_run_leaves_previous_report_intact(demo_reports, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(demo_reports, out)
    before = {p.name: p.read_bytes() for p in (out / "2026Q3").iterdir()}
    for delay in (1.5, 4.0):
        proc = subprocess.Popen([*CSAT, "run", "--data", str(DATA / "retail_2026Q3.csv"), "--spec",
                                 str(SAMPLE_SPEC), "--wave", "2026Q3", "--out", str(out), "--expectations",
                                 str(tmp_path / "exp"), "--previous", str(out / "2026Q2")],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        after = {p.name: p for p in (out / "2026Q3").iterdir()}
        for name, data in before.items():
            current = after[name].read_bytes()
            # each file is either the old complete one or a new complete one, never a torn write
            if name.endswith(".json"):
                json.loads(current)
            if name == "report.html":
                assert current.rstrip().endswith(b"</html>")
        leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]
        assert all(".tmp-" in n for n in leftovers)  # staging folders are hidden, never a wave folder


def test_sigterm_exits_cleanly(tmp_path):
    proc = subprocess.Popen([*CSAT, "run", "--data", str(DATA / "retail_2026Q3.csv"), "--spec", str(SAMPLE_SPEC),
                             "--wave", "2026Q3", "--out", str(tmp_path / "o"), "--expectations",
                             str(tmp_path / "exp")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (143, 0), err  # 0 only if it finished first
    if proc.returncode == 143:
        assert "terminated (SIGTERM)" in err and "Traceback" not in err
        assert not (tmp_path / "o" / "2026Q3" / "results.json").exists()
        if (tmp_path / "o").exists():
            assert not [p for p in (tmp_path / "o").iterdir() if ".tmp-" in p.name]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_report_in_headless_chromium(demo_reports, tmp_path):
    page = demo_reports / "2026Q3" / "report.html"
    shot = tmp_path / "report.png"
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    proc = subprocess.run([CHROMIUM, *flags, "--enable-logging=stderr", "--v=0", "--window-size=1100,2000",
                           f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    console = [l for l in proc.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    assert console == [], console
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "华东" in dom and "Headline KPIs" in dom
    assert re.search(r"<img[^>]+src=\"data:image/png;base64,", dom)


def test_demo_report_names_the_drivers(demo_reports):
    html = (demo_reports / "2026Q3" / "report.html").read_text(encoding="utf-8")
    assert "Key drivers and the importance-performance map" in html
    assert "The strongest drivers are" in html and "Concentrate here" in html
    doc = json.loads((demo_reports / "2026Q3" / "results.json").read_text(encoding="utf-8"))
    drivers = {e["id"]: e for e in doc["estimates"] if e["id"].startswith("driver.")}
    assert set(drivers) == {f"driver.{d}" for d in ("product_quality", "service_quality", "price_value",
                                                     "service_experience", "brand_reputation")}
    assert sum(e["estimate"] for e in drivers.values()) == pytest.approx(1.0)
    assert doc["models"]["drivers"]["r2"] == pytest.approx(sum(d["lmg"] for d in doc["models"]["drivers"]["dimensions"]))
    # the generator's driver weights put product quality first and brand last
    ranked = sorted(drivers, key=lambda k: -drivers[k]["estimate"])
    assert ranked[0] == "driver.product_quality" and ranked[-1] == "driver.brand_reputation"


def test_demo_report_says_where_loyalty_jumps_and_which_gaps_hurt(demo_reports):
    html = (demo_reports / "2026Q3" / "report.html").read_text(encoding="utf-8")
    assert "it rises most steeply from 7 to 8" in html
    assert "significantly <b>not met</b> on <b>price_value</b>" in html
    doc = json.loads((demo_reports / "2026Q3" / "results.json").read_text(encoding="utf-8"))
    ids = {e["id"] for e in doc["estimates"]}
    assert {"gap.price_value", "gap.price_value.unmet", "loyalty.repurchase.score"} <= ids
    loyalty = {m["outcome"]: m for m in doc["models"]["loyalty"]}
    assert loyalty["repurchase"]["nonlinearity"]["nonlinear"] is True
    assert loyalty["promoter"]["logit"]["model"] == "logit"
    assert doc["models"]["gap"]["mediation"]["indirect"]["estimate"] > 0
