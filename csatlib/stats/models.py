"""Regression models fitted on collapsed response patterns, equal to their row-level fits.

Facts this module is built on (../shared/NOTES.md, checked again in tests/test_models.py):

* statsmodels' GLM with ``freq_weights`` returns HC0 when asked for HC1-HC3, and WLS on patterns
  with ``weights = count`` has the wrong degrees of freedom. :func:`fit_linear` therefore computes
  the coefficients and the HC sandwich itself: bread (X'ΩX)⁻¹ with Ω = count × design weight;
  per-group leverage hᵍ = wᵍ xᵍ'(X'ΩX)⁻¹xᵍ (each row's own leverage, identical within a group);
  meat Σ cᵍ (wᵍ eᵍ)² / (1 − hᵍ)^k xᵍxᵍ'. Groups are distinct (x, y, design weight) patterns, so the
  result equals statsmodels ``WLS(...).fit(cov_type="HC3")`` on the rows exactly.
* ``OrderedModel`` ignores ``freq_weights`` silently and defaults to probit.
  :class:`WeightedOrderedModel` weights ``loglike`` (score and Hessian follow, numerically),
  starts from weighted category frequencies, is fitted by BFGS with ``distr="logit"``, and sets
  ``nobs`` to the sum of weights so BIC and pseudo-R² match the row-level fit.
* GLM binomial with ``freq_weights`` gives row-level params, SEs and log-likelihood.

With design weights the coefficient SEs of the ordered and binary logits are model-based (the
weights act as frequency weights); the linear models' HC3 errors are heteroskedasticity-robust.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from .collapse import collapse

__all__ = ["LinearFit", "fit_linear", "WeightedOrderedModel", "fit_ordered_logit", "fit_logit",
           "lr_test", "ModelFit"]


@dataclass
class ModelFit:
    """Coefficients table and fit statistics of one model, JSON-ready via :meth:`to_dict`."""

    name: str
    params: pd.Series
    bse: pd.Series
    llf: float
    nobs: float
    df_model: int
    cov_type: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * st.norm.sf(np.abs(self.params / self.bse)), index=self.params.index)

    def table(self) -> pd.DataFrame:
        z = st.norm.ppf(0.975)
        return pd.DataFrame({"estimate": self.params, "se": self.bse, "ci_low": self.params - z * self.bse,
                             "ci_high": self.params + z * self.bse, "p": self.pvalues})

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.name, "cov_type": self.cov_type, "nobs": self.nobs, "llf": self.llf,
                "df_model": self.df_model,
                "coefficients": [{"term": str(k), **{c: float(v) for c, v in row.items()}}
                                 for k, row in self.table().iterrows()], **self.extra}

    def __repr__(self) -> str:
        return f"ModelFit({self.name}, nobs={self.nobs:,.0f}, llf={self.llf:.3f}, cov={self.cov_type})\n" + \
            self.table().round(4).to_string()


@dataclass
class LinearFit(ModelFit):
    """A (weighted) least-squares fit with its HC covariance and the Gaussian log-likelihood."""

    cov: np.ndarray = field(default=None, repr=False)
    ssr: float = float("nan")

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictions and their standard errors (from the HC covariance) at design rows ``x``."""
        x = np.atleast_2d(x)
        return x @ self.params.to_numpy(), np.sqrt(np.einsum("ij,jk,ik->i", x, self.cov, x))


