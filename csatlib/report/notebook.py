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

__all__ = ["report_notebook", "execute_notebook", "WarmKernel", "KernelPool", "REPORT_NOTEBOOK"]

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

    A kernel that belongs to a :class:`KernelPool` is reused for one notebook after another:
    before each reuse :meth:`take` clears it back to the state of a freshly warmed kernel (see
    :attr:`RESET`), and :meth:`done` hands it back to the pool instead of shutting it down.
    The kernel process is told its parent (``JPY_PARENT_PID``), so it exits by itself if the
    process that started it dies without shutting it down.
    """

    PRELOAD = "import IPython.display\nimport csatlib, csatlib.report.views, csatlib.results"
    # the new folder first: IPython's reset reads the working folder, and the previous notebook's
    # folder may be gone (a batch segment's temporary folder), which made every other reset fail
    RESET = ("__import__('os').chdir({cwd!r})\n"
             "get_ipython().reset(new_session=True)\n"
             "import sys as _csat_sys\n"
             "if 'matplotlib.pyplot' in _csat_sys.modules:  # a custom notebook drew with matplotlib\n"
             "    _csat_sys.modules['matplotlib.pyplot'].close('all')\n"
             "    _csat_sys.modules['matplotlib'].rcdefaults()\n"
             "del _csat_sys\n")
    """Run (without storing history) before a pooled kernel's next notebook, followed by
    :attr:`PRELOAD`: IPython's own reset with a new history session (every user variable and
    output cache of the previous notebook is gone, the execution counter restarts at 1, and
    history lines are not numbered twice), matplotlib figures closed and rcParams restored when a notebook
    used matplotlib, then the report imports; the working folder is the new notebook's. What stays is what a fresh warm kernel
    also has: imported modules."""

    def __init__(self, cwd: Path, kernel_name: str = "python3", pool: "KernelPool | None" = None):
        import threading

        self.cwd, self.kernel_name, self.pool = Path(cwd), kernel_name, pool
        self.km = None
        self.error: Exception | None = None
        self.uses = 0
        self.broken = False
        self._thread = threading.Thread(target=self._start, name="csat-warm-kernel", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        import subprocess

        try:
            from jupyter_client.manager import KernelManager

            # papermill's client must be asynchronous: nbclient watches the kernel's heartbeat and
            # the cell timeout on its event loop, which a blocking client would stall (a kernel that
            # died mid-notebook would then be waited for forever)
            km = KernelManager(kernel_name=self.kernel_name,
                               client_class="jupyter_client.asynchronous.AsyncKernelClient")
            # no IPython history: a report kernel never needs it, and kernels of parallel runs would
            # otherwise queue on one SQLite file (seconds per notebook in a batch)
            km.start_kernel(cwd=str(self.cwd), extra_arguments=["--HistoryManager.enabled=False"],
                            env={**os.environ, "MPLBACKEND": "Agg",
                                                    "JPY_PARENT_PID": str(os.getpid())},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.km = km  # set first, so shutdown() can always reach a started kernel
            self._execute(self.PRELOAD, timeout=120, wait_ready=True)
        except Exception as exc:  # never fatal: the notebook falls back to a fresh kernel
            self.error = exc
            self.shutdown()

    def _execute(self, code: str, timeout: float, wait_ready: bool = False) -> None:
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient(**self.km.get_connection_info(session=True),
                                  connection_file=self.km.connection_file, parent=self.km)
        kc.start_channels()
        try:
            if wait_ready:
                kc.wait_for_ready(timeout=60)
            reply = kc.execute_interactive(code, timeout=timeout, store_history=False,
                                           output_hook=lambda msg: None)
            if reply["content"].get("status") != "ok":
                raise RuntimeError("the report stack failed to import in the kernel")
        finally:
            kc.stop_channels()

    def alive(self) -> bool:
        """False once the kernel failed to start, died, broke or was shut down."""
        if self._thread.is_alive():
            return True
        return self.error is None and not self.broken and self.km is not None and self.km.is_alive()

    def take(self, timeout: float = 120.0):
        """The ready kernel manager, or None if it could not be started.

        A pooled kernel that already ran a notebook is first reset for the next one (in
        :attr:`cwd`)."""
        self._thread.join(timeout)
        if self._thread.is_alive() or self.error is not None or self.km is None:
            return None
        if self.uses:
            try:
                self._execute(self.RESET.format(cwd=str(self.cwd)) + self.PRELOAD, timeout=60)
            except Exception:  # a kernel that cannot be reset is not reused
                self.broken = True
                return None
        self.uses += 1
        return self.km

    def done(self) -> None:
        """Finished with this kernel: back to its pool (if any and still healthy), else shut down."""
        if self.pool is not None and self.alive():
            self.pool.release(self)
        else:
            self.shutdown()

    def shutdown(self) -> None:
        km, self.km = self.km, None
        if km is not None:
            try:
                km.shutdown_kernel(now=True)
            except Exception:
                pass


class KernelPool:
    """Warm report kernels kept by a long-lived process (a Dask worker) across notebooks.

    :meth:`acquire` hands out an idle kernel (reset for the next notebook when it is taken) or
    starts a new one in the background; :meth:`WarmKernel.done` gives it back. A kernel that
    failed, died or timed out is shut down instead of being returned. At most ``max_idle``
    kernels are kept idle; :meth:`shutdown` (also registered with :mod:`atexit`) stops them all.

    Reuse saves the kernel start and the report's imports (1.5-2 s per notebook). Isolation:
    each notebook starts from an emptied namespace, closed figures, default-then-report
    matplotlib settings, its own working folder and execution count 1, so its output is the
    same as on a fresh kernel (``tests/test_batch.py`` checks that byte for byte).
    """

    def __init__(self, kernel_name: str = "python3", max_idle: int = 1):
        import atexit
        import threading

        self.kernel_name, self.max_idle = kernel_name, max_idle
        self._idle: list[WarmKernel] = []
        self._lock = threading.Lock()
        self.started = 0
        atexit.register(self.shutdown)

    def acquire(self, cwd: Path) -> WarmKernel:
        """A kernel for a notebook run in ``cwd``: an idle one if healthy, else a new one."""
        with self._lock:
            while self._idle:
                kernel = self._idle.pop()
                if kernel.alive():
                    kernel.cwd = Path(cwd)
                    return kernel
                kernel.shutdown()
            self.started += 1
        return WarmKernel(cwd, self.kernel_name, pool=self)

    def release(self, kernel: WarmKernel) -> None:
        with self._lock:
            if kernel in self._idle:
                return
            if len(self._idle) < self.max_idle and kernel.alive():
                self._idle.append(kernel)
                return
        kernel.shutdown()

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for kernel in idle:
            kernel.shutdown()

    def __repr__(self) -> str:
        return f"KernelPool({len(self._idle)} idle, {self.started} started)"


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], failed_copy: Path | None = None,
                     timeout: int = 600, kernel: WarmKernel | None = None) -> Path:
    """Execute ``notebook`` with papermill into ``output``.

    ``kernel``: a :class:`WarmKernel` to run on (afterwards it is shut down, or handed back to its
    :class:`KernelPool` when the notebook ran to the end), else a fresh one.
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
            # on a warm kernel, the notebook is written once at the end (and when a cell fails or
            # the kernel dies), not twice per cell as papermill does for progress (0.5 s a report)
            extra = {"km": km, "engine_name": _kept_kernel_engine(), "request_save_on_cell_execute": False,
                     "partial_output": str(output)} if km is not None else {}
            pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                progress_bar=False, log_output=False, cwd=str(notebook.parent),
                                execution_timeout=timeout, **extra)
    except pm.PapermillExecutionError as exc:
        if kernel is not None:
            kernel.broken = True  # a failed notebook's kernel is not reused
        kept = _keep_partial(output, failed_copy)
        raise NotebookFailed(f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: "
                             f"{str(exc.evalue).splitlines()[0][:200] if exc.evalue else ''}; partial notebook "
                             f"kept at {kept}", str(kept)) from None
    except Exception as exc:  # kernel died, timeout, missing kernel
        if kernel is not None:
            kernel.broken = True
        kept = _keep_partial(output, failed_copy)
        raise NotebookFailed(f"{notebook.name} could not be executed: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:200] if str(exc) else ''}; partial notebook kept at {kept}",
                             str(kept)) from None
    finally:
        if kernel is not None:
            kernel.done()
        if env_before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_before
    return output


