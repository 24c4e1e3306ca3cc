"""Read one county file (xlsx or csv) into canonical rows, or say precisely why not.

CONTRACT (the rest of the platform relies on it):

    read_submission(path, county_code, limits) -> ReadResult

- Never raises for bad input: every problem becomes a Finding (edustat.findings) with
  check_id, severity, bilingual message, and column/row/value where they apply.
- ReadResult.rows: pandas DataFrame, one row per school row of the sheet, with columns
  `row_number` (int, 1-based row number in the sheet as the county sees it in Excel or in
  the CSV file) + every key of edustat.columns.KEYS (dtype object: normalised text or None)
  + `extra` (JSON text of unknown columns' values for that row, or None).
- Normalised text: full-width -> half-width, spaces trimmed, thousands separators removed
  for numeric columns, `45.0` -> `45` for int columns, numbers stored in code/digits cells
  rendered without `.0`; empty cells in `zero_when_empty` columns -> "0", other empty -> None.
  Text that still is not a valid value is kept as is: validation names it.

How (the rules of docs/submission-format.md, in the order they are applied):
- Size on disk before anything is read (limits.max_file_bytes), then the content decides the
  format whatever the extension (zip -> xlsx, OLE -> encrypted/legacy, text -> csv); a wrong
  extension on a readable file is only a warning.
- xlsx: declared expansion and compression ratio checked before inflating; every member is
  inflated with an output bound and its CRC checked; the sheet (`学校`, else the first) is
  scanned as a stream for formulas, error values and content beyond limits.max_rows /
  max_columns; only then does calamine parse it (intake/xlsx.py, zipcheck.py, sheetscan.py).
- csv: UTF-8 (BOM or not), else GB18030; UTF-16, binary and undecodable bytes are named;
  the xlsx limits hold too (max_columns, max_cell_chars = Excel's 32,767), checked on each
  record's text before it is parsed into fields (intake/csvfile.py).
- Sheet rules (header, blank rows, 合计/填表说明/注, columns) in intake/table.py; value
  normalisation in intake/normalize.py.

check_ids (critical unless marked): file_too_large, unreadable_file, empty_file,
not_a_workbook, encrypted_workbook, legacy_xls, corrupt_workbook, zip_bomb, too_many_rows,
too_many_columns, cell_too_long, binary_file, unsupported_encoding, undecodable_text,
malformed_csv,
no_header_row, missing_column, duplicate_column, no_data_rows, formula_cell, error_cell,
read_error (a bug in the reader, still never an exception); warnings: unknown_column,
extension_mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from edustat.findings import Finding
from edustat.intake.csvfile import CsvRecords, Decoded, decode_csv
from edustat.intake.limits import ReadLimits
from edustat.intake.messages import finding, human_bytes
from edustat.intake.table import build_table, empty_rows
from edustat.intake.xlsx import read_xlsx_grid

__all__ = ["ReadLimits", "ReadResult", "file_year", "read_submission"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: encrypted xlsx or .xls
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_CSV_LIMITS = ("too_many_columns", "cell_too_long")


@dataclass
class ReadResult:
    rows: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None
    encoding: str | None = None
    format: str = "xlsx"  # what the content is ("xlsx" | "csv"), whatever the file is called

    @property
    def readable(self) -> bool:
        return not any(f.critical for f in self.findings)


def _failed(fmt: str, finding: Finding) -> ReadResult:
    return ReadResult(empty_rows(), [finding], format=fmt)


def _mismatch(named: str, actual: str) -> Finding:
    return finding(
        "extension_mismatch",
        f"文件扩展名是 .{named}，内容却是 {actual} 格式：已按 {actual} 读取，"
        "下次请使用正确的扩展名",
        f"the file is named .{named} but holds {actual} content: read as {actual}; please use "
        "the right extension next time",
        severity="warning",
        value=named,
    )


def _cfb(data: bytes) -> Finding:
    if _ENCRYPTED_STREAM in data:
        return finding(
            "encrypted_workbook",
            "工作簿设置了打开密码（已加密），平台无法读取：请取消密码后另存为 .xlsx 再报送",
            "the workbook is password-protected (encrypted) and cannot be read: remove the "
            "password, save as .xlsx and resubmit",
        )
    return finding(
        "legacy_xls",
        "文件是旧版 Excel 97-2003（.xls）或其他 OLE 格式，不是 .xlsx："
        "请在 Excel 中另存为 .xlsx 再报送",
        "the file is a legacy Excel 97-2003 (.xls) or other OLE document, not .xlsx: save it "
        "as .xlsx in Excel and resubmit",
    )


def _not_a_workbook(data: bytes) -> Finding:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return finding(
            "not_a_workbook",
            "文件是网页（HTML）或 XML 格式，只是扩展名为 Excel：请在 Excel 中另存为 .xlsx 再报送",
            "the file is a web page (HTML) or XML with an Excel extension: save it as .xlsx "
            "in Excel and resubmit",
        )
    return finding(
        "not_a_workbook",
        "文件不是 Excel 工作簿（.xlsx），也不是 CSV 文本：内容无法识别，请确认上传了正确的文件",
        "the file is neither an Excel workbook (.xlsx) nor CSV text: unrecognised content; "
        "check that the right file was submitted",
    )


def _read_xlsx(data: bytes, county_code: str, limits: ReadLimits) -> ReadResult:
    grid = read_xlsx_grid(data, limits)
    if grid.grid is None:
        return ReadResult(empty_rows(), grid.findings, sheet=grid.sheet, format="xlsx")
    table = build_table(
        enumerate(grid.grid, start=1),
        county_code=county_code,
        source="xlsx",
        limits=limits,
        marks=grid.marks,
    )
    return ReadResult(
        table.rows, grid.findings + table.findings, sheet=grid.sheet,
        header_row=table.header_row, format="xlsx",
    )


def _read_csv(decoded: Decoded, county_code: str, limits: ReadLimits) -> ReadResult:
    records = CsvRecords(decoded.text, limits.max_columns, limits.max_cell_chars)
    table = build_table(records, county_code=county_code, source="csv", limits=limits)
    findings = table.findings
    if records.finding is not None and records.finding.check_id in _CSV_LIMITS:
        # Refused unread, as an xlsx beyond the same limits is: no half-read table to judge.
        return _failed("csv", records.finding)
    if records.finding is not None:
        findings = [records.finding, *findings]
    return ReadResult(
        table.rows, findings, header_row=table.header_row, encoding=decoded.encoding,
        format="csv",
    )


def _read(path: Path, county_code: str, limits: ReadLimits) -> ReadResult:
    named = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise IsADirectoryError(str(path))
        # Size first: nothing of an oversized file is read into memory.
        if size > limits.max_file_bytes:
            return _failed(named, finding(
                "file_too_large",
                f"文件大小 {human_bytes(size)} 超过上限 {human_bytes(limits.max_file_bytes)}："
                "请只报送学校数据表（删除图片、多余工作表）",
                f"the file is {human_bytes(size)}, above the {human_bytes(limits.max_file_bytes)} "
                "limit: submit only the school sheet (remove pictures and extra sheets)",
                value=str(size),
            ))
        with path.open("rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:  # grew after stat(): still never read past it
            return _failed(named, finding(
                "file_too_large",
                f"文件超过上限 {human_bytes(limits.max_file_bytes)}（报送期间仍在写入？）",
                f"the file is above the {human_bytes(limits.max_file_bytes)} limit (still "
                "being written?)",
            ))
    except OSError as exc:
        return _failed(named, finding(
            "unreadable_file", f"文件无法打开（{exc.strerror or exc}）",
            f"the file cannot be opened ({exc.strerror or exc})",
        ))
    if not data:
        return _failed(named, finding(
            "empty_file", "文件是空的（0 字节），可能上传未完成", "the file is empty (0 bytes)"
        ))
    if data.startswith(_ZIP_MAGIC):
        result = _read_xlsx(data, county_code, limits)
        if named == "csv":
            result.findings.insert(0, _mismatch("csv", "xlsx"))
        return result
    if data.startswith(_CFB_MAGIC):
        return _failed("xlsx", _cfb(data))
    decoded = decode_csv(data)
    if named == "xlsx":
        # A CSV saved under an .xlsx name is still a readable submission; anything else that
        # is not a zip cannot be a workbook.
        if not isinstance(decoded, Decoded) or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
            return _failed("xlsx", _not_a_workbook(data))
        result = _read_csv(decoded, county_code, limits)
        result.findings.insert(0, _mismatch(path.suffix.lower().lstrip(".") or "xlsx", "csv"))
        return result
    if not isinstance(decoded, Decoded):
        return _failed("csv", decoded)
    return _read_csv(decoded, county_code, limits)


def file_year(rows: pd.DataFrame) -> int | None:
    """The school year a file is about: its rows' most common 4-digit 统计年度 (the earliest
    of equally common ones), None when no row has one.

    Decided once, when the file is read (ops.submissions.school_year): validation checks every
    row against it, history compares with the year before it, decide files it under it.
    """
    years = rows["school_year"].dropna()
    years = years[years.astype(str).str.fullmatch(r"\d{4}")].astype(int)
    if years.empty:
        return None
    counts = years.value_counts()
    return int(counts[counts == counts.max()].index.min())


def read_submission(path: Path, county_code: str, limits: ReadLimits) -> ReadResult:
    """Read one county file; see the module docstring for the contract."""
    try:
        return _read(Path(path), county_code, limits)
    except Exception as exc:  # the contract: bad input is a finding, never an exception
        return _failed("csv" if Path(path).suffix.lower() == ".csv" else "xlsx", finding(
            "read_error",
            f"读取文件时发生意外错误（{type(exc).__name__}），文件未被接受：请联系平台管理员",
            f"unexpected error while reading the file ({type(exc).__name__}: {exc}); the file "
            "was not accepted: contact the platform team",
            value=type(exc).__name__,
        ))
