"""Page contexts and rendering: provincial reports, the national page, scorecards, the index.

Labels, formats, units and targets of every figure come from the declared interface
(figures.metric) and the reference data of the snapshot; the wording around them (policy
numbers in sentences included) is filled from the seeds, never typed into a template.
"""

from __future__ import annotations

import posixpath
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from edustat.reports import formatting, labels
from edustat.reports.charts import Bar, hbar_chart, line_chart
from edustat.reports.figures import (
    ACCESS,
    HEADLINE,
    READY,
    TEACHER,
    Change,
    Metric,
    change,
    county_rows,
    like_for_like,
    metric,
    readiness_counties,
    ready_counties,
)
from edustat.reports.marts import Row, Snapshot
from edustat.site import INDEX, rejection_page

LINK_LABELS: dict[str, str] = {
    "rejections": "退回报告",
    "data_docs": "数据质量报告（Great Expectations Data Docs）",
    "dbt_docs": "数据模型文档（dbt docs）",
}


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("edustat.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        figure=formatting.figure,
        fmt=formatting.fmt,
        delta=formatting.delta,
        exact=formatting.exact,
        yes_no=formatting.yes_no,
        section_label=formatting.section_label,
        status_label=formatting.status_label,
        pct=formatting.pct,
    )
    return env


def relative_links(links: dict[str, str] | None, depth: int) -> list[dict[str, str]]:
    """Links given relative to the site root, re-based for a page `depth` folders down."""
    out = []
    for key, url in (links or {}).items():
        if not url:
            continue
        parts = urlsplit(url)
        if not parts.scheme and not url.startswith(("/", "#")):
            url = "../" * depth + url
        out.append({"key": key, "label": LINK_LABELS.get(key, key), "href": url})
    return out


@dataclass(frozen=True)
class Page:
    """Where a page lives (relative to the site root) and what it needs to link around."""

    path: str

    @property
    def depth(self) -> int:
        return self.path.count("/")

    def href(self, target: str) -> str:
        """A relative link from this page to `target` (a path from the site root)."""
        return posixpath.relpath(target, posixpath.dirname(self.path) or ".")


def province_page(year: int, province: str, several: bool) -> str:
    return f"{year}/province/{province}.html" if several else f"{year}/{INDEX}"


def county_page(year: int, county: str) -> str:
    return f"{year}/county/{county}.html"


# -- names ------------------------------------------------------------------------------------

# Tables with one row per county and year (at least), in the order their names are trusted.
COUNTY_TABLES = ("submission_status", "county_balance_readiness", "county_multimedia_coverage",
                 "county_broadband", "county_teacher_ratios", "county_indicator_cv")


class CountyNames:
    """County names collected one year at a time (the first table of COUNTY_TABLES naming a
    county wins, and within a table its earliest year); names that occur more than once carry
    their prefecture: 城关区（兰州市）."""

    def __init__(self) -> None:
        self._by_table: dict[str, dict[str, str]] = {t: {} for t in COUNTY_TABLES}
        self._prefecture: dict[str, str] = {}

    def add(self, snap: Snapshot, year: int) -> None:
        for table, names in self._by_table.items():
            for r in snap.rows(table, year):
                if r["county_name"]:
                    names.setdefault(r["county_code"], r["county_name"])
                if r["prefecture_code"]:
                    self._prefecture.setdefault(r["county_code"], r["prefecture_code"])

    def names(self, snap: Snapshot) -> dict[str, str]:
        out: dict[str, str] = {}
        for names in self._by_table.values():
            for code, name in names.items():
                out.setdefault(code, name)
        repeated = {n for n, k in Counter(out.values()).items() if k > 1}
        qualifiers = snap.division_names(
            {self._prefecture.get(c, c[:4] + "00") for c, n in out.items() if n in repeated}
            | {c[:2] + "0000" for c, n in out.items() if n in repeated})
        for code, name in out.items():
            if name in repeated:
                prefecture = self._prefecture.get(code, code[:4] + "00")
                where = qualifiers.get(prefecture) or qualifiers.get(code[:2] + "0000")
                out[code] = f"{name}（{where}）" if where else f"{name}（{code}）"
        return out


