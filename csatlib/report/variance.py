"""Which standard errors, tests and effective bases the report names: read from what was computed.

Each sentence here is chosen by what the analysis recorded, never assumed: a model's
``cov_type`` (``HC3``, ``model-based``, ``design-based``, ...), a shape test's ``test``, the
mediation's ``variance``, the estimates' design degrees of freedom and the weights summary. A
weighted or designed survey therefore reads "design-based (linearisation) standard errors" and
"Wald F test", a simple random sample "HC3" and "likelihood-ratio test", and an effective base is
called Kish's only when it is Kish's (a weights-only design), the design's n / deff otherwise.

>>> from csatlib.results import ModelSummary
>>> import pandas as pd
>>> ols = ModelSummary("OLS (HC3)", "HC3", 400, None, 1, pd.DataFrame())
>>> model_variance(ols, "OLS")[:56]
'OLS: heteroskedasticity-robust (HC3) standard errors, be'
>>> test_name({"test": "design-based Wald F"}), test_name({"test": "likelihood ratio χ²"})
('design-based Wald F test', 'likelihood-ratio test')
"""
from __future__ import annotations

import math
import re
from typing import Any

from ..results import LoyaltyModel, ModelSummary, Results
from .wording import format_p

__all__ = ["SIMPLE", "WEIGHTS", "COMPLEX", "sample_kind", "design_reason", "design_df", "model_variance",
           "model_name", "test_name", "shape_test", "curve_band", "loyalty_variance", "effective_n",
           "mediation_variance", "estimate_errors", "bootstrap_caveat", "loyalty_methods", "gap_methods",
           "design_methods", "mediation_rows"]

SIMPLE, WEIGHTS, COMPLEX = "simple", "weights", "complex"
DESIGN_BASED = "design-based"


def sample_kind(results: Results) -> str:
    """How the run's sample was analysed: ``"simple"``, ``"weights"`` (weights only) or ``"complex"``.

    Complex means strata, clusters (PSUs), an fpc or raking: the weights summary names them, and
    the estimates then carry the design's degrees of freedom (``Estimate.df``).
    """
    w = results.weighting
    if w is not None:
        d = w.design or {}
        if any(d.get(k) for k in ("strata", "psu", "fpc")) or w.raking or w.margins:
            return COMPLEX
    if any(e.df is not None for e in results.estimates):
        return COMPLEX
    if w is not None or results.weighted:
        return WEIGHTS
    return SIMPLE


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def design_parts(results: Results) -> list[str]:
    """What the run's design consists of, e.g. ``["weights", "strata", "clusters"]`` (empty without one)."""
    w = results.weighting
    d = (w.design or {}) if w is not None else {}
    parts = ["weights"] if results.weighted or (w is not None and (w.base or w.raking or w.margins)) else []
    parts += [name for key, name in (("strata", "strata"), ("psu", "clusters"), ("fpc", "finite population "
                                                                                "correction")) if d.get(key)]
    return parts


def design_reason(results: Results) -> str:
    """Why standard errors are design-based, e.g. ``"the survey is weighted and sampled in strata"``."""
    w = results.weighting
    d = (w.design or {}) if w is not None else {}
    how = []
    if w is not None and (w.raking or w.margins):
        how.append("raked to population margins")
    elif results.weighted or (w is not None and w.base):
        how.append("weighted")
    sampled = [name for key, name in (("strata", "strata"), ("psu", "clusters")) if d.get(key)]
    if sampled:
        how.append("sampled in " + " and ".join(sampled))
    if d.get("fpc"):
        how.append("drawn from a finite population (fpc)")
    return "the survey is " + _join(how or ["weighted"])


def design_df(results: Results) -> float | None:
    """The design's degrees of freedom (PSUs − strata) when the estimates use them, else None."""
    d = (results.weighting.design or {}) if results.weighting is not None else {}
    if d.get("df") is not None and sample_kind(results) == COMPLEX:
        return float(d["df"])
    return next((float(e.df) for e in results.estimates if e.df is not None), None)


def _r_call(model: ModelSummary) -> str:
    name = model.model.lower()
    if "ordered" in name:
        return "svyolr"
    if "logit" in name:
        return "svyglm with a quasibinomial family"
    return "svyglm"


