"""Regression models fitted on collapsed response patterns, equal to their row-level fits.

Facts this module is built on (measured on statsmodels 0.15, checked again in tests/test_models.py):

* statsmodels' GLM with ``freq_weights`` returns HC0 when asked for HC1-HC3, and WLS on patterns
  with ``weights = count`` has the wrong degrees of freedom. :func:`fit_linear` therefore computes
  the coefficients and the HC sandwich itself: bread (X'ΩX)⁻¹ with Ω = count × design weight;
  per-group leverage hᵍ = wᵍ xᵍ'(X'ΩX)⁻¹xᵍ (each row's own leverage, identical within a group);
  meat Σ cᵍ (wᵍ eᵍ)² / (1 − hᵍ)^k xᵍxᵍ'. For the HC sandwich, groups are distinct (x, y, design
  weight) patterns, so the result equals statsmodels ``WLS(...).fit(cov_type="HC3")`` on the rows
  exactly; the design-based and classical fits need only Σw per distinct (x, y).
* ``OrderedModel`` ignores ``freq_weights`` silently and defaults to probit.
  :class:`WeightedOrderedModel` weights ``loglike`` (score and Hessian follow, numerically),
  starts from weighted category frequencies, is fitted by BFGS with ``distr="logit"``, and sets
  ``nobs`` to the sum of weights so BIC and pseudo-R² match the row-level fit.
* GLM binomial with ``freq_weights`` gives row-level params, SEs and log-likelihood.

Two kinds of weights, two kinds of standard errors:

* ``weights`` alone are **frequency weights** (a pattern standing for that many identical rows):
  the fits equal the row-level fits on the duplicated rows, with model-based SEs for the logits
  and HC0-HC3 for least squares.
* ``sample_design`` (a :class:`~csatlib.stats.survey.SurveyDesign`) makes every SE
  **design-based**: the sandwich (linearisation) variance of the weighted score equations,
  ``V = A⁻¹ · Var_design(Σ_i w_i s_i) · A⁻¹`` with A the weighted information (the bread) and
  s_i each row's score. It is what R's ``svyglm`` (linear and ``quasibinomial`` logit) and
  ``svyolr`` (ordered logit) report, with t statistics on ``degf(design) − p + 1`` degrees of
  freedom. The fit still runs on collapsed patterns: a row's score is its pattern's score, so
  the design variance sums pattern scores times row weights over each PSU
  (:meth:`SurveyDesign.cov_patterns`), which equals the row-level sandwich exactly. Nested
  models are then compared by a design-based Wald F test (:func:`wald_test`, R's
  ``regTermTest``) or the Rao-Scott working likelihood ratio (:func:`rao_scott_lrt`), never by
  a plain likelihood-ratio test, whose χ² reference distribution does not hold under weights.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import stats as st

from .collapse import collapse
from .model_tests import lr_test, wald_test
from .survey import SurveyDesign

__all__ = ["LinearFit", "fit_linear", "WeightedOrderedModel", "fit_ordered_logit", "fit_logit",
           "lr_test", "ModelFit", "wald_test", "rao_scott_lrt", "DESIGN_BASED", "VARIANCE"]

DESIGN_BASED = "design-based"

# one sentence per kind of variance, stored with every model in results.json ("variance")
VARIANCE = {
    "nonrobust": "model-based (classical OLS) standard errors",
    "HC0": "heteroskedasticity-robust (HC0) standard errors",
    "HC1": "heteroskedasticity-robust (HC1) standard errors",
    "HC2": "heteroskedasticity-robust (HC2) standard errors",
    "HC3": "heteroskedasticity-robust (HC3) standard errors, because the spread of the answers differs "
           "between satisfaction levels",
    "model-based": "model-based standard errors from the inverse information (maximum likelihood), "
                   "because every respondent counts once",
    DESIGN_BASED: "design-based (linearisation sandwich) standard errors, as R's survey package gives, because "
                  "the survey is weighted or sampled in strata or clusters, where model-based errors are too "
                  "small",
}


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
    df_resid: float | None = None  # set for design-based fits: t tests on degf(design) − p + 1
    vcov: np.ndarray | None = field(default=None, repr=False)  # covariance of all parameters
    naive_vcov: np.ndarray | None = field(default=None, repr=False)  # model-based, for Rao-Scott

    @property
    def pvalues(self) -> pd.Series:
        z = np.abs(self.params / self.bse)
        if self.df_resid is not None:
            return pd.Series(2 * st.t.sf(z, max(self.df_resid, 1)), index=self.params.index)
        return pd.Series(2 * st.norm.sf(z), index=self.params.index)

    def table(self) -> pd.DataFrame:
        q = st.t.ppf(0.975, max(self.df_resid, 1)) if self.df_resid is not None else st.norm.ppf(0.975)
        return pd.DataFrame({"estimate": self.params, "se": self.bse, "ci_low": self.params - q * self.bse,
                             "ci_high": self.params + q * self.bse, "p": self.pvalues})

    def to_dict(self) -> dict[str, Any]:
        out = {"model": self.name, "cov_type": self.cov_type, "nobs": self.nobs, "llf": self.llf,
               "df_model": self.df_model,
               "coefficients": [{"term": str(k), **{c: float(v) for c, v in row.items()}}
                                for k, row in self.table().iterrows()], **self.extra}
        out.setdefault("variance", VARIANCE.get(self.cov_type, self.cov_type))
        if self.df_resid is not None:
            out["df_resid"] = float(self.df_resid)
        return out

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
               cov_type: str = "HC3", name: str = "OLS", sample_design: SurveyDesign | None = None,
               expand: Callable[[np.ndarray], np.ndarray] | None = None) -> LinearFit:
    """Least squares on collapsed answer patterns with an exact HC0-HC3 or design-based sandwich.

    The rows are collapsed into their distinct (x, y) patterns with summed weights, or into
    (x, y, weight) patterns for an HC sandwich, whose leverages depend on each row's own weight;
    the fit equals the row-level one (tested against statsmodels and R's ``svyglm``).

    Parameters
    ----------
    x : array (n, k)
        Design matrix including the constant.
    y : array (n,)
    weights : array, optional
        Weights (WLS); None for OLS. With ``sample_design`` they default to the design's weights.
    cov_type : {"HC0", "HC1", "HC2", "HC3", "nonrobust"}
        Ignored when ``sample_design`` is given.
    sample_design : SurveyDesign, optional
        The sample design of these rows (``design.subset(rows)``): design-based SEs.
    expand : callable, optional
        Builds the design matrix from the variables in ``x`` (``x`` then holds those variables,
        e.g. satisfaction, and ``expand`` its dummies): the rows are collapsed on the few
        variables and only the patterns are expanded.

    Returns
    -------
    LinearFit
        Without a design, equal to ``statsmodels.WLS(y, x, weights).fit(cov_type=cov_type)`` on the
        rows. With one, equal to R's ``svyglm(y ~ x, design)`` (coefficients, vcov, t on
        ``degf − k + 1`` df).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if weights is None and sample_design is not None:
        weights = sample_design.weights
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    x = x.reshape(len(x), -1)
    n, kx = x.shape
    if sample_design is None and cov_type != "nonrobust":
        # an HC sandwich needs each row's own leverage, which depends on its own weight
        p = collapse((x, y, w))
        wg = p.values[:, kx + 1]
        omega = p.count * wg
    else:  # the coefficients, the design-based meat and the classical variance need only Σw per (x, y)
        p = collapse((x, y), w)
        omega = p.weight
    xg, yg = p.values[:, :kx], p.values[:, kx]
    if expand is not None:
        xg = np.asarray(expand(xg), dtype=float).reshape(len(yg), -1)
    k = xg.shape[1]
    xtwx = xg.T @ (xg * omega[:, None])
    bread = np.linalg.inv(xtwx)
    beta = bread @ (xg.T @ (omega * yg))
    resid = yg - xg @ beta
    ssr = float(np.sum(omega * resid ** 2))
    df_resid = None
    if sample_design is not None:
        meat = sample_design.cov_patterns(p.index, xg * resid[:, None], w)
        cov = bread @ meat @ bread
        cov_type = DESIGN_BASED
        df_resid = float(sample_design.degf() - k + 1)
    elif cov_type == "nonrobust":
        cov = bread * ssr / (n - k)
    else:
        h = wg * np.einsum("ij,jk,ik->i", xg, bread, xg)
        power = {"HC0": 0, "HC1": 0, "HC2": 1, "HC3": 2}[cov_type]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = p.count * (wg * resid) ** 2 / (1 - h) ** power
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
    llf = float(-nobs / 2 * (np.log(2 * np.pi * ssr / nobs) + 1) + 0.5 * np.sum(np.log(w)))
    names = names or [f"x{j}" for j in range(k)]
    return LinearFit(name=name, params=pd.Series(beta, index=names), bse=pd.Series(bse, index=names), llf=llf,
                     nobs=nobs, df_model=k - 1, cov_type=cov_type, cov=cov, ssr=ssr, df_resid=df_resid, vcov=cov,
                     naive_vcov=bread * ssr / (n - k),  # classical OLS covariance
                     extra={"r2": _r2(yg, resid, omega), "patterns": int(len(yg))})