def county_provinces(snap: Snapshot, year: int) -> dict[str, str]:
    """county code -> province code, for every county of the year (expected or with data)."""
    found: dict[str, str] = {}
    for table in COUNTY_TABLES:
        for r in snap.rows(table, year):
            found.setdefault(r["county_code"], r["province_code"] or province_of_code(
                r["county_code"]))
    return found


def province_of_code(county: str) -> str:
    """The province of a county code by GB/T 2260: its first two digits, then zeros."""
    return county[:2] + "0000"


# -- shared blocks ----------------------------------------------------------------------------

def _of_province(rows: list[Row], province: str) -> list[Row]:
    return [r for r in rows if r["province_code"] == province]


def as_of(snap: Snapshot, year: int, province: str | None) -> Any:
    """The newest file whose data is in the figures: the latest accepted_at."""
    times = [r["accepted_at"] for r in snap.rows("submission_status", year)
             if r["accepted_at"] is not None
             and (province is None or r["province_code"] == province)]
    return max(times) if times else None


def rejection_href(page: Page, status: Row | None, published: set[int]) -> str | None:
    """The county's latest rejection report, when it is part of the site."""
    if not status or status["last_rejected_submission_id"] is None:
        return None
    sid = int(status["last_rejected_submission_id"])
    return page.href(rejection_page(sid)) if sid in published else None


def status_block(snap: Snapshot, year: int, province: str, names: dict[str, str], page: Page,
                 rejections: set[int]) -> dict[str, Any]:
    """Who is behind the figures: counts per status, and the counties not (yet) accepted."""
    rows = sorted(_of_province(snap.rows("submission_status", year), province),
                  key=lambda r: r["county_code"])
    statuses = labels.codes("status")
    items = [{"row": r, "code": r["county_code"],
              "name": names.get(r["county_code"], r["county_code"]),
              "href": page.href(county_page(year, r["county_code"])),
              "rejection": rejection_href(page, r, rejections)} for r in rows]
    return {
        "counts": [{"code": s, "label": text,
                    "n": sum(1 for r in rows if r["status"] == s)} for s, text in statuses.items()],
        "expected": len(rows),
        "not_accepted": [i for i in items if i["row"]["status"] != "accepted"],
        "accepted": [i for i in items if i["row"]["status"] == "accepted"],
    }


def headline_block(snap: Snapshot, year: int, province: str) -> dict[str, Any]:
    region = snap.region(year, "province", province)
    assert region is not None, (year, province)
    delta: Change | None = like_for_like(snap, year, province)
    cards = []
    for key in HEADLINE:
        m = metric(snap, "region_summary", key)
        cards.append(_card(m, region[key], delta, key))
    ready = Metric(READY, "具备优质均衡评估条件的县", "count", "个")
    card = _card(ready, len(ready_counties(snap, year, province)), delta, READY)
    card["of"] = len(readiness_counties(snap, year, province))
    cards.append(card)
    return {"cards": cards, "reporting": region["counties_reporting"],
            "expected": region["counties_expected"], "change": delta}


def _card(m: Metric, value: Any, delta: Change | None, key: str) -> dict[str, Any]:
    card: dict[str, Any] = {"metric": m, "value": value, "delta": None, "current": None,
                            "previous": None}
    if delta is not None:
        card["current"], card["previous"] = delta.values.get(key, (None, None))
        card["delta"] = delta.delta(key)
    return card


# -- the provincial report --------------------------------------------------------------------

