"""What the e2e tests compare marts with: a fingerprint of every mart, and the independent CVs.

`assert_cvs_match(dsn)` recomputes every county's 2017 差异系数 from the current accepted rows in
raw with the test oracle (support/oracle.py: exact fractions from the spec, not from the
models) and compares them with marts.county_indicator_cv.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import psycopg

from support import oracle
from support.oracle import INDICATORS_2017, PER_100, split, weighted_cv


def fingerprint(dsn: str, schema: str = "marts") -> dict[str, str]:
    """A hash of every table's rows (in any order), by table."""
    with psycopg.connect(dsn) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " ORDER BY 1", (schema,))]
        return {t: hashlib.sha256("\n".join(sorted(
            r[0] for r in conn.execute(f'SELECT t::text FROM {schema}."{t}" t'))).encode()
        ).hexdigest() for t in tables}


def current_rows(dsn: str) -> list[dict]:
    """The raw rows of every county-year's newest accepted submission."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("""
            SELECT r.* FROM raw.school_rows r
            JOIN (SELECT DISTINCT ON (county_code, school_year) submission_id
                  FROM ops.submissions WHERE status = 'accepted'
                  ORDER BY county_code, school_year, received_at DESC, submission_id DESC) c
              USING (submission_id)""")
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def close(a: object, b: Fraction | None) -> bool:
    """Within 1e-9 relative error (absolute around 0), NULL only with NULL."""
    if a is None or b is None:
        return a is None and b is None
    return abs(Fraction(str(a)) - b) <= Fraction(1, 10**9) * max(1, abs(b))


def county_cvs(rows: list[dict]) -> dict[tuple, dict]:
    """(school_year, county_code, section, indicator) -> schools, students, mean, std, cv of
    the 2017 indicators, over the in-scope sections (oracle.split, oracle.weighted_cv)."""
    groups: dict[tuple, list[oracle.Section]] = {}
    for row in rows:
        year, county = int(row["school_year"]), str(row["county_code"])
        for s in split(year, county, row):
            if s.in_scope:
                groups.setdefault((year, county, s.section), []).append(s)
    result = {}
    for (year, county, section), sections in groups.items():
        for k in INDICATORS_2017:
            mean, sd, cv = weighted_cv([(s.students, s.amounts[k]) for s in sections],
                                       k in PER_100)
            result[(year, county, section, k)] = {
                "schools": len(sections), "students": sum(s.students for s in sections),
                "county_value": mean, "std_dev": sd, "cv": cv}
    return result


def assert_cvs_match(dsn: str) -> None:
    expected = county_cvs(current_rows(dsn))
    with psycopg.connect(dsn) as conn:
        got = {(r[0], r[1], r[2], r[3]): r[4:] for r in conn.execute(
            """SELECT school_year, county_code, section, indicator, schools, students,
                      county_value, std_dev, cv
               FROM marts.county_indicator_cv WHERE method = '2017'
                 AND indicator <> 'composite'""")}
    assert set(got) == set(expected)
    for key, exp in expected.items():
        schools, students, value, std, cv = got[key]
        assert schools == exp["schools"], key
        assert students == exp["students"], key
        assert close(value, exp["county_value"]), key
        assert close(std, exp["std_dev"]), key
        assert close(cv, exp["cv"]), key
