"""Protects acceptance of real county files: every variation docs/submission-format.md lists under
"What real files look like" is read to exactly the canonical values of the corpus' schools.

The expected values are corpus/make_corpus.py's SCHOOLS (the values the generator started from
before dressing them up); where a test names a raw cell, it is read back with openpyxl, a
different parser than the reader's, to prove the variation is really in the file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from corpus.make_corpus import COUNTY, SCHOOLS
from edustat.columns import KEYS
from edustat.config import load_settings
from edustat.intake.readers import ReadLimits, ReadResult, read_submission
from edustat.intake.table import ROW_COLUMNS

GOOD = Path(__file__).parent / "corpus" / "good"
LIMITS = ReadLimits(
    max_file_bytes=50 * 1024 * 1024,
    max_expanded_bytes=200 * 1024 * 1024,
    max_compression_ratio=200.0,
)


def read(name: str, limits: ReadLimits = LIMITS) -> ReadResult:
    return read_submission(GOOD / name, COUNTY, limits)


def values(result: ReadResult) -> list[dict[str, object]]:
    return [{k: row[k] for k in KEYS} for row in result.rows.to_dict("records")]


def raw_cell(name: str, row: int, header: str) -> object:
    """The stored value under `header` on sheet row `row`, as openpyxl sees it."""
    workbook = openpyxl.load_workbook(GOOD / name, read_only=True, data_only=False)
    sheet = workbook["学校"] if "学校" in workbook.sheetnames else workbook.worksheets[0]
    grid = [list(r) for r in sheet.iter_rows(values_only=True)]
    workbook.close()
    header_row = next(r for r in grid if any(c == header for c in r))
    return grid[row - 1][header_row.index(header)]


def assert_clean(result: ReadResult) -> None:
    assert result.findings == []
    assert result.readable


def test_title_rows_total_row_and_notes_are_not_data() -> None:
    result = read("title_total_notes.xlsx")
    assert_clean(result)
    assert (result.sheet, result.header_row, result.format) == ("学校", 3, "xlsx")
    # Row 5 is blank, row 8 is 合计 with SUM formulas, rows 10-11 are 填表说明 / 注.
    assert list(result.rows["row_number"]) == [4, 6, 7]
    assert values(result) == SCHOOLS


def test_rows_have_the_contract_columns_and_types() -> None:
    result = read("title_total_notes.xlsx")
    assert tuple(result.rows.columns) == ROW_COLUMNS
    assert result.rows["row_number"].dtype == "int64"
    assert all(result.rows[k].dtype == object for k in (*KEYS, "extra"))


def test_numbers_stored_as_text() -> None:
    assert raw_cell("numbers_as_text.xlsx", 2, "小学在校生数") == "1234"
    result = read("numbers_as_text.xlsx")
    assert_clean(result)
    assert values(result) == SCHOOLS


def test_thousands_separators_in_xlsx() -> None:
    assert raw_cell("thousands_separators.xlsx", 2, "小学在校生数") == "1,234"
    assert raw_cell("thousands_separators.xlsx", 2, "教学及辅助用房面积(平方米)") == "5,432.5"
    result = read("thousands_separators.xlsx")
    assert_clean(result)
    assert result.rows.loc[0, "primary_students"] == "1234"
    assert result.rows.loc[0, "teaching_area_m2"] == "5432.5"
    assert values(result) == SCHOOLS


def test_thousands_separators_in_quoted_csv_fields() -> None:
    assert '"1,234"' in (GOOD / "thousands_separators.csv").read_text(encoding="utf-8")
    result = read("thousands_separators.csv")
    assert_clean(result)
    assert result.rows.loc[1, "books"] == "60000"
    assert values(result) == SCHOOLS


def test_full_width_digits() -> None:
    assert raw_cell("fullwidth_digits.xlsx", 2, "小学在校生数") == "１２３４"
    assert raw_cell("fullwidth_digits.xlsx", 2, "学校标识码") == "０６３０１０２００１"
    result = read("fullwidth_digits.xlsx")
    assert_clean(result)
    assert result.rows.loc[0, "primary_students"] == "1234"
    assert result.rows.loc[0, "equipment_value_10k_yuan"] == "356.78"
    assert values(result) == SCHOOLS


def test_trailing_and_full_width_spaces() -> None:
    assert raw_cell("trailing_spaces.xlsx", 2, "学校名称") == "\u00a0城东区第一小学\u00a0"
    assert raw_cell("trailing_spaces.xlsx", 2, "学校标识码") == "0630102001\u3000"
    assert raw_cell("trailing_spaces.xlsx", 2, "小学在校生数") == " 1234"
    result = read("trailing_spaces.xlsx")
    assert_clean(result)
    assert result.rows.loc[0, "school_name"] == "城东区第一小学"
    assert values(result) == SCHOOLS


def test_whole_floats_in_integer_columns() -> None:
    stored = [raw_cell("float_ints.xlsx", 2, h) for h in ("统计年度", "小学在校生数", "小学班数")]
    assert stored[:2] == ["2025.0", "1234.0"]  # text floats
    assert isinstance(stored[2], int | float) and stored[2] == 28  # a number cell (28.0)
    result = read("float_ints.xlsx")
    assert_clean(result)
    first = result.rows.loc[0]
    assert (first["school_year"], first["primary_students"], first["primary_classes"]) == (
        "2025", "1234", "28"
    )
    assert values(result) == SCHOOLS


def test_codes_stored_as_numbers() -> None:
    assert raw_cell("codes_as_numbers.xlsx", 2, "学校标识码") == 630102001
    assert raw_cell("codes_as_numbers.xlsx", 3, "学校标识码") == 123456789
    assert raw_cell("codes_as_numbers.xlsx", 4, "学校标识码") == "630102003"
    assert raw_cell("codes_as_numbers.xlsx", 2, "行政区划代码") == 630102
    result = read("codes_as_numbers.xlsx")
    assert_clean(result)
    # The county prefix proves the dropped zero; the other two are left for validation.
    assert list(result.rows["school_code"]) == ["0630102001", "123456789", "630102003"]
    assert list(result.rows["county_code"]) == [COUNTY] * 3
    expected = [dict(s) for s in SCHOOLS]
    expected[1]["school_code"], expected[2]["school_code"] = "123456789", "630102003"
    assert values(result) == expected


def test_csv_codes_that_lost_their_zero() -> None:
    text = (GOOD / "codes_lost_zero.csv").read_text(encoding="utf-8")
    assert ",630102001," in text and ",0630102001," not in text
    result = read("codes_lost_zero.csv")
    assert_clean(result)
    assert values(result) == SCHOOLS


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("utf8.csv", "utf-8"), ("utf8_bom.csv", "utf-8-sig"), ("gbk.csv", "gb18030")],
)
def test_csv_encodings(name: str, encoding: str) -> None:
    result = read(name)
    assert_clean(result)
    assert (result.format, result.encoding, result.header_row) == ("csv", encoding, 1)
    assert values(result) == SCHOOLS


def test_gb18030_beyond_gbk_with_a_title_row() -> None:
    data = (GOOD / "gb18030.csv").read_bytes()
    assert "䶮".encode("gb18030") in data
    result = read("gb18030.csv")
    assert_clean(result)
    assert (result.encoding, result.header_row) == ("gb18030", 2)
    assert list(result.rows["row_number"]) == [3, 4, 5]
    expected = [dict(s) for s in SCHOOLS]
    expected[0]["school_name"] = "䶮字实验小学"
    assert values(result) == expected


def test_header_cells_with_line_breaks() -> None:
    assert raw_cell("header_linebreaks.xlsx", 2, "学校\n标识码") == "0630102001"
    result = read("header_linebreaks.xlsx")
    assert_clean(result)
    assert values(result) == SCHOOLS


def test_header_bracket_styles_and_spaces() -> None:
    workbook = openpyxl.load_workbook(GOOD / "bracket_styles.xlsx", read_only=True)
    header = next(workbook["学校"].iter_rows(values_only=True))
    workbook.close()
    assert {"出口带宽（Mbps）", "图书【册】", "教学用计算机［台］", "普通教室数[间]",
            "学校\u3000名称", " 统计年度 "} <= set(header)
    result = read("bracket_styles.xlsx")
    assert_clean(result)
    assert values(result) == SCHOOLS


def test_empty_section_cells_read_as_zero() -> None:
    assert raw_cell("empty_sections.xlsx", 2, "初中在校生数") is None
    assert raw_cell("empty_sections.xlsx", 3, "小学班数") is None
    result = read("empty_sections.xlsx")
    assert_clean(result)
    assert result.rows.loc[0, "junior_students"] == "0"
    assert result.rows.loc[1, "primary_classes"] == "0"
    assert list(result.rows["senior_students"]) == ["0", "0", "0"]
    assert values(result) == SCHOOLS


def test_columns_in_any_order() -> None:
    workbook = openpyxl.load_workbook(GOOD / "reordered_columns.xlsx", read_only=True)
    header = next(workbook["学校"].iter_rows(values_only=True))
    workbook.close()
    assert header[0] != "统计年度"
    result = read("reordered_columns.xlsx")
    assert_clean(result)
    assert values(result) == SCHOOLS


def test_unknown_columns_kept_in_extra_with_one_warning_each() -> None:
    result = read("unknown_columns.xlsx")
    assert result.readable
    assert values(result) == SCHOOLS
    assert [json.loads(e) for e in result.rows["extra"]] == [
        {"备注": "新建校区", "联系电话": "0971-8123456"},
        {"联系电话": "0971-8123457"},
        {"备注": "撤并后新设"},
    ]
    warnings = [(f.check_id, f.severity, f.row_number, f.value) for f in result.findings]
    assert warnings == [
        ("unknown_column", "warning", 1, "备注"),
        ("unknown_column", "warning", 1, "联系电话"),
    ]
    assert "F列" in result.findings[0].message_zh
    assert "column AM" in result.findings[1].message_en


def test_sheet_named_xuexiao_wins_over_the_first_sheet() -> None:
    result = read("second_sheet.xlsx")
    assert_clean(result)
    assert result.sheet == "学校"
    assert values(result) == SCHOOLS


def test_first_sheet_when_none_is_named_xuexiao() -> None:
    result = read("first_sheet.xlsx")
    assert_clean(result)
    assert result.sheet == "Sheet1"
    assert values(result) == SCHOOLS


def test_xlsx_content_under_a_csv_name() -> None:
    result = read("xlsx_named.csv")
    assert result.readable and result.format == "xlsx"
    assert [(f.check_id, f.severity) for f in result.findings] == [
        ("extension_mismatch", "warning")
    ]
    assert values(result) == SCHOOLS


def test_csv_content_under_an_xlsx_name() -> None:
    result = read("csv_named.xlsx")
    assert result.readable and result.format == "csv"
    assert [(f.check_id, f.severity) for f in result.findings] == [
        ("extension_mismatch", "warning")
    ]
    assert values(result) == SCHOOLS


def test_cells_without_position_attributes() -> None:
    sheet = zipfile.ZipFile(GOOD / "no_cell_refs.xlsx").read("xl/worksheets/sheet1.xml")
    assert b' r="' not in sheet
    result = read("no_cell_refs.xlsx")
    assert_clean(result)
    assert values(result) == SCHOOLS


def test_namespace_prefixed_sheet_xml() -> None:
    sheet = zipfile.ZipFile(GOOD / "prefixed_namespace.xlsx").read("xl/worksheets/sheet1.xml")
    assert b"<x:c " in sheet
    result = read("prefixed_namespace.xlsx")
    assert_clean(result)
    assert values(result) == SCHOOLS


def test_a_million_blank_rows_in_the_used_range() -> None:
    sheet = zipfile.ZipFile(GOOD / "blank_rows_1m.xlsx").read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:AK1000004"/>' in sheet and b'<row r="1000004"' in sheet
    result = read("blank_rows_1m.xlsx")
    assert_clean(result)
    assert list(result.rows["row_number"]) == [2, 3, 4]
    assert values(result) == SCHOOLS


def test_total_row_in_the_first_non_empty_cell_ends_the_data() -> None:
    result = read("total_offset.xlsx")
    assert_clean(result)
    assert "不应读取" not in set(result.rows["school_name"])
    assert values(result) == SCHOOLS


def test_school_named_like_a_note_is_still_a_school() -> None:
    result = read("name_starts_with_marker.xlsx")
    assert_clean(result)
    names = list(result.rows["school_name"])
    assert names == ["城东区第一小学", "注溪小学", "韵家口九年一贯制学校"]
    expected = [dict(s) for s in SCHOOLS]
    expected[1]["school_name"] = "注溪小学"
    assert values(result) == expected


def test_limits_from_settings() -> None:
    settings = load_settings({
        "EDUSTAT_MAX_FILE_BYTES": "1000",
        "EDUSTAT_MAX_EXPANDED_BYTES": "2000",
        "EDUSTAT_MAX_COMPRESSION_RATIO": "50",
    })
    limits = ReadLimits.from_settings(settings)
    assert (limits.max_file_bytes, limits.max_expanded_bytes, limits.max_compression_ratio) == (
        1000, 2000, 50.0
    )