def _r2(y: np.ndarray, resid: np.ndarray, omega: np.ndarray) -> float:
    ybar = np.sum(omega * y) / omega.sum()
    return float(1 - np.sum(omega * resid ** 2) / np.sum(omega * (y - ybar) ** 2))


def rao_scott_lrt(full: "ModelFit", restricted: "ModelFit", terms, weights_sum: float, n: int,
                  ddf: float | None = None) -> dict[str, Any]:
    """Rao-Scott working likelihood-ratio test of nested survey GLMs (R: ``regTermTest(..., method = "LRT")``).

    The statistic is the difference of deviances with weights scaled to mean 1
    (``2 (llf_full − llf_restricted) · n / Σw``); under the design it is distributed as
    Σ λ_j χ²₁ with λ the eigenvalues of V0⁻¹V (V0 model-based, V design-based, over the tested
    coefficients of the full model). The p value uses the Satterthwaite approximation with
    ``ddf`` denominator df (R's ``lrt.approximation = "satterthwaite"``; exact for one df).

    Parameters
    ----------
    full, restricted : ModelFit
        Binary logits (:func:`fit_logit`) with ``sample_design`` on the same rows and weights
        (``full`` carries ``vcov`` and ``naive_vcov``); their deviance is −2 llf.
    terms : sequence of int
        Positions in ``full`` of the coefficients ``restricted`` leaves out.
    weights_sum, n : float, int
        Σw and the number of rows of the fits (to rescale the weights to mean 1).
    """
    if isinstance(full, LinearFit) or full.naive_vcov is None or full.vcov is None:
        raise ValueError("rao_scott_lrt needs two design-based logit fits (fit_logit with sample_design)")
    idx = list(terms)
    scale = n / weights_sum
    chisq = max(0.0, 2 * (full.llf - restricted.llf) * scale)
    v0 = np.asarray(full.naive_vcov)[np.ix_(idx, idx)] / scale
    v = np.asarray(full.vcov)[np.ix_(idx, idx)]
    lam = np.sort(np.real(np.linalg.eigvals(np.linalg.solve(v0, v))))[::-1]
    tr = lam.mean()
    tr2 = np.mean(lam ** 2) / tr ** 2
    ndf = len(lam) / tr2
    x = chisq / ndf / (tr * tr2)
    p = float(st.f.sf(x, ndf, ddf)) if ddf is not None and np.isfinite(ddf) else float(st.chi2.sf(x * ndf, ndf))
    return {"statistic": chisq, "chisq": chisq, "lambda": [float(v_) for v_ in lam], "df": len(idx),
            "ddf": None if ddf is None else float(ddf), "p": p,
            "test": "Rao-Scott working likelihood ratio (Satterthwaite)"}


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


