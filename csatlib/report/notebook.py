"""Render the report: papermill executes the notebook, nbconvert turns it into offline HTML.

Everything is produced in a temporary folder beside the target (same file system), then each
file is moved into ``reports/<wave>/`` with :func:`os.replace`, results.json last. A run killed
half-way leaves the previous report of that wave as it was. A failing notebook raises
:class:`~csatlib.errors.NotebookFailed` after keeping the partial executed notebook.
"""
from __future__ import annotations

import html
import re
import json
import os
import shutil
import sys
from contextlib import contextmanager
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .compare import format_estimate, wave_sort_key
from .errors import NotebookFailed
from .output import atomic_write_text

__all__ = ["report_notebook", "execute_notebook", "notebook_to_html", "publish", "write_index", "staging_dir",
           "TEMPLATE_DIR", "PUBLISH_ORDER", "embed_cjk_font", "WarmKernel", "FontSubset",
           "index_page"]

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
PUBLISH_ORDER = ("quarantine.csv", "validation.json", "report.ipynb", "report.html", "results.json")


def report_notebook() -> Path:
    """The report notebook: ``notebooks/report.ipynb`` of the checkout csatlib runs from."""
    candidates = [PACKAGE_DIR.parent / "notebooks" / "report.ipynb", Path.cwd() / "notebooks" / "report.ipynb"]
    for c in candidates:
        if c.exists():
            return c
    raise NotebookFailed(f"report notebook not found (looked in {', '.join(map(str, candidates))})")


def staging_dir(target: Path) -> Path:
    """A fresh temporary folder beside ``target`` (so os.replace never crosses file systems).

    Staging folders a killed run left behind are removed first; call this only while holding the
    wave's lock (:func:`csatlib.lock.wave_lock`), so no live run's staging folder can be among them.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))


class WarmKernel:
    """A report kernel started in a background thread while the run validates and analyses.

    Kernel start-up and the report's imports (about 1.5 s) then overlap with real work instead
    of adding to it. The kernel only holds imports, so the executed notebook is the same as on
    a fresh kernel. Any problem starting it simply leaves :meth:`take` returning None, and the
    notebook runs on a fresh kernel as usual.
    """

    PRELOAD = ("import IPython.display, matplotlib\nmatplotlib.use('Agg')\n"
               "import csatlib, csatlib.views, csatlib.charts, csatlib.results\ncsatlib.charts.use_report_style()")

    def __init__(self, cwd: Path, kernel_name: str = "python3"):
        import threading

        self.cwd, self.kernel_name = cwd, kernel_name
        self.km = None
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._start, name="csat-warm-kernel", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        import subprocess

        try:
            from jupyter_client.manager import KernelManager

            km = KernelManager(kernel_name=self.kernel_name)
            km.start_kernel(cwd=str(self.cwd), env={**os.environ, "MPLBACKEND": "Agg"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.km = km  # set first, so shutdown() can always reach a started kernel
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=60)
                reply = kc.execute_interactive(self.PRELOAD, timeout=120, output_hook=lambda msg: None)
                if reply["content"].get("status") != "ok":
                    raise RuntimeError("the report stack failed to import in the kernel")
            finally:
                kc.stop_channels()
        except Exception as exc:  # never fatal: the notebook falls back to a fresh kernel
            self.error = exc
            self.shutdown()

    def take(self, timeout: float = 120.0):
        """The ready kernel manager, or None if it could not be started."""
        self._thread.join(timeout)
        if self._thread.is_alive() or self.error is not None:
            return None
        return self.km

    def shutdown(self) -> None:
        km, self.km = self.km, None
        if km is not None:
            try:
                km.shutdown_kernel(now=True)
            except Exception:
                pass


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], failed_copy: Path | None = None,
                     timeout: int = 600, kernel: WarmKernel | None = None) -> Path:
    """Execute ``notebook`` with papermill into ``output``.

    ``kernel``: a :class:`WarmKernel` to run on (it is shut down afterwards), else a fresh one.
    On failure the partial executed notebook is copied to ``failed_copy`` (when given) and
    :class:`NotebookFailed` names it with the failing cell's error.
    """
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)
    env_before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        with warnings.catch_warnings(), _kernel_stderr_captured():
            warnings.simplefilter("ignore")
            km = kernel.take() if kernel is not None else None
            extra = {"km": km} if km is not None else {}
            pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                progress_bar=False, log_output=False, cwd=str(notebook.parent),
                                execution_timeout=timeout, **extra)
    except pm.PapermillExecutionError as exc:
        kept = _keep_partial(output, failed_copy)
        raise NotebookFailed(f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: "
                             f"{str(exc.evalue).splitlines()[0][:200] if exc.evalue else ''}; partial notebook "
                             f"kept at {kept}", str(kept)) from None
    except Exception as exc:  # kernel died, timeout, missing kernel
        kept = _keep_partial(output, failed_copy)
        raise NotebookFailed(f"{notebook.name} could not be executed: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:200] if str(exc) else ''}; partial notebook kept at {kept}",
                             str(kept)) from None
    finally:
        if kernel is not None:
            kernel.shutdown()
        if env_before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_before
    return output


@contextmanager
def _kernel_stderr_captured():
    """Keep the kernel process's own chatter (it inherits fd 2) off the user's stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _keep_partial(output: Path, failed_copy: Path | None) -> Path:
    if failed_copy is None or not output.exists():
        return output
    failed_copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(output, failed_copy)
    return failed_copy


