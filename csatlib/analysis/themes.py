"""Comment themes: a codeframe from the spec, discovered topics, and their ties to the scores.

The spec's ``themes:`` key gives each free-text column a codeframe, theme → keywords or phrases
in any language::

    themes: {comment: {等待时间: [等待, 排队, 太慢, wait, queue], 服务态度: [态度, 不耐烦, rude]}}

Coding works on words, never on substrings:

* **Tokens.** Text is NFKC-normalised and case-folded. Runs of Chinese characters are segmented
  with jieba (its dictionary ships in the jieba package; the spec's Chinese keywords are added to
  a private copy of it, at the frequency jieba suggests, so a keyword the dictionary lacks can be
  cut out as one word). jieba's HMM guessing of unknown words is off: it glues characters into
  compounds no dictionary lists (``好慢``), which would hide the words inside from keywords and
  from the sentiment lexicon. Other text is split into Unicode word tokens; apostrophes inside words are
  dropped (``don't`` → ``dont``) and a plural ``-s`` is stripped (``queues`` → ``queue``).
  Redaction placeholders (``[email]``, ``[phone]``) are removed first.
* **Matching.** Each keyword is tokenised the same way; a comment mentions the keyword when the
  keyword's tokens occur as consecutive tokens of the comment. So ``排队`` matches ``排队等了很久``
  but not ``安排队伍`` (安排 / 队伍), and ``wait`` does not match ``awaited``.
* **Multi-label.** A comment may carry several themes; ``(other)`` is the share of comments with
  none, ``(coded)`` the share with at least one.

Discovered themes are topics of the comments the codeframe leaves uncoded: TF-IDF of their
tokens (stop words, numbers and one-letter Latin tokens left out), non-negative matrix
factorisation (scikit-learn ``NMF``, ``init="nndsvd"``, which involves no random numbers, so the
topics are the same on every run), each with its top terms, the two comments that load most on
it and a line to paste into the codeframe.

Every share is weighted with the spec's weight, with a Wilson interval on Kish's effective
base; groups (segments, satisfaction groups) are each tested against the rest with a
two-proportion z test on effective bases, Holm-adjusted across the table; a theme's association
with satisfaction is the difference in mean satisfaction between comments that mention it and
those that do not (Welch t on linearised SEs, Holm across themes). It is an association: people
who mention a theme differ in other ways too.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..frame import MISSING_SEGMENT, row_weights
from ..theme_results import ThemeAnalysis, ThemeColumn
from ..spec import Spec
from ..stats.estimators import ALPHA, holm, two_proportion_z_test, weighted_mean, welch_test, wilson_interval
from .topics import N_TOPICS, discover_themes
from .sentiment import SENTIMENT_METHOD, sentiment_agreement, sentiment_label, sentiment_scores

__all__ = ["theme_analysis", "code_comments", "tokenize", "discover_themes", "satisfaction_groups", "OTHER", "CODED"]

OTHER = "(other)"
CODED = "(coded)"
EXAMPLES_PER_THEME = 3

_CJK = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+)")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_PLACEHOLDER = re.compile(r"\[[a-z][a-z\-]*\]")
_KEEP_S = frozenset("always perhaps sometimes yes towards across unless thanks news less plus bus gas has was "
                    "does goes this thus always series species".split())
_SEP = "\x1f"



# ------------------------------------------------------------------------------------------
# tokens
@functools.lru_cache(maxsize=8)
def _segmenter(words: tuple[str, ...]):
    """A private jieba tokenizer with ``words`` added (imported only when Chinese text or keywords occur)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for w in words:
        tk.add_word(w)  # freq=None: the frequency jieba suggests so the word can be cut out whole
    return tk


def _latin_token(tok: str) -> str:
    tok = tok.replace("'", "").replace("’", "")
    if (len(tok) >= 4 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")) and tok not in _KEEP_S
            and tok.isascii()):
        tok = tok[:-1]
    return tok


def _chinese_words(keywords: Iterable[str]) -> tuple[str, ...]:
    out = set()
    for k in keywords:
        k = unicodedata.normalize("NFKC", str(k)).casefold()
        out.update(run for run in _CJK.findall(k) if len(run) >= 2)
    return tuple(sorted(out))


