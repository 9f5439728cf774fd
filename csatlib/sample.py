"""Deterministic generator of realistic waves for the ``retail-csat`` sample spec.

The sample exercises the whole product: design weights, segments (one with Chinese labels and
one value whose base is below ``min_base``), a loyalty curve that jumps at the top of the
satisfaction scale, expectation gaps that differ by dimension, speeders, straight-liners,
out-of-range and non-numeric answers, and comments carrying emails and phone numbers.
``write_sample`` writes the spec and two waves to ``data/``; the files are committed so the
demo needs no generation step, and a test checks that they are reproducible.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SAMPLE_SPEC", "generate_wave", "write_sample", "sample_files", "SAMPLE_WAVES"]

SAMPLE_SPEC = """\
# Retail CSAT questionnaire: the shipped sample survey (see data/README.md for every column and label).
name: retail-csat
id: respondent_id
wave: wave
weight: weight
segments: [region, channel]
categories:
  channel: [online, store, phone]
  region: [华东, 华南, 华北, 西南, 东北]
satisfaction: {column: overall_sat, scale: [1, 10], top_box: 8, label: Overall satisfaction 总体满意度}
nps: {column: recommend, scale: [0, 10], label: Likelihood to recommend 推荐意愿}
loyalty:
  - {column: repurchase, scale: [1, 5], label: Repurchase intention 再次购买意愿}
dimensions:
  product_quality:    {perception: p_quality, expectation: e_quality, scale: [1, 7], label: Product quality 产品质量}
  service_quality:    {perception: p_service, expectation: e_service, scale: [1, 7], label: Service quality 服务质量}
  price_value:        {perception: p_price,   expectation: e_price,   scale: [1, 7], label: Price / value 性价比}
  service_experience: {perception: p_exper,   expectation: e_exper,   scale: [1, 7], label: Service experience 服务体验}
  brand_reputation:   {perception: p_brand,   expectation: e_brand,   scale: [1, 7], label: Brand reputation 品牌声誉}
