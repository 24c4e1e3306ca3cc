"""Downstream reports built from the marts: provincial HTML report, county scorecards, Excel.

Call `build_reports(dsn, out_dir, years=None, links=None, counties=None)`; see build.py for the
layout and for rebuilding only what changed, excel.py for the workbooks of a national year.
"""

from edustat.reports.build import ReportsResult, build_reports

__all__ = ["ReportsResult", "build_reports"]
