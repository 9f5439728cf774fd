"""Sentiment of comments: a lexicon method for Chinese and English, with its agreement with the score.

Method (stated in the report next to every sentiment figure):

1. The comment is split into word tokens exactly as theme coding splits it
   (:func:`csatlib.analysis.themes.tokenize`: jieba for Chinese, word tokens with case folding
   for other scripts).
2. Each token found in the lexicon below contributes its polarity (−3 … +3). The lexicon ships in
   this module (nothing is downloaded): about 200 English and 200 Chinese words common in
   customer feedback (service, waiting, price, cleanliness, staff, product, delivery).
3. A negator up to three tokens before the word (``not``, ``never``, ``no``, ``不``, ``没``,
   ``没有``, ``别``, ``未``, ``并不`` ...) flips and dampens it (× −0.74, as VADER does); an
   intensifier right before it (``very``, ``really``, ``非常``, ``很``, ``太``, ``特别`` ...)
   strengthens it by 0.3 points, a downtoner (``slightly``, ``有点``, ``稍微``) weakens it.
4. The sum ``s`` is mapped to −1 … +1 by VADER's normalisation ``s / sqrt(s² + 15)``; a comment is
   *positive* above 0.05, *negative* below −0.05, else *neutral* (no lexicon word at all is neutral).

A lexicon method misses sarcasm, domain words it does not list and mixed comments, so its
agreement with the respondent's own rating on the same wave (Spearman's rank correlation,
:func:`sentiment_agreement`) is reported wherever sentiment is: it says how far to trust it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = ["sentiment_scores", "sentiment_of_tokens", "sentiment_agreement", "sentiment_label", "SENTIMENT_METHOD",
           "LEXICON", "Agreement"]

SENTIMENT_METHOD = ("lexicon (csatlib's built-in Chinese and English customer-feedback lexicon, ~{n} words) with "
                    "negation and intensifiers, VADER-style normalisation to −1…+1; positive > 0.05, negative < −0.05")

_POS_EN = {
    3: "excellent outstanding perfect amazing fantastic wonderful superb brilliant awesome exceptional love loved "
       "delighted flawless",
    2: "great good nice friendly helpful pleasant happy satisfied recommend recommended impressed efficient "
       "enjoyed enjoy beautiful comfortable fast quick quickly clean polite courteous professional reliable "
       "easy smooth thank thanks attentive welcoming spotless fresh delicious tasty convenient caring kind "
       "knowledgeable responsive like liked best better",
    1: "ok okay fine decent fair reasonable affordable cheap quiet simple solved resolved prompt timely "
       "worth value improved spacious",
}
_NEG_EN = {
    3: "terrible horrible awful worst disgusting appalling useless hate hated furious unacceptable nightmare "
       "scam disgrace pathetic",
    2: "bad poor rude slow dirty broken wrong late unhelpful disappointed disappointing disappointment "
       "annoyed annoying angry frustrated frustrating unfriendly expensive overpriced complaint complain "
       "complained waste wasted problem problems noisy cold smelly delayed delay missing damaged lost "
       "mistake error incorrect careless ignored impolite unprofessional unreliable uncomfortable crowded "
       "confusing difficult hard fail failed failure refund stuck",
    1: "wait waiting queue long pricey average mediocre meh issue issues small old unclear worse",
}
_POS_ZH = {
    3: "完美 极好 超棒 太棒 惊喜 非常满意 五星 一流 卓越 感动",
    2: "好 很好 不错 满意 满分 喜欢 热情 周到 耐心 友好 专业 干净 整洁 舒适 舒服 快 迅速 及时 高效 方便 便捷 "
       "便宜 实惠 划算 新鲜 好吃 美味 推荐 值得 贴心 礼貌 细心 温馨 安静 愉快 开心 棒 赞 优秀 完善 顺利 "
       "快捷 清楚 到位 认真 负责 放心 满足 感谢 谢谢 好评 漂亮 宽敞 "
       "亲切 体贴 用心 靠谱 省心 省事 流畅 准时 明亮 整洁干净 性价比高 物超所值 超值 划得来 热心 耐心细致 "
       "温暖 享受 惬意 大方 精致 可口 香 方便快捷 很赞 点赞 回头客 再来 惊艳",
    1: "还行 可以 一般般 合理 正常 挺好 还好 解决 改进 稳定",
}
_NEG_ZH = {
    3: "极差 太差 糟糕 恶心 垃圾 最差 气愤 愤怒 骗子 欺骗 恶劣 无语 失望透顶",
    2: "差 很差 慢 太慢 脏 乱 吵 贵 太贵 坏 坏了 破 破损 冷漠 不耐烦 粗鲁 失望 生气 投诉 抱怨 麻烦 问题 "
       "故障 错误 延误 延迟 拖延 敷衍 态度差 不满 不满意 难吃 难闻 异味 混乱 拥挤 退款 差评 后悔 漏 丢失 "
       "不好 难用 卡顿 收费 乱收费 冷 不专业 不礼貌 不方便 不干净 糟 烂 坑 坑人 宰客 忽悠 刁难 推诿 "
       "怠慢 傲慢 无礼 凶 嫌弃 受气 闹心 糟心 崩溃 心累 断线 掉线 发霉 蟑螂 虫子 潮湿 噪音 漏水 变质 过期 "
       "缺货 短斤少两 不值 不靠谱 不负责",
    1: "等 等待 排队 一般 有点 久 偏贵 陈旧 旧 小 吵闹 少",
}
NEGATORS = frozenset("not no never none nothing nobody neither nor cannot cant dont doesnt didnt isnt wasnt "
                     "arent werent wont wouldnt shouldnt couldnt hardly barely without "
                     "不 没 没有 别 未 无 并不 从不 从没 不是 不太 毫不 并非 不会 不算 不够".split())
INTENSIFIERS = {w: 0.3 for w in ("very really so extremely absolutely totally incredibly super too highly "
                                 "particularly especially truly completely 非常 很 太 特别 十分 极其 超 超级 真 "
                                 "真的 相当 格外 好 挺 最 实在 都").split()}
INTENSIFIERS.update({w: -0.3 for w in "slightly somewhat bit little fairly kinda 有点 有些 稍微 略 稍 比较 还".split()})
_N_SCALAR = -0.74  # VADER's negation scalar
_ALPHA = 15.0  # VADER's normalisation constant


def _build_lexicon() -> dict[str, float]:
    lex: dict[str, float] = {}
    for table, sign in ((_POS_EN, 1), (_NEG_EN, -1), (_POS_ZH, 1), (_NEG_ZH, -1)):
        for value, words in table.items():
            for w in words.split():
                lex[w] = float(sign * value)
    return lex


LEXICON: dict[str, float] = _build_lexicon()
"""Token → polarity (−3 … +3), English words in the tokeniser's normal form (case folded)."""

