"""The generated site, whole: served by a real HTTP server, crawled, printed and opened offline.

Protects, on a site made by the real parts (reports and A4 PDFs from the fixture marts, a real
GX validation run whose Data Docs are published with their assets bundled, the static dbt
docs of `dbt docs generate`, the rejection report of a hostile file):
- `edustat serve`'s server answers 200 for every link crawled from the index (pages, PDFs,
  workbooks, CSVs, Data Docs assets), and nothing links outside the site;
- it is read-only and reveals nothing else: no directory listing, no file outside the site or
  hidden, no method but GET/HEAD; the command binds 127.0.0.1 by default and refuses to start
  on a site not generated yet, in one line;
- no generated file holds a file:// URL or loads anything from the internet (every src/href,
  stylesheet url() and @import of every HTML/CSS file, Data Docs and dbt docs included), and
  a real browser loading the Data Docs and dbt docs from the server makes no request to any
  other host, with the bundled Bootstrap/jQuery/bootstrap-table actually running;
- each county scorecard and provincial report has an A4 PDF beside it, with its fonts
  embedded, whose text read back names the county and shows its key figures;
- rejection_report.csv of a file with formula-looking values opens with no formula cell;
- public_link names a page under EDUSTAT_PUBLIC_URL, or its server path in words.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pandas as pd
import psycopg
import pypdf
import pytest
from psycopg.rows import dict_row

from edustat import csvsafe
from edustat.config import load_settings
from edustat.findings import Finding
from edustat.intake.rejection_report import CSV_NAME, RejectedFile, write_report
from edustat.reports import ReportsResult, build_reports
from edustat.reports.browser import browser
from edustat.reports.formatting import pct
from edustat.serve import make_server
from edustat.site import public_link, publish_docs
from edustat.transform import dbt_docs_generate
from edustat.validation.frame import build_frame
from edustat.validation.runner import validate_night
from fixtures_marts import COUNTIES, NOT_READY_COUNTY, marts_template
from test_validation_rules import COUNTY, VALID

__all__ = ["marts_template"]

HOSTILE_VALUES = {"primary_students": "=cmd|'/Ccalc'!A0", "junior_students": "+1+1",
                  "books": "@SUM(1+1)", "computers": "-2+3", "classrooms": "\t=1+2"}


@pytest.fixture(scope="module")
def site(pg_server: str, marts_template: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[dict[str, Any]]:
    """EDUSTAT_HOME with a whole site: reports + PDFs, Data Docs, dbt docs, a rejection."""
    from edustat.warehouse.connection import with_database
    from fixtures_marts import _create_db, _drop_db

    home = tmp_path_factory.mktemp("home")
    name = _create_db(pg_server, marts_template)
    dsn = with_database(pg_server, name)
    settings = load_settings({"EDUSTAT_HOME": str(home), "EDUSTAT_WAREHOUSE_DSN": dsn})
    try:
        # A real night's validation: one good file, one whose cells look like formulas.
        rows = [VALID | {"submission_id": 1, "county_folder": COUNTY, "row_number": 4},
                VALID | HOSTILE_VALUES | {"submission_id": 2, "county_folder": COUNTY,
                                          "row_number": 4}]
        # The file's year, as read_and_stage sets it (VALID's school_year).
        frame = build_frame(pd.DataFrame(rows).assign(file_school_year=int(VALID["school_year"])))
        night = validate_night(frame, settings.gx_home, [COUNTY],
                               publish_to=settings.reports / "data-docs")
        findings = night.findings[2]
        info = RejectedFile(2, COUNTY, "大柴旦行委", "攻击=公式.xlsx", "ab" * 32,
                            "2025-03-01 09:30:00+08:00")
        rejection, rejection_csv = write_report(settings.reports, info, findings)
        dbt_docs_generate(dsn, settings.dbt_target)
        links = publish_docs(settings)
        result = build_reports(dsn, settings.reports, links=links, run_id="night-7")
        yield {"home": home, "settings": settings, "dsn": dsn, "result": result,
               "links": links, "findings": findings, "rejection": rejection,
               "rejection_csv": rejection_csv}
    finally:
        _drop_db(pg_server, name)


@pytest.fixture(scope="module")
def server(site: dict[str, Any]) -> Iterator[str]:
    httpd = make_server(site["settings"].reports, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            # data-href: the Data Docs index opens a validation when its row is clicked.
            if key in ("href", "src", "data-href") and value:
                self.found.append((tag, key, value))


def fetch(url: str, method: str = "GET") -> tuple[int, bytes, Message]:
    """(status, body, headers: case-insensitive) of one request."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers


