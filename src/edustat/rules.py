"""Every validation rule of docs/submission-format.md, once, with its severity and bilingual text.

`RULES` is the single source: `validation/suite.py` turns each rule into Great Expectations
expectations (the committed suite under expectations/ is generated from here, and a test keeps
the two in sync), and the findings the county reads are worded from the same rule.

Rules run on the night's combined frame (`validation/frame.py`): normalised text columns named
as in columns.py, typed copies `<key>__n` for numeric columns, and a few derived columns.
Row conditions use pandas query syntax on those columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edustat.columns import COLUMNS
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
# its county and, past int4, break the marts build for the whole night. Each bound below is
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
        basis = self.students or SCHOOL_STUDENTS
        return (f"{_BASIS_ZH[basis]}×{self.per_student:g}+{self.per_school:g}",
                f"{self.per_student:g} × {_BASIS_EN[basis]} + {self.per_school:g}")


def _per_section(column: str, severity: Severity, per_student: float, per_school: float,
                 zh: str, en: str, check: str | None = None) -> list[Bound]:
    """The same bound for the primary_ and junior_ column, against that section's students."""
    return [Bound(f"{section}_{column}", severity, per_school, zh, en, per_student,
                  f"{section}_students", None if check is None else f"{check}__{section}")
            for section in ("primary", "junior")]


