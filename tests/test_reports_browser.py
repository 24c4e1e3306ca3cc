"""The reports open cleanly in a real browser (Debian's Chromium, headless), as served.

Protects what a person sees: the provincial report and a county scorecard, served by the
site's HTTP server (edustat.serve), load with no console error, uncaught exception or failed
resource load, their SVG charts lay out inside the page (no table wider than the screen), the
contents bar stays at the top while scrolling, and a screenshot (tests/artifacts/, 1400×2400)
shows a non-trivial page. The browser is driven through the DevTools protocol
(edustat.reports.browser, the same driver that prints the PDFs), so errors are read as events
rather than scraped from logs; a control page with deliberate errors proves the detection
itself works. Needs the Debian packages `chromium` and `fonts-noto-cjk` (the Makefile installs
them).
"""

from __future__ import annotations

import base64
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edustat.reports import ReportsResult, build_reports
from edustat.reports.browser import Browser, browser
from edustat.serve import make_server
from fixtures_marts import NOT_READY_COUNTY, marts, marts_template

__all__ = ["marts", "marts_template"]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTH, HEIGHT = 1400, 2400


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


def open_page(b: Browser, url: str, screenshot: Path) -> tuple[list[str], dict[str, Any]]:
    """Load `url` in a fresh tab, screenshot it, return (problems, layout facts)."""
    with b.tab(("Page", "Runtime", "Log")) as session:
        b.call("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            session=session)
        b.navigate(session, url)
        facts = b.call("Runtime.evaluate", {"returnByValue": True, "expression": """({
            lang: document.documentElement.lang,
            charset: document.characterSet,
            charts: [...document.querySelectorAll('svg.chart')].map(s => {
                const r = s.getBoundingClientRect(); return [s.id, r.width, r.height]; }),
            bars: document.querySelectorAll('svg.hbar rect').length,
            title: document.title,
            overflow: [...document.querySelectorAll('table')].filter(t =>
                t.getBoundingClientRect().right > document.querySelector('main')
                    .getBoundingClientRect().right + 1).length,
            contents: (() => { window.scrollTo(0, 1500);
                const bar = document.querySelector('nav.contents');
                return bar ? bar.getBoundingClientRect().top : null; })()
        })"""}, session=session)["result"]["value"]
        b.call("Runtime.evaluate", {"expression": "window.scrollTo(0, 0)"}, session=session)
        shot = b.call("Page.captureScreenshot", {"format": "png"}, session=session)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        # Let late console messages arrive before judging the page.
        b.call("Runtime.evaluate", {"expression": "1"}, session=session)
        found = problems([e for e in b.events if e.get("sessionId") == session])
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
def chromium() -> Iterator[Browser]:
    with browser() as b:
        yield b


@pytest.fixture
def served(marts: str, tmp_path: Path) -> Iterator[tuple[ReportsResult, str]]:
    result = build_reports(marts, tmp_path / "reports", pdf=False)
    httpd = make_server(result.out_dir, "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield result, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_error_detection_works_on_a_broken_page(chromium: Browser, tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html lang="zh-CN"><body><p>坏页面</p>'
                    '<img src="missing.png"><script>console.error("boom");'
                    'throw new Error("kaputt");</script></body></html>', encoding="utf-8")
    found, _ = open_page(chromium, page.as_uri(), tmp_path / "broken.png")
    text = "\n".join(found)
    assert "kaputt" in text and "boom" in text and "missing.png" in text, found


def test_provincial_report_and_scorecard_render(chromium: Browser,
                                                served: tuple[ReportsResult, str]) -> None:
    _, base = served
    pages = {"reports_province_2024": "2024/index.html",
             "reports_county_2024": f"2024/county/{NOT_READY_COUNTY}.html"}
    for name, path in pages.items():
        shot = ARTIFACTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        found, facts = open_page(chromium, base + path, shot)
        assert found == [], f"{name}: {found}"
        assert facts["lang"] == "zh-CN" and facts["charset"] == "UTF-8"
        assert "年度" in facts["title"]
        assert facts["overflow"] == 0, f"{name}: a table is wider than the page"
        assert facts["contents"] == 0, f"{name}: the contents bar scrolled away"
        width, height, distinct = png_facts(shot)
        assert (width, height) == (WIDTH, HEIGHT)
        assert shot.stat().st_size > 30_000 and distinct > 50, (shot, distinct)
        if name == "reports_province_2024":
            ids = {c[0] for c in facts["charts"]}
            assert {"chart-coverage", "chart-connected", "chart-100mbps"} <= ids
            assert all(w > 100 and h > 50 for _, w, h in facts["charts"]), facts["charts"]
            assert facts["bars"] >= 9  # 3 charts × 3 counties with data
