"""One run, stage by stage: load → validate → analyse → results.json → report.

These functions are what the CLI calls and what a researcher calls from a notebook
(``csatlib.analyse_file``). Each stage is a plain function of its module; this module only
sequences them, times them, and keeps the row accounting.
"""
from __future__ import annotations

import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .compare import collect_trend, compare_waves
from .drivers import key_drivers
from .gap import gap_analysis
from .loyalty import loyalty_models
from .errors import InputError, ValidationBlocked
from .expectations import build_suite, ensure_suite
from .load import Wave, read_wave
from .metrics import kpis, segment_kpis
from .results import Estimate, Results, load_results
from .spec import Spec, load_spec
from .validate import ValidationResult, validate_wave

__all__ = ["analyse", "analyse_file", "validate_file", "load_previous", "PreviousWave", "Timings",
           "verbatim_sample", "stack_versions", "wave_label_of"]

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


@dataclass
class PreviousWave:
    """The wave a run is compared with: its label and headline estimates."""

    wave: str
    estimates: list[Estimate]
    source: str


def validate_file(data: str | Path, spec: Spec, wave: str, expectations_dir: str | Path | None = "expectations",
                  progress: Progress = _quiet, timings: Timings | None = None,
                  loaded: Wave | None = None) -> tuple[Wave, ValidationResult]:
    """Load and validate one wave file (``loaded``: the file already read, so it is not read twice).

    ``expectations_dir=None`` validates with a suite built in memory (nothing written), which is
    what a notebook session wants; otherwise the stored suite is used, created or rebuilt.
    """
    timings = timings or Timings()
    with timings.stage("load"):
        loaded = loaded if loaded is not None else read_wave(data, spec)
    progress(f"loaded {loaded.n_rows} rows from {Path(data).name}"
             + (f" (dropped PII columns: {', '.join(loaded.pii_dropped)})" if loaded.pii_dropped else ""))
    with timings.stage("validate"):
        if expectations_dir is None:
            suite, suite_path = build_suite(spec), None
        else:
            update = ensure_suite(spec, expectations_dir)
            if update.action != "unchanged":
                progress(update.describe())
            suite, suite_path = update.suite, str(update.path)
        result = validate_wave(loaded, wave, suite)
        result.suite_path = suite_path
    progress(f"validated: {result.rows_read} read, {result.rows_clean} clean, "
             f"{result.rows_quarantined} quarantined" + (" — BLOCKED" if result.blocked else ""))
    return loaded, result


def load_previous(previous: str | Path, spec: Spec, expectations_dir: str | Path | None = "expectations",
                  progress: Progress = _quiet) -> PreviousWave:
    """An earlier wave, from an earlier run's folder/results.json or from its raw file.

    A raw file is validated like the current wave; its wave label comes from the spec's wave
    column (the most common label) or the file name.
    """
    path = Path(previous)
    if path.is_dir() or path.suffix.lower() == ".json":
        res = load_results(path)
        if res.survey != spec.name:
            raise InputError(f"{path}: results of survey {res.survey!r}, not {spec.name!r}")
        progress(f"previous wave {res.wave} from {path}")
        return PreviousWave(res.wave, [e for e in res.estimates if e.segment is None], str(path))
    loaded = read_wave(path, spec)
    frame_label = wave_label_of(loaded)
    _, result = validate_file(path, spec, frame_label, expectations_dir, progress=_quiet, loaded=loaded)
    if result.blocked:
        raise ValidationBlocked(f"{path}: the previous wave failed validation: {'; '.join(result.blocking)}",
                                result.blocking)
    progress(f"previous wave {frame_label} from {path.name} ({result.rows_clean} clean rows)")
    return PreviousWave(frame_label, kpis(result.clean, spec), str(path))


def wave_label_of(loaded: Wave) -> str:
    """The wave label of a loaded file: its most common wave-column value, else the file name."""
    column = loaded.spec.wave
    if column and loaded.frame[column].notna().any():
        return str(loaded.frame[column].astype(str).mode().iloc[0])
    return Path(loaded.path).stem


def verbatim_sample(frame: pd.DataFrame, spec: Spec, per_segment: int = 5, seed: int = 0) -> list[dict[str, Any]]:
    """A seeded sample of (already redacted) comments per value of the first segment column.

    Returns one entry per group: ``{"column", "segment", "comments": n, "sample": [...]}``.
    Escaping for HTML is the report's job; the texts here are as redacted by the loader.
    """
    if not spec.text:
        return []
    stacked = frame[list(spec.text)].astype("string").stack()
    stacked = stacked[stacked.str.strip().str.len() > 0].astype(str)
    if stacked.empty:
        return []
    rows = stacked.index.get_level_values(0)
    seg_col = spec.segments[0] if spec.segments else None
    groups = (frame.loc[rows, seg_col].astype(object).where(frame.loc[rows, seg_col].notna(), "(missing)")
              .astype(str).to_numpy() if seg_col else np.full(len(stacked), "all respondents"))
    out = []
    rng = np.random.default_rng(seed)
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        pick = np.sort(rng.choice(idx, size=min(per_segment, idx.size), replace=False))
        out.append({"column": seg_col, "segment": g, "comments": int(idx.size),
                    "sample": [str(stacked.iloc[i]) for i in pick]})
    return out


