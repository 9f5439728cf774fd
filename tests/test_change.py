"""csatlib.analysis.change: wave-over-wave tests against scipy's Welch test and statsmodels' Holm
adjustment (the design-based changes are tested against R in test_survey_design.py)."""
from __future__ import annotations

import numpy as np
import pytest
import yaml
from scipy import stats as st
from statsmodels.stats.multitest import multipletests

from csatlib.analysis.change import compare_waves
from csatlib.analysis.kpis import kpis
from csatlib.spec import parse_spec

from .conftest import HOTEL_SPEC, make_hotel_wave


def test_wave_change_tests():
    a, b = make_hotel_wave(400, seed=1), make_hotel_wave(350, seed=2)
    b["总体满意"] = np.clip(b["总体满意"] - 1, 1, 7)  # a clearly lower earlier wave
    unweighted = parse_spec({**yaml.safe_load(HOTEL_SPEC), "weight": None})
    cur, prev = kpis(a, unweighted), kpis(b, unweighted)
    changes = {c.id: c for c in compare_waves(cur, prev)}
    ref = st.ttest_ind(a["总体满意"], b["总体满意"], equal_var=False)
    score = changes["change.satisfaction.score"]
    assert score.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert score.significant
    family = [changes[k] for k in ("change.satisfaction.score", "change.satisfaction.rate", "change.nps",
                                   "change.loyalty.再次入住.score")]
    assert [c.p_adjusted for c in family] == pytest.approx(list(multipletests([c.p for c in family],
                                                                              method="holm")[1]))
    index = changes["change.satisfaction.index"]
    assert index.p == score.p and index.estimate == pytest.approx(score.estimate * 100 / 6)
    p1, p2 = (a["总体满意"] >= 6).mean(), (b["总体满意"] >= 6).mean()
    assert changes["change.satisfaction.rate"].estimate == pytest.approx(p1 - p2)