BOUNDS: tuple[Bound, ...] = (
    # Students per school and section.
    *(Bound(f"{s}_students", "critical", 30_000,
            "全国规模最大的学校一个学段也远不到3万人",
            "no school in China has 30,000 pupils in one section; the largest multi-campus "
            "schools report about half that")
      for s in ("primary", "junior", "senior")),
    *(Bound(f"{s}_students", "warning", 6_000,
            "超过6000人的学段极少见（标准规模不超过2000人）",
            "a section of more than 6,000 is very rare (the standard size is at most 2,000)")
      for s in ("primary", "junior")),
    Bound("senior_students", "warning", 10_000, "超过1万人的高中学段极少见",
          "a senior section of more than 10,000 is very rare"),
    # Classes, teachers and class sizes of a section, against that section's students.
    *_per_section("classes", "critical", 1, 0, "每个班至少有1名学生",
                  "every class has at least one pupil"),
    *_per_section("teachers", "critical", 1, 50, "专任教师不可能多于学生数再加50人",
                  "a section cannot have 50 more full-time teachers than pupils"),
    *_per_section("teachers", "warning", 0.2, 10,
                  "生师比低于5:1（小规模学校另加10人）很少见，全国平均约为16:1（小学）和13:1（初中）",
                  "a student-teacher ratio below 5:1 (plus 10 for small schools) is rare; the "
                  "national ratios are about 16:1 (primary) and 13:1 (junior)"),
    *_per_section("max_class_size", "critical", 1, 0, "最大班额不可能超过该学段学生总数",
                  "the largest class cannot exceed the section's pupils",
                  check="max_class_within_students"),
    *_per_section("max_class_size", "critical", 0, 150, "没有教室能容纳150人以上的班级",
                  "no classroom holds a class of more than 150"),
    *_per_section("max_class_size", "warning", 0, 66, "66人以上为超大班额，已于2019年基本消除",
                  "classes of more than 66 (超大班额) were eliminated by 2019"),
    Bound("junior_intake", "critical", 0, "初一新生包含在初中在校生数中",
          "the grade-1 intake is part of the junior students", 1, "junior_students"),
    Bound("primary_intake", "critical", 0, "小学一年级新生包含在小学在校生数中",
          "the grade-1 intake is part of the primary students", 1, "primary_students"),
    Bound("primary_intake", "warning", 30,
          "小学一年级招生超过小学在校生的四成（另加30人）很少见，六个年级平均约为六分之一",
          "a grade-1 intake above 40 % of the primary students (plus 30) is rare; six grades "
          "make it about a sixth", 0.4, "primary_students"),
    Bound("junior_graduates", "critical", 100,
          "毕业生为一个年级，不可能超过在校生两倍再加100人",
          "graduates are one cohort: never twice the current junior students plus 100",
          2, "junior_students"),
    Bound("junior_graduates", "warning", 30, "毕业生超过在校生的七成（另加30人）很少见",
          "graduates above 70 % of the current junior students (plus 30) are rare",
          0.7, "junior_students"),
    # School-wide buildings, equipment and rooms, against all the school's students.
    Bound("teaching_area_m2", "critical", 20_000,
          "生均教学及辅助用房超过100平方米（另加每校2万）不可能；标准为4.5（小学）/5.8（初中）",
          "over 100 m² per student (plus 20,000 per school) is impossible; the standard is "
          "4.5 (primary) / 5.8 (junior)", 100, SCHOOL_STUDENTS),
    Bound("teaching_area_m2", "warning", 3_000, "生均超过30平方米（另加每校3000）很少见",
          "over 30 m² per student (plus 3,000 per school) is rare", 30, SCHOOL_STUDENTS),
    Bound("sports_area_m2", "critical", 60_000,
          "生均体育场馆超过200平方米（另加每校6万，约三个标准田径场）不可能；标准为7.5/10.2",
          "over 200 m² per student (plus 60,000 per school, three 400 m tracks) is impossible;"
          " the standard is 7.5 / 10.2", 200, SCHOOL_STUDENTS),
    Bound("sports_area_m2", "warning", 20_000, "生均超过50平方米（另加每校2万）很少见",
          "over 50 m² per student (plus 20,000 per school) is rare", 50, SCHOOL_STUDENTS),
    Bound("equipment_value_10k_yuan", "critical", 5_000,
          "生均仪器设备超过10万元（另加每校5000万元）不可能；标准为2000/2500元",
          "over 100,000 yuan of equipment per student (plus 50 million per school) is "
          "impossible; the standard is 2,000 / 2,500 yuan", 10, SCHOOL_STUDENTS),
    Bound("equipment_value_10k_yuan", "warning", 500,
          "生均超过2万元（另加每校500万元）很少见，请确认单位为万元",
          "over 20,000 yuan per student (plus 5 million per school) is rare: check the unit "
          "is 10,000 yuan", 2, SCHOOL_STUDENTS),
    Bound("books", "critical", 200_000,
          "生均图书超过1000册（另加每校20万册）不可能；常见为20至50册",
          "over 1,000 books per student (plus 200,000 per school) is impossible; 20 to 50 is "
          "usual", 1_000, SCHOOL_STUDENTS),
    Bound("books", "warning", 30_000, "生均超过200册（另加每校3万册）很少见",
          "over 200 books per student (plus 30,000 per school) is rare", 200, SCHOOL_STUDENTS),
    Bound("computers", "critical", 1_000, "每名学生超过5台计算机（另加每校1000台）不可能",
          "over 5 computers per student (plus 1,000 per school) is impossible", 5,
          SCHOOL_STUDENTS),
    Bound("computers", "warning", 100, "每名学生超过1台计算机（另加每校100台）很少见",
          "over one computer per student (plus 100 per school) is rare", 1, SCHOOL_STUDENTS),
    *(Bound(rooms, "critical", 50, "教室不可能多于学生数再加50间",
            "a school cannot have 50 more rooms than pupils", 1, SCHOOL_STUDENTS)
      for rooms in ("classrooms", "multimedia_classrooms")),
    Bound("classrooms", "warning", 20, "每间普通教室平均不足20名学生（另加20间）很少见",
          "fewer than 20 pupils per classroom (beyond 20 rooms) is rare", 0.05,
          SCHOOL_STUDENTS),
    *(Bound(rooms, "critical", 20, "专用教室不可能超过每10名学生1间再加20间",
            "more than one special room per 10 pupils plus 20 is impossible", 0.1,
            SCHOOL_STUDENTS)
      for rooms in ("music_rooms", "art_rooms")),
    *(Bound(rooms, "warning", 5, "每200名学生超过1间（另加5间）很少见；标准为每12个班1间",
            "more than one per 200 pupils (plus 5) is rare; the standard is one per 12 classes",
            0.005, SCHOOL_STUDENTS)
      for rooms in ("music_rooms", "art_rooms")),
)
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
