"""One run, stage by stage: load → validate → analyse → results.json → report.

These functions are what the CLI calls and what a researcher calls from a notebook
(``csatlib.analyse_file``). Each stage is a plain function of its module; this module only
sequences them, times them, and keeps the row accounting.
"""
from __future__ import annotations

import importlib
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Callable

import pandas as pd


from .parallel import ForkedCall
from .previous import PreviousWave, collect_trend, load_previous
from ..analysis.change import compare_waves
from ..analysis.verbatims import verbatim_sample
from ..analysis.drivers import DriversSkipped, key_drivers
from ..analysis.gap import gap_analysis, gap_mediation
from ..analysis.index import satisfaction_index
from ..analysis.loyalty import loyalty_models
from ..analysis.preconditions import plan_analyses
from ..validation.suite import build_suite, ensure_suite
from ..ingest.load import Wave, read_wave
from ..analysis.kpis import kpis, segment_kpis
from ..analysis.kpis import dimension_kpis, segment_dimension_kpis
from ..analysis.answers import nonsubstantive_answers
from ..analysis.composites import composite_reliability
from ..analysis.multiple import multiple_response_shares
from ..analysis.stated import stated_vs_derived
from ..concurrency import import_in_background
from ..errors import InputError, ValidationBlocked
from ..sampling import DesignError, Domain, domain_weighting, weigh_sample
from ..results import Provenance, QualitySummary, Results
from ..spec import Spec, load_spec
from ..validation.check import ValidationResult, validate_wave

__all__ = ["analyse", "analyse_validated", "analyse_file", "validate_file", "Timings", "stack_versions",
           "quality_summary", "provenance_of"]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Timings:
    """Wall time per stage in seconds (the benchmark reads these)."""

    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - t0


def validate_file(data: str | Path, spec: Spec, wave: str, suite_dir: str | Path | None | bool = None,
                  progress: Progress = _quiet, timings: Timings | None = None,
                  loaded: Wave | None = None) -> tuple[Wave, ValidationResult]:
    """Load and validate one wave file (``loaded``: the file already read, so it is not read twice).

    ``suite_dir``: the folder of stored suites; None = ``expectations/`` beside the spec (created
    or rebuilt there when needed); False = a suite built in memory, nothing written (what a
    notebook session wants).
    """
    timings = timings or Timings()
    gx_import = import_in_background("great_expectations")  # 2-3 s of imports, overlapped with the read
    with timings.stage("load"):
        loaded = loaded if loaded is not None else read_wave(data, spec)
    if gx_import is not None:
        gx_import.join()  # GX imports itself circularly: never import it from two threads at once
    progress(f"loaded {loaded.n_rows} rows from {Path(data).name}"
             + (f" (dropped PII columns: {', '.join(loaded.pii_dropped)})" if loaded.pii_dropped else ""))
    for note in loaded.notes:
        progress(f"{Path(data).name}: {note}")
    with timings.stage("validate"):
        if suite_dir is False:
            suite, suite_path = build_suite(spec), None
        else:
            update = ensure_suite(spec, None if suite_dir is True else suite_dir)
            if update.action != "unchanged":
                progress(update.describe())
            suite, suite_path = update.suite, update.path.name
        result = validate_wave(loaded, wave, suite)
        result.suite_path = suite_path
    progress(f"validated: {result.rows_read} read, {result.rows_clean} clean, "
             f"{result.rows_quarantined} quarantined"
             + (f", {result.rows_screened_out} screened out" if result.rows_screened_out else "")
             + (" — BLOCKED" if result.blocked else ""))
    return loaded, result


