"""Discovered themes: topics of the comments a codeframe leaves uncoded (NMF on TF-IDF, scikit-learn).

Deterministic: the NNDSVD start of the factorisation is an SVD, no random numbers are drawn, so
the same comments give the same topics on every run and machine. Tokens come from
:func:`csatlib.analysis.themes.tokenize`.
"""
from __future__ import annotations

import json
import math
import warnings
from typing import Sequence

import numpy as np

__all__ = ["discover_themes", "N_TOPICS", "TOP_TERMS"]

N_TOPICS = 5
TOP_TERMS = 8

# Words that carry no topic: sklearn's English list plus common Chinese function words and fillers.
_ZH_STOP = frozenset("的 了 是 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 就 也 都 还 在 和 与 及 或 而 但 但是 "
                     "因为 所以 如果 就是 还是 吧 吗 呢 啊 呀 哦 嗯 个 一 一个 有 没 没有 不 很 太 非常 比较 "
                     "会 能 要 想 让 被 把 给 对 从 到 又 再 才 已经 可以 自己 什么 怎么 这样 那样 时候 "
                     "一下 一些 一点 有点 觉得 感觉 真的 真 挺 说 去 来 上 下 中 里 后 前 过 着 得 地 之 等 "
                     "次 这次 每次 ，".split())


def _topic_terms(tokens: list[str]) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return [t for t in tokens if t not in ENGLISH_STOP_WORDS and t not in _ZH_STOP and not t.isdigit()
            and not (len(t) == 1 and t.isascii())]


def discover_themes(tokenised: Sequence[Sequence[str]], texts: Sequence[str], weights=None, n_topics: int = N_TOPICS,
                    top_terms: int = TOP_TERMS, seed: int = 0) -> tuple[list[dict], np.ndarray]:
    """Topics of a set of comments by NMF on TF-IDF (scikit-learn), deterministic.

    Parameters
    ----------
    tokenised : sequence of token lists
        :func:`tokenize` of the comments (usually those the codeframe left uncoded).
    texts : sequence of str
        The comments themselves (redacted), for the examples.
    weights : array, optional
        Respondent weights for the topic shares.
    n_topics : int
        At most this many topics; fewer when the comments are few (about one per 20 comments)
        or the vocabulary is small.

    Returns
    -------
    topics : list of dict
        ``topic`` (1, 2, ...), ``terms``, ``weights`` (NMF loadings of the terms), ``comments``
        (comments whose strongest topic it is), ``share_uncoded`` (weighted share of the given
        comments), ``examples`` (the two distinct comments loading most on it), ``suggestion``.
    assignment : ndarray of int
        Each comment's topic number, 0 when it loads on none.

    Notes
    -----
    ``TfidfVectorizer(sublinear_tf=True, min_df, max_df=0.5)`` then ``NMF(init="nndsvd")``: the
    NNDSVD start is a deterministic SVD, so the topics do not depend on a random seed (``seed``
    is passed to NMF for the record). R equivalent: ``NMF::nmf(tfidf, k, seed = "nndsvd")``.
    """
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(tokenised)
    assignment = np.zeros(n, dtype=int)
    k = min(n_topics, n // 20)
    if k < 1:
        return [], assignment
    docs = [_topic_terms(list(t)) for t in tokenised]
    min_df = max(2, int(math.ceil(0.002 * n)))
    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=min_df, max_df=0.5, max_features=20000)
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # no term left after min_df / max_df
        return [], assignment
    vocab = vec.get_feature_names_out()
    k = min(k, len(vocab) - 1, x.shape[0] - 1)
    if k < 1:
        return [], assignment
    nmf = NMF(n_components=k, init="nndsvd", random_state=seed, max_iter=400)
    with warnings.catch_warnings():  # not fully converged after max_iter still gives usable, deterministic topics
        warnings.simplefilter("ignore", ConvergenceWarning)
        w_doc = nmf.fit_transform(x)
    h = nmf.components_
    strongest = w_doc.max(axis=1)
    assignment = np.where(strongest > 0, w_doc.argmax(axis=1) + 1, 0)
    wts = np.ones(n) if weights is None else np.asarray(weights, float)
    total = wts.sum()
    topics = []
    order = np.argsort(-np.bincount(assignment, weights=wts, minlength=k + 1)[1:], kind="stable")
    renumber = {int(old) + 1: new + 1 for new, old in enumerate(order)}
    for old in order:
        t = int(old)
        top = np.argsort(-h[t], kind="stable")[:top_terms]
        terms = [str(vocab[i]) for i in top if h[t, i] > 0]
        if not terms:
            continue
        examples: list[str] = []
        for i in np.argsort(-w_doc[:, t], kind="stable"):
            if w_doc[i, t] <= 0 or len(examples) == 2:
                break
            if texts[i] not in examples:
                examples.append(str(texts[i]))
        mask = assignment == t + 1
        name = "/".join(terms[:2])
        topics.append({"topic": renumber[t + 1], "terms": terms,
                       "weights": [float(h[t, i]) for i in top[:len(terms)]],
                       "comments": int(mask.sum()),
                       "share_uncoded": float(wts[mask].sum() / total) if total > 0 else float("nan"),
                       "examples": examples,
                       "suggestion": f"{json.dumps(name, ensure_ascii=False)}: "
                                     f"[{', '.join(json.dumps(x, ensure_ascii=False) for x in terms[:5])}]"})
    assignment = np.array([renumber.get(int(a), 0) for a in assignment], dtype=int)
    return topics, assignment


def _identity(tokens):
    return tokens
