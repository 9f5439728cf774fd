"""Estimators and tests shared by the KPI, segment and wave-comparison stages.

Weighted means use the design-based (Taylor linearisation) variance of a weights-only design,
the number R's ``survey::svymean(~y, svydesign(ids=~1, weights=~w))`` prints:

    var(ȳ_w) = n/(n-1) · Σ [w_i (y_i - ȳ_w)]² / (Σ w_i)²

which reduces to s²/n without weights. Proportions use Wilson intervals on Kish's effective
sample size n_eff = (Σw)²/Σw², and differences of proportions Newcombe's hybrid score interval
(1998b, method 10), both from statsmodels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from .levels import ALPHA, CONFIDENCE

__all__ = ["MeanEstimate", "kish_n_eff", "weighted_average", "weighted_mean", "t_interval", "z_interval", "wilson_interval",
           "newcombe_interval", "nps_scores", "signed_rank_test", "welch_test", "z_test", "two_proportion_z_test", "holm",
           "CONFIDENCE"]


@dataclass(frozen=True)
class MeanEstimate:
    """A (weighted) mean with its linearised standard error, base and effective base.

    ``design_df`` is the design's degrees of freedom (PSUs − strata) when the sample has a
    complex design, else None and the t intervals use n − 1; ``deff`` is the design effect.
    """

    mean: float
    se: float
    n: int
    n_eff: float
    design_df: float | None = None
    deff: float | None = None

    @property
    def df(self) -> float:
        if self.design_df is not None:
            return max(self.design_df, 1)
        return max(self.n - 1, 1)


def kish_n_eff(weights) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²``.

    >>> kish_n_eff([1] * 50 + [2] * 50)  # Kish (1965): deff = 1.111
    90.0
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return 0.0
    return float(w.sum() ** 2 / np.square(w).sum())


def weighted_average(values: np.ndarray, weights: np.ndarray) -> float:
    """``Σ w·y / Σ w`` (answered values only); exactly the value when every value is the same,
    not that value ± rounding noise which a test of change would call a difference.

    >>> weighted_average(np.full(3, 5.0), np.array([0.3, 1.7, 1.1]))
    5.0
    """
    if values.size and values.min() == values.max():
        return float(values[0])
    return float(np.dot(weights, values) / weights.sum())


def weighted_mean(values, weights=None) -> MeanEstimate:
    """Mean and design-based SE (weights-only design, as ``survey::svymean``).

    Missing values are dropped with their weights. With fewer than two values the SE is NaN.
    """
    y = np.asarray(values, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(y)
    y, w = y[keep], w[keep]
    n = int(y.size)
    if n == 0:
        return MeanEstimate(float("nan"), float("nan"), 0, 0.0)
    total = w.sum()
    mean = weighted_average(y, w)  # a constant's mean is exact, so its SE is exactly 0
    if n < 2:
        return MeanEstimate(mean, float("nan"), n, kish_n_eff(w))
    z = w * (y - mean) / total
    se = math.sqrt(n / (n - 1) * float(np.dot(z, z)))
    return MeanEstimate(mean, se, n, kish_n_eff(w))


def t_interval(estimate: float, se: float, df: float, level: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided t interval ``estimate ± t(df) · se``."""
    if not (math.isfinite(se) and df > 0):
        return float("nan"), float("nan")
    q = float(_st.t.ppf(0.5 + level / 2, df))
    return float(estimate - q * se), float(estimate + q * se)


