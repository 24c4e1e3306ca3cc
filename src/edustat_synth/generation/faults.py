"""Realistic rule violations (the county's file must be rejected) and warnings-only oddities.

Each fault is one that county staff really make: a qualification count typed into the wrong
column, a school pasted twice, a neighbour's 行政区划代码 copied along with a row, kbps typed as
Mbps, an old template without a column... Every one breaks a rule under "What is an error" in
docs/submission-format.md, and is described in Chinese and English with the sheet rows it touches.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from edustat.columns import BY_KEY, NO, YES
from edustat_synth.generation.records import Record


@dataclass(frozen=True)
class InjectedFault:
    """One injected problem, located as the county would see it in the written file."""

    county_code: str
    year: int
    path: Path
    kind: str
    severity: str  # critical (file rejected) or warning (file accepted)
    column: str | None  # submission column key
    rows: tuple[int, ...]  # 1-based sheet rows; empty for a file-level fault
    value: str | None
    message_zh: str
    message_en: str

    @property
    def description(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


class FaultyFile(NamedTuple):
    county_code: str
    year: int
    path: Path
    description: str


@dataclass
class Pending:
    """A fault applied to the records, before the writer has given them sheet rows."""

    kind: str
    column: str | None
    records: list[Record]
    value: str | None
    zh: str  # may contain {rows}
    en: str
    severity: str = "critical"


@dataclass
class FaultContext:
    county_code: str
    neighbour: str
    year: int
    rng: random.Random
    dropped: set[str] = field(default_factory=set)  # columns the file will not carry
    touched: set[int] = field(default_factory=set)  # ids of records already faulted

    def pick(self, records: list[Record], test: Callable[[Record], bool], k: int) -> list[Record]:
        pool = [r for r in records if id(r) not in self.touched and test(r)]
        chosen = self.rng.sample(pool, min(k, len(pool)))
        self.touched.update(id(r) for r in chosen)
        return chosen


def _h(key: str) -> str:
    return BY_KEY[key].header


def _qualified_gt_teachers(rows: list[Record], ctx: FaultContext) -> Pending | None:
    section = ctx.rng.choice(("primary", "junior"))
    teachers, qualified = f"{section}_teachers", f"{section}_qualified_teachers"
    hit = ctx.pick(rows, lambda r: r[teachers] >= 2, ctx.rng.randint(1, 3))
    for r in hit:
        r[qualified] = r[teachers] + ctx.rng.randint(1, 3)
    return Pending("qualified_gt_teachers", qualified, hit, None,
                   f"{_h(qualified)}大于{_h(teachers)}（第{{rows}}行）",
                   f"{qualified} greater than {teachers} (rows {{rows}})") if hit else None


def _duplicate_school_code(rows: list[Record], ctx: FaultContext) -> Pending | None:
    first = ctx.pick(rows, lambda r: True, 1)
    if not first:
        return None
    original = first[0]
    if ctx.rng.random() < 0.5:  # the same row pasted twice
        copy = dict(original)
        rows.insert(rows.index(original) + 1, copy)
    else:  # a second school given the first one's code
        other = ctx.pick(rows, lambda r: r is not original, 1)
        if not other:
            return None
        copy = other[0]
        copy["school_code"] = original["school_code"]
    ctx.touched.add(id(copy))
    code = str(original["school_code"])
    return Pending("duplicate_school_code", "school_code", [original, copy], code,
                   f"学校标识码{code}重复（第{{rows}}行）",
                   f"duplicate school_code {code} (rows {{rows}})")


def _bandwidth_without_internet(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: r["internet_access"] == YES, ctx.rng.randint(1, 2))
    for r in hit:
        r["internet_access"] = NO
    return Pending("bandwidth_without_internet", "bandwidth_mbps", hit, NO,
                   "是否接入互联网填“否”，出口带宽却大于0（第{rows}行）",
                   "bandwidth_mbps > 0 while internet_access is 否 (rows {rows})") if hit else None


def _primary_with_junior(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: r["school_type"] == "211" and r["primary_students"] >= 100, 1)
    for r in hit:
        r["junior_students"] = ctx.rng.randint(20, 60)
        r["junior_classes"] = 1
    return Pending("primary_with_junior", "junior_students", hit, None,
                   "办学类型为小学（211），却填报了初中在校生数（第{rows}行）",
                   "school_type 211 (primary) with junior_students > 0 (rows {rows})") \
        if hit else None


def _text_in_count(rows: list[Record], ctx: FaultContext) -> Pending | None:
    key = ctx.rng.choice(("primary_students", "books", "computers"))
    hit = ctx.pick(rows, lambda r: isinstance(r[key], int) and r[key] >= 50, 1)
    if not hit:
        return None
    number = hit[0][key]
    value = ctx.rng.choice((f"约{round(number, -1)}", f"{number}人", "不详", f"{number}左右"))
    hit[0][key] = value
    return Pending("text_in_count", key, hit, value,
                   f"{_h(key)}填写了非数字内容“{value}”（第{{rows}}行）",
                   f"non-numeric value '{value}' in {key} (row {{rows}})")


def _county_code_mismatch(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: True, ctx.rng.randint(1, 2))
    for r in hit:
        r["county_code"] = ctx.neighbour
    return Pending("county_code_mismatch", "county_code", hit, ctx.neighbour,
                   f"行政区划代码{ctx.neighbour}与报送文件夹{ctx.county_code}不一致（第{{rows}}行）",
                   f"county_code {ctx.neighbour} differs from the folder {ctx.county_code} "
                   "(rows {rows})") if hit else None


def _students_without_classes(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: r["school_type"] in ("211", "218")
                   and r["large_classes"] == 0, 1)
    for r in hit:
        r["primary_classes"] = 0
    return Pending("students_without_classes", "primary_classes", hit, "0",
                   "小学在校生数大于0，小学班数却为0（第{rows}行）",
                   "primary_students > 0 but primary_classes = 0 (row {rows})") if hit else None


def _bandwidth_over_limit(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: r["internet_access"] == YES, 1)
    if not hit:
        return None
    value = hit[0]["bandwidth_mbps"] * 1024  # typed in kbps
    hit[0]["bandwidth_mbps"] = value
    return Pending("bandwidth_over_limit", "bandwidth_mbps", hit, str(value),
                   f"出口带宽{value}超过10000Mbps，疑似按kbps填报（第{{rows}}行）",
                   f"bandwidth_mbps {value} above 10000, probably kbps (row {{rows}})")


def _missing_column(rows: list[Record], ctx: FaultContext) -> Pending | None:
    key = ctx.rng.choice(("junior_graduates", "large_classes", "junior_intake"))
    ctx.dropped.add(key)
    return Pending("missing_column", key, [], None,
                   f"缺少必填列“{_h(key)}”（沿用旧版报表模板）",
                   f"required column {key} missing (old template)")


def _bad_school_type(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: r["school_type"] in ("211", "311"), 1)
    if not hit:
        return None
    value = {"211": "小学", "311": "初中"}[str(hit[0]["school_type"])]
    hit[0]["school_type"] = value
    return Pending("bad_school_type", "school_type", hit, value,
                   f"办学类型填写了名称“{value}”而不是代码（第{{rows}}行）",
                   f"school_type '{value}' is a name, not a code (row {{rows}})")


def _mixed_year(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: True, 1)
    for r in hit:
        r["school_year"] = ctx.year - 1
    return Pending("mixed_year", "school_year", hit, str(ctx.year - 1),
                   f"统计年度{ctx.year - 1}与其他行的{ctx.year}不一致"
                   "（第{rows}行，沿用了上年数据）",
                   f"school_year {ctx.year - 1} differs from {ctx.year} on the other rows "
                   "(row {rows})") if hit else None


def _empty_school_name(rows: list[Record], ctx: FaultContext) -> Pending | None:
    hit = ctx.pick(rows, lambda r: True, 1)
    for r in hit:
        r["school_name"] = ""
    return Pending("empty_school_name", "school_name", hit, None,
                   "学校名称为空（第{rows}行）", "school_name empty (row {rows})") if hit else None


FAULTS: dict[str, Callable[[list[Record], FaultContext], Pending | None]] = {
    "qualified_gt_teachers": _qualified_gt_teachers,
    "duplicate_school_code": _duplicate_school_code,
    "bandwidth_without_internet": _bandwidth_without_internet,
    "primary_with_junior": _primary_with_junior,
    "text_in_count": _text_in_count,
    "county_code_mismatch": _county_code_mismatch,
    "students_without_classes": _students_without_classes,
    "bandwidth_over_limit": _bandwidth_over_limit,
    "missing_column": _missing_column,
    "bad_school_type": _bad_school_type,
    "mixed_year": _mixed_year,
    "empty_school_name": _empty_school_name,
}


def inject_faults(rows: list[Record], ctx: FaultContext, count: int) -> list[Pending]:
    """Apply `count` different faults (fewer if the file offers no candidate rows)."""
    kinds = sorted(FAULTS)
    ctx.rng.shuffle(kinds)
    applied: list[Pending] = []
    for kind in kinds:
        if len(applied) == count:
            break
        pending = FAULTS[kind](rows, ctx)
        if pending is not None:
            applied.append(pending)
    return applied


def inject_oddity(rows: list[Record], ctx: FaultContext) -> list[Pending]:
    """A warning, not an error: more multimedia rooms than classrooms on one school."""
    hit = ctx.pick(rows, lambda r: r["classrooms"] >= 4, 1)
    if not hit:
        return []
    r = hit[0]
    r["multimedia_classrooms"] = r["classrooms"] + ctx.rng.randint(2, 6)
    return [Pending("multimedia_above_classrooms", "multimedia_classrooms", hit,
                    str(r["multimedia_classrooms"]),
                    f"网络多媒体教室数{r['multimedia_classrooms']}多于普通教室数{r['classrooms']}"
                    "（第{rows}行，含专用教室，提示）",
                    f"multimedia_classrooms {r['multimedia_classrooms']} above classrooms "
                    f"{r['classrooms']} (row {{rows}}; warning only)", severity="warning")]


def locate(pending: Pending, county_code: str, year: int, path: Path,
           sheet_rows: dict[int, int]) -> InjectedFault:
    rows = tuple(sorted(sheet_rows[id(r)] for r in pending.records))
    text = "、".join(str(n) for n in rows)
    return InjectedFault(
        county_code=county_code, year=year, path=path, kind=pending.kind,
        severity=pending.severity, column=pending.column, rows=rows, value=pending.value,
        message_zh=pending.zh.format(rows=text),
        message_en=pending.en.format(rows=", ".join(str(n) for n in rows)),
    )
