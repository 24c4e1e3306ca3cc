"""Every validation rule of docs/submission-format.md, once, with its severity and bilingual text.

`RULES` is the single source: `validation/suite.py` turns each rule into Great Expectations
expectations (the committed suite under expectations/ is generated from here, and a test keeps
the two in sync), and the findings the county reads are worded from the same rule.

Rules run on the night's combined frame (`validation/frame.py`): normalised text columns named
as in columns.py, typed copies `<key>__n` for numeric columns, and a few derived columns.
Row conditions use pandas query syntax on those columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edustat.columns import BY_KEY, COLUMNS
from edustat.findings import Severity

PRIMARY_ONLY = ["211", "218"]
NO_PRIMARY = ["311", "341"]
WITH_SENIOR = ["341", "345"]
# 大班额 starts at 56 pupils: the column 56人及以上班数 is defined by it (the policy seed's
# large_class_size is the same number, and a test keeps the two equal).
LARGE_CLASS_SIZE = 56
LARGEST_CLASS = "largest_class"  # frame column: the larger of the two largest classes


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: Severity
    column: str  # the column the county must fix (named in the finding)
    zh: str
    en: str
    # GX expectation type (snake_case, as in GX JSON) and its kwargs.
    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    row_condition: str | None = None


def n(key: str) -> str:
    """Typed (numeric) copy of a column in the validation frame."""
    return f"{key}__n"


def _type_rules() -> list[Rule]:
    rules: list[Rule] = []
    for c in COLUMNS:
        if c.required and not c.zero_when_empty:
            rules.append(Rule(
                f"required__{c.key}", "critical", c.key, "必填，不能为空", "is required",
                "expect_column_values_to_not_be_null", {"column": c.key},
            ))
        # [0-9], not \d: Python's \d accepts every Unicode digit (٣, ३) that NFKC leaves
        # alone, which staging's casts would then turn into NULL behind validation's back.
        if c.kind == "digits":
            rules.append(Rule(
                f"format__{c.key}", "critical", c.key, f"应为{c.digits}位数字",
                f"must be exactly {c.digits} digits", "expect_column_values_to_match_regex",
                {"column": c.key, "regex": rf"^[0-9]{{{c.digits}}}$"},
            ))
        elif c.kind == "int":
            rules.append(Rule(
                f"type__{c.key}", "critical", c.key, "应为非负整数",
                "must be a non-negative whole number", "expect_column_values_to_match_regex",
                {"column": c.key, "regex": r"^[0-9]+$"},
            ))
        elif c.kind == "num":
            rules.append(Rule(
                f"type__{c.key}", "critical", c.key, "应为非负数",
                "must be a non-negative number", "expect_column_values_to_match_regex",
                {"column": c.key, "regex": r"^[0-9]+(?:\.[0-9]+)?$"},
            ))
        elif c.kind in ("code", "yesno"):
            allowed = "、".join(c.allowed)
            rules.append(Rule(
                f"code__{c.key}", "critical", c.key, f"应为以下之一：{allowed}",
                f"must be one of {', '.join(c.allowed)}", "expect_column_values_to_be_in_set",
                {"column": c.key, "value_set": list(c.allowed)},
            ))
        elif c.kind == "text":
            rules.append(Rule(
                f"text__{c.key}", "critical", c.key, "不能为空白", "must not be blank",
                "expect_column_values_to_match_regex", {"column": c.key, "regex": r"\S"},
            ))
        if c.numeric and c.max_value is not None:
            lo = c.min_value if c.min_value is not None else 0
            hi = c.max_value
            rules.append(Rule(
                f"range__{c.key}", "critical", c.key, f"应在{lo:g}至{hi:g}之间",
                f"must be between {lo:g} and {hi:g}", "expect_column_values_to_be_between",
                {"column": n(c.key), "min_value": lo, "max_value": hi},
            ))
    return rules


def _at_least(rule_id: str, column: str, minimum: float, condition: str, zh: str,
              en: str) -> Rule:
    return Rule(rule_id, "critical", column, zh, en, "expect_column_values_to_be_between",
                {"column": n(column), "min_value": minimum}, condition)


def _zero(rule_id: str, column: str, condition: str, zh: str, en: str) -> Rule:
    return Rule(rule_id, "critical", column, zh, en, "expect_column_values_to_be_between",
                {"column": n(column), "min_value": 0, "max_value": 0}, condition)


def _not_above(rule_id: str, part: str, whole: str, severity: Severity, zh: str,
               en: str) -> Rule:
    return Rule(rule_id, severity, part, zh, en,
                "expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": n(whole), "column_B": n(part), "or_equal": True})


_SUBSET_OF_TEACHERS = [
    ("primary_qualified_teachers", "primary_teachers", "小学专科及以上学历教师", "qualified"),
    ("junior_qualified_teachers", "junior_teachers", "初中本科及以上学历教师", "qualified"),
    ("primary_senior_title_teachers", "primary_teachers", "小学中级及以上职称教师",
     "senior-title"),
    ("junior_senior_title_teachers", "junior_teachers", "初中中级及以上职称教师",
     "senior-title"),
    ("primary_backbone_teachers", "primary_teachers", "小学骨干教师", "backbone"),
    ("junior_backbone_teachers", "junior_teachers", "初中骨干教师", "backbone"),
    ("primary_pe_arts_teachers", "primary_teachers", "小学体育艺术教师", "PE/arts"),
    ("junior_pe_arts_teachers", "junior_teachers", "初中体育艺术教师", "PE/arts"),
]


def _cross_field_rules() -> list[Rule]:
    primary_only = f"school_type in {PRIMARY_ONLY}"
    rules = [
        _at_least("primary_students_required", "primary_students", 1, primary_only,
                  "小学、教学点的小学在校生数应大于0",
                  "a primary school or teaching point must have primary students"),
        _zero("primary_students_not_allowed", "primary_students",
              f"school_type in {NO_PRIMARY}",
              "初级中学、完全中学的小学在校生数应为0",
              "a junior or complete secondary school must have no primary students"),
        _zero("junior_students_not_allowed", "junior_students", primary_only,
              "小学、教学点的初中在校生数应为0",
              "a primary school or teaching point must have no junior students"),
        _at_least("junior_students_required", "junior_students", 1, "school_type == '311'",
                  "初级中学的初中在校生数应大于0", "a junior school must have junior students"),
        _zero("senior_students_not_allowed", "senior_students",
              f"school_type not in {WITH_SENIOR}",
              "只有完全中学、十二年一贯制学校可以有高中在校生",
              "only 341 and 345 schools may have senior students"),
        _at_least("primary_classes_required", "primary_classes", 1,
                  f"{n('primary_students')} > 0", "有小学在校生时小学班数应大于0",
                  "primary students need primary classes"),
        _at_least("junior_classes_required", "junior_classes", 1,
                  f"{n('junior_students')} > 0", "有初中在校生时初中班数应大于0",
                  "junior students need junior classes"),
        _zero("primary_max_class_without_section", "primary_max_class_size",
              f"{n('primary_students')} == 0", "无小学学段时小学最大班额应为0",
              "largest primary class must be 0 without a primary section"),
        _zero("junior_max_class_without_section", "junior_max_class_size",
              f"{n('junior_students')} == 0", "无初中学段时初中最大班额应为0",
              "largest junior class must be 0 without a junior section"),
        _zero("bandwidth_without_internet", "bandwidth_mbps", "internet_access == '否'",
              "未接入互联网时出口带宽应为0", "bandwidth must be 0 when not connected"),
        Rule("bandwidth_missing_with_internet", "critical", "bandwidth_mbps",
             "已接入互联网时出口带宽应大于0", "bandwidth must be above 0 when connected",
             "expect_column_values_to_be_between",
             {"column": n("bandwidth_mbps"), "min_value": 0, "strict_min": True},
             "internet_access == '是'"),
        _not_above("large_classes_within_classes", "large_classes", "classes_total",
                   "critical", "56人及以上班数不能超过小学班数与初中班数之和",
                   "classes of 56+ cannot exceed primary + junior classes"),
        # Critical: a school reporting a 56+ class while both its largest classes are below
        # 56 contradicts itself, and the marts would then list 大班额 in a county's gaps while
        # its class-size check passes (ready and gaps must read one set of facts).
        Rule("large_classes_need_large_max_class", "critical", "large_classes",
             f"有{LARGE_CLASS_SIZE}人及以上班级时，小学或初中最大班额应不小于{LARGE_CLASS_SIZE}",
             f"a school reporting classes of {LARGE_CLASS_SIZE}+ must report a largest class of"
             f" at least {LARGE_CLASS_SIZE}",
             "expect_column_values_to_be_between",
             {"column": n(LARGEST_CLASS), "min_value": LARGE_CLASS_SIZE},
             f"{n('large_classes')} > 0"),
        _zero("primary_intake_without_section", "primary_intake",
              f"{n('primary_students')} == 0", "无小学学段时小学一年级招生数应为0或留空",
              "primary grade-1 intake must be 0 or empty without a primary section"),
        Rule("county_code_matches_folder", "critical", "county_code",
             "行政区划代码与报送文件夹的区县代码不一致",
             "county code differs from the landing folder's county",
             "expect_column_pair_values_to_be_equal",
             {"column_A": "county_code", "column_B": "county_folder"}),
        Rule("county_code_known", "critical", "county_code",
             "行政区划代码不在区划代码表中（县级单位）",
             "county code is not a known county-level division",
             "expect_column_values_to_be_in_set",
             # Filled at run time from the divisions seed (a GX suite parameter), so the
             # suite does not carry 2,855 codes and follows the seed when it changes.
             {"column": "county_code", "value_set": {"$PARAMETER": "county_units"}}),
        Rule("school_code_unique", "critical", "school_code", "学校标识码在本文件中重复",
             "school identifier appears more than once in the file",
             "expect_compound_columns_to_be_unique",
             {"column_list": ["submission_id", "school_code"]}),
        Rule("school_year_consistent", "critical", "school_year",
             "统计年度在同一文件中应一致", "statistics year must be the same on every row",
             "expect_column_pair_values_to_be_equal",
             {"column_A": n("school_year"), "column_B": "file_school_year"}),
        _not_above("multimedia_within_classrooms", "multimedia_classrooms", "classrooms",
                   "warning", "网络多媒体教室数多于普通教室数，请核实",
                   "more multimedia classrooms than classrooms: please check"),
    ]
    for part, whole, zh_part, en_part in _SUBSET_OF_TEACHERS:
        rules.append(_not_above(f"{part}_within_teachers", part, whole, "critical",
                                f"{zh_part}数不能超过专任教师数",
                                f"{en_part} teachers cannot exceed the section's teachers"))
    # 学校标识码: 2-digit category (21 小学, 31 初中, 34 普通高中/完全中学) + province + sequence.
    # Legacy codes exist, so a mismatch is a warning, not a rejection.
    for types, pattern, zh in (
        (PRIMARY_ONLY, "^21", "小学、教学点的学校标识码应以21开头"),
        (["311"], "^31", "初级中学的学校标识码应以31开头"),
        (["312"], "^(21|31)", "九年一贯制学校的学校标识码应以21或31开头"),
        (WITH_SENIOR, "^(34|31|21)",
         "完全中学、十二年一贯制学校的学校标识码应以34、31或21开头"),
    ):
        rules.append(Rule(
            "school_code_category", "warning", "school_code", zh,
            "school identifier category does not match the school type",
            "expect_column_values_to_match_regex", {"column": "school_code", "regex": pattern},
            f"school_type in {types}",
        ))
    return rules


# ---------------------------------------------------------------------------------------------
# Plausibility bounds: how much of each count, area and amount a school can hold.
#
# The type rules accept any non-negative number, and a slipped key (图书 45000 typed 450000000)
# is still a number: without an upper bound it would pass validation, skew every indicator of
# its county and, past int4, break the marts build for the whole night. Each bound of
# plausibility_bounds.csv (beside this file) is
#     value ≤ per_student × students + per_school
# where `students` is the school's (primary + junior + senior, for school-wide assets) or its
# section's; the per-school part keeps the smallest schools (a 教学点 with 5 pupils still has a
# classroom and a playground) from being judged on a per-student ratio alone. A `critical`
# bound is what no real school reaches (the file is rejected: the county must check the
# digits); a `warning` bound is what few schools reach (accepted, the county is asked to check).
# Reference values are the 2017 县域义务教育优质均衡发展督导评估办法 thresholds and the national
# averages of 教育统计 (docs/methodology.md#plausibility-bounds, generated from BOUNDS); the
# margins are wide on purpose: a bound that fires on real data costs a county a rejected file,
# one that is too wide costs only a skewed figure.
# The largest count any bound allows (30,000 students per section × 3 × 1,000 books + 200,000)
# stays far inside the 9 digits staging casts (dbt_project/macros/staging_casts.sql).
# ---------------------------------------------------------------------------------------------

SCHOOL_STUDENTS = "school_students"  # frame column: primary + junior + senior of the row
_BASIS_ZH = {SCHOOL_STUDENTS: "全校在校生数", "primary_students": "小学在校生数",
             "junior_students": "初中在校生数"}
_BASIS_EN = {SCHOOL_STUDENTS: "the school's students", "primary_students": "primary students",
             "junior_students": "junior students"}


@dataclass(frozen=True)
class Bound:
    """`column` ≤ per_student × `students` + per_school, with why that is the limit."""

    column: str
    severity: Severity
    per_school: float
    reason_zh: str
    reason_en: str
    per_student: float = 0.0
    students: str | None = None  # a students key or SCHOOL_STUDENTS; None: per school only
    check: str | None = None  # the rule id, when one column has two bounds of one severity

    @property
    def rule_id(self) -> str:
        prefix = "implausible" if self.severity == "critical" else "unusual"
        return self.check or f"{prefix}__{self.column}"

    @property
    def limit_column(self) -> str:
        """The frame column holding each row's limit (per-student bounds only)."""
        return f"{self.rule_id}__limit"

    def formula(self) -> tuple[str, str]:
        if not self.per_student:
            return f"{self.per_school:g}", f"{self.per_school:g}"
        return (f"{_BASIS_ZH[self.students]}×{self.per_student:g}+{self.per_school:g}",
                f"{self.per_student:g} × {_BASIS_EN[self.students]} + {self.per_school:g}")


