"""csatlib: customer-satisfaction survey research, from a YAML spec to a reviewed HTML report.

The public functions are re-exported here flat (``csatlib.kpis``, ``csatlib.read_wave``...) and
imported lazily, so ``import csatlib`` and ``csat --help`` stay fast: Great Expectations,
statsmodels and matplotlib load only when a stage that needs them runs.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "spec": ["Spec", "Item", "Dimension", "Scale", "Quality", "load_spec", "parse_spec"],
    "errors": ["CsatError", "SpecError", "InputError", "ValidationBlocked", "NotebookFailed", "LockTimeout"],
    "ingest.load": ["Wave", "read_wave", "read_table"],
    "ingest.privacy": ["redact_text", "redact_series"],
    "sample": ["generate_wave", "write_sample", "sample_files"],
    "validation.suite": ["build_suite", "ensure_suite", "suite_path"],
    "validation.check": ["validate_wave", "ValidationResult"],
    "stats.estimators": ["weighted_mean", "kish_n_eff", "wilson_interval", "newcombe_interval", "nps_scores",
                         "holm", "welch_test"],
    "stats.collapse": ["collapse", "Patterns"],
    "stats.models": ["fit_linear", "fit_ordered_logit", "fit_logit", "lr_test", "wald_test", "rao_scott_lrt"],
    "stats.survey": ["SurveyDesign", "DesignError"],
    "stats.weighting": ["rake", "trim"],
    "sampling": ["survey_design", "apply_weighting", "frame_weights"],
    "analysis.kpis": ["kpis", "segment_kpis"],
    "analysis.change": ["compare_waves"],
    "analysis.loyalty": ["loyalty_models", "LoyaltyModel"],
    "analysis.gap": ["gap_analysis", "gap_mediation", "GapAnalysis"],
    "analysis.drivers": ["key_drivers", "DriverAnalysis", "DriversSkipped", "ipa_quadrants"],
    "analysis.index": ["weighted_index", "index_model", "satisfaction_index", "WeightedIndex", "IndexModel",
                       "IndexAnalysis"],
    "stats.pls": ["PathModel", "fit_pls", "bootstrap_pls", "PLSError"],
    "results": ["Estimate", "Results", "load_results", "WeightingSummary"],
    "report.wording": ["describe_change"],
    "run.stages": ["analyse", "analyse_file", "validate_file"],
    "run.previous": ["load_previous", "PreviousWave", "collect_trend"],
    "run.batch": ["run_batch"],
    "analysis.banner": ["banner", "BannerTables"],
    # questionnaire roles and answer codes
    "ingest.recode": ["read_answers", "answer_view", "band_labels"],
    "analysis.answers": ["nonsubstantive_answers"],
    "analysis.composites": ["cronbach_alpha", "composite_reliability"],
    "analysis.multiple": ["multiple_response_shares"],
    "analysis.stated": ["stated_vs_derived"],
    "analysis.themes": ["theme_analysis", "code_comments", "tokenize", "discover_themes"],  # discover_themes re-exported from analysis.topics
    "analysis.sentiment": ["sentiment_scores", "sentiment_agreement"],
}
_EXPORTS["spec"] += ["Codes", "Answer", "ScreenOut", "MultipleResponse", "answer_key"]
_EXPORTS["analysis.kpis"] += ["dimension_kpis", "segment_dimension_kpis"]
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'csatlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
