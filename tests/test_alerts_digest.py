"""What the nightly alert digest says, built from hand-made ops rows in a real warehouse.

Protects: rejected counties named with code, failing check, summed count, examples and report
link; warnings; late counties judged on the run's logical date (never the wall clock) with the
configurable deadline; silence when nothing is wrong unless EDUSTAT_ALERT_ALWAYS; the compact
body fitting WeCom's 2 KB; the structured fields for the JSON webhook.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from edustat.alerting.deadline import deadline_for, is_past_deadline, parse_deadline
from edustat.alerting.text import report_link
from edustat.alerts import build_digest
from edustat.config import Settings, load_settings
from edustat.divisions import province_counties
from edustat.rules import RULES

RUN = "scheduled__2026-04-02T00:00:00+00:00"
EARLIER = "scheduled__2026-01-10T00:00:00+00:00"
QINGHAI = province_counties("63")
# The rules' own wording, from rules.py: the digest describes a failing check with it.
RULE_ZH = {r.rule_id: r.zh for r in RULES}
RULE_EN = {r.rule_id: r.en for r in RULES}


def _settings(tmp_path: Path, **changes: object) -> Settings:
    base = load_settings({"EDUSTAT_HOME": str(tmp_path), "EDUSTAT_MISSING_DEADLINE": "03-31"})
    return dataclasses.replace(base, **changes)


def _run(conn: psycopg.Connection, run_id: str, logical: str, status: str = "success") -> None:
    conn.execute(
        "INSERT INTO ops.runs (run_id, logical_date, status) VALUES (%s, %s, %s)",
        (run_id, logical, status),
    )


def _submission(
    conn: psycopg.Connection,
    county: str,
    year: int | None,
    status: str,
    run_id: str,
    *,
    errors: int = 0,
    warnings: int = 0,
    reason: str | None = None,
    report_path: str | None = None,
) -> int:
    return conn.execute(
        """INSERT INTO ops.submissions (county_code, school_year, file_name, landing_path,
               checksum, size_bytes, received_at, status, errors, warnings, rejection_reason,
               report_path, run_id, decided_run_id)
           VALUES (%s, %s, %s, %s, md5(random()::text), 1000, now(), %s, %s, %s, %s, %s, %s, %s)
           RETURNING submission_id""",
        (county, year, f"{county}_{year}.xlsx", f"/landing/{county}/{county}_{year}.xlsx",
         status, errors, warnings, reason, report_path, run_id,
         run_id if status in ("accepted", "rejected") else None),
    ).fetchone()[0]


def _result(
    conn: psycopg.Connection,
    submission_id: int,
    run_id: str,
    check_id: str,
    severity: str,
    column: str | None,
    row: int | None,
    value: str | None,
    count: int = 1,
    stage: str = "validate",
) -> None:
    conn.execute(
        """INSERT INTO ops.validation_results (submission_id, run_id, stage, check_id,
               severity, column_name, row_number, value, failing_count, message_zh, message_en)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (submission_id, run_id, stage, check_id, severity, column, row, value, count,
         f"第{row}行 {check_id} 未通过", f"row {row} fails {check_id}"),
    )


