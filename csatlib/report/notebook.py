"""Execute the report notebook with papermill, on a kernel warmed up while the run works.

The report notebook ships inside the package (``csatlib/report/report.ipynb``), so an installed
``csat`` finds it wherever it runs. A failing notebook raises
:class:`~csatlib.errors.NotebookFailed` after keeping the partial executed notebook.
"""
from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
import tempfile
import warnings
from pathlib import Path
from typing import Any

from ..errors import InputError, NotebookFailed

__all__ = ["report_notebook", "execute_notebook", "WarmKernel", "REPORT_NOTEBOOK"]

REPORT_NOTEBOOK = Path(__file__).resolve().parent / "report.ipynb"


def report_notebook() -> Path:
    """The report notebook shipped with csatlib (package data).

    Raises
    ------
    InputError
        The installation lacks it (a broken install): exit 2 before any work starts.
    """
    if not REPORT_NOTEBOOK.is_file():
        raise InputError(REPORT_NOTEBOOK, "the report notebook is missing from this installation of csatlib")
    return REPORT_NOTEBOOK


class WarmKernel:
    """A report kernel started in a background thread while the run validates and analyses.

    Kernel start-up and the report's imports (about 1.5 s) then overlap with real work instead
    of adding to it. The kernel only holds imports, so the executed notebook is the same as on
    a fresh kernel. Any problem starting it simply leaves :meth:`take` returning None, and the
    notebook runs on a fresh kernel as usual.
    """

    PRELOAD = "import IPython.display\nimport csatlib, csatlib.report.views, csatlib.results"

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