def _tokens(text: str, seg) -> list[str]:
    text = _PLACEHOLDER.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    out: list[str] = []
    for i, part in enumerate(_CJK.split(text)):
        if not part:
            continue
        if i % 2:  # a run of Chinese characters
            out += [t for t in seg.lcut(part, HMM=False) if t.strip()]
        else:
            out += [_latin_token(t) for t in _WORD.findall(part)]
    return out


def tokenize(texts: Iterable[str], keywords: Iterable[str] = ()) -> list[list[str]]:
    """Word tokens of each text, as theme coding and sentiment see them.

    Parameters
    ----------
    texts : iterable of str
    keywords : iterable of str
        Codeframe keywords; Chinese ones are added to the segmenter's dictionary.

    Examples
    --------
    >>> tokenize(["Waited 40 minutes in the QUEUES, didn't like it"])
    [['waited', '40', 'minute', 'in', 'the', 'queue', 'didnt', 'like', 'it']]
    >>> tokenize(["安排队伍", "排队太久"], keywords=["排队"])
    [['安排', '队伍'], ['排队', '太久']]
    """
    texts = ["" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t) for t in texts]
    seg = None
    if any(_CJK.search(t) for t in texts):
        seg = _segmenter(_chinese_words(keywords))
    return [_tokens(t, seg) for t in texts]


def _keyword_pattern(keywords: Sequence[str], seg_words: tuple[str, ...]) -> re.Pattern | None:
    """One regex matching any keyword's token sequence at token boundaries of a joined comment."""
    seqs = set()
    has_cjk = any(_CJK.search(k) for k in keywords)
    seg = _segmenter(seg_words) if has_cjk else None
    for k in keywords:
        toks = _tokens(str(k), seg)
        if toks:
            seqs.add(_SEP.join(toks))
    if not seqs:
        return None
    alts = "|".join(re.escape(s) for s in sorted(seqs, key=len, reverse=True))
    return re.compile(f"{_SEP}(?:{alts}){_SEP}")


# ------------------------------------------------------------------------------------------
# coding
def _comments(frame: pd.DataFrame, column: str) -> pd.Series:
    text = frame[column].astype("string")
    keep = text.notna() & (text.str.strip().str.len() > 0)
    kept = text[keep.fillna(False)]
    return pd.Series(kept.to_numpy(object), index=kept.index, dtype=object)


def _tokenise_unique(texts: pd.Series, seg_words: tuple[str, ...]) -> tuple[list[list[str]], np.ndarray]:
    """Tokens of each distinct text (identical comments are segmented once) and each row's index into them."""
    codes, uniques = pd.factorize(texts, sort=False)
    uniq = list(uniques)
    seg = _segmenter(seg_words) if any(_CJK.search(t) for t in uniq) else None
    return [_tokens(t, seg) for t in uniq], codes


def code_comments(texts: Sequence[str] | pd.Series, codeframe: dict[str, Sequence[str]]) -> pd.DataFrame:
    """Code comments with a codeframe: one boolean column per theme (multi-label).

    Parameters
    ----------
    texts : sequence of str
        The (redacted) comments.
    codeframe : dict
        Theme → keywords or phrases (the spec's ``themes.<column>``).

    Returns
    -------
    DataFrame
        One row per text (same index when ``texts`` is a Series), one bool column per theme.

    Examples
    --------
    >>> code_comments(["排队太久了", "安排队伍很有序", "Long queue, rude staff"],
    ...               {"waiting": ["排队", "queue"], "staff": ["rude", "态度"]}).astype(int).values.tolist()
    [[1, 0], [0, 0], [1, 1]]
    """
    texts = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    seg_words = _chinese_words(k for ks in codeframe.values() for k in ks)
    toks, codes = _tokenise_unique(texts.astype(str), seg_words)
    return _code_tokens(toks, codes, codeframe, seg_words, texts.index)


def _code_tokens(toks, codes, codeframe, seg_words, index) -> pd.DataFrame:
    joined = pd.Series([_SEP + _SEP.join(t) + _SEP for t in toks], dtype=object)
    out = {}
    for theme, keywords in codeframe.items():
        pat = _keyword_pattern(list(keywords), seg_words)
        hit = (joined.str.contains(pat, regex=True).to_numpy(bool) if pat is not None
               else np.zeros(len(joined), bool))
        out[theme] = hit[codes] if len(codes) else np.zeros(0, bool)
    return pd.DataFrame(out, index=index, columns=list(codeframe))


