"""``csat batch``: one report per value of a column, rendered on Dask.

The whole wave is loaded and validated once on the client, and weighed once: its weights are
raked (and its design built) on every clean row, then it is split (:mod:`csatlib.run.segments`).
Each segment's report uses the whole wave's weights, and its standard errors are domain SEs of
the whole wave's design (sent to each worker once). Each segment's clean rows (and its
quarantined rows, for its own data-quality section) travel to the workers as parquet bytes with
the spec and the report notebook, so no shared file system is assumed; a worker returns the
rendered files as bytes and the client publishes them into ``<out>/<wave>/by-<column>/<value>/``,
each segment's folder replaced as a whole (:mod:`csatlib.run.publish`) as soon as it arrives.
Segments below ``min_base`` get no report but a line in the batch index saying why; a failed
segment does not stop the others. An interrupted batch (SIGTERM, Ctrl-C) says which segments
were published and which were not.

Fixed costs are paid once per worker, not once per segment: a worker process imports the
analysis stack once, and keeps one warm report kernel (:class:`csatlib.report.notebook.KernelPool`)
for every segment it renders. The first segment's kernel starts in the background while that
segment is analysed; later segments reuse it after a reset that empties its namespace, closes its
figures, restores the report's matplotlib settings, moves it to the segment's folder and restarts
its execution count, so each report is the same as on a fresh kernel (a test compares them byte
for byte). The parts every segment shares (spec, notebook, provenance, quality record) are sent
to the workers once; each task carries only its segment's rows. The CJK font subset of each page
is built while its notebook executes.

Re-runs are idempotent: a segment whose folder already holds a complete report for the same
input file hash, spec, segment and csatlib version is skipped unless ``force`` is set.
"""
from __future__ import annotations

import html
import io
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..errors import InputError, ValidationBlocked
from ..output import atomic_write_bytes, atomic_write_text, safe_name

__all__ = ["run_batch", "BatchSummary", "render_segment", "SegmentOutcome"]

HEADLINE_KPIS = ("satisfaction.score", "satisfaction.rate", "nps")


@dataclass
class SegmentOutcome:
    """What happened to one segment value."""

    value: str
    folder: str
    status: str  # "done", "skipped", "suppressed", "failed"
    rows: int
    detail: str = ""
    headline: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchSummary:
    wave: str
    column: str
    folder: Path
    segments: list[SegmentOutcome]
    seconds: float

    @property
    def failed(self) -> list[SegmentOutcome]:
        return [s for s in self.segments if s.status == "failed"]

    def counts(self) -> dict[str, int]:
        return {k: sum(s.status == k for s in self.segments) for k in ("done", "skipped", "suppressed", "failed")}

    def describe(self) -> str:
        c = self.counts()
        return (f"batch finished in {self.seconds:.1f} s: {c['done']} rendered, {c['skipped']} unchanged, "
                f"{c['suppressed']} below min_base, {c['failed']} failed; index: {self.folder / 'index.html'}")

    def raise_for_failures(self) -> None:
        """Raise :class:`NotebookFailed` (exit 3) naming the failed segments, if any."""
        if self.failed:
            from ..errors import NotebookFailed

            names = "; ".join(f"{s.value!r} ({s.detail})" for s in self.failed)
            raise NotebookFailed(f"{len(self.failed)} segment(s) failed: {names}")

    def __repr__(self) -> str:
        counts = pd.Series([s.status for s in self.segments]).value_counts().to_dict()
        return f"BatchSummary(wave={self.wave!r}, by={self.column!r}, {counts}, {self.seconds:.1f} s)"


def _fingerprint(input_sha: str, spec_fp: str, column: str, value: str) -> str:
    from .. import __version__

    return f"{input_sha}:{spec_fp}:{column}={value}:csatlib {__version__}"


_KERNELS = None  # this worker process's pool of warm report kernels (see the module docstring)


def _kernel_pool():
    global _KERNELS
    if _KERNELS is None:
        from ..report.notebook import KernelPool

        _KERNELS = KernelPool()
    return _KERNELS


def render_segment(task: dict[str, Any], common: dict[str, Any] | None = None) -> dict[str, Any]:
    """Worker side: analyse one segment's rows and render its report; returns the files as bytes.

    Runs in a Dask worker process. Imports and the analysis stack load once per worker process
    (Python's module cache), and so does the report kernel (a worker-level pool). ``common``
    holds what every segment shares (sent to each worker once); ``task`` the segment's own part.
    """
    task = {**(common or {}), **task}
    tmp = tempfile.TemporaryDirectory(prefix="csat-segment-")
    folder = Path(tmp.name)
    (folder / "report_source.ipynb").write_bytes(task["notebook"])
    kernel = _kernel_pool().acquire(folder)  # warm from an earlier segment, or starting meanwhile
    try:
        return _render(task, folder, kernel)
    finally:
        kernel.done()  # back to the pool (execute_notebook already did, unless analysis failed)
        tmp.cleanup()


