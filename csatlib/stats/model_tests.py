"""Tests of nested models: the likelihood-ratio test for unweighted fits and the (design-based)
Wald test, R's ``regTermTest``; both are importable from :mod:`csatlib.stats.models` too."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as st

__all__ = ["lr_test", "wald_test"]


def lr_test(restricted_llf: float, full_llf: float, df: int) -> dict[str, float]:
    """Likelihood-ratio test: statistic 2(llf_full − llf_restricted) against χ²(df).

    Valid for unweighted data (or frequency weights); with design weights use :func:`wald_test`.
    """
    stat = max(0.0, 2 * (full_llf - restricted_llf))
    return {"statistic": stat, "df": int(df), "p": float(st.chi2.sf(stat, df)), "test": "likelihood ratio χ²"}


def wald_test(params, cov, terms, ddf: float | None = None) -> dict[str, Any]:
    """Wald test that the coefficients at positions ``terms`` are all zero.

    Parameters
    ----------
    params : array (p,)
    cov : array (p, p)
        Their covariance (design-based for survey data).
    terms : sequence of int
        Positions of the tested coefficients.
    ddf : float, optional
        Denominator degrees of freedom: the F test uses F(q, ddf) with F = W / q; None gives the
        χ²(q) test of W.

    Returns
    -------
    dict
        ``statistic`` (F, or χ² when ``ddf`` is None), ``chisq`` (W), ``df`` (q), ``ddf``, ``p``, ``test``.

    Examples
    --------
    >>> # R: regTermTest(svyglm(promoter ~ sat + I(sat^2), des, family = quasibinomial()), ~I(sat^2))
    >>> wald_test(fit.params, fit.vcov, [2], ddf=fit.df_resid)  # doctest: +SKIP
    """
    b = np.asarray(params, dtype=float)[list(terms)]
    v = np.asarray(cov, dtype=float)[np.ix_(list(terms), list(terms))]
    q = len(b)
    chisq = float(b @ np.linalg.solve(v, b))
    if ddf is None or not np.isfinite(ddf):
        return {"statistic": chisq, "chisq": chisq, "df": q, "ddf": None, "p": float(st.chi2.sf(chisq, q)),
                "test": "Wald χ²"}
    f = chisq / q
    return {"statistic": f, "chisq": chisq, "df": q, "ddf": float(ddf), "p": float(st.f.sf(f, q, ddf)),
            "test": "design-based Wald F"}
