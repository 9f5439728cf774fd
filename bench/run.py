"""Benchmarks: the real CLI on generated waves, stage by stage, and ratios measured in one run.

    python bench/run.py --rows 10000 100000 1000000 --json bench/results.json

For each size: generate a wave with the sample generator (csv), run ``csat run`` as a user
would, and record wall time per stage (from the CLI's own stage timings), total, peak RSS of the
run and the size of its outputs. Ratios measured in the same run (never absolute timings in
tests, these machines are noisy):

* validation with Great Expectations vs. the same checks written directly in vectorised pandas
  (the floor), on the same loaded frame;
* the whole ``csat run`` vs. its fixed cost alone (start a kernel, import the stack, execute and
  render a one-cell notebook).

Results go to a JSON file and a Markdown table (``--md``, default next to the JSON).
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from csatlib.expectations import build_suite  # noqa: E402
from csatlib.load import SPEEDER, STRAIGHTLINE, read_wave  # noqa: E402
from csatlib.sample import SAMPLE_SPEC, generate_wave  # noqa: E402
from csatlib.spec import Spec, load_spec  # noqa: E402
from csatlib.validate import validate_wave  # noqa: E402

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


def run_cli(args: list[str]) -> tuple[float, str, int]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "csatlib.cli", *args], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"csat failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, proc.stderr, proc.returncode


def peak_rss_children_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def fixed_cost(work: Path) -> float:
    """Kernel start + stack imports + a one-cell notebook executed and rendered to HTML."""
    code = f"""
import time, nbformat
t0 = time.perf_counter()
import great_expectations, statsmodels.api, pandas, csatlib.pipeline
from csatlib.report import execute_notebook, notebook_to_html
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
    wall, stderr, _ = run_cli(["run", "--data", str(data), "--spec", str(spec_path), "--wave", "2026Q3",
                               "--out", str(out), "--expectations", str(work / "exp"), "--quiet"])
    # --quiet hides progress; run once more with progress for the stage split (same inputs)
    wall2, stderr, _ = run_cli(["run", "--data", str(data), "--spec", str(spec_path), "--wave", "2026Q3",
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
            "peak_rss_mb_so_far": round(peak_rss_children_mb(), 0),
            "validate_gx_s": round(t_gx, 3), "validate_pandas_floor_s": round(t_pd, 3),
            "validate_ratio_gx_over_pandas": round(t_gx / t_pd, 1) if t_pd > 0 else None,
            "output_bytes": size, "report_html_bytes": html}


def to_markdown(doc: dict) -> str:
    lines = ["# Benchmark results", "", f"Machine: {doc['machine']}", "",
             f"Fixed cost (kernel start, imports, one-cell notebook rendered): **{doc['fixed_cost_s']:.1f} s**", "",
             "| rows | input MB | csat run (s) | load | validate | metrics | notebook | html | peak RSS MB* "
             "| GX validate (s) | pandas floor (s) | GX / floor | run / fixed | report.html KB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in doc["sizes"]:
        st = r["stages_s"]
        lines.append(f"| {r['rows']:,} | {r['input_mb']} | {r['run_wall_s']:.1f} | {st.get('load', 0):.1f} | "
                     f"{st.get('validate', 0):.1f} | {st.get('metrics', 0):.1f} | {st.get('notebook', 0):.1f} | "
                     f"{st.get('html', 0):.1f} | {r['peak_rss_mb_so_far']:.0f} | {r['validate_gx_s']:.2f} | "
                     f"{r['validate_pandas_floor_s']:.3f} | {r['validate_ratio_gx_over_pandas']} | "
                     f"{r['run_wall_s'] / doc['fixed_cost_s']:.1f} | {r['report_html_bytes'] / 1024:.0f} |")
    lines += ["", "*peak RSS of any child process so far in this run (the largest csat run or its kernel).",
              "Ratios are measured in the same run; absolute seconds depend on the machine's load."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--json", default="bench/results.json")
    ap.add_argument("--md", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="csat-bench-") as tmp:
        work = Path(tmp)
        spec_path = work / "retail-csat.yaml"
        spec_path.write_text(SAMPLE_SPEC, encoding="utf-8")
        doc = {"machine": f"{__import__('os').cpu_count()} cores, Python {sys.version.split()[0]}",
               "fixed_cost_s": round(fixed_cost(work), 2), "sizes": []}
        for n in sorted(args.rows):
            print(f"bench: {n:,} rows ...", file=sys.stderr, flush=True)
            doc["sizes"].append(bench_size(n, work, spec_path))
            print(f"bench: {json.dumps(doc['sizes'][-1], ensure_ascii=False)}", file=sys.stderr, flush=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md = Path(args.md) if args.md else Path(args.json).with_suffix(".md")
    md.write_text(to_markdown(doc), encoding="utf-8")
    print(md.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
