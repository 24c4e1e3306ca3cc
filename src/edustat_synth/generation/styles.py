"""How each county presents its file: format, layout and messy-but-valid cells.

Every feature is dealt from a shuffled deck per province (not flipped per county), so a
province always shows each feature in about its real share: half the files xlsx, some GB18030
CSVs, title rows, 合计 rows... A county keeps its style across years, as counties keep their
templates; the national run deals the same decks, so a province's files are identical whether
it is generated alone or as part of the country.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from edustat.columns import COLUMNS, KEYS
from edustat_synth.generation.counties import CountyUnit
from edustat_synth.generation.names import short_name

T = TypeVar("T")


@dataclass(frozen=True)
class Style:
    fmt: str  # xlsx | csv
    encoding: str  # csv only: utf-8-sig (Excel), gb18030 (older systems), utf-8
    sheets: tuple[str, ...]  # xlsx: sheet names in workbook order; the data sheet is `sheet`
    sheet: str
    title: bool
    title_merged: bool
    note_row: str | None  # note above the header: unit line or 填报单位
    blank_after_title: bool
    serial_column: bool  # a 序号 column in front (unknown column, kept as extra)
    extra_columns: tuple[str, ...]  # e.g. 备注: unknown columns, a warning
    order: tuple[str, ...]  # column keys in sheet order
    headers: dict[str, str]  # key -> header text as printed
    totals: str  # none | values | formula
    instructions: bool  # 填表说明 block below the data
    note_line: bool  # a 注： line below the data
    blank_row_inside: bool
    text_numbers: float  # xlsx: share of numeric cells stored as text
    codes_as_numbers: bool  # xlsx: 行政区划代码 / 学校标识码 / codes as numbers
    thousands: bool  # 1,234 in text cells
    fullwidth: float  # share of numeric text cells typed in full-width digits
    trailing_spaces: float  # share of text cells with trailing spaces
    float_ints: bool  # 45.0 in integer columns (exports from float columns)
    blank_absent_sections: bool  # empty cells for counts of a section the school lacks
    area_decimals: int  # 2 or 0 decimals for areas and equipment values
    row_order: str  # code | type | name
    file_pattern: str
    freeze_header: bool


_FILE_PATTERNS = (
    "{code}_{year}_学校基础数据",
    "{name}{year}年学校基础数据报送表",
    "{year}年{name}义务教育学校基础数据",
    "{code}-{year}",
    "{name}_{year}年度_基础数据(终稿)",
    "{year}{code}jcsj",
    "附件2：{name}{year}年义务教育学校办学条件统计表",
    "{short}{year}学校数据上报",
)
_NOTES = (
    "单位：人、班、平方米、万元、册、台、间、Mbps",
    "填报单位（盖章）：{name}教育局　　　　填报人：　　　　联系电话：",
    "数据截止时间：{year}年9月30日",
)
_UNIT_STYLES = ("ascii", "fullwidth", "newline", "square", "lenticular", "none", "space")
# Units some counties add to headers that carry none on the official form.
_EXTRA_UNITS = {
    "primary_students": "人", "junior_students": "人", "senior_students": "人",
    "primary_classes": "个", "junior_classes": "个", "primary_teachers": "人",
    "junior_teachers": "人", "large_classes": "个", "junior_intake": "人",
    "junior_graduates": "人", "primary_intake": "人",
}
# Groups of columns counties move around together (older templates put assets first).
_GROUPS = (
    KEYS[:6], KEYS[6:11], KEYS[11:21], KEYS[21:30], KEYS[30:32], KEYS[32:35], KEYS[35:],
)


def _rank(units: Sequence[CountyUnit], seed: int, feature: str) -> dict[str, float]:
    """Position in (0, 1) of each county in this feature's shuffled deck for its province."""
    ranks: dict[str, float] = {}
    by_province: dict[str, list[str]] = {}
    for u in units:
        by_province.setdefault(u.province, []).append(u.code)
    for province, codes in sorted(by_province.items()):
        deck = sorted(codes)
        random.Random(f"edustat:{seed}:deck:{feature}:{province}").shuffle(deck)
        for i, code in enumerate(deck):
            ranks[code] = (i + 0.5) / len(deck)
    return ranks


class Decks:
    """Deals each feature to the counties of every province in its given shares."""

    def __init__(self, province_units: Sequence[CountyUnit], seed: int) -> None:
        self.units = province_units
        self.seed = seed
        self.cache: dict[str, dict[str, float]] = {}

    def _position(self, feature: str, code: str) -> float:
        if feature not in self.cache:
            self.cache[feature] = _rank(self.units, self.seed, feature)
        return self.cache[feature][code]

    def choose(self, feature: str, code: str, options: Sequence[tuple[T, float]]) -> T:
        position, edge = self._position(feature, code), 0.0
        for value, share in options:
            edge += share
            if position < edge:
                return value
        return options[-1][0]

    def flag(self, feature: str, code: str, share: float) -> bool:
        return self._position(feature, code) < share