def province_context(snap: Snapshot, year: int, province: str, names: dict[str, str],
                     page: Page, years: list[int], year_pages: dict[int, str],
                     links: dict[str, str] | None, excel_href: str, several: bool,
                     rejections: set[int], run_id: str | None) -> dict[str, Any]:
    """A province's report for the year. `years`: the years whose report of this province
    exists (trend and navigation), `year_pages`: year -> its page of this province."""
    region = snap.region(year, "province", province)
    assert region is not None
    data = county_rows(snap, year, province)
    counties = sorted(data)
    coverage = {r["county_code"]: r for r in _of_province(
        snap.rows("county_multimedia_coverage", year), province)}
    broadband = {r["county_code"]: r for r in _of_province(
        snap.rows("county_broadband", year), province)}

    def bars(source: dict[str, Row], key: str) -> list[Bar]:
        return [Bar(c, names.get(c, c), source[c][key], page.href(county_page(year, c)))
                for c in counties if c in source]

    charts = []
    for cid, mart, source, key in (
            ("chart-coverage", "county_multimedia_coverage", coverage, "coverage_ratio"),
            ("chart-connected", "county_broadband", broadband, "connected_share"),
            ("chart-100mbps", "county_broadband", broadband, "share_100mbps_plus")):
        m = metric(snap, mart, key)
        title = f"各县{m.label}"
        target_label = f"目标 {formatting.fmt(m.target, m.format)}" if m.target else ""
        charts.append({"id": cid, "title": title, "metric": m,
                       "svg": hbar_chart(cid, title, bars(source, key), m.format, m.target,
                                         target_label)})
    readiness = [{"row": r, "code": r["county_code"],
                  "name": names.get(r["county_code"], r["county_code"]),
                  "href": page.href(county_page(year, r["county_code"])),
                  "gaps": formatting.as_list(r["gaps"])}
                 for r in _of_province(snap.rows("county_balance_readiness", year), province)]
    return {
        "kind": "province",
        "year": year,
        "scope_code": province,
        "scope_name": region["region_name"] or province,
        "page": page,
        "nav_years": [{"year": y, "href": page.href(year_pages[y])} for y in years
                      if y != year and y in year_pages],
        "index_href": page.href(INDEX),
        "national_href": page.href(f"{year}/{INDEX}") if several else None,
        "as_of": as_of(snap, year, province),
        "run_id": run_id,
        "status": status_block(snap, year, province, names, page, rejections),
        "headline": headline_block(snap, year, province),
        "charts": charts,
        "cv_grids": cv_grids(snap, year, province, counties, names, page),
        "urban_rural": urban_rural(snap, year, province),
        "readiness": readiness,
        "readiness_rules": readiness_rules(snap),
        # History up to this year: a later year's resubmission leaves this page as it is.
        "trends": trend_charts(snap, province, [y for y in years if y <= year]),
        "counties": [{"code": c, "name": names.get(c, c),
                      "href": page.href(county_page(year, c))}
                     for c in sorted(r["county_code"] for r in _of_province(
                         snap.rows("submission_status", year), province))],
        "links": relative_links(links, page.depth),
        "excel_href": excel_href,
        "pdf_href": page.path.rsplit("/", 1)[-1].replace(".html", ".pdf"),
    }


def readiness_rules(snap: Snapshot) -> str:
    """What `ready` requires, in the words of the seeds' numbers (docs/methodology.md#readiness)."""
    p = snap.policy_number
    return (f"各学段七项差异系数均不超过上限（小学 {_limit(snap, 'primary')}、初中 "
            f"{_limit(snap, 'junior')}）；纳入评估的学校学段全部达标；无超过 "
            f"{p('primary_max_class_size'):f}/{p('junior_max_class_size'):f} 人的班级，"
            f"无 {p('large_class_size'):f} 人及以上的大班额；"
            f"无超规模学校（{p('single_section_school_max_students'):f} 人，一贯制 "
            f"{p('combined_school_max_students'):f} 人）；每 {p('classes_per_special_room'):f} "
            f"个班配备音乐、美术专用教室各 1 间；初中三年巩固率不低于 "
            f"{formatting.pct(p('junior_retention_target'), 0)}（无法计算时列入差距但不否决）。"
            f"九年义务教育巩固率（目标 {formatting.pct(p('compulsory_retention_target'), 0)}）"
            f"单列，不作为条件")


def retention_targets(snap: Snapshot) -> dict[str, str]:
    """The 巩固率 targets as the pages print them (seed policy_parameters)."""
    return {"junior": formatting.pct(snap.policy_number("junior_retention_target"), 0),
            "compulsory": formatting.pct(snap.policy_number("compulsory_retention_target"), 0)}


def compliance_rule(snap: Snapshot) -> str:
    p = snap.policy_number
    return (f"达标须至少 {p('compliance_min_indicators_met'):f} 项达到标准值、"
            f"其余一项不低于标准值的 {formatting.pct(p('compliance_floor_ratio'), 0)}")


def _limit(snap: Snapshot, section: str) -> str:
    found = sorted({cv for (m, s, _), (_, cv) in snap.limits.items()
                    if m == "2017" and s == section and cv is not None})
    return "/".join(formatting.num(v, 2) for v in found) or formatting.DASH


