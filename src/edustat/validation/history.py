"""Year-over-year warnings against the county's last accepted year (never a rejection).

Annual data has no daily seasonality to learn from, so the checks are the edit checks
statistical offices use on annual returns: large swings in totals and schools that appear or
disappear. The comparison base is the newest accepted submission of the nearest earlier year.
"""

from __future__ import annotations

from collections import defaultdict

import psycopg

from edustat.findings import Finding

SWING = 0.5  # submission-format.md: "an enrolment change above 50 %"

_INT = "CASE WHEN {c} ~ '^[0-9]+$' THEN {c}::bigint ELSE 0 END"
_STUDENTS = " + ".join(_INT.format(c=c) for c in
                       ("primary_students", "junior_students", "senior_students"))
_TEACHERS = " + ".join(_INT.format(c=c) for c in ("primary_teachers", "junior_teachers"))

# The file's year is the one set when it was read (ops.submissions.school_year).
_BASES = """
SELECT cur.submission_id, cur.school_year, prev.submission_id, prev.school_year
FROM ops.submissions cur
CROSS JOIN LATERAL (
    SELECT s.submission_id, s.school_year FROM ops.submissions s
    WHERE s.county_code = cur.county_code AND s.status = 'accepted'
      AND s.school_year < cur.school_year
    ORDER BY s.school_year DESC, s.received_at DESC, s.submission_id DESC LIMIT 1
) prev
WHERE cur.submission_id = ANY(%(ids)s)
"""


def _totals(conn: psycopg.Connection, submission_id: int) -> tuple[int, int, set[str]]:
    students, teachers = conn.execute(
        f"SELECT coalesce(sum({_STUDENTS}), 0), coalesce(sum({_TEACHERS}), 0)"
        " FROM raw.school_rows WHERE submission_id = %s", (submission_id,)).fetchone()
    codes = {r[0] for r in conn.execute(
        "SELECT school_code FROM raw.school_rows WHERE submission_id = %s", (submission_id,))}
    return int(students), int(teachers), codes


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


def year_over_year(conn: psycopg.Connection, ids: list[int]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = defaultdict(list)
    for submission_id, _year, prev_id, prev_year in conn.execute(_BASES, {"ids": ids}):
        students, teachers, codes = _totals(conn, submission_id)
        p_students, p_teachers, p_codes = _totals(conn, prev_id)
        for finding in (
            _swing("enrolment_change", "在校生总数", "total enrolment", p_students, students,
                   prev_year),
            _swing("teachers_change", "专任教师总数", "total teachers", p_teachers, teachers,
                   prev_year),
        ):
            if finding:
                out[submission_id].append(finding)
        for code in sorted(p_codes - codes):
            out[submission_id].append(Finding(
                "school_disappeared", "warning", column="school_code", value=code,
                school_code=code,
                message_zh=f"学校{code}在{prev_year}年有报送，本年度缺失（撤并？）",
                message_en=f"school {code} was reported in {prev_year} but is missing now",
            ))
        for code in sorted(codes - p_codes):
            out[submission_id].append(Finding(
                "school_appeared", "warning", column="school_code", value=code,
                school_code=code,
                message_zh=f"学校{code}为新出现的学校（{prev_year}年无此校）",
                message_en=f"school {code} is new since {prev_year}",
            ))
    return dict(out)
