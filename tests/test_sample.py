"""The shipped sample is the generator's output, and it plants what the product must handle."""
from __future__ import annotations

import io

import pandas as pd

from csatlib.ingest.load import read_wave
from csatlib.sample import SAMPLE_SPEC, SAMPLE_WAVES, generate_wave
from csatlib.spec import load_spec

from .conftest import DATA, SAMPLE_SPEC as SPEC_PATH


def test_shipped_files_are_reproducible():
    assert SPEC_PATH.read_text(encoding="utf-8") == SAMPLE_SPEC
    for wave, kw in SAMPLE_WAVES.items():
        shipped = pd.read_csv(DATA / f"retail_{wave}.csv", dtype=str, keep_default_na=False)
        fresh = pd.read_csv(io.StringIO(generate_wave(wave, **kw).to_csv(index=False)), dtype=str,
                            keep_default_na=False)
        pd.testing.assert_frame_equal(shipped, fresh)


def test_sample_plants_what_the_product_handles():
    spec = load_spec(SPEC_PATH)
    f = read_wave(DATA / "retail_2026Q3.csv", spec).frame
    assert f["region"].value_counts()["东北"] < spec.quality.min_base  # a suppressed segment
    sat = pd.to_numeric(f["overall_sat"], errors="coerce")
    assert (sat > 10).any() and sat.isna().any()  # out of range and non-numeric answers
    assert f["_csat_speeder"].any() and f["_csat_straightliner"].any()
    assert f["weight"].nunique() > 100
    # loyalty jumps at the top of the satisfaction scale
    rep = pd.to_numeric(f["repurchase"]).groupby(sat).mean()
    assert rep[8] - rep[7] > 2 * (rep[7] - rep[6])
