"""Write one county-year as the county would: xlsx via xlsxwriter, csv via the csv module.

The layout (title, note, header, data, 合计, 填表说明) is built once as rows of typed cells and
then written by either backend, so row numbers agree between formats. Cells are messy the way
real files are (numbers as text, 1,234, １２３, 45.0, trailing spaces, blanks for absent
sections) but every one still reads as the same value under docs/submission-format.md.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import xlsxwriter

from edustat.columns import BY_KEY
from edustat.intake.messages import column_letter
from edustat_synth.generation.counties import CountyUnit
from edustat_synth.generation.records import Record
from edustat_synth.generation.styles import Style, note_text, title_text

# Digits only, as docs/submission-format.md names them; separators stay half-width.
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_AREAS = frozenset({"teaching_area_m2", "sports_area_m2"})
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = "建国华明玉兰英杰军平伟芳娟敏静丽强磊洋勇艳涛斌"
# 备注 as counties fill it: mostly empty, otherwise a fact about this kind of school.
_REMARKS = {
    "218": ("", "", "", "复式教学", "撤并后保留教学点", "含附设幼儿班"),
    "211": ("", "", "", "", "寄宿制", "含附设幼儿班", "易地扶贫搬迁配套学校",
            "寄宿制；含附设幼儿班"),
    "311": ("", "", "", "", "寄宿制", "民族学校"),
    "312": ("", "", "", "寄宿制", "易地扶贫搬迁配套学校", "民族学校"),
    "341": ("", "", "", "", "含高中部", "民族学校"),
    "345": ("", "", "", "含高中部", "民族学校"),
}
_INSTRUCTIONS = (
    "填表说明：1.本表由县级教育行政部门统一填报，每所学校（含教学点）填一行；",
    "2.学校标识码、行政区划代码按全国统一代码填写，办学类型、城乡分类填代码；",
    "3.面积单位为平方米，资产值单位为万元，带宽单位为Mbps；",
    "4.数据截止时间为{year}年9月30日，请于次年3月底前报送。",
)


@dataclass(frozen=True)
class Formula:
    text: str
    value: float


Cell = str | int | float | Formula | None


class CellMaker:
    """Turns record values into cells in the county's habits."""

    def __init__(self, style: Style, rng: random.Random) -> None:
        self.style = style
        self.rng = rng
        self.xlsx = style.fmt == "xlsx"

    def _as_text(self) -> bool:
        p = self.style.text_numbers
        return p >= 1.0 or (p > 0.0 and self.rng.random() < p)

    def _text_number(self, value: int | float, key: str) -> str:
        st = self.style
        if isinstance(value, float):
            decimals = st.area_decimals if key in _AREAS else 2
            text = f"{value:,.{decimals}f}" if st.thousands else f"{value:.{decimals}f}"
        elif key == "school_year":
            return f"{value}.0" if st.float_ints else str(value)
        else:
            text = f"{value:,}" if st.thousands and value >= 1000 else str(value)
            if st.float_ints:
                text += ".0"
        if st.fullwidth and self.rng.random() < st.fullwidth:
            text = text.translate(_FULLWIDTH)
        if st.trailing_spaces and self.rng.random() < st.trailing_spaces:
            text += " "
        return text

    def _padded(self, text: str) -> str:
        st = self.style
        if st.trailing_spaces and self.rng.random() < st.trailing_spaces:
            return text + self.rng.choice((" ", "  ", "　"))
        return text

    def cell(self, record: Record, key: str) -> Cell:
        value = record[key]
        column = BY_KEY[key]
        if isinstance(value, str):
            if column.kind in ("digits", "code"):
                if self.xlsx and self.style.codes_as_numbers and value.isdigit():
                    return int(value)
                return value
            return self._padded(value) if value else None
        if value == 0 and self.style.blank_absent_sections and column.zero_when_empty:
            students = record.get(f"{column.section}_students") if column.section else 0
            if students == 0:
                return None
        if not isinstance(value, int | float):
            raise TypeError(f"{key}: unexpected value {value!r}")
        if isinstance(value, float) and key in _AREAS and self.style.area_decimals == 0:
            value = round(value)
        if not self.xlsx or self._as_text():
            return self._text_number(value, key)
        return value


@dataclass
class Layout:
    columns: list[str]  # header texts in sheet order
    keys: list[str | None]  # column key, or None for 序号 / extra columns
    rows: list[list[Cell]]  # every sheet row from row 1
    header_row: int  # 0-based index in rows
    data_rows: dict[int, int]  # id(record) -> 1-based sheet row
    title_row: int | None
    widths: list[float]


