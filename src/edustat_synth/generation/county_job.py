"""Everything for one county: simulate its schools, derive each year's rows, add the planned
faults or oddity to the latest year, write the files. Runs in a worker process at national scale,
so it takes and returns plain picklable values and depends on nothing but its arguments.
"""

from __future__ import annotations

import os
import random
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edustat_synth.generation.counties import CountyUnit, make_profile
from edustat_synth.generation.faults import (
    FaultContext,
    InjectedFault,
    inject_faults,
    inject_oddity,
    locate,
)
from edustat_synth.generation.records import Record, school_record
from edustat_synth.generation.schools import County
from edustat_synth.generation.styles import Style, file_name
from edustat_synth.generation.writers import write_file


@dataclass(frozen=True)
class CountyJob:
    unit: CountyUnit
    style: Style
    seed: int
    years: tuple[int, ...]
    out: Path
    fault_count: int  # faults in the latest year's file; 0 = a clean county
    oddity: bool  # a warnings-only oddity in the latest year's file
    neighbour: str  # the county code a careless row borrows


@dataclass(frozen=True)
class FileResult:
    county_code: str
    year: int
    path: Path
    rows: int
    schools: int
    findings: tuple[InjectedFault, ...]


def _sorted(records: list[Record], order: str) -> list[Record]:
    if order == "type":
        return sorted(records, key=lambda r: (r["school_type"], r["urban_rural"],
                                              r["school_code"]))
    if order == "name":
        return sorted(records, key=lambda r: (r["school_name"], r["school_code"]))
    return sorted(records, key=lambda r: r["school_code"])


def arrived_at(county_code: str, year: int) -> float:
    """When the county's file for `year` arrived, as its mtime: between 15 January and
    14 February of the next year (reports are due by the end of March), never in the future.

    The platform takes a landing file only once it has been left alone for a while
    (EDUSTAT_SETTLE_SECONDS, edustat.intake.landing): a generated file stands for one a county
    sent earlier, so it must look settled to the night that reads it.
    """
    day = zlib.crc32(f"{county_code}:{year}".encode()) % 31
    when = datetime(year + 1, 1, 15, 9, tzinfo=UTC) + timedelta(days=day)
    return min(when.timestamp(), time.time() - 3600)


def run_county(job: CountyJob) -> list[FileResult]:
    unit, style = job.unit, job.style
    folder = job.out / unit.code
    folder.mkdir(parents=True, exist_ok=True)
    county = County(unit, make_profile(unit, job.seed), job.seed)
    latest = max(job.years)
    results: list[FileResult] = []
    for year, schools in county.years(list(job.years)):
        records = _sorted([school_record(s, year, unit.code) for s in schools], style.row_order)
        schools_count = len(records)
        ctx = FaultContext(unit.code, job.neighbour, year,
                           random.Random(f"edustat:{job.seed}:faults:{unit.code}:{year}"))
        pending = []
        if year == latest and job.fault_count:
            pending = inject_faults(records, ctx, job.fault_count)
        elif year == latest and job.oddity:
            pending = inject_oddity(records, ctx)
        path = folder / file_name(style, unit, year)
        render_rng = random.Random(f"edustat:{job.seed}:render:{unit.code}:{year}")
        sheet_rows = write_file(path, unit, year, records, style, render_rng, ctx.dropped)
        stamp = arrived_at(unit.code, year)
        os.utime(path, (stamp, stamp))
        results.append(FileResult(
            county_code=unit.code, year=year, path=path, rows=len(records),
            schools=schools_count,
            findings=tuple(locate(p, unit.code, year, path, sheet_rows) for p in pending),
        ))
    return results
