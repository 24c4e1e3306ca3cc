"""Every rule of docs/submission-format.md fires through the real GX suite, at its severity.

Protects: a rule that silently stops failing (the "silent failure" peers hit with GX), a
wrong severity (a warning rejecting a county or an error let through), findings that do not
name the row, column and value, and drift between edustat.rules and the committed suite.
Every plausibility bound (rules.BOUNDS) is tried at its limit (passes) and one above it
(fires, at its severity). All cases run in ONE checkpoint run, as the night does: one
submission per case.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from edustat.columns import BY_KEY, KEYS
from edustat.rules import BOUNDS, BOUNDS_FILE, RULES, SCHOOL_STUDENTS, Bound, load_bounds
from edustat.validation.frame import build_frame
from edustat.validation.runner import validate_night
from edustat.validation.suite import PROJECT_DIR, SUITE_NAME, write_project

COUNTY = "632857"

VALID = {k: "0" for k in KEYS} | {
    "school_year": "2024", "county_code": COUNTY, "school_code": "3163000001",
    "school_name": "大柴旦行委九年一贯制学校", "school_type": "312", "urban_rural": "121",
    "primary_students": "420", "junior_students": "210", "primary_classes": "12",
    "junior_classes": "6", "primary_teachers": "30", "junior_teachers": "20",
    "primary_qualified_teachers": "28", "junior_qualified_teachers": "18",
    "primary_senior_title_teachers": "12", "junior_senior_title_teachers": "9",
    "primary_backbone_teachers": "5", "junior_backbone_teachers": "3",
    "primary_pe_arts_teachers": "5", "junior_pe_arts_teachers": "3",
    "teaching_area_m2": "4200.5", "sports_area_m2": "6100", "equipment_value_10k_yuan": "180.2",
    "books": "21000", "computers": "90", "classrooms": "18", "multimedia_classrooms": "18",
    "music_rooms": "2", "art_rooms": "2", "internet_access": "是", "bandwidth_mbps": "200",
    "primary_max_class_size": "40", "junior_max_class_size": "45", "large_classes": "0",
    "junior_intake": "70", "junior_graduates": "68",
}

# (expected check_id, severity, column, changes to the valid row)
CASES = [
    ("required__school_name", "critical", "school_name", {"school_name": None}),
    ("text__school_name", "critical", "school_name", {"school_name": "  "}),
    ("format__school_code", "critical", "school_code", {"school_code": "316300001"}),
    ("format__county_code", "critical", "county_code", {"county_code": "63285"}),
    ("type__books", "critical", "books", {"books": "约300"}),
    ("type__teaching_area_m2", "critical", "teaching_area_m2", {"teaching_area_m2": "-5"}),
    # Digits that are digits to Python's \d but not to staging's casts.
    ("type__books", "critical", "books", {"books": "٣٠٠"}),
    ("type__teaching_area_m2", "critical", "teaching_area_m2", {"teaching_area_m2": "४२००.5"}),
    ("format__school_code", "critical", "school_code", {"school_code": "３163000001"}),
    ("code__school_type", "critical", "school_type", {"school_type": "999"}),
    ("code__urban_rural", "critical", "urban_rural", {"urban_rural": "100"}),
    ("code__internet_access", "critical", "internet_access", {"internet_access": "有"}),
    ("range__school_year", "critical", "school_year", {"school_year": "1999"}),
    ("range__bandwidth_mbps", "critical", "bandwidth_mbps", {"bandwidth_mbps": "20000"}),
    ("primary_students_required", "critical", "primary_students",
     {"school_type": "211", "junior_students": "0", "junior_classes": "0",
      "junior_max_class_size": "0", "primary_students": "0", "school_code": "2163000001"}),
    ("primary_students_not_allowed", "critical", "primary_students", {"school_type": "311"}),
    ("junior_students_not_allowed", "critical", "junior_students",
     {"school_type": "211", "school_code": "2163000001"}),
    ("junior_students_required", "critical", "junior_students",
     {"school_type": "311", "primary_students": "0", "primary_classes": "0",
      "primary_max_class_size": "0", "junior_students": "0", "junior_classes": "0",
      "junior_max_class_size": "0"}),
    ("senior_students_not_allowed", "critical", "senior_students", {"senior_students": "30"}),
    ("primary_classes_required", "critical", "primary_classes", {"primary_classes": "0"}),
    ("junior_classes_required", "critical", "junior_classes", {"junior_classes": "0"}),
    ("primary_max_class_without_section", "critical", "primary_max_class_size",
     {"school_type": "311", "primary_students": "0", "primary_classes": "0"}),
    ("bandwidth_without_internet", "critical", "bandwidth_mbps", {"internet_access": "否"}),
    ("bandwidth_missing_with_internet", "critical", "bandwidth_mbps", {"bandwidth_mbps": "0"}),
    ("large_classes_within_classes", "critical", "large_classes", {"large_classes": "19"}),
    # A class of 56+ while the largest classes are 40 and 45: the school contradicts itself.
    ("large_classes_need_large_max_class", "critical", "large_classes", {"large_classes": "1"}),
    ("primary_intake_without_section", "critical", "primary_intake",
     {"school_type": "311", "primary_students": "0", "primary_classes": "0",
      "primary_max_class_size": "0", "primary_intake": "5"}),
    ("county_code_matches_folder", "critical", "county_code", {"county_code": "632801"}),
    ("county_code_known", "critical", "county_code", {"county_code": "639999"}),
    ("primary_qualified_teachers_within_teachers", "critical", "primary_qualified_teachers",
     {"primary_qualified_teachers": "31"}),
    ("junior_pe_arts_teachers_within_teachers", "critical", "junior_pe_arts_teachers",
     {"junior_pe_arts_teachers": "21"}),
    ("multimedia_within_classrooms", "warning", "multimedia_classrooms",
     {"multimedia_classrooms": "19"}),
    ("school_code_category", "warning", "school_code", {"school_code": "3463000001"}),
]


def _limit(bound: Bound) -> float:
    """The bound's limit for the VALID row."""
    if not bound.per_student:
        return bound.per_school
    keys = (["primary_students", "junior_students", "senior_students"]
            if bound.students == SCHOOL_STUDENTS else [bound.students])
    return bound.per_student * sum(int(VALID[k]) for k in keys) + bound.per_school


