"""The mediator model of a simulation-based mediation analysis, drawn as statsmodels draws it.

statsmodels' ``Mediation`` simulates the mediator from ``model.get_distribution(...)``: for OLS a
frozen ``scipy.stats.norm(loc, sd)``, built twice per replicate. Freezing a scipy distribution
formats its docstring (about 0.9 ms), which is most of a 200-replicate mediation's time.
:func:`mediator_ols` gives an OLS model whose predictive distribution draws the very same numbers
(``scipy.stats.norm.rvs(loc, sd, size, random_state)``) without freezing one: the mediation's
estimates are unchanged and it runs about 3x faster.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mediator_ols"]


class _NormalDraws:
    """The normal predictive distribution ``N(loc, sd)`` with only what Mediation calls: ``rvs``."""

    def __init__(self, loc: np.ndarray, sd: float):
        self.loc, self.sd = loc, sd

    def rvs(self, size=None, random_state=None):
        from scipy import stats

        return stats.norm.rvs(loc=self.loc, scale=self.sd, size=size, random_state=random_state)


def mediator_ols(endog: np.ndarray, exog: np.ndarray):
    """``statsmodels``' ``OLS(endog, exog)`` whose ``get_distribution`` draws the numbers OLS's own
    does, without freezing a scipy distribution per draw.

    Parameters
    ----------
    endog, exog : array
        The mediator and its design matrix (with the constant), as for ``OLS``.

    Returns
    -------
    statsmodels.regression.linear_model.OLS
        An OLS subclass instance; fits, summaries and everything else are OLS's own.
    """
    from statsmodels.regression.linear_model import OLS

    class MediatorOLS(OLS):
        def get_distribution(self, params, scale, exog=None, dist_class=None):
            if dist_class is not None:
                return super().get_distribution(params, scale, exog, dist_class)
            return _NormalDraws(self.predict(params, exog), np.sqrt(scale))

    return MediatorOLS(endog, exog)
