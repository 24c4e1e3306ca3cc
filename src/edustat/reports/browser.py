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
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
    PDFs written. Links are dropped from the printed copy: a relative link means nothing in a
    PDF that is mailed around, and an absolute one would name the server's file system.
    A page takes ~0.4 s of one core: a national year's 2,855 scorecards are printed by one
    browser per core (`workers`, default the cores, at most 4)."""
    if not pages:
        return []
    workers = max(1, min(workers or os.cpu_count() or 1, 4, len(pages) // 8 + 1))
    chunks = [pages[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(_print_chunk, chunks))
    return sorted(p for chunk in done for p in chunk)


def _print_chunk(pages: list[tuple[Path, Path]]) -> list[Path]:
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
