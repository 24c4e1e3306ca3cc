"""Protects the pieces under read_submission: value normalisation rules, the streaming sheet
scanner (same answer whatever the chunking), zip verification of stored members, the heavy
million-<row> sheet, a reproducible corpus, rows that load into raw.school_rows as is
(through the COPY text the read workers build, tabs, newlines and backslashes included), and
the one place a file's school year is decided (file_year).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import psycopg
import pytest

from corpus.make_corpus import (
    COUNTY,
    SCHOOLS,
    Formula,
    _base_rows,
    build,
    sheet_xml,
    write_blank_row_elements,
)
from corpus.make_corpus import KEYS as FORM_KEYS
from edustat.columns import KEYS
from edustat.intake.normalize import is_blank, normalize_value, render_number
from edustat.intake.readers import ReadLimits, file_year, read_submission
from edustat.intake.sheetscan import CellMark, SheetScanner
from edustat.intake.table import Table, build_table
from edustat.warehouse.load import copy_school_rows, school_rows_payload

CORPUS = Path(__file__).parent / "corpus"
LIMITS = ReadLimits(
    max_file_bytes=50 * 1024 * 1024,
    max_expanded_bytes=200 * 1024 * 1024,
    max_compression_ratio=200.0,
)


def norm(key: str, raw: object, source: str = "xlsx") -> str | None:
    return normalize_value(key, raw, source=source, county_code=COUNTY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("primary_students", "１２３", "123"),
        ("primary_students", "1,234", "1234"),
        ("primary_students", "１，２３４", "1234"),
        ("primary_students", "45.0", "45"),
        ("primary_students", "45.00", "45"),
        ("primary_students", 45.0, "45"),
        ("primary_students", " 45\u3000", "45"),
        ("primary_students", "\u00a045 ", "45"),
        ("primary_students", "约300", "约300"),
        ("primary_students", "1,23", "1,23"),  # not a thousands pattern: validation names it
        ("primary_students", "45.5", "45.5"),
        ("primary_students", "", "0"),  # section count: empty means no such section
        ("primary_students", None, "0"),
        ("junior_students", "\u3000", "0"),
        ("books", "\u3000", None),  # a whole-school count: empty is not 0
        ("bandwidth_mbps", "1,000.50", "1000.50"),
        ("bandwidth_mbps", "100.0", "100.0"),  # num columns keep their decimals
        ("bandwidth_mbps", 0.1 + 0.2, "0.3"),  # Excel shows 15 significant digits
        ("teaching_area_m2", "－５", "-5"),
        ("school_name", "  城东区\u3000第一小学 \u3000", "城东区\u3000第一小学"),
        ("school_name", "（南校区）", "（南校区）"),  # names keep their own characters
        ("school_name", "", None),
        ("urban_rural", None, None),
        ("school_type", 211.0, "211"),
        ("school_type", "２１１", "211"),
        ("internet_access", " 是 ", "是"),
        ("internet_access", True, "TRUE"),
        ("county_code", 630102.0, "630102"),
        ("school_code", "'0630102001", "0630102001"),
        ("school_code", '="0630102001"', "0630102001"),
        ("school_code", 630102001.0, "0630102001"),  # county prefix proves the lost zero
        ("school_code", 123456789.0, "123456789"),  # nothing proves it
        ("school_code", "630102001", "630102001"),  # typed as text in a workbook
        ("school_code", 6301020001.0, "6301020001"),
        ("school_year", dt.date(1905, 7, 17), "1905-07-17"),  # 2025 formatted as a date
    ],
)
def test_normalize_value(key: str, raw: object, expected: str | None) -> None:
    assert norm(key, raw) == expected


def test_csv_values_get_the_lost_zero_back() -> None:
    assert norm("school_code", "630102001", source="csv") == "0630102001"
    assert norm("school_code", "630103001", source="csv") == "630103001"


def test_render_number_never_uses_exponents() -> None:
    assert render_number(1e20) == "100000000000000000000"
    assert render_number(1.5e-7) == "0.00000015"
    assert render_number(7) == "7"


def test_is_blank() -> None:
    assert all(is_blank(v) for v in (None, "", " ", "\u3000\u00a0", "\r\n"))
    assert not any(is_blank(v) for v in ("0", 0, 0.0, False))


def _formula_sheet(prefix: str = "", refs: bool = True) -> bytes:
    rows = _base_rows()
    rows[1][FORM_KEYS.index("primary_students")] = Formula("=1200+34", 1234)
    rows[2][FORM_KEYS.index("books")] = Formula("=A1&\"<x>\"", 0)
    return sheet_xml(list(enumerate(rows, start=1)), prefix=prefix, refs=refs)


@pytest.mark.parametrize("variant", [{}, {"prefix": "x"}, {"refs": False}])
@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000_000])
def test_sheet_scan_does_not_depend_on_chunking(variant: dict, chunk: int) -> None:
    xml = _formula_sheet(**variant)
    scanner = SheetScanner(LIMITS, precise=not variant.get("refs", True))
    for pos in range(0, len(xml), chunk):
        scanner.feed(xml[pos:pos + chunk])
    scan = scanner.close()
    assert (scan.max_row, scan.max_col) == (4, len(FORM_KEYS) - 1)
    marks = [(m.ref, m.kind, m.text) for m in scan.marks]
    # Formula text is captured when the chunk holding it also holds its end; the cells
    # themselves are always found.
    assert [m[:2] for m in marks] == [("G2", "formula"), ("Y3", "formula")]
    if chunk >= 64:
        assert [m[2] for m in marks] == ["1200+34", 'A1&"<x>"']


def test_stored_zip_members_are_verified_and_read(tmp_path: Path) -> None:
    source = zipfile.ZipFile(CORPUS / "good" / "numbers_as_text.xlsx")
    stored = tmp_path / "stored.xlsx"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info.filename))
    assert {i.compress_type for i in zipfile.ZipFile(stored).infolist()} == {zipfile.ZIP_STORED}
    # A stored workbook compresses 1:1, so the ratio check needs no special case.
    result = read_submission(stored, COUNTY, LIMITS)
    assert result.findings == []
    assert [{k: r[k] for k in KEYS} for r in result.rows.to_dict("records")] == SCHOOLS


def test_a_million_formatted_blank_row_elements(tmp_path: Path) -> None:
    path = tmp_path / "blank_row_elements.xlsx"
    write_blank_row_elements(path)
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 40_000_000  # really a million <row> elements
    result = read_submission(path, COUNTY, LIMITS)
    assert result.findings == []
    assert list(result.rows["row_number"]) == [2, 3, 4]
    assert [{k: r[k] for k in KEYS} for r in result.rows.to_dict("records")] == SCHOOLS


def test_corpus_is_reproducible(tmp_path: Path) -> None:
    build(tmp_path)
    for folder in ("good", "hostile"):
        made = {p.name: p.read_bytes() for p in (tmp_path / folder).iterdir()}
        committed = {p.name: p.read_bytes() for p in (CORPUS / folder).iterdir()}
        assert made.keys() == committed.keys()
        changed = sorted(name for name in made if made[name] != committed[name])
        assert changed == [], f"regenerate with tests/corpus/make_corpus.py: {changed}"


def test_rows_load_into_the_raw_table(warehouse: str) -> None:
    result = read_submission(CORPUS / "good" / "unknown_columns.xlsx", COUNTY, LIMITS)
    meta = {"submission_id": 1, "county_folder": COUNTY, "file_name": "unknown_columns.xlsx",
            "checksum": "abc", "received_at": dt.datetime.now(dt.UTC)}
    # Characters that end a COPY field or row, and a backslash, must arrive as they were.
    rows = result.rows.copy()
    rows.loc[2, "school_name"] = "西\t校\\区\n二部\r"
    with psycopg.connect(warehouse) as conn:
        copy_school_rows(conn, school_rows_payload(meta, rows))
        loaded = conn.execute(
            "SELECT row_number, school_code, primary_students, bandwidth_mbps, extra, "
            "school_name, county_folder, file_name FROM raw.school_rows ORDER BY row_number"
        ).fetchall()
    assert [r[:5] for r in loaded] == [
        (2, "0630102001", "1234", "1000", {"备注": "新建校区", "联系电话": "0971-8123456"}),
        (3, "0630102002", "0", "500", {"联系电话": "0971-8123457"}),
        (4, "0630102003", "600", "200", {"备注": "撤并后新设"}),
    ]
    assert json.loads(result.rows.loc[0, "extra"]) == loaded[0][4]
    assert loaded[2][5] == "西\t校\\区\n二部\r"
    assert {r[6:] for r in loaded} == {(COUNTY, "unknown_columns.xlsx")}


def _table(rows: list[list[object]], marks: dict | None = None) -> Table:
    numbered = list(enumerate(rows, start=1))
    return build_table(numbered, county_code=COUNTY, source="csv", limits=LIMITS, marks=marks)


def test_unnamed_and_repeated_unknown_columns_keep_their_values_apart() -> None:
    header, *schools = (list(r) for r in _base_rows())
    header += ["备注", "", "备注"]
    schools[0] += ["甲", "无表头的值", "乙"]
    table = _table([header, *schools])
    assert json.loads(table.rows.loc[0, "extra"]) == {
        "备注": "甲", "(无表头)AM列": "无表头的值", "备注[AN]": "乙"
    }
    assert table.rows.loc[1, "extra"] is None
    assert [(f.check_id, f.value) for f in table.findings] == [
        ("unknown_column", "备注"), ("unknown_column", "(无表头)AM列"),
        ("unknown_column", "备注[AN]"),
    ]


def test_many_formulas_in_one_column_are_summarised() -> None:
    header, school = (list(r) for r in _base_rows()[:2])
    rows = [header] + [list(school) for _ in range(25)]
    col = FORM_KEYS.index("books")
    marks = {(n, col): CellMark(n, col, "formula", "SUM(A1:A2)") for n in range(2, 27)}
    table = _table(rows, marks)
    named = [f for f in table.findings if f.failing_count == 1]
    assert [f.row_number for f in named] == list(range(2, 22))
    summary = [f for f in table.findings if f.failing_count != 1]
    assert [(s.check_id, s.column, s.failing_count, s.value) for s in summary] == [
        ("formula_cell", "books", 5, "Y2")
    ]
    assert "共有 25 个公式单元格" in summary[0].message_zh


@pytest.mark.parametrize(("years", "expected"), [
    (["2024", "2024", "2023"], 2024),
    (["2023", "2024", "2024", "2023"], 2023),  # a tie: the earlier year
    (["2024", None, "x", "20245", "24"], 2024),  # only 4-digit years count
    ([None, "两千"], None),
])
def test_the_files_year_is_its_most_common_year(years: list, expected: int | None) -> None:
    import pandas as pd

    assert file_year(pd.DataFrame({"school_year": pd.Series(years, dtype=object)})) == expected