@pytest.fixture
def night(warehouse: str, tmp_path: Path) -> dict[str, int]:
    """One night in Qinghai (45 county units), deadline 03-31, logical date 2026-04-02.

    - 630103 城中区: rejected tonight; duplicate school codes on rows 9, 5, 12 plus one
      aggregate finding of 4 (count 7), a bandwidth range error, one warning; a report.
    - 630104 城西区: accepted tonight with one warning on 2 rows, and a year-over-year
      warning whose check is not in rules.py.
    - 630105 城北区: accepted tonight, clean.  630102 城东区: accepted in January.
    - 630107 (not a division): rejected tonight, unreadable, no findings, only a reason.
    - 630121 大通: rejected in January, nothing since (late: only rejected files).
    - 630106 湟中区: an unreadable file (no year) rejected in January (late: only rejected).
    - 630123 湟源县: a file received tonight, not decided yet (no year): not late.
    - one duplicate file tonight. The other 38 counties sent nothing (late: missing).
    """
    ids: dict[str, int] = {}
    with psycopg.connect(warehouse, autocommit=True) as conn:
        _run(conn, EARLIER, "2026-01-10T00:00:00+00:00")
        _run(conn, RUN, "2026-04-02T00:00:00+00:00")
        report = tmp_path / "reports" / "rejections" / "630103-2025.html"
        ids["rejected"] = sid = _submission(
            conn, "630103", 2025, "rejected", RUN, errors=8, warnings=1,
            reason="学校标识码重复（共7处）", report_path=str(report),
        )
        for row, value in ((9, "6301030009"), (5, "6301030005"), (12, "6301030012")):
            _result(conn, sid, RUN, "school_code_unique", "critical", "school_code", row, value)
        _result(conn, sid, RUN, "school_code_unique", "critical", "school_code", 30, "6301030030",
                count=4)
        _result(conn, sid, RUN, "range__bandwidth_mbps", "critical", "bandwidth_mbps", 7,
                "20000")
        _result(conn, sid, RUN, "multimedia_within_classrooms", "warning",
                "multimedia_classrooms", 3, "14")
        ids["warned"] = wid = _submission(conn, "630104", 2025, "accepted", RUN, warnings=3)
        _result(conn, wid, RUN, "multimedia_within_classrooms", "warning",
                "multimedia_classrooms", 4, "31")
        _result(conn, wid, RUN, "multimedia_within_classrooms", "warning",
                "multimedia_classrooms", 8, "22")
        _result(conn, wid, RUN, "yoy_students", "warning", None, None, None, stage="history")
        ids["clean"] = _submission(conn, "630105", 2025, "accepted", RUN)
        ids["unreadable"] = _submission(conn, "630107", None, "rejected", RUN, errors=1,
                                        reason="文件无法读取：不是有效的工作簿")
        _submission(conn, "630105", 2025, "duplicate", RUN)
        _submission(conn, "630102", 2025, "accepted", EARLIER)
        _submission(conn, "630121", 2025, "rejected", EARLIER, errors=3, reason="缺少必填列")
        _submission(conn, "630106", None, "rejected", EARLIER, errors=1, reason="文件无法读取")
        _submission(conn, "630123", None, "received", RUN)
    return ids


