"""Headless Chromium spoken to over the DevTools pipe: prints the reports as A4 PDF.

Why the browser and not an HTML-to-PDF library (WeasyPrint, xhtml2pdf): the PDF is then what
the same engine shows on screen (the inline SVG charts, CSS grid, the print stylesheet), with
the CJK glyphs embedded as font subsets from the installed fonts (Debian fonts-noto-cjk); one
browser process prints a whole build, a page in a fraction of a second; and it adds no Python
dependency. The browser is Debian's `chromium` (the first `chromium` on PATH), driven
through --remote-debugging-pipe: no port is opened, nothing is fetched (the pages load nothing
from the network, and networking features are switched off).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from edustat.site import write_atomic

# A4 in inches (DevTools takes inches); the margins come from the pages' @page rule.
A4 = (8.27, 11.69)
_FOOTER = ('<div style="width:100%;font-size:8px;color:#616e7c;text-align:center;'
           "font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif\">"
           '第 <span class="pageNumber"></span> 页 / 共 <span class="totalPages"></span> 页</div>')


class BrowserMissing(RuntimeError):
    """No Chromium to print with (Debian package `chromium`)."""


def chromium_binary() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise BrowserMissing("找不到 Chromium，未生成 PDF / Chromium not found, no PDF written:"
                             " apt-get install chromium fonts-noto-cjk fonts-wqy-microhei")
    return found


class Browser:
    """A headless Chromium spoken to over the DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str, profile: Path, window: tuple[int, int] = (1400, 2400)
                 ) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={profile}",
             f"--window-size={window[0]},{window[1]}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 120) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str | None = None, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method and (session is None
                                                     or e.get("sessionId") == session)
                      for e in self.events):
            self.events.append(self._read_message(deadline))

    @contextlib.contextmanager
    def tab(self, domains: tuple[str, ...] = ("Page",)) -> Iterator[str]:
        """A fresh tab; yields its DevTools session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        try:
            for domain in domains:
                self.call(f"{domain}.enable", session=session)
            yield session
        finally:
            self.call("Target.closeTarget", {"targetId": target})

    def navigate(self, session: str, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@contextlib.contextmanager
def browser() -> Iterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="edustat-chromium-") as profile:
        b = Browser(chromium_binary(), Path(profile))
        try:
            yield b
        finally:
            b.close()


def print_pdfs(pages: list[tuple[Path, Path]], workers: int | None = None) -> list[Path]:
    """Print each (HTML page, PDF path) as A4 with the page's print stylesheet; returns the
    PDFs written (see Printer)."""
    with Printer(workers) as printer:
        for html, pdf in pages:
            printer.submit(html, pdf)
    return printer.written


class Printer:
    """Prints pages as they are submitted, while the caller goes on writing the next ones.

    Links are dropped from the printed copy: a relative link means nothing in a PDF that is
    mailed around, and an absolute one would name the server's file system. A scorecard takes
    ~0.4 s of one core: the pages are printed by one browser per core (`workers`, default the
    cores, at most 4), each started when the first page reaches it, so printing a national
    year's 2,855 scorecards runs beside the Python that renders the pages and writes the
    workbooks instead of after it. Leaving the `with` block waits for every page; the first
    error of a browser is raised there."""

    def __init__(self, workers: int | None = None) -> None:
        chromium_binary()  # BrowserMissing before anything is queued
        self._queue: queue.Queue[tuple[Path, Path] | None] = queue.Queue()
        self._count = max(1, min(workers or os.cpu_count() or 1, 4))
        self._pool = ThreadPoolExecutor(max_workers=self._count)
        self._started: list[Future[list[Path]]] = []
        self.written: list[Path] = []

    def submit(self, html: Path, pdf: Path) -> None:
        self._queue.put((html, pdf))
        if len(self._started) < self._count:
            self._started.append(self._pool.submit(self._work))

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in self._started:
            self._queue.put(None)
        try:
            done = [future.result() for future in self._started]
        finally:
            self._pool.shutdown()
        self.written = sorted(p for chunk in done for p in chunk)

    def _work(self) -> list[Path]:
        first = self._queue.get()
        return [] if first is None else _print_chunk(self._pages(first))

    def _pages(self, first: tuple[Path, Path]) -> Iterator[tuple[Path, Path]]:
        yield first
        while (page := self._queue.get()) is not None:
            yield page


def _print_chunk(pages: Iterable[tuple[Path, Path]]) -> list[Path]:
    written: list[Path] = []
    with browser() as b, b.tab() as session:
        for html, pdf in pages:
            b.navigate(session, html.resolve().as_uri())
            b.call("Runtime.evaluate", {"expression": (
                "document.querySelectorAll('a[href]').forEach(a => a.removeAttribute('href'));"
                "document.fonts.ready.then(() => true)"), "awaitPromise": True},
                session=session)
            result = b.call("Page.printToPDF", {
                "paperWidth": A4[0], "paperHeight": A4[1], "printBackground": True,
                "preferCSSPageSize": True, "displayHeaderFooter": True,
                "headerTemplate": "<span></span>", "footerTemplate": _FOOTER,
                "generateDocumentOutline": True,
            }, session=session, timeout=300)
            written.append(write_atomic(pdf, base64.b64decode(result["data"])))
    return written
