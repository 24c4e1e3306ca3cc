"""The county's rejection report: every failing row, column, rule and value, zh + en.

Written beside the quarantined file as HTML (to read) and CSV (UTF-8 with BOM so Excel shows
the Chinese) so the county officer can fix the workbook row by row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from edustat.columns import label
from edustat.findings import Finding

_env = Environment(loader=PackageLoader("edustat.intake", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))


@dataclass(frozen=True)
class RejectedFile:
    submission_id: int
    county_code: str
    county_name: str
    file_name: str
    checksum: str
    received_at: str
    data_docs: str | None


CSV_HEADER = ["严重程度 severity", "行号 row", "列 column", "规则 rule", "填报值 value",
              "说明", "explanation"]


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity != "critical", f.row_number or 0,
                                           f.column or "", f.check_id))


def write_report(directory: Path, info: RejectedFile, findings: list[Finding]
                 ) -> tuple[Path, Path]:
    ordered = _ordered(findings)
    csv_path = directory / "rejection_report.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        for f in ordered:
            writer.writerow([
                "错误 critical" if f.critical else "警告 warning",
                f.row_number if f.row_number is not None else "",
                label(f.column) if f.column else "",
                f.check_id, f.value if f.value is not None else "",
                f.message_zh, f.message_en,
            ])
    html_path = directory / "rejection_report.html"
    html = _env.get_template("rejection_report.html.j2").render(
        info=info, findings=ordered, label=label,
        critical=sum(f.critical for f in ordered),
        warnings=sum(not f.critical for f in ordered),
    )
    html_path.write_text(html, encoding="utf-8")
    return html_path, csv_path
