"""Headless Chromium: find it, print a page to PDF, and drive it over the DevTools protocol.

The report's PDF is Chromium's own print of report.html (``--print-to-pdf``), so the PDF shows
exactly what a reviewer's browser shows, inline SVG charts and the embedded CJK font included.
:class:`Chromium` speaks the DevTools protocol over a pipe (``--remote-debugging-pipe``: JSON
messages separated by NUL bytes on file descriptors 3 and 4), which needs no websocket
library; the browser tests and the screenshot tool use it to load a page at a given width and
ask it questions.

Chromium is looked up as ``$CSAT_CHROMIUM`` (set it to an empty string to turn PDF export
off), then ``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["find_chromium", "CHROMIUM_FLAGS", "print_to_pdf", "Chromium", "BrowserError"]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
                  "--hide-scrollbars")


class BrowserError(RuntimeError):
    """Chromium is missing, failed to start, or did not answer in time."""


def find_chromium() -> str | None:
    """The Chromium executable to use, or None (none installed, or ``CSAT_CHROMIUM=""``)."""
    env = os.environ.get("CSAT_CHROMIUM")
    if env is not None:
        return (shutil.which(env) or (env if Path(env).is_file() else None)) if env.strip() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_to_pdf(page: Path, pdf: Path, timeout: float = 120.0, executable: str | None = None) -> Path:
    """Print ``page`` (a local HTML file) to ``pdf`` with headless Chromium, without header or footer.

    Raises
    ------
    BrowserError
        No Chromium, or it failed or produced no PDF.
    """
    exe = executable or find_chromium()
    if exe is None:
        raise BrowserError("no Chromium found (install chromium, or set CSAT_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="csat-chromium-") as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               "--virtual-time-budget=10000", f"--print-to-pdf={pdf}", Path(page).resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrowserError(f"Chromium could not print the report ({type(exc).__name__})") from None
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [""]
        raise BrowserError(f"Chromium could not print the report (exit {proc.returncode}: {tail[0][:200]})")
    return pdf


class Chromium:
    """A headless Chromium driven over the DevTools protocol (pipe transport), one page at a time.

    >>> with Chromium() as browser:                          # doctest: +SKIP
    ...     browser.open(Path("report.html").as_uri(), width=390)
    ...     browser.evaluate("document.title")
    """

    def __init__(self, executable: str | None = None, timeout: float = 60.0):
        exe = executable or find_chromium()
        if exe is None:
            raise BrowserError("no Chromium found (install chromium, or set CSAT_CHROMIUM)")
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="csat-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_pipes() -> None:  # runs in the child before exec: fd 3 in, fd 4 out
            a, b = os.dup(to_child_r), os.dup(from_child_w)  # above 4, so neither dup2 clobbers the other
            os.dup2(a, 3)  # dup2 leaves the copies inheritable (os.pipe's fds are close-on-exec)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe",
             "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    # transport -----------------------------------------------------------------------------
    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_child, json.dumps(msg).encode("utf-8") + b"\0")
        except OSError as exc:  # the browser is gone (closed, crashed, killed)
            raise BrowserError(f"Chromium is not running ({exc.strerror or type(exc).__name__})") from None
        return self._next

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise BrowserError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = "page") -> dict[str, Any]:
        """Send a command (to the page session unless ``session=None``) and wait for its result."""
        sid = self.session if session == "page" else session
        want = self._send(method, params, sid)
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._read_message(deadline)
            if msg.get("id") == want:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait for an event (already received ones count), return it."""
        for i, msg in enumerate(self.events):
            if msg.get("method") == event:
                return self.events.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._read_message(deadline)
            if msg.get("method") == event:
                return msg
            if "method" in msg:
                self.events.append(msg)

    # page ------------------------------------------------------------------------------------
    def open(self, url: str, width: int = 1400, height: int = 900) -> None:
        """Load ``url`` in a fresh page of the given viewport size; wait for load and fonts."""
        if self.session is None:
            target = self.call("Target.createTarget", {"url": "about:blank"}, session=None)["targetId"]
            self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                     session=None)["sessionId"]
            self.call("Page.enable")
            self.call("Network.enable")
            self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        self.evaluate("document.fonts.ready.then(() => true)")

    def print_pdf(self, page: Path, pdf: Path) -> Path:
        """Print ``page`` (a local HTML file) to ``pdf``, as :func:`print_to_pdf` does, in this
        already running browser: the page is loaded, its fonts awaited, and printed without
        header or footer (the same pages, byte for byte, as a cold ``--print-to-pdf``; a run
        saves the browser's start, about 0.7 s).

        Raises
        ------
        BrowserError
            Chromium failed, did not answer in time, or returned no PDF.
        """
        self.open(Path(page).resolve().as_uri())
        data = self.call("Page.printToPDF", {"displayHeaderFooter": False, "printBackground": True,
                                             "preferCSSPageSize": True}).get("data")
        if not data:
            raise BrowserError("Chromium could not print the report (an empty PDF)")
        Path(pdf).write_bytes(base64.b64decode(data))
        return Path(pdf)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise BrowserError(f"JavaScript error: {res['exceptionDetails'].get('text')} "
                               f"{res['exceptionDetails'].get('exception', {}).get('description', '')}")
        return res.get("result", {}).get("value")

    def requested_urls(self) -> list[str]:
        """Every URL the page asked the network stack for since it was opened."""
        self.evaluate("1")  # drain pending events
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def console_errors(self) -> list[str]:
        return [str(e["params"].get("exceptionDetails", {}).get("text")) for e in self.events
                if e.get("method") == "Runtime.exceptionThrown"]

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """A PNG of the viewport (or the whole page)."""
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full_page})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self._send("Browser.close")
                    self.proc.wait(timeout=10)
                except (OSError, BrowserError, subprocess.TimeoutExpired):
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._profile.cleanup()

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