BOUNDS_FILE = Path(__file__).with_name("plausibility_bounds.csv")


def load_bounds(path: Path = BOUNDS_FILE) -> tuple[Bound, ...]:
    """The bounds table; a row naming an unknown column, severity or basis, or a number that is
    not one, stops the import with one line naming the row (a typo must not drop a bound)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    bounds = []
    for line, r in enumerate(rows, start=2):
        try:
            bounds.append(_bound(r))
        except ValueError as exc:
            raise ValueError(f"{path.name} 第{line}行 line {line}: {exc}") from None
    return tuple(bounds)


def _bound(r: dict[str, str]) -> Bound:
    if r["column"] not in BY_KEY:
        raise ValueError(f"「{r['column']}」不是报送表的列 is not a submission column")
    if r["severity"] not in ("critical", "warning"):
        raise ValueError(f"severity「{r['severity']}」应为 expected critical | warning")
    if r["students"] not in ("", *_BASIS_EN) or bool(r["per_student"]) != bool(r["students"]):
        raise ValueError(f"per_student 须与 students（{' | '.join(_BASIS_EN)}）同时填写 "
                         f"must come with students; got「{r['per_student']}」"
                         f"「{r['students']}」")
    return Bound(r["column"], r["severity"], _number(r["per_school"]), r["reason_zh"],
                 r["reason_en"], _number(r["per_student"] or "0"), r["students"] or None,
                 r["check"] or None)


def _number(text: str) -> int | float:
    # Whole numbers stay int: they are written into the GX suites and shown in messages as typed.
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise ValueError(f"「{text}」不是数字 is not a number") from None


BOUNDS = load_bounds()

# Counts bounded by another rule rather than by a Bound: the teacher subsets by the section's
# teachers (_SUBSET_OF_TEACHERS), large_classes by the classes (large_classes_within_classes),
# multimedia rooms also by the classrooms (warning), bandwidth by its range in columns.py.
BOUNDED_ELSEWHERE = frozenset({part for part, *_ in _SUBSET_OF_TEACHERS} | {"large_classes"})


def _bound_rules() -> list[Rule]:
    rules = []
    for b in BOUNDS:
        formula_zh, formula_en = b.formula()
        if b.severity == "critical":
            zh = (f"超出可能的范围（不应超过{formula_zh}：{b.reason_zh}），"
                  "请核实是否多输或错输了数字")
            en = (f"is beyond what is possible (at most {formula_en}: {b.reason_en}); check for "
                  "extra or mistyped digits")
        else:
            zh = f"数值异常（超过{formula_zh}：{b.reason_zh}），请核实"
            en = f"is unusually high (above {formula_en}: {b.reason_en}); please check"
        if b.per_student:
            rules.append(Rule(b.rule_id, b.severity, b.column, zh, en,
                              "expect_column_pair_values_a_to_be_greater_than_b",
                              {"column_A": b.limit_column, "column_B": n(b.column),
                               "or_equal": True, "ignore_row_if": "either_value_is_missing"}))
        else:
            rules.append(Rule(b.rule_id, b.severity, b.column, zh, en,
                              "expect_column_values_to_be_between",
                              {"column": n(b.column), "max_value": b.per_school}))
    return rules


RULES: tuple[Rule, ...] = (*_type_rules(), *_cross_field_rules(), *_bound_rules())
