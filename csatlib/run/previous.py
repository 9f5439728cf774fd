"""Earlier waves: the one a run is compared with, and the trend across every reported wave."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ..analysis.index import satisfaction_index
from ..analysis.kpis import dimension_kpis, kpis
from ..errors import InputError, ValidationBlocked
from ..ingest.load import Wave, read_wave
from ..results import HEADLINE_IDS, Estimate, load_results, wave_sort_key
from ..spec import Spec
from .segments import segment_labels, split_wave, weigh_wave

__all__ = ["PreviousWave", "load_previous", "wave_label_of", "collect_trend", "segment_labels"]


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def collect_trend(out_dir: str | Path | None, survey: str, current: dict[str, Any] | None = None,
                  ids: tuple[str, ...] = HEADLINE_IDS, previous: "PreviousWave | None" = None) -> list[dict[str, Any]]:
    """Headline KPIs of every wave of ``survey`` found in ``out_dir/*/results.json``, oldest first.

    ``current`` (``{"wave": ..., "estimates": [...]}``) replaces a stored wave of the same label;
    the ``previous`` wave a run is compared with is part of the trend even when ``out_dir`` holds
    no report of it. Unreadable or foreign results files are skipped: the trend is a view, never a
    blocker.
    """
    waves: dict[str, list[dict]] = {}
    if previous is not None:
        waves[str(previous.wave)] = [e.to_dict() for e in previous.estimates if e.segment is None]
    for path in sorted(Path(out_dir).glob("*/results.json")) if out_dir else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if doc.get("survey") == survey and isinstance(doc.get("estimates"), list):
            waves[str(doc.get("wave"))] = doc["estimates"]
    if current is not None:
        waves[str(current["wave"])] = [e.to_dict() if isinstance(e, Estimate) else e for e in current["estimates"]]
    trend = []
    for wave in sorted(waves, key=wave_sort_key):
        row: dict[str, Any] = {"wave": wave}
        for e in waves[wave]:
            if e.get("segment") is None and e.get("id") in ids:
                row[e["id"]] = {k: e.get(k) for k in ("estimate", "ci_low", "ci_high", "n")}
        trend.append(row)
    return trend


@dataclass
class PreviousWave:
    """The wave a run is compared with: its label, its estimates and, for a batch, per segment value.

    ``estimates`` holds the total (``segment`` None) and any segment estimates the earlier run
    had; ``by_value`` the total estimates of each value of a batch's ``--by`` column.
    """

    wave: str
    estimates: list[Estimate]
    source: str
    by_value: dict[str, list[Estimate]] = field(default_factory=dict)

    def for_segment(self, column: str, value: str) -> "PreviousWave | None":
        """The earlier wave as seen by one segment's report (its estimates as totals), or None."""
        if value in self.by_value:
            ests = self.by_value[value]
        else:
            ests = [replace(e, segment=None) for e in self.estimates if e.segment == {column: value}]
        return PreviousWave(self.wave, ests, self.source) if ests else None


def _batch_folders(path: Path, by: str | None) -> list[Path]:
    """Segment results of a batch: ``path/by-<col>/*/results.json`` or ``path/*/results.json``."""
    from ..output import safe_name

    if by is None:
        return []
    batch = path / f"by-{safe_name(by)}"
    base = batch if batch.is_dir() else path
    return sorted(base.glob("*/results.json"))


def load_previous(previous: str | Path, spec: Spec, suite_dir: str | Path | None | bool = None,
                  progress: Progress = _quiet, by: str | None = None) -> PreviousWave:
    """An earlier wave: from its raw data file, an earlier run's ``reports/<wave>/`` folder (or its
    results.json), or an earlier batch folder — the same for ``csat run`` and ``csat batch``.

    A raw file is validated like the current wave; its wave label comes from the spec's wave
    column (the most common label) or the file name. ``by``: the batch column whose values need
    their own earlier estimates.

    Raises
    ------
    InputError
        Unreadable, foreign (another survey) or empty previous input.
    ValidationBlocked
        A raw previous file that fails a blocking expectation.
    """
    path = Path(previous)
    if path.is_dir() or path.suffix.lower() == ".json":
        by_value: dict[str, list[Estimate]] = {}
        label = None
        for res_path in _batch_folders(path if path.is_dir() else path.parent, by):
            res = load_results(res_path)
            value = (res.provenance.segment or {}).get(by)
            if res.survey == spec.name and value is not None:
                by_value[str(value)] = [e for e in res.estimates if e.segment is None]
                label = label or res.wave
        whole = path / "results.json" if path.is_dir() else path
        if whole.exists() or not by_value:
            res = load_results(path)
            if res.survey != spec.name:
                raise InputError(path, f"results of survey {res.survey!r}, not {spec.name!r}")
            estimates, label = res.estimates, res.wave
        else:
            estimates = []
        progress(f"previous wave {label} from {path}")
        return PreviousWave(str(label), estimates, str(path), by_value)
    from .stages import validate_file  # stages imports this module

    loaded = read_wave(path, spec)
    frame_label = wave_label_of(loaded)
    _, result = validate_file(path, spec, frame_label, suite_dir, progress=_quiet, loaded=loaded)
    if result.blocked:
        raise ValidationBlocked(f"{path}: the previous wave failed validation: {'; '.join(result.blocking)}",
                                result.blocking)
    progress(f"previous wave {frame_label} from {path.name} ({result.rows_clean} clean rows)")
    # weights raked (and the design built) on the whole earlier wave; each value is a domain of it
    sample = weigh_wave(result.clean, spec, path)
    by_value = {}
    if by is not None and by in sample.frame.columns:
        for value, seg in split_wave(sample, by).items():
            design = sample.domain(seg.at, by, value).design
            by_value[value] = (kpis(seg.rows, spec, sample_design=design)
                               + dimension_kpis(seg.rows, spec, sample_design=design))
    index, _ = satisfaction_index(sample.frame, spec)  # so index.* changes work from a raw file too
    return PreviousWave(frame_label, kpis(sample.frame, spec, sample_design=sample.design)
                        + dimension_kpis(sample.frame, spec, sample_design=sample.design)
                        + (index.estimates() if index else []), str(path), by_value)


def wave_label_of(loaded: Wave) -> str:
    """The wave label of a loaded file: its most common wave-column value, else the file name."""
    column = loaded.spec.wave
    if column and loaded.frame[column].notna().any():
        return str(loaded.frame[column].astype(str).mode().iloc[0])
    return Path(loaded.path).stem
