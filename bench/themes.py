"""Benchmark: comment themes of a large wave (not a timed test; these machines are noisy).

    python bench/themes.py --comments 100000 --json bench/themes.json

Generates a weighted wave in memory whose comments are 1-3 clauses drawn from ~70 Chinese and ~70
English clauses about waiting, staff, price, cleanliness, parking, wifi, food and check-in,
with a random number or time added to some, so most comments are distinct (the share of distinct
texts is printed: the coder segments each distinct text once). Measures, best of ``--repeat``:

* segmentation + codeframe coding of every comment (``code_comments``);
* the whole theme analysis (``theme_analysis``: coding, discovered topics by NMF on TF-IDF of
  the uncoded comments, sentiment, shares by segment and satisfaction group, associations);
* writing themes.csv.

The target is < 30 s for 100,000 comments coded and topics discovered on 2 cores. jieba's
dictionary load (~1 s, once per process) is measured apart, before the repeats. Wall and CPU
seconds are both printed: on a shared machine the wall time mostly measures the neighbours.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from csatlib.analysis.themes import code_comments, theme_analysis, tokenize  # noqa: E402
from csatlib.report.themes import write_themes_csv  # noqa: E402
from csatlib.spec import parse_spec  # noqa: E402

ZH = ("排队等了很久", "等待时间太长", "前台办理入住太慢", "服务员态度很好", "前台不耐烦", "态度冷漠", "价格有点贵",
      "性价比高", "房价太贵了", "房间很干净", "卫生间有异味", "床单不干净", "停车场太小", "停车位不够", "停车很方便",
      "wifi信号很差", "网络经常断线", "网速很快", "早餐很好吃", "早餐种类太少", "咖啡一般般", "位置很方便",
      "离地铁很近", "隔音太差", "晚上很吵", "空调坏了", "热水不稳定", "电梯等了很久", "自助入住机总是坏", "会员积分兑换太麻烦",
      "退房很快", "行李寄存很方便", "前台小姐姐很热情", "保洁阿姨很细心", "房间太小", "窗外风景很好", "装修有点旧",
      "浴室漏水", "毛巾发霉", "枕头很舒服", "床很舒服", "下次还会再来", "非常满意", "不太满意", "再也不来了",
      "投诉了也没人管", "经理处理得很及时", "送餐很慢", "外卖不让送上楼", "健身房设备很旧", "泳池很干净",
      "儿童设施不错", "宠物不能入住", "发票开得很慢", "押金退得很慢", "电视不能投屏", "插座太少", "灯光太暗",
      "前台推荐的餐厅很好", "叫车很方便", "洗衣服务很贵", "迷你吧太贵", "蚊子很多", "楼道有烟味", "早餐排队",
      "门卡经常失效", "客服电话打不通", "app预订很方便", "积分到账很慢", "升级房型很惊喜")
EN = ("waited forever at check in", "the queue was long", "check-in took too long", "staff were friendly",
      "the receptionist was rude", "nobody helped us", "price is too expensive", "great value for money",
      "room was clean", "bathroom smelled bad", "sheets were dirty", "parking was impossible", "no parking space",
      "parking was easy", "wifi kept dropping", "the internet was slow", "fast wifi", "breakfast was delicious",
      "breakfast choice was poor", "coffee was average", "great location", "close to the metro", "thin walls",
      "very noisy at night", "the air conditioning was broken", "no hot water", "the elevator took ages",
      "the kiosk never works", "redeeming points is a hassle", "checkout was quick", "luggage storage was handy",
      "the front desk team was lovely", "housekeeping was thorough", "the room was tiny", "amazing view",
      "decor is dated", "the shower leaked", "towels were mouldy", "comfortable pillows", "the bed was great",
      "will come back", "very satisfied", "not satisfied", "never again", "complained and nothing happened",
      "the manager fixed it quickly", "room service was slow", "delivery drivers not allowed up", "gym is old",
      "pool was clean", "nice kids club", "no pets allowed", "invoice took days", "deposit refund was slow",
      "cannot cast to the tv", "too few sockets", "lighting too dim", "restaurant tip was great",
      "easy to get a taxi", "laundry is pricey", "minibar is overpriced", "lots of mosquitoes",
      "corridor smelled of smoke", "queue for breakfast", "key card kept failing", "hotline never answers",
      "booking in the app was easy", "points took weeks", "a lovely upgrade")
CODEFRAME = {
    "等待时间": ["等待", "排队", "太慢", "很慢", "wait", "waited", "queue", "too long", "slow", "took ages"],
    "服务态度": ["态度", "不耐烦", "冷漠", "热情", "rude", "friendly", "lovely", "nobody helped"],
    "价格": ["价格", "太贵", "房价", "性价比", "expensive", "value for money", "overpriced", "pricey"],
    "清洁": ["干净", "不干净", "异味", "发霉", "clean", "dirty", "smelled", "mouldy"],
    "早餐": ["早餐", "breakfast", "coffee"],
    "位置": ["位置", "地铁", "location", "metro"],
}


def make_wave(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    zh = rng.random(n) < 0.6
    k = rng.integers(1, 4, n)
    texts = []
    for is_zh, m in zip(zh, k):
        pool = ZH if is_zh else EN
        parts = [pool[i] for i in rng.integers(0, len(pool), m)]
        if rng.random() < 0.5:
            parts.append((f"等了{rng.integers(2, 90)}分钟" if is_zh else f"waited {rng.integers(2, 90)} minutes"))
        texts.append(("，" if is_zh else ", ").join(parts) + ("。" if is_zh else "."))
    sat = rng.integers(1, 11, n)
    df = pd.DataFrame({"rid": np.arange(1, n + 1), "w": rng.uniform(0.3, 3.0, n),
                       "region": rng.choice(["华东", "华南", "华北", "西南", "东北"], n),
                       "channel": rng.choice(["app", "web", "phone"], n), "sat": sat,
                       "rec": np.clip(sat + rng.integers(-1, 2, n), 0, 10), "comment": texts})
    spec = {"name": "bench-themes", "id": "rid", "weight": "w", "segments": ["region", "channel"],
            "satisfaction": {"column": "sat", "scale": [1, 10], "top_box": 8}, "nps": {"column": "rec", "scale": [0, 10]},
            "text": ["comment"], "themes": {"comment": CODEFRAME}, "quality": {"min_base": 30}}
    return df, spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--comments", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    df, spec_doc = make_wave(args.comments)
    spec = parse_spec(spec_doc)
    distinct = df["comment"].nunique()
    t0 = time.perf_counter()
    tokenize(["预热"], keywords=[k for ks in CODEFRAME.values() for k in ks])  # jieba dictionary load
    dict_load = time.perf_counter() - t0
    code_times, total_times, csv_times = [], [], []
    clock = {"wall": time.perf_counter, "cpu": time.process_time}

    def timed(fn, into):
        t0 = {k: c() for k, c in clock.items()}
        result = fn()
        into.append({k: c() - t0[k] for k, c in clock.items()})
        return result

    for _ in range(args.repeat):
        coded = timed(lambda: code_comments(df["comment"], CODEFRAME), code_times)
        th = timed(lambda: theme_analysis(df, spec), total_times)
        with tempfile.TemporaryDirectory() as tmp:
            timed(lambda: write_themes_csv(th, Path(tmp) / "themes.csv"), csv_times)
    col = th["comment"]
    out = {"comments": args.comments, "distinct_texts": int(distinct), "jieba_dictionary_load_s": round(dict_load, 2),
           **{f"{name}_{k}_s": round(min(t[k] for t in times), 2)
              for name, times in (("code_comments", code_times), ("theme_analysis", total_times),
                                  ("themes_csv", csv_times)) for k in clock}, "coded_share": round(float(coded.any(axis=1).mean()), 3),
           "discovered_topics": [t["terms"][:4] for t in col.discovered],
           "sentiment_agreement_rho": col.sentiment["agreement"]["rho"]}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
