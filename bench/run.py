"""Benchmarks: the real CLI on generated waves, stage by stage, and ratios measured in one run.

    python bench/run.py --json bench/results.json          # what `make bench` runs

For each size (default 5,000, 100,000 and 1,000,000 rows): generate a wave with the sample
generator (csv), run ``csat run`` as a user would, and record wall time per stage (from the CLI's
own stage timings), total, peak memory of the run and the size of its outputs. Ratios measured in
the same run (never absolute timings in tests, these machines are noisy):

* validation with Great Expectations vs. the same checks written directly in vectorised pandas
  (the floor), on the same loaded frame;
* the whole ``csat run`` vs. its fixed cost alone (start a kernel, import the stack, execute and
  render a one-cell notebook), and that fixed cost split into its parts;
* key drivers against the number of rated items (5-40) at 1,000 and 100,000 rows, against the
  engine before issue #15; ``csat run`` on 24- and 40-item questionnaires (``bench/scaling.py``,
  surveys from ``bench/survey.py``);
* each model fitted on collapsed patterns vs. on every row;
* ``csat batch`` over 100 segments vs. one ``csat run`` per segment.

Results go to a JSON file and a Markdown table (``--md``, default next to the JSON).
"""
from __future__ import annotations

import argparse
import json
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

from csatlib.validation.suite import build_suite  # noqa: E402
from csatlib.frame import SPEEDER, STRAIGHTLINE
from csatlib.ingest.load import read_wave  # noqa: E402
from csatlib.sample import SAMPLE_SPEC, generate_wave  # noqa: E402
from csatlib.spec import Spec, load_spec  # noqa: E402
from csatlib.validation.check import validate_wave  # noqa: E402
from scaling import bench_batch, bench_drivers, bench_fixed_costs, bench_items  # noqa: E402

STAGE_LINE = re.compile(r"\(stages: (.*?)\)")


def pandas_floor(frame: pd.DataFrame, spec: Spec, wave: str) -> np.ndarray:
    """The validation contract's row checks written directly in pandas: the speed floor.

    Returns the boolean mask of rows with at least one problem (and computes the table checks).
    """
    bad = np.zeros(len(frame), dtype=bool)
    for col, _, scale in spec.numeric_items():
        raw = frame[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad |= (num.notna() & ((num < scale.low) | (num > scale.high))).to_numpy()
        bad |= (num.isna() & raw.notna()).to_numpy()
    bad |= frame[spec.id].isna().to_numpy() | pd.to_numeric(frame[spec.satisfaction.column], errors="coerce").isna().to_numpy()
    if spec.weight:
        w = pd.to_numeric(frame[spec.weight], errors="coerce")
        bad |= ~(w > 0).to_numpy() | ~np.isfinite(w.to_numpy())
    for col, allowed in spec.categories.items():
        bad |= (frame[col].notna() & ~frame[col].isin(allowed)).to_numpy()
    bad |= frame[SPEEDER].to_numpy() | frame[STRAIGHTLINE].to_numpy()
    _ = frame[spec.id].duplicated(keep=False).any()
    if spec.wave:
        _ = (frame[spec.wave].astype(str) != wave).any()
    _ = frame[STRAIGHTLINE].mean() > spec.quality.max_straightline_share
    return bad


def timed(fn, *args, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def _pss(process) -> int:
    """Proportional set size of one process (shared pages divided among their sharers), else RSS."""
    try:
        return process.memory_full_info().pss
    except (AttributeError, OSError):
        return process.memory_info().rss


def run_cli(args: list[str]) -> tuple[float, str, dict[str, float]]:
    """Run csat; return wall time, stderr and its peak memory (MB), sampled every 50 ms: ``csat``,
    the resident set of the csat process itself; ``tree``, the proportional set of csat and every
    process it started (forked analysis child, report kernel, Chromium), so pages a forked child
    shares with its parent are counted once."""
    import psutil

    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "csatlib.cli", *args], stdout=subprocess.DEVNULL,
                                stderr=err, text=True, cwd=ROOT)
        peak = {"csat": 0.0, "tree": 0.0}
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak["csat"] = max(peak["csat"], root.memory_info().rss / 1e6)
                tree = [root, *root.children(recursive=True)]
                peak["tree"] = max(peak["tree"], sum(_pss(p) for p in tree if p.is_running()) / 1e6)
            except psutil.Error:
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise SystemExit(f"csat failed ({proc.returncode}): {stderr[-2000:]}")
    return wall, stderr, peak


