"""The rendered report in a real browser (headless Chromium over the DevTools protocol).

Two differently shaped surveys (the shipped sample; a Chinese-labelled hotel survey on a 1-7
scale without expectation items) at a laptop width (1400 px) and a phone width (390 px): no
horizontal page overflow, every chart with a meaningful text alternative and text of at least
10 px, contents links that resolve, no resource from outside the page, sortable tables, a
contents bar that stays in view.
"""
from __future__ import annotations

import json
import re

import pytest

from csatlib.report.browser import Chromium, find_chromium

from .conftest import HOTEL_SPEC, make_hotel_wave, run_cli

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="Chromium is not installed (Debian package chromium; .ci/run installs it)")

WIDTHS = (1400, 390)

# the hotel survey without expectation items, with Chinese labels on every item
HOTEL_NO_EXPECTATIONS = (HOTEL_SPEC
                         .replace(", expectation: 清洁_期望", "").replace(", expectation: 服务_期望", "")
                         .replace("satisfaction: {column: 总体满意, scale: [1, 7], top_box: 6}",
                                  "satisfaction: {column: 总体满意, scale: [1, 7], top_box: 6, label: 总体满意度}")
                         .replace("{column: 再次入住, scale: [1, 4]}", "{column: 再次入住, scale: [1, 4], label: 再次入住意愿}")
                         .replace("scale: [1, 5]}", "scale: [1, 5], label: LABEL}"))


def _hotel_spec() -> str:
    text = HOTEL_NO_EXPECTATIONS
    for name, label in (("清洁", "客房清洁"), ("服务", "服务态度"), ("位置", "地理位置")):
        text = re.sub(rf"({name}: \{{perception: {name}_感知, scale: \[1, 5\], label: )LABEL", rf"\g<1>{label}", text)
    assert "LABEL" not in text and "期望" not in text.split("dimensions:")[1]
    return text


@pytest.fixture(scope="module")
def hotel_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hotel-browser")
    spec = folder / "hotel.yaml"
    spec.write_text(_hotel_spec(), encoding="utf-8")
    data = folder / "hotel.csv"
    make_hotel_wave().drop(columns=["清洁_期望", "服务_期望"]).to_csv(data, index=False)
    proc = run_cli("run", "--data", str(data), "--spec", str(spec), "--wave", "2026-秋", "--out", str(folder / "r"),
                   "--expectations", str(folder / "e"))
    assert proc.returncode == 0, proc.stderr
    return folder / "r" / "2026-秋" / "report.html"


@pytest.fixture(scope="module")
def browser():
    with Chromium() as b:
        yield b


def pages(demo_reports, hotel_page):
    return {"sample": demo_reports / "2026Q3" / "report.html", "hotel": hotel_page}


