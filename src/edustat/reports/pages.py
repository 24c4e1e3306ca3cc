"""Page contexts and rendering: the provincial report, county scorecards and the index."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from edustat.reports import formatting
from edustat.reports.charts import Bar, hbar_chart, line_chart
from edustat.reports.constants import (
    INDICATOR_LABELS,
    INDICATOR_SHORT,
    INDICATOR_VALUE_UNITS,
    INDICATORS_2017,
    SECTION_LABELS,
    SECTIONS,
    SHORTFALL_UNITS,
    STATUS_LABELS,
    TARGET_CONNECTED_SHARE,
    TARGET_MULTIMEDIA_COVERAGE,
    TARGET_SHARE_100MBPS,
)
from edustat.reports.figures import (
    ACCESS,
    HEADLINE,
    TEACHER,
    area_figures,
    area_name,
    change,
)
from edustat.reports.marts import Snapshot

LINK_LABELS: dict[str, str] = {
    "data_docs": "数据质量报告（Great Expectations Data Docs）",
    "dbt_docs": "数据模型文档（dbt docs）",
    "rejections": "拒收报告",
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
        indicator_label=lambda k: INDICATOR_LABELS.get(k, k),
        indicator_short=lambda k: INDICATOR_SHORT.get(k, INDICATOR_LABELS.get(k, k)),
        value_unit=lambda k: INDICATOR_VALUE_UNITS.get(k, ""),
        shortfall_unit=lambda k: SHORTFALL_UNITS.get(k, ""),
        SECTION_LABELS=SECTION_LABELS,
    )
    return env


def relative_links(links: dict[str, str] | None, depth: int) -> list[dict[str, str]]:
    """Links given relative to the report root, re-based for a page `depth` folders down."""
    out = []
    for key, url in (links or {}).items():
        if not url:
            continue
        parts = urlsplit(url)
        if not parts.scheme and not url.startswith(("/", "#")):
            url = "../" * depth + url
        out.append({"key": key, "label": LINK_LABELS.get(key, key), "href": url})
    return out


# Tables with one row per county and year (at least), in the order their names are trusted.
COUNTY_TABLES = ("submission_status", "county_balance_readiness", "county_multimedia_coverage",
                 "county_broadband", "county_teacher_ratios", "county_indicator_cv")


class CountyNames:
    """County names collected one year at a time: the first table of COUNTY_TABLES that names
    a county wins, and within a table its earliest year."""

    def __init__(self) -> None:
        self._by_table: dict[str, dict[str, str]] = {t: {} for t in COUNTY_TABLES}

    def add(self, snap: Snapshot, year: int) -> None:
        for table, names in self._by_table.items():
            for r in snap.rows(table, year):
                if r.get("county_code") and r.get("county_name"):
                    names.setdefault(str(r["county_code"]), str(r["county_name"]))

    def names(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for names in self._by_table.values():
            for code, name in names.items():
                out.setdefault(code, name)
        return out


def county_provinces(snap: Snapshot, year: int) -> dict[str, str]:
    """county code -> province code, for every county of the year."""
    found: dict[str, str | None] = {}
    for table in COUNTY_TABLES:
        for r in snap.rows(table, year):
            code = str(r["county_code"]) if r.get("county_code") else None
            if code and not found.get(code):
                found[code] = str(r["province_code"]) if r.get("province_code") else None
    return {code: province or province_of_code(code) for code, province in found.items()}


def province_of_code(county: str) -> str:
    """The province of a county code by GB/T 2260: its first two digits, then zeros."""
    return county[:2] + "0000"


def counties_of_year(snap: Snapshot, year: int) -> list[str]:
    return sorted(county_provinces(snap, year))


def _by_county(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(r["county_code"]): r for r in rows}


def headline_block(snap: Snapshot, year: int, scope: str | None) -> list[dict[str, Any]]:
    current = area_figures(snap, year, scope)
    prev_year = year - 1 if year - 1 in snap.years else None
    previous = area_figures(snap, prev_year, scope) if prev_year else {}
    block = []
    for m in HEADLINE:
        value = current.get(m.key)
        prev = previous.get(m.key) if prev_year else None
        item = {"metric": m, "value": value, "previous": prev, "prev_year": prev_year,
                "delta": change(value, prev)}
        if m.key == "counties_ready":
            item["of"] = current.get("counties")
        block.append(item)
    return block


def trend_charts(snap: Snapshot, scope_by_year: dict[int, str | None]) -> list[Any]:
    series: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for y in snap.years:
        figs = area_figures(snap, y, scope_by_year.get(y))
        for m in HEADLINE:
            series[m.key].append((y, figs.get(m.key)))
    charts = []
    for m in HEADLINE:
        chart_id = "trend-" + m.key.replace(":", "-")
        charts.append({"metric": m,
                       "svg": line_chart(chart_id, f"{m.label} 历年趋势", series[m.key], m.kind,
                                         m.target)})
    return charts


def cv_grids(snap: Snapshot, year: int, counties: list[str],
             names: dict[str, str]) -> list[dict[str, Any]]:
    rows = snap.rows("county_indicator_cv", year)
    grids = []
    for section in SECTIONS:
        cells: dict[tuple[str, str], dict[str, Any]] = {}
        limits: dict[str, set[Decimal]] = defaultdict(set)
        for r in rows:
            if r.get("section") != section:
                continue
            method, indicator = str(r.get("method")), str(r.get("indicator"))
            if method == "2017" or (method == "2012" and indicator == "composite"):
                key = indicator if method == "2017" else "composite"
                cells[(str(r["county_code"]), key)] = r
                if r.get("cv_limit") is not None:
                    limits[key].add(Decimal(r["cv_limit"]))
        columns = [i for i in INDICATORS_2017]
        if any(k == "composite" for _, k in cells):
            columns.append("composite")
        present = sorted({c for c, _ in cells})
        grids.append({
            "section": section,
            "columns": columns,
            "limits": {k: sorted(v) for k, v in limits.items()},
            "rows": [{"code": c, "name": names.get(c, c),
                      "cells": {k: cells.get((c, k)) for k in columns}}
                     for c in counties if c in present],
        })
    return grids


def province_context(snap: Snapshot, year: int, scope: str | None,
                     scope_by_year: dict[int, str | None], published: list[int],
                     names: dict[str, str], links: dict[str, str] | None, excel_name: str,
                     province_files: dict[str, str]) -> dict[str, Any]:
    """The provincial report; `published` are the years whose pages exist (links to them),
    `province_files` the province workbooks (province code -> path from the year's folder)."""
    counties = counties_of_year(snap, year)
    coverage = _by_county(snap.rows("county_multimedia_coverage", year))
    broadband = _by_county(snap.rows("county_broadband", year))

    def bars(source: dict[str, dict[str, Any]], key: str) -> list[Bar]:
        return [Bar(c, names.get(c, c), source[c].get(key), f"county/{c}.html")
                for c in counties if c in source]

    specs = (
        ("chart-coverage", "各县多媒体教室覆盖率（班班通）", coverage, "coverage_ratio",
         TARGET_MULTIMEDIA_COVERAGE, "目标 100%"),
        ("chart-connected", "各县互联网接入率（校校通）", broadband, "connected_share",
         TARGET_CONNECTED_SHARE, "目标 100%"),
        ("chart-100mbps", "各县出口带宽≥100Mbps学校占比", broadband, "share_100mbps_plus",
         TARGET_SHARE_100MBPS, "目标 100%（联网攻坚）"),
    )
    charts = [{"id": cid, "title": title,
               "svg": hbar_chart(cid, title, bars(source, key), "pct", target, target_label)}
              for cid, title, source, key, target, target_label in specs]
    readiness = []
    for r in snap.rows("county_balance_readiness", year):
        c = str(r["county_code"])
        readiness.append({"row": r, "code": c, "name": names.get(c, c),
                          "gaps": formatting.as_list(r.get("gaps"))})
    status_rows = [{"row": r, "code": str(r["county_code"]),
                    "name": names.get(str(r["county_code"]), str(r["county_code"]))}
                   for r in snap.rows("submission_status", year)]
    status_counts = {s: sum(1 for r in status_rows if r["row"].get("status") == s)
                     for s in STATUS_LABELS}
    return {
        "year": year,
        "years": published,
        "scope_name": area_name(snap, year, scope),
        "scope_code": scope,
        "headline": headline_block(snap, year, scope),
        "charts": charts,
        "cv_grids": cv_grids(snap, year, counties, names),
        "readiness": readiness,
        "trends": trend_charts(snap, scope_by_year),
        "status_rows": status_rows,
        "status_counts": status_counts,
        "counties": [{"code": c, "name": names.get(c, c)} for c in counties],
        "links": relative_links(links, 1),
        "excel_name": excel_name,
        "province_files": [{"code": p, "name": area_name(snap, year, p), "href": href}
                           for p, href in province_files.items()],
        "missing_tables": snap.missing_tables,
        "root": "../",
    }


def county_context(snap: Snapshot, year: int, county: str, names: dict[str, str],
                   gap_rows: list[dict[str, Any]], limits: dict[tuple[str, str], Decimal],
                   province_figures: dict[str, dict[str, Any]], published: list[int],
                   links: dict[str, str] | None, excel_name: str) -> dict[str, Any]:
    """A scorecard: `gap_rows` are the county's school_resource_gaps rows with their
    school's name and compliance (Snapshot.worklists), `limits` the year's thresholds,
    `published` the years whose scorecard of this county exists (links to them), `excel_name`
    the workbook with the county's rows (path from the year's folder)."""

    def one(table: str) -> dict[str, Any] | None:
        found = snap.county_rows(table, year, county)
        return found[0] if found else None

    coverage, broadband = one("county_multimedia_coverage"), one("county_broadband")
    readiness, status = one("county_balance_readiness"), one("submission_status")
    any_row = coverage or broadband or readiness or status or {}
    province = str(any_row.get("province_code") or "") or None
    prov = province_figures.get(province or "", {})

    access = []
    for m in ACCESS:
        source = coverage if m.key in (coverage or {}) else broadband
        value = (source or {}).get(m.key)
        access.append({"metric": m, "value": value, "province": prov.get(m.key),
                       "vs_target": change(value, m.target) if m.target is not None else None})

    teacher_rows = {str(r["section"]): r
                    for r in snap.county_rows("county_teacher_ratios", year, county)}
    teacher = []
    for section in SECTIONS:
        if section not in teacher_rows:
            continue
        r = teacher_rows[section]
        teacher.append({"section": section, "row": r, "items": [
            {"metric": m, "value": r.get(m.key), "province": prov.get(f"{section}:{m.key}")}
            for m in TEACHER]})

    cv_rows = snap.county_rows("county_indicator_cv", year, county)
    indicators = []
    for section in SECTIONS:
        sel = {str(r["indicator"]): r for r in cv_rows
               if r.get("section") == section and str(r.get("method")) == "2017"}
        composite = next((r for r in cv_rows if r.get("section") == section
                          and str(r.get("method")) == "2012"
                          and r.get("indicator") == "composite"), None)
        if not sel and composite is None:
            continue
        items = []
        for ind in INDICATORS_2017:
            r = sel.get(ind)
            threshold = limits.get((section, ind))
            value = r.get("county_value") if r else None
            items.append({"indicator": ind, "row": r, "threshold": threshold,
                          "meets": (None if value is None or threshold is None
                                    else Decimal(value) >= threshold),
                          "province": prov.get(f"{section}:x:{ind}")})
        indicators.append({"section": section, "items": items, "composite": composite})

    schools: dict[tuple[str, str], dict[str, Any]] = {}
    for g in gap_rows:
        key = (str(g["school_code"]), str(g["section"]))
        entry = schools.setdefault(key, {
            "school_code": key[0], "section": key[1],
            "school_name": g.get("school_name") or key[0],
            "compliant": g.get("compliant"), "indicators_met": g.get("indicators_met"),
            "gaps": []})
        entry["gaps"].append(g)
    # Non-compliant sections first: they are what the county's plan must fix this year.
    worklist = sorted(schools.values(),
                      key=lambda s: (s["compliant"] is True, s["school_code"], s["section"]))

    return {
        "year": year,
        "years": published,
        "code": county,
        "name": names.get(county, county),
        "prefecture_code": any_row.get("prefecture_code"),
        "province_code": province,
        "province_name": area_name(snap, year, province) if province else "全省",
        "readiness": readiness,
        "gaps": formatting.as_list((readiness or {}).get("gaps")),
        "access": access,
        "teacher": teacher,
        "indicators": indicators,
        "worklist": worklist,
        "worklist_rows": worklist_rows(worklist),
        "noncompliant_count": sum(1 for s in worklist if s["compliant"] is not True),
        "status": status,
        "links": relative_links(links, 2),
        "excel_name": excel_name,
        "root": "../../",
    }


def worklist_rows(worklist: list[dict[str, Any]]) -> Markup:
    """The work list's table rows, as the template would write them with `figure`. Written
    here because a national year has ~700 k gap rows, where Jinja's calls per cell cost ~30 s.
    """
    out = []
    labels: dict[str, tuple[str, str]] = {}
    for s in worklist:
        gaps = s["gaps"]
        code, section = escape(s["school_code"]), escape(s["section"])
        compliant = s["compliant"]
        met = "" if s["indicators_met"] is None else f"（{s['indicators_met']}/7 项达标）"
        school = (
            f'<td rowspan="{len(gaps)}" data-field="school_name">{escape(s["school_name"])}'
            f"<br><small>{code}</small></td>\n"
            f'<td rowspan="{len(gaps)}">{escape(formatting.section_label(s["section"]))}</td>\n'
            f'<td rowspan="{len(gaps)}" class="{_state_class(compliant)}">'
            f"{formatting.yes_no(compliant)}{escape(met)}</td>\n")
        for g in gaps:
            indicator = g["indicator"]
            if indicator not in labels:
                labels[indicator] = (escape(indicator), escape(INDICATOR_LABELS.get(
                    indicator, indicator)))
            key, label = labels[indicator]
            unit = SHORTFALL_UNITS.get(indicator, "")
            out.append(
                f'<tr data-school="{code}" data-section="{section}" data-indicator="{key}">\n'
                f"{school}<td>{label}</td>\n"
                f'{_number_cell(g["value"], "value")}\n'
                f'{_number_cell(g["threshold"], "threshold")}\n'
                f'{_number_cell(g["shortfall"], "shortfall", f" {unit}")}\n</tr>\n')
            school = ""
    return Markup("".join(out).removesuffix("\n"))


def _state_class(ok: bool | None) -> str:
    return "na" if ok is None else ("ok" if ok else "bad")


def _number_cell(value: Any, field: str, suffix: str = "") -> str:
    """formatting.figure(value, "num", tag="td", cls="num", data_field=field) with `suffix`
    after the number, without its generic attribute handling."""
    if value is None:
        return (f'<td class="figure num" data-value="" data-null="true" data-field="{field}">'
                f"{escape(formatting.DASH + suffix)}</td>")
    exact, shown = formatting.exact(value), formatting.num(value) + suffix
    # Digits, signs and separators need no escaping; anything else (a text unit) does.
    if not isinstance(value, Decimal | int | float):
        exact = escape(exact)
    return (f'<td class="figure num" data-value="{exact}" data-field="{field}">'
            f"{escape(shown) if suffix else shown}</td>")


def index_context(years: list[dict[str, Any]], links: dict[str, str] | None) -> dict[str, Any]:
    return {"years_info": years, "links": relative_links(links, 0), "root": ""}
