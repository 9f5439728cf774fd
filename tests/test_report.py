"""The rendered report: CJK glyphs, offline HTML, the index, atomic publishing, a real browser."""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from csatlib.report.charts import cjk_font_path, interval_chart
from csatlib.report.html import embed_cjk_font
from csatlib.report.notebook import WarmKernel
from csatlib.run.publish import publish, staging_dir

from .conftest import CSAT, DATA, ROOT, SAMPLE_SPEC
from .test_cli import external_refs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_chinese_chart_labels_are_covered_by_the_embedded_font():
    from fontTools.ttLib import TTFont

    assert cjk_font_path() is not None, "mplfonts must ship Noto Sans CJK SC"
    chart = interval_chart([{"label": "华东", "estimate": 7.2, "ci_low": 7.0, "ci_high": 7.4},
                            {"label": "西南 (小样本)", "estimate": 6.9, "ci_low": 6.5, "ci_high": 7.3}],
                           1, 10, "mean", "满意度 by 区域", "华东 is highest; 西南 has the smallest base.")
    page = embed_cjk_font(f"<html><head><title>t</title></head><body>{chart}</body></html>")
    woff = base64.b64decode(re.search(r"data:font/woff;base64,([A-Za-z0-9+/=]+)", page).group(1))
    cmap = TTFont(io.BytesIO(woff)).getBestCmap()
    assert all(ord(c) in cmap for c in "华东西南小样本满意度区域")
    assert "<text" in chart and "华东" in chart  # real text in the page's font, not a picture of it


def test_embedded_cjk_font_is_a_data_url_subset():
    page = "<html><head><title>t</title></head><body><p>华东 满意度</p></body></html>"
    out = embed_cjk_font(page)
    assert "@font-face" in out and "data:font/woff;base64," in out
    assert external_refs(out) == []
    assert len(out) < 60_000  # a subset, not the 16 MB font
    plain = "<html><head></head><body>only latin</body></html>"
    assert embed_cjk_font(plain) == plain


def test_a_subset_is_built_once_per_set_of_characters():
    from csatlib.report.html import subset_woff

    chars = frozenset(map(ord, "华东满意度"))
    first = subset_woff(chars)
    hits = subset_woff.cache_info().hits
    assert subset_woff(frozenset(chars)) is first and subset_woff.cache_info().hits == hits + 1
    assert subset_woff(chars | {ord("西")}) != first  # another set of characters is subset anew


def test_the_report_kernel_imports_no_statistics_stack():
    """The report kernel's imports (WarmKernel.PRELOAD) read results and need neither scipy nor
    statsmodels (scipy.stats alone cost the kernel about 0.6 s of CPU at every run)."""
    code = (WarmKernel.PRELOAD + "\nimport sys\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'statsmodels', 'sklearn'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


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
        for section in ("Key findings", "Headline KPIs", "Key drivers and the importance-performance map",
                        "Segments", "Satisfaction → loyalty", "Expectation gaps", "Verbatim comments", "Data quality",
                        "Methods appendix"):
            assert section in html, (wave, section)
        assert ("Trend across waves" in html) == (wave == "2026Q3")  # one wave has no trend to draw
        assert f"<title>retail-csat — wave {wave}</title>" in html
        printed = ("report.pdf",) if CHROMIUM else ()  # no browser, no PDF (the run says so and goes on)
        for name in (*printed, "tables.xlsx", "results.json", "quarantine.csv", "validation.json"):
            assert f'href="{name}"' in html and (demo_reports / wave / name).is_file(), (wave, name)
        assert "华东" in html and "suppressed" in html
        assert "example.com" not in html
    q3 = json.loads((demo_reports / "2026Q3" / "results.json").read_text(encoding="utf-8"))
    assert q3["previous_wave"] == "2026Q2"
    assert any(e["id"] == "change.nps" for e in q3["estimates"])
    assert [t["wave"] for t in q3["trend"]] == ["2026Q2", "2026Q3"]
    index = (demo_reports / "index.html").read_text(encoding="utf-8")
    assert index.index("2026Q3/report.html") < index.index("2026Q2/report.html")  # newest first
    assert "2026Q3/report.pdf" in index and "2026Q3/tables.xlsx" in index
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


def test_demo_report_names_the_drivers(demo_reports):
    html = (demo_reports / "2026Q3" / "report.html").read_text(encoding="utf-8")
    assert "Key drivers and the importance-performance map" in html
    assert "is the strongest driver of overall satisfaction" in html and "Concentrate here" not in html
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
    assert "significantly <b>not met</b> on <b>Price / value 性价比</b>" in html
    doc = json.loads((demo_reports / "2026Q3" / "results.json").read_text(encoding="utf-8"))
    ids = {e["id"] for e in doc["estimates"]}
    assert {"gap.price_value", "gap.price_value.unmet", "loyalty.repurchase.score"} <= ids
    loyalty = {m["outcome"]: m for m in doc["models"]["loyalty"]}
    assert loyalty["repurchase"]["nonlinearity"]["nonlinear"] is True
    assert loyalty["promoter"]["logit"]["model"] == "logit"
    assert doc["models"]["gap"]["mediation"]["indirect"]["estimate"] > 0


def test_tables_xlsx_reads_back_with_the_numbers_of_results_json(demo_reports):
    from openpyxl import load_workbook

    folder = demo_reports / "2026Q3"
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    wb = load_workbook(folder / "tables.xlsx", read_only=True)
    assert {"About", "KPIs", "Priorities", "By region", "By channel", "Gaps", "Drivers", "Models",
            "Loyalty curves", "Trend", "Rows", "Quarantine reasons"} <= set(wb.sheetnames)

    def sheet(name):
        rows = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(rows[0], r)) for r in rows[1:]]

    def same(a, b):  # xlsx keeps 16 significant digits (Excel shows 15): equal to that precision
        if isinstance(b, float) and isinstance(a, (int, float)):
            return a == pytest.approx(b, rel=1e-15, abs=1e-300)
        return a == b

    totals = {e["id"]: e for e in doc["estimates"] if e["segment"] is None}
    kpis = {r["id"]: r for r in sheet("KPIs")}
    for id, row in kpis.items():
        e = totals[id]
        for key in ("estimate", "ci_low", "ci_high", "n", "n_eff"):
            assert same(row[key], e[key]), (id, key)  # unrounded
        change = totals.get(f"change.{id}")
        if change:
            for key, ref in (("change", "estimate"), ("change_p", "p"), ("change_p_holm", "p_adjusted"),
                             ("change_significant", "significant")):
                assert same(row[key], change[ref]), (id, key)
    assert {"satisfaction.score", "satisfaction.rate", "nps", "loyalty.repurchase.score"} <= set(kpis)
    seg = {(r["region"], r["id"]): r for r in sheet("By region")}
    for e in doc["estimates"]:
        if e["segment"] and "region" in e["segment"]:
            row = seg[(e["segment"]["region"], e["id"])]
            for key, ref in (("estimate", e["estimate"]), ("ci_low", e["ci_low"]), ("n", e["n"]),
                             ("p_holm", e["p_adjusted"]), ("suppressed", bool(e.get("suppressed")))):
                assert same(row[key], ref), (e["segment"], e["id"], key)
    gaps = {r["dimension"]: r for r in sheet("Gaps")}
    for d in doc["models"]["gap"]["dimensions"]:
        assert same(gaps[d["dimension"]]["mean_gap"], d["mean_gap"])
        assert same(gaps[d["dimension"]]["p_t_holm"], d["p_t_holm"])
    drivers = {r["dimension"]: r for r in sheet("Drivers")}
    for d in doc["models"]["drivers"]["dimensions"]:
        assert same(drivers[d["dimension"]]["lmg_share_ci_high"], d["lmg_share_ci_high"])
    priorities = sheet("Priorities")
    assert [r["verdict"] for r in priorities if r["dimension"] == "price_value"] == ["Borderline"]
    rows = {r["rows"]: r["count"] for r in sheet("Rows")}
    assert rows == doc["rows"]