def _render(task: dict[str, Any], folder: Path, kernel) -> dict[str, Any]:
    """Analyse the segment and render its report in ``folder`` (see :func:`render_segment`)."""
    from ..output import atomic_write_text
    from ..report.html import FontSubset, notebook_to_html
    from ..report.notebook import execute_notebook
    from ..results import Estimate, Provenance, QualitySummary, WeightingSummary
    from ..sampling import Domain
    from ..spec import parse_spec
    from ..validation.check import ValidationResult, write_validation
    from .previous import PreviousWave
    from .stages import analyse

    spec = parse_spec(task["spec"], source=task["spec_source"])
    clean = pd.read_parquet(io.BytesIO(task["clean"]))
    quarantine = pd.read_parquet(io.BytesIO(task["quarantine"]))
    seg_spec = replace(spec, segments=tuple(s for s in spec.segments if s != task["column"]))
    validation = ValidationResult(wave=task["wave"], rows_read=len(clean) + len(quarantine), clean=clean,
                                  quarantine=quarantine, outcomes=[], blocking=[], suite_name=spec.name)
    previous = None
    if task.get("previous"):
        previous = PreviousWave(task["previous"]["wave"], [Estimate(**e) for e in task["previous"]["estimates"]],
                                task["previous"]["source"])
    provenance = replace(Provenance.from_dict(task["provenance"]), batch_fingerprint=task["fingerprint"])
    # the whole wave's weights (in the rows) and design: this segment is a domain of the wave
    domain = Domain.at_rows(task["at"], task["column"], task["value"], whole_rows=task["whole_rows"],
                            design=task["design"], weighting=WeightingSummary.from_dict(task["weighting"])
                            if task["weighting"] else None)
    results = analyse(clean, seg_spec, wave=task["wave"], domain=domain,
                      rows={"read": validation.rows_read, "clean": len(clean), "quarantined": len(quarantine)},
                      provenance=provenance, quality=QualitySummary.from_dict(task["quality"]), previous=previous,
                      segment={task["column"]: task["value"]})
    write_validation(validation, folder, extra={"segment": {task["column"]: task["value"]},
                                                "note": "rows of this segment; the wave-level expectations "
                                                        "are in the batch folder's validation.json"})
    results.write(folder / "results.json")
    # the page's Chinese glyphs come from the results and the notebook: subset the font meanwhile
    font = FontSubset((folder / "results.json").read_text(encoding="utf-8")
                      + task["notebook"].decode("utf-8", errors="ignore"))
    execute_notebook(folder / "report_source.ipynb", folder / "report.ipynb", {"results_dir": str(folder)},
                     kernel=kernel)
    atomic_write_text(folder / "report.html", notebook_to_html(folder / "report.ipynb", font))
    from ..report.exports import write_exports

    write_exports(folder, pdf=False)  # tables.xlsx; a PDF per segment would cost a browser start each
    files = {name: (folder / name).read_bytes()
             for name in ("quarantine.csv", "validation.json", "report.ipynb", "report.html", "tables.xlsx",
                          "results.json")}
    return {"files": files, "headline": {k: e.estimate for k, e in results.headline(HEADLINE_KPIS).items()}}


def _client(scheduler: str | None):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="20s"), None
    workers = max(1, min(os.cpu_count() or 1, 8))
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=50)
    return Client(cluster), cluster


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.reset_index(drop=True).astype({c: "string" for c in frame.columns if frame[c].dtype == object}) \
        .to_parquet(buf, index=False)
    return buf.getvalue()


def _previous_task(previous, column: str, value: str) -> dict[str, Any] | None:
    """The earlier wave's estimates for one segment, as plain data for a worker."""
    seg = previous.for_segment(column, value) if previous is not None else None
    if seg is None:
        return None
    return {"wave": seg.wave, "source": seg.source, "estimates": [e.__dict__ for e in seg.estimates]}


def run_batch(data: str | Path, spec_path: str | Path, wave: str, column: str, out: str | Path = "reports",
              scheduler: str | None = None, previous: str | Path | None = None,
              suite_dir: str | Path | None = None, force: bool = False,
              notebook: str | Path | None = None, progress: Callable[[str], None] | None = None,
              wait: float = 600.0) -> BatchSummary:
    """Render one report per value of ``column`` on Dask; see the module docstring.

    Raises
    ------
    InputError
        ``column`` is not a column of the data.
    ValidationBlocked
        The wave failed a table-level expectation (validation files are still written).
    """
    from ..spec import load_spec
    from .lock import wave_lock
    from .publish import LEDGER
    from .wave import check_run_inputs, wave_folder

    progress = progress or (lambda m: None)
    spec = load_spec(spec_path)
    notebook_path = check_run_inputs(data, wave, out, previous, notebook or True)
    batch_dir = Path(out) / wave_folder(wave) / f"by-{safe_name(column)}"
    LEDGER.expect(f"the batch's segment reports ({batch_dir})")
    with wave_lock(Path(out), wave_folder(wave), timeout=wait, progress=progress):
        return _batch_locked(data, spec, wave, column, Path(out), scheduler, previous, suite_dir, force,
                             notebook_path, progress)