def fixed_cost(work: Path) -> float:
    """Kernel start + stack imports + a one-cell notebook executed and rendered to HTML."""
    code = f"""
import time, nbformat
t0 = time.perf_counter()
import great_expectations, statsmodels.api, pandas, csatlib.run.stages
from csatlib.report.notebook import execute_notebook
from csatlib.report.html import notebook_to_html
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell('x = 1', metadata={{'tags': ['parameters']}}),
            nbformat.v4.new_code_cell('import csatlib, matplotlib.pyplot')]
nb.metadata['kernelspec'] = {{'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}}
nbformat.write(nb, r'{work / "empty.ipynb"}')
execute_notebook(__import__('pathlib').Path(r'{work / "empty.ipynb"}'), __import__('pathlib').Path(r'{work / "out.ipynb"}'), {{}})
notebook_to_html(__import__('pathlib').Path(r'{work / "out.ipynb"}'))
"""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t0


def bench_size(n: int, work: Path, spec_path: Path) -> dict:
    spec = load_spec(spec_path)
    data = work / f"wave_{n}.csv"
    t_gen = time.perf_counter()
    generate_wave("2026Q3", n=n, seed=n % 9973).to_csv(data, index=False)
    t_gen = time.perf_counter() - t_gen
    out = work / f"reports_{n}"
    wall, _, peak = run_cli(["run", "--data", str(data), "--spec", str(spec_path), "--wave", "2026Q3",
                             "--out", str(out), "--expectations", str(work / "exp"), "--quiet"])
    # --quiet hides progress; run once more with progress for the stage split (same inputs)
    wall2, stderr, peak2 = run_cli(["run", "--data", str(data), "--spec", str(spec_path), "--wave", "2026Q3",
                                    "--out", str(out), "--expectations", str(work / "exp")])
    stages = {}
    m = STAGE_LINE.search(stderr)
    if m:
        for part in m.group(1).split(", "):
            name, secs = part.rsplit(" ", 1)
            stages[name] = float(secs.rstrip("s"))
    loaded = read_wave(data, spec)
    suite = build_suite(spec)
    validate_wave(loaded, "2026Q3", suite)  # warm GX imports before timing
    t_gx, _ = timed(validate_wave, loaded, "2026Q3", suite)
    t_pd, _ = timed(pandas_floor, loaded.frame, spec, "2026Q3", repeat=3)
    size = sum(p.stat().st_size for p in (out / "2026Q3").iterdir())
    html = (out / "2026Q3" / "report.html").stat().st_size
    return {"rows": n, "input_mb": round(data.stat().st_size / 1e6, 1), "generate_s": round(t_gen, 2),
            "run_wall_s": round(min(wall, wall2), 2), "stages_s": stages,
            "peak_csat_rss_mb": round(max(peak["csat"], peak2["csat"]), 0),
            "peak_tree_pss_mb": round(max(peak["tree"], peak2["tree"]), 0),
            "validate_gx_s": round(t_gx, 3), "validate_pandas_floor_s": round(t_pd, 3),
            "validate_ratio_gx_over_pandas": round(t_gx / t_pd, 1) if t_pd > 0 else None,
            "output_bytes": size, "report_html_bytes": html}


