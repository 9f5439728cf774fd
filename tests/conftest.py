"""Shared fixtures: the shipped sample, and a second survey shaped nothing like it.

The second survey has Chinese column names and labels, a 1-7 satisfaction scale, a 1-4
loyalty item, a dimension without expectation, no duration column and its own weights, so
any name or scale hard-coded from the sample would break the tests that use it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SAMPLE_SPEC = DATA / "retail-csat.yaml"
CSAT = [sys.executable, "-m", "csatlib.cli"]

HOTEL_SPEC = """\
name: 酒店满意度
id: 编号
wave: 期
weight: 权重
segments: [城市]
categories: {城市: [北京, 上海, 广州]}
satisfaction: {column: 总体满意, scale: [1, 7], top_box: 6}
nps: {column: 推荐, scale: [0, 10]}
loyalty:
  - {column: 再次入住, scale: [1, 4]}
dimensions:
  清洁: {perception: 清洁_感知, expectation: 清洁_期望, scale: [1, 5]}
  服务: {perception: 服务_感知, expectation: 服务_期望, scale: [1, 5]}
  位置: {perception: 位置_感知, scale: [1, 5]}
text: [评论]
pii: [手机]
quality: {min_base: 20, max_quarantine_share: 0.3}
"""


def make_hotel_wave(n: int = 400, seed: int = 3, wave: str = "2026-秋") -> pd.DataFrame:
    """A clean wave of the hotel survey (no planted problems)."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["北京", "上海", "广州"], size=n, p=[0.4, 0.35, 0.25])
    clean_p = rng.integers(2, 6, n)
    serv_p = rng.integers(1, 6, n)
    sat = np.clip(np.rint(1 + 0.8 * clean_p + 0.5 * serv_p + rng.normal(0, 0.8, n)), 1, 7).astype(int)
    return pd.DataFrame({
        "编号": [f"H{i:04d}" for i in range(n)],
        "期": wave,
        "权重": np.round(rng.uniform(0.5, 2.0, n), 3),
        "城市": city,
        "总体满意": sat,
        "推荐": np.clip(np.rint(sat * 1.4 + rng.normal(0, 1.5, n)), 0, 10).astype(int),
        "再次入住": np.clip(np.rint(0.5 * sat + rng.normal(0, 0.6, n)), 1, 4).astype(int),
        "清洁_感知": clean_p, "清洁_期望": rng.integers(3, 6, n),
        "服务_感知": serv_p, "服务_期望": rng.integers(2, 6, n),
        "位置_感知": rng.integers(1, 6, n),
        "评论": rng.choice(["房间很干净", "服务一般", "", "联系我 13912345678", "<script>alert(1)</script>"], n),
        "手机": [f"139{rng.integers(10000000, 99999999)}" for _ in range(n)],
    })


@pytest.fixture(scope="session")
def hotel(tmp_path_factory):
    """Paths of the hotel spec and a csv wave, plus the frame as written."""
    folder = tmp_path_factory.mktemp("hotel")
    spec = folder / "hotel.yaml"
    spec.write_text(HOTEL_SPEC, encoding="utf-8")
    frame = make_hotel_wave()
    data = folder / "hotel_autumn.csv"
    frame.to_csv(data, index=False, encoding="utf-8")
    return {"spec": spec, "data": data, "frame": frame, "folder": folder}


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``csat`` as a user would (a new process), capturing stdout and stderr."""
    env = {k: v for k, v in os.environ.items() if k not in ("CSAT_DEBUG", "PYTHONWARNINGS")}
    return subprocess.run([*CSAT, *args], capture_output=True, text=True, cwd=cwd or ROOT, env=env,
                          timeout=timeout)


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory):
    """``csat demo`` run once for the whole session (both sample waves and the index)."""
    out = tmp_path_factory.mktemp("demo") / "reports"
    proc = run_cli("demo", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out
