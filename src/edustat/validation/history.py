"""Year-over-year warnings against the county's last accepted year (never a rejection).

Annual data has no daily seasonality to learn from, so the checks are the edit checks
statistical offices use on annual returns: large swings in totals and schools that appear or
disappear. The comparison base is the newest accepted submission of the nearest earlier year.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
import psycopg

from edustat.findings import Finding

SWING = 0.5  # docs/submission-format.md#warnings: a change above 50 %

STUDENT_COLUMNS = ("primary_students", "junior_students", "senior_students")
TEACHER_COLUMNS = ("primary_teachers", "junior_teachers")
_INT = "CASE WHEN {c} ~ '^[0-9]+$' THEN {c}::bigint ELSE 0 END"
_STUDENTS = " + ".join(_INT.format(c=c) for c in STUDENT_COLUMNS)
_TEACHERS = " + ".join(_INT.format(c=c) for c in TEACHER_COLUMNS)

# The comparison base of a county's file for a year: its newest accepted file of the nearest
# earlier year. One definition for the night (_BASES) and `edustat check` (previous_accepted).
_PREVIOUS = """
    SELECT s.submission_id, s.school_year FROM ops.submissions s
    WHERE s.county_code = {county} AND s.status = 'accepted' AND s.school_year < {year}
    ORDER BY s.school_year DESC, s.received_at DESC, s.submission_id DESC LIMIT 1
"""

# The file's year is the one set when it was read (ops.submissions.school_year).
_BASES = f"""
SELECT cur.submission_id, cur.school_year, prev.submission_id, prev.school_year
FROM ops.submissions cur
CROSS JOIN LATERAL ({_PREVIOUS.format(county="cur.county_code", year="cur.school_year")}) prev
WHERE cur.submission_id = ANY(%(ids)s)
"""


@dataclass(frozen=True)
class Totals:
    students: int
    teachers: int
    codes: frozenset[str | None]


def _totals(conn: psycopg.Connection, submission_id: int) -> Totals:
    students, teachers = conn.execute(
        f"SELECT coalesce(sum({_STUDENTS}), 0), coalesce(sum({_TEACHERS}), 0)"
        " FROM raw.school_rows WHERE submission_id = %s", (submission_id,)).fetchone()
    codes = frozenset(r[0] for r in conn.execute(
        "SELECT school_code FROM raw.school_rows WHERE submission_id = %s", (submission_id,)))
    return Totals(int(students), int(teachers), codes)


def _whole(value: object) -> int:
    """The SQL above in Python: a count only when the text is all ASCII digits, else 0."""
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else 0


def totals_of_rows(rows: pd.DataFrame) -> Totals:
    """_totals of rows not in the warehouse (the canonical rows of a file being checked)."""
    def column_sum(columns: tuple[str, ...]) -> int:
        return sum(_whole(v) for c in columns for v in rows[c].tolist())

    return Totals(column_sum(STUDENT_COLUMNS), column_sum(TEACHER_COLUMNS),
                  frozenset(None if pd.isna(v) else v for v in rows["school_code"].tolist()))


def _swing(check: str, what_zh: str, what_en: str, before: int, after: int,
           prev_year: int) -> Finding | None:
    if before == 0 or abs(after - before) / before <= SWING:
        return None
    change = (after - before) / before
    return Finding(
        check_id=check, severity="warning", value=str(after),
        message_zh=f"{what_zh}由{prev_year}年的{before}变为{after}（{change:+.0%}），变化超过50%，请核实",
        message_en=(f"{what_en} changed from {before} in {prev_year} to {after} ({change:+.0%}),"
                    " more than 50 %: please check"),
    )


def compare(current: Totals, previous: Totals, prev_year: int) -> list[Finding]:
    out = [finding for finding in (
        _swing("enrolment_change", "在校生总数", "total enrolment", previous.students,
               current.students, prev_year),
        _swing("teachers_change", "专任教师总数", "total teachers", previous.teachers,
               current.teachers, prev_year),
    ) if finding]
    changes = (
        ("school_disappeared", previous.codes - current.codes,
         "学校{code}在{year}年有报送，本年度缺失（撤并？）",
         "school {code} was reported in {year} but is missing now"),
        ("school_appeared", current.codes - previous.codes,
         "学校{code}为新出现的学校（{year}年无此校）", "school {code} is new since {year}"),
    )
    for check_id, codes, zh, en in changes:
        out.extend(Finding(check_id, "warning", column="school_code", value=code,
                           school_code=code, message_zh=zh.format(code=code, year=prev_year),
                           message_en=en.format(code=code, year=prev_year))
                   for code in sorted(codes, key=str))
    return out


def _totals_of(conn: psycopg.Connection, ids: list[int]) -> dict[int, Totals]:
    """_totals of many submissions in one scan of their rows (a night compares thousands)."""
    return {sid: Totals(int(students), int(teachers), frozenset(codes))
            for sid, students, teachers, codes in conn.execute(
                f"""SELECT submission_id, coalesce(sum({_STUDENTS}), 0),
                           coalesce(sum({_TEACHERS}), 0), array_agg(school_code)
                    FROM raw.school_rows WHERE submission_id = ANY(%s)
                    GROUP BY submission_id""", (ids,))}


def year_over_year(conn: psycopg.Connection, ids: list[int]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = defaultdict(list)
    bases = conn.execute(_BASES, {"ids": ids}).fetchall()
    totals = _totals_of(conn, sorted({i for b in bases for i in (b[0], b[2])}))
    empty = Totals(0, 0, frozenset())  # a submission without rows: as _totals gives it
    for submission_id, _year, prev_id, prev_year in bases:
        out[submission_id] += compare(totals.get(submission_id, empty),
                                      totals.get(prev_id, empty), prev_year)
    return {k: v for k, v in out.items() if v}


def year_over_year_of_rows(conn: psycopg.Connection, county: str, year: int,
                           rows: pd.DataFrame) -> list[Finding]:
    """The night's year-over-year warnings for rows not in the warehouse (`edustat check`)."""
    previous = conn.execute(_PREVIOUS.format(county="%(county)s", year="%(year)s"),
                            {"county": county, "year": year}).fetchone()
    if previous is None:
        return []
    return compare(totals_of_rows(rows), _totals(conn, previous[0]), previous[1])
