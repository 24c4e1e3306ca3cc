"""The county's rejection report: every failing row, column, rule and value, zh + en.

A page of the site (edustat.site): `rejections/<submission_id>/index.html` to read, and
`rejection_report.csv` beside it (UTF-8 with BOM so Excel shows the Chinese; every cell safe to
open: edustat.csvsafe) so the county officer can fix the workbook row by row. The site's
`rejections/index.html` lists every rejected file, newest first; it is rebuilt from the
`report.json` written beside each page, so it needs no database and stays idempotent.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from edustat import csvsafe
from edustat.columns import label
from edustat.findings import Finding
from edustat.site import DATA_DOCS, INDEX, REJECTIONS, write_atomic

_env = Environment(loader=PackageLoader("edustat.intake", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))
CSV_NAME = "rejection_report.csv"
_META = "report.json"


@dataclass(frozen=True)
class RejectedFile:
    submission_id: int
    county_code: str
    county_name: str
    file_name: str
    checksum: str
    received_at: str


CSV_HEADER = ["严重程度 severity", "行号 row", "列 column", "规则 rule", "填报值 value",
              "说明", "explanation"]


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity != "critical", f.row_number or 0,
                                           f.column or "", f.check_id))


def write_report(site: Path, info: RejectedFile, findings: list[Finding]) -> tuple[Path, Path]:
    """Write the report of a rejected file into the site rooted at `site` and refresh the
    index of rejections; returns (page, CSV)."""
    directory = site / REJECTIONS / str(info.submission_id)
    data_docs = f"../../{DATA_DOCS}/{INDEX}" if (site / DATA_DOCS / INDEX).is_file() else None
    page, csv_path = write_files(directory, info, findings, data_docs=data_docs, in_site=True)
    critical = sum(f.critical for f in findings)
    write_atomic(directory / _META, json.dumps(
        {**asdict(info), "errors": critical, "warnings": len(findings) - critical},
        ensure_ascii=False))
    write_index(site)
    return page, csv_path


def write_files(directory: Path, info: RejectedFile, findings: list[Finding], *,
                data_docs: str | None = None, page_name: str = INDEX,
                in_site: bool = False) -> tuple[Path, Path]:
    """The report's page and CSV in `directory` (a page of the site, or `edustat check`'s
    folder, where links to the site's other pages would lead nowhere); returns (page, CSV)."""
    ordered = _ordered(findings)
    directory.mkdir(parents=True, exist_ok=True)
    csv_path = directory / CSV_NAME
    tmp = directory / f".{CSV_NAME}.tmp"
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csvsafe.writer(fh)
        writer.writerow(CSV_HEADER)
        for f in ordered:
            writer.writerow([
                "错误 critical" if f.critical else "警告 warning",
                f.row_number if f.row_number is not None else "",
                label(f.column) if f.column else "",
                f.check_id, f.value if f.value is not None else "",
                f.message_zh, f.message_en,
            ])
    tmp.chmod(0o644)
    tmp.replace(csv_path)
    critical = sum(f.critical for f in ordered)
    html = _env.get_template("rejection_report.html.j2").render(
        info=info, findings=ordered, label=label, critical=critical,
        warnings=len(ordered) - critical, csv_name=CSV_NAME, data_docs=data_docs,
        in_site=in_site,
    )
    return write_atomic(directory / page_name, html), csv_path


def published_rejections(site: Path) -> set[int]:
    """Submission ids whose rejection report is a page of the site."""
    folder = site / REJECTIONS
    if not folder.is_dir():
        return set()
    return {int(p.name) for p in folder.iterdir()
            if p.name.isdigit() and (p / INDEX).is_file()}


def write_index(site: Path) -> Path:
    """rejections/index.html: every rejected file of the site, newest first."""
    entries = []
    for sid in published_rejections(site):
        meta = site / REJECTIONS / str(sid) / _META
        if meta.is_file():
            entries.append(json.loads(meta.read_text(encoding="utf-8")))
    entries.sort(key=lambda e: (e["received_at"], e["submission_id"]), reverse=True)
    html = _env.get_template("rejections_index.html.j2").render(entries=entries,
                                                                csv_name=CSV_NAME)
    path = site / REJECTIONS / INDEX
    if path.is_file() and path.read_text(encoding="utf-8") == html:
        return path  # unchanged: keep its mtime (the reports' scoped rebuilds rely on it)
    return write_atomic(path, html)