# ------------------------------------------------------------------------------------------
# groups and shares
def satisfaction_groups(frame: pd.DataFrame, spec: Spec) -> tuple[pd.Series, list[str], str, str]:
    """Each row's satisfaction group: NPS groups when the spec has NPS, else bottom / middle / top box.

    Returns ``(labels, order, description, rating column)``; rows without a rating are NaN. The
    bottom box mirrors the top box: on 1-10 with ``top_box: 8`` it is 1-3 (three points each).
    """
    if spec.nps is not None:
        x = pd.to_numeric(frame[spec.nps.column], errors="coerce")
        order = ["detractors (0-6)", "passives (7-8)", "promoters (9-10)"]
        lab = pd.Series(np.select([x <= 6, x <= 8, x <= 10], order, default=""), index=frame.index)
        desc = f"NPS groups of {spec.nps.title}"
    else:
        item = spec.satisfaction
        x = pd.to_numeric(frame[item.column], errors="coerce")
        lo, hi, top = item.scale.low, item.scale.high, item.top_box
        bottom = lo + (hi - top)
        f = _f
        order = [f"bottom box ({f(lo)}-{f(bottom)})", f"middle ({f(bottom)}<…<{f(top)})", f"top box ({f(top)}-{f(hi)})"]
        lab = pd.Series(np.select([x <= bottom, x < top, x >= top], order, default=""), index=frame.index)
        desc = f"boxes of {item.title}"
    lab = lab.where(x.notna() & (lab != ""))
    return lab, order, desc, spec.satisfaction.column