def bench_models(n: int) -> list[dict]:
    """Each model fitted on collapsed patterns vs. statsmodels on every row: time and agreement."""
    import warnings

    import statsmodels.api as sm
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    from csatlib.stats.models import design, fit_linear, fit_logit, fit_ordered_logit

    warnings.simplefilter("ignore")
    frame = generate_wave("2026Q3", n=n, seed=7, dirty=False)
    s = frame["overall_sat"].to_numpy(float)
    y = frame["repurchase"].to_numpy(float)
    promoter = (frame["recommend"].to_numpy(float) >= 9).astype(float)
    x, names = design(s)
    out = []

    def row(model, t_c, t_r, pc, pr, bc, br, patterns):
        pc, pr, bc, br = map(np.asarray, (pc, pr, bc, br))
        out.append({"model": model, "rows": n, "patterns": patterns, "collapsed_s": round(t_c, 3),
                    "row_level_s": round(t_r, 3), "speedup": round(t_r / t_c, 1) if t_c > 0 else None,
                    "max_rel_diff_params": float(np.max(np.abs(pc - pr) / np.maximum(np.abs(pr), 1e-12))),
                    "max_rel_diff_bse": float(np.max(np.abs(bc - br) / np.maximum(np.abs(br), 1e-12)))})

    t_c, lin = timed(lambda: fit_linear(x, y, None, names, cov_type="HC3"))
    t_r, ref = timed(lambda: sm.OLS(y, x).fit(cov_type="HC3"))
    row("OLS loyalty ~ satisfaction, HC3", t_c, t_r, lin.params, ref.params, lin.bse, ref.bse, lin.extra["patterns"])
    t_c, lg = timed(lambda: fit_logit(promoter, x, None, names))
    t_r, ref = timed(lambda: sm.GLM(promoter, x, family=sm.families.Binomial()).fit())
    row("logit promoter ~ satisfaction", t_c, t_r, lg.params, ref.params, lg.bse, ref.bse, lg.extra["patterns"])
    t_c, ol = timed(lambda: fit_ordered_logit(y, s[:, None], None, ["satisfaction"]))

    def row_level_ordered():
        m = OrderedModel(pd.Series(pd.Categorical(y, ordered=True)), pd.DataFrame({"satisfaction": s}), distr="logit")
        r = m.fit(method="bfgs", disp=False, maxiter=2000)
        return m.fit(start_params=r.params, method="newton", disp=False, maxiter=50, tol=1e-8)

    t_r, ref = timed(row_level_ordered)
    row("ordered logit loyalty ~ satisfaction", t_c, t_r, list(ol.extra["all_params"].values()), ref.params,
        list(ol.extra["all_bse"].values()), ref.bse, ol.extra["patterns"])
    return out


