"""The report's sections from typed results: labels, one verdict per attribute, robustness, escaping."""
from __future__ import annotations

import copy
import re
from dataclasses import replace
from html.parser import HTMLParser

import numpy as np
import pytest

import csatlib
from csatlib.report import charts, views
from csatlib.report.priorities import BORDERLINE, priority_table
from csatlib.results import Estimate, Results

from .conftest import DATA, SAMPLE_SPEC


@pytest.fixture(scope="module")
def sample_results() -> Results:
    """The sample's 2026Q3 wave compared with 2026Q2, analysed in memory (nothing written)."""
    return csatlib.analyse_file(DATA / "retail_2026Q3.csv", SAMPLE_SPEC, "2026Q3", DATA / "retail_2026Q2.csv")


class _Text(HTMLParser):
    """Visible text of a fragment (outside <pre>, <title>, <desc> and attributes)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("pre", "title", "desc", "style", "script"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("pre", "title", "desc", "style", "script"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(fragment: str) -> str:
    p = _Text()
    p.feed(fragment)
    return "".join(p.parts)


def with_drivers(results: Results, **columns) -> Results:
    """A copy of ``results`` whose driver table has some columns replaced."""
    table = results.drivers.table.copy()
    for name, values in columns.items():
        table[name] = values
    return replace(results, drivers=replace(results.drivers, table=table))


def test_every_item_shows_its_spec_label(sample_results):
    body = views.report_body(sample_results)
    text = visible(body)
    for label in ("Price / value 性价比", "Product quality 产品质量", "Repurchase intention 再次购买意愿",
                  "Overall satisfaction 总体满意度"):
        assert label in text, label
    for raw in ("price_value", "product_quality", "repurchase", "overall_sat", "_csat_straightliner", "[as text]"):
        assert raw not in text, raw  # raw names stay in the spec listing (<pre>) only


def test_unlabelled_names_are_humanised(sample_results):
    spec = copy.deepcopy(sample_results.provenance.spec)
    for d in spec["dimensions"].values():
        d.pop("label", None)
    results = replace(sample_results, provenance=replace(sample_results.provenance, spec=spec))
    text = visible(views.priorities_section(results))
    assert "Price value" in text and "price_value" not in text


def test_one_verdict_per_attribute_and_no_second_grid(sample_results):
    body = views.report_body(sample_results)
    dims = list(sample_results.drivers.table["dimension"])
    for d in dims:
        assert len(re.findall(rf"class='verdict [^']*' data-dimension='{re.escape(d)}'", body)) == 1, d
    assert "Concentrate here" not in body and "IPA quadrant" not in body  # the old, second grid is gone


def test_planted_borderline_importance_gets_exactly_one_borderline_verdict(sample_results):
    table = sample_results.drivers.table
    p = len(table)
    line = 1 / p
    k = int(np.argmax(table["lmg_share"].to_numpy()))  # the strongest driver, made uncertain
    lo = table["lmg_share_ci_low"].to_numpy().copy()
    lo[k] = line - 0.05
    planted = with_drivers(sample_results, lmg_share_ci_low=lo)
    dim = table["dimension"].iloc[k]
    pt = priority_table(planted)
    assert pt.get(dim).verdict == BORDERLINE and pt.get(dim).borderline
    assert "importance" in pt.get(dim).why
    body = views.report_body(planted)
    verdicts = re.findall(rf"<span class='verdict ([^']*)' data-dimension='{re.escape(dim)}'>([^<]*)</span>", body)
    assert verdicts == [("borderline", BORDERLINE)]
    # the other attributes keep their confident verdicts
    assert sum(1 for r in pt.rows if r.borderline) == sum(1 for r in priority_table(sample_results).rows
                                                          if r.borderline) + 1


def test_planted_borderline_performance_from_dimension_scores(sample_results):
    assert priority_table(sample_results).performance_intervals  # dimension scores carry intervals
    without = [e for e in sample_results.estimates if not (e.id.startswith("dimension.") and e.id.endswith(".score"))]
    sample_results = replace(sample_results, estimates=without)
    pt0 = priority_table(sample_results)
    assert not pt0.performance_intervals  # without them the performance axis has no interval
    target = max((r for r in pt0.rows if not r.borderline), key=lambda r: r.importance)
    extra = []
    for r in pt0.rows:
        half = 0.02 if r.dimension != target.dimension else abs(r.performance - pt0.performance_line) + 0.05
        extra.append(Estimate(f"dimension.{r.dimension}.score", r.performance, r.performance - half,
                              r.performance + half, 3000))
    planted = replace(sample_results, estimates=list(sample_results.estimates) + extra)
    pt = priority_table(planted)
    assert pt.performance_intervals
    assert pt.get(target.dimension).verdict == BORDERLINE and "performance" in pt.get(target.dimension).why


def test_verdicts_follow_the_grid(sample_results):
    pt = priority_table(sample_results)
    mean_perf = float(np.mean([r.performance for r in pt.rows]))
    assert pt.performance_line == pytest.approx(mean_perf)
    assert pt.importance_line == pytest.approx(1 / len(pt.rows))
    expected = {(True, False): "Improve", (True, True): "Maintain", (False, False): "Monitor",
                (False, True): "Possible overkill"}
    for r in pt.rows:
        if not r.borderline:
            assert r.verdict == expected[(r.importance >= pt.importance_line, r.performance >= pt.performance_line)]
            assert not (r.importance_low <= pt.importance_line <= r.importance_high)
    # in the sample, price/value sits near the importance line: it must not get a confident verdict
    assert pt.get("price_value").verdict == BORDERLINE


def test_key_findings_link_to_sections_that_exist(sample_results):
    findings = views.findings_section(sample_results)
    ids = {s.id for s in views.sections(sample_results)}
    links = re.findall(r'href="#([^"]+)"', findings)
    assert links and set(links) <= ids
    text = visible(findings)
    assert "biggest unmet expectation is Price / value 性价比" in text
    assert "significant but small" in text  # the 0.16-point rise on a 1-10 scale
    items = re.findall(r"<li>", findings)
    assert 3 <= len(items) <= 6


def test_changes_are_shown_once(sample_results):
    body = views.report_body(sample_results)
    assert body.count("vs 2026Q2:") == len(views.headline_estimates(sample_results))
    assert "Change since the previous wave" not in body
    # methods details live in the appendix only
    main, appendix = body.split('id="appendix"', 1)
    assert "Johnson" not in visible(main).replace("Johnson's relative weights and the gap drivers are in the", "")
    assert "expect_column_values" not in main and "expect_column_values" in appendix


def test_first_wave_says_so_in_one_line(sample_results):
    first = replace(sample_results, previous_wave=None, trend=[],
                    estimates=[e for e in sample_results.estimates if not e.id.startswith("change.")])
    body = visible(views.report_body(first))
    assert body.count("first wave") == 1 and "no change is tested" in body
    assert "no earlier wave" not in visible(views.findings_section(first))
    assert "trend" not in {s.id for s in views.sections(first)}


def test_views_survive_absent_and_extra_estimates(sample_results):
    """Other analyses add estimates and drop others: show what exists, say what is skipped."""
    keep = [e for e in sample_results.estimates if e.id not in ("satisfaction.score", "change.satisfaction.score")]
    extra = [Estimate("index.csi", 71.3, 70.1, 72.5, 3000), Estimate("theme.waiting.share", 0.12, 0.1, 0.14, 900),
             Estimate("dimension.price_value.score", 4.28, 4.25, 4.31, 3000)]
    drivers = replace(sample_results.drivers, mc_error=0.004)
    odd = replace(sample_results, estimates=keep + extra, drivers=drivers, loyalty=[], gap=None, drivers_gap=None,
                  skipped={"loyalty": "Satisfaction → loyalty: the spec lists no loyalty items.",
                           "gap": "Expectation gaps: no dimension in the spec has an expectation item."})
    body = views.report_body(odd)
    text = visible(body)
    ids = {s.id for s in views.sections(odd)}
    assert "loyalty" not in ids and "gaps" not in ids and "not-included" in ids
    assert "data-analysis='loyalty'" in body and "data-analysis='gap'" in body
    assert "Other measures" in text and "Index csi" in text and "Theme waiting share" in text
    assert "Monte Carlo error" in text
    assert "Satisfaction score" not in visible(views.kpi_section(odd))


def test_without_drivers_the_page_says_why(sample_results):
    none = replace(sample_results, drivers=None, drivers_gap=None,
                   skipped={"drivers": "Key drivers: the spec lists fewer than two dimensions."})
    assert views.priorities_section(none) == ""
    assert "fewer than two dimensions" in views.skipped_section(none)
    assert "priorities" not in views.findings_section(none)


def test_data_from_the_file_is_escaped(sample_results):
    bad = "<script>alert(1)</script>"
    ests = [replace(e, segment={"region": bad}) if e.segment == {"region": "华东"} else e
            for e in sample_results.estimates]
    verb = [{"column": "region", "segment": bad, "comments": 40, "withheld": False,
             "sample": [{"text": bad, "satisfaction": 3.0, "group": "detractor"}]}]
    body = views.report_body(replace(sample_results, estimates=ests, verbatims=verb))
    assert bad not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_appendix_says_how_the_file_was_read(sample_results):
    assert "Reading the file" not in visible(views.appendix_section(sample_results))  # nothing to say
    notes = ["header found on line 3 (2 lines above it skipped); set source.header_row to change it",
             "the 2 rows below the header (<b>question texts</b> ...) label the columns"]
    prov = replace(sample_results.provenance, input={**sample_results.provenance.input, "notes": notes})
    html = views.appendix_section(replace(sample_results, provenance=prov))
    text = visible(html)
    assert "Reading the file" in text and notes[0] in text and notes[1] in text
    assert "<b>" not in html


def test_verbatims_show_scores_and_withheld_segments(sample_results):
    section = views.verbatims_section(sample_results)
    text = visible(section)
    assert re.search(r"satisfaction \d+/10 · (detractor|promoter|passive)", text)
    small = [g for g in sample_results.verbatims if g["withheld"]]
    assert small and small[0]["segment"] == "东北" and "东北" not in text.split("Comments are shown")[0]
    assert "from segments below the minimum base" in text


def test_mediation_rows_note_is_worded_plainly(sample_results):
    appendix = visible(views.appendix_section(sample_results))
    assert not re.search(r"subsample of ([\d,]+) of \1 rows", appendix)
    gaps = visible(views.gaps_section(sample_results))
    assert "Associations, not effects" in gaps and "single cross-section" in gaps
    assert "Does closing a gap pay off" not in gaps


def test_quality_section_says_rows_can_have_several_reasons(sample_results):
    text = visible(views.quality_section(sample_results))
    total = sum(r["rows"] for r in sample_results.quality.reasons)
    assert total > sample_results.rows["quarantined"]
    assert f"add up to {total:,} against {sample_results.rows['quarantined']:,} rows" in text


def test_charts_have_text_alternatives_and_readable_text(sample_results):
    body = views.report_body(sample_results)
    svgs = re.findall(r"<svg\b.*?</svg>", body, re.S)
    assert len(svgs) >= 6
    for svg in svgs:
        assert 'role="img"' in svg
        desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
        assert len(desc) > 40 and "No description" not in desc
        sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
        assert sizes and min(sizes) >= charts.MIN_FONT
        assert 'viewBox="0 0 440 ' in svg
    assert "<img" not in body  # no raster images


def test_trend_axes_span_the_answer_scale(sample_results):
    trend = views.trend_section(sample_results)
    score_chart = re.search(r"<figure.*?</figure>", trend, re.S).group(0)
    ticks = re.findall(r'text-anchor="end" fill="#6b7885">([^<]+)</text>', score_chart)
    assert "10" in ticks and min(float(t.replace("−", "-")) for t in ticks) <= 2.5


def test_priority_map_labels_do_not_collide():
    rng = np.random.default_rng(4)
    rows = [{"label": f"Attribute {i} 属性", "x": 5 + rng.normal(0, 0.05), "y": 0.1 + rng.normal(0, 0.01)}
            for i in range(14)]
    svg = charts.priority_map(rows, 5.0, 0.1, "mean", "t", "d" * 50, "x", "y", {})
    boxes = []
    for x, y, anchor, text in re.findall(r'<text x="([\d.-]+)" y="([\d.-]+)" font-size="13" '
                                         r'text-anchor="(\w+)"[^>]*class="point-label">([^<]+)</text>', svg):
        w = charts.text_width(text, 13)
        x0 = float(x) - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
        boxes.append((x0, float(y) - 12, x0 + w, float(y) + 3))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    keyed = re.findall(r">(\d+) = Attribute", svg)
    assert len(boxes) + len(keyed) == 14  # a label without room is keyed by number below the chart


def test_header_has_context_and_contents(sample_results):
    head = views.header(sample_results)
    assert "csat " in head and "Run " in head and views.FILES_MARKER in head
    toc = re.findall(r'href="#([^"]+)"', head)
    assert toc == [s.id for s in views.sections(sample_results)]
    assert views.title(sample_results) == "retail-csat — wave 2026Q3"