def trend_charts(snap: Snapshot, province: str, years: list[int]) -> list[dict[str, Any]]:
    series: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for y in years:
        row = snap.memo.get(("province_row", y, province))
        for key in HEADLINE:
            series[key].append((y, row[key] if row else None))
    notes = {}
    for y in years:
        row = snap.memo.get(("province_row", y, province))
        if row:
            notes[y] = f"{row['counties_reporting']}/{row['counties_expected']} 县"
    charts = []
    for key in HEADLINE:
        m = metric(snap, "region_summary", key)
        chart_id = "trend-" + key
        charts.append({"metric": m, "svg": line_chart(chart_id, f"{m.label} 历年趋势",
                                                      series[key], m.format, m.target, notes)})
    return charts


def cv_grids(snap: Snapshot, year: int, province: str, counties: list[str],
             names: dict[str, str], page: Page) -> list[dict[str, Any]]:
    rows = _of_province(snap.rows("county_indicator_cv", year), province)
    indicators = snap.method_indicators("2017")
    grids = []
    for section in labels.codes("section"):
        cells: dict[tuple[str, str], Row] = {}
        limits: dict[str, set[Decimal]] = defaultdict(set)
        for r in rows:
            if r["section"] != section:
                continue
            if r["method"] == "2017" or r["indicator"] == "composite":
                cells[(r["county_code"], r["indicator"])] = r
                if r["cv_limit"] is not None:
                    limits[r["indicator"]].add(Decimal(r["cv_limit"]))
        columns = list(indicators)
        if any(k == "composite" for _, k in cells):
            columns.append("composite")
        present = {c for c, _ in cells}
        grids.append({
            "section": section,
            "columns": [{"code": k, "name": snap.indicator(k).name,
                         "limits": sorted(limits.get(k, ()))} for k in columns],
            "rows": [{"code": c, "name": names.get(c, c),
                      "href": page.href(county_page(year, c)),
                      "cells": {k: cells.get((c, k)) for k in columns}}
                     for c in counties if c in present],
        })
    return grids


def urban_rural(snap: Snapshot, year: int, province: str) -> list[dict[str, Any]]:
    """The province's 2017 indicators by 城乡 area, per section (region_urban_rural)."""
    rows = {(r["section"], r["indicator"], r["area"]): r
            for r in snap.rows("region_urban_rural", year)
            if r["region_level"] == "province" and r["region_code"] == province}
    out = []
    for section in labels.codes("section"):
        if not any(k[0] == section for k in rows):
            continue
        out.append({"section": section, "items": [
            {"indicator": snap.indicator(ind),
             **{area: rows.get((section, ind, area)) for area in ("urban", "town", "rural")}}
            for ind in snap.method_indicators("2017")]})
    return out


# -- the national page ------------------------------------------------------------------------

def national_context(snap: Snapshot, year: int, provinces: list[str], page: Page,
                     years: list[int], links: dict[str, str] | None, excel_href: str,
                     province_files: dict[str, str], run_id: str | None) -> dict[str, Any]:
    """One row per province (no per-county charts at this scale)."""
    metrics = [metric(snap, "region_summary", k) for k in HEADLINE]
    rows = []
    for p in provinces:
        region = snap.region(year, "province", p)
        assert region is not None
        rows.append({"code": p, "name": region["region_name"] or p, "row": region,
                     "href": page.href(province_page(year, p, True)),
                     "pdf": page.href(province_page(year, p, True).replace(".html", ".pdf")),
                     "excel": page.href(f"{year}/{province_files[p]}")
                     if p in province_files else None,
                     "ready": len(ready_counties(snap, year, p))})
    return {
        "kind": "national",
        "year": year,
        "page": page,
        "scope_name": "全国",
        "nav_years": [{"year": y, "href": page.href(f"{y}/{INDEX}")} for y in years if y != year],
        "index_href": page.href(INDEX),
        "as_of": as_of(snap, year, None),
        "run_id": run_id,
        "metrics": metrics,
        "rows": rows,
        "links": relative_links(links, page.depth),
        "excel_href": excel_href,
    }


# -- county scorecards ------------------------------------------------------------------------