def to_markdown(doc: dict) -> str:
    stages = list(dict.fromkeys(k for r in doc["sizes"] for k in r["stages_s"]))
    lines = ["# Benchmark results", "", f"Machine: {doc['machine']}", "",
             f"Fixed cost (kernel start, imports, one-cell notebook rendered): **{doc['fixed_cost_s']:.1f} s**", "",
             "| rows | input MB | csat run (s) | " + " | ".join(stages) + " | csat RSS MB* | all PSS MB* | GX validate (s) "
             "| pandas floor (s) | GX / floor | run / fixed | report.html KB |",
             "|" + "---:|" * (len(stages) + 11)]
    for r in doc["sizes"]:
        st = r["stages_s"]
        lines.append(f"| {r['rows']:,} | {r['input_mb']} | {r['run_wall_s']:.1f} | "
                     + " | ".join(f"{st.get(k, 0):.1f}" for k in stages)
                     + f" | {r['peak_csat_rss_mb']:.0f} | {r['peak_tree_pss_mb']:.0f} | {r['validate_gx_s']:.2f} | "
                     f"{r['validate_pandas_floor_s']:.3f} | {r['validate_ratio_gx_over_pandas']} | "
                     f"{r['run_wall_s'] / doc['fixed_cost_s']:.1f} | {r['report_html_bytes'] / 1024:.0f} |")
    lines += ["", "*peak memory sampled every 50 ms: resident set of the csat process alone, and proportional set",
              "of csat with every process it started (forked analysis child, kernel, Chromium; shared pages once).",
              "Ratios are measured in the same run; absolute seconds depend on the machine's load."]
    if doc.get("models"):
        lines += ["", "## Collapsed response patterns vs. row-level fits", "",
                  "| model | rows | patterns | collapsed (s) | row-level (s) | speed-up | max rel. diff params "
                  "| max rel. diff SE |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for m in doc["models"]:
            lines.append(f"| {m['model']} | {m['rows']:,} | {m['patterns']:,} | {m['collapsed_s']:.3f} | "
                         f"{m['row_level_s']:.3f} | {m['speedup']} | {m['max_rel_diff_params']:.1e} | "
                         f"{m['max_rel_diff_bse']:.1e} |")
    if doc.get("fixed_costs"):
        lines += ["", "## Fixed costs of a small run (each in a fresh process)", "", "| cost | seconds |", "|---|---:|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in doc["fixed_costs"].items()]
    if doc.get("drivers"):
        lines += ["", "## Key drivers (200 bootstrap replicates) against the number of items", "",
                  "| items | rows | patterns | seconds | method | orderings | MC error | before #15 (est.) | speed-up |",
                  "|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
        for d in doc["drivers"]:
            mc = "" if d["mc_error"] is None else f"{d['mc_error']:.4f}"
            lines.append(f"| {d['items']} | {d['rows']:,} | {d['patterns']:,} | {d['seconds']:.2f} | {d['method']} | "
                         f"{d['orderings'] or ''} | {mc} | {d['pre15_seconds_estimated']:,.0f} | {d['speedup']:,}x |")
    if doc.get("items"):
        lines += ["", "## Many rated items, end to end (`csat run`)", "", "| items | rows | csat run (s) | stages |",
                  "|---:|---:|---:|---|"]
        for d in doc["items"]:
            stages = ", ".join(f"{k} {v:.1f}" for k, v in d["stages_s"].items())
            lines.append(f"| {d['items']} | {d['rows']} | {d['run_wall_s']:.1f} | {stages} |")
    if doc.get("batch"):
        b = doc["batch"]
        lines += ["", "## csat batch vs. sequential csat run", "",
                  f"{b['segments']} segments of {b['rows_per_segment']} rows: batch {b['batch_s']} s (first report after "
                  f"{b['first_report_s']} s, then **{b['seconds_per_segment_after_first']} s per segment**); one "
                  f"`csat run` per segment {b['sequential_run_s']} s (mean of {b['sequential_sample']}), "
                  f"{b['sequential_runs_s_scaled']} s for all: speed-up **{b['speedup']}x**."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[5_000, 100_000, 1_000_000])
    ap.add_argument("--json", default="bench/results.json")
    ap.add_argument("--md", default=None)
    ap.add_argument("--model-rows", type=int, default=1_000_000, help="rows for the collapsed vs row-level fits")
    ap.add_argument("--batch-segments", type=int, default=100, help="segments for batch vs sequential (0: skip)")
    ap.add_argument("--driver-items", type=int, nargs="*", default=[5, 10, 15, 24, 40],
                    help="item counts for the key-driver benchmark (none: skip)")
    ap.add_argument("--driver-rows", type=int, nargs="*", default=[1_000, 100_000])
    ap.add_argument("--survey-items", type=int, nargs="*", default=[24, 40],
                    help="item counts of the end-to-end runs on 211-row generated surveys (none: skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="csat-bench-") as tmp:
        work = Path(tmp)
        spec_path = work / "retail-csat.yaml"
        spec_path.write_text(SAMPLE_SPEC, encoding="utf-8")
        doc = {"machine": f"{__import__('os').cpu_count()} cores, Python {sys.version.split()[0]}",
               "fixed_cost_s": round(fixed_cost(work), 2), "fixed_costs": bench_fixed_costs(work), "sizes": []}
        say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        if args.driver_items:
            doc["drivers"] = bench_drivers(args.driver_items, args.driver_rows, progress=say)
        if args.survey_items:
            doc["items"] = bench_items(work, args.survey_items, progress=say)
        for n in sorted(args.rows):
            print(f"bench: {n:,} rows ...", file=sys.stderr, flush=True)
            doc["sizes"].append(bench_size(n, work, spec_path))
            print(f"bench: {json.dumps(doc['sizes'][-1], ensure_ascii=False)}", file=sys.stderr, flush=True)
        if args.model_rows:
            print(f"bench: models on {args.model_rows:,} rows ...", file=sys.stderr, flush=True)
            doc["models"] = bench_models(args.model_rows)
        if args.batch_segments:
            print(f"bench: batch of {args.batch_segments} segments ...", file=sys.stderr, flush=True)
            doc["batch"] = bench_batch(work, spec_path, args.batch_segments, progress=say)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md = Path(args.md) if args.md else Path(args.json).with_suffix(".md")
    md.write_text(to_markdown(doc), encoding="utf-8")
    print(md.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
