"""Satisfaction indices: spec keys, the weighted CSI (direct numpy and R survey references), the PLS
index model through the analysis layer (R plspm reference), a full run, and the report section."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as st

from csatlib.analysis.drivers import key_drivers
from csatlib.analysis.index import index_changes, index_model, linear_index, satisfaction_index, weighted_index
from csatlib.errors import InputError, SpecError
from csatlib.ingest.load import read_wave
from csatlib.results import Estimate, IndexAnalysis, Results, load_results
from csatlib.run.stages import analyse_file, validate_file
from csatlib.spec import parse_spec
from csatlib.stats.importance import relative_weights, weighted_correlation

from .conftest import HOTEL_SPEC, make_hotel_wave

FIX = Path(__file__).parent / "fixtures"
CSI_REF = json.loads((FIX / "csi" / "csi_reference.json").read_text(encoding="utf-8"))
PLS_REF = json.loads((FIX / "plspm" / "plspm_reference.json").read_text(encoding="utf-8"))
ECSI = pd.read_csv(FIX / "plspm" / "satisfaction.csv")
DESIGN = pd.read_csv(FIX / "r" / "design_data.csv").sort_values("id").reset_index(drop=True)

BASE = {"name": "s", "id": "rid", "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8},
        "dimensions": {"价格": {"perception": "p_price", "importance": "i_price", "scale": [1, 7]},
                       "服务": {"perception": "p_serv", "importance": "i_serv", "scale": [1, 7]},
                       "환경": {"perception": "p_env", "scale": [1, 5]}}}


def spec_with(**keys):
    return parse_spec({**BASE, **keys})


# ----------------------------------------------------------------------------------------------
# spec keys


def test_index_keys_parse():
    spec = spec_with(index={"weights": "given", "dimensions": {"价格": 2, "服务": 1, "환경": 1}},
                     index_model={"scale": [0, 10], "constructs": {
                         "Q": ["p_price", "p_serv"], "S": {"items": ["sat", "sat2"], "label": "满意度"},
                         "L": {"items": ["loy1", "loy2"], "scale": [1, 5]}},
                         "paths": [["Q", "S"], ["S", "L"]], "scheme": "path", "bootstrap": 200})
    assert spec.index.weights == "given" and spec.index.given == {"价格": 2, "服务": 1, "환경": 1}
    im = spec.index_model
    assert [c.name for c in im.constructs] == ["Q", "S", "L"] and im.paths == (("Q", "S"), ("S", "L"))
    assert im.scheme == "path" and im.scaled is False and im.bootstrap == 200
    assert im.satisfaction == "S"  # the construct holding the spec's satisfaction item
    q, s, lo = im.constructs
    assert [str(x) for x in q.scales] == ["1-7", "1-7"]  # rated elsewhere: their dimension's scale
    assert [str(x) for x in s.scales] == ["1-10", "0-10"] and s.title == "满意度"
    assert [str(x) for x in lo.scales] == ["1-5", "1-5"]
    roles = spec.roles()
    assert roles["sat2"] == "index_model.constructs.S" and roles["p_price"] == "dimensions.价格.perception"
    rated = {c: str(sc) for c, _, sc in spec.numeric_items()}
    assert rated["loy1"] == "1-5" and rated["sat2"] == "0-10" and list(rated).count("p_price") == 1
    assert spec_with(index={"weights": "derived"}).index.dimensions == ("价格", "服务", "환경")
    assert spec_with(index={"weights": "stated", "dimensions": ["价格", "服务"]}).index.dimensions == ("价格", "服务")


MODEL = {"scale": [0, 10], "constructs": {"A": ["a1", "a2"], "B": ["b1"]}, "paths": [["A", "B"]]}


@pytest.mark.parametrize("keys, message", [
    ({"index": {"weights": "equal"}}, "index.weights must be given, stated or derived"),
    ({"index": {"weights": "given"}}, "must map each dimension to its weight"),
    ({"index": {"weights": "given", "dimensions": {"价格": -1}}}, "index.dimensions.价格 must be >= 0"),
    ({"index": {"weights": "given", "dimensions": {"价格": 0}}}, "must not all be 0"),
    ({"index": {"weights": "given", "dimensions": {"质量": 1}}}, "'质量' is not a dimension"),
    ({"index": {"weights": "stated"}}, "dimension '환경' has no importance item"),
    ({"index": {"weights": "derived", "dimensions": ["价格"]}}, "at least two dimensions"),
    ({"index": {"weights": "derived", "dimension": ["价格"]}}, "unknown key 'index.dimension'"),
    ({"index": {"weights": "derived", "bootstrap": -1}}, "index.bootstrap must be >= 0"),
    ({"index_model": {**MODEL, "paths": [["A", "C"]]}}, "'C' is not a construct"),
    ({"index_model": {**MODEL, "paths": [["A", "B"], ["B", "A"]]}}, "form a cycle (A → B → A)"),
    ({"index_model": {**MODEL, "paths": [["A", "A"]]}}, "points to itself"),
    ({"index_model": {**MODEL, "constructs": {"A": ["a1"], "B": ["b1"], "C": ["c1"]}}}, "'C' is on no path"),
    ({"index_model": {**MODEL, "constructs": {"A": ["a1"], "B": ["a1"]}}}, "already an item of construct 'A'"),
    ({"index_model": {**MODEL, "constructs": {"A.1": ["a1"], "B": ["b1"]}}}, "not a valid construct name"),
    ({"index_model": {**MODEL, "constructs": {"csi": ["a1"], "B": ["b1"]}}}, "not a valid construct name"),
    ({"index_model": {**MODEL, "constructs": {"A": ["rid"], "B": ["b1"]}}}, "'rid' is the id column"),
    ({"index_model": {**MODEL, "constructs": {"A": {"item": ["a1"]}, "B": ["b1"]}}},
     "unknown key 'index_model.constructs.A.item'"),
    ({"index_model": {**MODEL, "constructs": {"A": {"items": ["a1"], "mode": "C"}, "B": ["b1"]}}},
     "mode must be A (reflective) or B (formative)"),
    ({"index_model": {**MODEL, "constructs": {"A": {"items": ["p_price"], "scale": [1, 5]}, "B": ["b1"]}}},
     "'p_price' is rated on 1-7 elsewhere in the spec, not 1-5"),
    ({"index_model": {k: v for k, v in MODEL.items() if k != "scale"}}, "item 'a1' has no scale"),
    ({"index_model": {**MODEL, "scheme": "horst"}}, "scheme must be centroid, factorial or path"),
    ({"index_model": {**MODEL, "scaled": "yes"}}, "scaled must be true or false"),
    ({"index_model": {**MODEL, "satisfaction": "Z"}}, "'Z' is not a construct"),
    ({"index_model": {"constructs": {"A": ["a1"]}}}, "index_model.paths is required"),
])
def test_index_spec_errors_name_the_key(keys, message):
    with pytest.raises(SpecError) as err:
        spec_with(**keys)
    assert message in str(err.value)


# ----------------------------------------------------------------------------------------------
# the weighted CSI


def _survey(n=700, seed=5, missing=True):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    p_price = np.clip(np.rint(4 + 1.2 * f + rng.normal(0, 1.1, n)), 1, 7)
    p_serv = np.clip(np.rint(4.5 + 1.0 * f + rng.normal(0, 1.0, n)), 1, 7)
    p_env = np.clip(np.rint(3 + 0.6 * f + rng.normal(0, 0.9, n)), 1, 5)
    sat = np.clip(np.rint(6 + 0.9 * (p_price - 4) + 0.5 * (p_serv - 4.5) + 0.3 * (p_env - 3) + rng.normal(0, 1, n)),
                  1, 10)
    frame = pd.DataFrame({"rid": np.arange(n), "sat": sat, "p_price": p_price, "p_serv": p_serv, "p_env": p_env,
                          "i_price": rng.integers(3, 8, n).astype(float), "i_serv": rng.integers(1, 8, n).astype(float),
                          "w": rng.uniform(0.4, 2.5, n).round(3),
                          "区域": rng.choice(["东", "西", "北"], n, p=[0.55, 0.4, 0.05])})
    if missing:
        for col, rate in [("p_price", 0.08), ("p_serv", 0.05), ("p_env", 0.12), ("i_serv", 0.1)]:
            frame.loc[rng.random(n) < rate, col] = np.nan
    return frame


def _direct_csi(frame, dims, scales, a, w):
    """Available-case means on 0-100 and the linearised SE of Σ a m, written out plainly."""
    s = np.column_stack([100 * (frame[c].to_numpy() - lo) / (hi - lo) for c, (lo, hi) in zip(dims, scales)])
    r = ~np.isnan(s)
    any_row = r.any(axis=1)
    s, r, w = s[any_row], r[any_row], w[any_row]
    n = len(s)
    means = np.array([np.sum(w[r[:, j]] * s[r[:, j], j]) / np.sum(w[r[:, j]]) for j in range(s.shape[1])])
    z = np.zeros_like(s)
    for j in range(s.shape[1]):
        z[r[:, j], j] = w[r[:, j]] * (s[r[:, j], j] - means[j]) / np.sum(w[r[:, j]])
    cov = n / (n - 1) * z.T @ z  # linearised covariance matrix of the means
    return float(a @ means), float(np.sqrt(a @ cov @ a)), n, means, z


def test_given_weights_equal_direct_computation_and_linearised_se():
    frame = _survey()
    spec = spec_with(weight="w", index={"weights": "given", "dimensions": {"价格": 3, "服务": 2, "환경": 1}})
    res = weighted_index(frame, spec)
    a = np.array([3, 2, 1]) / 6
    est, se, n, means, _ = _direct_csi(frame, ["p_price", "p_serv", "p_env"], [(1, 7), (1, 7), (1, 5)], a,
                                       frame["w"].to_numpy())
    e = res.csi
    assert e.estimate == pytest.approx(est, abs=1e-10) and e.se == pytest.approx(se, rel=1e-12)
    q = st.t.ppf(0.975, n - 1)
    assert (e.ci_low, e.ci_high) == pytest.approx((est - q * se, est + q * se), rel=1e-12)
    assert e.n == n and e.n_eff == pytest.approx(frame["w"].sum() ** 2 / (frame["w"] ** 2).sum())
    t = res.table
    np.testing.assert_allclose(t["weight"], a)
    np.testing.assert_allclose(t["score"], means, atol=1e-10)
    assert t["contribution"].sum() == pytest.approx(est, abs=1e-10)
    # the mean on the native scale is the 0-100 score mapped back
    assert t.loc[2, "mean"] == pytest.approx(np.average(frame["p_env"].dropna(), weights=frame["w"][frame["p_env"].notna()]))
    assert "linearised" in e.method and res.bootstrap == 0


def test_complete_answers_reduce_to_the_mean_of_the_composite():
    frame = _survey(missing=False)
    spec = spec_with(weight="w", index={"weights": "given", "dimensions": {"价格": 1, "服务": 1}})
    e = weighted_index(frame, spec).csi
    comp = 100 * ((frame["p_price"] - 1) / 6 + (frame["p_serv"] - 1) / 6) / 2
    w = frame["w"].to_numpy()
    mean = np.average(comp, weights=w)
    se = math.sqrt(len(w) / (len(w) - 1) * np.sum((w * (comp - mean) / w.sum()) ** 2))
    assert (e.estimate, e.se) == pytest.approx((mean, se), rel=1e-12)


def test_linear_index_equals_r_survey():
    a = np.array([0.5, 0.3, 0.2])
    s = np.column_stack([100 * (DESIGN[c].to_numpy() - 1) / 6 for c in ("p1", "p2", "p3")])
    ref = CSI_REF["complete"]
    est, se, n, _ = linear_index(s, DESIGN["w"].to_numpy(), a)
    assert est == pytest.approx(ref["csi"], abs=1e-10) and se == pytest.approx(ref["se"], rel=1e-10) and n == 600
    miss = s.copy()
    ids = DESIGN["id"].to_numpy()
    miss[ids % 7 == 0, 0] = np.nan
    miss[ids % 11 == 0, 1] = np.nan
    miss[ids % 13 == 0, 2] = np.nan
    ref = CSI_REF["skipped_answers"]
    est, se, n, _ = linear_index(miss, DESIGN["w"].to_numpy(), a)
    assert est == pytest.approx(ref["csi"], abs=1e-10) and se == pytest.approx(ref["se"], rel=1e-10)


def test_stated_weights_and_their_bootstrap_against_the_delta_method():
    frame = _survey(n=1500, seed=8)
    spec = spec_with(weight="w", index={"weights": "stated", "dimensions": ["价格", "服务"], "bootstrap": 600})
    res = weighted_index(frame, spec)
    w = frame["w"].to_numpy()
    imp = np.column_stack([100 * (frame[c].to_numpy() - 1) / 6 for c in ("i_price", "i_serv")])
    ok = ~np.isnan(imp)
    i_mean = np.array([np.average(imp[ok[:, j], j], weights=w[ok[:, j]]) for j in range(2)])
    a = i_mean / i_mean.sum()
    est, _, n, means, z_m = _direct_csi(frame, ["p_price", "p_serv"], [(1, 7), (1, 7)], a, w)
    assert res.csi.estimate == pytest.approx(est, abs=1e-10)
    np.testing.assert_allclose(res.table["weight"], a, atol=1e-12)
    # delta method: CSI = Σ I_d m_d / Σ I_d, so ∂/∂m_d = a_d and ∂/∂I_d = (m_d - CSI) / Σ I
    rows = ~np.isnan(frame[["p_price", "p_serv"]].to_numpy()).all(axis=1) | ok.any(axis=1)
    z_i = np.zeros((len(frame), 2))
    for j in range(2):
        z_i[ok[:, j], j] = w[ok[:, j]] * (imp[ok[:, j], j] - i_mean[j]) / w[ok[:, j]].sum()
    z_m_full = np.zeros((len(frame), 2))
    z_m_full[~np.isnan(frame[["p_price", "p_serv"]].to_numpy()).all(axis=1)] = z_m
    u = z_m_full @ a + z_i @ ((means - est) / i_mean.sum())
    m = int(rows.sum())
    delta_se = math.sqrt(m / (m - 1) * np.sum(u ** 2))
    assert res.csi.se == pytest.approx(delta_se, rel=0.12)  # 600 replicates: about 3% Monte Carlo error
    assert res.csi.ci_low < est < res.csi.ci_high and "bootstrap" in res.csi.method and res.bootstrap == 600
    assert (res.table["weight_ci_low"] < res.table["weight"]).all() and (res.table["weight"] < res.table["weight_ci_high"]).all()


def test_derived_weights_are_the_relative_weights_of_the_key_drivers():
    frame = _survey()
    spec = spec_with(weight="w", index={"weights": "derived", "bootstrap": 200})
    res = weighted_index(frame, spec)
    cols = ["sat", "p_price", "p_serv", "p_env"]
    keep = frame[cols].notna().all(axis=1).to_numpy()
    r = weighted_correlation(frame.loc[keep, cols].to_numpy(), frame.loc[keep, "w"].to_numpy())
    rw = relative_weights(r[1:, 1:], r[0, 1:])
    np.testing.assert_allclose(res.table["weight"], rw / rw.sum(), atol=1e-12)
    drivers = key_drivers(frame, spec, "perception", n_boot=0)
    np.testing.assert_allclose(res.table["weight"], drivers.table["rw_share"], atol=1e-10)
    est, _, _, _, _ = _direct_csi(frame, ["p_price", "p_serv", "p_env"], [(1, 7), (1, 7), (1, 5)], rw / rw.sum(),
                                  frame["w"].to_numpy())
    assert res.csi.estimate == pytest.approx(est, abs=1e-10)
    again = weighted_index(frame, spec)
    assert (again.csi.ci_low, again.csi.ci_high) == (res.csi.ci_low, res.csi.ci_high)  # seeded
    assert res.csi.ci_low < est < res.csi.ci_high and 0 < res.csi.se < 2


def test_segments_use_the_total_weights_and_are_suppressed_below_min_base():
    frame = _survey(n=900)
    spec = spec_with(weight="w", segments=["区域"], quality={"min_base": 80},
                     index={"weights": "given", "dimensions": {"价格": 1, "服务": 1, "환경": 2}})
    res = weighted_index(frame, spec)
    segs = {e.segment["区域"]: e for e in res.segments}
    assert segs["北"].suppressed and segs["北"].estimate is None and segs["北"].n < 80
    a = np.array([1, 1, 2]) / 4
    for value in ("东", "西"):
        part = frame[frame["区域"] == value]
        est, se, n, _, _ = _direct_csi(part, ["p_price", "p_serv", "p_env"], [(1, 7), (1, 7), (1, 5)], a,
                                       part["w"].to_numpy())
        assert (segs[value].estimate, segs[value].se, segs[value].n) == pytest.approx((est, se, n), rel=1e-12)
        assert segs[value].p is not None and segs[value].p_adjusted >= segs[value].p
    ids = {e.id for e in res.estimates()}
    assert ids == {"index.csi"}


def test_change_from_previous_wave_is_welch_t_for_fixed_weights():
    spec = spec_with(weight="w", index={"weights": "given", "dimensions": {"价格": 1, "服务": 1}})
    now = weighted_index(_survey(seed=1), spec)
    before = weighted_index(_survey(seed=2, n=500), spec)
    res = weighted_index(_survey(seed=1), spec, previous=before.estimates())
    c = res.change
    a, b = now.csi, before.csi
    se = math.hypot(a.se, b.se)
    df = se ** 4 / (a.se ** 4 / (a.n - 1) + b.se ** 4 / (b.n - 1))
    assert c.id == "change.index.csi" and c.estimate == pytest.approx(a.estimate - b.estimate)
    assert c.p == pytest.approx(2 * st.t.sf(abs(c.estimate) / se, df), rel=1e-10)
    assert c.p_adjusted == pytest.approx(c.p)  # a family of one
    boot = [Estimate("index.X", 70.0, se=1.0, n=300, method="bootstrap"), Estimate("index.csi", 60.0, se=2.0, n=300)]
    prev = [Estimate("index.X", 67.0, se=1.5, n=280, method="bootstrap"), Estimate("index.csi", 61.0, se=2.0, n=290)]
    changes = {e.id: e for e in index_changes(boot, prev)}
    z = 3.0 / math.hypot(1.0, 1.5)
    assert changes["change.index.X"].p == pytest.approx(2 * st.norm.sf(z)) and "z" in changes["change.index.X"].method
    ps = sorted([changes["change.index.X"].p, changes["change.index.csi"].p])
    assert sorted(e.p_adjusted for e in changes.values()) == pytest.approx([2 * ps[0], max(2 * ps[0], ps[1])])


# ----------------------------------------------------------------------------------------------
# the PLS index model through the analysis layer


def _ecsi_spec(**model_keys):
    meta = PLS_REF["meta"]
    pm = meta["path_matrix"]
    names = pm["rownames"]
    paths = [[names[j], names[i]] for i in range(6) for j in range(6) if pm["rows"][i][j] == 1]
    return parse_spec({"name": "ecsi", "id": "rid", "satisfaction": {"column": "sat1", "scale": [0, 10], "top_box": 8},
                       "index_model": {"scale": [0, 10], "constructs": meta["blocks"], "paths": paths, **model_keys}})


def _ecsi_frame():
    return ECSI.assign(rid=np.arange(1, len(ECSI) + 1))


@pytest.mark.parametrize("scheme, scaled", [("centroid", False), ("path", True), ("factorial", False)])
def test_index_model_reproduces_plspm_ecsi(scheme, scaled):
    spec = _ecsi_spec(scheme=scheme, scaled=scaled, bootstrap=100)
    model, reason = index_model(_ecsi_frame(), spec)
    assert reason is None and model.target == "SAT" and model.n == 250
    ref = PLS_REF["ecsi"][f"{scheme}_{'scaled' if scaled else 'unscaled'}"]
    names = PLS_REF["meta"]["path_matrix"]["rownames"]
    # items enter on 0-100 (x10 here): every standardised result is unchanged; plspm's stopping rule
    # may take one more iteration, which moves the numbers by about 1e-7
    coef = {(f, t): c for f, t, c in zip(model.paths["from"], model.paths["to"], model.paths["coefficient"])}
    rows = PLS_REF["ecsi"][f"{scheme}_{'scaled' if scaled else 'unscaled'}"]["path_coefs"]["rows"]
    for i, to in enumerate(names):
        for j, frm in enumerate(names):
            if (frm, to) in coef:
                assert coef[(frm, to)] == pytest.approx(rows[i][j], abs=1e-5)
    outer = model.outer.set_index("item")
    for item, loading in ref["loading"].items():
        assert outer.loc[item, "loading"] == pytest.approx(loading, abs=1e-5)
    cons = model.constructs.set_index("construct")
    for name in names:
        assert cons.loc[name, "index"] == pytest.approx(10 * ref["rescale_colmeans"][name], abs=1e-4)
        if cons.loc[name, "type"] == "Endogenous":
            assert cons.loc[name, "r2"] == pytest.approx(ref["r2"][name], abs=1e-5)
        assert cons.loc[name, "alpha"] == pytest.approx(ref["alpha"][name], abs=1e-12)
        assert cons.loc[name, "rho"] == pytest.approx(ref["dg_rho"][name], abs=1e-12)
        assert cons.loc[name, "ave"] == pytest.approx(ref["ave"][name], abs=1e-5)
    assert model.gof == pytest.approx(ref["gof"], abs=1e-5)
    assert outer.groupby("construct")["rescaled_weight"].sum().to_numpy() == pytest.approx(np.ones(6))
    ids = {e.id for e in model.estimates()}
    assert {"index.SAT", "index.LOY", "path.VAL.SAT", "path.IMAG.EXPE"} <= ids and len(ids) == 16
    # the satisfaction index, the headline of an ECSI study (Sanchez 2013: rescale(satpls))
    sat = next(e for e in model.estimates() if e.id == "index.SAT")
    assert sat.ci_low < sat.estimate < sat.ci_high and sat.se > 0


def test_index_model_bootstrap_of_the_index_is_the_replicates_rescaled_means():
    spec = _ecsi_spec(bootstrap=150)
    model, _ = index_model(_ecsi_frame(), spec, seed=3)
    from csatlib.stats.pls import PathModel, bootstrap_pls

    x = ECSI[list(PathModel(PLS_REF["meta"]["blocks"], []).items)] * 10.0
    boot = bootstrap_pls(x, PathModel(PLS_REF["meta"]["blocks"], [tuple(p) for p in spec.index_model.paths]),
                         n_boot=150, seed=3, scaled=False)
    cols = [i for i, c in enumerate(x.columns) if c.startswith("sat")]
    bw = boot.replicates["weights"][:, cols]
    reps = (bw * boot.replicates["means"][:, cols]).sum(axis=1) / bw.sum(axis=1)
    sat = model.constructs.set_index("construct").loc["SAT"]
    assert (sat["index_ci_low"], sat["index_ci_high"]) == pytest.approx(tuple(np.quantile(reps, [0.025, 0.975])))
    assert sat["index_se"] == pytest.approx(reps.std(ddof=1))


def test_index_model_with_weights_equals_plspm_on_repeated_rows():
    data = pd.read_csv(FIX / "plspm" / "weighted_data.csv").assign(rid=lambda d: np.arange(len(d)))
    spec = parse_spec({"name": "w", "id": "rid", "weight": "w",
                       "satisfaction": {"column": "c1", "scale": [1, 7], "top_box": 6},
                       "index_model": {"scale": [1, 7], "scheme": "path", "bootstrap": 0, "constructs": {
                           "A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3", "b4"], "C": ["c1", "c2", "c3"]},
                           "paths": [["A", "B"], ["A", "C"], ["B", "C"]]}})
    model, _ = index_model(data, spec)
    ref = PLS_REF["weighted_repeated_rows"]["path_unscaled"]
    coef = model.paths.set_index(["from", "to"])["coefficient"]
    rows = ref["path_coefs"]["rows"]
    assert coef[("A", "B")] == pytest.approx(rows[1][0], abs=1e-5)
    assert coef[("B", "C")] == pytest.approx(rows[2][1], abs=1e-5)
    cons = model.constructs.set_index("construct")
    for name, mean in ref["rescale_colmeans"].items():  # on 1-7 in R, on 0-100 here
        assert cons.loc[name, "index"] == pytest.approx(100 * (mean - 1) / 6, abs=1e-4)
    assert model.bootstrap == 0 and np.isnan(model.paths["ci_low"]).all()


def test_index_model_ipma_and_too_few_rows():
    spec = _ecsi_spec(bootstrap=0)
    model, _ = index_model(_ecsi_frame(), spec)
    ipma = model.ipma.set_index("construct")
    eff = model.effects.set_index(["from", "to"])
    assert set(ipma.index) == {"IMAG", "EXPE", "QUAL", "VAL"}
    for c in ipma.index:
        assert ipma.loc[c, "importance"] == pytest.approx(eff.loc[(c, "SAT"), "total"])
        assert ipma.loc[c, "performance"] == model.constructs.set_index("construct").loc[c, "index"]
    assert set(ipma["quadrant"]) <= {"Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"}
    frame = _ecsi_frame()
    frame.loc[25:, "loy3"] = np.nan  # 25 complete rows, below min_base 30
    model, reason = index_model(frame, spec)
    assert model is None and "25 respondents answered every model item; at least 30 are needed" in reason


# ----------------------------------------------------------------------------------------------
# a full run: the hotel survey (Chinese labels, mixed scales) with both index keys


def _hotel_spec_text(extra_item: bool = False, quality=("清洁_感知", "服务_感知")) -> str:
    doc = yaml.safe_load(HOTEL_SPEC)
    doc["index"] = {"weights": "derived", "bootstrap": 200}
    doc["index_model"] = {"bootstrap": 200, "constructs": {
        "质量": {"items": list(quality), "label": "感知质量"},
        "满意": ["总体满意", "推荐"], "忠诚": ["再次入住"] + (["回头意向"] if extra_item else [])},
        "paths": [["质量", "满意"], ["满意", "忠诚"]], "scale": [1, 10]}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _hotel_files(tmp_path, wave, seed, extra_item=False):
    spec = tmp_path / "hotel.yaml"
    spec.write_text(_hotel_spec_text(extra_item), encoding="utf-8")
    frame = make_hotel_wave(seed=seed, wave=wave)
    if extra_item:
        frame["回头意向"] = np.clip(frame["再次入住"] * 2 + 1, 1, 10)
    data = tmp_path / f"hotel_{seed}.csv"
    frame.to_csv(data, index=False, encoding="utf-8")
    return spec, data, frame


def test_run_reports_both_indices_with_change_and_trend(tmp_path):
    spec, before, _ = _hotel_files(tmp_path, "2026-夏", seed=4)
    _, now, _ = _hotel_files(tmp_path, "2026-秋", seed=3)
    res = analyse_file(now, spec, "2026-秋", previous=before)
    ids = {e.id for e in res.estimates if e.segment is None}
    assert {"index.csi", "index.质量", "index.满意", "index.忠诚", "path.质量.满意", "path.满意.忠诚",
            "change.index.csi", "change.index.满意"} <= ids
    assert {e.segment["城市"] for e in res.estimates if e.id == "index.csi" and e.segment} == {"北京", "上海", "广州"}
    assert res.index.csi.weights == "derived" and res.index.model.target == "满意"
    assert [r["wave"] for r in res.index.trend] == ["2026-夏", "2026-秋"]
    assert res.index.trend[1]["index.csi"]["estimate"] == pytest.approx(res.get("index.csi").estimate)
    change = res.get("change.index.csi")
    prev_csi = res.index.trend[0]["index.csi"]["estimate"]
    assert change.estimate == pytest.approx(res.get("index.csi").estimate - prev_csi)
    assert "index" not in res.skipped and "index_model" not in res.skipped
    # results.json round trip keeps every index table
    path = res.write(tmp_path / "results.json")
    back = load_results(path)
    pd.testing.assert_frame_equal(back.index.model.paths, res.index.model.paths, check_dtype=False)
    pd.testing.assert_frame_equal(back.index.csi.table, res.index.csi.table, check_dtype=False)
    assert back.index.csi.csi == res.index.csi.csi and back.get("path.质量.满意") == res.get("path.质量.满意")
    again = Results.from_dict(json.loads(path.read_text(encoding="utf-8")))
    assert isinstance(again.index, IndexAnalysis) and again.index.model.gof == pytest.approx(res.index.model.gof)


def test_spec_without_index_keys_says_so(hotel):
    res = analyse_file(hotel["data"], hotel["spec"], "2026-秋")
    assert res.index is None and "neither an index nor an index_model" in res.skipped["index"]
    assert not any(e.id.startswith(("index.", "path.")) for e in res.estimates)


def test_model_items_are_required_and_validated(tmp_path):
    spec_path, data, frame = _hotel_files(tmp_path, "2026-秋", seed=3, extra_item=True)
    spec = parse_spec(yaml.safe_load(spec_path.read_text(encoding="utf-8")), source=str(spec_path))
    frame.loc[5, "回头意向"] = 11
    frame.to_csv(data, index=False, encoding="utf-8")
    _, result = validate_file(data, spec, "2026-秋", suite_dir=False)
    bad = result.quarantine
    assert len(bad) == 1 and "回头意向" in bad["_reasons"].iloc[0]
    frame.drop(columns=["回头意向"]).to_csv(data, index=False, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_wave(data, spec)
    assert "回头意向" in str(err.value) and "index_model.constructs.忠诚" in str(err.value)


def test_an_item_against_its_construct_leaves_the_index_undefined():
    # in the hotel data the location rating is unrelated to satisfaction: its outer weight is negative
    spec = parse_spec(yaml.safe_load(_hotel_spec_text(quality=("清洁_感知", "服务_感知", "位置_感知"))))
    model, reason = index_model(make_hotel_wave(seed=3), spec)
    assert reason is None
    quality = model.constructs.set_index("construct").loc["质量"]
    assert np.isnan(quality["index"]) and model.outer.set_index("item").loc["位置_感知", "weight"] < 0
    assert any("感知质量: an outer weight is not positive" in n for n in model.notes)
    ids = {e.id for e in model.estimates()}
    assert "index.质量" not in ids and {"index.满意", "path.质量.满意"} <= ids
    assert "质量" not in set(model.ipma["construct"].dropna()) or model.ipma.set_index("construct")["performance"].isna()["质量"]


# ----------------------------------------------------------------------------------------------
# the report section


def _report_results(label="<script>alert('x')</script>"):
    meta = PLS_REF["meta"]
    constructs = {k: ({"items": v, "label": label} if k == "QUAL" else v) for k, v in meta["blocks"].items()}
    constructs["顾客满意"] = constructs.pop("SAT")
    rename = {"SAT": "顾客满意"}
    paths = [[rename.get(a, a), rename.get(b, b)] for a, b in _ecsi_spec().index_model.paths]
    spec = parse_spec({"name": "ecsi", "id": "rid", "segments": ["gender"],
                       "satisfaction": {"column": "sat1", "scale": [0, 10], "top_box": 8},
                       "dimensions": {"形象": {"perception": "imag1", "scale": [0, 10], "label": label},
                                      "价值": {"perception": "val1", "scale": [0, 10]}},
                       "index": {"weights": "given", "dimensions": {"形象": 1, "价值": 3}},
                       "index_model": {"scale": [0, 10], "constructs": constructs, "paths": paths, "bootstrap": 60}})
    frame = _ecsi_frame()
    previous = [Estimate("index.csi", 69.0, 67.0, 71.0, n=240, n_eff=240, se=1.0,
                         method="given weights; linearised (design-based) SE")]
    idx, skipped = satisfaction_index(frame, spec, previous)
    idx.trend = [{"wave": "2026Q1", "index.csi": {"estimate": 69.0, "ci_low": 67.0, "ci_high": 71.0, "n": 240}},
                 {"wave": "2026Q2", "index.csi": {"estimate": idx.csi.csi.estimate, "ci_low": idx.csi.csi.ci_low,
                                                  "ci_high": idx.csi.csi.ci_high, "n": 250}}]
    return Results(survey="ecsi", wave="2026Q2", previous_wave="2026Q1", weighted=False,
                   rows={"read": 250, "clean": 250, "quarantined": 0}, estimates=idx.estimates(), index=idx,
                   skipped=skipped)


def test_report_section_draws_and_escapes_everything():
    from csatlib.report.index_model import index_section, ipma_svg, path_diagram_svg

    res = _report_results()
    html = str(index_section(res))
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert html.count("<svg") == 3  # trend, path diagram, IPMA
    diagram = path_diagram_svg(res.index.model)
    assert diagram.count('fill="none" stroke-width') == 10 and "顾客满意" in diagram  # one arrow per path
    coef = res.index.model.paths.set_index(["from", "to"]).loc[("VAL", "顾客满意"), "coefficient"]
    assert f">{coef:.2f}</text>" in diagram
    assert ipma_svg(res.index.model).count("<circle") == 4
    csi = res.get("index.csi")
    assert f"<b>{csi.estimate:.1f}</b>" in html
    assert any(w in html for w in ("rose", "fell", "within sampling noise", "the same as"))  # the change, worded
    assert "Cronbach" in html and f"{res.index.model.gof:.3f}" in html
    assert html.count("gender: ") == 2  # both segments


def test_report_section_without_index_says_why():
    from csatlib.report.index_model import index_section, model_section

    res = Results(survey="s", wave="w", previous_wave=None, weighted=False, rows={},
                  skipped={"index": "Satisfaction index: the spec has neither an index nor an index_model key."})
    assert "neither an index nor an index_model" in str(index_section(res))
    assert "not estimated" in str(model_section(res))


@pytest.mark.skipif(__import__("shutil").which("chromium") is None, reason="Debian chromium is not installed")
def test_report_section_renders_in_headless_chromium(tmp_path):
    import subprocess

    from csatlib.report.index_model import index_section

    res = _report_results(label="<img src=x onerror=\"document.body.dataset.hacked=1\">质量")
    page = tmp_path / "index.html"
    page.write_text("<!doctype html><html><head><meta charset='utf-8'></head><body>" + index_section(res)
                    + "</body></html>", encoding="utf-8")
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    dom = out.stdout
    assert dom.count("<svg") == 3 and "data-hacked" not in dom
    assert "&lt;img src=x onerror=" in dom and "质量" in dom


def test_given_weights_index_under_strata_and_clusters_is_a_design_estimate():
    """Strata and clusters: the index's SE is the design's (svycontrast of svymean); with complete
    answers it equals the design mean of each row's combined score (SurveyDesign.mean, itself
    equal to R's svymean), and each segment is a domain of the whole design (svyby)."""
    from csatlib.stats.survey import SurveyDesign

    frame = make_hotel_wave(600, seed=8)
    rng = np.random.default_rng(8)
    frame["酒店"] = [f"{c}-{k}" for c, k in zip(frame["城市"], rng.integers(1, 6, len(frame)))]
    frame["会员"] = rng.choice(["金卡", "普通"], len(frame))
    doc = yaml.safe_load(HOTEL_SPEC)
    doc["segments"] = ["会员"]
    doc.pop("categories", None)
    doc["design"] = {"strata": "城市", "psu": "酒店"}
    doc["index"] = {"weights": "given", "dimensions": {"清洁": 2, "服务": 1, "位置": 1}}
    spec = parse_spec(doc)
    csi = weighted_index(frame, spec)
    a = np.array([0.5, 0.25, 0.25])
    scores = np.column_stack([100 * (frame[c].to_numpy(float) - 1) / 4 for c in ("清洁_感知", "服务_感知", "位置_感知")])
    combined = scores @ a
    design = SurveyDesign(frame["权重"].to_numpy(float), strata=frame["城市"], psu=frame["酒店"])
    ref = design.mean(combined)
    assert csi.csi.estimate == pytest.approx(ref.mean, rel=1e-12)
    assert csi.csi.se == pytest.approx(ref.se, rel=1e-10)
    assert "design-based SE" in csi.csi.method and f"design df = {design.degf()}" in csi.csi.method
    _, se_weights_only, _, _ = linear_index(scores, frame["权重"].to_numpy(float), a)
    assert abs(csi.csi.se / se_weights_only - 1) > 1e-3  # the strata and clusters change the SE
    half = st.t.ppf(0.975, design.degf()) * ref.se  # t on the design's df (PSUs - strata)
    assert (csi.csi.ci_low, csi.csi.ci_high) == pytest.approx((ref.mean - half, ref.mean + half), rel=1e-12)
    for seg in csi.segments:
        mask = (frame["会员"] == seg.segment["会员"]).to_numpy()
        dom = design.mean(combined, domain=mask)
        assert seg.estimate == pytest.approx(dom.mean, rel=1e-12) and seg.se == pytest.approx(dom.se, rel=1e-10)
