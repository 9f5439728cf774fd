"""Lexicon sentiment (Chinese and English, negations, intensifiers) and its agreement with the rating."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csatlib.analysis.sentiment import (LEXICON, SENTIMENT_METHOD, sentiment_agreement, sentiment_label,
                                        sentiment_of_tokens, sentiment_scores)
from csatlib.analysis.themes import tokenize


def _score(text: str) -> float:
    return float(sentiment_scores(tokenize([text]))[0])


@pytest.mark.parametrize("positive, negative", [
    ("The staff were friendly", "The staff were not friendly"),
    ("Very helpful and quick", "Never helpful, never quick"),
    ("服务很满意", "服务不满意"),
    ("前台态度很好", "前台态度不好"),
    ("房间干净", "房间不干净"),
    ("not bad at all", "bad"),
    ("不错", "太差了"),
])
def test_polarity_and_negation(positive, negative):
    assert _score(positive) > 0.05 > -0.05 > _score(negative)


def test_intensifiers_and_downtoners():
    assert _score("very friendly") > _score("friendly") > _score("slightly friendly") > 0
    assert _score("非常满意") > _score("满意") > 0
    assert _score("好慢") < _score("慢") < 0  # 好 before an opinion word is an intensifier


def test_normalisation_matches_vader_formula():
    # one word of polarity 2 ("friendly"): s / sqrt(s² + 15)
    assert math.isclose(sentiment_of_tokens(["friendly"]), 2 / math.sqrt(4 + 15))
    # negated: × −0.74
    s = -0.74 * 2
    assert math.isclose(sentiment_of_tokens(["not", "friendly"]), s / math.sqrt(s * s + 15))
    assert sentiment_of_tokens(["the", "room", "房间"]) == 0.0
    assert sentiment_label(0.0) == "neutral" and sentiment_label(0.3) == "positive" and sentiment_label(-0.3) == "negative"
    scores = sentiment_scores(tokenize(["excellent excellent excellent love love perfect"] * 2 + ["垃圾 极差 恶心 最差"]))
    assert np.all(np.abs(scores) < 1)


def test_lexicon_is_bilingual_and_stated():
    zh = [w for w in LEXICON if not w.isascii()]
    en = [w for w in LEXICON if w.isascii()]
    assert len(zh) > 150 and len(en) > 150
    assert str(len(LEXICON)) in SENTIMENT_METHOD and "negation" in SENTIMENT_METHOD
    # English entries are in the tokeniser's normal form, so each can be found in a comment
    for w in en:
        assert tokenize([w])[0] == [w] or tokenize([w])[0] == [w.rstrip("s")], w


def test_agreement_is_spearman_with_fisher_interval():
    rng = np.random.default_rng(0)
    rating = rng.integers(1, 11, 400).astype(float)
    sentiment = np.tanh((rating - 5.5) / 3 + rng.normal(0, 0.8, 400))
    sentiment[:30] = 0.0  # ties, as comments without opinion words give
    rating[5] = np.nan
    a = sentiment_agreement(sentiment, rating, against="overall")
    keep = ~np.isnan(rating)
    # direct: Pearson correlation of mid-ranks (R: cor.test(x, y, method = "spearman"))
    rx = pd.Series(sentiment[keep]).rank().to_numpy()
    ry = pd.Series(rating[keep]).rank().to_numpy()
    rho = np.corrcoef(rx, ry)[0, 1]
    assert math.isclose(a.rho, rho, rel_tol=1e-12) and a.n == 399 and a.against == "overall"
    half = stats.norm.ppf(0.975) * math.sqrt((1 + rho ** 2 / 2) / (399 - 3))
    assert math.isclose(a.ci_low, math.tanh(math.atanh(rho) - half))
    assert math.isclose(a.ci_high, math.tanh(math.atanh(rho) + half))
    assert a.p < 1e-10 and a.rho > 0.5
    flat = sentiment_agreement(np.zeros(10), np.arange(10))
    assert math.isnan(flat.rho) and flat.n == 10


def test_agreement_on_written_comments():
    comments = [("Terrible service, the staff were rude and I waited an hour", 1),
                ("没有人理我，太差了，再也不来了", 2), ("Not good, room was dirty", 3), ("房间不干净，有异味", 3),
                ("It was ok, nothing special", 5), ("一般般吧", 6), ("Good location, friendly staff", 8),
                ("服务很好，很满意", 9), ("Excellent stay, wonderful staff, highly recommend", 10),
                ("非常满意，前台特别热情", 10)]
    s = sentiment_scores(tokenize([c for c, _ in comments]))
    a = sentiment_agreement(s, [r for _, r in comments])
    assert a.rho > 0.8
