"""Benchmarks of issue #15: questionnaire length, fixed costs, batch, each as ratios in one run.

Used by ``bench/run.py`` (``make bench``); each function returns plain data for results.json.

* :func:`bench_drivers` -- key drivers (200 bootstrap replicates) against the number of rated
  items (5, 10, 15, 24, 40) at 1,000 and 100,000 respondents, against the engine before #15
  (least squares per subset or sampled ordering, re-solved in every replicate). The old engine's
  time is one of its decompositions plus one replicate's weights and correlation matrix, both
  measured, times the 201 decompositions a key-driver analysis does (run in full it would take
  up to hours at 40 items).
* :func:`bench_items` -- ``csat run`` end to end on generated 24- and 40-item surveys of 211 rows
  (the kiosk case of the issue), stage by stage.
* :func:`bench_fixed_costs` -- where the fixed cost of a small ``csat run`` goes: interpreter and
  csatlib start, Great Expectations import, the analysis imports, a warm report kernel, the HTML
  exporter, each measured in a fresh process.
* :func:`bench_batch` -- ``csat batch`` over many segments vs. sequential ``csat run``s (measured
  on a sample of the segments and scaled), and the batch's marginal seconds per segment after the
  first report.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from survey import generate_survey, write_survey  # noqa: E402

__all__ = ["bench_drivers", "bench_items", "bench_fixed_costs", "bench_batch", "pre15_decomposition"]

REPLICATES = 200
STAGE_LINE = re.compile(r"\(stages: (.*?)\)")
WRITTEN = re.compile(r"report written \(.*?\) \[\d+/\d+\] \((\d+(?:\.\d+)?) s\)")


# --- the key-driver engine before issue #15 (kept here only as the benchmark's baseline) -----------

def pre15_decomposition(rxx: np.ndarray, rxy: np.ndarray, seed: int = 0) -> np.ndarray:
    """One decomposition as ``key_drivers`` did it before #15: exact LMG over all subsets with one
    least-squares solve each up to 12 predictors, else 2,000 sampled orderings with one solve per
    step; plus Johnson's weights."""
    p = len(rxy)
    if p <= 12:
        r2 = np.zeros(1 << p)
        for mask in range(1, 1 << p):
            idx = [j for j in range(p) if mask >> j & 1]
            r = rxy[idx]
            r2[mask] = float(r @ np.linalg.solve(rxx[np.ix_(idx, idx)], r))
        size = np.array([bin(m).count("1") for m in range(1 << p)])
        fact = [math.factorial(k) for k in range(p + 1)]
        weight = np.array([fact[s] * fact[p - s - 1] / fact[p] if s < p else 0.0 for s in size])
        masks = np.arange(1 << p)
        values = np.zeros(p)
        for j in range(p):
            without = masks[(masks >> j & 1) == 0]
            values[j] = float(np.sum(weight[without] * (r2[without | (1 << j)] - r2[without])))
    else:
        rng = np.random.default_rng(seed)
        values = np.zeros(p)
        for _ in range(2000):
            order = rng.permutation(p)
            previous = 0.0
            for k in range(1, p + 1):
                idx = order[:k]
                r = rxy[idx]
                current = float(r @ np.linalg.solve(rxx[np.ix_(idx, idx)], r))
                values[order[k - 1]] += current - previous
                previous = current
        values /= 2000
    evals, evecs = np.linalg.eigh(rxx)
    lam = evecs @ np.diag(np.sqrt(np.clip(evals, 0, None))) @ evecs.T
    np.linalg.solve(lam, rxy)
    return values


def _survey_frame(items: int, rows: int, seed: int = 1):
    import yaml

    from csatlib.ingest.load import add_derived_columns
    from csatlib.spec import parse_spec

    text, frame = generate_survey(items, rows, seed=seed, dirty=False, expectation_every=0)
    spec = parse_spec(yaml.safe_load(text))
    return add_derived_columns(frame, spec), spec


def bench_drivers(items=(5, 10, 15, 24, 40), rows=(1_000, 100_000), progress=print) -> list[dict]:
    """Key drivers (perceptions, 200 replicates) per item count and sample size; see the module docstring."""
    from csatlib.analysis.drivers import key_drivers
    from csatlib.stats.collapse import collapse, poisson_bootstrap_weights
    from csatlib.stats.importance import weighted_correlation

    old_one: dict[int, float] = {}
    out = []
    warm_frame, warm_spec = _survey_frame(items[0], 200)
    key_drivers(warm_frame, warm_spec, n_boot=2)  # one-time imports (scipy.stats) stay out of the first timing
    for n in rows:
        for k in items:
            frame, spec = _survey_frame(k, n)
            t0 = time.perf_counter()
            res = key_drivers(frame, spec, n_boot=REPLICATES)
            new = time.perf_counter() - t0
            cols = [spec.satisfaction.column, *[d.perception for d in spec.dimensions]]
            patterns = collapse(frame[cols].to_numpy(float), frame[spec.weight].to_numpy(float))
            if k not in old_one:  # one old decomposition on the same correlation matrix
                r = weighted_correlation(patterns.values, patterns.weight)
                t0 = time.perf_counter()
                pre15_decomposition(r[1:, 1:], r[0, 1:])
                old_one[k] = time.perf_counter() - t0
            # the old replicate also drew its weights and recomputed the correlation matrix
            rng = np.random.default_rng(0)
            t0 = time.perf_counter()
            for _ in range(5):
                weighted_correlation(patterns.values, poisson_bootstrap_weights(patterns, rng))
            moments = (time.perf_counter() - t0) / 5
            old = (old_one[k] + moments) * (REPLICATES + 1)
            row = {"items": k, "rows": n, "patterns": len(patterns.weight), "seconds": round(new, 3),
                   "method": res.method.split(" (")[0], "orderings": _orderings(res.method),
                   "mc_error": res.mc_error, "pre15_seconds_estimated": round(old, 1),
                   "speedup": round(old / new, 1) if new > 0 else None}
            progress(f"bench drivers: {json.dumps(row)}")
            out.append(row)
    return out