def model_variance(model: ModelSummary, what: str, results: Results | None = None) -> str:
    """One sentence: which standard errors ``model`` shows and why, from its recorded ``cov_type``.

    Parameters
    ----------
    model : ModelSummary
        A fitted model as results.json keeps it.
    what : str
        How the sentence names the model (``"Ordered logit"``).
    results : Results, optional
        Names the design behind design-based errors (weights, strata, clusters); without it the
        reason is worded generally.

    Returns
    -------
    str
    """
    cov = str(model.cov_type)
    if cov == DESIGN_BASED:
        why = design_reason(results) if results is not None else "the survey is weighted or has a sample design"
        df = model.extra.get("df_resid")
        on_df = f"; t tests on {df:g} design degrees of freedom" if isinstance(df, (int, float)) and math.isfinite(
            df) else ""
        return (f"{what}: standard errors are design-based (linearisation, as R's {_r_call(model)}), because "
                f"{why}, where model-based errors would be too small{on_df}.")
    if cov.upper().startswith("HC"):
        return (f"{what}: heteroskedasticity-robust ({cov}) standard errors, because the spread of the answers "
                f"differs between satisfaction levels; the survey is unweighted, so every respondent counts once.")
    if cov == "model-based":
        return (f"{what}: maximum-likelihood standard errors (inverse information), because the survey is "
                f"unweighted and every respondent counts once.")
    if cov == "nonrobust":
        return f"{what}: classical least-squares (model-based) standard errors."
    said = str(model.extra.get("variance") or f"{cov} standard errors")
    return f"{what}: {said}."


def model_name(model: ModelSummary) -> str:
    """The model's name without the variance it records: ``"OLS (HC3)"`` → ``"OLS"``."""
    name = re.sub(r"\s*\([^()]*\)$", "", str(model.model)).strip() or str(model.model)
    return name[:1].upper() + name[1:]


def test_name(test: dict[str, Any]) -> str:
    """The short name of a recorded model comparison (``design-based Wald F test``, ``likelihood-ratio test``)."""
    kind = str(test.get("test") or "")
    if "Rao-Scott" in kind:
        return "Rao-Scott working likelihood-ratio test"
    if "Wald F" in kind:
        return "design-based Wald F test"
    if "Wald" in kind:
        return "Wald χ² test"
    if "likelihood ratio" in kind:
        return "likelihood-ratio test"
    return kind or "test"


def shape_test(test: dict[str, Any], results: Results | None = None) -> str:
    """One sentence: the loyalty curve's shape test as recorded (its kind, statistic, df, p and why)."""
    if not isinstance(test.get("statistic"), (int, float)) or not isinstance(test.get("p"), (int, float)):
        return ""
    kind, stat, df, p = str(test.get("test") or ""), float(test["statistic"]), test.get("df"), format_p(test["p"])
    model = f" ({test['model']})" if test.get("model") else ""
    if "Wald F" in kind and test.get("ddf") is not None:
        return (f"Shape test{model}: a design-based Wald F test of the free curve's extra coefficients (as R's "
                f"regTermTest), F = {stat:.2f} on ({df}, {float(test['ddf']):g}) degrees of freedom, {p}; a Wald "
                f"test on the design-based covariance, because "
                f"{design_reason(results) if results is not None else 'the survey is weighted'}, so a comparison of "
                f"likelihoods has no valid χ² reference.")
    if "Wald" in kind:
        return (f"Shape test{model}: a Wald χ² test of the free curve's extra coefficients, χ² = {stat:.1f}, "
                f"df = {df}, {p}.")
    if "likelihood ratio" in kind:
        return (f"Shape test{model}: a likelihood-ratio test, LR χ² = {stat:.1f}, df = {df}, {p}; valid because "
                f"the survey is unweighted, so the fit is a true likelihood.")
    return f"Shape test{model}: {kind or 'test'} = {stat:.2f}, df = {df}, {p}."


def curve_band(m: LoyaltyModel) -> str:
    """One sentence: what the loyalty curve's 95% band is (fitted with the same design as the models)."""
    if m.linear.cov_type == DESIGN_BASED:
        return ("The curve's 95% band is design-based too: each satisfaction point is a domain of the whole "
                "sample.")
    if m.kind == "binary":
        return "The curve's 95% band is the Wilson interval of each satisfaction point's share."
    return f"The curve's 95% band uses {m.linear.cov_type} standard errors of each satisfaction point's mean."


def loyalty_variance(m: LoyaltyModel, results: Results | None = None) -> list[str]:
    """One sentence per model of a loyalty outcome (its standard errors and why), the band and the shape test."""
    out = [model_variance(m.linear, model_name(m.linear), results)]
    if m.logit is not None:
        out.append(model_variance(m.logit, model_name(m.logit), results))
    out += [curve_band(m), shape_test(m.nonlinearity, results)]
    return [s for s in out if s]


def effective_n(results: Results) -> str:
    """What an effective base is in this run: Kish's (Σw)² / Σw², the design's n / deff, or just n."""
    kind = sample_kind(results)
    if kind == COMPLEX:
        return ("Effective bases are each estimate's design effective sample size n / deff, deff being the design "
                "effect against simple random sampling (R: svymean(..., deff = \"replace\")), so they reflect the "
                f"{_join(design_parts(results) or ['sample design'])}.")
    if kind == WEIGHTS:
        return "Effective bases are Kish's effective sample size (Σw)² / Σw² of the weights."
    return "Without weights the effective base is the number of respondents."