def _batch_locked(data, spec, wave: str, column: str, out: Path, scheduler, previous, suite_dir, force: bool,
                  notebook: Path, progress) -> BatchSummary:
    """The body of :func:`run_batch`, run while holding the wave's lock."""
    from ..validation.check import REASONS_COLUMN
    from .previous import load_previous
    from .segments import segment_labels, split_wave, weigh_wave
    from .publish import LEDGER, recover
    from .stages import provenance_of, quality_summary
    from .wave import output_errors, validate_for_run, publish_validation, wave_folder

    t0 = time.perf_counter()
    said = recover(out / wave_folder(wave))  # a switch of the wave's folder that a killed run left half done
    if said:
        progress(said)
    loaded, validation = validate_for_run(data, spec, wave, suite_dir, progress)
    if column not in loaded.frame.columns:
        raise InputError(data, f"--by column {column!r} is not in the file")
    folder_name = f"by-{safe_name(column)}"
    batch_dir = out / wave_folder(wave) / folder_name
    with output_errors(batch_dir, "the batch's validation.json and quarantine.csv",
                       "no segment report was changed"):
        publish_validation(validation, batch_dir, wave)
    if validation.blocked:
        raise ValidationBlocked(f"{data}: validation blocked the batch: {'; '.join(validation.blocking)} "
                                f"(see {batch_dir / 'validation.json'})", validation.blocking)
    prev = load_previous(previous, spec, suite_dir, progress, by=column) if previous else None
    nb_bytes = notebook.read_bytes()
    sample = weigh_wave(validation.clean, spec, data)  # weights and design of the whole wave, then split
    segments = split_wave(sample, column)
    quarantine_labels = segment_labels(validation.quarantine, column) if len(validation.quarantine) else \
        pd.Series(dtype=str)
    values = list(dict.fromkeys([*segments, *quarantine_labels.unique()]))
    order = list(spec.categories.get(column, ()))
    values.sort(key=lambda v: (order.index(v) if v in order else len(order), v))
    outcomes: dict[str, SegmentOutcome] = {}
    tasks = []
    quality = quality_summary(validation, spec).to_dict()
    provenance = provenance_of(loaded, validation, prev).to_dict()
    for value in values:
        rows = segments[value].rows if value in segments else sample.frame.iloc[:0]
        seg_folder = safe_name(value)
        target = batch_dir / seg_folder
        if len(rows) < spec.quality.min_base:
            outcomes[value] = SegmentOutcome(value, seg_folder, "suppressed", len(rows),
                                             f"base {len(rows)} < min_base {spec.quality.min_base}: no report")
            continue
        fp = _fingerprint(loaded.sha256, spec.fingerprint(), column, value)
        if not force and _complete(target, fp):
            outcomes[value] = SegmentOutcome(value, seg_folder, "skipped", len(rows),
                                             "unchanged since the last run", _headline_of(target))
            continue
        q_rows = validation.quarantine[(quarantine_labels == value).to_numpy()] if len(quarantine_labels) else \
            validation.quarantine
        q_reasons = (q_rows[REASONS_COLUMN].astype(str).str.split("; ").explode().str.split(":").str[0]
                     .value_counts() if len(q_rows) else pd.Series(dtype=int))
        tasks.append((value, seg_folder, len(rows), {
            "value": value, "clean": _parquet(rows), "quarantine": _parquet(q_rows), "fingerprint": fp,
            "at": segments[value].at,
            "previous": _previous_task(prev, column, value),
            "quality": {**quality, "reasons": [{"reason": k, "column": None, "rows": int(v)}
                                               for k, v in q_reasons.items()]},
        }))
    common = {"spec": dict(spec.raw), "spec_source": spec.source, "wave": wave, "column": column,
              "notebook": nb_bytes, "provenance": provenance, "design": sample.design, "whole_rows": len(sample.frame),
              "weighting": sample.weighting.to_dict() if sample.weighting is not None else None}
    LEDGER.forget(f"the batch's segment reports ({batch_dir})")
    LEDGER.expect(*(segment_unit(value, batch_dir / folder) for value, folder, _, _ in tasks),
                  f"the batch index ({batch_dir / 'index.html'})")
    if tasks:
        with output_errors(batch_dir, "a segment report", "segments published so far are complete; the others are "
                                                     "unchanged"):
            outcomes.update(_run_tasks(tasks, common, batch_dir, scheduler, progress))
    ordered = [outcomes[v] for v in values]
    summary = BatchSummary(wave, column, batch_dir, ordered, time.perf_counter() - t0)
    with output_errors(batch_dir, "the batch index", "every segment report is published"):
        _write_index(summary, spec.name)
    LEDGER.done(f"the batch index ({batch_dir / 'index.html'})")
    return summary