def _header(key: str, header: str, unit_style: str, rng: random.Random, newline: bool) -> str:
    base, bracket, unit = header.partition("(")
    unit = unit.rstrip(")")
    if not bracket and key in _EXTRA_UNITS and rng.random() < 0.3:
        unit = _EXTRA_UNITS[key]
    if newline and len(base) > 7 and rng.random() < 0.4:
        base = f"{base[: len(base) // 2]}\n{base[len(base) // 2:]}"
    if not unit or unit_style == "none":
        return base
    return {
        "ascii": f"{base}({unit})",
        "fullwidth": f"{base}（{unit}）",
        "newline": f"{base}\n({unit})" if newline else f"{base}（{unit}）",
        "square": f"{base}[{unit}]",
        "lenticular": f"{base}【{unit}】",
        "space": f"{base} ({unit})",
    }[unit_style]


def _order(kind: str, rng: random.Random) -> tuple[str, ...]:
    if kind == "canonical":
        return KEYS
    if kind == "grouped":
        groups = list(_GROUPS[1:])
        rng.shuffle(groups)
        return _GROUPS[0] + tuple(k for g in groups for k in g)
    # name first, code second, year last: an export from a school-management system
    rest = [k for k in KEYS if k not in ("school_name", "school_code", "school_year")]
    return ("school_name", "school_code", *rest, "school_year")


def make_style(unit: CountyUnit, decks: Decks, seed: int) -> Style:
    code = unit.code
    rng = random.Random(f"edustat:{seed}:style:{code}")
    fmt, encoding = decks.choose("format", code, (
        (("xlsx", ""), 0.5), (("csv", "utf-8-sig"), 0.22), (("csv", "gb18030"), 0.18),
        (("csv", "utf-8"), 0.10)))
    xlsx = fmt == "xlsx"
    sheets: tuple[str, ...] = decks.choose("sheets", code, (
        (("学校",), 0.55), (("学校", "填表说明"), 0.1), (("填表说明", "学校"), 0.1),
        (("Sheet1",), 0.15), (("基础数据",), 0.1)))
    sheet = "学校" if "学校" in sheets else sheets[0]
    unit_style = decks.choose("units", code, (
        ("ascii", 0.4), ("fullwidth", 0.22), ("newline", 0.14), ("square", 0.06),
        ("lenticular", 0.04), ("space", 0.04), ("none", 0.10)))
    order_kind = decks.choose("order", code, (
        ("canonical", 0.7), ("grouped", 0.2), ("system", 0.1)))
    headers = {c.key: _header(c.key, c.header, unit_style, rng, newline=xlsx)
               for c in COLUMNS}
    if decks.flag("header_spaces", code, 0.15):
        for key in ("school_name", "school_type", "urban_rural", "internet_access"):
            headers[key] = headers[key] + rng.choice((" ", "　", "  "))
    extra: tuple[str, ...] = decks.choose("extra", code, (
        ((), 0.75), (("备注",), 0.15), (("学校地址", "备注"), 0.06), (("校长姓名",), 0.04)))
    totals = decks.choose("totals", code, (("none", 0.55), ("values", 0.3), ("formula", 0.15)))
    text_numbers = decks.choose("text_numbers", code, ((0.0, 0.6), (0.1, 0.25), (1.0, 0.15)))
    title = decks.flag("title", code, 0.6)
    return Style(
        fmt=fmt,
        encoding=encoding,
        sheets=sheets,
        sheet=sheet,
        title=title,
        title_merged=xlsx and rng.random() < 0.6,
        note_row=rng.choice(_NOTES) if decks.flag("note_row", code, 0.35) else None,
        blank_after_title=title and decks.flag("blank_after_title", code, 0.25),
        serial_column=decks.flag("serial", code, 0.25),
        extra_columns=extra,
        order=_order(order_kind, rng),
        headers=headers,
        totals="values" if totals == "formula" and not xlsx else totals,
        instructions=decks.flag("instructions", code, 0.3),
        note_line=decks.flag("note_line", code, 0.1),
        blank_row_inside=decks.flag("blank_row", code, 0.1),
        text_numbers=text_numbers if xlsx else 1.0,
        codes_as_numbers=xlsx and decks.flag("codes_as_numbers", code, 0.4),
        thousands=decks.flag("thousands", code, 0.2),
        fullwidth=0.03 if decks.flag("fullwidth", code, 0.08) else 0.0,
        trailing_spaces=0.05 if decks.flag("trailing_spaces", code, 0.15) else 0.0,
        float_ints=decks.flag("float_ints", code, 0.12),
        blank_absent_sections=decks.flag("blank_sections", code, 0.35),
        area_decimals=0 if decks.flag("area_integers", code, 0.4) else 2,
        row_order=decks.choose("row_order", code, (("code", 0.4), ("type", 0.4), ("name", 0.2))),
        file_pattern=decks.choose("file_name", code, tuple(
            (p, 1 / len(_FILE_PATTERNS)) for p in _FILE_PATTERNS)),
        freeze_header=rng.random() < 0.3,
    )


def file_name(style: Style, unit: CountyUnit, year: int) -> str:
    stem = style.file_pattern.format(code=unit.code, year=year, name=unit.name,
                                     short=short_name(unit.name))
    return f"{stem}.{style.fmt}"


def title_text(unit: CountyUnit, year: int, rng: random.Random) -> str:
    return rng.choice((
        f"{unit.name}{year}年义务教育学校基础数据",
        f"{year}年{unit.name}中小学校基础情况统计表",
        f"{unit.prefecture_name}{unit.name}{year}年学校基础数据报送表",
    ))


def note_text(style: Style, unit: CountyUnit, year: int) -> str | None:
    return style.note_row.format(name=unit.name, year=year) if style.note_row else None