def test_every_link_crawled_from_the_index_answers_200(site: dict[str, Any],
                                                       server: str) -> None:
    seen: dict[str, int] = {}
    queue = [urljoin(server, "index.html")]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        status, body, headers = fetch(url)
        seen[url] = status
        assert status == 200, url
        if not headers.get("Content-Type", "").startswith("text/html"):
            continue
        parser = Links()
        text = body.decode("utf-8")
        parser.feed(text)
        # The Data Docs index lists its validations in the table's data, opened by a click.
        parser.found += [("tr", "data", v) for v in re.findall(r"'(validations/[^']+\.html)'",
                                                                 text)]
        for tag, _, value in parser.found:
            if value.startswith(("#", "data:", "mailto:", "javascript:")):
                continue
            target = urldefrag(urljoin(url, value))[0]
            assert target.startswith(server), f"{url}: {tag} links outside the site: {value}"
            queue.append(target)
    paths = {urlsplit(u).path for u in seen}
    result: ReportsResult = site["result"]
    # The crawl reached every kind of page of the site.
    card = f"/2024/county/{NOT_READY_COUNTY}"
    for expected in ("/index.html", "/2024/index.html", "/2024/index.pdf",
                     f"{card}.html", f"{card}.pdf",
                     "/2024/edustat_2024.xlsx", "/rejections/index.html",
                     "/rejections/2/index.html", f"/rejections/2/{CSV_NAME}",
                     "/data-docs/index.html", "/dbt-docs/index.html"):
        assert expected in paths, expected
    assert any(p.startswith("/data-docs/validations/") for p in paths)
    assert any(p.startswith("/data-docs/static/vendor/") for p in paths)
    assert len(paths) > len(result.counties[2024]) * 2 * 2