def county_context(snap: Snapshot, year: int, county: str, names: dict[str, str],
                   gap_rows: list[Row], page: Page, province_href: str, years: list[int],
                   links: dict[str, str] | None, excel_href: str, rejections: set[int],
                   run_id: str | None) -> dict[str, Any]:
    """A scorecard: `gap_rows` are the county's school_resource_gaps rows with their school's
    name and compliance (Snapshot.worklists), `years` the years whose scorecard of this county
    exists (links to them), `excel_href` the workbook with the county's rows."""

    def one(table: str) -> Row | None:
        found = snap.county_rows(table, year, county)
        return found[0] if found else None

    coverage, broadband = one("county_multimedia_coverage"), one("county_broadband")
    readiness, status = one("county_balance_readiness"), one("submission_status")
    any_row = status or coverage or broadband or readiness
    province = any_row["province_code"] if any_row else province_of_code(county)
    region = snap.region(year, "province", province)
    has_data = snap.region(year, "county", county) is not None
    province_name = (region["region_name"] if region else None) or "全省"

    access = []
    for mart, key in ACCESS:
        m = metric(snap, mart, key)
        source = coverage if mart == "county_multimedia_coverage" else broadband
        value = source[key] if source else None
        access.append({"metric": m, "value": value, "province": region[key] if region else None,
                       "vs_target": change(value, m.target) if m.target is not None else None})

    teacher_rows = {r["section"]: r for r in snap.county_rows("county_teacher_ratios", year,
                                                             county)}
    teacher = []
    for section in labels.codes("section"):
        if section not in teacher_rows:
            continue
        r = teacher_rows[section]
        items = []
        for key, region_key in TEACHER:
            prov = None
            if region_key is not None and region is not None:
                prov = region[f"{section}_{region_key}"]
            items.append({"metric": metric(snap, "county_teacher_ratios", key), "value": r[key],
                          "province": prov, "has_province": region_key is not None})
        teacher.append({"section": section, "row": r, "items": items})

    areas = {(r["section"], r["indicator"], r["area"]): r
             for r in snap.county_rows("county_urban_rural", year, county)}
    cv_rows = snap.county_rows("county_indicator_cv", year, county)
    indicators = []
    for section in labels.codes("section"):
        sel = {r["indicator"]: r for r in cv_rows
               if r["section"] == section and r["method"] == "2017"}
        composite = next((r for r in cv_rows if r["section"] == section
                          and r["method"] == "2012" and r["indicator"] == "composite"), None)
        if not sel and composite is None:
            continue
        items = []
        for ind in snap.method_indicators("2017"):
            r = sel.get(ind)
            threshold = snap.limits.get(("2017", section, ind), (None, None))[0]
            value = r["county_value"] if r else None
            items.append({"indicator": snap.indicator(ind), "row": r, "threshold": threshold,
                          "meets": (None if value is None or threshold is None
                                    else Decimal(value) >= threshold),
                          "urban": areas.get((section, ind, "urban")),
                          "rural": areas.get((section, ind, "rural"))})
        indicators.append({"section": section, "items": items, "composite": composite})

    schools: dict[tuple[str, str], dict[str, Any]] = {}
    for g in gap_rows:
        key = (g["school_code"], g["section"])
        entry = schools.setdefault(key, {
            "school_code": key[0], "section": key[1],
            "school_name": g["school_name"] or key[0],
            "compliant": g["compliant"], "indicators_met": g["indicators_met"],
            "in_scope": g["in_balance_scope"], "gaps": []})
        entry["gaps"].append(g)
    # Non-compliant sections in scope first: they are what the county's plan must fix this
    # year; teaching points (out of the compliance scope) last.
    worklist = sorted(schools.values(), key=lambda s: (s["in_scope"] is False,
                                                      s["compliant"] is True,
                                                      s["school_code"], s["section"]))
    return {
        "kind": "county",
        "year": year,
        "page": page,
        "code": county,
        "name": names.get(county, county),
        "province_code": province,
        "province_name": province_name,
        # The province's figures add up its counties with data: say how many.
        "province_coverage": (f"{region['counties_reporting']}/{region['counties_expected']} 县"
                              if region else ""),
        "province_href": province_href,
        "index_href": page.href(INDEX),
        "nav_years": [{"year": y, "href": page.href(county_page(y, county))} for y in years
                      if y != year],
        "as_of": status["accepted_at"] if status else None,
        "run_id": run_id,
        "has_data": has_data,
        "status": status,
        "rejection_href": rejection_href(page, status, rejections),
        "readiness": readiness,
        "retention_targets": retention_targets(snap),
        "floor_pct": formatting.pct(snap.policy_number("compliance_floor_ratio"), 0),
        "gaps": formatting.as_list(readiness["gaps"]) if readiness else [],
        "access": access,
        "teacher": teacher,
        "indicators": indicators,
        "worklist": worklist,
        "worklist_rows": worklist_rows(snap, worklist),
        "noncompliant_count": sum(1 for s in worklist
                                  if s["compliant"] is not True and s["in_scope"] is not False),
        "teaching_point_count": sum(1 for s in worklist if s["in_scope"] is False),
        "compliance_rule": compliance_rule(snap),
        "links": relative_links(links, page.depth),
        "excel_href": excel_href,
        "pdf_href": f"{county}.pdf",
    }