def _at_and_above(bound: Bound) -> tuple[str, str]:
    """The largest value the bound allows and the next whole number, as the county writes it."""
    at = math.floor(_limit(bound))
    return str(at), str(at + 1)


BOUND_AT = 1000  # submission ids: BOUND_AT + 2i at the limit, BOUND_AT + 2i + 1 above it


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory):
    rows = []
    for sid, (_, _, _, changes) in enumerate([(None, None, None, {}), *CASES]):
        rows.append(VALID | changes | {"submission_id": sid, "county_folder": COUNTY,
                                       "row_number": 4})
    # 小学一年级招生数 is optional: a file without it (None in every row) is valid, and so is a
    # 56+ class reported with a largest class of 56 (the rule's own limit).
    rows.append(VALID | {"primary_intake": None, "submission_id": 102, "county_folder": COUNTY,
                         "row_number": 4})
    rows.append(VALID | {"large_classes": "1", "junior_max_class_size": "56",
                         "submission_id": 103, "county_folder": COUNTY, "row_number": 4})
    # A file whose rows disagree on the year, and one with a duplicated school code.
    for sid, year, code, number in ((100, "2024", "3163000001", 4), (100, "2023", "3163000002", 5),
                                    (100, "2024", "3163000003", 6),
                                    (101, "2024", "3163000001", 4),
                                    (101, "2024", "3163000001", 5)):
        rows.append(VALID | {"submission_id": sid, "county_folder": COUNTY, "row_number": number,
                             "school_year": year, "school_code": code})
    for i, bound in enumerate(BOUNDS):
        for offset, value in enumerate(_at_and_above(bound)):
            rows.append(VALID | {bound.column: value, "submission_id": BOUND_AT + 2 * i + offset,
                                 "county_folder": COUNTY, "row_number": 4})
    # The file's year, as read_and_stage decided it (intake.readers.file_year).
    frame = build_frame(pd.DataFrame(rows).assign(file_school_year=2024))
    home = tmp_path_factory.mktemp("home")
    return validate_night(frame, home / "gx", ["632857", "632801"])


def test_valid_row_passes(night) -> None:
    assert night.findings.get(0, []) == []


@pytest.mark.parametrize(("check", "severity", "column", "changes"), CASES,
                         ids=[c[0] for c in CASES])
def test_rule_fires(night, check: str, severity: str, column: str,
                    changes: dict) -> None:
    sid = next(i for i, case in enumerate(CASES, start=1) if case[0] == check
               and case[3] == changes)
    found = [f for f in night.findings.get(sid, []) if f.check_id == check]
    assert found, f"{check} did not fire; got {[f.check_id for f in night.findings.get(sid, [])]}"
    f = found[0]
    assert (f.severity, f.column, f.row_number) == (severity, column, 4)
    shown = (VALID | changes)[column]
    if shown is not None and shown.strip():
        assert f.value == shown and shown in f.message_zh and shown in f.message_en
    assert "第4行" in f.message_zh and "row 4" in f.message_en


def test_optional_intake_and_a_largest_class_of_56_pass(night) -> None:
    assert night.findings.get(102, []) == []
    assert [f.check_id for f in night.findings.get(103, [])
            if f.severity == "critical"] == []