text: [comment]
pii: [email, phone]
duration: duration_s
quality: {min_duration_s: 60, max_straightline_share: 0.05, min_base: 30}
"""

_SAMPLE_VERSION = 1  # bump when the generator changes, so cached samples are rebuilt
SAMPLE_WAVES = {"2026Q2": dict(seed=20260601, n=3000, shift=0.0),
                "2026Q3": dict(seed=20260901, n=3200, shift=0.12)}

# Region shares in the sample (东北 is deliberately tiny: it must be suppressed) and the
# post-stratification weight that brings each region back to its population share.
_REGIONS = {"华东": (0.36, 0.85), "华南": (0.27, 1.05), "华北": (0.22, 1.10), "西南": (0.143, 1.25),
            "东北": (0.007, 1.60)}
_CHANNELS = {"online": 0.5, "store": 0.35, "phone": 0.15}
# dimension -> (mean perception on 1-7, mean expectation, driver weight for overall satisfaction)
_DIMENSIONS = {
    "quality": (5.6, 5.3, 0.95),
    "service": (4.9, 5.5, 0.70),
    "price": (4.2, 5.4, 0.55),
    "exper": (5.1, 5.2, 0.35),
    "brand": (5.5, 4.9, 0.15),
}
_COMMENTS_EN = [
    "Great product, delivery was fast.", "Prices went up again, not happy.",
    "Staff in the store were friendly and helpful.", "Waited 20 minutes on the phone line.",
    "The app keeps logging me out.", "Good value for money this time.",
    "Quality is fine but returns are a hassle.", "Please call me back at {phone}.",
    "Contact me: {email}", "Product broke after two weeks, email {email} for details.",
]
_COMMENTS_ZH = [
    "质量很好，送货也快。", "价格太贵了，性价比不高。", "客服态度很好。", "等了很久才有人接电话。",
    "门店环境不错。", "退货流程太麻烦。", "请打我电话 {phone} 联系。", "我的邮箱是 {email}，请回复。",
]


def generate_wave(wave: str = "2026Q3", n: int = 3000, seed: int = 7, shift: float = 0.0,
                  dirty: bool = True) -> pd.DataFrame:
    """Generate one wave of the retail-csat questionnaire.

    Parameters
    ----------
    wave : str
        Wave label written to the ``wave`` column.
    n : int
        Number of respondents.
    seed : int
        Seed of the random generator; the same arguments always give the same frame.
    shift : float
        Added to every perception (in scale points): a later wave can be made a little better.
    dirty : bool
        Plant speeders, straight-liners, out-of-range and non-numeric answers (about 4 % of rows).

    Returns
    -------
    DataFrame
        One row per respondent with the columns listed in ``data/README.md``.
    """
    rng = np.random.default_rng(seed)
    regions = np.array(list(_REGIONS))
    region = rng.choice(regions, size=n, p=_normalise([v[0] for v in _REGIONS.values()]))
    channel = rng.choice(list(_CHANNELS), size=n, p=_normalise(list(_CHANNELS.values())))
    base_w = np.array([_REGIONS[r][1] for r in region])
    weight = np.round(base_w * rng.uniform(0.8, 1.25, size=n), 4)

    person = rng.normal(0, 0.6, size=n)  # general positivity of a respondent (halo)
    channel_effect = np.select([channel == "online", channel == "phone"], [0.15, -0.8], 0.0)
    cols: dict[str, np.ndarray] = {}
    latent = np.zeros(n)
    for key, (p_mean, e_mean, beta) in _DIMENSIONS.items():
        p_lat = p_mean + shift + person + channel_effect * (key == "service") + rng.normal(0, 0.9, n)
        e_lat = e_mean + 0.35 * person + rng.normal(0, 0.8, n)
        p = np.clip(np.rint(p_lat), 1, 7)
        e = np.clip(np.rint(e_lat), 1, 7)
        cols[f"p_{key}"], cols[f"e_{key}"] = p, e
        # satisfaction follows perception and, more weakly, disconfirmation (p - e)
        latent += beta * (p_lat - 4) + 0.25 * beta * (p_lat - e_lat)
    sat_lat = 5.6 + 0.55 * latent + rng.normal(0, 1.0, n)
    sat = np.clip(np.rint(sat_lat), 1, 10)
    # loyalty jumps at the top of the scale: flat-ish up to 7, a step at 8 and at 9
    rep_lat = 2.1 + 0.08 * sat + 1.1 * (sat >= 8) + 0.6 * (sat >= 9) + rng.normal(0, 0.75, n)
    repurchase = np.clip(np.rint(rep_lat), 1, 5)
    rec_lat = 1.0 + 1.0 * sat + 0.9 * (sat >= 9) + rng.normal(0, 1.2, n)
    recommend = np.clip(np.rint(rec_lat), 0, 10)
    duration = np.round(rng.lognormal(np.log(420), 0.45, n)).astype(int)

    ids = np.char.add(f"{wave}-", np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    emails = np.char.add(np.char.add("cust", np.char.zfill(rng.integers(0, 99999, n).astype(str), 5)),
                         "@example.com")
    digits = rng.integers(0, 10, size=(n, 10)).astype(str)
    digits[:, 0] = rng.integers(3, 10, n).astype(str)  # mainland mobile: 1[3-9]x xxxx xxxx
    phones = np.char.add("+86 1", digits[:, 0])
    for j, sep in ((1, ""), (2, " "), (3, ""), (4, ""), (5, ""), (6, " "), (7, ""), (8, ""), (9, "")):
        phones = np.char.add(np.char.add(phones, sep), digits[:, j])
    comments = np.full(n, "", dtype=object)
    has_comment = rng.random(n) < 0.35
    use_zh = (region != "华东") & (rng.random(n) < 0.6)
    pick_en = rng.integers(len(_COMMENTS_EN), size=n)
    pick_zh = rng.integers(len(_COMMENTS_ZH), size=n)
    for i in np.flatnonzero(has_comment):
        template = _COMMENTS_ZH[pick_zh[i]] if use_zh[i] else _COMMENTS_EN[pick_en[i]]
        comments[i] = template.format(email=emails[i], phone=phones[i]) if "{" in template else template

    frame = pd.DataFrame({
        "respondent_id": ids, "wave": wave, "weight": weight, "region": region, "channel": channel,
        "overall_sat": sat.astype(int), "recommend": recommend.astype(int),
        "repurchase": repurchase.astype(int),
        **{k: v.astype(int) for k, v in cols.items()},
        "comment": comments, "email": emails, "phone": phones, "duration_s": duration,
    })
    frame = frame.astype({c: object for c in ("overall_sat", "recommend")})
    frame["comment"] = frame["comment"].replace("", np.nan)
    if dirty:
        _plant_problems(frame, rng)
    return frame


def _plant_problems(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """Speeders (~1 %), straight-liners (~1.5 %), out-of-range and non-numeric answers (~1 %)."""
    n = len(frame)
    battery = [c for c in frame.columns if c[:2] in ("p_", "e_")]
    rows = rng.permutation(n)
    k_speed, k_straight, k_range = max(1, n // 100), max(1, int(n * 0.015)), max(1, n // 100)
    speeders = rows[:k_speed]
    frame.loc[speeders, "duration_s"] = rng.integers(8, 55, size=k_speed)
    straight = rows[k_speed:k_speed + k_straight]
    answer = rng.integers(1, 8, size=k_straight)
    for col in battery:
        frame.loc[straight, col] = answer
    bad = rows[k_speed + k_straight:k_speed + k_straight + k_range]
    kinds = np.arange(bad.size) % 4
    frame.loc[bad[kinds == 0], "overall_sat"] = 11
    frame.loc[bad[kinds == 1], "recommend"] = 12
    frame.loc[bad[kinds == 2], "overall_sat"] = "don't know"
    frame.loc[bad[kinds == 3], "weight"] = 0.0
    # two rows fail several checks at once
    both = rows[-2:]
    frame.loc[both, "overall_sat"] = 11
    frame.loc[both, "duration_s"] = 12


def _normalise(p: list[float]) -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    return arr / arr.sum()


def write_sample(folder: str | Path) -> list[Path]:
    """Write the sample spec and both waves (csv, UTF-8) into ``folder``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec_path = folder / "retail-csat.yaml"
    spec_path.write_text(SAMPLE_SPEC, encoding="utf-8")
    paths = [spec_path]
    for wave, kw in SAMPLE_WAVES.items():
        path = folder / f"retail_{wave}.csv"
        generate_wave(wave, **kw).to_csv(path, index=False, encoding="utf-8")
        paths.append(path)
    return paths


def sample_files() -> tuple[Path, dict[str, Path]]:
    """The sample spec and wave files: ``data/`` of a source checkout, else generated once into a
    cache folder (an installed csatlib has no ``data/``). Returns ``(spec, {wave: path})``."""
    import tempfile

    checkout = Path(__file__).resolve().parent.parent / "data"
    for folder in (checkout, Path(tempfile.gettempdir()) / f"csat-sample-{_SAMPLE_VERSION}"):
        spec = folder / "retail-csat.yaml"
        waves = {w: folder / f"retail_{w}.csv" for w in SAMPLE_WAVES}
        if spec.exists() and all(p.exists() for p in waves.values()):
            return spec, waves
    staging = Path(tempfile.mkdtemp(prefix="csat-sample-"))
    write_sample(staging)
    try:
        staging.replace(folder)  # atomic: a concurrent caller sees the whole folder or none
    except OSError:  # another process published it first
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    return spec, waves


if __name__ == "__main__":  # python -m csatlib.sample data/
    import sys

    for p in write_sample(sys.argv[1] if len(sys.argv) > 1 else "data"):
        print(p)
