"""Downstream reports built from the marts: provincial HTML report, county scorecards, Excel, PDF.

Call `build_reports(dsn, out_dir, years=None, links=None, counties=None, run_id=None)`; see
build.py for the layout and for rebuilding only what changed, excel.py for the workbooks of a
national year. Imported lazily: `edustat.reports.labels` (the code labels notices use) must not
pull in Jinja, psycopg or the browser driver.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NoDataForYears", "ReportsResult", "build_reports", "require_data"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from edustat.reports import build

        return getattr(build, name)
    raise AttributeError(name)