def test_rejected_county_is_named_with_check_count_examples_and_report(
    warehouse: str, night: dict[str, int], tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    digest = build_digest(
        warehouse, RUN, settings, "https://edustat.example.org/reports/index.html", QINGHAI, [2025]
    )
    assert digest is not None
    assert digest.severity == "failure"
    assert "城中区（630103）" in digest.title
    zh, en = digest.body.split("—— English ——")
    # Chinese first, English below, both naming the county with its code.
    assert "城中区（630103） 2025年度" in zh
    assert "城中区 (630103), school year 2025" in en
    # 3 single rows + one aggregate finding of 4 = 7; examples are the first rows by number.
    assert (
        f"- 学校标识码 (school_code)：{RULE_ZH['school_code_unique']} — 7 处，"
        "例：第5行「6301030005」；第9行「6301030009」；第12行「6301030012」 [school_code_unique]"
    ) in zh
    assert (
        f"- 学校标识码 (school_code): {RULE_EN['school_code_unique']} — 7 failing, "
        'e.g. row 5 "6301030005"; row 9 "6301030009"; row 12 "6301030012" [school_code_unique]'
    ) in en
    assert (
        f"- 出口带宽(Mbps) (bandwidth_mbps)：{RULE_ZH['range__bandwidth_mbps']} — 1 处，"
        "例：第7行「20000」 [range__bandwidth_mbps]"
    ) in zh
    # The rejection report lies under EDUSTAT_HOME/reports, so it is linked beside index.html.
    assert "- 报告：https://edustat.example.org/reports/rejections/630103-2025.html" in zh
    assert "完整报告：https://edustat.example.org/reports/index.html" in zh
    # The biggest problem comes first in the county's block; errors before warnings.
    block = zh.split("城中区（630103） 2025年度")[1].split("\n\n【")[0]
    assert block.index("school_code_unique") < block.index("range__bandwidth_mbps")
    assert block.index("range__bandwidth_mbps") < block.index("multimedia_within_classrooms")
    # A file that could not be read has no findings: its reason is what the county reads.
    assert "未知区划（630107） 年度不明" in zh
    assert "- 退回原因：文件无法读取：不是有效的工作簿" in zh
    assert "- Rejected because: 文件无法读取：不是有效的工作簿" in en


def test_warnings_duplicates_and_counts(
    warehouse: str, night: dict[str, int], tmp_path: Path
) -> None:
    digest = build_digest(warehouse, RUN, _settings(tmp_path), None, QINGHAI, [2025])
    assert digest is not None
    zh = digest.body.split("—— English ——")[0]
    warned = zh.split("【已接收，但有警告：请县区核实】")[1].split("\n\n【")[0]
    assert "城西区（630104） 2025年度，文件「630104_2025.xlsx」：错误 0 条，警告 3 条" in warned
    assert (
        f"- 网络多媒体教室数(间) (multimedia_classrooms)："
        f"{RULE_ZH['multimedia_within_classrooms']} — 2 处，例：第4行「31」；第8行「22」"
    ) in warned
    # A check rules.py does not know is described by its first row's own message.
    assert "- yoy_students：第None行 yoy_students 未通过 — 1 处 [yoy_students]" in warned
    # 38 missing + 630121 and 630106 with only rejected files + 630103 rejected tonight.
    assert "本次：通过 2 个，退回 2 个，有警告 1 个，逾期未报 41 个，重复文件 1 个。" in zh
    assert "城北区（630105）" in zh.split("【已通过】")[1]
    assert digest.fields["counts"] == {
        "accepted": 2, "rejected": 2, "held": 0, "accepted_with_warnings": 1, "late": 41,
        "duplicates": 1,
    }
    rejected = {r["county_code"]: r for r in digest.fields["rejected"]}
    checks = rejected["630103"]["checks"]
    assert [(c["check_id"], c["count"]) for c in checks] == [
        ("school_code_unique", 7), ("range__bandwidth_mbps", 1),
        ("multimedia_within_classrooms", 1),
    ]
    assert [e["value"] for e in checks[0]["examples"]] == [
        "6301030005", "6301030009", "6301030012",
    ]
    assert rejected["630103"]["county_name"] == "城中区"
    # Accepted files are listed without their checks (the warned ones are under "warnings").
    accepted = {a["county_code"]: a for a in digest.fields["accepted"]}
    assert accepted["630104"]["checks"] == [] and accepted["630104"]["checks_total"] == 2
    assert [c["check_id"] for c in digest.fields["warnings"][0]["checks"]] == [
        "multimedia_within_classrooms", "yoy_students",
    ]


def test_late_counties_by_deadline_and_state(
    warehouse: str, night: dict[str, int], tmp_path: Path
) -> None:
    digest = build_digest(warehouse, RUN, _settings(tmp_path), None, QINGHAI, [2025, 2026])
    assert digest is not None
    late = {(x["county_code"], x["school_year"]): x for x in digest.fields["late"]}
    # 2026's deadline (2027-03-31) is far from this run: only 2025 can be late.
    assert {year for _, year in late} == {2025}
    # Something accepted for 2025, or a file still waiting for its decision.
    on_time = {"630102", "630104", "630105", "630123"}
    assert set(QINGHAI) - {county for county, _ in late} == on_time
    assert late[("630121", 2025)]["state"] == "rejected_only"
    assert late[("630106", 2025)]["state"] == "rejected_only"  # unreadable file, year unknown
    assert late[("630103", 2025)]["state"] == "rejected_only"
    assert late[("630202", 2025)] == {
        "county_code": "630202", "county_name": "乐都区", "school_year": 2025,
        "deadline": "2026-03-31", "state": "missing",
    }
    zh = digest.body.split("—— English ——")[0]
    assert "- 2025年度（截止 2026-03-31）未报送 38 个：" in zh
    assert "乐都区（630202）" in zh and "湟源县（630123）" not in zh
    assert "- 2025年度（截止 2026-03-31）报送均被退回 3 个：" in zh


def test_deadline_is_judged_on_the_logical_date_in_beijing(
    warehouse: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        # 2026-03-31 15:59 UTC is still 03-31 in Beijing: on time. 16:00 UTC is 04-01: late.
        _run(conn, "before", "2026-03-31T15:59:00+00:00")
        _run(conn, "after", "2026-03-31T16:00:00+00:00")
        # A backfill for a date long ago: 2025 was not due yet, whatever today's date is.
        _run(conn, "backfill", "2025-06-01T00:00:00+00:00")
    assert build_digest(warehouse, "before", settings, None, ["630103"], [2025]) is None
    assert build_digest(warehouse, "backfill", settings, None, ["630103"], [2025]) is None
    late = build_digest(warehouse, "after", settings, None, ["630103"], [2025])
    assert late is not None and late.severity == "warning"
    assert late.fields["late"] == [{
        "county_code": "630103", "county_name": "城中区", "school_year": 2025,
        "deadline": "2026-03-31", "state": "missing",
    }]
    # A later deadline in the settings moves the same run back to on time.
    later = dataclasses.replace(settings, missing_deadline="04-30")
    assert build_digest(warehouse, "after", later, None, ["630103"], [2025]) is None


def test_nothing_wrong_means_no_alert_unless_always(warehouse: str, tmp_path: Path) -> None:
    with psycopg.connect(warehouse, autocommit=True) as conn:
        _run(conn, RUN, "2026-04-02T00:00:00+00:00")
        _submission(conn, "630105", 2025, "accepted", RUN)
    assert build_digest(warehouse, RUN, _settings(tmp_path), None, ["630105"], [2025]) is None
    digest = build_digest(
        warehouse, RUN, _settings(tmp_path, alert_always=True), None, ["630105"], [2025]
    )
    assert digest is not None
    assert digest.severity == "success"
    assert "通过 1" in digest.title
    assert "本次：通过 1 个，退回 0 个，有警告 0 个，逾期未报 0 个" in digest.body


def test_failed_run_and_bad_deadline_setting_are_reported(warehouse: str, tmp_path: Path) -> None:
    with psycopg.connect(warehouse, autocommit=True) as conn:
        _run(conn, RUN, "2026-04-02T00:00:00+00:00", status="failed")
        conn.execute("UPDATE ops.runs SET message = 'dbt build failed' WHERE run_id = %s", (RUN,))
    failed = build_digest(warehouse, RUN, _settings(tmp_path), None, [], [])
    assert failed is not None and failed.severity == "failure"
    assert "运行状态：失败（dbt build failed）" in failed.body
    assert "Run status: failed (dbt build failed)" in failed.body
    bad = build_digest(
        warehouse, RUN, _settings(tmp_path, missing_deadline="13-45"), None, ["630103"], [2025]
    )
    assert bad is not None
    assert "EDUSTAT_MISSING_DEADLINE 设置无效" in bad.body


def test_revalidated_submission_counts_once(warehouse: str, tmp_path: Path) -> None:
    with psycopg.connect(warehouse, autocommit=True) as conn:
        _run(conn, EARLIER, "2026-01-10T00:00:00+00:00")
        _run(conn, RUN, "2026-04-02T00:00:00+00:00")
        sid = _submission(conn, "630103", 2025, "rejected", RUN, errors=2)
        for run in (EARLIER, RUN):  # validated in both runs, decided in the second
            _result(conn, sid, run, "school_code_unique", "critical", "school_code", 5, "1")
            _result(conn, sid, run, "school_code_unique", "critical", "school_code", 6, "1")
    digest = build_digest(warehouse, RUN, _settings(tmp_path), None, [], [])
    assert digest is not None
    assert digest.fields["rejected"][0]["checks"][0]["count"] == 2


def test_compact_body_fits_wecom_for_a_bad_night(warehouse: str, tmp_path: Path) -> None:
    """Every Qinghai county rejected with long values: the short body stays under 2 KB."""
    with psycopg.connect(warehouse, autocommit=True) as conn:
        _run(conn, RUN, "2026-04-02T00:00:00+00:00")
        for county in QINGHAI:
            sid = _submission(conn, county, 2025, "rejected", RUN, errors=3,
                              reason="学校标识码重复" * 30)
            for row in range(3):
                _result(conn, sid, RUN, "school_code_unique", "critical", "school_code", row,
                        "很长的值" * 50)
    digest = build_digest(warehouse, RUN, _settings(tmp_path), None, QINGHAI, [2025])
    assert digest is not None
    assert len(digest.fields["rejected"]) == 45
    assert "……另有 25 个，详见报告" in digest.body  # 20 shown in full
    assert "……另有 40 个，详见报告" in digest.short_body  # 5 shown in short
    assert "English" not in digest.short_body
    # Values are clipped: a 200-character cell shows as 39 characters and an ellipsis.
    assert "「" + "很长的值" * 9 + "很长的…」" in digest.short_body
    assert len(digest.title) <= 250


def test_deadline_rules() -> None:
    assert parse_deadline("03-31") == (3, 31)
    assert deadline_for(2025, "03-31") == date(2026, 3, 31)
    assert deadline_for(2026, "02-29") == date(2027, 2, 28)  # 2027 has no 29 February
    assert deadline_for(2027, "02-29") == date(2028, 2, 29)
    for bad in ("3/31", "02-30", "13-01", "", "aa-bb"):
        with pytest.raises(ValueError):
            parse_deadline(bad)
    assert not is_past_deadline(2025, "03-31", datetime(2026, 3, 31, 15, 59, tzinfo=UTC))
    assert is_past_deadline(2025, "03-31", datetime(2026, 3, 31, 16, 0, tzinfo=UTC))


def test_report_links_resolve_beside_the_run_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    page = (reports / "index.html").as_uri()
    inside = str(reports / "rejections" / "630103.html")
    assert report_link(inside, reports, page) == (reports / "rejections" / "630103.html").as_uri()
    assert report_link("rejections/630103.html", reports, "https://h/r/index.html") == (
        "https://h/r/rejections/630103.html"
    )
    # Outside the published folder (the quarantine), or with no page: the path as stored.
    quarantined = str(tmp_path / "quarantine" / "630103" / "7" / "report.html")
    assert report_link(quarantined, reports, page) == quarantined
    assert report_link(inside, reports, None) == inside
    assert report_link("https://x/y.html", reports, page) == "https://x/y.html"
    assert report_link(None, reports, page) is None
