"""Protects the platform from broken and hostile county files: each one becomes exactly the
critical finding that names the problem (and the row, column, cell or value when there is
one), never an exception, never unbounded memory or time.

Expected sizes and ratios are recomputed here from the archives with zipfile, not taken from
the reader's output.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest

from corpus.make_corpus import COUNTY, SCHOOLS
from edustat.findings import Finding
from edustat.intake.readers import ReadLimits, ReadResult, read_submission

CORPUS = Path(__file__).parent / "corpus"
HOSTILE = CORPUS / "hostile"
GOOD = CORPUS / "good"
LIMITS = ReadLimits(
    max_file_bytes=50 * 1024 * 1024,
    max_expanded_bytes=200 * 1024 * 1024,
    max_compression_ratio=200.0,
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def read(name: str, limits: ReadLimits = LIMITS, folder: Path = HOSTILE) -> ReadResult:
    return read_submission(folder / name, COUNTY, limits)


def only(result: ReadResult, check_id: str) -> Finding:
    """The single finding of the result, which must be the critical `check_id`."""
    assert [f.check_id for f in result.findings] == [check_id]
    finding = result.findings[0]
    assert finding.severity == "critical"
    assert not result.readable
    return finding


def rejected_unread(result: ReadResult, check_id: str) -> Finding:
    finding = only(result, check_id)
    assert result.rows.empty
    return finding


@pytest.mark.parametrize("path", sorted(HOSTILE.iterdir()), ids=lambda p: p.name)
def test_every_hostile_file_is_a_bilingual_critical_finding(path: Path) -> None:
    result = read_submission(path, COUNTY, LIMITS)
    assert not result.readable
    for finding in result.findings:
        assert _CJK.search(finding.message_zh), finding
        assert re.search(r"[a-z]{4,} [a-z]{2,}", finding.message_en), finding
        assert finding.check_id != "read_error", finding.message_en


def test_corrupt_workbook() -> None:
    finding = rejected_unread(read("corrupt.xlsx"), "corrupt_workbook")
    assert "损坏" in finding.message_zh and "xl/worksheets/sheet1.xml" in finding.message_zh
    assert "damaged" in finding.message_en


def test_truncated_workbook() -> None:
    size = (HOSTILE / "truncated.xlsx").stat().st_size
    assert size < (GOOD / "numbers_as_text.xlsx").stat().st_size
    finding = rejected_unread(read("truncated.xlsx"), "corrupt_workbook")
    assert "不完整" in finding.message_zh


def test_password_protected_workbook() -> None:
    assert (HOSTILE / "encrypted.xlsx").read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    finding = rejected_unread(read("encrypted.xlsx"), "encrypted_workbook")
    assert "密码" in finding.message_zh and "password" in finding.message_en


def test_legacy_xls() -> None:
    finding = rejected_unread(read("legacy.xls"), "legacy_xls")
    assert ".xls" in finding.message_zh and "save it as .xlsx" in finding.message_en


def test_zip_bomb_by_declared_size() -> None:
    declared = sum(i.file_size for i in zipfile.ZipFile(HOSTILE / "zip_bomb_declared.xlsx")
                   .infolist())
    assert declared > 3_000_000_000 and (HOSTILE / "zip_bomb_declared.xlsx").stat().st_size < 10_000
    finding = rejected_unread(read("zip_bomb_declared.xlsx"), "zip_bomb")
    assert finding.value == str(declared)
    assert "3.6 GB" in finding.message_zh and "200.0 MB" in finding.message_en


def test_zip_bomb_by_compression_ratio() -> None:
    path = HOSTILE / "zip_bomb_ratio.xlsx"
    ratio = sum(i.file_size for i in zipfile.ZipFile(path).infolist()) / path.stat().st_size
    assert ratio > 200
    finding = rejected_unread(read("zip_bomb_ratio.xlsx"), "zip_bomb")
    assert finding.value == f"{ratio:.0f}"
    assert f"{ratio:.0f}:1" in finding.message_zh


def test_zip_bomb_that_lies_about_its_size() -> None:
    info = zipfile.ZipFile(HOSTILE / "zip_bomb_lying.xlsx").getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size == 2048 and info.compress_size > 2048
    finding = rejected_unread(read("zip_bomb_lying.xlsx"), "zip_bomb")
    assert finding.value == "xl/worksheets/sheet1.xml"
    assert "2.0 KB" in finding.message_en


def test_file_above_the_size_limit(tmp_path: Path) -> None:
    good = GOOD / "numbers_as_text.xlsx"
    size = good.stat().st_size
    small = ReadLimits(size - 1, LIMITS.max_expanded_bytes, LIMITS.max_compression_ratio)
    finding = rejected_unread(read_submission(good, COUNTY, small), "file_too_large")
    assert finding.value == str(size)
    # Checked before reading: a sparse 3 GB file costs nothing to reject.
    huge = tmp_path / "huge.xlsx"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)
    finding = rejected_unread(read_submission(huge, COUNTY, LIMITS), "file_too_large")
    assert "3.0 GB" in finding.message_zh and "50.0 MB" in finding.message_zh


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.csv", "blank.csv"])
def test_empty_files(name: str) -> None:
    finding = rejected_unread(read(name), "empty_file")
    assert "空" in finding.message_zh


def test_header_row_below_the_first_ten_rows() -> None:
    finding = rejected_unread(read("no_header.xlsx"), "no_header_row")
    assert "前10行" in finding.message_zh and "第12行" in finding.message_zh
    assert "row 12" in finding.message_en


def test_csv_without_a_header_row() -> None:
    finding = rejected_unread(read("no_header.csv"), "no_header_row")
    assert "学校标识码" in finding.message_zh


def test_tab_separated_csv_is_told_about_the_delimiter() -> None:
    finding = rejected_unread(read("tab_separated.csv"), "no_header_row")
    assert "分隔符" in finding.message_zh and "delimiter" in finding.message_en


@pytest.mark.parametrize("name", ["formulas.xlsx", "formula_no_refs.xlsx",
                                  "formula_prefixed.xlsx"])
def test_formula_cells_in_the_data_are_named(name: str) -> None:
    result = read(name)
    assert not result.readable
    found = [(f.check_id, f.row_number, f.column, f.value) for f in result.findings]
    # The 合计 row of formulas.xlsx is all SUM formulas too: it ends the data, so it is fine.
    assert found == [
        ("formula_cell", 2, "primary_students", "=1200+34"),
        ("formula_cell", 3, "books", "=SUM(Y2:Y2)*2"),
    ]
    assert "第2行「小学在校生数 (primary_students)」" in result.findings[0].message_zh
    assert "G2" in result.findings[0].message_zh and "Y3" in result.findings[1].message_en
    # The cached values are still read: validation can report on them too.
    assert result.rows.loc[0, "primary_students"] == "1234"


def test_error_value_cell() -> None:
    result = read("error_cell.xlsx")
    finding = only(result, "error_cell")
    assert (finding.row_number, finding.column, finding.value) == (5, "primary_students", "#N/A")
    assert "G5" in finding.message_zh and "#N/A" in finding.message_en


def test_content_a_million_rows_down() -> None:
    finding = rejected_unread(read("far_cell.xlsx"), "too_many_rows")
    assert (finding.value, finding.row_number) == ("AK1000000", 1_000_000)
    assert "AK1000000" in finding.message_zh


def test_content_in_the_last_excel_column() -> None:
    finding = rejected_unread(read("wide_cell.xlsx"), "too_many_columns")
    assert (finding.value, finding.row_number) == ("XFD5", 5)


def test_too_many_data_rows_in_csv() -> None:
    small = ReadLimits(LIMITS.max_file_bytes, LIMITS.max_expanded_bytes,
                       LIMITS.max_compression_ratio, max_rows=2)
    result = read("utf8.csv", small, GOOD)
    finding = only(result, "too_many_rows")
    assert finding.row_number == 4 and "第4行" in finding.message_zh
    assert len(result.rows) == 2


def test_too_many_rows_in_xlsx_stops_before_parsing() -> None:
    small = ReadLimits(LIMITS.max_file_bytes, LIMITS.max_expanded_bytes,
                       LIMITS.max_compression_ratio, max_rows=2)
    finding = rejected_unread(read("numbers_as_text.xlsx", small, GOOD), "too_many_rows")
    assert finding.value == "A3"


def test_random_bytes_named_xlsx() -> None:
    finding = rejected_unread(read("random.xlsx"), "not_a_workbook")
    assert "不是 Excel 工作簿" in finding.message_zh


def test_random_bytes_named_csv() -> None:
    rejected_unread(read("random.csv"), "binary_file")


def test_html_table_named_xlsx() -> None:
    finding = rejected_unread(read("html_table.xlsx"), "not_a_workbook")
    assert "HTML" in finding.message_zh


def test_zip_that_is_not_a_workbook() -> None:
    finding = rejected_unread(read("not_a_workbook.xlsx"), "not_a_workbook")
    assert "xl/workbook.xml" in finding.message_en


def test_utf16_csv() -> None:
    finding = rejected_unread(read("utf16.csv"), "unsupported_encoding")
    assert "UTF-16" in finding.message_zh


def test_bytes_neither_utf8_nor_gb18030() -> None:
    finding = rejected_unread(read("undecodable.csv"), "undecodable_text")
    assert finding.value == "ff fe fd 0d"
    assert "第3行" in finding.message_zh and "GB18030" in finding.message_en


def test_csv_cell_beyond_the_xlsx_cell_limit() -> None:
    finding = rejected_unread(read("huge_field.csv"), "cell_too_long")
    assert "第2行" in finding.message_zh and "32767" in finding.message_zh


def test_csv_wider_than_the_column_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    """The xlsx column limit holds for CSV too, found on the record's text: a 5-million-column
    line (10 MB) is refused in well under a second, in a few times its size of memory (parsing
    it into fields took gigabytes), as one column too many is."""
    import time
    import tracemalloc

    from corpus.make_corpus import HEADERS

    def measured(columns: int) -> tuple[Finding, float, int, int]:
        path = tmp_path / f"wide{columns}.csv"
        path.write_bytes(",".join([*HEADERS, *["x"] * (columns - len(HEADERS))]).encode()
                         + b"\r\n2025\r\n")
        tracemalloc.start()
        started = time.perf_counter()
        result = read_submission(path, COUNTY, LIMITS)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return rejected_unread(result, "too_many_columns"), elapsed, peak, path.stat().st_size

    read("huge_field.csv")  # whatever the reader imports on first use is not counted
    narrow, _, base, _ = measured(LIMITS.max_columns + 1)
    wide, elapsed, peak, size = measured(5_000_000)
    for finding in (narrow, wide):
        assert finding.row_number == 1 and int(finding.value) > LIMITS.max_columns
        assert "200 列" in finding.message_zh
    # The reader reserves its whole size limit for any read (a fixed cost, never touched):
    # what the wide line adds to it is what counts.
    assert elapsed < 5 and peak - base < 6 * size


def test_missing_required_column() -> None:
    result = read("missing_column.xlsx")
    finding = only(result, "missing_column")
    assert (finding.column, finding.row_number) == ("bandwidth_mbps", 1)
    assert "「出口带宽(Mbps) (bandwidth_mbps)」" in finding.message_zh
    assert list(result.rows["bandwidth_mbps"]) == [None, None, None]
    assert list(result.rows["school_code"]) == [s["school_code"] for s in SCHOOLS]


def test_duplicate_column() -> None:
    finding = only(read("duplicate_column.xlsx"), "duplicate_column")
    assert finding.column == "primary_students"
    assert "G列" in finding.message_zh and "AL列" in finding.message_zh


def test_header_without_data() -> None:
    rejected_unread(read("header_only.xlsx"), "no_data_rows")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    rejected_unread(read_submission(tmp_path / "gone.xlsx", COUNTY, LIMITS), "unreadable_file")
    folder = tmp_path / "folder.xlsx"
    os.mkdir(folder)
    rejected_unread(read_submission(folder, COUNTY, LIMITS), "unreadable_file")