def fit_linear(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, names: list[str] | None = None,
               cov_type: str = "HC3", name: str = "OLS") -> LinearFit:
    """Least squares on collapsed (x, y, weight) patterns with an exact HC0-HC3 sandwich.

    Parameters
    ----------
    x : array (n, k)
        Design matrix including the constant.
    y : array (n,)
    weights : array, optional
        Design weights (WLS); None for OLS.
    cov_type : {"HC0", "HC1", "HC2", "HC3", "nonrobust"}

    Returns
    -------
    LinearFit
        Equal to ``statsmodels.WLS(y, x, weights).fit(cov_type=cov_type)`` on the rows.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    n, k = x.shape
    p = collapse(np.column_stack([x, y, w]))
    counts = p.count.astype(float)
    xg, yg, wg = p.values[:, :k], p.values[:, k], p.values[:, k + 1]
    omega = counts * wg
    xtwx = xg.T @ (xg * omega[:, None])
    bread = np.linalg.inv(xtwx)
    beta = bread @ (xg.T @ (omega * yg))
    resid = yg - xg @ beta
    ssr = float(np.sum(omega * resid ** 2))
    if cov_type == "nonrobust":
        cov = bread * ssr / (n - k)
    else:
        h = wg * np.einsum("ij,jk,ik->i", xg, bread, xg)
        power = {"HC0": 0, "HC1": 0, "HC2": 1, "HC3": 2}[cov_type]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = counts * (wg * resid) ** 2 / (1 - h) ** power
        if not np.all(np.isfinite(scale)):
            raise ValueError(f"{cov_type} needs every leverage below 1 (a group of one observation "
                             f"fully determines a coefficient)")
        meat = xg.T @ (xg * scale[:, None])
        cov = bread @ meat @ bread
        if cov_type == "HC1":
            cov *= n / (n - k)
    bse = np.sqrt(np.diag(cov))
    # Gaussian log-likelihood of WLS (statsmodels' convention: weights enter as in the whitened model)
    nobs = float(n)
    llf = float(-nobs / 2 * (np.log(2 * np.pi * ssr / nobs) + 1) + 0.5 * np.sum(counts * np.log(wg)))
    names = names or [f"x{j}" for j in range(k)]
    return LinearFit(name=name, params=pd.Series(beta, index=names), bse=pd.Series(bse, index=names), llf=llf,
                     nobs=nobs, df_model=k - 1, cov_type=cov_type, cov=cov, ssr=ssr,
                     extra={"r2": _r2(yg, resid, omega), "patterns": int(len(yg))})


def _r2(y: np.ndarray, resid: np.ndarray, omega: np.ndarray) -> float:
    ybar = np.sum(omega * y) / omega.sum()
    return float(1 - np.sum(omega * resid ** 2) / np.sum(omega * (y - ybar) ** 2))


def lr_test(restricted_llf: float, full_llf: float, df: int) -> dict[str, float]:
    """Likelihood-ratio test: statistic 2(llf_full − llf_restricted) against χ²(df)."""
    stat = max(0.0, 2 * (full_llf - restricted_llf))
    return {"statistic": stat, "df": int(df), "p": float(st.chi2.sf(stat, df))}


def _ordered_model_class():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    class _Weighted(OrderedModel):
        """OrderedModel whose log-likelihood is the weighted sum of ``loglikeobs``."""

        def __init__(self, endog, exog, weights=None, **kwargs):
            super().__init__(endog, exog, **kwargs)
            self.case_weights = (np.ones(len(self.endog)) if weights is None
                                 else np.asarray(weights, dtype=float))

        def loglike(self, params):
            return float(np.sum(self.case_weights * self.loglikeobs(params)))

        def score(self, params):
            from statsmodels.tools.numdiff import approx_fprime

            return approx_fprime(params, self.loglike, centered=True)

        def hessian(self, params):
            from statsmodels.tools.numdiff import approx_hess3

            return approx_hess3(params, self.loglike)

        def start_params_weighted(self) -> np.ndarray:
            """Thresholds from weighted cumulative category shares (on the logit scale)."""
            k = len(self.labels)
            shares = np.bincount(self.endog.astype(int), weights=self.case_weights, minlength=k)
            cum = np.clip(np.cumsum(shares)[:-1] / shares.sum(), 1e-6, 1 - 1e-6)
            cuts = np.log(cum / (1 - cum))
            increments = np.concatenate([[cuts[0]], np.log(np.maximum(np.diff(cuts), 1e-6))])
            return np.concatenate([np.zeros(self.k_vars), increments])

    return _Weighted


class WeightedOrderedModel:
    """Factory for the weighted ordered logit (a subclass of statsmodels' OrderedModel)."""

    def __new__(cls, endog, exog, weights=None, **kwargs):
        return _ordered_model_class()(endog, exog, weights=weights, **kwargs)


def fit_ordered_logit(y: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None,
                      names: list[str] | None = None) -> ModelFit:
    """Ordered logit of ``y`` on ``x`` (no constant), fitted on collapsed patterns.

    Returns a :class:`ModelFit` whose ``extra`` holds the thresholds, convergence, pseudo-R² and BIC.
    Raises RuntimeError when BFGS does not converge.
    """
    y = np.asarray(y, dtype=float)
    x = np.atleast_2d(np.asarray(x, dtype=float).T).T
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    p = collapse(np.column_stack([y, x]), w)
    levels = np.unique(p.values[:, 0])
    endog = pd.Series(pd.Categorical(p.values[:, 0], categories=levels, ordered=True))
    exog = pd.DataFrame(p.values[:, 1:], columns=names or [f"x{j}" for j in range(x.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = WeightedOrderedModel(endog, exog, weights=p.weight, distr="logit")
        res = model.fit(start_params=model.start_params_weighted(), method="bfgs", maxiter=2000, disp=False,
                        gtol=1e-6)
        converged = bool(res.mle_retvals.get("converged", False))
        # a few Newton steps polish BFGS's answer to the exact maximum (quadratic convergence)
        polished = model.fit(start_params=res.params, method="newton", maxiter=50, disp=False, tol=1e-8)
        if polished.mle_retvals.get("converged") and polished.llf >= res.llf - 1e-9:
            res, converged = polished, True
    if not converged:
        raise RuntimeError("ordered logit did not converge")
    total = float(p.weight.sum())
    shares = np.bincount(endog.cat.codes, weights=p.weight, minlength=len(levels)) / total
    llnull = float(np.sum(total * shares * np.log(np.where(shares > 0, shares, 1))))
    k = len(res.params)
    bic = float(-2 * res.llf + k * np.log(total))
    names_all = list(res.params.index)
    params = pd.Series(np.asarray(res.params), index=names_all)
    bse = pd.Series(np.asarray(res.bse), index=names_all)
    kx = x.shape[1]
    thresholds = model.transform_threshold_params(res.params.to_numpy())[1:-1]
    return ModelFit("ordered logit", params.iloc[:kx], bse.iloc[:kx], float(res.llf), total, kx, "model-based",
                    extra={"thresholds": [float(t) for t in thresholds], "levels": [float(v) for v in levels],
                           "converged": converged, "pseudo_r2": 1 - float(res.llf) / llnull, "llnull": llnull,
                           "bic": bic, "patterns": int(len(p.weight)), "all_params": params.to_dict(),
                           "all_bse": bse.to_dict()})


def fit_logit(y: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None,
              names: list[str] | None = None) -> ModelFit:
    """Binary logit (GLM binomial) on collapsed patterns with frequency weights; ``x`` includes the constant."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    p = collapse(np.column_stack([y, x]), w)
    names = names or [f"x{j}" for j in range(x.shape[1])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(p.values[:, 0], p.values[:, 1:], family=sm.families.Binomial(),
                     freq_weights=p.weight).fit()
    return ModelFit("logit", pd.Series(res.params, index=names), pd.Series(res.bse, index=names), float(res.llf),
                    float(p.weight.sum()), x.shape[1] - 1, "model-based",
                    extra={"patterns": int(len(p.weight)), "pseudo_r2": float(1 - res.llf / res.llnull),
                           "llnull": float(res.llnull), "converged": bool(res.converged)})


def design(values: np.ndarray, levels: list[float] | None = None) -> tuple[np.ndarray, list[str]]:
    """Design matrices: linear ``[1, s]`` when ``levels`` is None, else one dummy per level (no constant)."""
    v = np.asarray(values, dtype=float)
    if levels is None:
        return np.column_stack([np.ones(len(v)), v]), ["const", "satisfaction"]
    return np.column_stack([(v == lv).astype(float) for lv in levels]), [f"sat={_fmt(lv)}" for lv in levels]


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)

