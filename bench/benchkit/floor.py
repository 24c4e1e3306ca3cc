"""The floor: what the night's reading and loading would cost with nothing but the essentials.

- COPY floor: the night's rows as they landed in raw.school_rows (same columns, same values),
  exported once to one CSV file, then streamed into a plain table of the same shape (same
  columns, types, primary key) with COPY … FROM STDIN — the fastest way rows get into
  Postgres from a client, and the same path (client → server) the night's loader takes.
- Read floor: the same files read into Python rows by the fastest readers at hand —
  python-calamine for xlsx (`CalamineWorkbook…to_python()`), the csv module for CSV after the
  same UTF-8/GB18030 decode — with no header logic, normalisation or guards. Timed with one
  process and with two (the night's read step uses a two-process pool on two cores).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from python_calamine import CalamineWorkbook

from edustat.columns import KEYS
from edustat.warehouse.load import RAW_META

RAW_COLUMNS = (*RAW_META, *KEYS, "extra")
FLOOR_SCHEMA = "bench_floor"
_ZIP = b"PK\x03\x04"
_BLOCK = 1 << 20


@dataclass
class CopyFloor:
    rows: int
    csv_bytes: int
    seconds: float  # median
    runs: list[float]


@dataclass
class ReadFloor:
    files: int
    xlsx: int
    csv: int
    cells: int
    rows: int
    seconds: float  # median
    processes: int
    runs: list[float]


def export_rows(dsn: str, submission_ids: Sequence[int], target: Path) -> tuple[int, int]:
    """The submissions' raw rows → one CSV file (untimed); (rows, bytes)."""
    columns = ", ".join(RAW_COLUMNS)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, target.open("wb") as out:
        rows = cur.execute("SELECT count(*) FROM raw.school_rows WHERE submission_id = ANY(%s)",
                           (list(submission_ids),)).fetchone()[0]
        ids = ",".join(str(int(i)) for i in submission_ids) or "NULL"
        with cur.copy(f"COPY (SELECT {columns} FROM raw.school_rows WHERE submission_id IN"
                      f" ({ids}) ORDER BY submission_id, row_number) TO STDOUT (FORMAT csv)"
                      ) as copy:
            for block in copy:
                out.write(block)
    return rows, target.stat().st_size


def copy_floor(dsn: str, csv_file: Path, runs: int = 3) -> CopyFloor:
    """Median seconds of COPY-ing `csv_file` into a fresh table shaped like raw.school_rows."""
    timings = []
    loaded = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {FLOOR_SCHEMA}")
        try:
            for _ in range(runs):
                conn.execute(f"DROP TABLE IF EXISTS {FLOOR_SCHEMA}.raw_floor")
                conn.execute(f"CREATE TABLE {FLOOR_SCHEMA}.raw_floor"
                             " (LIKE raw.school_rows INCLUDING ALL)")
                started = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur, csv_file.open("rb") as src, \
                        cur.copy(f"COPY {FLOOR_SCHEMA}.raw_floor ({', '.join(RAW_COLUMNS)})"
                                 " FROM STDIN (FORMAT csv)") as copy:
                    while block := src.read(_BLOCK):
                        copy.write(block)
                timings.append(time.perf_counter() - started)
                loaded = conn.execute(f"SELECT count(*) FROM {FLOOR_SCHEMA}.raw_floor"
                                      ).fetchone()[0]
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {FLOOR_SCHEMA} CASCADE")
    return CopyFloor(loaded, csv_file.stat().st_size, statistics.median(timings), timings)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_one(path: str) -> tuple[str, int, int]:
    """(format, rows, cells) of one file read the fastest way; format by content, as ours."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == _ZIP:
        grid = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
        return "xlsx", len(grid), sum(len(r) for r in grid)
    with open(path, "rb") as fh:
        rows = list(csv.reader(io.StringIO(_decode(fh.read()), newline="")))
    return "csv", len(rows), sum(len(r) for r in rows)


def _read_all(paths: list[str], processes: int) -> list[tuple[str, int, int]]:
    if processes <= 1:
        return [read_one(p) for p in paths]
    # fork and chunks of 8, like the night's read pool.
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return pool.map(read_one, paths, chunksize=8)


def read_floor(paths: Sequence[Path], processes: int = 1, runs: int = 3) -> ReadFloor:
    names = [str(p) for p in paths]
    timings = []
    results: list[tuple[str, int, int]] = []
    for _ in range(runs):
        started = time.perf_counter()
        results = _read_all(names, processes)
        timings.append(time.perf_counter() - started)
    return ReadFloor(
        files=len(results), xlsx=sum(r[0] == "xlsx" for r in results),
        csv=sum(r[0] == "csv" for r in results), rows=sum(r[1] for r in results),
        cells=sum(r[2] for r in results), seconds=statistics.median(timings),
        processes=processes, runs=timings,
    )
