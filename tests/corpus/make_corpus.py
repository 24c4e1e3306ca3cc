"""Regenerate the reader's corpus: tests/corpus/good/ (real-looking) and tests/corpus/hostile/.

    .venv/bin/python tests/corpus/make_corpus.py [OUT_DIR]

Output is byte-for-byte reproducible (fixed zip timestamps and workbook properties, seeded
randomness), so regenerating only shows up in git when a file really changed; a test checks it.

Every good file is a presentation of the same three schools of SCHOOLS, whose values are the
canonical text validation should receive. The variant (title rows, text numbers, full-width
digits, GB18030, ...) is applied on the way out; the tests read the file back and compare with
SCHOOLS, so the expected values never come from the reader itself.

The hostile files are small by construction: the zip bombs declare or hide their size rather
than contain it, the million blank rows are implied by a dimension and one row at the bottom
(write_blank_row_elements() writes the heavy variant with a million <row> elements for tests).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import struct
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import xlsxwriter

from edustat.columns import COLUMNS as ALL_COLUMNS
from edustat.intake.messages import column_letter

HERE = Path(__file__).resolve().parent
COUNTY = "630102"  # 西宁市城东区
YEAR = "2025"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# The corpus files have the required columns only, as every form before the optional ones
# (小学一年级招生数) was added: such files must read as before, the optional values unknown.
COLUMNS = tuple(c for c in ALL_COLUMNS if c.required)
KEYS = tuple(c.key for c in COLUMNS)
_UNKNOWN = {c.key: None for c in ALL_COLUMNS if not c.required}

# Canonical values (what validation should receive), in COLUMNS order after the 4 identifiers.
_COUNTS = {
    "0630102001": (
        "城东区第一小学", "211", "111",
        "1234", "0", "0", "28", "0", "70", "0", "68", "0", "40", "0", "10", "0", "9", "0",
        "5432.5", "8000", "356.78", "45000", "210", "28", "28", "2", "2", "是", "1000",
        "45", "0", "0", "0", "0",
    ),
    "0630102002": (
        "城东区第二中学", "311", "111",
        "0", "1500", "0", "0", "30", "0", "120", "0", "110", "0", "60", "0", "15", "0", "12",
        "9000", "12000", "800.5", "60000", "300", "30", "29", "3", "3", "是", "500",
        "0", "58", "2", "500", "480",
    ),
    "0630102003": (
        "韵家口九年一贯制学校", "312", "121",
        "600", "300", "0", "12", "6", "35", "25", "35", "24", "20", "12", "5", "3", "4", "3",
        "4000", "6000", "210", "24000", "120", "18", "18", "1", "1", "是", "200",
        "45", "48", "0", "100", "95",
    ),
}
SCHOOLS: list[dict[str, str | None]] = [
    dict(zip(KEYS, (YEAR, COUNTY, code, *values), strict=True)) | _UNKNOWN
    for code, values in _COUNTS.items()
]
HEADERS: list[str] = [c.header for c in COLUMNS]
KIND = {c.key: c.kind for c in COLUMNS}


class Formula:
    """A formula cell with the value Excel would have cached."""

    def __init__(self, text: str, cached: float | str) -> None:
        self.text, self.cached = text, cached


Cell = str | int | float | Formula | None


def typed(key: str, text: str) -> Cell:
    """A canonical value as Excel stores it when typed in: numbers as numbers, codes as text."""
    if KIND[key] == "int" or (key == "school_year"):
        return int(text)
    if KIND[key] == "num":
        value = float(text)
        return int(value) if value.is_integer() else value
    return text


def school_row(school: dict[str, str], keys: Sequence[str] = KEYS) -> list[Cell]:
    return [typed(k, school[k]) for k in keys]


# --------------------------------------------------------------------------- writers


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Cell]],
    *,
    sheet: str = "学校",
    before: Sequence[tuple[str, Sequence[Sequence[Cell]]]] = (),
) -> None:
    """A workbook as Excel writes it (via xlsxwriter), deterministic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": dt.datetime(2025, 3, 1), "author": "edustat corpus"})
    for name, other_rows in (*before, (sheet, rows)):
        worksheet = workbook.add_worksheet(name)
        for r, row in enumerate(other_rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, Formula):
                    worksheet.write_formula(r, c, value.text, None, value.cached)
                elif isinstance(value, str):
                    worksheet.write_string(r, c, value)
                else:
                    worksheet.write_number(r, c, value)
    workbook.close()