def segment_unit(value: str, folder: Path) -> str:
    """How the exit message names one segment's report."""
    return f"segment {value} ({folder})"


def _publish_segment(files: dict[str, bytes], target: Path, value: str) -> None:
    """Write one segment's files into a staging folder and switch it in as a whole."""
    from .publish import discard, publish, staging_dir

    staging = staging_dir(target)
    try:
        for name in ("quarantine.csv", "validation.json", "report.ipynb", "report.html", "tables.xlsx",
                     "results.json"):
            atomic_write_bytes(staging / name, files[name])
        publish(staging, target, unit=segment_unit(value, target))
    finally:
        discard(staging)


def _run_tasks(tasks, common: dict[str, Any], batch_dir: Path, scheduler: str | None,
               progress) -> dict[str, SegmentOutcome]:
    from dask.distributed import as_completed

    client, cluster = _client(scheduler)
    outcomes: dict[str, SegmentOutcome] = {}
    try:
        shared = client.scatter(common, broadcast=True, hash=False)  # once per worker, not per segment
        futures = {client.submit(render_segment, task, shared, key=f"csat-{i}-{task['fingerprint'][:12]}",
                                 pure=False): (value, folder, rows) for i, (value, folder, rows, task) in enumerate(tasks)}
        done = 0
        for future in as_completed(futures):
            value, folder, rows = futures[future]
            done += 1
            try:
                result = future.result()
            except Exception as exc:  # a failed segment must not stop the others
                detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                outcomes[value] = SegmentOutcome(value, folder, "failed", rows, detail)
                progress(f"{value}: FAILED ({detail}) [{done}/{len(futures)}]")
                continue
            _publish_segment(result["files"], batch_dir / folder, value)
            outcomes[value] = SegmentOutcome(value, folder, "done", rows, "", result["headline"])
            progress(f"{value}: report written ({rows:,} rows) [{done}/{len(futures)}]")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return outcomes


def _complete(target: Path, fingerprint: str) -> bool:
    from ..results import load_results

    if not all((target / n).is_file() for n in ("report.html", "results.json")):
        return False
    try:
        return load_results(target).provenance.batch_fingerprint == fingerprint
    except InputError:
        return False


def _headline_of(target: Path) -> dict[str, Any]:
    from ..errors import InputError as _Unreadable
    from ..results import load_results

    try:
        return {k: e.estimate for k, e in load_results(target).headline(HEADLINE_KPIS).items()}
    except _Unreadable:
        return {}


def _write_index(summary: BatchSummary, survey: str) -> Path:
    from ..report.wording import format_estimate
    from ..report.index import index_page

    e = html.escape
    rows = []
    for s in summary.segments:
        h = s.headline
        cells = "".join(f"<td>{e(format_estimate(k, h.get(k)))}</td>"
                        for k in HEADLINE_KPIS)
        if s.status in ("done", "skipped"):
            name = f"<a href='{e(s.folder)}/report.html'>{e(s.value)}</a>"
            status = "" if s.status == "done" else "<span class='muted'>unchanged</span>"
        else:
            name = e(s.value)
            cells = "<td colspan='3'></td>"
            status = f"<span class='{'bad' if s.status == 'failed' else 'muted'}'>{e(s.status)}: {e(s.detail)}</span>"
        rows.append(f"<tr><td>{name}</td><td>{s.rows:,}</td>{cells}<td>{status}</td></tr>")
    body = (f"<h1>{e(survey)} — wave {e(summary.wave)}, one report per {e(summary.column)}</h1>"
            "<p>Clean rows per value. Values with fewer respondents than the minimum base get no report. "
            "Wave-level validation: <a href=\"validation.json\">validation.json</a>, "
            "<a href=\"quarantine.csv\">quarantine.csv</a>.</p>"
            f"<table><tr><th>{e(summary.column)}</th><th>clean rows</th><th>Satisfaction score</th>"
            f"<th>Satisfaction rate</th><th>NPS</th><th>status</th></tr>{''.join(rows)}</table>")
    page = index_page(f"{survey} {summary.wave} by {summary.column}", body)
    return atomic_write_text(summary.folder / "index.html", page)