def _ordered_logit_parts(theta: np.ndarray, codes: np.ndarray, x: np.ndarray):
    """Per-pattern log-likelihood, score and Hessian of the ordered logit in (β, ζ).

    logit P(Y ≤ k) = ζ_k − x'β (MASS::polr, svyolr). With a = ζ_y − x'β and b = ζ_{y−1} − x'β,
    P = F(a) − F(b); the derivatives are written out, so the bread of the sandwich is exact.
    """
    from scipy.special import expit

    m, kx = x.shape
    zeta = theta[kx:]
    n_cut = len(zeta)
    cuts = np.concatenate([[-np.inf], zeta, [np.inf]])
    eta = x @ theta[:kx]
    a, b = cuts[codes + 1] - eta, cuts[codes] - eta
    fa_, fb_ = expit(a), expit(b)
    prob = fa_ - fb_
    da, db = fa_ * (1 - fa_), fb_ * (1 - fb_)  # logistic densities (0 at ±inf)
    dda, ddb = da * (1 - 2 * fa_), db * (1 - 2 * fb_)
    ga = np.zeros((m, kx + n_cut))
    gb = np.zeros((m, kx + n_cut))
    ga[:, :kx] = -x
    gb[:, :kx] = -x
    rows = np.arange(m)
    upper = codes < n_cut
    ga[rows[upper], kx + codes[upper]] = 1.0
    lower = codes > 0
    gb[rows[lower], kx + codes[lower] - 1] = 1.0
    la, lb = da / prob, -db / prob
    laa = dda / prob - la ** 2
    lbb = -ddb / prob - lb ** 2
    lab = da * db / prob ** 2
    score = la[:, None] * ga + lb[:, None] * gb
    return np.log(prob), score, (laa, lbb, lab, ga, gb)