def mediation_rows(m: dict[str, Any], clean_rows: int | None = None) -> str:
    """The rows the mediation was fitted on, in words (a weighted resample says it was drawn with replacement)."""
    text = str(m.get("rows") or "")
    hit = re.match(r"a seeded subsample of ([\d,]+) of ([\d,]+) rows(.*)", text)
    if hit:
        drawn, total, rest = hit.group(1), hit.group(2), hit.group(3)
        if drawn == total and "design weight" in rest:
            return (f"{drawn} rows drawn with replacement from the {total} complete rows, with probability "
                    f"proportional to the design weight (a seeded weighted resample)")
        if drawn == total:
            return f"all {total} complete rows"
        return f"a seeded subsample of {drawn} of the {total} complete rows{rest}"
    return text


def mediation_variance(mediation: dict[str, Any], results: Results | None = None) -> str:
    """One sentence: how the mediation's intervals were computed (its recorded ``variance``)."""
    said = mediation.get("variance")
    if said:
        return str(said)[:1].upper() + str(said)[1:].rstrip(".") + "."
    kind = sample_kind(results) if results is not None else SIMPLE
    text = "Intervals by parametric simulation from the model-based covariance of both regressions"
    if kind != SIMPLE:
        text += ("; they are not design-based (the simulation ignores " +
                 ("the strata and clusters" if kind == COMPLEX else "the weights' effect on the variance") + ")")
    return text + "."


def estimate_errors(results: Results, what: str = "Means, shares and NPS") -> str:
    """One sentence: the standard errors behind ``what`` (estimates of means and shares) in this run, and why."""
    kind = sample_kind(results)
    if kind == SIMPLE:
        return (f"{what} have textbook standard errors (t intervals on n − 1 degrees of freedom), because the "
                f"survey is unweighted and every respondent counts once.")
    df = design_df(results)
    on = ("t intervals on n − 1 degrees of freedom" if kind != COMPLEX or df is None
          else f"t intervals on the design's {df:g} degrees of freedom (PSUs − strata)")
    return (f"{what} have design-based (Taylor linearisation) standard errors, as R's survey::svymean, because "
            f"{design_reason(results)}; {on}.")


def bootstrap_caveat(results: Results) -> str:
    """For bootstrap intervals: a caveat when the sample has clusters or strata the bootstrap ignores."""
    d = (results.weighting.design or {}) if results.weighting is not None else {}
    if d.get("psu"):
        return (" The bootstrap resamples respondents, not the design's PSUs (clusters), so these intervals are "
                "narrower than design-based ones.")
    if d.get("strata"):
        return " The bootstrap resamples respondents across the whole sample, not within each stratum."
    return ""


def loyalty_methods(results: Results) -> str:
    """The methods appendix's tail for the loyalty models: the shape tests and each kind of model's errors once."""
    said = [model_variance(x, model_name(x), results) for m in results.loyalty for x in (m.linear, m.logit) if x]
    tests = [test_name(m.nonlinearity) for m in results.loyalty if m.nonlinearity.get("test")]
    return (f", by a {_join(list(dict.fromkeys(tests)))}. " if tests else ". ") + " ".join(dict.fromkeys(said))


def gap_methods(results: Results) -> str:
    """The methods appendix's sentences on the disconfirmation regression's errors and the mediation's intervals."""
    g = results.gap
    said = [model_variance(g.disconfirmation, "Disconfirmation regression", results)] if g and g.disconfirmation else []
    if g and g.mediation:
        text = mediation_variance(g.mediation, results)
        said.append(f"Mediation: {text[:1].lower()}{text[1:]}")
    return " ".join(said)


def design_methods(results: Results) -> dict[str, str]:
    """The methods appendix's phrases that depend on the sample design, by what the estimates used.

    Keys: ``score`` (the t interval's df), ``nps`` (its interval), ``changes`` (df of a change's
    Welch test), ``segments`` (the segment-vs-rest test) and ``weighting`` (errors and bases).
    """
    kind, df = sample_kind(results), design_df(results)
    on_df = f"on the design's {df:g} degrees of freedom" if kind == COMPLEX and df is not None else ""
    return {"score": on_df or "df = n − 1", "nps": f"t interval {on_df}" if on_df else "normal interval",
            "changes": " (each wave's design degrees of freedom, Satterthwaite)" if on_df else "",
            "segments": ("by a design-based t test of the difference (segment and rest share PSUs, so they are not "
                         "independent samples)" if kind == COMPLEX else "with the tests above"),
            "weighting": ("The spec has no weights and no sample design: every respondent counts once."
                          if kind == SIMPLE else f"{estimate_errors(results)} {effective_n(results)}")}
