"""Degenerate waves never crash the report: each analysis checks its preconditions, is skipped with
its reason, and the report says so (csatlib.analysis.preconditions, csatlib.run.stages.analyse).

The property-based test generates valid but degenerate waves of the hotel survey (constant
columns, a single category, all-missing items, one segment, tiny bases, extreme weights,
duplicated dimensions, loyalty decided by satisfaction) and runs the whole ``csat run`` on each:
exit 0 or 1 only, never 3 (notebook failed) or 2 (a crash), with the row accounting intact.
``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``) runs many more, random, examples.
"""
from __future__ import annotations

import html
import json
import os

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csatlib.analysis.preconditions import (plan_analyses, regression_problem, separation_problem,
                                            variance_problem)
from csatlib.cli import main
from csatlib.spec import parse_spec

from .conftest import HOTEL_SPEC, make_hotel_wave, run_cli

WAVE = "2026-秋"
EARLIER = "2026-夏"
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
EXAMPLES = 150 if PROFILE == "fuzz" else 8


def hotel_spec(**quality) -> dict:
    doc = yaml.safe_load(HOTEL_SPEC)
    doc["quality"].update(quality)
    return doc


def run_wave(tmp_path, frame: pd.DataFrame, **quality):
    spec = tmp_path / "hotel.yaml"
    spec.write_text(yaml.safe_dump(hotel_spec(**quality), allow_unicode=True), encoding="utf-8")
    data = tmp_path / "wave.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    proc = run_cli("run", "--data", str(data), "--spec", str(spec), "--wave", WAVE, "--out", str(out),
                   "--expectations", str(tmp_path / "exp"), "--quiet")
    return proc, out / WAVE


def said_in_report(folder) -> dict[str, str]:
    """The skipped analyses of results.json, each checked to appear in report.html."""
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    page = (folder / "report.html").read_text(encoding="utf-8")
    skipped = doc["meta"]["skipped"]
    for reason in skipped.values():
        assert html.escape(reason, quote=False) in page or html.escape(reason) in page, reason
    return skipped


# --- the cases of the issue, end to end ---------------------------------------------------------

def test_a_wave_of_one_row_with_min_base_1_is_a_report(tmp_path):
    proc, folder = run_wave(tmp_path, make_hotel_wave(1), min_base=1)
    assert proc.returncode == 0, proc.stderr
    skipped = said_in_report(folder)
    assert "only 1 respondent answered both satisfaction and 再次入住" in skipped["loyalty"]
    assert "清洁: 1 respondent answered both" in skipped["gap"]
    assert skipped["drivers"].startswith("Key drivers: not computed")
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert doc["rows"] == {"read": 1, "clean": 1, "quarantined": 0, "screened_out": 0}
    assert {e["id"] for e in doc["estimates"]} >= {"satisfaction.score", "nps"}


def test_constant_satisfaction_is_a_report_saying_why(tmp_path):
    proc, folder = run_wave(tmp_path, make_hotel_wave(200).assign(总体满意=5))
    assert proc.returncode == 0, proc.stderr
    skipped = said_in_report(folder)
    why = "every answer to overall satisfaction (总体满意) is 5 (no variance)"
    for key in ("loyalty", "drivers", "gap.disconfirmation", "gap.mediation"):
        assert why in skipped[key], key
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    score = next(e for e in doc["estimates"] if e["id"] == "satisfaction.score" and e["segment"] is None)
    assert score["estimate"] == 5 and score["ci_low"] == score["ci_high"] == 5
    assert {d["dimension"] for d in doc["models"]["gap"]["dimensions"]} == {"清洁", "服务"}  # still analysed


def test_a_constant_loyalty_item_and_a_missing_dimension_item_are_said(tmp_path):
    frame = make_hotel_wave(300).assign(再次入住=3, 服务_感知=np.nan)
    proc, folder = run_wave(tmp_path, frame)
    assert proc.returncode == 0, proc.stderr
    skipped = said_in_report(folder)
    assert skipped["loyalty.再次入住"] == "Satisfaction → 再次入住: not modelled: every answer to 再次入住 is 3 (no variance)."
    assert "nobody who rated satisfaction answered it" in skipped["drivers.服务"]
    assert "服务: 0 respondents answered both" in skipped["gap.服务"]
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert [m["outcome"] for m in doc["models"]["loyalty"]] == ["promoter"]  # the other model still runs
    assert {d["dimension"] for d in doc["models"]["drivers"]["dimensions"]} == {"清洁", "位置"}
    assert {d["dimension"] for d in doc["models"]["gap"]["dimensions"]} == {"清洁"}