def _ordered_logit_hessian(parts, weight: np.ndarray) -> np.ndarray:
    laa, lbb, lab, ga, gb = parts
    h = (ga * (weight * laa)[:, None]).T @ ga + (gb * (weight * lbb)[:, None]).T @ gb
    cross = (ga * (weight * lab)[:, None]).T @ gb
    return h + cross + cross.T


def fit_ordered_logit(y: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None,
                      names: list[str] | None = None, sample_design: SurveyDesign | None = None) -> ModelFit:
    """Ordered logit of ``y`` on ``x`` (no constant), fitted on collapsed patterns.

    Parameters
    ----------
    y : array (n,)
        Ordinal answers (numbers; their order is the scale order).
    x : array (n, k)
    weights : array, optional
        Frequency weights, or the design weights with ``sample_design``.
    sample_design : SurveyDesign, optional
        Design-based (sandwich) SEs, equal to R's ``svyolr(factor(y) ~ x, design)``.

    Returns
    -------
    ModelFit
        ``extra`` holds the thresholds ζ (``logit P(Y ≤ k) = ζ_k − x'β``, the polr/svyolr
        convention) with their SEs, convergence, pseudo-R², BIC, and — for frequency-weight fits —
        statsmodels' own parameters (``all_params``, ``all_bse``, increments parametrisation).

    Raises
    ------
    RuntimeError
        When the fit does not converge.
    """
    y = np.asarray(y, dtype=float)
    x = np.atleast_2d(np.asarray(x, dtype=float).T).T
    if weights is None and sample_design is not None:
        weights = sample_design.weights
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    p = collapse((y, x), w)
    levels = np.unique(p.values[:, 0])
    endog = pd.Series(pd.Categorical(p.values[:, 0], categories=levels, ordered=True))
    names = names or [f"x{j}" for j in range(x.shape[1])]
    exog = pd.DataFrame(p.values[:, 1:], columns=names)
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
    kx = x.shape[1]
    codes = np.asarray(endog.cat.codes, dtype=np.int64)
    xp = p.values[:, 1:]
    theta = np.concatenate([np.asarray(res.params)[:kx],
                            model.transform_threshold_params(res.params.to_numpy())[1:-1]])
    # exact Newton steps on the analytic derivatives in (β, ζ): the MLE to machine precision
    for _ in range(20):
        _, score, parts = _ordered_logit_parts(theta, codes, xp)
        grad = score.T @ p.weight
        hess = _ordered_logit_hessian(parts, p.weight)
        step = np.linalg.solve(hess, grad)
        if not np.all(np.isfinite(step)) or np.any(np.diff(theta[kx:] - step[kx:]) <= 0):
            break
        theta = theta - step
        if np.max(np.abs(step)) < 1e-12:
            break
    logp, score, parts = _ordered_logit_parts(theta, codes, xp)
    llf = float(np.dot(p.weight, logp))
    information = -_ordered_logit_hessian(parts, p.weight)
    naive = np.linalg.inv(information)
    df_resid = None
    if sample_design is not None:
        meat = sample_design.cov_patterns(p.index, score, w)
        cov = naive @ meat @ naive
        cov_type = DESIGN_BASED
        df_resid = float(sample_design.degf() - len(theta) + 1)
    else:
        cov, cov_type = naive, "model-based"
    se = np.sqrt(np.diag(cov))
    total = float(p.weight.sum())
    shares = np.bincount(codes, weights=p.weight, minlength=len(levels)) / total
    llnull = float(np.sum(total * shares * np.log(np.where(shares > 0, shares, 1))))
    bic = float(-2 * llf + len(theta) * np.log(total))
    cut_names = [f"{_fmt(levels[j])}|{_fmt(levels[j + 1])}" for j in range(len(levels) - 1)]
    extra: dict[str, Any] = {
        "thresholds": [float(t) for t in theta[kx:]], "threshold_se": [float(s_) for s_ in se[kx:]],
        "threshold_names": cut_names, "levels": [float(v) for v in levels], "converged": converged,
        "pseudo_r2": 1 - llf / llnull, "llnull": llnull, "bic": bic, "patterns": int(len(p.weight)),
        "sign_convention": "logit P(Y <= k) = threshold_k - x'beta (MASS::polr, survey::svyolr)"}
    if sample_design is None:
        extra["all_params"] = pd.Series(np.asarray(res.params), index=res.params.index).to_dict()
        extra["all_bse"] = pd.Series(np.asarray(res.bse), index=res.params.index).to_dict()
    return ModelFit("ordered logit", pd.Series(theta[:kx], index=names), pd.Series(se[:kx], index=names), llf,
                    total, kx, cov_type, extra=extra, df_resid=df_resid, vcov=cov, naive_vcov=naive)