def test_the_server_is_read_only_and_shows_nothing_else(site: dict[str, Any],
                                                        server: str) -> None:
    reports = site["settings"].reports
    (reports / "2024" / ".index.html.123.tmp").write_text("half a page", encoding="utf-8")
    outside = site["home"] / "secret.txt"
    outside.write_text("not for the web", encoding="utf-8")
    (reports / "leak").symlink_to(outside)
    try:
        assert fetch(server + "2024/")[0] == 200  # a folder with its index.html
        assert fetch(server + "2024/county/")[0] == 404  # never a listing
        assert fetch(server + "2024/.index.html.123.tmp")[0] == 404
        assert fetch(server + "leak")[0] == 404
        assert fetch(server + "../secret.txt")[0] == 404
        assert fetch(server + "%2e%2e/secret.txt")[0] == 404
        for method in ("POST", "PUT", "DELETE"):
            status, _, headers = fetch(server + "index.html", method)
            assert status == 405 and headers["Allow"] == "GET, HEAD", method
        assert fetch(server + "index.html", "HEAD")[0] == 200
        _, _, headers = fetch(server + "2024/edustat_2024.xlsx")
        assert headers["Content-Type"].startswith("application/vnd.openxmlformats")
        _, _, headers = fetch(server + f"rejections/2/{CSV_NAME}")
        assert headers["Content-Type"] == "text/csv; charset=utf-8"
    finally:
        (reports / "leak").unlink()
        (reports / "2024" / ".index.html.123.tmp").unlink()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_edustat_serve_binds_localhost_and_refuses_an_empty_site(
        site: dict[str, Any], tmp_path: Path) -> None:
    edustat = str(Path(sys.executable).parent / "edustat")
    empty = subprocess.run([edustat, "serve", "--port", str(_free_port())],
                           env={**os.environ, "EDUSTAT_HOME": str(tmp_path / "nothing")},
                           capture_output=True, text=True, timeout=60)
    assert empty.returncode == 1
    assert [line for line in empty.stderr.splitlines() if line] == [
        f"站点尚未生成，请先运行 edustat run 或 edustat report / the site at "
        f"{tmp_path / 'nothing' / 'reports'} is not generated yet: run `edustat run` or"
        " `edustat report` first"]

    port = _free_port()
    proc = subprocess.Popen([edustat, "serve", "--port", str(port)],
                            env={**os.environ, "EDUSTAT_HOME": str(site["home"])},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert f"http://127.0.0.1:{port}/" in line
        status, body, _ = fetch(f"http://127.0.0.1:{port}/index.html")
        assert status == 200 and "统计年度" in body.decode("utf-8")
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                                   text=True).stdout
        # Local address column: this machine only.
        assert [line.split()[3] for line in listening.splitlines()] == [f"127.0.0.1:{port}"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


class Loads(HTMLParser):
    """What a page loads: src of any tag, href of <link>, url()/@import in <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("src"):
            self.urls.append(str(values["src"]))
        if tag == "link" and values.get("href"):
            self.urls.append(str(values["href"]))
        if tag == "a" and re.match(r"(?:https?:)?//", values.get("href") or ""):
            self.urls.append(str(values["href"]))  # a link out of the site, dead offline
        self._style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._style:
            self.urls.extend(_css_urls(data))


def _css_urls(css: str) -> list[str]:
    return [m.group(1) for m in re.finditer(
        r"""(?:url\(\s*["']?|@import\s+["'])([^"')\s]+)""", css)]


def _remote(url: str) -> bool:
    return bool(re.match(r"(?:[a-z]+:)?//", url.strip(), re.I)) and not url.startswith("data:")


def test_nothing_generated_loads_from_the_internet_or_names_a_file_url(
        site: dict[str, Any]) -> None:
    reports = site["settings"].reports
    checked = 0
    for path in reports.rglob("*"):
        if path.suffix not in (".html", ".css", ".json", ".csv") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "file://" not in text, path
        if path.suffix == ".html":
            parser = Loads()
            parser.feed(text)
            urls = parser.urls
        elif path.suffix == ".css":
            urls = _css_urls(text)
        else:
            continue
        assert not [u for u in urls if _remote(u)], f"{path}: {[u for u in urls if _remote(u)]}"
        checked += 1
    assert checked > 20
    for pdf in reports.rglob("*.pdf"):
        assert b"file://" not in pdf.read_bytes(), pdf
    # dbt docs: the tracker loads only when the manifest says usage stats may be sent.
    dbt_docs = (reports / "dbt-docs" / "index.html").read_text(encoding="utf-8")
    assert '"send_anonymous_usage_stats": false' in dbt_docs
    assert "cloudfront.net" not in dbt_docs and "${require" not in dbt_docs
    # The digest and notices name pages through public_link: never a file:// URL.
    with_url = load_settings({"EDUSTAT_HOME": str(site["home"]),
                              "EDUSTAT_PUBLIC_URL": "https://stats.example.edu.cn/edustat/"})
    page = reports / "2024" / "county" / f"{NOT_READY_COUNTY}.html"
    assert public_link(with_url, page) == \
        f"https://stats.example.edu.cn/edustat/2024/county/{NOT_READY_COUNTY}.html"
    assert public_link(site["settings"], page) == f"服务器文件 server file: {page}"


def open_logged(b: Any, url: str, script: str) -> tuple[list[str], list[str], Any]:
    """Load `url` in a fresh tab; (requested URLs, failures/console errors, script's value)."""
    with b.tab(("Page", "Runtime", "Network", "Log")) as session:
        b.navigate(session, url)
        time.sleep(1.0)  # late requests (fonts, scripts run on load) arrive as events
        value = b.call("Runtime.evaluate", {"expression": script, "returnByValue": True,
                                            "awaitPromise": True}, session=session)
        events = [e for e in b.events if e.get("sessionId") == session]
    requests = [e["params"]["request"]["url"] for e in events
                if e.get("method") == "Network.requestWillBeSent"]
    problems = [str(e["params"]) for e in events
                if (e.get("method") == "Network.loadingFailed"
                    and not e["params"].get("canceled"))  # dropped by the page itself
                or e.get("method") == "Runtime.exceptionThrown"
                or (e.get("method") == "Log.entryAdded"
                    and e["params"]["entry"]["level"] == "error")]
    return requests, problems, value["result"].get("value")


def test_data_docs_and_dbt_docs_work_offline_in_a_browser(site: dict[str, Any],
                                                          server: str) -> None:
    validation = next((site["settings"].reports / "data-docs" / "validations").rglob("*.html"))
    pages = {
        "data-docs/index.html": "({jquery: typeof window.jQuery, table: typeof "
                                "(window.jQuery && jQuery.fn.bootstrapTable), rows: "
                                "document.querySelectorAll('table tbody tr').length, "
                                "font: getComputedStyle(document.body).fontFamily})",
        validation.relative_to(site["settings"].reports).as_posix():
            "({jquery: typeof window.jQuery, rows: document.querySelectorAll('tr').length,"
            " vega: typeof window.vegaEmbed})",
        # The project tree (the exposures the reports declare) appears once the embedded
        # manifest is read.
        "dbt-docs/index.html": "new Promise(r => { const t0 = Date.now(); const look = () => {"
                               " const text = document.body.innerText;"
                               " if (text.includes('Exposures') || Date.now() - t0 > 20000)"
                               " r({models: text.includes('edustat')"
                               " && text.includes('Exposures')});"
                               " else setTimeout(look, 200); }; look(); })",
    }
    with browser() as b:
        for path, script in pages.items():
            requests, problems, value = open_logged(b, server + path, script)
            outside = [u for u in requests if not u.startswith((server, "data:", "blob:"))]
            assert outside == [], (path, outside)
            # dbt docs ask for <img src="{{ getIcon(...) }}"> before Angular renders it: a
            # 404 on this server that dbt docs make wherever they are served.
            problems = [p for p in problems if "%7B%7B" not in p]
            assert problems == [], (path, problems)
            if path == "data-docs/index.html":
                assert value["jquery"] == "function" and value["table"] == "function", value
                assert value["rows"] > 0, value  # the validation result list is filled in
                assert any("/static/vendor/bootstrap/" in u for u in requests)
            elif path.startswith("data-docs/validations"):
                assert value["jquery"] == "function" and value["vega"] == "function", value
            else:
                assert value["models"] is True, value


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(path)
    # Chromium maps some CJK glyphs to their Kangxi-radical code points: NFKC folds them back.
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in reader.pages))