# --- the checks, against direct computations ---------------------------------------------------

def test_variance_and_separation_checks():
    assert variance_problem([np.nan, np.nan], name="x") == "nobody answered x"
    assert variance_problem([4, 4, 4], [1, 0, 1], name="x") == "every answer to x is 4 (no variance)"
    assert variance_problem([4, 5], [1, 0], name="x") == "every answer to x is 4 (no variance)"  # zero weight
    s = np.array([1, 2, 3, 4, 5, 6])
    assert separation_problem(np.array([0, 0, 0, 1, 1, 1]), s) is not None  # complete
    assert separation_problem(np.array([0, 0, 1, 0, 1, 1]), s) is None  # overlap
    quasi = separation_problem(np.array([0, 0, 0, 1, 1, 1]), np.array([1, 2, 3, 3, 4, 5]))
    assert quasi is not None and "above 3 has the higher answer" in quasi  # ties at one point only
    assert separation_problem(np.array([1, 1, 2, 3, 3, 3]), s) is not None  # ordinal: every cut separated
    assert separation_problem(np.array([1, 2, 1, 3, 2, 3]), s) is None  # one cut overlaps: finite MLE


def test_regression_checks_match_a_direct_computation():
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, (40, 3)).astype(float)
    y = rng.integers(1, 8, 40).astype(float)
    w = rng.uniform(0.5, 2, 40)
    assert regression_problem(x, y, w, ["a", "b", "c"]) is None
    # the leverage the check uses is the hat matrix diagonal of the weighted design
    design = np.column_stack([np.ones(40), x]) * np.sqrt(w)[:, None]
    hat = design @ np.linalg.pinv(design.T @ design) @ design.T
    assert np.diag(hat).max() < 1
    dependent = np.column_stack([x, x[:, 0] - 2 * x[:, 1]])
    assert regression_problem(dependent, y, w, ["a", "b", "c", "d"]) == \
        "a, b, d are linearly dependent (one is a combination of the others)"
    lone = x.copy()
    lone[:, 2] = 0.0
    lone[5, 2] = 1.0  # one respondent alone identifies c's coefficient: hat diagonal 1 (HC3 undefined)
    design = np.column_stack([np.ones(40), lone])
    assert np.isclose(np.diag(design @ np.linalg.pinv(design.T @ design) @ design.T)[5], 1.0)
    assert "leverage 1" in regression_problem(lone, y, None, ["a", "b", "c"])
    extreme = np.where(np.arange(40) == 0, 1e6, 1e-6)
    assert "effective base of 1.0" in regression_problem(x, y, extreme, ["a", "b", "c"])
    assert regression_problem(x[:5], y[:5], None, ["a", "b", "c"]) == "only 5 complete answers (at least 6 needed)"


def test_constant_waves_are_never_called_significantly_different():
    """Two waves where everyone is a promoter: the NPS change is 0 with no test, not a rounding
    difference of 1e-14 that a z test with an SE of 1e-15 calls significant."""
    from csatlib.analysis.change import compare_waves
    from csatlib.analysis.kpis import kpis
    from csatlib.stats.estimators import weighted_mean

    m = weighted_mean([100.0] * 7, [0.3, 1.7, 0.9, 2.2, 1.1, 0.7, 1.3])
    assert m.mean == 100.0 and m.se == 0.0  # numpy: 100.00000000000001 ± 1.2e-15 before
    spec = parse_spec(hotel_spec(min_base=1))
    now = kpis(make_hotel_wave(50, seed=1).assign(推荐=10), spec)
    before = kpis(make_hotel_wave(40, seed=2).assign(推荐=10), spec)
    change = next(c for c in compare_waves(now, before) if c.id == "change.nps")
    assert change.estimate == 0.0 and change.significant is not True


def test_an_interval_always_contains_its_estimate():
    """A share of 1 on 27 respondents: statsmodels' Wilson upper limit is 0.9999999999999998, below
    the estimate, and the trend chart's error bar became negative (matplotlib raised: exit 3)."""
    from csatlib.stats.estimators import wilson_interval

    for n in (3, 13.5, 27, 100, 1000.7):
        for share in (0.0, 1.0, 0.5, 1 / 3):
            lo, hi = wilson_interval(share, n)
            assert lo <= share <= hi, (share, n, lo, hi)
    assert wilson_interval(1.0, 27)[1] == 1.0