def stack_versions() -> dict[str, str]:
    """Versions of Python and the libraries whose numbers the report relies on."""
    out = {"python": platform.python_version()}
    for pkg in ("csatlib", "pandas", "numpy", "scipy", "statsmodels", "great_expectations", "papermill",
                "nbconvert", "matplotlib", "seaborn"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _skipped_by_spec(spec: Spec) -> list[str]:
    """Analyses the spec leaves out, in the words the report uses to say so."""
    out = []
    if spec.nps is None:
        out.append("NPS: the spec has no nps item.")
    if not spec.loyalty:
        out.append("Loyalty scores: the spec lists no loyalty items.")
    if not spec.segments:
        out.append("Segments: the spec defines no segment columns.")
    if not spec.text:
        out.append("Verbatim comments: the spec names no free-text column.")
    if not spec.weight:
        out.append("Weighting: the spec has no weight column, so every respondent counts once.")
    return out


def analyse(loaded: Wave, validation: ValidationResult, wave: str, previous: PreviousWave | None = None,
            out_dir: str | Path | None = None, timings: Timings | None = None,
            segment: dict[str, str] | None = None) -> Results:
    """Every analysis of a validated wave, gathered into one :class:`Results`.

    Parameters
    ----------
    loaded : Wave
    validation : ValidationResult
        Must not be blocked.
    wave : str
    previous : PreviousWave, optional
        For ``change.<id>`` estimates.
    out_dir : path, optional
        The reports folder; earlier waves' results.json found there form the trend.
    segment : dict, optional
        ``{column: value}`` when the rows are one segment of a wave (``csat batch``).
    """
    spec = loaded.spec
    timings = timings or Timings()
    clean = validation.clean
    with timings.stage("metrics"):
        estimates = kpis(clean, spec)
        estimates += segment_kpis(clean, spec)
        if previous is not None:
            estimates += compare_waves(estimates, previous.estimates)
    models: dict[str, Any] = {}
    skipped = _skipped_by_spec(spec)
    if segment:
        (col, value), = segment.items()
        skipped = [s for s in skipped if not s.startswith("Segments:")]
        skipped.insert(0, f"This report covers only the respondents with {col} = {value}"
                          + ("; the spec defines no other segment column." if not spec.segments else "."))
    with timings.stage("loyalty"):
        loyalty = loyalty_models(clean, spec)
        if loyalty:
            models["loyalty"] = [m.to_dict() for m in loyalty]
        else:
            skipped.append("Satisfaction → loyalty: the spec has neither loyalty items nor an NPS item.")
    with timings.stage("gap"):
        gaps = gap_analysis(clean, spec)
        if gaps is None:
            skipped.append("Expectation gaps: no dimension in the spec has an expectation item.")
        else:
            estimates += gaps.estimates()
            models["gap"] = gaps.to_dict()
    with timings.stage("drivers"):
        drivers = key_drivers(clean, spec, "perception")
        if drivers is None:
            skipped.append("Key drivers: the spec lists fewer than two dimensions (or too few complete answers).")
        else:
            estimates += drivers.estimates()
            models["drivers"] = drivers.to_dict()
            gap_drivers = key_drivers(clean, spec, "gap")
            if gap_drivers is not None:
                models["drivers_gap"] = gap_drivers.to_dict()
    results = Results(
        survey=spec.name, wave=wave, previous_wave=previous.wave if previous else None,
        weighted=spec.weight is not None,
        rows={"read": validation.rows_read, "clean": validation.rows_clean,
              "quarantined": validation.rows_quarantined},
        estimates=estimates,
        models=models,
        quality={"blocking_failures": validation.blocking,
                 "reasons": validation.reason_counts().to_dict(orient="records"),
                 "failed_expectations": [o.to_dict() for o in validation.outcomes if not o.success],
                 "expectations_checked": len(validation.outcomes),
                 "thresholds": {"min_base": spec.quality.min_base,
                                "max_quarantine_share": spec.quality.max_quarantine_share,
                                "max_straightline_share": spec.quality.max_straightline_share,
                                "min_duration_s": spec.quality.min_duration_s}},
        verbatims=verbatim_sample(clean, spec),
        meta={"input": {"file": Path(loaded.path).name, "sha256": loaded.sha256, "format": loaded.file_format,
                        "encoding": loaded.encoding, "pii_dropped": list(loaded.pii_dropped)},
              "previous": previous.source if previous else None,
              "spec": spec.to_dict(), "spec_file": Path(spec.source).name if spec.source else None,
              "versions": stack_versions(),
              "suite": validation.suite_name,
              "skipped": skipped,
              "segment": segment},
    )
    results.trend = collect_trend(out_dir, spec.name, {"wave": wave, "estimates": estimates})
    return results


def analyse_file(data: str | Path, spec: str | Path | Spec, wave: str, previous: str | Path | None = None,
                 expectations_dir: str | Path | None = None) -> Results:
    """Load, validate and analyse one file in memory: the notebook entry point.

    Nothing is written unless ``expectations_dir`` is given (then the stored suite is used).

    Raises
    ------
    ValidationBlocked
        When the wave fails a table-level expectation.
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    loaded, validation = validate_file(data, spec, wave, expectations_dir)
    if validation.blocked:
        raise ValidationBlocked(f"{data}: validation blocked: {'; '.join(validation.blocking)}",
                                validation.blocking)
    prev = load_previous(previous, spec, expectations_dir) if previous else None
    return analyse(loaded, validation, wave, prev)


