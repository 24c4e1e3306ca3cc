"""A CSV submission -> decoded text -> records, or the reason it is not a readable CSV.

Encodings accepted (docs/submission-format.md#sheet): UTF-8 with or without BOM, else GB18030
(GBK and GB2312 are subsets, so older systems' exports decode too). Strict decoding on purpose: a
replacement character in a school name would silently become part of the data.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from edustat.findings import Finding
from edustat.intake.messages import finding

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
# Text never has more than a stray control character; binary data has them everywhere.
# Counted on the bytes: in UTF-8 and GB18030 these byte values only ever stand for themselves.
_MAX_CONTROL_SHARE = 0.01
_CONTROL_BYTES = bytes(c for c in range(32) if c not in b"\t\r\n") + b"\x7f"
_CONTROL = re.compile(b"[" + re.escape(_CONTROL_BYTES) + b"]")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # "utf-8", "utf-8-sig" or "gb18030"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _binary(line: int) -> Finding:
    return finding(
        "binary_file",
        f"文件不是文本 CSV：第{line}行起含有二进制内容，请确认上传了正确的文件（.xlsx 或 CSV）",
        f"the file is not a text CSV: binary content from line {line}; check that the right "
        "file (.xlsx or CSV) was submitted",
        value=f"line {line}",
    )


def decode_csv(data: bytes) -> Decoded | Finding:
    """The file's text, or the finding that says why it cannot be text we accept."""
    if data.startswith(_UTF16_BOMS):
        return finding(
            "unsupported_encoding",
            "文件是 UTF-16 编码（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8（逗号分隔）”或 .xlsx",
            "the file is UTF-16 encoded (Excel's 'Unicode text'): save it as 'CSV UTF-8 (comma "
            "delimited)' or as .xlsx",
            value="UTF-16",
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        return _binary(_line_of(data, nul))
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > _MAX_CONTROL_SHARE * len(data):
        first = _CONTROL.search(data)
        return _binary(_line_of(data, first.start() if first else 0))
    if not data.removeprefix(_UTF8_BOM).strip():
        return finding(
            "empty_file", "文件是空的（没有任何内容）", "the file is empty (no content at all)"
        )
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8-sig" if data.startswith(_UTF8_BOM) else "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
            encoding = "gb18030"
        except UnicodeDecodeError as gb_error:
            # The encoding that decoded further is the one the file was meant to be in; its
            # first failure is the place the county should look at.
            start = max(utf8_error.start, gb_error.start)
            line = _line_of(data, start)
            bad = data[start:start + 4].hex(" ")
            return finding(
                "undecodable_text",
                f"第{line}行含有无法识别的字节（{bad}）：文件既不是 UTF-8 也不是 GB18030/GBK 编码，"
                "请另存为“CSV UTF-8（逗号分隔）”",
                f"line {line} holds bytes that are neither UTF-8 nor GB18030/GBK ({bad}): save "
                "the file as 'CSV UTF-8 (comma delimited)'",
                value=bad,
            )
    return Decoded(text, encoding)


class _TooWide(Exception):
    def __init__(self, row: int, columns: int) -> None:
        self.row, self.columns = row, columns


_QUOTED = re.compile(r'"[^"]*"')


def _width_checked(text: str, max_columns: int) -> Iterator[str]:
    """The text's lines for csv.reader, refusing a record of more than `max_columns` fields
    before the parser builds it (a 5-million-column line would take gigabytes as a list).

    A record's fields are its separators outside quotes plus one. Quotes toggle "inside" in
    RFC 4180 CSV whether they open, close or escape (`""`), so the parity of a line's quotes
    tells where the next line starts; closing a line's open ends with a quote lets one regex
    drop every quoted part. All of it runs at C speed (str.count, re.sub).
    """
    record, separators, inside = 1, 0, False
    for line in io.StringIO(text, newline=""):
        ends_inside = inside ^ (line.count('"') % 2 == 1)
        if inside or ends_inside or '"' in line:
            line_outside = _QUOTED.sub("", ('"' if inside else "") + line
                                       + ('"' if ends_inside else ""))
            separators += line_outside.count(",")
        else:
            separators += line.count(",")
        if separators >= max_columns:
            raise _TooWide(record, separators + 1)
        inside = ends_inside
        if not inside:
            record, separators = record + 1, 0
        yield line


class CsvRecords:
    """(row number, fields) per record; row numbers are what Excel shows when it opens the file.

    A quoted field may span lines, so the record number, not the physical line, is the row a
    county finds in Excel. The same column and cell limits as an xlsx (limits.ReadLimits) are
    checked before a record is parsed. A parse error or a limit stops the iteration and is
    kept in `.finding`.
    """

    def __init__(self, text: str, max_columns: int, max_cell_chars: int) -> None:
        self._text = text
        self._max_columns = max_columns
        self._max_cell_chars = max_cell_chars
        self.finding: Finding | None = None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        previous = csv.field_size_limit(self._max_cell_chars)
        try:
            yield from self._records()
        finally:
            csv.field_size_limit(previous)

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(_width_checked(self._text, self._max_columns), strict=False)
        number = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except _TooWide as wide:
                self.finding = _too_wide(wide.row, wide.columns, self._max_columns)
                return
            except csv.Error as exc:
                row = number + 1
                self.finding = (_cell_too_long(row, self._max_cell_chars)
                                if "field larger than field limit" in str(exc)
                                else finding(
                    "malformed_csv",
                    f"CSV 第{row}行格式错误（{exc}），无法继续读取：请检查引号是否成对",
                    f"CSV row {row} is malformed ({exc}); reading stopped: check the quotes",
                    value=f"row {row}",
                ))
                return
            number += 1
            yield number, fields


def _too_wide(row: int, columns: int, limit: int) -> Finding:
    return Finding(
        "too_many_columns", "critical",
        f"CSV 第{row}行至少有 {columns} 列，超过 {limit} 列的上限，已停止读取："
        "请删除多余的列，并确认分隔符是逗号",
        f"CSV row {row} has at least {columns} columns, beyond the {limit}-column limit; "
        "reading stopped: delete the extra columns and check the delimiter is a comma",
        row_number=row, value=str(columns),
    )


def _cell_too_long(row: int, limit: int) -> Finding:
    return Finding(
        "cell_too_long", "critical",
        f"CSV 第{row}行有单元格超过 {limit} 个字符（Excel 单元格的上限），已停止读取："
        "请检查引号是否成对，或删除粘贴进来的大段文字",
        f"CSV row {row} has a cell longer than {limit} characters (Excel's cell limit); "
        "reading stopped: check the quotes are paired, or remove the pasted text",
        row_number=row, value=f"row {row}",
    )