_ENGINE = "csat-kept-kernel"
_ENGINE_REGISTERED = False


def _kept_kernel_engine() -> str:
    """papermill's nbclient engine, for a kernel papermill did not start (a :class:`WarmKernel`).

    nbclient leaves a kernel it did not start running, as wanted, but also leaves its kernel
    client's channels open: about a dozen file descriptors per notebook, which a pooled kernel
    rendering hundreds of segments would run out of. This engine runs the notebook exactly as
    papermill's default engine does (the same client, the same arguments) and then closes that
    client's channels. papermill is asked not to save after every cell; when the execution
    itself fails (a dead kernel, a timeout), the engine writes the partial notebook to
    ``partial_output`` so it can still be kept. Registered with papermill once per process;
    returns its name.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    global _ENGINE_REGISTERED
    if _ENGINE_REGISTERED:
        return _ENGINE

    class KeptKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     partial_output=None, **kwargs):
            # the argument handling of papermill's NBClientEngine.execute_managed_notebook (2.6-2.7)
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(safe_kwargs, timeout=execution_timeout if execution_timeout else
                                        kwargs.get("timeout"), startup_timeout=start_timeout, kernel_name=kernel_name,
                                        log=logger, log_output=log_output, stdout_file=stdout_file,
                                        stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, **final_kwargs)
            try:
                return client.execute()
            except Exception:
                if partial_output:  # what ran so far, for the failed notebook the run keeps
                    import nbformat

                    nbformat.write(nb_man.nb, partial_output)
                raise
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                    client.kc = None

    papermill_engines.register(_ENGINE, KeptKernelEngine)
    _ENGINE_REGISTERED = True
    return _ENGINE


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


