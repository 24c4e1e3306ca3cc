"""The submission columns: the one definition the reader, the GX suite and the warehouse use.

Headers, types and single-column rules live here; cross-field rules live in `rules.py`.
Every other layer (reader aliases, raw table DDL, GX expectations, dbt source columns)
is derived from `COLUMNS`, so adding a column is one edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["int", "num", "code", "text", "yesno", "digits"]
Section = Literal["primary", "junior"]

SCHOOL_TYPES: dict[str, str] = {
    "211": "小学",
    "218": "小学教学点",
    "311": "初级中学",
    "312": "九年一贯制学校",
    "341": "完全中学",
    "345": "十二年一贯制学校",
}
URBAN_RURAL: dict[str, str] = {
    "111": "主城区",
    "112": "城乡结合区",
    "121": "镇中心区",
    "122": "镇乡结合区",
    "123": "特殊区域",
    "210": "乡中心区",
    "220": "村庄",
}
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # canonical Chinese header as printed on the official form
    kind: Kind
    en: str
    required: bool = True
    # Section-specific counts: an empty cell means "the school has no such section" -> 0.
    section: Section | None = None
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] = ()
    digits: int | None = None  # for kind "digits": exact length, leading zeros kept
    # Counts of a section the school may not have: counties leave them blank, meaning 0.
    zero_when_empty: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "num")


def _count(key: str, header: str, en: str, section: Section | None = None) -> Column:
    return Column(key, header, "int", en, section=section, min_value=0,
                  zero_when_empty=section is not None)


COLUMNS: tuple[Column, ...] = (
    Column("school_year", "统计年度", "int", "statistics year", min_value=2000, max_value=2100),
    Column("county_code", "行政区划代码", "digits", "county division code", digits=6),
    Column("school_code", "学校标识码", "digits", "school identifier", digits=10),
    Column("school_name", "学校名称", "text", "school name"),
    Column("school_type", "办学类型", "code", "school type", allowed=tuple(SCHOOL_TYPES)),
    Column("urban_rural", "城乡分类", "code", "urban-rural class", allowed=tuple(URBAN_RURAL)),
    _count("primary_students", "小学在校生数", "primary students", "primary"),
    _count("junior_students", "初中在校生数", "junior students", "junior"),
    Column("senior_students", "高中在校生数", "int", "senior students", min_value=0,
           zero_when_empty=True),
    _count("primary_classes", "小学班数", "primary classes", "primary"),
    _count("junior_classes", "初中班数", "junior classes", "junior"),
    _count("primary_teachers", "小学专任教师数", "primary teachers", "primary"),
    _count("junior_teachers", "初中专任教师数", "junior teachers", "junior"),
    _count("primary_qualified_teachers", "小学专科及以上学历专任教师数",
           "primary teachers with college degree+", "primary"),
    _count("junior_qualified_teachers", "初中本科及以上学历专任教师数",
           "junior teachers with bachelor degree+", "junior"),
    _count("primary_senior_title_teachers", "小学中级及以上职称专任教师数",
           "primary teachers with intermediate title+", "primary"),
    _count("junior_senior_title_teachers", "初中中级及以上职称专任教师数",
           "junior teachers with intermediate title+", "junior"),
    _count("primary_backbone_teachers", "小学县级及以上骨干教师数",
           "primary county-level backbone teachers", "primary"),
    _count("junior_backbone_teachers", "初中县级及以上骨干教师数",
           "junior county-level backbone teachers", "junior"),
    _count("primary_pe_arts_teachers", "小学体育艺术专任教师数",
           "primary PE/music/art teachers", "primary"),
    _count("junior_pe_arts_teachers", "初中体育艺术专任教师数",
           "junior PE/music/art teachers", "junior"),
    Column("teaching_area_m2", "教学及辅助用房面积(平方米)", "num", "teaching area m2",
           min_value=0),
    Column("sports_area_m2", "体育运动场馆面积(平方米)", "num", "sports area m2", min_value=0),
    Column("equipment_value_10k_yuan", "教学仪器设备资产值(万元)", "num",
           "equipment value (10k yuan)", min_value=0),
    _count("books", "图书(册)", "books"),
    _count("computers", "教学用计算机(台)", "computers"),
    _count("classrooms", "普通教室数(间)", "classrooms"),
    _count("multimedia_classrooms", "网络多媒体教室数(间)", "multimedia classrooms"),
    _count("music_rooms", "音乐专用教室数(间)", "music rooms"),
    _count("art_rooms", "美术专用教室数(间)", "art rooms"),
    Column("internet_access", "是否接入互联网", "yesno", "internet access", allowed=(YES, NO)),
    Column("bandwidth_mbps", "出口带宽(Mbps)", "num", "bandwidth Mbps", min_value=0,
           max_value=10000),
    _count("primary_max_class_size", "小学最大班额(人)", "largest primary class", "primary"),
    _count("junior_max_class_size", "初中最大班额(人)", "largest junior class", "junior"),
    _count("large_classes", "56人及以上班数", "classes of 56+"),
    _count("junior_intake", "初中一年级招生数", "junior grade-1 intake", "junior"),
    _count("junior_graduates", "初中毕业生数", "junior graduates", "junior"),
    # Optional (added for the nine-year 巩固率): older files lack it, and a missing column or
    # an empty cell means "unknown", never 0 (a 0 would make the nine-year rate undefined).
    Column("primary_intake", "小学一年级招生数", "int", "primary grade-1 intake",
           required=False, min_value=0),
)

BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
NUMERIC_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS if c.numeric)
HEADER_ANCHOR = "学校标识码"

# Brackets counties use around units: ASCII, full-width, square and lenticular.
_TRAILING_UNIT = re.compile(r"[（(\[【［][^（()）\[\]【】［］]*[)）\]】］]$")
_SPACES = re.compile(r"[\s\u3000\u00a0\ufeff]+")


def normalize_header(cell: object) -> str:
    """Header text as matched: no spaces or line breaks, no trailing bracketed unit."""
    text = _SPACES.sub("", str(cell if cell is not None else ""))
    while True:
        stripped = _TRAILING_UNIT.sub("", text)
        if stripped == text:
            return text
        text = stripped


HEADER_TO_KEY: dict[str, str] = {normalize_header(c.header): c.key for c in COLUMNS}


def label(key: str) -> str:
    """`学校名称 (school_name)`: how a column is named in bilingual messages."""
    return f"{BY_KEY[key].header} ({key})" if key in BY_KEY else key