def test_tables_xlsx_writes_text_as_text(tmp_path):
    from openpyxl import load_workbook

    from csatlib.report.exports import write_tables
    from csatlib.results import Estimate, Results

    evil = '=HYPERLINK("http://evil.example","x")'
    results = Results("s", "w", None, False, {"read": 1, "clean": 1, "quarantined": 0},
                      [Estimate("satisfaction.score", 5.0, 4.0, 6.0, 40),
                       Estimate("satisfaction.score", 5.0, 4.0, 6.0, 40, segment={"city": evil})])
    write_tables(results, tmp_path / "t.xlsx")
    ws = load_workbook(tmp_path / "t.xlsx")["By city"]
    cell = ws.cell(row=2, column=1)
    assert cell.value == evil and cell.data_type == "s"


@pytest.mark.skipif(shutil.which("pdftotext") is None or CHROMIUM is None,
                    reason="needs Debian chromium and poppler-utils (pdftotext)")
def test_report_pdf_opens_with_chinese_labels(demo_reports):
    pdf = demo_reports / "2026Q3" / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60).stdout
    for label in ("性价比", "产品质量", "再次购买意愿", "华东", "Key findings", "Methods appendix", "Provenance"):
        assert label in text, label


def test_planted_borderline_attribute_has_one_verdict_on_the_rendered_page(demo_reports, tmp_path):
    from csatlib.report.html import notebook_to_html
    from csatlib.report.notebook import execute_notebook, report_notebook

    doc = json.loads((demo_reports / "2026Q3" / "results.json").read_text(encoding="utf-8"))
    dims = doc["models"]["drivers"]["dimensions"]
    top = max(dims, key=lambda d: d["lmg_share"])
    top["lmg_share_ci_low"] = 1 / len(dims) - 0.01  # its interval now crosses the average importance
    (tmp_path / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    execute_notebook(report_notebook(), tmp_path / "report.ipynb", {"results_dir": str(tmp_path)})
    page = notebook_to_html(tmp_path / "report.ipynb")
    verdicts = re.findall(r"<span class=\"verdict ([^\"]*)\" data-dimension=\"" + re.escape(top["dimension"])
                          + r"\">([^<]*)</span>", page)
    assert verdicts == [("borderline", "Borderline")], verdicts


@pytest.mark.parametrize("chromium", ["", "/bin/false"])
def test_exports_without_a_working_chromium_skip_the_pdf_and_its_link(demo_reports, tmp_path, monkeypatch, chromium):
    from csatlib.report.exports import write_exports

    for name in ("results.json", "report.html", "validation.json", "quarantine.csv"):
        shutil.copy(demo_reports / "2026Q3" / name, tmp_path / name)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    # a freshly rendered page still holds the marker; the published one has its links filled in
    page = re.sub(r'<p class="files">.*?</p>', '<p class="files"><!--csat:files--></p>', page, flags=re.S)
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    monkeypatch.setenv("CSAT_CHROMIUM", chromium)
    notes = []
    written = write_exports(tmp_path, progress=notes.append)
    assert [p.name for p in written] == ["tables.xlsx"]
    assert not (tmp_path / "report.pdf").exists()
    assert notes and notes[0].startswith("report.pdf skipped")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'href="report.pdf"' not in html and 'href="tables.xlsx"' in html and "<!--csat:files-->" not in html