def test_a_healthy_wave_skips_nothing(hotel):
    """The checks cost nothing on normal data: no analysis of the hotel sample is left out."""
    spec = parse_spec(hotel_spec())
    from csatlib.ingest.load import read_wave

    plan = plan_analyses(read_wave(hotel["data"], spec).frame, spec)
    assert plan.skipped == {}
    assert plan.loyalty == spec and plan.gap == spec and plan.drivers == spec


# --- property-based: any degenerate wave ----------------------------------------------------------

RATED = {"总体满意": (1, 7), "推荐": (0, 10), "再次入住": (1, 4), "清洁_感知": (1, 5), "清洁_期望": (1, 5),
         "服务_感知": (1, 5), "服务_期望": (1, 5), "位置_感知": (1, 5)}
OPTIONAL = [c for c in RATED if c != "总体满意"]


@st.composite
def degenerate_waves(draw):
    """A clean hotel wave of 1-60 rows with one to four degenerate features."""
    n = draw(st.integers(1, 60))
    frame = make_hotel_wave(n, seed=draw(st.integers(0, 10_000)), wave=WAVE)
    applied = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["constant", "missing", "one_segment", "extreme_weights", "duplicate",
                                     "separated", "two_values", "equal_weights"]))
        applied.append(kind)
        if kind == "constant":
            col = draw(st.sampled_from(sorted(RATED)))
            frame[col] = draw(st.integers(*RATED[col]))
        elif kind == "missing":
            frame[draw(st.sampled_from(OPTIONAL))] = np.nan
        elif kind == "one_segment":
            frame["城市"] = draw(st.sampled_from(["北京", "上海", "广州"]))
        elif kind == "extreme_weights":
            big = draw(st.integers(0, n - 1))
            frame["权重"] = np.where(np.arange(n) == big, draw(st.sampled_from([1e3, 1e6, 1e9])), 1e-3)
        elif kind == "equal_weights":
            frame["权重"] = 1.0
        elif kind == "duplicate":
            frame["服务_感知"] = frame["清洁_感知"]
        elif kind == "separated":
            cut = draw(st.integers(2, 7))
            frame["推荐"] = np.where(frame["总体满意"] >= cut, 10, 3)
            frame["再次入住"] = np.where(frame["总体满意"] >= cut, 4, 1)
        elif kind == "two_values":
            col = draw(st.sampled_from(sorted(RATED)))
            low, high = RATED[col]
            frame[col] = np.where(np.arange(n) % 7 == 0, high, low)
    previous = draw(st.sampled_from([None, None, "same", "healthy"]))
    if previous == "same":  # the same degenerate answers in the earlier wave: changes with zero variance
        previous = frame.assign(期=EARLIER)
    elif previous == "healthy":
        previous = make_hotel_wave(40, seed=7, wave=EARLIER)
    return frame, draw(st.integers(1, 3)), applied, previous


@settings(max_examples=EXAMPLES, deadline=None, derandomize=PROFILE != "fuzz", database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=degenerate_waves())
def test_degenerate_waves_exit_0_or_1_with_rows_accounted(case, tmp_path_factory, capsys):
    frame, min_base, applied, previous = case
    root = tmp_path_factory.mktemp("degenerate")
    spec = root / "hotel.yaml"
    spec.write_text(yaml.safe_dump(hotel_spec(min_base=min_base), allow_unicode=True), encoding="utf-8")
    data = root / "wave.csv"
    frame.to_csv(data, index=False)
    extra = []
    if previous is not None:
        previous.to_csv(root / "earlier.csv", index=False)
        extra = ["--previous", str(root / "earlier.csv")]
    code = main(["run", "--data", str(data), "--spec", str(spec), "--wave", WAVE, "--out", str(root / "out"),
                 "--expectations", str(root / "exp"), "--quiet", *extra])
    err = capsys.readouterr().err
    assert code in (0, 1), (applied, previous is not None, err)
    folder = root / "out" / WAVE
    if previous is not None and "the previous wave failed validation" in err:
        assert code == 1 and not (folder / "report.html").exists()  # blocked by the earlier wave's data
        return
    val = json.loads((folder / "validation.json").read_text(encoding="utf-8"))
    assert val["rows"]["read"] == val["rows"]["clean"] + val["rows"]["quarantined"] == len(frame), applied
    if code == 0:
        res = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        assert res["rows"] == val["rows"]
        said_in_report(folder)
        for change in (e for e in res["estimates"] if e["id"].startswith("change.") and e.get("significant")):
            assert abs(change["estimate"]) > 1e-9 and change["p_adjusted"] < 0.05, (applied, change)
    else:
        assert not (folder / "report.html").exists()
