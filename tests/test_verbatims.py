"""Verbatim selection: each comment once, spec order, no small segments, scores, balanced, seeded."""
from __future__ import annotations


import numpy as np
import pandas as pd

from csatlib.analysis.verbatims import verbatim_sample
from csatlib.spec import parse_spec

SPEC = {"name": "t", "id": "id", "segments": ["city"], "categories": {"city": ["Zeta", "Alpha", "Small"]},
        "satisfaction": {"column": "sat", "scale": [1, 5], "top_box": 4},
        "nps": {"column": "rec", "scale": [0, 10]}, "text": ["c1", "c2"], "quality": {"min_base": 20}}


def frame(n: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(["Alpha", "Zeta"], n)
    city[:10] = "Small"  # below min_base
    sat = rng.integers(1, 6, n)
    return pd.DataFrame({"id": range(n), "city": city, "sat": sat, "rec": np.clip(sat * 2 + rng.integers(-1, 2, n), 0, 10),
                         "c1": rng.choice(["Great!", "great! ", "Too slow", "", "Rude staff", None], n),
                         "c2": rng.choice(["", "Fine", "Long queue at the till", "Nice app"], n)})


def test_order_dedup_withheld_scores_and_balance():
    spec = parse_spec(SPEC)
    f = frame()
    out = verbatim_sample(f, spec, per_segment=4)
    assert [g["segment"] for g in out] == ["Zeta", "Alpha", "Small"]  # the spec's order, not the data's
    small = out[2]
    assert small["withheld"] and small["sample"] == [] and small["comments"] > 0
    keys = [q["text"].strip().casefold() for g in out for q in g["sample"]]
    assert len(keys) == len(set(keys))  # "Great!" and "great! " count as one comment, shown once
    for g in out[:2]:
        assert g["comments"] == int(((f.loc[f.city == g["segment"], ["c1", "c2"]].fillna("").apply(
            lambda s: s.str.strip().str.len() > 0)).to_numpy()).sum())
        for q in g["sample"]:
            row = f[(f.city == g["segment"]) & ((f.c1 == q["text"]) | (f.c2 == q["text"]))]
            assert q["satisfaction"] in set(row["sat"].astype(float))
    groups = [q["group"] for q in out[0]["sample"]]
    assert "detractor" in groups and "promoter" in groups  # both ends of the scale are heard
    assert out == verbatim_sample(f, spec, per_segment=4)  # seeded


def test_without_nps_groups_by_top_box_and_without_segments_one_group():
    spec = parse_spec({k: v for k, v in SPEC.items() if k not in ("nps", "segments", "categories")})
    out = verbatim_sample(frame(), spec, per_segment=6)
    assert len(out) == 1 and out[0]["column"] is None
    groups = {q["group"] for q in out[0]["sample"]}
    assert groups <= {"less satisfied", "satisfied"} and len(groups) == 2


def test_no_text_column_or_no_comments():
    spec = parse_spec({k: v for k, v in SPEC.items() if k != "text"})
    assert verbatim_sample(frame(), spec) == []
    f = frame()
    f["c1"], f["c2"] = "", None
    assert verbatim_sample(f, parse_spec(SPEC)) == []


def test_clean_rows_with_gaps_in_the_index_and_a_missing_segment():
    """The analysis passes the clean rows only (their index has gaps): the quotes, scores and
    counts are those of the same rows renumbered; a missing segment value is its own group."""
    from csatlib.frame import MISSING_SEGMENT

    f = frame(n=400, seed=3)
    f.loc[f.index[-60:], "city"] = None
    gapped = f.set_index(pd.Index(np.arange(len(f)) * 3 + 7)).iloc[::-1]  # labels are not positions
    spec = parse_spec(SPEC)
    out = verbatim_sample(gapped, spec, per_segment=4)
    assert out == verbatim_sample(gapped.reset_index(drop=True), spec, per_segment=4)
    missing = next(g for g in out if g["segment"] == MISSING_SEGMENT)
    assert out[-1] is missing and not missing["withheld"]
    rows = gapped[gapped.city.isna()]
    assert missing["comments"] == int(rows[["c1", "c2"]].fillna("").apply(lambda s: s.str.strip().str.len() > 0)
                                      .to_numpy().sum())
    for q in missing["sample"]:
        assert q["satisfaction"] in set(rows.loc[(rows.c1 == q["text"]) | (rows.c2 == q["text"]), "sat"].astype(float))