def stack_versions() -> dict[str, str]:
    """Versions of Python and the libraries whose numbers the report relies on."""
    out = {"python": platform.python_version()}
    for pkg in ("csatlib", "pandas", "numpy", "scipy", "statsmodels", "great_expectations", "papermill",
                "nbconvert", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _skipped_by_spec(spec: Spec) -> dict[str, str]:
    """Analyses the spec leaves out, by analysis, in the words the report uses to say so."""
    out = {}
    if spec.nps is None:
        out["nps"] = "NPS: the spec has no nps item."
    if not spec.loyalty:
        out["loyalty_scores"] = "Loyalty scores: the spec lists no loyalty items."
    if not spec.segments:
        out["segments"] = "Segments: the spec defines no segment columns."
    if not spec.text:
        out["verbatims"] = "Verbatim comments: the spec names no free-text column."
    if not spec.weight and spec.weighting is None:
        out["weighting"] = "Weighting: the spec has no weight column, so every respondent counts once."
    if spec.satisfaction.binary:
        why = ("Overall satisfaction is a binary answer: it is reported as the share of positive answers "
               "(satisfaction.rate); a mean score would only repeat that share")
        out["satisfaction.score"] = why + "."
        out["satisfaction.index"] = why + ", and so would a 0-100 index."
    return out


def quality_summary(validation: ValidationResult, spec: Spec) -> QualitySummary:
    """The data-quality record a report shows, from a validation result."""
    return QualitySummary(
        blocking_failures=list(validation.blocking),
        reasons=validation.reason_counts().to_dict(orient="records"),
        failed_expectations=[o.to_dict() for o in validation.outcomes if not o.success],
        expectations_checked=len(validation.outcomes),
        thresholds={"min_base": spec.quality.min_base, "max_quarantine_share": spec.quality.max_quarantine_share,
                    "max_straightline_share": spec.quality.max_straightline_share,
                    "min_duration_s": spec.quality.min_duration_s,
                    "straightline": spec.quality.straightline, "min_items": spec.quality.min_items},
        flagged=validation.flagged())


def provenance_of(loaded: Wave, validation: ValidationResult | None = None,
                  previous: PreviousWave | None = None) -> Provenance:
    """Where the numbers come from (file names only, so results.json does not depend on the cwd)."""
    spec = loaded.spec
    return Provenance(
        input={"file": Path(loaded.path).name, "sha256": loaded.sha256, "format": loaded.file_format,
               "encoding": loaded.encoding, "pii_dropped": list(loaded.pii_dropped), **loaded.reading()},
        spec=spec.to_dict(), spec_file=Path(spec.source).name if spec.source else None,
        suite=validation.suite_name if validation is not None else spec.name,
        previous=Path(previous.source).name if previous else None, versions=stack_versions())


def analyse(clean: pd.DataFrame, spec: Spec, *, wave: str, rows: dict[str, int], provenance: Provenance,
            quality: QualitySummary | None = None, previous: PreviousWave | None = None,
            segment: dict[str, str] | None = None, trend_dir: str | Path | None = None,
            timings: Timings | None = None, domain: Domain | None = None) -> Results:
    """Every analysis of a validated wave, gathered into one :class:`~csatlib.results.Results`.

    This is the one door into the analyses: ``csat run``, ``csat batch`` (per segment) and
    :func:`analyse_file` all come through here.

    Parameters
    ----------
    clean : DataFrame
        The clean rows (with the loader's derived columns).
    spec : Spec
    wave : str
    rows : dict
        Row accounting ``{"read", "clean", "quarantined", "screened_out"}``: read = clean +
        quarantined + screened out.
    provenance : Provenance
        Input file, spec, suite, versions (:func:`provenance_of`).
    quality : QualitySummary, optional
        The data-quality record (:func:`quality_summary`).
    previous : PreviousWave, optional
        For ``change.<id>`` estimates; in a batch, the earlier wave's estimates of this segment.
    segment : dict, optional
        ``{column: value}`` when the rows are one segment of a wave (``csat batch``).
    trend_dir : path, optional
        The reports folder; earlier waves' results.json found there form the trend.
    domain : Domain, optional
        The rows are a domain (a batch segment) of a wave weighed as a whole
        (:func:`csatlib.sampling.weigh_sample`): they carry its computed weights, and every
        design-based SE is a domain SE of its design. Default: ``clean`` is the whole sample.
    """
    from threadpoolctl import threadpool_limits

    # one BLAS thread, in one process or two: the numbers do not depend on where they are computed
    # (a sum's order follows the thread count) and two processes do not oversubscribe the cores
    with threadpool_limits(limits=1):
        return _analyse(clean, spec, wave=wave, rows=rows, provenance=provenance, quality=quality,
                        previous=previous, segment=segment, trend_dir=trend_dir, timings=timings or Timings(),
                        domain=domain)


def _analyse(clean: pd.DataFrame, spec: Spec, *, wave, rows, provenance, quality, previous, segment, trend_dir,
             timings: Timings, domain) -> Results:
    """:func:`analyse`, with the BLAS limited to one thread."""
    with timings.stage("weighting"):
        # raked weights from the clean rows (and the design checked) once, before any analysis
        try:
            if domain is None:
                sample = weigh_sample(clean, spec)
                clean, weighting, design = sample.frame, sample.weighting, sample.design
            else:
                weighting, design = domain_weighting(clean, spec, domain), domain.design
        except DesignError as exc:
            raise InputError(provenance.input.get("file") or "data", str(exc)) from None
    skipped = _skipped_by_spec(spec)
    if segment:
        (col, value), = segment.items()
        skipped.pop("segments", None)
        skipped["scope"] = (f"This report covers only the respondents with {col} = {value}"
                            + ("; the spec defines no other segment column." if not spec.segments else ".")
                            + (" Its weights and design are the whole wave's: its standard errors are domain "
                               "estimates of the whole wave's design." if domain and design else ""))
    plan = plan_analyses(clean, spec)  # preconditions: what the answers allow each model, and why not
    skipped.update(plan.skipped)
    # the loyalty models and the key drivers run in a second process meanwhile (csatlib.run.parallel),
    # which inherits the model libraries imported here once
    for module in _MODEL_LIBRARIES:
        importlib.import_module(module)
    models = ForkedCall(_loyalty_and_drivers, clean, plan, design, drivers="drivers" not in skipped,
                        gap_drivers="drivers_gap" not in skipped)
    try:
        return _analyse_with(models, clean, spec, wave=wave, rows=rows, provenance=provenance, quality=quality,
                             previous=previous, segment=segment, trend_dir=trend_dir, timings=timings,
                             design=design, weighting=weighting, skipped=skipped, plan=plan)
    finally:
        models.cancel()


def _analyse_with(models: "ForkedCall", clean: pd.DataFrame, spec: Spec, *, wave, rows, provenance, quality, previous,
                  segment, trend_dir, timings: Timings, design, weighting, skipped: dict[str, str], plan) -> Results:
    """The body of :func:`analyse` once the rows are weighed and ``models`` started."""
    with timings.stage("metrics"):
        estimates = kpis(clean, spec, sample_design=design)
        estimates += segment_kpis(clean, spec, sample_design=design)
        if previous is not None:
            estimates += compare_waves(estimates, previous.estimates)
        # attribute scores: their own Holm families (segments, wave change), apart from the headline KPIs
        dimension_scores = dimension_kpis(clean, spec, sample_design=design)
        estimates += dimension_scores + segment_dimension_kpis(clean, spec, sample_design=design)
        if previous is not None and dimension_scores:
            estimates += compare_waves(dimension_scores, previous.estimates)
    verbatims = verbatim_sample(clean, spec)
    # the gap mediation ran in the second process; it joins the gap analysis below
    outcomes = {"gap": _outcome(gap_analysis, clean, plan.gap, sample_design=design, mediation=False),
                **models.result()}
    for name, (_, _, seconds) in outcomes.items():  # the second process's stages count their own time
        stage = {"drivers_gap": "drivers", "mediation": "gap"}.get(name, name)
        timings.stages[stage] = timings.stages.get(stage, 0.0) + seconds
    # the reasons for skipping are recorded in the order the report lists the analyses
    loyalty = _degenerate_safe(skipped, "loyalty", _replay, outcomes["loyalty"]) or []
    if not loyalty:
        _fold(skipped, "loyalty", "Satisfaction → loyalty: the spec has neither loyalty items nor an NPS item."
              if not (spec.loyalty or spec.nps) else
              "Satisfaction → loyalty: too few answers with both satisfaction and loyalty.")
    gaps = _degenerate_safe(skipped, "gap", _replay, outcomes["gap"])
    if gaps is not None:
        gaps = _degenerate_safe(skipped, "gap", _with_mediation, gaps, outcomes["mediation"])
    if gaps is None:
        _fold(skipped, "gap", "Expectation gaps: no dimension in the spec has an expectation item.")
    else:
        estimates += gaps.estimates()
    gap_drivers = None
    drivers = _degenerate_safe(skipped, "drivers", _replay, outcomes["drivers"]) if "drivers" in outcomes else None
    if drivers is None:
        _fold(skipped, "drivers", "Key drivers: the spec lists fewer than two dimensions (or too few complete "
                                  "answers).")
        for key in [k for k in skipped if k == "drivers_gap" or k.startswith("drivers_gap.")]:
            skipped.pop(key)
    else:
        estimates += drivers.estimates()
        if "drivers_gap" in outcomes:
            gap_drivers = _degenerate_safe(skipped, "drivers_gap", _replay, outcomes["drivers_gap"])
    with timings.stage("index"):  # weighted CSI and the PLS index model, when the spec asks for them
        index, index_skipped = satisfaction_index(clean, spec, previous.estimates if previous else None,
                                                  sample_design=design)
        skipped.update(index_skipped)
        if index is not None:
            estimates += index.estimates()
            index.trend = collect_trend(trend_dir, spec.name, {"wave": wave, "estimates": estimates},
                                        ids=("index.csi",), previous=previous)
    with timings.stage("questionnaire"):
        importance = stated_vs_derived(clean, spec, drivers)
        if importance is None and sum(1 for d in spec.dimensions if d.importance) >= 1:
            skipped["importance"] = ("Stated vs derived importance: needs at least three dimensions with both a "
                                     "stated importance item and a key-driver result.")
        questionnaire = dict(nonsubstantive=nonsubstantive_answers(clean, spec),
                             composites=composite_reliability(clean, spec),
                             multiple_response=multiple_response_shares(clean, spec), importance=importance)
    themes = None
    if spec.themes:  # comment themes and sentiment (jieba and scikit-learn load only here)
        from ..analysis.themes import theme_analysis
        with timings.stage("themes"):
            themes = theme_analysis(clean, spec)
            estimates += themes.estimates()
    provenance = replace(provenance, segment=segment)
    return Results(
        survey=spec.name, wave=wave, previous_wave=previous.wave if previous else None,
        weighted=spec.weight is not None or spec.weighting is not None, rows=dict(rows), estimates=estimates,
        loyalty=loyalty, gap=gaps, drivers=drivers, drivers_gap=gap_drivers,
        quality=quality or QualitySummary(), verbatims=verbatims,
        trend=collect_trend(trend_dir, spec.name, {"wave": wave, "estimates": estimates}, previous=previous),
        provenance=provenance, skipped=skipped, index=index, weighting=weighting, themes=themes,
        **questionnaire)


# the model modules the analyses use (not statsmodels.api, which imports every model: 0.2 s more)
_MODEL_LIBRARIES = ("scipy.stats", "statsmodels.regression.linear_model", "statsmodels.genmod.generalized_linear_model",
                    "statsmodels.miscmodels.ordinal_model", "statsmodels.stats.mediation",
                    "statsmodels.stats.proportion", "statsmodels.tools.numdiff")


def _loyalty_and_drivers(clean: pd.DataFrame, plan, design, *, drivers: bool, gap_drivers: bool) -> dict[str, tuple]:
    """The gap mediation, the loyalty models, the key drivers and (when the drivers exist) the gap
    drivers, each as ``(outcome, value or exception, seconds)``; :func:`_replay` gives each back as
    its own call would."""
    outcomes = {"mediation": _outcome(gap_mediation, clean, plan.gap, sample_design=design),
                "loyalty": _outcome(loyalty_models, clean, plan.loyalty, sample_design=design)}
    if drivers:
        outcomes["drivers"] = _outcome(key_drivers, clean, plan.drivers, "perception")
        if gap_drivers and outcomes["drivers"][0] == "value" and outcomes["drivers"][1] is not None:
            outcomes["drivers_gap"] = _outcome(key_drivers, clean, plan.drivers_gap, "gap")
    return outcomes


def _outcome(fn, *args, **kwargs) -> tuple:
    """``fn(*args, **kwargs)`` as ``("value", value, seconds)`` or ``("error", exception, seconds)``."""
    t0 = time.perf_counter()
    try:
        return "value", fn(*args, **kwargs), time.perf_counter() - t0
    except Exception as exc:
        return "error", exc, time.perf_counter() - t0


def _with_mediation(gaps, mediation: tuple):
    """The gap analysis with its mediation, computed apart (or its exception raised again)."""
    return replace(gaps, mediation=_replay(mediation))


def _replay(outcome: tuple):
    """The value of a computed outcome, or its exception raised again."""
    kind, value, _ = outcome
    if kind == "error":
        raise value
    return value


_TITLES = {"loyalty": "Satisfaction → loyalty", "gap": "Expectation gaps", "drivers": "Key drivers",
           "drivers_gap": "Key drivers among the expectation gaps"}


def _fold(skipped: dict[str, str], analysis: str, default: str) -> None:
    """An analysis skipped as a whole gets one entry: its own sentence, then its items' sentences
    (``<analysis>.<item>``), else ``default``."""
    parts = [skipped.pop(analysis, None)] + [skipped.pop(k) for k in list(skipped) if k.startswith(f"{analysis}.")]
    skipped[analysis] = " ".join(p for p in parts if p) or default


def _degenerate_safe(skipped: dict[str, str], analysis: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; a numerical failure the preconditions did not foresee (a singular matrix in a
    model on degenerate answers) skips the analysis with its reason instead of ending the run."""
    import numpy as np

    try:
        return fn(*args, **kwargs)
    except DriversSkipped as exc:  # the driver analysis says why it cannot run
        if not (analysis == "drivers_gap" and exc.reason == "dimensions"):  # no gap dimensions: nothing to say
            skipped[analysis] = str(exc)
        return None
    except np.linalg.LinAlgError as exc:
        skipped[analysis] = (f"{_TITLES[analysis]}: not computed: the answers are too degenerate for the model "
                             f"(numerical failure: {exc}).")
        return None


def analyse_validated(loaded: Wave, validation: ValidationResult, wave: str, previous: PreviousWave | None = None,
                      trend_dir: str | Path | None = None, timings: Timings | None = None) -> Results:
    """:func:`analyse` of a wave that :func:`validate_file` validated (not blocked)."""
    return analyse(validation.clean, loaded.spec, wave=wave,
                   rows=validation.rows,
                   provenance=provenance_of(loaded, validation, previous),
                   quality=quality_summary(validation, loaded.spec), previous=previous, trend_dir=trend_dir,
                   timings=timings)


def analyse_file(data: str | Path, spec: str | Path | Spec, wave: str, previous: str | Path | None = None,
                 suite_dir: str | Path | None | bool = False, cache=True) -> Results:
    """Load, validate and analyse one file in memory: the notebook entry point.

    Nothing is written unless ``suite_dir`` is a folder or None (then the stored suite is used).
    ``cache``: the loaded and validated wave is kept (:class:`csatlib.run.cache.WaveCache`, keyed
    by the file's SHA-256, the spec, the suite and the wave label), so re-running on an unchanged
    file does not validate again; True = the process-wide cache, a ``WaveCache`` = that one
    (e.g. with a folder on disk), False = none.

    Raises
    ------
    ValidationBlocked
        When the wave fails a table-level expectation.
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    from .cache import WaveCache, default_cache

    cache = default_cache() if cache is True else cache if isinstance(cache, WaveCache) else None
    key = hit = None
    if cache is not None and Path(data).is_file():
        suite = build_suite(spec) if suite_dir is False else ensure_suite(
            spec, None if suite_dir is True else suite_dir).suite
        key = cache.key(data, spec, suite, wave)
        hit = cache.get(key)
    if hit is not None:
        loaded, validation = replace(hit[0], path=Path(data)), hit[1]  # same bytes, maybe another name
    else:
        loaded, validation = validate_file(data, spec, wave, suite_dir)
        if key is not None:
            cache.put(key, loaded, validation)
    if validation.blocked:
        raise ValidationBlocked(f"{data}: validation blocked: {'; '.join(validation.blocking)}",
                                validation.blocking)
    prev = load_previous(previous, spec, suite_dir) if previous else None
    return analyse_validated(loaded, validation, wave, prev)