def worklist_rows(snap: Snapshot, worklist: list[dict[str, Any]]) -> Markup:
    """The work list's table rows, as the template would write them with `figure`. Written
    here because a national year has ~700 k gap rows, where Jinja's calls per cell cost ~30 s.
    """
    out = []
    names: dict[str, tuple[str, str, str]] = {}
    for s in worklist:
        gaps = s["gaps"]
        code, section = escape(s["school_code"]), escape(s["section"])
        compliant = s["compliant"]
        met = "" if s["indicators_met"] is None else f"（{s['indicators_met']} 项达标）"
        state = (f"{formatting.yes_no(compliant)}{met}" if s["in_scope"] is not False
                 else "教学点，不纳入达标统计")
        school = (
            f'<td rowspan="{len(gaps)}" data-field="school_name">{escape(s["school_name"])}'
            f"<br><small>{code}</small></td>\n"
            f'<td rowspan="{len(gaps)}">{escape(formatting.section_label(s["section"]))}</td>\n'
            f'<td rowspan="{len(gaps)}" class="{_state_class(compliant, s["in_scope"])}"'
            f' data-field="compliant" data-value="{formatting.exact(compliant)}">'
            f"{escape(state)}</td>\n")
        for g in gaps:
            indicator = g["indicator"]
            if indicator not in names:
                found = snap.indicator(indicator)
                names[indicator] = (escape(indicator), escape(found.name),
                                    f" {found.resource_unit}")
            key, label, unit = names[indicator]
            out.append(
                f'<tr data-school="{code}" data-section="{section}" data-indicator="{key}">\n'
                f"{school}<td>{label}</td>\n"
                f'{_number_cell(g["value"], "value")}\n'
                f'{_number_cell(g["threshold"], "threshold")}\n'
                f'{_number_cell(g["shortfall"], "shortfall", unit)}\n</tr>\n')
            school = ""
    return Markup("".join(out).removesuffix("\n"))


def _state_class(ok: bool | None, in_scope: bool | None) -> str:
    if in_scope is False:
        return "na"
    return "na" if ok is None else ("ok" if ok else "bad")


def _number_cell(value: Any, field: str, suffix: str = "") -> str:
    """formatting.figure(value, "decimal", tag="td", cls="num", data_field=field) with
    `suffix` after the number, without its generic attribute handling."""
    if value is None:
        return (f'<td class="figure num" data-value="" data-null="true" data-field="{field}">'
                f"{escape(formatting.DASH + suffix)}</td>")
    exact, shown = formatting.exact(value), formatting.num(value) + suffix
    # Digits, signs and separators need no escaping; anything else (a text unit) does.
    if not isinstance(value, Decimal | int | float):
        exact = escape(exact)
    return (f'<td class="figure num" data-value="{exact}" data-field="{field}">'
            f"{escape(shown) if suffix else shown}</td>")


def index_context(years: list[dict[str, Any]], links: dict[str, str] | None,
                  run_id: str | None) -> dict[str, Any]:
    return {"kind": "index", "years_info": years, "links": relative_links(links, 0),
            "index_href": INDEX, "run_id": run_id, "as_of": None, "nav_years": []}
