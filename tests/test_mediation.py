"""stats/mediation.py: the mediator model draws exactly what statsmodels' own OLS draws."""
from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from statsmodels.stats.mediation import Mediation

from csatlib.stats.mediation import mediator_ols


def test_mediation_with_the_mediator_model_equals_statsmodels_own():
    """The mediator model draws its predictive values without freezing a scipy distribution per
    replicate; the seeded simulation gives exactly statsmodels' own numbers."""
    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=n) + 1
    m = 0.5 * x + rng.normal(size=n)
    y = 0.3 * x + 0.6 * m + rng.normal(size=n)
    design = np.column_stack([np.ones(n), x])
    outcome = sm.OLS(y, np.column_stack([design, m]))

    def summary(mediator):
        return Mediation(outcome, mediator, (1, 1), 2).fit(method="parametric", n_rep=50,
                                                           rng=np.random.default_rng(7)).summary()

    ours = summary(mediator_ols(m, design))
    assert ours.equals(summary(sm.OLS(m, design)))
    assert ours.loc["ACME (average)", "Estimate"] > 0.1  # a real indirect effect was simulated
    assert isinstance(mediator_ols(m, design), sm.OLS)
