"""An xlsx submission -> the chosen sheet as a grid of cell values, after the safety checks.

Order matters: declared sizes (zipcheck) -> locate the sheet (workbook.xml + rels, small and
verified) -> inflate and verify every member, scanning the sheet (sheetscan) -> only then let
calamine parse values. Nothing here raises for bad input: problems come back as findings.
"""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

from python_calamine import CalamineWorkbook

from edustat.findings import Finding
from edustat.intake.limits import ReadLimits
from edustat.intake.messages import finding
from edustat.intake.normalize import squeeze
from edustat.intake.sheetscan import (
    CellMark,
    NeedsPositions,
    SheetScan,
    SheetScanner,
    SheetTooLarge,
)
from edustat.intake.zipcheck import ZipProblem, corrupt, inflate, open_archive, read_member

PREFERRED_SHEET = "学校"
# workbook.xml and .rels are a few KB; a megabytes-large one is not a spreadsheet's.
_MAX_INDEX_PART = 8 * 1024 * 1024
_OFFICE_DOCUMENT = "/officeDocument"


@dataclass
class XlsxGrid:
    grid: list[list[object]] | None  # row 0 is sheet row 1; None when unreadable
    sheet: str | None = None
    marks: dict[tuple[int, int], CellMark] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def _not_a_workbook(detail_zh: str, detail_en: str) -> Finding:
    return finding(
        "not_a_workbook",
        f"文件是 zip 压缩包但不是 Excel 工作簿（{detail_zh}）：请报送 .xlsx 工作簿或 CSV 文件",
        f"the file is a zip archive but not an Excel workbook ({detail_en}): submit an .xlsx "
        "workbook or a CSV file",
    )


def _parse_xml(data: bytes, name: str) -> ET.Element:
    # Python's expat refuses entity-expansion bombs (billion laughs) by itself since 2.4.
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise corrupt(f"{name} 不是有效的 XML", f"{name} is not valid XML: {exc}") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(
    data: bytes, info: zipfile.ZipInfo | None, base: str
) -> dict[str, tuple[str, str]]:
    """rId -> (type, resolved part name) from a .rels part (absent part: no relationships)."""
    if info is None:
        return {}
    root = _parse_xml(read_member(data, info, _MAX_INDEX_PART), info.filename)
    rels: dict[str, tuple[str, str]] = {}
    for rel in root:
        if _local(rel.tag) != "Relationship":
            continue
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(base, target)
        )
        rels[rel.get("Id", "")] = (rel.get("Type", ""), part)
    return rels


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _sheets(data: bytes, members: dict[str, zipfile.ZipInfo]) -> list[tuple[str, str]]:
    """(sheet name, part name) in workbook order; raises ZipProblem."""
    package = _relationships(data, members.get("_rels/.rels"), "")
    workbook_part = next(
        (part for kind, part in package.values() if kind.endswith(_OFFICE_DOCUMENT)),
        "xl/workbook.xml",
    )
    info = members.get(workbook_part)
    if info is None:
        raise ZipProblem(_not_a_workbook(f"缺少 {workbook_part}", f"no {workbook_part}"))
    root = _parse_xml(read_member(data, info, _MAX_INDEX_PART), workbook_part)
    rels = _relationships(
        data, members.get(_rels_name(workbook_part)), posixpath.dirname(workbook_part)
    )
    sheets: list[tuple[str, str]] = []
    for element in root.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        if rid in rels:
            sheets.append((element.get("name", ""), rels[rid][1]))
    return sheets


def _scan_and_verify(
    data: bytes, archive: zipfile.ZipFile, sheet_part: str, limits: ReadLimits
) -> SheetScan:
    """Inflate every member with bounds and CRC; scan the chosen sheet on the way."""
    scan: SheetScan | None = None
    for info in archive.infolist():
        if info.filename != sheet_part:
            inflate(data, info, lambda _chunk: None)
            continue
        scanner = SheetScanner(limits)
        try:
            inflate(data, info, scanner.feed)
            scan = scanner.close()
        except NeedsPositions:
            scanner = SheetScanner(limits, precise=True)
            inflate(data, info, scanner.feed)
            scan = scanner.close()
    if scan is None:
        raise corrupt(f"缺少工作表 {sheet_part}", f"worksheet part {sheet_part} missing")
    return scan


def read_xlsx_grid(data: bytes, limits: ReadLimits) -> XlsxGrid:
    try:
        archive = open_archive(data, limits)
        members = {info.filename: info for info in archive.infolist()}
        sheets = _sheets(data, members)
        if not sheets:
            raise corrupt("工作簿中没有工作表", "the workbook has no worksheet")
        # The form's sheet is 学校; counties sometimes pad the tab name with spaces.
        sheet, part = next(
            ((name, part) for name, part in sheets if squeeze(name) == PREFERRED_SHEET),
            sheets[0],
        )
        scan = _scan_and_verify(data, archive, part, limits)
    except (ZipProblem, SheetTooLarge) as problem:
        return XlsxGrid(None, findings=[problem.finding])

    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
            values = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own and plain errors for broken XML
        return XlsxGrid(None, sheet=sheet, findings=[
            corrupt("工作表内容无法解析", f"sheet content unreadable: {exc}").finding
        ])
    marks = {(m.row, m.col): m for m in scan.marks}
    return XlsxGrid(values, sheet=sheet, marks=marks)
