"""What tonight's dbt build must redo: every county-year, or only those the night changed.

A national warehouse holds ~2,900 counties × every year; a night where one county resubmits
must not rebuild them all. The scope is the county-years of every decision the published marts
do not reflect yet (a night whose build failed leaves its county-years pending for the next
one, until a published build marks them, `mark_published`); the figures of later years that
read a changed year Y are redone too, and nothing else of those years: 初中三年巩固率 of Y+3
and 九年巩固率 of Y+9 read Y's intake, the schools opened and closed in Y+1 read Y's schools
(docs/methodology.md#retention); the var calls these follow-on county-years `retention_*`.
It is handed to dbt as var('build_scope') (dbt_project/macros/build_scope.sql).

The build is full instead when nothing is published yet, when the dbt project or its vars
changed since the published marts were built (their fingerprint is the `marts` schema's
comment), or when every year with data is in scope anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

# How many years later a figure reads year Y: schools opened/closed (Y+1 against Y), 初中三年
# 巩固率 (graduates of Y+3 over the junior intake of Y), 九年巩固率 (Y+9 over the primary
# intake of Y).
FOLLOW_ON_LAGS = (1, 3, 9)
# From this share of a year's counties on, the whole year is the scope: one `school_year in`
# predicate instead of thousands of keys, and the same rows to rebuild.
WHOLE_YEAR_SHARE = 0.25
_FINGERPRINT_PREFIX = "edustat-build:"
# Files of the dbt project that shape the marts (target/ and logs/ are dbt's own output).
_PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "tests")


@dataclass(frozen=True)
class BuildScope:
    full: bool
    reason: str
    years: tuple[int, ...] = ()
    keys: tuple[tuple[str, int], ...] = ()
    # County-years whose follow-on figures (and only those) read a changed earlier year.
    retention_years: tuple[int, ...] = ()
    retention_keys: tuple[tuple[str, int], ...] = ()
    # The decisions this build brings into the marts (mark_published once they are published).
    submissions: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.full or self.years or self.keys)

    def dbt_var(self) -> dict[str, Any] | None:
        if self.full:
            return None
        return {"years": list(self.years), "keys": [[c, y] for c, y in self.keys],
                "retention_years": list(self.retention_years),
                "retention_keys": [[c, y] for c, y in self.retention_keys]}

    def describe(self) -> str:
        if self.full:
            return f"full build ({self.reason})"
        return (f"incremental build: years {list(self.years)} and {len(self.keys)} county-years,"
                f" retention of {list(self.retention_years)} and {len(self.retention_keys)} more"
                f" ({self.reason})")


def project_fingerprint(project_dir: Path, dbt_vars: dict[str, Any]) -> str:
    """Hash of everything that decides what the marts contain, save the data."""
    digest = hashlib.sha256()
    for part in _PROJECT_PARTS:
        root = project_dir / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else (
            [root] if root.is_file() else [])
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(path.read_bytes())
    digest.update(json.dumps(dbt_vars, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def published_fingerprint(conn: psycopg.Connection) -> str | None:
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'marts'"
    ).fetchone()
    comment = row[0] if row else None
    if not comment or not comment.startswith(_FINGERPRINT_PREFIX):
        return None
    return comment.removeprefix(_FINGERPRINT_PREFIX)


def fingerprint_comment(fingerprint: str) -> str:
    return _FINGERPRINT_PREFIX + fingerprint


def _pending(conn: psycopg.Connection) -> dict[int, tuple[str, int]]:
    """Decisions the published marts do not reflect: made in a run whose own build was not
    published, and not published by a later run since. submission id -> county-year."""
    rows = conn.execute(
        """SELECT s.submission_id, s.county_code, s.school_year
           FROM ops.submissions s
           LEFT JOIN ops.runs r ON r.run_id = s.decided_run_id
           WHERE s.decided_run_id IS NOT NULL AND s.status NOT IN ('duplicate', 'received')
             AND s.school_year IS NOT NULL AND s.published_run_id IS NULL
             AND r.dbt_status IS DISTINCT FROM 'success'""").fetchall()
    return {int(i): (str(c), int(y)) for i, c, y in rows}


def mark_published(conn: psycopg.Connection, run_id: str, scope: BuildScope) -> None:
    """The decisions of `scope` are in the published marts now: no longer pending."""
    conn.execute("UPDATE ops.submissions SET published_run_id = %s"
                 " WHERE submission_id = ANY(%s) AND published_run_id IS NULL",
                 (run_id, list(scope.submissions)))


def _counties_by_year(conn: psycopg.Connection) -> dict[int, set[str]]:
    by_year: dict[int, set[str]] = defaultdict(set)
    for county, year in conn.execute(
            "SELECT DISTINCT county_code, school_year FROM ops.submissions"
            " WHERE status = 'accepted' AND school_year IS NOT NULL"):
        by_year[int(year)].add(str(county))
    return by_year


def plan(conn: psycopg.Connection, fingerprint: str) -> BuildScope:
    """The scope of tonight's build; `fingerprint` is project_fingerprint() of this build."""
    pending = _pending(conn)
    submissions = tuple(sorted(pending))
    published = published_fingerprint(conn)
    if published is None:
        return BuildScope(True, "no published marts with a build fingerprint",
                          submissions=submissions)
    if published != fingerprint:
        return BuildScope(True, "the dbt project or its vars changed since the last build",
                          submissions=submissions)
    by_year = _counties_by_year(conn)
    changed = set(pending.values())
    years, keys = _collapse(changed, by_year)
    if by_year and set(by_year) <= set(years):
        return BuildScope(True, "every year with data changed", submissions=submissions)
    # Figures of Y+1, Y+3 and Y+9 follow Y; only where that year has data, and not where it is
    # rebuilt anyway.
    dependent = {(c, y + lag) for c, y in changed for lag in FOLLOW_ON_LAGS
                 if c in by_year.get(y + lag, set())}
    dependent = {(c, y) for c, y in dependent if (c, y) not in changed and y not in years}
    retention_years = tuple(sorted({y + lag for y in years for lag in FOLLOW_ON_LAGS
                                    if y + lag in by_year and y + lag not in years}))
    retention_keys = tuple(sorted((c, y) for c, y in dependent if y not in retention_years))
    return BuildScope(False, f"{len(changed)} changed, {len(dependent)} retention dependents",
                      years=years, keys=keys, retention_years=retention_years,
                      retention_keys=retention_keys, submissions=submissions)


def _collapse(keys: set[tuple[str, int]], by_year: dict[int, set[str]]
              ) -> tuple[tuple[int, ...], tuple[tuple[str, int], ...]]:
    """(whole years, remaining keys): a year where enough counties changed is taken whole."""
    per_year: dict[int, set[str]] = defaultdict(set)
    for county, year in keys:
        per_year[year].add(county)
    whole = {y for y, counties in per_year.items()
             if len(counties) >= WHOLE_YEAR_SHARE * max(len(by_year.get(y, ())), 1)}
    rest = tuple(sorted((c, y) for c, y in keys if y not in whole))
    return tuple(sorted(whole)), rest
