"""No value an accepted file can hold fails the marts build (issue: reliability, item 1).

Protects: arithmetic in the models overflowing for large but legal values (图书 × 在校生 of a big
school in int4 failed the whole night with `integer out of range`). Staging casts counts of at
most 9 digits and amounts of at most 15+15 digits (macros/staging_casts.sql); the validation
bounds (rules.BOUNDS) keep accepted values far below. Here every count of a school is the
largest staging casts, every amount the largest numeric it reads, and the full build — models
and their data tests — must pass, with the sums exact.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg

from edustat.columns import COLUMNS
from edustat.transform import dbt_build
from fixtures.dbt.warehouse_rows import WarehouseWriter, school

LARGEST_COUNT = 999_999_999
# As text: 30 significant digits are more than Python's default decimal context keeps.
LARGEST_AMOUNT = "999999999999999.999999999999999"


def test_the_largest_values_staging_reads_build_every_mart(warehouse: str,
                                                           tmp_path: Path) -> None:
    counts = {c.key: LARGEST_COUNT for c in COLUMNS
              if c.kind == "int" and c.key != "school_year"}
    amounts = {c.key: LARGEST_AMOUNT for c in COLUMNS
               if c.kind == "num" and c.max_value is None}
    giant = school("3463000001", "巨型十二年一贯制学校", "345", **counts, **amounts)
    ordinary = school("2163000002", "普通小学", "211", primary=400)
    WarehouseWriter(warehouse).submit("630102", 2025, [giant, ordinary])
    result = dbt_build(warehouse, tmp_path / "dbt")
    assert result.ok, result.summary() + "\n" + result.output[-3000:]
    with psycopg.connect(warehouse) as conn:
        students, books = conn.execute(
            """SELECT students, sum(books_per_student * students) OVER ()
               FROM marts.school_indicators
               WHERE school_code = '3463000001' AND section = 'primary'""").fetchone()
        region = conn.execute(
            "SELECT students FROM marts.region_summary WHERE region_code = '630102'"
            " AND school_year = 2025").fetchone()[0]
    assert students == LARGEST_COUNT
    # A third of the school's books go to its primary section (a third of its students).
    assert abs(Decimal(books) - Decimal(LARGEST_COUNT) / 3) < Decimal("1e-6")
    assert region == 3 * LARGEST_COUNT + 400
