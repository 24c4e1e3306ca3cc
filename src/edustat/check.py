"""`edustat check FILE [--county CODE] [--year Y]`: the night's verdict on a file, now.

A county (or the engineer helping it) learns before 02:00 whether a file would pass, with
exactly the night's rules: the same reader (intake.readers.read_submission), the same folder
rule, the same GX suite run by the same function (validation.runner.validate_night) on the
same frame, and the same year-over-year warnings against the accepted history when a warehouse
is reachable (read-only). A file the night would reject gets the same rejection report (HTML +
CSV) in a folder the command names. Nothing is written to the warehouse or the landing folder.

Exit status: 0 the night would accept the file, 1 it would reject it, 2 usage or settings.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from edustat.config import Settings
from edustat.findings import Finding
from edustat.notices.wording import Bi

if TYPE_CHECKING:
    import pandas as pd

ACCEPT, REJECT, USAGE = 0, 1, 2
_COUNTY = re.compile(r"[0-9]{6}")


class UsageError(Exception):
    """A bad command line or setting: one bilingual line, exit 2."""


@dataclass
class Verdict:
    path: Path
    county: str
    school_year: int | None
    findings: list[Finding]
    history: Bi  # what the year-over-year comparison was made against, or why not
    notes: list[Bi] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.critical for f in self.findings)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    @property
    def accepted(self) -> bool:
        return self.errors == 0


def _night_frame(rows: pd.DataFrame, county: str, year: int | None) -> pd.DataFrame:
    """The reader's rows as the night validates them: what raw.school_rows gives back (text,
    NULL kept apart from ""), with the night's meta columns; submission id 0."""
    import pandas as pd

    from edustat.columns import KEYS
    from edustat.warehouse.load import ARROW_TEXT

    frame = pd.DataFrame({
        "submission_id": pd.Series([0] * len(rows), dtype="int64"),
        "county_folder": pd.Series([county] * len(rows), dtype=ARROW_TEXT),
        "row_number": rows["row_number"].astype("int64").to_numpy(),
        "file_school_year": pd.Series([year] * len(rows), dtype="float64"),
    })
    for key in KEYS:
        values = [None if v is None else str(v) for v in rows[key].tolist()]
        frame[key] = pd.Series(values, dtype=ARROW_TEXT)
    return frame


def judge(path: Path, county: str, settings: Settings, dsn: str | None) -> Verdict:
    """Read and validate `path` as the night would for `county`'s folder; write nothing."""
    from edustat import divisions
    from edustat.intake.readers import ReadLimits, file_year, read_submission
    from edustat.pipeline import _unknown_folder
    from edustat.validation.frame import build_frame
    from edustat.validation.runner import validate_night

    result = read_submission(path, county, ReadLimits.from_settings(settings))
    findings = list(result.findings)
    if county not in set(divisions.all_county_units()):
        findings.append(_unknown_folder(county))
    year = file_year(result.rows) if len(result.rows) else None
    # The night validates only files without a critical reading finding (pipeline.validate).
    if len(result.rows) and not any(f.critical for f in findings):
        units = divisions.province_counties(county[:2])
        with tempfile.TemporaryDirectory(prefix="edustat-check-") as scratch:
            night = validate_night(build_frame(_night_frame(result.rows, county, year)),
                                   Path(scratch) / "gx", units)
        findings += night.findings.get(0, [])
    verdict = Verdict(path, county, year, findings, Bi("", ""))
    verdict.history = _history(verdict, result.rows, dsn)
    return verdict


def _history(verdict: Verdict, rows: pd.DataFrame, dsn: str | None) -> Bi:
    if dsn is None:
        return Bi.of("check_no_warehouse")
    if verdict.school_year is None or not len(rows):
        return Bi.of("check_no_year")
    import psycopg

    from edustat.intake.landing import sha256_of
    from edustat.validation.history import year_over_year_of_rows

    # Read-only by the server's own rule, whatever the code below does.
    with psycopg.connect(dsn, connect_timeout=5,
                         options="-c default_transaction_read_only=on") as conn:
        verdict.findings += year_over_year_of_rows(conn, verdict.county, verdict.school_year,
                                                   rows)
        same = conn.execute(
            """SELECT submission_id, status FROM ops.submissions
               WHERE county_code = %s AND checksum = %s AND status <> 'duplicate'""",
            (verdict.county, sha256_of(verdict.path))).fetchone()
    if same:
        verdict.notes.append(Bi.of("check_duplicate", id=same[0], status=same[1]))
    return Bi.of("check_history")