def notebook_to_html(executed: Path, font: "FontSubset | None" = None) -> str:
    """Offline HTML of an executed notebook: no input cells, no prompts, no network references.

    ``font``: a :class:`FontSubset` prepared while the notebook ran (else it is built here).
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    exporter = HTMLExporter(template_name="csat_report", extra_template_basedirs=[str(TEMPLATE_DIR)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": nb.metadata.get("title", "report")}})
    return embed_cjk_font(body, font)


CJK_FIRST_CODEPOINT = 0x2E80  # CJK radicals onward: Han, kana, Hangul, full-width forms
EMBEDDED_FAMILY = "CSAT CJK"


class FontSubset:
    """The CJK subset font for a set of characters, built in a background thread.

    Subsetting is pure Python (fontTools); started before the notebook executes, it overlaps
    with the kernel's work instead of adding about 0.7 s to the run.
    """

    def __init__(self, text: str):
        import threading

        self.chars = frozenset(ord(c) for c in text if ord(c) >= CJK_FIRST_CODEPOINT)
        self._woff: bytes | None = None
        self._thread = threading.Thread(target=self._build, name="csat-font-subset", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        try:
            self._woff = _subset_woff(self.chars) if self.chars else None
        except Exception:  # a page without the embedded font still renders where CJK fonts exist
            self._woff = None

    def woff_for(self, chars: set[int]) -> bytes | None:
        """The subset, if it covers ``chars``; else None (the caller builds one)."""
        self._thread.join()
        return self._woff if chars <= self.chars else None


def _subset_woff(chars: set[int] | frozenset[int]) -> bytes | None:
    import io

    from .charts import cjk_font_path

    font_path = cjk_font_path()
    if font_path is None:
        return None
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = [1, 2]
    font = subset.load_font(str(font_path), options, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=set(chars))
    subsetter.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    return buf.getvalue()


def embed_cjk_font(page: str, prepared: FontSubset | None = None) -> str:
    """Embed the CJK glyphs a page uses as a subset web font (data: URL), so Chinese labels
    render on any reviewer's machine, with or without CJK system fonts, and nothing is fetched.

    The subset of Noto Sans CJK SC (from ``mplfonts``) holds only the characters in the page,
    typically 10-40 KB. Pages without CJK text, or machines without the font, are unchanged.
    """
    import base64

    chars = {ord(c) for c in page if ord(c) >= CJK_FIRST_CODEPOINT}
    if not chars or "</head>" not in page:
        return page
    woff = prepared.woff_for(chars) if prepared is not None else None
    if woff is None:
        woff = _subset_woff(chars)
    if woff is None:
        return page
    data = base64.b64encode(woff).decode("ascii")
    families = (f'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, "{EMBEDDED_FAMILY}", '
                '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif')
    style = (f'<style>@font-face{{font-family:"{EMBEDDED_FAMILY}";src:url(data:font/woff;base64,{data}) '
             f'format("woff");font-display:block;}}:root{{--jp-content-font-family:{families};--jp-ui-font-family:{families};}}'
             f'body{{font-family:{families};}}</style>')
    page = page.replace("</head>", style + "\n</head>", 1)
    # Chromium shapes the first CJK run before a data: font is decoded and keeps the fallback for
    # it; an invisible run of every character, first in the body, takes that hit instead.
    primer = (f'<div aria-hidden="true" style="position:absolute;left:-10000px;top:0;font-family:'
              f'&quot;{EMBEDDED_FAMILY}&quot;">{"".join(sorted(chr(c) for c in chars))}</div>')
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + primer, page, count=1)


def publish(staging: Path, target: Path, order: tuple[str, ...] = PUBLISH_ORDER) -> list[Path]:
    """Move the files of ``staging`` into ``target`` one by one with os.replace, in ``order``
    (results.json last, so its presence means the report beside it is complete), then remove
    ``staging``."""
    target.mkdir(parents=True, exist_ok=True)
    names = [n for n in order if (staging / n).exists()]
    names += sorted(p.name for p in staging.iterdir() if p.is_file() and p.name not in order)
    moved = []
    for name in sorted(names, key=lambda n: (n == "results.json", names.index(n))):
        os.replace(staging / name, target / name)
        moved.append(target / name)
    shutil.rmtree(staging, ignore_errors=True)
    return moved


def _headline(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in doc.get("estimates", []):
        if e.get("segment") is None:
            out[e["id"]] = e
    return out


INDEX_STYLE = """<style>body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",
sans-serif;max-width:900px;margin:2em auto;padding:0 18px;color:#1d2730}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #dde3ea;padding:6px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f3f6f9}.up{color:#2e7d4f}.down{color:#b23b3b}.ns,.muted{color:#8c99a6}
.bad{color:#b23b3b;font-weight:600}</style>"""


def index_page(title: str, body: str) -> str:
    """A small self-contained HTML page (the wave index and the batch index); ``body`` is HTML,
    ``title`` plain text."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{INDEX_STYLE}</head><body>\n'
            f"{body}\n</body></html>\n")


def write_index(out_root: str | Path) -> Path:
    """``reports/index.html``: every wave of every survey found, newest first, with headline KPIs
    and change arrows only where the change was significant."""
    out_root = Path(out_root)
    surveys: dict[str, list[tuple[str, dict]]] = {}
    for path in out_root.glob("*/results.json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or "survey" not in doc:
            continue
        surveys.setdefault(str(doc["survey"]), []).append((path.parent.name, doc))
    ids = [("satisfaction.score", "Satisfaction score"), ("satisfaction.rate", "Satisfaction rate"),
           ("nps", "NPS")]
    e = html.escape
    sections = []
    for survey in sorted(surveys):
        rows = []
        for folder, doc in sorted(surveys[survey], key=lambda fd: wave_sort_key(fd[1].get("wave", fd[0])),
                                  reverse=True):
            head = _headline(doc)
            cells = []
            for kpi, _ in ids:
                est = head.get(kpi)
                if not est or est.get("estimate") is None:
                    cells.append("<td>–</td>")
                    continue
                change = head.get(f"change.{kpi}")
                arrow = ""
                if change and change.get("significant") and change.get("estimate"):
                    arrow = " <span class='up'>▲</span>" if change["estimate"] > 0 else " <span class='down'>▼</span>"
                elif change and change.get("estimate") is not None:
                    arrow = " <span class='ns' title='change within sampling noise'>≈</span>"
                cells.append(f"<td>{e(format_estimate(kpi, est['estimate']))}{arrow}</td>")
            link = f"{e(folder)}/report.html"
            has_report = (out_root / folder / "report.html").exists()
            name = f"<a href='{link}'>{e(str(doc.get('wave')))}</a>" if has_report else e(str(doc.get("wave")))
            rows.append(f"<tr><td>{name}</td><td>{e(str(doc.get('rows', {}).get('clean', '–')))}</td>{''.join(cells)}</tr>")
        head_cells = "".join(f"<th>{e(label)}</th>" for _, label in ids)
        sections.append(f"<h2>{e(survey)}</h2><table><tr><th>wave</th><th>clean base</th>{head_cells}</tr>"
                        + "".join(rows) + "</table>")
    body = ("<h1>CSAT research reports</h1><p>Newest wave first. ▲/▼ mark a change from the previous wave that is "
            "statistically significant (Holm-adjusted p &lt; 0.05); ≈ marks a change within sampling noise.</p>"
            + ("".join(sections) or "<p>No reports yet.</p>"))
    page = index_page("CSAT reports", body)
    return atomic_write_text(out_root / "index.html", page)