def _orderings(method: str) -> int | None:
    m = re.search(r"from ([\d,]+) random orders", method)
    return int(m.group(1).replace(",", "")) if m else None


def run_cli(args: list[str], env: dict | None = None) -> tuple[float, str]:
    """``csat ...`` in a new process; wall time and stderr (raises on a non-zero exit)."""
    import os

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "csatlib.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"csat failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, proc.stderr


def stages_of(stderr: str) -> dict[str, float]:
    m = STAGE_LINE.search(stderr)
    out = {}
    if m:
        for part in m.group(1).split(", "):
            name, secs = part.rsplit(" ", 1)
            out[name] = float(secs.rstrip("s"))
    return out


def bench_items(work: Path, items=(24, 40), rows: int = 211, progress=print) -> list[dict]:
    """``csat run`` end to end on generated surveys with many rated items."""
    out = []
    for k in items:
        spec, data = write_survey(work / f"items{k}", k, rows)
        wall, stderr = run_cli(["run", "--data", str(data), "--spec", str(spec), "--wave", "W1",
                                "--out", str(work / f"items{k}" / "out")])
        row = {"items": k, "rows": rows, "run_wall_s": round(wall, 2), "stages_s": stages_of(stderr)}
        progress(f"bench items: {json.dumps(row)}")
        out.append(row)
    return out


FIXED_COST_SCRIPT = r"""
import json, sys, time
t = {}
t0 = time.perf_counter()
import pandas, numpy
t["pandas + numpy"] = time.perf_counter() - t0
t0 = time.perf_counter()
import csatlib.cli, csatlib.run.wave, csatlib.run.stages
t["csatlib (run modules)"] = time.perf_counter() - t0
t0 = time.perf_counter()
import great_expectations
t["great_expectations"] = time.perf_counter() - t0
t0 = time.perf_counter()
import statsmodels.api, scipy.stats, statsmodels.stats.mediation, statsmodels.miscmodels.ordinal_model
t["statsmodels + scipy.stats"] = time.perf_counter() - t0
from pathlib import Path
from csatlib.report.notebook import WarmKernel
t0 = time.perf_counter()
k = WarmKernel(Path(sys.argv[1]))
k.take()
t["report kernel start + report imports"] = time.perf_counter() - t0
k.shutdown()
t0 = time.perf_counter()
from csatlib.report.html import _exporter
_exporter()
t["nbconvert HTML exporter"] = time.perf_counter() - t0
print(json.dumps(t))
"""


def bench_fixed_costs(work: Path) -> dict:
    """Seconds of each fixed cost of a ``csat run``, measured one after another in a fresh process."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    start = time.perf_counter() - t0
    proc = subprocess.run([sys.executable, "-c", FIXED_COST_SCRIPT, str(work)], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    costs = {"python start": start, **json.loads(proc.stdout.strip().splitlines()[-1])}
    return {k: round(v, 2) for k, v in costs.items()}


def bench_batch(work: Path, spec_path: Path, segments: int = 100, rows_per_segment: int = 200,
                sequential_sample: int = 5, progress=print) -> dict:
    """``csat batch`` over ``segments`` values vs. sequential ``csat run``s.

    The sequential time is measured on ``sequential_sample`` of the segments and scaled to all of
    them (one run per segment costs the same whichever segment it is). The batch's marginal cost
    per segment is the time between its first and its last report, over the reports in between.
    """
    from csatlib.sample import generate_wave

    frame = generate_wave("2026Q3", n=segments * rows_per_segment, seed=99, dirty=False)
    frame["store"] = [f"S{(i % segments) + 1:03d}" for i in range(len(frame))]
    data = work / "batch.csv"
    frame.to_csv(data, index=False)
    t_batch, stderr = run_cli(["batch", "--data", str(data), "--spec", str(spec_path), "--wave", "2026Q3",
                               "--by", "store", "--out", str(work / "batch_out"), "--expectations", str(work / "exp")])
    done = [float(x) for x in WRITTEN.findall(stderr)]
    per_segment = (done[-1] - done[0]) / (len(done) - 1) if len(done) > 1 else None
    t0 = time.perf_counter()
    sample = sorted(frame["store"].unique())[:sequential_sample]
    for value in sample:
        path = work / f"seq_{value}.csv"
        frame[frame["store"] == value].to_csv(path, index=False)
        run_cli(["run", "--data", str(path), "--spec", str(spec_path), "--wave", "2026Q3", "--out",
                 str(work / "seq_out" / value), "--expectations", str(work / "exp"), "--quiet"])
    t_one = (time.perf_counter() - t0) / len(sample)
    out = {"segments": segments, "rows_per_segment": rows_per_segment, "batch_s": round(t_batch, 1),
           "first_report_s": round(done[0], 1) if done else None,
           "seconds_per_segment_after_first": round(per_segment, 2) if per_segment else None,
           "sequential_run_s": round(t_one, 2), "sequential_sample": len(sample),
           "sequential_runs_s_scaled": round(t_one * segments, 1),
           "speedup": round(t_one * segments / t_batch, 1)}
    progress(f"bench batch: {json.dumps(out)}")
    return out


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="csat-scaling-") as tmp:
        print(json.dumps(bench_fixed_costs(Path(tmp)), indent=2))
        print(json.dumps(bench_drivers(items=(5, 24), rows=(1000,)), indent=2))
