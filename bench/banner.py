"""Benchmark: banner tables of a large wave (not a timed test; these machines are noisy).

    python bench/banner.py --rows 1000000 --items 40 --json bench/banner.json

Generates a weighted wave in memory: satisfaction (1-10), NPS (0-10), loyalty items (1-5) and
dimensions rated as perception and expectation (1-7) until ``--items`` rated items, ~3% skipped
answers per item, and a banner of three columns with 5 + 3 + 4 = 12 values (region, channel,
age band). Measures, best of ``--repeat``:

* ``csatlib.banner`` (the computation: every table, every letter), the target being < 10 s at
  1,000,000 rows × 40 items × a 12-column banner;
* the row-by-row pandas way of getting the same cells (a weighted groupby per question and
  banner column), as the baseline the vectorised counting replaces (``--baseline``);
* writing banner.csv, banner.xlsx and the HTML appendix.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from csatlib.analysis.banner import banner  # noqa: E402
from csatlib.spec import parse_spec  # noqa: E402

REGIONS = ["华东", "华南", "华北", "西南", "东北"]
CHANNELS = ["online", "store", "phone"]
AGES = ["18-34", "35-49", "50-64", "65+"]


def make_spec(items: int) -> dict:
    """A spec with ``items`` rated items: satisfaction, NPS, two loyalty items, then dimensions."""
    loyalty = [{"column": f"loy{i}", "scale": [1, 5]} for i in range(2)]
    dims = {}
    left = items - 2 - len(loyalty)
    d = 0
    while left > 0:
        entry = {"perception": f"p{d}", "scale": [1, 7]}
        left -= 1
        if left > 0:
            entry["expectation"] = f"e{d}"
            left -= 1
        dims[f"dim{d}"] = entry
        d += 1
    return {"name": "bench-banner", "id": "rid", "weight": "w", "segments": ["region", "channel", "age"],
            "categories": {"region": REGIONS, "channel": CHANNELS, "age": AGES},
            "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
            "nps": {"column": "rec", "scale": [0, 10]}, "loyalty": loyalty, "dimensions": dims,
            "banner": {"columns": ["region", "channel", "age"]}, "quality": {"min_base": 30}}


def make_wave(spec_doc: dict, rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(len(REGIONS), rows, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    base = rng.normal(0, 1, rows) + 0.15 * (region == 1)
    data = {"rid": np.arange(rows), "w": rng.uniform(0.4, 2.5, rows),
            "region": pd.Categorical.from_codes(region, REGIONS).astype(object),
            "channel": rng.choice(CHANNELS, rows, p=[0.5, 0.35, 0.15]),
            "age": rng.choice(AGES, rows)}

    def rated(low: int, high: int) -> np.ndarray:
        mid, spread = (low + high) / 2, (high - low) / 4
        y = np.clip(np.rint(mid + spread * (0.6 * base + 0.8 * rng.normal(0, 1, rows))), low, high)
        y[rng.uniform(size=rows) < 0.03] = np.nan  # skipped
        return y

    data["sat"] = rated(1, 10)
    data["rec"] = rated(0, 10)
    for it in spec_doc["loyalty"]:
        data[it["column"]] = rated(1, 5)
    for dim in spec_doc["dimensions"].values():
        for role in ("perception", "expectation"):
            if role in dim:
                data[dim[role]] = rated(1, 7)
    return pd.DataFrame(data)


def pandas_baseline(frame: pd.DataFrame, spec) -> float:
    """The same cells the straightforward way: per question and banner column, a weighted
    groupby of one-hot answers (shares), of w·y and w·y² (means), timed once."""
    t0 = time.perf_counter()
    w = frame[spec.weight]
    for col, _, _ in spec.numeric_items():
        y = frame[col]
        ans = y.notna()
        onehot = pd.get_dummies(y[ans]).mul(w[ans], axis=0)
        for by in spec.banner.columns:
            g = frame.loc[ans, by]
            onehot.groupby(g).sum()
            pd.DataFrame({"w": w[ans], "wy": w[ans] * y[ans], "wy2": w[ans] * y[ans] ** 2}).groupby(g).sum()
    return time.perf_counter() - t0


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", action="store_true", help="also time the pandas groupby baseline")
    ap.add_argument("--out", type=Path, default=None, help="folder for banner.csv/xlsx (default: a temp folder)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import tempfile

    from csatlib.report.banner import appendix, write_csv, write_xlsx

    doc = make_spec(args.items)
    spec = parse_spec(doc)
    t0 = time.perf_counter()
    frame = make_wave(doc, args.rows)
    gen = time.perf_counter() - t0
    n_items = len(spec.numeric_items())
    k = sum(len(v) for v in (REGIONS, CHANNELS, AGES))
    compute, tables = best(lambda: banner(frame, spec), args.repeat)
    cpu0 = time.process_time()
    banner(frame, spec)
    cpu = time.process_time() - cpu0  # less sensitive than wall time to other jobs on the machine
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-banner-"))
    csv_s, _ = best(lambda: write_csv(tables, out / "banner.csv"), 1)
    xlsx_s, _ = best(lambda: write_xlsx(tables, out / "banner.xlsx"), 1)
    html_s, page = best(lambda: appendix(tables), 1)
    result = {"rows": args.rows, "rated_items": n_items, "tables": len(tables.tables) - 1,
              "banner_columns": k, "tidy_rows": len(tables.frame), "generate_s": round(gen, 2),
              "banner_s": round(compute, 2), "banner_cpu_s": round(cpu, 2), "csv_s": round(csv_s, 2), "xlsx_s": round(xlsx_s, 2),
              "html_s": round(html_s, 2), "html_kb": round(len(page.encode()) / 1024),
              "xlsx_kb": round((out / "banner.xlsx").stat().st_size / 1024),
              "target_s": 10.0, "met": compute < 10.0}
    if args.baseline:
        result["pandas_groupby_s"] = round(pandas_baseline(frame, spec), 2)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