def reachable_warehouse(settings: Settings) -> str | None:
    """The warehouse DSN if one answers now; never starts the embedded server."""
    import socket

    import psycopg

    from edustat.warehouse import embedded
    from edustat.warehouse.connection import resolve_dsn

    if not settings.warehouse_dsn:
        port_file = settings.pgdata / embedded.PORT_FILE
        if not port_file.is_file():
            return None
        try:
            socket.create_connection(("127.0.0.1", int(port_file.read_text())), 0.5).close()
        except (OSError, ValueError):
            return None
    dsn = resolve_dsn(settings)  # the embedded one is running: resolving does not start it
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("SELECT 1 FROM ops.submissions LIMIT 1")
    except psycopg.Error:
        return None
    return dsn


def write_rejection_report(verdict: Verdict, out: Path) -> tuple[Path, Path]:
    from edustat import divisions
    from edustat.intake.landing import sha256_of
    from edustat.intake.rejection_report import RejectedFile, write_files

    out.mkdir(parents=True, exist_ok=True)
    info = RejectedFile(
        submission_id="预检 check",  # type: ignore[arg-type]  # not a submission (yet)
        county_code=verdict.county, county_name=divisions.county_name(verdict.county),
        file_name=verdict.path.name, checksum=sha256_of(verdict.path),
        received_at=f"预检于 checked at {datetime.now().astimezone():%Y-%m-%d %H:%M}")
    # The check's folder is no site: the page is named for what it is, beside its CSV.
    return write_files(out, info, verdict.findings, page_name="rejection_report.html")


def _county_of(path: Path, given: str | None) -> str:
    if given:
        if not _COUNTY.fullmatch(given.strip()):
            raise UsageError(f"--county 应为 6 位县级代码：{given!r} / --county must be a "
                             f"6-digit county code: {given!r}")
        return given.strip()
    if _COUNTY.fullmatch(path.parent.name):
        return path.parent.name
    raise UsageError(
        "无法确定县区：请用 --county 指定 6 位县级代码（或把文件放在以代码命名的文件夹中） / "
        "cannot tell the county: pass --county with the 6-digit code (or keep the file in the "
        "folder named after it)")


def _default_out(verdict: Verdict) -> Path:
    stem = re.sub(r"[^\w.-]+", "_", verdict.path.stem)[:60] or "file"
    return Path.cwd() / "edustat-check" / f"{verdict.county}-{stem}"


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def run(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.notices.render import render_verdict

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"文件不存在：{path} / no such file: {path}")
    county = _county_of(path, args.county)
    out = Path(args.out) if args.out else None
    if out is not None and _inside(out, settings.landing):
        raise UsageError(f"报告文件夹不能在报送目录中：{out} / the report folder must not be "
                         f"inside the landing folder {settings.landing}")
    # GX draws progress bars (tqdm, on sys.stderr) whatever its settings say; the verdict is
    # what the reader came for.
    with contextlib.redirect_stderr(io.StringIO()):
        verdict = judge(path, county, settings, reachable_warehouse(settings))
    if args.year and verdict.school_year is not None and args.year != verdict.school_year:
        verdict.notes.append(Bi.of("check_other_year", year=verdict.school_year,
                                   asked=args.year))
    report: tuple[Path, Path] | None = None
    if not verdict.accepted:
        target = out or _default_out(verdict)
        if _inside(target, settings.landing):
            target = Path(tempfile.mkdtemp(prefix="edustat-check-"))
        report = write_rejection_report(verdict, target)
    print(render_verdict(verdict, report))
    return ACCEPT if verdict.accepted else REJECT
