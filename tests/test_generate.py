"""What `edustat generate` must guarantee: realistic, reproducible county submissions.

Protects: the landing layout (every county unit of Qinghai, one file per county and year);
byte-identical output for the same seed; that every clean file obeys every rule of
docs/submission-format.md while looking messy the way real files do; that each faulty file breaks
exactly the rules its summary describes, on the rows it names; and that the numbers look like a
real province (school mix, teacher ratios, indicators on both sides of their thresholds, counties
that pass and fail the 差异系数 limits, stable schools and cohorts across years).

The files are read back here with openpyxl and csv, by a reader written from the spec alone (the
platform's own reader is developed separately), so the two can disagree and the test can fail.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from edustat.columns import (
    BY_KEY,
    COLUMNS,
    HEADER_TO_KEY,
    SCHOOL_TYPES,
    URBAN_RURAL,
    normalize_header,
)
from edustat_synth.generate import GenerateSummary, generate, select_counties
from edustat_synth.generation.counties import load_county_units, make_profile

YEARS = [2021, 2024]
FAULTY = 3
SEED = 2026
QINGHAI = {u.code for u in load_county_units() if u.province == "63"}
ALL_CODES = {u.code for u in load_county_units()}
THRESHOLDS = {  # docs/methodology.md, method 2017: (primary, junior)
    "qualified": (4.2, 5.3), "backbone": (1.0, 1.0), "pe_arts": (0.9, 0.9),
    "teaching_area": (4.5, 5.8), "sports_area": (7.5, 10.2), "equipment": (2000, 2500),
    "multimedia": (2.3, 2.4),
}


# -- a reader written from docs/submission-format.md-------------------------------------------
@dataclass
class Sheet:
    path: Path
    encoding: str | None  # csv only
    rows: list[list[object]]  # raw cells, sheet row n at index n-1
    sheet_names: list[str]


def load_sheet(path: Path) -> Sheet:
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        ws = wb["学校"] if "学校" in wb.sheetnames else wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        names = list(wb.sheetnames)
        wb.close()
        return Sheet(path, None, rows, names)
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            raw.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
    text = raw.decode(encoding)
    return Sheet(path, encoding, [list(r) for r in csv.reader(io.StringIO(text))], [])


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def _numeric_text(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace(",", "")
    return re.sub(r"^(-?\d+)\.0+$", r"\1", text)


@dataclass
class Parsed:
    header_row: int  # 1-based
    keys: list[str | None]  # per column: submission key or None (unknown)
    unknown_headers: list[str]
    rows: list[tuple[int, dict[str, str | None]]]  # (sheet row, normalised values)
    missing: list[str]
    ended_by: str | None  # 合计 / 填表说明 / 注 or None


def parse(sheet: Sheet) -> Parsed:
    header_index = next(
        i for i, row in enumerate(sheet.rows[:10])
        if any(normalize_header(c) == "学校标识码" for c in row if c is not None)
    )
    headers = sheet.rows[header_index]
    keys = [HEADER_TO_KEY.get(normalize_header(h)) if h is not None else None for h in headers]
    unknown = [str(h) for h, k in zip(headers, keys, strict=True) if k is None and h]
    parsed = Parsed(header_index + 1, keys, unknown, [],
                    [c.key for c in COLUMNS if c.key not in keys], None)
    for offset, row in enumerate(sheet.rows[header_index + 1:]):
        cells = [_text(c) for c in row]
        if not any(cells):
            continue
        first = cells[0] or ""
        marker = next((m for m in ("填表说明", "注", "合计") if first.startswith(m)), None)
        if marker:
            parsed.ended_by = marker
            break
        values: dict[str, str | None] = {}
        for key, cell in zip(keys, cells, strict=False):
            if key is None:
                continue
            column = BY_KEY[key]
            value = _numeric_text(cell) if column.numeric else cell
            if value is None and column.zero_when_empty:
                value = "0"
            values[key] = value
        parsed.rows.append((header_index + 2 + offset, values))
    return parsed


# -- the rules of docs/submission-format.md, checked independently-------------------------------
@dataclass(frozen=True)
class Violation:
    row: int | None
    column: str | None
    rule: str


def _int(v: str | None) -> int | None:
    return int(v) if v is not None and re.fullmatch(r"\d+", v) else None


def _num(v: str | None) -> float | None:
    return float(v) if v is not None and re.fullmatch(r"\d+(\.\d+)?", v) else None


_PARSERS = {"int": (_int, "not an integer"), "num": (_num, "not a number")}


def check(parsed: Parsed, folder: str) -> tuple[list[Violation], list[Violation]]:
    """(errors, warnings) for one file."""
    errors = [Violation(None, key, "missing column") for key in parsed.missing]
    warnings = [Violation(None, None, f"unknown column {h}") for h in parsed.unknown_headers]
    years: Counter[str | None] = Counter()
    seen_codes: dict[str, int] = {}
    for n, v in parsed.rows:
        def err(column: str | None, rule: str, n: int = n) -> None:
            errors.append(Violation(n, column, rule))

        values: dict[str, float] = {}
        for c in COLUMNS:
            if c.key not in v:
                continue
            if c.kind not in _PARSERS:
                continue
            parse, complaint = _PARSERS[c.kind]
            number = parse(v[c.key])
            if number is None:
                err(c.key, complaint)
            else:
                values[c.key] = number
        years[v.get("school_year")] += 1
        if not 2000 <= values.get("school_year", 0) <= 2100:
            err("school_year", "year out of range")
        county = v.get("county_code") or ""
        if not re.fullmatch(r"\d{6}", county) or county not in ALL_CODES:
            err("county_code", "not a county code")
        elif county != folder:
            err("county_code", "differs from folder")
        code = v.get("school_code") or ""
        if not re.fullmatch(r"\d{10}", code):
            err("school_code", "not 10 digits")
        elif code in seen_codes:
            err("school_code", "duplicate")
            errors.append(Violation(seen_codes[code], "school_code", "duplicate"))
        seen_codes.setdefault(code, n)
        if not v.get("school_name"):
            err("school_name", "empty")
        school_type = v.get("school_type")
        if school_type not in SCHOOL_TYPES:
            err("school_type", "unknown code")
        if v.get("urban_rural") not in URBAN_RURAL:
            err("urban_rural", "unknown code")
        if v.get("internet_access") not in ("是", "否"):
            err("internet_access", "not 是/否")

        def get(key: str, values: dict[str, float] = values) -> float:
            return values.get(key, 0)

        p, j, s = get("primary_students"), get("junior_students"), get("senior_students")
        if school_type in ("211", "218") and p <= 0:
            err("primary_students", "primary school without pupils")
        if school_type in ("311", "341") and p != 0:
            err("primary_students", "pupils in a school without primary")
        if school_type in ("211", "218") and j != 0:
            err("junior_students", "junior students in a primary school")
        if school_type == "311" and j <= 0:
            err("junior_students", "junior school without students")
        if s > 0 and school_type not in ("341", "345"):
            err("senior_students", "senior students outside 341/345")
        for sec, students in (("primary", p), ("junior", j)):
            if students > 0 and get(f"{sec}_classes") <= 0:
                err(f"{sec}_classes", "students without classes")
            if students == 0 and get(f"{sec}_max_class_size") != 0:
                err(f"{sec}_max_class_size", "max class size without section")
            for part in ("qualified", "senior_title", "backbone", "pe_arts"):
                if get(f"{sec}_{part}_teachers") > get(f"{sec}_teachers"):
                    err(f"{sec}_{part}_teachers", "more than the teachers")
        bandwidth = get("bandwidth_mbps")
        if v.get("internet_access") == "否" and bandwidth != 0:
            err("bandwidth_mbps", "bandwidth without internet")
        if v.get("internet_access") == "是" and bandwidth <= 0:
            err("bandwidth_mbps", "internet without bandwidth")
        if bandwidth > 10000:
            err("bandwidth_mbps", "above 10000")
        if get("large_classes") > get("primary_classes") + get("junior_classes"):
            err("large_classes", "more large classes than classes")
        if get("multimedia_classrooms") > get("classrooms"):
            warnings.append(Violation(n, "multimedia_classrooms", "above classrooms"))
    if len(years) > 1:
        common = years.most_common(1)[0][0]
        errors.extend(Violation(n, "school_year", "year differs within the file")
                      for n, v in parsed.rows if v.get("school_year") != common)
    return errors, warnings


def numbers(parsed: Parsed) -> list[dict[str, float | str]]:
    """Clean rows as numbers (only for files without errors)."""
    out = []
    for _, v in parsed.rows:
        row: dict[str, float | str] = {}
        for c in COLUMNS:
            row[c.key] = float(v[c.key]) if c.numeric else str(v[c.key])  # type: ignore[arg-type]
        out.append(row)
    return out


# -- fixtures ----------------------------------------------------------------------------------
@dataclass
class Generated:
    summary: GenerateSummary
    sheets: dict[Path, Sheet]
    parsed: dict[Path, Parsed]

    def clean_rows(self, year: int) -> list[dict[str, float | str]]:
        faulty = {f.path for f in self.summary.faulty}
        rows = []
        for path in self.summary.files:
            if path not in faulty and f"{year}" in path.name:
                rows.extend(numbers(self.parsed[path]))
        return rows


@pytest.fixture(scope="module")
def qinghai(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("landing")
    summary = generate("63", YEARS, out, seed=SEED, faulty=FAULTY)
    sheets = {p: load_sheet(p) for p in summary.files}
    return Generated(summary, sheets, {p: parse(s) for p, s in sheets.items()})


# -- layout and reproducibility ----------------------------------------------------------------
def test_every_qinghai_county_has_one_file_per_year(qinghai: Generated) -> None:
    out = qinghai.summary.out
    folders = {p.name for p in out.iterdir()}
    assert folders == QINGHAI
    assert len(QINGHAI) == 45 and "632857" in folders
    for code in QINGHAI:
        files = sorted((out / code).iterdir())
        assert len(files) == len(YEARS)
        assert {f.suffix for f in files} <= {".xlsx", ".csv"}
        assert sorted(y for y in YEARS for f in files if str(y) in f.name) == YEARS
    assert sorted(qinghai.summary.files) == sorted(out.glob("*/*"))
    assert qinghai.summary.counties == sorted(QINGHAI)
    names = [p.name for p in qinghai.summary.files]
    assert any(n.startswith(("632857_", "大柴旦")) or "632857" in n or "大柴旦" in n
               for n in names)
    assert len({re.sub(r"\d{6}|\d{4}", "#", n) for n in names}) >= 5  # varied naming


def test_summary_counts_match_the_files(qinghai: Generated) -> None:
    for year in YEARS:
        written = sum(len(qinghai.parsed[p].rows) for p in qinghai.summary.files
                      if str(year) in p.name)
        assert qinghai.summary.rows_per_year[year] == written
    # A duplicated row is the only way rows can exceed schools.
    assert 0 <= qinghai.summary.rows_per_year[2024] - qinghai.summary.schools_per_year[2024] <= 3
    text = qinghai.summary.describe()
    assert all(f.path.name in text and f.description in text for f in qinghai.summary.faulty)
    assert "应被退回" in text and "must be rejected" in text


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = generate("63", [2024], tmp_path / "a", seed=7, faulty=2)
    again = generate("63", [2024], tmp_path / "b", seed=7, faulty=2)
    other = generate("63", [2024], tmp_path / "c", seed=8, faulty=2)
    rel = [p.relative_to(tmp_path / "a") for p in first.files]
    assert rel == [p.relative_to(tmp_path / "b") for p in again.files]
    for r in rel:
        assert (tmp_path / "a" / r).read_bytes() == (tmp_path / "b" / r).read_bytes(), r
    assert first.faulty == [f._replace(path=tmp_path / "a" / f.path.relative_to(tmp_path / "b"))
                            for f in again.faulty]
    other_bytes = {p.relative_to(tmp_path / "c"): p.read_bytes() for p in other.files}
    same = sum(other_bytes.get(r) == (tmp_path / "a" / r).read_bytes() for r in rel)
    assert same == 0
    assert [f.county_code for f in first.faulty] != [f.county_code for f in other.faulty] or \
        [f.description for f in first.faulty] != [f.description for f in other.faulty]


def test_a_years_file_does_not_depend_on_the_other_years_requested(
        qinghai: Generated, tmp_path: Path) -> None:
    alone = generate("63", [2024], tmp_path, seed=SEED, faulty=FAULTY)
    together = {p.relative_to(qinghai.summary.out): p for p in qinghai.summary.files}
    for path in alone.files:
        assert path.read_bytes() == together[path.relative_to(tmp_path)].read_bytes(), path


# -- validity and faults -----------------------------------------------------------------------
def test_clean_files_obey_every_rule(qinghai: Generated) -> None:
    faulty = {f.path for f in qinghai.summary.faulty}
    checked = 0
    for path, parsed in qinghai.parsed.items():
        if path in faulty:
            continue
        errors, _ = check(parsed, path.parent.name)
        assert errors == [], (path, errors[:5])
        checked += 1
    assert checked == 2 * 45 - FAULTY


def test_faulty_files_break_exactly_the_described_rules(qinghai: Generated) -> None:
    summary = qinghai.summary
    assert len(summary.faulty) == FAULTY
    assert {f.year for f in summary.faulty} == {max(YEARS)}
    by_path = defaultdict(list)
    for fault in summary.faults:
        by_path[fault.path].append(fault)
    for entry in summary.faulty:
        faults = [f for f in by_path[entry.path] if f.severity == "critical"]
        assert 1 <= len(faults) <= 3
        assert len({f.kind for f in faults}) == len(faults)
        assert all(f.message_zh in entry.description and f.message_en in entry.description
                   for f in faults)
        errors, _ = check(qinghai.parsed[entry.path], entry.path.parent.name)
        flagged = {(e.row, e.column) for e in errors}
        for fault in faults:
            if fault.kind == "missing_column":
                assert (None, fault.column) in flagged
                continue
            if fault.kind == "bandwidth_without_internet":
                expected = {(r, "bandwidth_mbps") for r in fault.rows}
            elif fault.kind == "students_without_classes":
                expected = {(r, "primary_classes") for r in fault.rows}
            elif fault.kind == "primary_with_junior":
                expected = {(r, "junior_students") for r in fault.rows}
            else:
                expected = {(r, fault.column) for r in fault.rows}
            assert fault.rows and expected <= flagged, (fault, errors)
        # Nothing else is wrong: the rejection reasons are the described ones.
        described_rows = {r for f in faults for r in f.rows}
        assert {e.row for e in errors} <= described_rows | {None}, errors


def test_oddities_are_warnings_only(qinghai: Generated) -> None:
    odd = qinghai.summary.oddities
    assert odd and all(o.year == max(YEARS) for o in odd)
    assert not {o.county_code for o in odd} & {f.county_code for f in qinghai.summary.faulty}
    for entry in odd:
        errors, warnings = check(qinghai.parsed[entry.path], entry.path.parent.name)
        assert errors == []
        assert any(w.column == "multimedia_classrooms" for w in warnings)
        assert "多于普通教室数" in entry.description


# -- messy presentation ------------------------------------------------------------------------
def test_messy_but_valid_presentation_is_present(qinghai: Generated) -> None:
    sheets = list(qinghai.sheets.values())
    encodings = Counter(s.encoding for s in sheets if s.encoding)
    assert encodings["gb18030"] >= 2 and encodings["utf-8-sig"] >= 2
    xlsx = [s for s in sheets if s.path.suffix == ".xlsx"]
    assert 0.35 <= len(xlsx) / len(sheets) <= 0.65
    assert any(s.sheet_names and "学校" not in s.sheet_names for s in xlsx)
    assert any(len(s.sheet_names) > 1 for s in xlsx)

    parsed = [qinghai.parsed[s.path] for s in sheets]
    assert sum(p.header_row > 1 for p in parsed) >= 10  # title / note rows above the header
    assert any(p.ended_by == "合计" for p in parsed)
    assert any(p.ended_by == "填表说明" for p in parsed)
    assert any(p.unknown_headers for p in parsed)  # 序号, 备注 ...
    headers = [str(h) for s, p in zip(sheets, parsed, strict=True)
               for h in s.rows[p.header_row - 1] if h]
    assert any("\n" in h for h in headers)
    assert any("（" in h for h in headers)
    assert any(h.endswith(("]", "】")) for h in headers)
    orders = {tuple(k for k in p.keys if k) for p in parsed}
    assert len(orders) >= 2  # some counties reorder the columns

    cells = [(s.path.suffix, c) for s in sheets for row in s.rows for c in row]
    texts = [c for _, c in cells if isinstance(c, str)]
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", t) for t in texts)  # 1,234
    assert any(re.search(r"[０-９]", t) for t in texts)  # full-width digits
    assert any(re.fullmatch(r"\d+\.0", t) for t in texts)  # 45.0
    assert any(t != t.rstrip() for t in texts)  # trailing spaces
    xlsx_cells = [c for suffix, c in cells if suffix == ".xlsx"]
    assert any(isinstance(c, str) and c.isdigit() for c in xlsx_cells)  # numbers as text
    assert any(isinstance(c, int) and len(str(c)) == 10 for c in xlsx_cells)  # code as number
    blanks = sum(1 for p in parsed for _, v in p.rows if v.get("junior_students") == "0")
    assert blanks > 0


# -- realism -----------------------------------------------------------------------------------
def test_school_mix_and_sizes_look_like_a_province(qinghai: Generated) -> None:
    rows = qinghai.clean_rows(2024)
    assert 1500 <= qinghai.summary.schools_per_year[2024] <= 2200
    per_county = Counter(str(r["county_code"]) for r in rows)
    assert min(per_county.values()) >= 15 - 3 and max(per_county.values()) <= 120
    by_county_type: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_county_type[str(r["county_code"])][str(r["school_type"])] += 1
    assert all(c["211"] == max(c.values()) for c in by_county_type.values())  # 小学 lead
    types = Counter(str(r["school_type"]) for r in rows)
    assert set(types) == set(SCHOOL_TYPES)
    assert types["345"] < types["341"] < types["311"] < types["211"]
    assert sum(1 for c in by_county_type.values() if c["218"] >= 1) >= 10

    points = [r for r in rows if r["school_type"] == "218"]
    assert all(5 <= r["primary_students"] <= 60 for r in points)
    assert all(str(r["urban_rural"]) in ("122", "210", "220") for r in points)
    assert sum(r["urban_rural"] == "220" for r in points) / len(points) > 0.7
    urban = [r["primary_students"] for r in rows
             if r["school_type"] == "211" and r["urban_rural"] == "111"]
    rural = [r["primary_students"] for r in rows
             if r["school_type"] == "211" and r["urban_rural"] == "220"]
    assert 900 <= sorted(urban)[len(urban) // 2] <= 2500
    assert sorted(rural)[len(rural) // 2] < 300
    assert all(r["senior_students"] > 0 for r in rows if r["school_type"] == "341")


def test_classes_and_teachers_are_plausible(qinghai: Generated) -> None:
    rows = qinghai.clean_rows(2024)
    p = sum(float(r["primary_students"]) for r in rows)
    j = sum(float(r["junior_students"]) for r in rows)
    assert 12 <= p / sum(float(r["primary_teachers"]) for r in rows) <= 19
    assert 9 <= j / sum(float(r["junior_teachers"]) for r in rows) <= 16
    city = [r for r in rows if r["school_type"] == "211" and r["urban_rural"] == "111"]
    size = sum(float(r["primary_students"]) for r in city) / sum(
        float(r["primary_classes"]) for r in city)
    assert 35 <= size <= 50
    for r in rows:
        for sec in ("primary", "junior"):
            students, classes = float(r[f"{sec}_students"]), float(r[f"{sec}_classes"])
            if students:
                assert r[f"{sec}_max_class_size"] >= math.ceil(students / classes)
        big = max(float(r["primary_max_class_size"]), float(r["junior_max_class_size"]))
        assert (big >= 56) == (float(r["large_classes"]) > 0)
    assert any(float(r["large_classes"]) > 0 for r in rows)
    connected = sum(r["internet_access"] == "是" for r in rows) / len(rows)
    assert 0.94 <= connected <= 0.995
    assert {float(r["bandwidth_mbps"]) for r in rows} <= {0, 10, 20, 50, 100, 200, 300, 500, 1000}
    assert sum(float(r["multimedia_classrooms"]) <= float(r["classrooms"]) for r in rows) \
        >= len(rows) - 3


def _indicators(r: dict[str, float | str], sec: str) -> dict[str, float]:
    students = float(r[f"{sec}_students"])
    share = students / sum(float(r[k]) for k in
                           ("primary_students", "junior_students", "senior_students"))
    return {
        "qualified": float(r[f"{sec}_qualified_teachers"]) / students * 100,
        "backbone": float(r[f"{sec}_backbone_teachers"]) / students * 100,
        "pe_arts": float(r[f"{sec}_pe_arts_teachers"]) / students * 100,
        "teaching_area": float(r["teaching_area_m2"]) * share / students,
        "sports_area": float(r["sports_area_m2"]) * share / students,
        "equipment": float(r["equipment_value_10k_yuan"]) * 10000 * share / students,
        "multimedia": float(r["multimedia_classrooms"]) * share / students * 100,
    }


def test_indicators_straddle_thresholds_and_counties_differ(qinghai: Generated) -> None:
    rows = [r for r in qinghai.clean_rows(2024) if r["school_type"] != "218"]
    cv_ok: dict[str, list[bool]] = defaultdict(list)
    for s, sec in enumerate(("primary", "junior")):
        sections = [(r, _indicators(r, sec)) for r in rows if float(r[f"{sec}_students"]) > 0]
        for name, limits in THRESHOLDS.items():
            values = [ind[name] for _, ind in sections]
            above = sum(v >= limits[s] for v in values) / len(values)
            assert 0.0 < above < 1.0, (sec, name, above)
        by_county = defaultdict(list)
        for r, ind in sections:
            by_county[str(r["county_code"])].append((float(r[f"{sec}_students"]), ind))
        for county, items in by_county.items():
            total = sum(p for p, _ in items)
            for name in THRESHOLDS:
                mean = sum(p * ind[name] for p, ind in items) / total
                sd = math.sqrt(sum(p / total * (ind[name] - mean) ** 2 for p, ind in items))
                cv_ok[county].append(sd / mean <= (0.5, 0.45)[s])
    passing = [c for c, oks in cv_ok.items() if all(oks)]
    failing = [c for c, oks in cv_ok.items() if sum(not ok for ok in oks) >= 2]
    assert len(passing) >= 3 and len(failing) >= 3


def test_schools_and_cohorts_are_stable_across_years(qinghai: Generated) -> None:
    before, after = qinghai.clean_rows(2021), qinghai.clean_rows(2024)
    faulty = {f.county_code for f in qinghai.summary.faulty}
    codes_before = {str(r["school_code"]) for r in before if r["county_code"] not in faulty}
    codes_after = {str(r["school_code"]) for r in after}
    assert len(codes_before & codes_after) / len(codes_before) >= 0.9
    assert codes_before != codes_after  # schools closed, merged, opened
    names_before = {str(r["school_code"]): r["school_name"] for r in before}
    assert all(names_before.get(str(r["school_code"]), r["school_name"]) == r["school_name"]
               for r in after)

    def totals(rows: list[dict[str, float | str]], key: str) -> Counter[str]:
        c: Counter[str] = Counter()
        for r in rows:
            c[str(r["county_code"])] += float(r[key])  # type: ignore[assignment]
        return c

    pupils_before, pupils_after = totals(before, "primary_students"), totals(after,
                                                                             "primary_students")
    for county in pupils_after:
        if county not in faulty:
            assert 0.75 <= pupils_after[county] / pupils_before[county] <= 1.25
    intake, graduates = totals(before, "junior_intake"), totals(after, "junior_graduates")
    retention = sorted(graduates[c] / intake[c] for c in graduates if c not in faulty)
    assert all(0.88 <= r <= 1.06 for r in retention), retention
    inside = sum(0.92 <= r <= 1.02 for r in retention) / len(retention)
    assert inside >= 0.75
    assert any(r > 1.0 for r in retention)


def test_school_codes_follow_the_national_structure(qinghai: Generated) -> None:
    category = {"211": "21", "218": "21", "311": "31", "312": "31", "341": "34", "345": "34"}
    seen: set[str] = set()
    for r in qinghai.clean_rows(2024):
        code = str(r["school_code"])
        assert len(code) == 10 and code[0] != "0"
        assert code[:2] == category[str(r["school_type"])] and code[2:4] == "63"
        assert code not in seen
        seen.add(code)


# -- national scale ----------------------------------------------------------------------------
def test_national_plan_has_the_countrys_size() -> None:
    units = load_county_units()
    assert len(units) == 2855
    total = sum(make_profile(u, 2026).n_schools for u in units)
    assert 250_000 <= total <= 290_000
    assert len({u.province for u in units}) == 31


def test_national_sample_spans_provinces(tmp_path: Path) -> None:
    summary = generate(None, [2024], tmp_path, scale="national", counties=30, faulty=2)
    assert summary.files_written == 30 and len(summary.faulty) == 2
    assert len({c[:2] for c in summary.counties}) >= 20
    xlsx = sum(p.suffix == ".xlsx" for p in summary.files)
    assert 8 <= xlsx <= 22
    faulty = {f.path for f in summary.faulty}
    for path in summary.files:
        errors, _ = check(parse(load_sheet(path)), path.parent.name)
        assert bool(errors) == (path in faulty), (path, errors[:3])


def test_worker_processes_write_the_same_bytes(tmp_path: Path) -> None:
    codes = ["110101", "410102", "632857", "650102"]
    one = generate(None, [2024], tmp_path / "one", scale="national", counties=codes, workers=1)
    two = generate(None, [2024], tmp_path / "two", scale="national", counties=codes, workers=2)
    assert len(one.files) == 4
    for a, b in zip(one.files, two.files, strict=True):
        assert a.relative_to(tmp_path / "one") == b.relative_to(tmp_path / "two")
        assert a.read_bytes() == b.read_bytes()


def test_selection_and_bad_arguments() -> None:
    assert len(select_counties("63")) == 45
    assert [u.code for u in select_counties("630000", counties=["632857"])] == ["632857"]
    with pytest.raises(ValueError, match="province"):
        select_counties("6")
    with pytest.raises(ValueError, match="no county units"):
        select_counties("99")
    with pytest.raises(ValueError, match="not in scope"):
        select_counties("63", counties=["110101"])
    with pytest.raises(ValueError, match="faulty"):
        generate("63", [2024], Path("/nonexistent/never-written"), faulty=46,
                 counties=None)
    with pytest.raises(ValueError, match="year"):
        generate("63", [], Path("/nonexistent/never-written"))