def build_layout(unit: CountyUnit, year: int, records: list[Record], style: Style,
                 rng: random.Random, dropped: set[str]) -> Layout:
    keys: list[str | None] = [k for k in style.order if k not in dropped]
    headers = [style.headers[k] for k in keys if k is not None]
    if style.serial_column:
        keys.insert(0, None)
        headers.insert(0, "序号")
    keys.extend([None] * len(style.extra_columns))
    headers.extend(style.extra_columns)

    rows: list[list[Cell]] = []
    title_row = None
    if style.title:
        title_row = len(rows)
        rows.append([title_text(unit, year, rng)])
    note = note_text(style, unit, year)
    if note:
        rows.append([note])
    if style.blank_after_title:
        rows.append([])
    header_row = len(rows)
    rows.append(list(headers))

    maker = CellMaker(style, rng)
    data_keys = [k for k in keys if k is not None]
    blank_at = len(records) // 2 if style.blank_row_inside and len(records) >= 6 else -1
    data_rows: dict[int, int] = {}
    for i, record in enumerate(records):
        if i == blank_at:
            rows.append([])
        row: list[Cell] = [i + 1] if style.serial_column else []
        row.extend(maker.cell(record, key) for key in data_keys)
        row.extend(_extra_cell(name, unit, record, rng) for name in style.extra_columns)
        data_rows[id(record)] = len(rows) + 1
        rows.append(row)

    if style.totals != "none":
        rows.append(_totals(keys, records, header_row + 2, len(rows), style))
    if style.instructions:
        rows.extend([line.format(year=year)] for line in _INSTRUCTIONS)
    if style.note_line:
        rows.append([f"注：本表数据经{unit.name}教育局审核，学校标识码以全国学校代码库为准。"])
    widths = [max(6.0, min(24.0, len(h.replace("\n", "")) * 1.6)) for h in headers]
    return Layout(headers, keys, rows, header_row, data_rows, title_row, widths)


def _extra_cell(name: str, unit: CountyUnit, record: Record, rng: random.Random) -> Cell:
    if name == "备注":
        return rng.choice(_REMARKS.get(str(record["school_type"]), ("",))) or None
    if name == "学校地址":
        place = str(record["school_name"])[:4]
        return f"{unit.province_name}{unit.prefecture_name}{unit.name}{place}"
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(_SURNAMES) + given  # 校长姓名


def _totals(keys: list[str | None], records: list[Record], first: int, last: int,
            style: Style) -> list[Cell]:
    row: list[Cell] = []
    for i, key in enumerate(keys):
        column = BY_KEY.get(key) if key else None
        if column is None or not column.numeric or key == "school_year":
            row.append(None)
            continue
        total = round(sum(v for r in records if isinstance(v := r[key], int | float)), 2)
        if style.totals == "formula":
            letter = column_letter(i)
            row.append(Formula(f"=SUM({letter}{first}:{letter}{last})", total))
        else:
            row.append(total if style.fmt == "xlsx" else str(total))
    row[0] = "合计"
    return row


def write_xlsx(path: Path, layout: Layout, style: Style, unit: CountyUnit, year: int) -> None:
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    # Fixed properties: the same arguments give byte-identical files.
    workbook.set_properties({
        "title": f"{unit.name}{year}年学校基础数据",
        "author": f"{unit.name}教育局",
        "company": f"{unit.name}教育局",
        "created": datetime(year + 1, 3, 15, 9, 30, 0),
    })
    title_fmt = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    header_fmt = workbook.add_format({"bold": True, "text_wrap": True, "align": "center",
                                      "valign": "vcenter", "border": 1, "bg_color": "#DDEBF7"})
    decimal_fmt = workbook.add_format({"num_format": "0.00"})
    for name in style.sheets:
        sheet = workbook.add_worksheet(name)
        if name != style.sheet:
            for r, line in enumerate(_INSTRUCTIONS):
                sheet.write_string(r, 0, line.format(year=year))
            continue
        for c, width in enumerate(layout.widths):
            key = layout.keys[c]
            numeric_format = decimal_fmt if key in _AREAS or key == "equipment_value_10k_yuan" \
                else None
            sheet.set_column(c, c, width, numeric_format)
        if style.freeze_header:
            sheet.freeze_panes(layout.header_row + 1, 0)
        for r, row in enumerate(layout.rows):
            if r == layout.title_row and style.title_merged and len(layout.columns) > 1:
                sheet.merge_range(r, 0, r, len(layout.columns) - 1, str(row[0]), title_fmt)
                continue
            if r == layout.header_row:
                sheet.set_row(r, 36)
            for c, value in enumerate(row):
                if value is None:
                    continue
                if r == layout.header_row:
                    sheet.write_string(r, c, str(value), header_fmt)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value, title_fmt if r == layout.title_row else None)
                elif isinstance(value, Formula):
                    sheet.write_formula(r, c, value.text, None, value.value)
                else:
                    sheet.write_number(r, c, value)
    workbook.close()


def write_csv(path: Path, layout: Layout, style: Style, rng: random.Random) -> None:
    width = len(layout.columns)
    pad = rng.random() < 0.5  # Excel pads every row to the sheet width; hand-made files do not
    with path.open("w", encoding=style.encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        for row in layout.rows:
            cells = ["" if v is None else v.text if isinstance(v, Formula) else str(v)
                     for v in row]
            if pad and len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            writer.writerow(cells)


def write_file(path: Path, unit: CountyUnit, year: int, records: list[Record], style: Style,
               rng: random.Random, dropped: set[str]) -> dict[int, int]:
    """Write the file; return each record's 1-based sheet row (by id of the record)."""
    layout = build_layout(unit, year, records, style, rng, dropped)
    if style.fmt == "xlsx":
        write_xlsx(path, layout, style, unit, year)
    else:
        write_csv(path, layout, style, rng)
    return layout.data_rows
