"""csatlib.analysis.gap: gap tests against scipy, the disconfirmation regression against
statsmodels, the mediation's effects and its subsampling of large waves."""
from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as st
from statsmodels.stats.multitest import multipletests

from csatlib.analysis.gap import gap_analysis, gap_mediation
from csatlib.spec import parse_spec

from .test_loyalty import SPEC, synthetic


def test_gap_tests_against_scipy():
    spec = parse_spec(SPEC)
    f = synthetic(True)
    g = gap_analysis(f, spec, mediation_replicates=50).table.set_index("dimension")
    for d, (p, e) in {"a": ("pa", "ea"), "b": ("pb", "eb")}.items():
        ref_t = st.ttest_rel(f[p], f[e])
        assert g.loc[d, "t"] == pytest.approx(ref_t.statistic, rel=1e-10)
        assert g.loc[d, "p_t"] == pytest.approx(ref_t.pvalue, rel=1e-8)
        ref_w = st.wilcoxon(f[p] - f[e])
        assert g.loc[d, "p_wilcoxon"] == pytest.approx(ref_w.pvalue, rel=1e-10)
        unmet = (f[p] < f[e]).mean()
        assert g.loc[d, "unmet_share"] == pytest.approx(unmet)
        assert g.loc[d, "mean_gap"] == pytest.approx((f[p] - f[e]).mean())
    
    assert list(g["p_t_holm"]) == pytest.approx(list(multipletests(g["p_t"], method="holm")[1]))


def test_disconfirmation_and_mediation():
    spec = parse_spec(SPEC)
    f = synthetic(True)
    res = gap_analysis(f, spec, mediation_replicates=50)
    ref = sm.OLS(f["sat"], sm.add_constant(f[["_csat_gap_a", "_csat_gap_b"]])).fit(cov_type="HC3")
    np.testing.assert_allclose(res.disconfirmation.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(res.disconfirmation.bse, ref.bse, rtol=1e-8)
    med = res.mediation
    assert med["n"] == len(f) and med["replicates"] == 50
    total = med["total"]["estimate"]
    assert total == pytest.approx(med["indirect"]["estimate"] + med["direct"]["estimate"], rel=1e-6)
    # reproducible: the same seed gives the same numbers
    again = gap_analysis(f, spec, mediation_replicates=50).mediation
    assert again["indirect"] == med["indirect"]


def test_mediation_subsamples_large_waves_and_says_so():
    spec = parse_spec(SPEC)
    res = gap_analysis(synthetic(True, n=3000), spec, mediation_replicates=20, mediation_max_rows=1000)
    assert res.mediation["n"] == 1000 and "seeded subsample of 1,000 of 3,000" in res.mediation["rows"]


def test_the_mediation_computed_apart_is_the_gap_analysis_own():
    """``csat run`` computes the mediation in its second process: gap_mediation gives exactly the
    mediation of gap_analysis, which leaves it out with ``mediation=False``."""
    spec = parse_spec(SPEC)
    f = synthetic(True)
    whole = gap_analysis(f, spec, mediation_replicates=50)
    apart = gap_analysis(f, spec, mediation_replicates=50, mediation=False)
    assert whole.mediation is not None and apart.mediation is None
    assert gap_mediation(f, spec, replicates=50) == whole.mediation
    assert apart.table.equals(whole.table)