def write_csv(path: Path, rows: Sequence[Sequence[Cell]], *, encoding: str = "utf-8",
              bom: bool = False, delimiter: str = ",") -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = buffer.getvalue().encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def _zip(path: Path, members: Sequence[tuple[str, bytes]], level: int = 6) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=level)


_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def _package(sheet_xml: bytes) -> list[tuple[str, bytes]]:
    """The minimal parts around one hand-written worksheet."""
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    )
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="'
        f'{_PKG_REL}"><Relationship Id="rId1" Type="{_NS_REL}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS_MAIN}" '
        f'xmlns:r="{_NS_REL}"><sheets><sheet name="学校" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    workbook_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="'
        f'{_PKG_REL}"><Relationship Id="rId1" Type="{_NS_REL}/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    )
    return [
        ("[Content_Types].xml", types.encode()),
        ("_rels/.rels", root_rels.encode()),
        ("xl/workbook.xml", workbook.encode()),
        ("xl/_rels/workbook.xml.rels", workbook_rels.encode()),
        ("xl/worksheets/sheet1.xml", sheet_xml),
    ]


def sheet_xml(
    rows: Sequence[tuple[int, Sequence[Cell]]],
    *,
    prefix: str = "",
    refs: bool = True,
    dimension: str | None = None,
    tail: str = "",
) -> bytes:
    """Worksheet XML by hand: inline strings, optional `x:` prefix, optional missing `r`."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{_NS_MAIN}"' if prefix else f'xmlns="{_NS_MAIN}"'
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {xmlns}>']
    if dimension:
        out.append(f'<{p}dimension ref="{dimension}"/>')
    out.append(f"<{p}sheetData>")
    for number, cells in rows:
        out.append(f'<{p}row r="{number}">' if refs else f"<{p}row>")
        for c, value in enumerate(cells):
            ref = f' r="{column_letter(c)}{number}"' if refs else ""
            if value is None:
                out.append(f"<{p}c{ref}/>")
            elif isinstance(value, Formula):
                out.append(f"<{p}c{ref}><{p}f>{escape(value.text.lstrip('='))}</{p}f>"
                           f"<{p}v>{value.cached}</{p}v></{p}c>")
            elif isinstance(value, str):
                out.append(f'<{p}c{ref} t="inlineStr"><{p}is><{p}t>{escape(value)}</{p}t>'
                           f"</{p}is></{p}c>")
            else:
                out.append(f"<{p}c{ref}><{p}v>{value}</{p}v></{p}c>")
        out.append(f"</{p}row>")
    out.append(tail)
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out).encode()


def write_raw_xlsx(path: Path, xml: bytes, level: int = 6) -> None:
    _zip(path, _package(xml), level)


# --------------------------------------------------------------------------- good files


def _base_rows(keys: Sequence[str] = KEYS, headers: Sequence[str] | None = None) -> list[list]:
    header = list(headers) if headers is not None else [HEADERS[KEYS.index(k)] for k in keys]
    return [header, *(school_row(s, keys) for s in SCHOOLS)]


def _mutate(cell_text: Callable[[str, str, int], Cell]) -> list[list[Cell]]:
    """Header + schools with each value passed through cell_text(key, canonical, school_idx)."""
    rows: list[list[Cell]] = [list(HEADERS)]
    for i, school in enumerate(SCHOOLS):
        rows.append([cell_text(k, school[k], i) for k in KEYS])
    return rows


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _total_row() -> list[Cell]:
    row: list[Cell] = ["合计"]
    for c, key in enumerate(KEYS[1:], start=1):
        if KIND[key] in ("int", "num") and key != "school_year":
            letter = column_letter(c)
            total = sum(float(s[key]) for s in SCHOOLS)
            row.append(Formula(f"=SUM({letter}4:{letter}7)", total))
        else:
            row.append(None)
    return row


def good_files(out: Path) -> None:
    good = out / "good"
    width = len(KEYS)
    title = ["城东区2025年义务教育学校基础数据报送表", *[None] * (width - 1)]
    unit = ["填报单位：西宁市城东区教育局    单位：人、间、平方米、万元", *[None] * (width - 1)]
    schools = [school_row(s) for s in SCHOOLS]
    blank: list[Cell] = [None] * width
    write_xlsx(good / "title_total_notes.xlsx", [
        title, unit, list(HEADERS), schools[0], blank, schools[1], schools[2], _total_row(),
        blank,
        ["填表说明：1. 学校标识码为10位数字；2. 没有的学段填0或留空。", *[None] * (width - 1)],
        ["注：本表数据截至2025年9月1日。", *[None] * (width - 1)],
    ])

    write_xlsx(good / "numbers_as_text.xlsx", _mutate(lambda k, v, i: v))

    def thousands(key: str, value: str, i: int) -> Cell:
        if KIND[key] in ("int", "num") and key != "school_year" and float(value) >= 1000:
            whole, _, frac = value.partition(".")
            return f"{int(whole):,}" + (f".{frac}" if frac else "")
        return typed(key, value)

    write_xlsx(good / "thousands_separators.xlsx", _mutate(thousands))
    write_csv(good / "thousands_separators.csv", _mutate(thousands))

    write_xlsx(good / "fullwidth_digits.xlsx", _mutate(
        lambda k, v, i: _fullwidth(v) if KIND[k] != "text" else v
    ))

    pads = ("{} ", " {}", "{}\u3000", "\u00a0{}\u00a0", "\u3000{} ")
    write_xlsx(good / "trailing_spaces.xlsx", _mutate(
        lambda k, v, i: pads[(KEYS.index(k) + i) % len(pads)].format(v)
    ))

    def floats(key: str, value: str, i: int) -> Cell:
        if KIND[key] == "int":
            return float(value) if (KEYS.index(key) + i) % 2 else f"{value}.0"
        return typed(key, value)

    write_xlsx(good / "float_ints.xlsx", _mutate(floats))

    def codes(key: str, value: str, i: int) -> Cell:
        if key == "county_code":
            return int(value)
        if key == "school_code":
            # 0: Excel dropped the zero of 0630102001, the county prefix proves it;
            # 1: a 9-digit number without that prefix: nothing proves where a digit went;
            # 2: a 9-digit code typed as text: not a lost zero, left for validation.
            return (630102001, 123456789, "630102003")[i]
        return typed(key, value)

    write_xlsx(good / "codes_as_numbers.xlsx", _mutate(codes))
    write_csv(good / "codes_lost_zero.csv", _mutate(
        lambda k, v, i: v.lstrip("0") if k == "school_code" else v
    ))

    text_rows = _mutate(lambda k, v, i: v)
    write_csv(good / "utf8.csv", text_rows)
    write_csv(good / "utf8_bom.csv", text_rows, bom=True)
    # 䶮 (U+4DAE) exists in GB18030 but not in GBK: decoding as GBK would fail on it.
    gb_rows = _mutate(lambda k, v, i: "䶮字实验小学" if (k, i) == ("school_name", 0) else v)
    write_csv(good / "gb18030.csv", [["城东区2025年学校基础数据"], *gb_rows], encoding="gb18030")
    write_csv(good / "gbk.csv", text_rows, encoding="gbk")

    linebreak_headers = list(HEADERS)
    linebreak_headers[KEYS.index("school_code")] = "学校\n标识码"
    linebreak_headers[KEYS.index("primary_students")] = "小学在校\r\n生数"
    linebreak_headers[KEYS.index("bandwidth_mbps")] = "出口带宽\n(Mbps)"
    linebreak_headers[KEYS.index("teaching_area_m2")] = "教学及辅助用房面积\n（平方米）"
    write_xlsx(good / "header_linebreaks.xlsx", _base_rows(headers=linebreak_headers))

    bracket_headers = list(HEADERS)
    for key, header in {
        "bandwidth_mbps": "出口带宽（Mbps）",
        "books": "图书【册】",
        "computers": "教学用计算机［台］",
        "classrooms": "普通教室数[间]",
        "teaching_area_m2": "教学及辅助用房面积（平方米）",
        "sports_area_m2": "体育运动场馆面积 (平方米)",
        "school_name": "学校\u3000名称",
        "school_year": " 统计年度 ",
    }.items():
        bracket_headers[KEYS.index(key)] = header
    write_xlsx(good / "bracket_styles.xlsx", _base_rows(headers=bracket_headers))

    def sections(key: str, value: str, i: int) -> Cell:
        section = next(c.section for c in COLUMNS if c.key == key)
        # 0 is a 小学: its junior cells are left empty; 1 is a 初中: its primary ones.
        if (i, section) in ((0, "junior"), (1, "primary")) or key == "senior_students":
            return None
        return typed(key, value)

    write_xlsx(good / "empty_sections.xlsx", _mutate(sections))

    # 合计 one column in (column A left empty), then rows that must not be read as schools.
    offset_total: list[Cell] = [None, "合  计", *[None] * (width - 2)]
    junk = school_row({**SCHOOLS[0], "school_code": "0630102999", "school_name": "不应读取"})
    write_xlsx(good / "total_offset.xlsx", [*_base_rows(), offset_total, junk])

    # School names first, and a school whose name starts with 注: its 10-digit code shows it
    # is a school, not a note, so the data must not end there.
    names_first = ["school_name", *[k for k in KEYS if k != "school_name"]]
    first_named = _base_rows(keys=names_first)
    first_named[2][0] = "注溪小学"
    write_xlsx(good / "name_starts_with_marker.xlsx", first_named)

    order = list(KEYS)
    random.Random(20250301).shuffle(order)
    write_xlsx(good / "reordered_columns.xlsx", _base_rows(keys=order))

    unknown = _base_rows()
    notes = ["备注", "新建校区", None, "撤并后新设"]
    phones = ["联系电话", "0971-8123456", "0971-8123457", None]
    for row, note, phone in zip(unknown, notes, phones, strict=True):
        row.insert(5, note)
        row.append(phone)
    write_xlsx(good / "unknown_columns.xlsx", unknown)

    write_xlsx(good / "second_sheet.xlsx", _base_rows(), before=[
        ("说明", [["本工作簿第二个工作表为学校数据"], ["学校标识码", "不是数据"]]),
    ])
    write_xlsx(good / "first_sheet.xlsx", _base_rows(), sheet="Sheet1", before=())

    # Wrong extensions: the content decides how the file is read.
    write_xlsx(good / "xlsx_named.csv", _base_rows())
    write_csv(good / "csv_named.xlsx", text_rows, bom=True)

    numbered = [(n, row) for n, row in enumerate(_base_rows(), start=1)]
    write_raw_xlsx(good / "no_cell_refs.xlsx", sheet_xml(numbered, refs=False))
    write_raw_xlsx(good / "prefixed_namespace.xlsx", sheet_xml(numbered, prefix="x"))

    # A million blank rows as Excel records them after whole rows were formatted: the used
    # range reaches row 1,000,004 while the data stops at row 4.
    last = 1_000_004
    tail = f'<row r="{last}" spans="1:{width}" ht="14.25" customHeight="1">' + "".join(
        f'<c r="{column_letter(c)}{last}" s="1"/>' for c in range(width)
    ) + "</row>"
    write_raw_xlsx(good / "blank_rows_1m.xlsx", sheet_xml(
        numbered, dimension=f"A1:{column_letter(width - 1)}{last}", tail=tail
    ))


def write_blank_row_elements(path: Path, rows: int = 1_000_000) -> None:
    """The heavy variant: the 3 schools, then `rows` formatted empty <row> elements.

    ~2.5 MB on disk, ~50 MB of XML: generated by the test that needs it, not committed.
    """
    numbered = [(n, row) for n, row in enumerate(_base_rows(), start=1)]
    start = len(numbered) + 1
    tail = "".join(
        f'<row r="{n}" spans="1:{len(KEYS)}" ht="14.25" customHeight="1"/>'
        for n in range(start, start + rows)
    )
    write_raw_xlsx(path, sheet_xml(numbered, tail=tail), level=1)


# --------------------------------------------------------------------------- hostile files


def _cfb(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """A minimal, valid OLE compound file (CFB v3) holding the given streams.

    An encrypted xlsx is exactly this container with EncryptionInfo and EncryptedPackage
    streams; streams are padded to 4096 bytes so no mini-stream is needed.
    """
    sector = 512
    free, end, fat_sect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    bodies = [data.ljust(max(4096, -(-len(data) // sector) * sector), b"\0") for _, data in streams]
    fat: list[int] = [fat_sect, end]  # sector 0: the FAT, sector 1: the directory
    starts: list[int] = []
    for body in bodies:
        count = len(body) // sector
        first = len(fat)
        starts.append(first)
        fat.extend(range(first + 1, first + count))
        fat.append(end)
    assert len(fat) <= sector // 4, "one FAT sector is enough for the corpus"
    fat.extend([free] * (sector // 4 - len(fat)))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int,
              size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack(
            "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, left, right, child,
            b"\0" * 16, 0, 0, 0, start, size,
        )

    # Root's child is the last stream; each stream's left sibling is the one before it
    # (CFB orders siblings by name length, and the callers pass them shortest first).
    entries = [entry("Root Entry", 5, nostream, nostream, len(streams), end, 0)]
    for i, ((name, data), start) in enumerate(zip(streams, starts, strict=True), start=1):
        entries.append(entry(name, 2, i - 1 if i > 1 else nostream, nostream, nostream,
                             start, len(data)))
    directory = b"".join(entries).ljust(sector, b"\0")
    if len(entries) % 4:
        blank = entry("", 0, nostream, nostream, nostream, 0, 0)
        directory = b"".join(entries + [blank] * (4 - len(entries) % 4))
    assert len(directory) == sector
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6,
        0, 1, 1, 0, 4096, end, 0, end, 0,
    ) + struct.pack("<109I", 0, *[free] * 108)
    assert len(header) == sector
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(bodies)


def _patch_sizes(data: bytes, member: str, size: int) -> bytes:
    """Rewrite a member's declared uncompressed size in its local and central headers."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(member)
    out = bytearray(data)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + name_len] == member.encode():
            struct.pack_into("<I", out, pos + 24, size)
            break
        pos = data.find(b"PK\x01\x02", pos + 46)
    return bytes(out)