def test_large_class_size_is_the_policy_seed_number() -> None:
    import csv

    from edustat.rules import LARGE_CLASS_SIZE

    seed = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "policy_parameters.csv"
    with seed.open(encoding="utf-8") as f:
        values = {r["parameter"]: r["value"] for r in csv.DictReader(f)}
    assert int(values["large_class_size"]) == LARGE_CLASS_SIZE
    # The column is defined by the same number.
    assert BY_KEY["large_classes"].header.startswith(f"{LARGE_CLASS_SIZE}人及以上")


def test_file_level_rules(night) -> None:
    year = [f for f in night.findings[100] if f.check_id == "school_year_consistent"]
    dupes = [f for f in night.findings[101] if f.check_id == "school_code_unique"]
    assert [(f.row_number, f.value) for f in year] == [(5, "2023")]
    assert sorted(f.row_number for f in dupes) == [4, 5]


@pytest.mark.parametrize("bound", BOUNDS, ids=[b.rule_id for b in BOUNDS])
def test_plausibility_bound_holds_at_its_limit_and_fires_above(night, bound: Bound) -> None:
    i = BOUNDS.index(bound)
    at, above = _at_and_above(bound)
    assert bound.reason_zh and bound.reason_en  # every bound says why it is where it is
    assert [f for f in night.findings.get(BOUND_AT + 2 * i, [])
            if f.check_id == bound.rule_id] == [], f"{bound.rule_id} fired at {at}"
    found = [f for f in night.findings.get(BOUND_AT + 2 * i + 1, [])
             if f.check_id == bound.rule_id]
    assert len(found) == 1, f"{bound.rule_id} did not fire at {above}"
    f = found[0]
    assert (f.severity, f.column, f.row_number, f.value) == (bound.severity, bound.column, 4,
                                                             above)
    assert above in f.message_zh and bound.reason_zh in f.message_zh
    assert bound.reason_en in f.message_en


def test_every_count_area_and_money_column_is_bounded() -> None:
    from edustat.rules import BOUNDED_ELSEWHERE

    bounded = {b.column for b in BOUNDS if b.severity == "critical"} | BOUNDED_ELSEWHERE
    numeric = {c.key for c in BY_KEY.values() if c.numeric and c.max_value is None}
    assert numeric <= bounded, f"no upper bound: {sorted(numeric - bounded)}"


@pytest.mark.parametrize("typo", [
    ("books,", "bookz,", "「bookz」不是报送表的列 is not a submission column"),
    (",critical,", ",critcal,", "severity「critcal」应为 expected critical | warning"),
    (",school_students,", ",students,", "must come with students"),
    (",200000,", ",2OOOOO,", "「2OOOOO」不是数字 is not a number"),
])
def test_a_typo_in_the_bounds_table_stops_the_import(tmp_path: Path,
                                                      typo: tuple[str, str, str]) -> None:
    text = BOUNDS_FILE.read_text(encoding="utf-8")
    assert typo[0] in text
    edited = tmp_path / BOUNDS_FILE.name
    edited.write_text(text.replace(typo[0], typo[1], 1), encoding="utf-8")
    with pytest.raises(ValueError) as stopped:
        load_bounds(edited)
    assert re.fullmatch(r"plausibility_bounds\.csv 第(\d+)行 line \1: .+", str(stopped.value))
    assert typo[2] in str(stopped.value) and "\n" not in str(stopped.value)
    assert load_bounds(BOUNDS_FILE) == BOUNDS


def test_every_rule_is_exercised() -> None:
    exercised = ({c[0] for c in CASES} | {"school_year_consistent", "school_code_unique"}
                 | {b.rule_id for b in BOUNDS})
    # Remaining rules are the per-column required/type/code checks of other columns,
    # generated by the same code paths as the ones above.
    families = {r.rule_id.split("__")[0] for r in RULES if "__" in r.rule_id}
    assert families <= {c.split("__")[0] for c in exercised}
    singles = {r.rule_id for r in RULES if "__" not in r.rule_id}
    untested = singles - exercised
    assert untested <= {"junior_max_class_without_section"} | {
        r.rule_id for r in RULES if r.rule_id.endswith("_within_teachers")}


def test_committed_suite_matches_rules(tmp_path: Path) -> None:
    generated = write_project(tmp_path) / "expectations" / f"{SUITE_NAME}.json"
    committed = PROJECT_DIR / "gx" / "expectations" / f"{SUITE_NAME}.json"

    def comparable(path: Path) -> list:
        suite = json.loads(path.read_text(encoding="utf-8"))
        return sorted(json.dumps({k: v for k, v in e.items() if k != "id"}, sort_keys=True)
                      for e in suite["expectations"])

    assert comparable(generated) == comparable(committed), "run `make suites` and commit"
