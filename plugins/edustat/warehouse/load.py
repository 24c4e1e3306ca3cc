"""Bulk moves between Python and the warehouse: COPY in, one query out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import psycopg

from edustat.columns import KEYS
from edustat.findings import Finding

RAW_META = ("submission_id", "county_folder", "file_name", "checksum", "received_at",
            "row_number")


def copy_rows(conn: psycopg.Connection, table: str, columns: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def copy_school_rows(conn: psycopg.Connection, meta: dict[str, Any], rows: pd.DataFrame) -> int:
    """COPY one submission's canonical rows into raw.school_rows (load metadata on each row)."""
    columns = [*RAW_META, *KEYS, "extra"]
    head = [meta[k] for k in RAW_META[:-1]]

    def gen() -> Iterable[list[Any]]:
        for record in rows.itertuples(index=False):
            values = record._asdict()
            yield [*head, int(values["row_number"]), *(values[k] for k in KEYS),
                   values.get("extra")]

    return copy_rows(conn, "raw.school_rows", columns, gen())


def write_findings(conn: psycopg.Connection, submission_id: int, run_id: str, stage: str,
                   findings: Iterable[Finding]) -> int:
    columns = ("submission_id", "run_id", "stage", "check_id", "severity", "column_name",
               "row_number", "school_code", "value", "failing_count", "message_zh",
               "message_en")
    rows = (
        (submission_id, run_id, stage, f.check_id, f.severity, f.column, f.row_number,
         f.school_code, f.value, f.failing_count, f.message_zh, f.message_en)
        for f in findings
    )
    return copy_rows(conn, "ops.validation_results", columns, rows)


def read_frame(conn: psycopg.Connection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description or []]
        return pd.DataFrame(cur.fetchall(), columns=names, dtype=object)


def extra_json(values: dict[str, Any]) -> str | None:
    return json.dumps(values, ensure_ascii=False) if values else None
