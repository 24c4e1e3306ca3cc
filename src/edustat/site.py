"""The generated site: one tree under EDUSTAT_HOME/reports, served as it is.

Layout (every link between these pages is relative, so the tree works from any web server,
`edustat serve`, the docker `reports` service, or a copy on a shared drive):

    index.html                          the years with data; links to everything below
    <year>/index.html                   the year's provincial report (one province), or the
                                        national page of province rows (several provinces)
    <year>/province/<code>.html         a province's report, when the year spans several
    <year>/county/<code>.html           a county scorecard (A4 PDF beside it: <code>.pdf)
    <year>/index.pdf, province/<code>.pdf   provincial reports as A4 PDF
    <year>/edustat_<year>.xlsx          the Excel export (provinces/ when national)
    rejections/index.html               every rejected file, newest first
    rejections/<submission_id>/         its report: index.html and rejection_report.csv
    data-docs/                          GX Data Docs, with their CSS/JS bundled (no CDN)
    dbt-docs/index.html                 dbt docs (one static file, manifest embedded)

How a message names a generated page: a URL under EDUSTAT_PUBLIC_URL, or its path in words.
Notices and digests leave the server (mail, DingTalk), so they never carry a `file://` URL.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from edustat.config import Settings

REJECTIONS = "rejections"
DATA_DOCS = "data-docs"
DBT_DOCS = "dbt-docs"
INDEX = "index.html"


def site_root(settings: Settings) -> Path:
    return settings.reports


def rejection_page(submission_id: int) -> str:
    """A rejection report's page, relative to the site root."""
    return f"{REJECTIONS}/{submission_id}/{INDEX}"


def site_path(settings: Settings, path: Path) -> str:
    """The page's path inside the served site (URL path, '/'-separated, no leading '/');
    ValueError when `path` is not part of the site."""
    return Path(path).resolve().relative_to(site_root(settings).resolve()).as_posix()


def public_link(settings: Settings, path: Path) -> str:
    """A link a person can follow from a message, or the server path in words."""
    if settings.public_url:
        try:
            return f"{settings.public_url}/{site_path(settings, path)}"
        except ValueError:
            pass
    return f"服务器文件 server file: {Path(path).resolve()}"


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write aside and rename: a reader (web server, browser) never sees half a file.
    Published files are world-readable (mkstemp creates 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# dbt's docs page, made to load nothing but itself: its analytics loader (run only when the
# manifest allows usage stats, which edustat never does) pointed nowhere, and two head links
# webpack left unresolved (a site-absolute canonical URL and a `${require(...)}` favicon).
_DBT_DOCS_EDITS = (
    (re.compile(r'"//[\w.-]*cloudfront\.net/[\w./-]*sp\.js"'), '""'),
    (re.compile(r'<link rel="canonical" href="[^"]*"\s*/?>'), ""),
    (re.compile(r'<link rel="shortcut icon" href="\$\{require\([^"]*\)\}"\s*/?>'),
     '<link rel="icon" href="data:,">'),
)


def offline_dbt_docs(html: str) -> str:
    for pattern, replacement in _DBT_DOCS_EDITS:
        html = pattern.sub(replacement, html)
    return html


def publish_docs(settings: Settings) -> dict[str, str]:
    """Bring the GX Data Docs and the dbt docs into the site; the links every report page
    carries, relative to the site root (only to what exists)."""
    from edustat.intake.rejection_report import write_index
    from edustat.validation.data_docs import publish_data_docs

    site = site_root(settings)
    publish_data_docs(settings.data_docs_index.parent, site / DATA_DOCS)
    dbt_docs = settings.dbt_target / "static_index.html"
    target = site / DBT_DOCS / INDEX
    if dbt_docs.is_file() and (not target.is_file()
                               or target.stat().st_mtime < dbt_docs.stat().st_mtime):
        write_atomic(target, offline_dbt_docs(dbt_docs.read_text(encoding="utf-8")))
    write_index(site)
    links = {}
    for key, page in (("data_docs", f"{DATA_DOCS}/{INDEX}"), ("dbt_docs", f"{DBT_DOCS}/{INDEX}"),
                      ("rejections", f"{REJECTIONS}/{INDEX}")):
        if (site / page).is_file():
            links[key] = page
    return links
