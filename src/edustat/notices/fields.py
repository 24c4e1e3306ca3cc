"""The machine-readable copy of a notice, for JSON webhooks (added to the payload as "edustat").

Built from the same view model as the text, so a bot and a person read the same facts.
"""

from __future__ import annotations

from typing import Any

from edustat.divisions import county_name
from edustat.notices.model import CountyView, DigestView, FileView, OwedGroup
from edustat.notices.status import Owed

# Checks per file in the JSON: enough for a bot, bounded for a national night.
FIELD_CHECKS = 20


def file_fields(f: FileView, with_checks: bool = True) -> dict[str, Any]:
    shown = f.checks[:FIELD_CHECKS] if with_checks else ()
    return {
        "submission_id": f.submission_id,
        "county_code": f.county_code,
        "county_name": county_name(f.county_code),
        "school_year": f.school_year,
        "file_name": f.file_name,
        "status": f.status,
        "errors": f.errors,
        "warnings": f.warnings,
        "schools": f.schools,
        "rejection_reason": f.reason,
        "held_reason": f.held_reason,
        "report": f.report,
        "replaced_submission_id": f.replaced_submission_id,
        "checks_total": len(f.checks),
        "checks": [
            {
                "check_id": c.check_id,
                "severity": c.severity,
                "column": c.column,
                "subject": c.subject,
                "count": c.count,
                "examples": [{"row_number": row, "value": value} for row, value in c.examples],
                "description_zh": c.describe.zh if c.describe else None,
                "description_en": c.describe.en if c.describe else None,
            }
            for c in shown
        ],
    }


def _owed_groups(groups: tuple[OwedGroup, ...]) -> list[dict[str, Any]]:
    return [
        {"county_code": county, "county_name": county_name(county),
         "school_year": g.school_year, "deadline": g.deadline.isoformat(), "state": g.state}
        for g in groups for county in g.counties
    ]


def digest_fields(view: DigestView) -> dict[str, Any]:
    return {
        "kind": "run_digest" if view.scope is None else "region_digest",
        "scope": None if view.scope is None else {"zh": view.scope.zh, "en": view.scope.en},
        "run_id": view.run_id,
        "logical_day": view.day,
        "run_failed": view.run_failed,
        "report_url": view.report_link,
        "counts": {
            "accepted": len(view.accepted),
            "rejected": len(view.rejected),
            "held": len(view.held),
            "accepted_with_warnings": len(view.warned),
            "late": view.late_count,
            "duplicates": view.duplicates,
        },
        "rejected": [file_fields(f) for f in view.rejected],
        "held": [file_fields(f) for f in view.held],
        "warnings": [file_fields(f) for f in view.warned],
        # Their warnings are already under "warnings"; a national night accepts thousands.
        "accepted": [file_fields(f, with_checks=False) for f in view.accepted],
        "late": _owed_groups(view.late),
        "due": _owed_groups(view.due),
        "notes": [n.en for n in view.notes],
        "contacts_problems": [p.en for p in view.problems],
        "undelivered": [{"destination": u.destination, "error": u.error}
                        for u in view.undelivered],
    }


def _owed(items: tuple[Owed, ...]) -> list[dict[str, Any]]:
    return [{"school_year": o.school_year, "deadline": o.deadline.isoformat(),
             "state": o.state, "days_left": o.days_left} for o in items]


def county_fields(view: CountyView) -> dict[str, Any]:
    return {
        "kind": "county_notice" if view.files else "reminder",
        "county_code": view.county_code,
        "county_name": county_name(view.county_code),
        "run_id": view.run_id,
        "logical_day": view.day,
        "files": [file_fields(f) for f in view.files],
        "due": _owed(view.due),
        "late": _owed(view.late),
    }