def test_pdfs_beside_scorecards_and_provincial_reports(site: dict[str, Any]) -> None:
    result: ReportsResult = site["result"]
    assert result.pdf_problem is None
    for year, cards in result.counties.items():
        for county, page in cards.items():
            assert page.with_suffix(".pdf") in result.pdfs, (year, county)
    with psycopg.connect(site["dsn"], row_factory=dict_row) as conn:
        cov = conn.execute("SELECT * FROM marts.county_multimedia_coverage WHERE school_year ="
                           " 2024 AND county_code = %s", (NOT_READY_COUNTY,)).fetchone()
        region = conn.execute("SELECT * FROM marts.region_summary WHERE school_year = 2024"
                              " AND region_level = 'province'").fetchone()
    card = pdf_text(result.counties[2024][NOT_READY_COUNTY].with_suffix(".pdf"))
    assert f"{COUNTIES[NOT_READY_COUNTY]}({NOT_READY_COUNTY})2024 年度县域评分卡" in card
    assert pct(cov["coverage_ratio"]) in card and pct(cov["fully_covered_share"]) in card
    assert "具备优质均衡评估条件" in card and "一县一案" in card
    report = pdf_text(result.provincial[2024].with_suffix(".pdf"))
    assert "青海省 2024 年度县域义务教育统计报告" in report
    assert "网络多媒体教室覆盖率" in report  # searchable as written (no radical code points)
    assert pct(region["coverage_ratio"]) in report
    assert f"{region['counties_reporting']}/{region['counties_expected']} 县" in report
    for path in (result.provincial[2024].with_suffix(".pdf"),
                 result.counties[2024][NOT_READY_COUNTY].with_suffix(".pdf")):
        reader = pypdf.PdfReader(path)
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
        fonts = [f.get_object() for p in reader.pages
                 for f in (p["/Resources"].get("/Font") or {}).values()]
        assert fonts and all(embedded(f) for f in fonts), fonts


def embedded(font: Any) -> bool:
    """The font's glyphs travel with the PDF (pdffonts' "emb" column)."""
    if font["/Subtype"] == "/Type3":
        return True  # glyphs drawn by the PDF itself
    if font["/Subtype"] == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font["/FontDescriptor"].get_object()
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_rejection_csv_opens_without_formulas(site: dict[str, Any]) -> None:
    findings: list[Finding] = site["findings"]
    assert {f.value for f in findings} >= {"=cmd|'/Ccalc'!A0"}
    with site["rejection_csv"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [cell for row in rows for cell in row]
    assert any(cell == "'=cmd|'/Ccalc'!A0" for cell in cells)
    for cell in cells:
        assert not cell.startswith(csvsafe.FORMULA_STARTS), cell
    # The page shows the values as entered, escaped.
    page = site["rejection"].read_text(encoding="utf-8")
    assert "=cmd|&#39;/Ccalc&#39;!A0" in page
    assert csvsafe.neutralise("-12") == "'-12" and csvsafe.neutralise("城东区") == "城东区"
    index = (site["settings"].reports / "rejections" / "index.html").read_text(encoding="utf-8")
    assert 'href="2/index.html"' in index and "攻击=公式.xlsx" in index
    assert json.loads((site["rejection"].parent / "report.json").read_text())["errors"] >= 1