CHECKS = r"""(() => {
  const out = {};
  out.scrollWidth = document.documentElement.scrollWidth;
  out.innerWidth = window.innerWidth;
  out.title = document.title;
  out.toc = [...document.querySelectorAll("nav.toc a")].map(a => a.getAttribute("href"));
  out.brokenAnchors = [...document.querySelectorAll('a[href^="#"]')]
      .map(a => a.getAttribute("href").slice(1)).filter(id => !document.getElementById(id));
  out.charts = [...document.querySelectorAll("svg")].map(svg => {
      const ids = (svg.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
      const name = ids.map(id => (document.getElementById(id) || {}).textContent || "").join(" ");
      const scale = svg.getScreenCTM().a;
      const sizes = [...svg.querySelectorAll("text")].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
      return {role: svg.getAttribute("role"), name: name, minText: Math.min(...sizes), width: svg.getBoundingClientRect().width};
  });
  out.images = [...document.querySelectorAll("img")].map(i => i.getAttribute("alt"));
  out.resources = performance.getEntriesByType("resource").map(r => r.name);
  out.overflowing = [...document.querySelectorAll("main *")].filter(el => {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || el.closest(".table-wrap, nav.toc, .skip")) return false;
      return r.right > window.innerWidth + 1;
  }).slice(0, 5).map(el => el.tagName + "." + el.className);
  const first = document.querySelector(".table-wrap tbody th");
  out.stickyLabel = first ? getComputedStyle(first).position : null;
  return out;
})()"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", ["sample", "hotel"])
def test_page_at_laptop_and_phone_width(browser, demo_reports, hotel_page, which, width):
    page = pages(demo_reports, hotel_page)[which]
    browser.events.clear()
    browser.open(page.as_uri(), width=width, height=900 if width > 600 else 844)
    got = browser.evaluate(CHECKS)
    assert got["scrollWidth"] <= got["innerWidth"], (which, width, got["overflowing"])
    assert got["overflowing"] == []
    assert got["title"] == ("retail-csat — wave 2026Q3" if which == "sample" else "酒店满意度 — wave 2026-秋")
    assert got["toc"] and got["brokenAnchors"] == []
    assert len(got["charts"]) >= 4
    for chart in got["charts"]:
        assert chart["role"] == "img"
        assert len(chart["name"]) > 40 and "No description" not in chart["name"], chart["name"]
        assert re.search(r"\d", chart["name"])  # states a finding, with its numbers
        assert chart["minText"] >= 10, (which, width, chart)
    assert got["images"] == []  # every chart is inline SVG
    assert all(u.startswith(("file:", "data:")) for u in got["resources"]), got["resources"]
    assert all(u.startswith(("file:", "data:")) for u in browser.requested_urls())
    assert got["stickyLabel"] == "sticky"
    assert browser.console_errors() == []


def test_contents_stay_in_view_and_links_jump(browser, demo_reports):
    page = demo_reports / "2026Q3" / "report.html"
    for width in WIDTHS:
        browser.open(page.as_uri(), width=width, height=800)
        top = browser.evaluate("""(() => { window.scrollTo(0, document.body.scrollHeight);
            return document.querySelector("nav.toc").getBoundingClientRect().top; })()""")
        assert 0 <= top < 60, (width, top)
        y = browser.evaluate("""(() => { document.querySelector('nav.toc a[href="#gaps"]').click();
            return document.getElementById("gaps").getBoundingClientRect().top; })()""")
        assert 0 <= y < 120, (width, y)


def test_sorting_a_table_works(browser, demo_reports):
    browser.open((demo_reports / "2026Q3" / "report.html").as_uri(), width=1400)
    read = """(() => [...document.querySelectorAll("#priorities tbody tr")].map(
        tr => parseFloat(tr.cells[2].getAttribute("data-sort"))))()"""
    before = browser.evaluate(read)
    assert before == sorted(before, reverse=True)  # the table opens by importance
    click = """(() => { const b = [...document.querySelectorAll("#priorities thead button")][2]; b.click();
        return b.closest("th").getAttribute("aria-sort"); })()"""
    assert browser.evaluate(click) == "ascending"
    assert browser.evaluate(read) == sorted(before)
    assert browser.evaluate(click) == "descending"
    assert browser.evaluate(read) == sorted(before, reverse=True)
    names = """(() => { const b = document.querySelector("#priorities thead button"); b.click();
        return [...document.querySelectorAll("#priorities tbody th")].map(th => th.textContent.trim()); })()"""
    labels = browser.evaluate(names)
    assert labels == sorted(labels, key=str.lower) or labels == sorted(labels)


def test_hotel_page_uses_its_labels_and_says_what_is_skipped(browser, hotel_page):
    browser.open(hotel_page.as_uri(), width=390)
    text = browser.evaluate("document.body.innerText")
    for label in ("客房清洁", "服务态度", "地理位置", "再次入住意愿"):
        assert label in text, label
    assert "Expectation gaps: no dimension in the spec has an expectation item." in text
    ids = browser.evaluate("[...document.querySelectorAll('section')].map(s => s.id)")
    assert "gaps" not in ids and "priorities" in ids
    doc = json.loads((hotel_page.parent / "results.json").read_text(encoding="utf-8"))
    assert doc["models"].get("gap") is None


@pytest.mark.skipif(__import__("shutil").which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
def test_a_running_browser_prints_the_same_pdf_as_a_cold_one(demo_reports, tmp_path):
    """csat run starts Chromium while it analyses and prints report.pdf with it: the pages are
    the ones a cold ``--print-to-pdf`` gives, pixel for pixel; a browser that died meanwhile
    leaves the print to a Chromium of its own."""
    import subprocess

    from csatlib.report.browser import print_to_pdf
    from csatlib.report.exports import write_pdf

    page = demo_reports / "2026Q3" / "report.html"
    cold = print_to_pdf(page, tmp_path / "cold.pdf")
    with Chromium() as running:
        warm = running.print_pdf(page, tmp_path / "warm.pdf")

    def pngs(pdf, prefix):
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / prefix)], check=True)
        return [p.read_bytes() for p in sorted(tmp_path.glob(f"{prefix}-*.png"))]

    cold_pages = pngs(cold, "cold")
    assert len(cold_pages) > 3 and pngs(warm, "warm") == cold_pages
    dead = Chromium()
    dead.close()
    fallback = write_pdf(page, tmp_path / "fallback.pdf", dead)
    assert fallback.read_bytes().startswith(b"%PDF") and len(pngs(fallback, "fallback")) >= len(cold_pages)