def _f(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _share(ind: np.ndarray, w: np.ndarray) -> tuple[float, float, int, float, float]:
    m = weighted_mean(ind.astype(float), w)
    lo, hi = wilson_interval(m.mean, m.n_eff)
    return m.mean, m.n_eff, m.n, lo, hi


def _ordered(labels: pd.Series, allowed: Sequence[str] | None) -> list[str]:
    counts = labels.value_counts()
    first = [v for v in (allowed or ()) if v in counts.index]
    return first + [v for v in counts.index if v not in first]


def _shares(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted share of each column of the 0/1 matrix ``x`` and Kish's n_eff of ``w``."""
    total = w.sum()
    if x.shape[0] == 0 or total <= 0:
        return np.full(x.shape[1], np.nan), 0.0
    return (w @ x) / total, float(total ** 2 / np.dot(w, w))


def _group_table(ind: pd.DataFrame, w: np.ndarray, labels: pd.Series, values: list[str], key: str, name: str,
                 min_base: int) -> pd.DataFrame:
    """Share of each theme in each group, each group tested against the rest, Holm across the table.

    The share is the weighted mean of the 0/1 indicator (what :func:`weighted_mean` gives), its
    interval Wilson on the group's n_eff; the test a pooled two-proportion z test on effective bases.
    """
    rows = []
    lab = labels.to_numpy(object)
    x_all = ind.to_numpy(float)
    rated = pd.notna(lab)
    for value in values:
        mask = lab == value
        base = int(mask.sum())
        rest = ~mask & rated if key == "group" else ~mask
        if base < min_base:
            rows += [{"theme": theme, key: name, "value": value, "comments": base, "suppressed": True}
                     for theme in ind.columns]
            continue
        p_in, ne_in = _shares(x_all[mask], w[mask])
        p_out, ne_out = _shares(x_all[rest], w[rest])
        for j, theme in enumerate(ind.columns):
            lo, hi = wilson_interval(p_in[j], ne_in)
            p = two_proportion_z_test(p_in[j], ne_in, p_out[j], ne_out).p if rest.sum() >= 2 else float("nan")
            rows.append({"theme": theme, key: name, "value": value, "comments": base, "share": float(p_in[j]),
                         "ci_low": lo, "ci_high": hi, "n_eff": ne_in, "p": p, "suppressed": False})
    out = pd.DataFrame(rows, columns=["theme", key, "value", "comments", "share", "ci_low", "ci_high", "n_eff",
                                      "p", "suppressed"])
    out["suppressed"] = out["suppressed"].astype(bool)
    out["p_adjusted"] = holm(out["p"].to_numpy(float)) if len(out) else []
    out["significant"] = out["p_adjusted"] < ALPHA
    return out


def _examples(ind: pd.DataFrame, texts: np.ndarray, groups: pd.Series, order: list[str], per_theme: int,
              seed: int) -> dict[str, list[dict[str, str]]]:
    """Up to ``per_theme`` distinct comments per theme, taken in turn from each satisfaction group."""
    rng = np.random.default_rng(seed)
    g = groups.to_numpy(object)
    out = {}
    for theme in ind.columns:
        x = ind[theme].to_numpy(bool)
        pools = []
        for value in [*order, None]:
            idx = np.flatnonzero(x & (g == value)) if value is not None else np.flatnonzero(x & pd.isna(g))
            pools.append((value, list(rng.permutation(idx))))
        picked: list[dict[str, str]] = []
        seen = set()
        while len(picked) < per_theme and any(p for _, p in pools):
            for value, pool in pools:
                while pool and len(picked) < per_theme:
                    i = pool.pop()
                    if texts[i] not in seen:
                        seen.add(texts[i])
                        picked.append({"group": value or "no rating", "text": str(texts[i])})
                        break
        out[theme] = picked
    return out


# ------------------------------------------------------------------------------------------
# the analysis
def theme_analysis(frame: pd.DataFrame, spec: Spec, *, n_topics: int = N_TOPICS, seed: int = 0,
                   examples_per_theme: int = EXAMPLES_PER_THEME) -> ThemeAnalysis | None:
    """Themes and sentiment of every free-text column with a codeframe (spec key ``themes:``).

    Parameters
    ----------
    frame : DataFrame
        Clean rows, comments already PII-redacted by the loader.
    spec : Spec
    n_topics : int
        At most this many discovered topics per column.
    seed : int
        Seed of the example-comment draw (discovered topics need none).

    Returns
    -------
    ThemeAnalysis or None
        None when the spec has no ``themes:``. Its ``comments`` frame holds one row per comment
        (``themes.csv``); the rest goes to results.json.
    """
    if not spec.themes:
        return None
    w_all = row_weights(frame, spec)
    groups_all, order, grouping, rating_col = satisfaction_groups(frame, spec)
    rating_all = pd.to_numeric(frame[rating_col], errors="coerce").to_numpy(float)
    columns, per_comment = [], []
    for column, codeframe in spec.themes.items():
        texts = _comments(frame, column)
        pos = frame.index.get_indexer(texts.index)
        w = w_all[pos]
        seg_words = _chinese_words(k for ks in codeframe.values() for k in ks)
        toks, codes = _tokenise_unique(texts, seg_words)
        ind = _code_tokens(toks, codes, codeframe, seg_words, texts.index)
        coded = ind.any(axis=1).to_numpy(bool)
        notes = []
        n = len(texts)
        if n == 0:
            notes.append(f"No non-empty comments in {column}.")
        # sentiment, on the distinct texts then spread to rows
        sent = sentiment_scores(toks)[codes] if n else np.zeros(0)
        rating = rating_all[pos]
        groups = groups_all.iloc[pos].set_axis(texts.index)
        # shares and associations
        rows = []
        for theme in ind.columns:
            x = ind[theme].to_numpy(bool)
            share, ne, _, lo, hi = _share(x, w) if n else (float("nan"),) * 5
            row = {"theme": theme, "kind": "codeframe", "mentions": int(x.sum()), "share": share, "ci_low": lo,
                   "ci_high": hi, "sentiment": float(np.average(sent[x], weights=w[x])) if x.any() else float("nan")}
            ok = ~np.isnan(rating)
            if (x & ok).sum() >= 2 and (~x & ok).sum() >= 2:
                a, b = weighted_mean(rating[x & ok], w[x & ok]), weighted_mean(rating[~x & ok], w[~x & ok])
                test = welch_test(a, b)
                row.update(score_with=a.mean, score_without=b.mean, difference=test.difference, p=test.p)
            rows.append(row)
        for kind, label, x in (("other", OTHER, ~coded), ("coded", CODED, coded)):
            share, ne, _, lo, hi = _share(x, w) if n else (float("nan"),) * 5
            rows.append({"theme": label, "kind": kind, "mentions": int(x.sum()), "share": share, "ci_low": lo,
                         "ci_high": hi,
                         "sentiment": float(np.average(sent[x], weights=w[x])) if x.any() else float("nan")})
        table = pd.DataFrame(rows, columns=["theme", "kind", "mentions", "share", "ci_low", "ci_high", "sentiment",
                                            "score_with", "score_without", "difference", "p"])
        cf = (table["kind"] == "codeframe").to_numpy()
        table["p_adjusted"] = np.nan
        table.loc[cf, "p_adjusted"] = holm(table.loc[cf, "p"].to_numpy(float))
        table["significant"] = table["p_adjusted"] < ALPHA
        # segments and satisfaction groups
        seg_tables = []
        for col in spec.segments:
            labels = frame[col].iloc[pos].astype(object)
            labels = labels.where(labels.notna(), MISSING_SEGMENT).astype(str).set_axis(texts.index)
            seg_tables.append((col, labels, _ordered(labels, spec.categories.get(col))))
        if seg_tables:
            by_segment = pd.concat([_group_table(ind, w, lab, vals, "column", col, spec.quality.min_base)
                                    for col, lab, vals in seg_tables], ignore_index=True)
            by_segment["p_adjusted"] = holm(by_segment["p"].to_numpy(float))  # one family across all segment columns
            by_segment["significant"] = by_segment["p_adjusted"] < ALPHA
        else:
            by_segment = _group_table(ind, w, pd.Series([], dtype=object), [], "column", "", 1)
        present = [g for g in order if (groups == g).any()]
        by_group = _group_table(ind, w, groups, present, "group", grouping, spec.quality.min_base)
        # discovered themes from the uncoded comments
        unc = np.flatnonzero(~coded)
        topics, assign = discover_themes([toks[c] for c in codes[unc]], texts.to_numpy(object)[unc], w[unc],
                                         n_topics=n_topics, seed=seed)
        total_w = w.sum()
        for t in topics:
            t["share"] = float(w[unc][assign == t["topic"]].sum() / total_w) if total_w > 0 else float("nan")
        if not topics and len(unc):
            notes.append(f"Too few uncoded comments ({len(unc)}) or words in them to discover themes.")
        topic_of = np.zeros(n, dtype=int)
        topic_of[unc] = assign
        # sentiment summary, always with its agreement with the rating
        agreement = sentiment_agreement(sent, rating, against=spec.satisfaction.title)
        labels_s = np.array([sentiment_label(s) for s in sent], dtype=object)
        sentiment = {"method": SENTIMENT_METHOD,
                     "mean": float(np.average(sent, weights=w)) if n else float("nan"),
                     **{lab: (float(w[labels_s == lab].sum() / total_w) if total_w > 0 else float("nan"))
                        for lab in ("positive", "neutral", "negative")},
                     "agreement": agreement.to_dict()}
        texts_arr = texts.to_numpy(object)
        examples = _examples(ind, texts_arr, groups, order, examples_per_theme, seed)
        columns.append(ThemeColumn(column=column, comments=n, n_eff=float(w.sum() ** 2 / np.square(w).sum()) if n else 0.0,
                                   table=table, by_segment=by_segment, by_group=by_group, grouping=grouping,
                                   discovered=topics, sentiment=sentiment, examples=examples, notes=notes))
        topic_name = {t["topic"]: f"topic {t['topic']}: {' / '.join(t['terms'][:3])}" for t in topics}
        theme_lists = np.full(n, "", dtype=object)
        for theme in ind.columns:
            theme_lists = theme_lists + np.where(ind[theme].to_numpy(bool), f"{theme} | ", "")
        theme_lists = pd.Series(theme_lists, dtype=object).str.removesuffix(" | ").to_numpy(object)
        per_comment.append(pd.DataFrame({
            "id": frame[spec.id].iloc[pos].to_numpy(object), "column": column, "comment": texts_arr,
            "themes": theme_lists, "discovered_topic": [topic_name.get(int(t), "") for t in topic_of],
            "sentiment": np.round(sent, 4), "sentiment_label": labels_s,
            "satisfaction_group": groups.to_numpy(object)}))
    method = (f"codeframe keywords matched on word tokens (jieba segmentation for Chinese), multi-label; "
              f"discovered themes: NMF on TF-IDF of the uncoded comments; sentiment: {SENTIMENT_METHOD}")
    comments = pd.concat(per_comment, ignore_index=True) if per_comment else None
    return ThemeAnalysis(columns=columns, method=method, comments=comments)