SENTIMENT_METHOD = SENTIMENT_METHOD.format(n=len(LEXICON))


def sentiment_of_tokens(tokens: Sequence[str]) -> float:
    """Sentiment (−1 … +1) of one tokenised comment; 0.0 when no lexicon word occurs.

    Examples
    --------
    >>> round(sentiment_of_tokens(["staff", "very", "friendly"]), 3)
    0.511
    >>> sentiment_of_tokens(["not", "friendly"]) < 0 < sentiment_of_tokens(["friendly"])
    True
    """
    total = 0.0
    for i, tok in enumerate(tokens):
        value = LEXICON.get(tok)
        if value is None:
            continue
        # a lexicon word also used as an intensifier ("好" in "好慢", "too" is not in the lexicon) counts
        # as an intensifier when the next token is itself a lexicon word
        if tok in INTENSIFIERS and i + 1 < len(tokens) and tokens[i + 1] in LEXICON:
            continue
        if i > 0 and tokens[i - 1] in INTENSIFIERS:
            value += INTENSIFIERS[tokens[i - 1]] * (1.0 if value > 0 else -1.0)
        if any(t in NEGATORS for t in tokens[max(0, i - 3):i]):
            value *= _N_SCALAR
        total += value
    if total == 0.0:
        return 0.0
    return float(total / math.sqrt(total * total + _ALPHA))


def sentiment_label(score: float) -> str:
    """``positive`` (> 0.05), ``negative`` (< −0.05) or ``neutral``."""
    return "positive" if score > 0.05 else "negative" if score < -0.05 else "neutral"


def sentiment_scores(tokenised: Iterable[Sequence[str]]) -> np.ndarray:
    """Sentiment of each tokenised comment (see :func:`csatlib.analysis.themes.tokenize`), −1 … +1."""
    return np.fromiter((sentiment_of_tokens(t) for t in tokenised), dtype=float)


@dataclass(frozen=True)
class Agreement:
    """Spearman's rank correlation of sentiment with the respondent's rating, with a 95% interval."""

    rho: float
    ci_low: float
    ci_high: float
    n: int
    p: float
    against: str

    def to_dict(self) -> dict:
        return {"rho": self.rho, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n, "p": self.p,
                "against": self.against}


def sentiment_agreement(sentiment, rating, against: str = "rating") -> Agreement:
    """How far sentiment agrees with the respondent's own rating: Spearman's rho (unweighted).

    The interval is Fisher's z with the Bonett-Wright (2000) variance ``(1 + rho²/2) / (n − 3)``.

    Examples
    --------
    >>> # R: cor.test(x, y, method = "spearman")
    >>> sentiment_agreement([0.1, -0.5, 0.9, 0.0], [7, 2, 10, 5]).rho
    1.0
    """
    from scipy.stats import norm, spearmanr

    s = np.asarray(sentiment, dtype=float)
    r = np.asarray(rating, dtype=float)
    keep = ~(np.isnan(s) | np.isnan(r))
    s, r = s[keep], r[keep]
    n = int(s.size)
    if n < 3 or np.ptp(s) == 0 or np.ptp(r) == 0:
        return Agreement(float("nan"), float("nan"), float("nan"), n, float("nan"), against)
    res = spearmanr(s, r)
    rho = float(res.statistic)
    p = float(res.pvalue)
    if n > 3 and abs(rho) < 1:
        z = math.atanh(rho)
        half = float(norm.ppf(0.975)) * math.sqrt((1 + rho * rho / 2) / (n - 3))
        lo, hi = math.tanh(z - half), math.tanh(z + half)
    else:
        lo = hi = rho
    return Agreement(rho, lo, hi, n, p, against)
