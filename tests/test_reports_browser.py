"""The reports open cleanly in a real browser (Debian's Chromium, headless).

Protects what a person sees: the provincial report and a county scorecard load with no console
error, uncaught exception or failed resource load, their SVG charts lay out, and a screenshot
(tests/artifacts/, 1400×2400) shows a non-trivial page. The browser is driven through the
DevTools protocol over --remote-debugging-pipe, so errors are read as events rather than
scraped from logs; a control page with deliberate errors proves the detection itself works.
Needs the Debian packages `chromium` and `fonts-noto-cjk` (the Makefile installs them).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from edustat.reports import ReportsResult, build_reports
from fixtures_marts import NOT_READY_COUNTY, create_marts

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTH, HEIGHT = 1400, 2400


class Browser:
    """A headless Chromium spoken to over the DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
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
             session: str | None = None, timeout: float = 60) -> dict[str, Any]:
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

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read_message(deadline))

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


def problems(events: list[dict[str, Any]]) -> list[str]:
    """Console errors/warnings, uncaught exceptions and failed loads among the events."""
    found = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append("uncaught: " + str(details.get("exception", {}).get("description")
                                             or details.get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error", "warning", "assert"):
            found.append("console: " + " ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            found.append(f"log: {entry['text']} {entry.get('url', '')}".strip())
    return found


def open_page(browser: Browser, url: str, screenshot: Path) -> tuple[list[str], dict[str, Any]]:
    """Load `url` in a fresh tab, screenshot it, return (problems, layout facts)."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.call(f"{domain}.enable", session=session)
    browser.call("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        session=session)
    browser.events.clear()
    browser.call("Page.navigate", {"url": url}, session=session)
    browser.wait_for("Page.loadEventFired")
    facts = browser.call("Runtime.evaluate", {"returnByValue": True, "expression": """({
        lang: document.documentElement.lang,
        charset: document.characterSet,
        charts: [...document.querySelectorAll('svg.chart')].map(s => {
            const r = s.getBoundingClientRect(); return [s.id, r.width, r.height]; }),
        bars: document.querySelectorAll('svg.hbar rect').length,
        title: document.title
    })"""}, session=session)["result"]["value"]
    shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    # Let late console messages arrive before judging the page.
    browser.call("Runtime.evaluate", {"expression": "1"}, session=session)
    found = problems(browser.events)
    browser.call("Target.closeTarget", {"targetId": target})
    return found, facts


def png_facts(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the pixel data) of a PNG file."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    binary = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(binary).exists():
        pytest.fail("Chromium missing: apt-get install -y chromium fonts-noto-cjk")
    b = Browser(binary, tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def built(warehouse: str, tmp_path: Path) -> ReportsResult:
    create_marts(warehouse)
    return build_reports(warehouse, tmp_path / "reports",
                         links={"data_docs": "data_docs/index.html"})


def test_error_detection_works_on_a_broken_page(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html lang="zh-CN"><body><p>坏页面</p>'
                    '<img src="missing.png"><script>console.error("boom");'
                    'throw new Error("kaputt");</script></body></html>', encoding="utf-8")
    found, _ = open_page(browser, page.as_uri(), tmp_path / "broken.png")
    text = "\n".join(found)
    assert "kaputt" in text and "boom" in text and "missing.png" in text, found


def test_provincial_report_and_scorecard_render(browser: Browser, built: ReportsResult) -> None:
    pages = {"reports_province_2024": built.provincial[2024],
             "reports_county_2024": built.counties[2024][NOT_READY_COUNTY]}
    for name, path in pages.items():
        shot = ARTIFACTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        found, facts = open_page(browser, path.as_uri(), shot)
        assert found == [], f"{name}: {found}"
        assert facts["lang"] == "zh-CN" and facts["charset"] == "UTF-8"
        assert "年度" in facts["title"]
        width, height, distinct = png_facts(shot)
        assert (width, height) == (WIDTH, HEIGHT)
        assert shot.stat().st_size > 30_000 and distinct > 50, (shot, distinct)
        if name == "reports_province_2024":
            ids = {c[0] for c in facts["charts"]}
            assert {"chart-coverage", "chart-connected", "chart-100mbps"} <= ids
            assert all(w > 100 and h > 50 for _, w, h in facts["charts"]), facts["charts"]
            assert facts["bars"] >= 9  # 3 charts × 3 counties with data