def fit_logit(y: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None,
              names: list[str] | None = None, sample_design: SurveyDesign | None = None,
              expand: Callable[[np.ndarray], np.ndarray] | None = None) -> ModelFit:
    """Binary logit on collapsed patterns; ``x`` includes the constant (or is expanded into the
    design by ``expand``, as in :func:`fit_linear`).

    Without ``sample_design`` the weights are frequency weights and the SEs model-based
    (GLM binomial, equal to the fit on duplicated rows). With it, the SEs are the design-based
    sandwich of R's ``svyglm(y ~ x, design, family = quasibinomial())``.
    """
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if weights is None and sample_design is not None:
        weights = sample_design.weights
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    p = collapse((y, x), w)
    yp, xp = p.values[:, 0], p.values[:, 1:]
    if expand is not None:
        xp = np.asarray(expand(xp), dtype=float).reshape(len(yp), -1)
    names = names or [f"x{j}" for j in range(xp.shape[1])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = GLM(yp, xp, family=families.Binomial(), freq_weights=p.weight).fit(tol=1e-12)
    beta = np.asarray(res.params)
    mu = 1 / (1 + np.exp(-(xp @ beta)))
    information = xp.T @ (xp * (p.weight * mu * (1 - mu))[:, None])
    naive = np.linalg.inv(information)
    df_resid = None
    if sample_design is not None:
        meat = sample_design.cov_patterns(p.index, xp * (yp - mu)[:, None], w)
        cov = naive @ meat @ naive
        cov_type = DESIGN_BASED
        df_resid = float(sample_design.degf() - xp.shape[1] + 1)
    else:
        cov, cov_type = naive, "model-based"
    with np.errstate(invalid="ignore"):  # a separated fit has no finite variance: NaN, not a warning
        bse = np.sqrt(np.diag(cov))
    return ModelFit("logit", pd.Series(beta, index=names), pd.Series(bse, index=names),
                    float(res.llf), float(p.weight.sum()), xp.shape[1] - 1, cov_type,
                    extra={"patterns": int(len(p.weight)), "pseudo_r2": float(1 - res.llf / res.llnull),
                           "llnull": float(res.llnull), "converged": bool(res.converged)},
                    df_resid=df_resid, vcov=cov, naive_vcov=naive)


def design(values: np.ndarray, levels: list[float] | None = None) -> tuple[np.ndarray, list[str]]:
    """Design matrices: linear ``[1, s]`` when ``levels`` is None, else one dummy per level (no constant)."""
    v = np.asarray(values, dtype=float)
    if levels is None:
        return np.column_stack([np.ones(len(v)), v]), ["const", "satisfaction"]
    return (v[:, None] == np.asarray(levels, dtype=float)).astype(float), [f"sat={_fmt(lv)}" for lv in levels]


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)