def hostile_files(out: Path) -> None:
    bad = out / "hostile"
    bad.mkdir(parents=True, exist_ok=True)
    write_xlsx(bad / "_base.xlsx", _base_rows())
    base_bytes = (bad / "_base.xlsx").read_bytes()
    (bad / "_base.xlsx").unlink()

    # Corrupt: bytes in the middle of the sheet's deflate stream overwritten.
    archive = zipfile.ZipFile(io.BytesIO(base_bytes))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    middle = info.header_offset + 30 + len(info.filename) + len(info.extra) + \
        info.compress_size // 2
    damaged = bytearray(base_bytes)
    damaged[middle:middle + 16] = b"\xff" * 16
    (bad / "corrupt.xlsx").write_bytes(bytes(damaged))
    (bad / "truncated.xlsx").write_bytes(base_bytes[: len(base_bytes) * 6 // 10])

    rng = random.Random(63)
    package = bytes(rng.getrandbits(8) for _ in range(6000))
    info_stream = b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"<encryption/>"
    (bad / "encrypted.xlsx").write_bytes(_cfb([
        ("EncryptionInfo", info_stream), ("EncryptedPackage", package),
    ]))
    (bad / "legacy.xls").write_bytes(_cfb([("Workbook", b"\x09\x08" + bytes(4094))]))

    # Zip bombs. Declared: a 3.9 GB sheet on paper. Ratio: 30 MB of XML compressed ~1000:1.
    # Lying: the header says 2 KB, the deflate stream holds 30 MB.
    numbered = [(n, row) for n, row in enumerate(_base_rows(), start=1)]
    sheet = "xl/worksheets/sheet1.xml"
    write_raw_xlsx(bad / "zip_bomb_declared.xlsx", sheet_xml(numbered))
    declared = (bad / "zip_bomb_declared.xlsx").read_bytes()
    (bad / "zip_bomb_declared.xlsx").write_bytes(_patch_sizes(declared, sheet, 3_900_000_000))
    padding = " " * 30_000_000
    write_raw_xlsx(bad / "zip_bomb_ratio.xlsx", sheet_xml(numbered, tail=padding), level=9)
    lying = (bad / "zip_bomb_ratio.xlsx").read_bytes()
    (bad / "zip_bomb_lying.xlsx").write_bytes(_patch_sizes(lying, sheet, 2048))

    (bad / "empty.xlsx").write_bytes(b"")
    (bad / "empty.csv").write_bytes(b"")
    (bad / "blank.csv").write_bytes(b"\xef\xbb\xbf\r\n\r\n  \r\n")

    width = len(KEYS)
    titles = [[f"说明第{n}行", *[None] * (width - 1)] for n in range(1, 12)]
    write_xlsx(bad / "no_header.xlsx", [*titles, *_base_rows()])
    write_csv(bad / "no_header.csv", [school_row(s) for s in SCHOOLS])
    write_csv(bad / "tab_separated.csv", _mutate(lambda k, v, i: v), delimiter="\t")

    formulas = _base_rows()
    students = KEYS.index("primary_students")
    books = KEYS.index("books")
    formulas[1][students] = Formula("=1200+34", 1234)
    formulas[2][books] = Formula(f"=SUM({column_letter(books)}2:{column_letter(books)}2)*2", 60000)
    formulas.append(_total_row())
    write_xlsx(bad / "formulas.xlsx", formulas)
    no_ref_formula = [(n, row) for n, row in enumerate(formulas[:3], start=1)]
    write_raw_xlsx(bad / "formula_no_refs.xlsx", sheet_xml(no_ref_formula, refs=False))
    write_raw_xlsx(bad / "formula_prefixed.xlsx", sheet_xml(no_ref_formula, prefix="x"))

    error_tail = (
        f'<row r="5"><c r="A5" t="inlineStr"><is><t>{YEAR}</t></is></c>'
        f'<c r="{column_letter(students)}5" t="e"><v>#N/A</v></c></row>'
    )
    write_raw_xlsx(bad / "error_cell.xlsx", sheet_xml(numbered, tail=error_tail))

    # Content far away: an empty string at row 1,000,000 (calamine would allocate the whole
    # grid above it) and a value in the last column Excel has.
    far = '<row r="1000000"><c r="AK1000000" t="inlineStr"><is><t></t></is></c></row>'
    write_raw_xlsx(bad / "far_cell.xlsx", sheet_xml(numbered, tail=far))
    wide = '<row r="5"><c r="XFD5" t="inlineStr"><is><t>x</t></is></c></row>'
    write_raw_xlsx(bad / "wide_cell.xlsx", sheet_xml(numbered, tail=wide))

    (bad / "random.xlsx").write_bytes(bytes(rng.getrandbits(8) for _ in range(4096)))
    (bad / "random.csv").write_bytes(bytes(rng.getrandbits(8) for _ in range(4096)))
    (bad / "html_table.xlsx").write_bytes(
        "<html><body><table><tr><td>学校标识码</td><td>学校名称</td></tr>"
        "<tr><td>0630102001</td><td>城东区第一小学</td></tr></table></body></html>".encode()
    )
    _zip(bad / "not_a_workbook.xlsx", [("readme.txt", "这不是工作簿".encode())])
    (bad / "utf16.csv").write_bytes(
        b"\xff\xfe" + "\t".join(HEADERS).encode("utf-16-le")
    )
    header_line = ",".join(HEADERS).encode()
    (bad / "undecodable.csv").write_bytes(
        header_line + b"\r\n" + ",".join(SCHOOLS[0][k] or "" for k in KEYS).encode() + b"\r\n"
        + b"2025,630102,0630102002,\xff\xfe\xfd\r\n"
    )
    (bad / "huge_field.csv").write_bytes(
        header_line + b"\r\n" + b'2025,630102,0630102001,"' + b"x" * 140_000 + b'"\r\n'
    )

    missing = [[v for k, v in zip(KEYS, row, strict=True) if k != "bandwidth_mbps"]
               for row in _base_rows()]
    write_xlsx(bad / "missing_column.xlsx", missing)
    duplicate = _base_rows()
    for row, extra in zip(duplicate, ["小学在校生数", 1, 2, 3], strict=True):
        row.append(extra)
    write_xlsx(bad / "duplicate_column.xlsx", duplicate)
    write_xlsx(bad / "header_only.xlsx", [list(HEADERS)])


def build(out: Path = HERE) -> None:
    good_files(out)
    hostile_files(out)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
