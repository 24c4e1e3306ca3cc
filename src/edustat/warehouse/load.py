"""Bulk moves between Python and the warehouse: COPY in, one query out."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

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


# COPY's text format: backslash escapes for the four characters that would end a field or row.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
RAW_COLUMNS = (*RAW_META, *KEYS, "extra")


def _copy_field(value: Any) -> str:
    return "\\N" if value is None else str(value).translate(_COPY_ESCAPES)


def school_rows_payload(meta: dict[str, Any], rows: pd.DataFrame) -> bytes:
    """One submission's canonical rows as COPY text for raw.school_rows (RAW_COLUMNS order).

    Built where the file was read (a worker process on a national night), so the process that
    holds the connection only streams bytes.
    """
    head = "\t".join(_copy_field(meta[k]) for k in RAW_META[:-1])
    columns = [rows["row_number"].astype("int64").tolist(),
               *(rows[k].tolist() for k in KEYS),
               rows["extra"].tolist() if "extra" in rows else [None] * len(rows)]
    lines = [head + "\t" + "\t".join(_copy_field(v) for v in values)
             for values in zip(*columns, strict=True)]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def copy_school_rows(conn: psycopg.Connection, payload: bytes) -> None:
    """COPY a school_rows_payload into raw.school_rows."""
    with conn.cursor().copy(
            f"COPY raw.school_rows ({', '.join(RAW_COLUMNS)}) FROM STDIN") as copy:
        copy.write(payload)


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


# pandas' `str` dtype on Arrow storage (missing = NaN).
ARROW_TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def read_text_frame(conn: psycopg.Connection, query: str, params: Sequence[Any],
                    columns: Sequence[str], int_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Rows of `query` as Arrow-backed text columns (int64 for `int_columns`), through COPY.

    A national night's rows (270,000 × 40) arrive in under a second this way; fetching tuples
    into Python objects and converting them afterwards takes three.
    """
    ints = set(int_columns)
    buffer = io.BytesIO()
    with conn.cursor().copy(f"COPY ({query}) TO STDOUT (FORMAT csv)", params) as copy:
        for chunk in copy:
            buffer.write(chunk)
    if not buffer.tell():  # no rows: Arrow's CSV reader refuses an empty input
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c in ints else ARROW_TEXT)
                             for c in columns})
    buffer.seek(0)
    table = pa_csv.read_csv(
        buffer,
        read_options=pa_csv.ReadOptions(column_names=list(columns)),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.int64() if c in ints else pa.string() for c in columns},
            # COPY writes NULL as an empty field and an empty string as "": keep them apart.
            strings_can_be_null=True, quoted_strings_can_be_null=False),
    )
    return table.to_pandas(types_mapper={pa.string(): ARROW_TEXT}.get)


def extra_json(values: dict[str, Any]) -> str | None:
    return json.dumps(values, ensure_ascii=False) if values else None
