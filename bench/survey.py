"""Generated questionnaires of any length, for benchmarks: a spec and a wave that fits it.

``generate_survey(items=24, rows=211)`` returns the YAML text of a spec and a DataFrame shaped like
a real attribute battery: ``items`` rated attributes (perception, and an expectation for every
other attribute so gap analyses run on half of them), one common "halo" factor behind the ratings
(as in real rating batteries, so the predictors are correlated), an overall satisfaction driven
by a few attributes, an NPS item, a loyalty item, design weights, two segment columns (one with
Chinese labels), an interview duration and a free-text comment. Column names are deliberately
unlike the shipped sample's (``Q7_3``-style codes), so nothing hard-coded from the sample can
pass. A few rows carry the problems a validator must catch (an out-of-scale answer, a text
answer, a speeder).

    python bench/survey.py --items 40 --rows 211 --out /tmp/kiosk   # writes spec.yaml and wave.csv
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["generate_survey", "write_survey"]

REGIONS = ["华东", "华南", "华北", "西部"]
SITES = ["S01", "S02", "S03", "S04", "S05", "S06"]


def _item(j: int) -> str:
    return f"Q{j // 10 + 1}_{j % 10 + 1}"


def generate_survey(items: int = 24, rows: int = 211, seed: int = 1, wave: str = "W1", scale: int = 10,
                    expectation_every: int = 2, dirty: bool = True, segments: int | None = None
                    ) -> tuple[str, pd.DataFrame]:
    """A spec (YAML text) and a wave (DataFrame) with ``items`` rated attributes.

    Parameters
    ----------
    items : int
        Number of rated attributes (dimensions).
    rows : int
        Respondents.
    scale : int
        Attributes are rated 1..scale (overall satisfaction 1..10 always).
    expectation_every : int
        Every n-th attribute also has an expectation item (0: none).
    dirty : bool
        Plant a few bad rows (out of scale, a text answer, a speeder).
    segments : int, optional
        Number of distinct values of the ``site`` column (default 6), for batch benchmarks.
    """
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=rows)
    load = rng.uniform(0.5, 0.8, items)
    latent = halo[:, None] * load + rng.normal(size=(rows, items)) * np.sqrt(1 - load ** 2)
    centre = rng.uniform(0.55, 0.8, items) * scale

    def rate(z, mid, top):
        return np.clip(np.rint(mid + z * top / 5), 1, top).astype(int)

    perception = rate(latent, centre, scale)
    drive = np.zeros(items)
    drive[rng.choice(items, size=min(items, 5), replace=False)] = rng.uniform(0.3, 1.0, min(items, 5))
    drive += rng.uniform(0, 0.1, items)
    sat_latent = latent @ drive / np.sqrt(drive @ drive) * 0.8 + rng.normal(0, 0.6, rows)
    overall = np.clip(np.rint(7 + 1.6 * sat_latent), 1, 10).astype(int)
    site_values = SITES if segments is None else [f"S{i + 1:03d}" for i in range(segments)]
    frame = {
        "RespID": [f"K{i:06d}" for i in range(rows)],
        "Wave": wave,
        "WT": np.round(rng.uniform(0.4, 2.5, rows), 3),
        "region": rng.choice(REGIONS, rows),
        "site": rng.choice(site_values, rows),
        "Overall": overall,
        "NPS": np.clip(np.rint(overall + rng.normal(0, 1.2, rows)), 0, 10).astype(int),
        "Return": np.clip(np.rint(1 + 0.45 * overall + rng.normal(0, 0.7, rows)), 1, 5).astype(int),
        "LOI": np.round(rng.uniform(150, 900, rows)),
    }
    lines = [f"name: generated-{items}-items", "id: RespID", "wave: Wave", "weight: WT",
             "segments: [region, site]", f"categories: {{region: [{', '.join(REGIONS)}]}}",
             "satisfaction: {column: Overall, scale: [1, 10], top_box: 9}", "nps: {column: NPS, scale: [0, 10]}",
             "loyalty:", "  - {column: Return, scale: [1, 5]}", "dimensions:"]
    for j in range(items):
        p = _item(j)
        frame[p] = perception[:, j]
        dim = f"  attr_{j + 1:02d}: {{perception: {p}"
        if expectation_every and j % expectation_every == 0:
            e = f"E{p}"
            frame[e] = rate(0.6 * halo + rng.normal(0, 0.8, rows), centre[j] + 0.3, scale)
            dim += f", expectation: {e}"
        lines.append(dim + f", scale: [1, {scale}]}}")
    frame["Comment"] = rng.choice(["", "排队太久", "staff friendly", "call me on 13912345678", "kiosk froze"], rows)
    lines += ["text: [Comment]", "duration: LOI",
              "quality: {min_duration_s: 120, max_straightline_share: 0.05, min_base: 30, max_quarantine_share: 0.3}"]
    out = pd.DataFrame(frame)
    if dirty and rows >= 20:
        out = out.astype({_item(0): object})
        out.loc[3, _item(0)] = "dunno"
        out.loc[5, "Overall"] = 11
        out.loc[7, "LOI"] = 30
    return "\n".join(lines) + "\n", out


def write_survey(folder: str | Path, items: int = 24, rows: int = 211, seed: int = 1, wave: str = "W1",
                 **kwargs) -> tuple[Path, Path]:
    """Write ``spec.yaml`` and ``wave.csv`` into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec, frame = generate_survey(items, rows, seed, wave, **kwargs)
    spec_path, data_path = folder / "spec.yaml", folder / "wave.csv"
    spec_path.write_text(spec, encoding="utf-8")
    frame.to_csv(data_path, index=False, encoding="utf-8")
    return spec_path, data_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=24)
    ap.add_argument("--rows", type=int, default=211)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    spec, data = write_survey(args.out, args.items, args.rows, args.seed)
    print(spec, data)


if __name__ == "__main__":
    main()