def z_interval(estimate: float, se: float, level: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided normal interval ``estimate ± z · se``."""
    if not math.isfinite(se):
        return float("nan"), float("nan")
    q = float(_st.norm.ppf(0.5 + level / 2))
    return float(estimate - q * se), float(estimate + q * se)


def wilson_interval(share: float, n: float, level: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a share observed on ``n`` (may be a non-integer n_eff)."""
    if n <= 0 or not math.isfinite(share):
        return float("nan"), float("nan")
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(share * n, n, alpha=1 - level, method="wilson")
    # the score interval contains the share (its test statistic is 0 there); clamping only removes
    # rounding such as an upper limit of 0.9999999999999998 for a share of 1
    return float(min(max(lo, 0.0), share)), float(max(min(hi, 1.0), share))


def newcombe_interval(p1: float, n1: float, p2: float, n2: float,
                      level: float = CONFIDENCE) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``p1 - p2`` (1998b, method 10), from Wilson limits."""
    if n1 <= 0 or n2 <= 0:
        return float("nan"), float("nan")
    l1, u1 = wilson_interval(p1, n1, level)
    l2, u2 = wilson_interval(p2, n2, level)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def nps_scores(values) -> np.ndarray:
    """Per-respondent NPS score on a 0-10 answer: 100 promoter (9-10), -100 detractor (0-6), else 0.

    The NPS is the mean of these scores, so its SE is that mean's SE.
    """
    x = np.asarray(values, dtype=float)
    out = np.where(x >= 9, 100.0, np.where(x <= 6, -100.0, 0.0))
    out[np.isnan(x)] = np.nan
    return out


@dataclass(frozen=True)
class TestResult:
    """A difference ``a - b`` with its SE, interval and two-sided p value."""

    difference: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    statistic: float
    df: float | None
    method: str


def welch_test(a: MeanEstimate, b: MeanEstimate, level: float = CONFIDENCE) -> TestResult:
    """Welch t test of two independent means from their SEs (Satterthwaite df, df_i = n_i - 1)."""
    d = a.mean - b.mean
    va, vb = a.se ** 2, b.se ** 2
    se = math.sqrt(va + vb)
    if not (se > 0 and math.isfinite(se)):
        return TestResult(d, se, float("nan"), float("nan"), float("nan"), float("nan"), None, "Welch t")
    df = (va + vb) ** 2 / (va ** 2 / a.df + vb ** 2 / b.df)
    t = d / se
    p = float(2 * _st.t.sf(abs(t), df))
    lo, hi = t_interval(d, se, df, level)
    return TestResult(d, se, lo, hi, p, t, df, "Welch t")


def z_test(est_a: float, se_a: float, est_b: float, se_b: float, level: float = CONFIDENCE,
           method: str = "z") -> TestResult:
    """z test of the difference of two independent estimates from their SEs."""
    d = est_a - est_b
    se = math.sqrt(se_a ** 2 + se_b ** 2)
    if not (se > 0 and math.isfinite(se)):
        return TestResult(d, se, float("nan"), float("nan"), float("nan"), float("nan"), None, method)
    z = d / se
    lo, hi = z_interval(d, se, level)
    return TestResult(d, se, lo, hi, float(2 * _st.norm.sf(abs(z))), z, None, method)


def two_proportion_z_test(p1: float, n1: float, p2: float, n2: float, level: float = CONFIDENCE) -> TestResult:
    """Pooled two-proportion z test (on effective bases) with Newcombe's method-10 interval."""
    d = p1 - p2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2) if n1 + n2 > 0 else float("nan")
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) if n1 > 0 and n2 > 0 else float("nan")
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) if n1 > 0 and n2 > 0 else float("nan")
    lo, hi = newcombe_interval(p1, n1, p2, n2, level)
    if not (se0 > 0):
        p = 1.0 if d == 0 else float("nan")
        return TestResult(d, se, lo, hi, p, float("nan"), None, "z (pooled), Newcombe CI")
    z = d / se0
    return TestResult(d, se, lo, hi, float(2 * _st.norm.sf(abs(z))), z, None, "z (pooled), Newcombe CI")


def signed_rank_test(values) -> tuple[float, float]:
    """Wilcoxon's signed-rank test that paired differences are centred on 0 (two-sided): the
    statistic min(R+, R−) and its p value, as ``scipy.stats.wilcoxon(values, zero_method="wilcox")``
    gives them (R: ``wilcox.test(x, exact = FALSE, correct = FALSE)``).

    Zeros are dropped. With more than 50 values scipy uses the normal approximation with the tie
    correction, which needs only each distinct value's count: the ranks are computed per distinct
    value here (a million answers on a 7-point gap are 13 values, not a sort of a million rows).
    Up to 50 values, or with a missing one, scipy itself runs.
    """
    x = np.asarray(values, dtype=float)
    if len(x) <= 50 or np.isnan(x).any():
        res = _st.wilcoxon(x, zero_method="wilcox")
        return float(res.statistic), float(res.pvalue)
    d = x[x != 0]
    n = len(d)
    if n == 0:
        return float("nan"), float("nan")
    uniques, counts = _value_counts(d)
    magnitudes, group = np.unique(np.abs(uniques), return_inverse=True)
    ties = np.bincount(group, weights=counts)  # answers per |value|
    mid_rank = np.cumsum(ties) - ties + (ties + 1) / 2  # the average rank of each |value|
    positive = uniques > 0
    r_plus = float(np.sum(counts[positive] * mid_rank[group[positive]]))
    r_minus = n * (n + 1) / 2 - r_plus
    se = math.sqrt((n * (n + 1) * (2 * n + 1) - float(np.sum(ties ** 3 - ties)) / 2) / 24)
    z = (r_plus - n * (n + 1) / 4) / se if se > 0 else float("nan")
    p = min(1.0, 2 * float(_st.norm.sf(abs(z)))) if se > 0 else float("nan")
    return min(r_plus, r_minus), p


def _value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts by hashing (no sort of the rows)."""
    import pandas as pd

    codes, uniques = pd.factorize(values)
    return np.asarray(uniques, dtype=float), np.bincount(codes, minlength=len(uniques)).astype(float)


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p values (NaN entries are left out of the family and stay NaN).

    Sorted ascending, the i-th smallest of m p values (i = 0..m-1) becomes
    max_{j <= i} min(1, (m - j) p_(j)). The same numbers as R's ``p.adjust(p, "holm")`` and
    statsmodels' ``multipletests(p, method="holm")``, without the full garbage collection the
    latter runs on every call (0.1-0.4 s in a process that has imported Great Expectations).
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        vals = p[ok]
        order = np.argsort(vals, kind="stable")
        m = len(vals)
        adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * vals[order]))
        ranked = np.empty(m)
        ranked[order] = adjusted
        out[ok] = ranked
    return out
