"""After a night, exactly the people responsible are told, and every delivery is on record.

Protects (hand-made ops rows in a real warehouse, real HTTP receivers and a real SMTP server):
one message per county with a decided file, at its own destinations, naming no other county
(a receipt with schools and warnings; the reasons of a rejection with the report as a mail
attachment); prefecture and province digests limited to their region; the full digest for
`national` and EDUSTAT_ALERT_URLS, listing contacts problems and undelivered notices;
ops.deliveries with destinations redacted and ops.runs.alerts_failed; a retried finalize not
sending twice; reminders and late notices at most once a week, driven by the logical date;
the contacts file's rules; `edustat status` and the run summary saying what went wrong.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat.config import Settings, load_settings
from edustat.divisions import county_name, province_counties
from edustat.notices.contacts import parse_contacts
from edustat.notices.facts import Decision
from edustat.notices.model import FileView
from edustat.notices.night import notify_night
from edustat.orchestration import DagRunOutcome
from edustat.summary import print_run_summary, print_status
from support.receivers import HttpReceiver, Mailbox, free_port

RUN = "scheduled__2026-04-02T00:00:00+00:00"
NIGHT = datetime(2026, 4, 2, tzinfo=UTC)
PUBLIC = "https://edustat.example.org"
QINGHAI = province_counties("63")


def _submission(conn: psycopg.Connection, county: str, year: int | None, status: str,
                run_id: str, **extra: object) -> int:
    columns = {"county_code": county, "school_year": year, "file_name": f"{county}学校{year}.xlsx",
               "landing_path": f"/landing/{county}/f.xlsx", "checksum": f"{county}{year}{run_id}",
               "size_bytes": 1000, "received_at": "2026-04-01", "status": status,
               "run_id": run_id, "decided_run_id": run_id, **extra}
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    return conn.execute(f"INSERT INTO ops.submissions ({names}) VALUES ({marks})"
                        " RETURNING submission_id", list(columns.values())).fetchone()[0]


def _finding(conn: psycopg.Connection, sid: int, run_id: str, check: str, severity: str,
             column: str, row: int, value: str) -> None:
    conn.execute(
        """INSERT INTO ops.validation_results (submission_id, run_id, stage, check_id, severity,
               column_name, row_number, value, message_zh, message_en)
           VALUES (%s, %s, 'validate', %s, %s, %s, %s, %s, %s, %s)""",
        (sid, run_id, check, severity, column, row, value, f"第{row}行有误", f"row {row} wrong"))


def _schools(conn: psycopg.Connection, sid: int, county: str, codes: list[str]) -> None:
    for row, code in enumerate(codes, start=2):
        conn.execute(
            """INSERT INTO raw.school_rows (submission_id, county_folder, file_name, checksum,
                   received_at, row_number, school_code)
               VALUES (%s, %s, 'f', 'c', now(), %s, %s)""",
            (sid, county, row, code))


@dataclasses.dataclass
class Night:
    settings: Settings
    dsn: str
    http: HttpReceiver
    http_port: int
    mailbox: Mailbox

    def at(self, path: str) -> list[dict]:
        return [r.payload for r in self.http.requests if r.path.split("?")[0] == path]


@pytest.fixture
def night(warehouse: str, tmp_path: Path, http_receiver: tuple[int, HttpReceiver],
          smtp_server: tuple[int, Mailbox]) -> Iterator[Night]:
    """Qinghai, 2026-04-02 (2025 due 2026-03-31). Tonight: 城中区 630103 rejected (report in
    quarantine), 城西区 630104 accepted with warnings (3 schools), 乐都区 630202 (海东市)
    rejected; 城北区 630105 has sent nothing (late). Everyone else is late too."""
    port, http = http_receiver
    smtp, mailbox = smtp_server
    home = tmp_path / "home"
    report_dir = home / "reports" / "rejections" / "1"  # the site's page (edustat.site)
    report_dir.mkdir(parents=True)
    (report_dir / "index.html").write_text("<html>退回通知 630103</html>",
                                                      encoding="utf-8")
    (report_dir / "rejection_report.csv").write_text("行号,规则\n5,school_code_unique\n",
                                                     encoding="utf-8-sig")
    url = f"json://127.0.0.1:{port}"
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("\n".join([
        "# who is told what",
        "region_code,url,note",
        f"630103,{url}/county/630103,城中区统计股",
        f"630103,mailto://127.0.0.1:{smtp}?from=edustat@example.org&to=tongji@cz.example.org,",
        f"630104,{url}/county/630104,",
        f"630105,{url}/county/630105,",
        "630202,nosuch://token123secret,",
        f"630100,{url}/prefecture/630100,西宁市",
        f"630000,{url}/province/630000?+Authorization=Bearer%20s3cr3t,青海省",
        f"national,{url}/national,",
        f"999999,{url}/nobody,",
        f"630104,{url}/county/630104,again",
    ]) + "\n", encoding="utf-8")
    settings = load_settings({
        "EDUSTAT_HOME": str(home), "EDUSTAT_WAREHOUSE_DSN": warehouse,
        "EDUSTAT_JURISDICTION": "63", "EDUSTAT_PUBLIC_URL": PUBLIC,
        "EDUSTAT_CONTACTS": str(contacts), "EDUSTAT_MISSING_DEADLINE": "03-31",
        "EDUSTAT_ALERT_URLS": f"json://127.0.0.1:{free_port()}/down",
    })
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)", (RUN, NIGHT))
        sid = _submission(conn, "630103", 2025, "rejected", RUN, errors=4,
                          rejection_reason="学校标识码重复",
                          report_path=str(report_dir / "index.html"))
        for row in (5, 9, 14):
            _finding(conn, sid, RUN, "school_code_unique", "critical", "school_code", row,
                     f"63010300{row:02d}")
        sid = _submission(conn, "630104", 2025, "accepted", RUN, warnings=2)
        _schools(conn, sid, "630104", ["6301040001", "6301040002", "6301040003"])
        for row in (3, 4):
            _finding(conn, sid, RUN, "multimedia_within_classrooms", "warning",
                     "multimedia_classrooms", row, "31")
        sid = _submission(conn, "630202", 2025, "rejected", RUN, errors=1,
                          rejection_reason="缺少必填列")
        _finding(conn, sid, RUN, "missing_column", "critical", "books", 1, "图书(册)")
    yield Night(settings, warehouse, http, port, mailbox)


def _others(code: str) -> list[str]:
    return [c for c in QINGHAI if c != code]


def test_each_county_gets_one_message_naming_only_itself(night: Night) -> None:
    outcome = notify_night(night.settings, night.dsn, RUN)
    [rejected] = night.at("/county/630103")
    text = rejected["title"] + rejected["message"]
    assert "城中区（630103）" in rejected["title"] and "2025年度已退回" in rejected["title"]
    assert "【已退回，请修正后重新报送】2025年度，文件「630103学校2025.xlsx」：错误 4 条" in text
    assert "第5行「6301030005」；第9行「6301030009」；第14行「6301030014」" in text
    assert 'row 5 "6301030005"' in text  # then English
    assert text.index("【已退回") < text.index("[Rejected")
    assert f"- 完整退回报告（每一行、每一列）：{PUBLIC}/rejections/1/index.html" in text
    for other in _others("630103"):
        assert other not in text and county_name(other) not in text, other
    assert rejected["edustat"]["kind"] == "county_notice"
    assert [f["status"] for f in rejected["edustat"]["files"]] == ["rejected"]

    [mail] = night.mailbox.messages
    assert mail["To"] == "tongji@cz.example.org" and "城中区（630103）" in mail["Subject"]
    attached = {part.get_filename(): part.get_payload(decode=True).decode("utf-8-sig")
                for part in mail.iter_attachments()}
    assert set(attached) == {"rejection_report.html", "rejection_report.csv"}
    assert "退回通知 630103" in attached["rejection_report.html"]

    [receipt] = night.at("/county/630104")  # two identical rows: one destination
    text = receipt["message"]
    assert "【已接收】2025年度，文件「630104学校2025.xlsx」：学校 3 所，警告 2 条" in text
    assert "[Accepted] school year 2025" in text and "3 schools" in text
    assert "网络多媒体教室数(间) (multimedia_classrooms)" in text
    for other in _others("630104"):
        assert other not in text and county_name(other) not in text, other

    [late] = night.at("/county/630105")  # nothing decided: its late notice
    assert "【逾期】2025年度已于 2026-03-31 截止，仍未收到有效报送" in late["message"]
    assert late["edustat"]["kind"] == "reminder"
    # 630103 twice (JSON, mail), 630104, 630105, the prefecture, the province, national.
    assert outcome.sent == 7
    assert not night.at("/nobody")


def test_regions_get_digests_of_their_own_counties(night: Night) -> None:
    notify_night(night.settings, night.dsn, RUN)
    [prefecture] = night.at("/prefecture/630100")
    text = prefecture["message"]
    assert "西宁市（630100）夜间汇总" in prefecture["title"]
    assert "城中区（630103）" in text and "城西区（630104）" in text
    assert "630202" not in text and "乐都区" not in text  # 海东市's county
    assert all(c.startswith("6301") for c in
               (x["county_code"] for x in prefecture["edustat"]["late"]))
    [province] = night.at("/province/630000")
    text = province["message"]
    for code in ("630103", "630202"):  # every rejected county of the province
        assert f"{county_name(code)}（{code}）" in text.split("【已接收")[0]
    assert {r["county_code"] for r in province["edustat"]["rejected"]} == {"630103", "630202"}
    [national] = night.at("/national")
    text = national["message"]
    assert "【联系人文件问题：以下行未使用】" in text
    assert "第11行：区划代码「999999」不是已知的" in text
    assert "第7行：地址（nosuch://…）无法被 Apprise 识别" in text
    assert "第12行：与前面的行重复，已忽略" in text
    assert "【以下通知未能送达】" in text and "乐都区（630202） → nosuch://…" in text
    assert "token123secret" not in text and "s3cr3t" not in text


def test_deliveries_are_recorded_redacted_and_counted(night: Night) -> None:
    outcome = notify_night(night.settings, night.dsn, RUN)
    with psycopg.connect(night.dsn) as conn:
        rows = conn.execute(
            """SELECT kind, region_code, destination, outcome, late_years FROM ops.deliveries
               WHERE run_id = %s ORDER BY delivery_id""", (RUN,)).fetchall()
        failed = conn.execute("SELECT alerts_failed FROM ops.runs WHERE run_id = %s",
                              (RUN,)).fetchone()[0]
    by_region = {(kind, region): (dest, result) for kind, region, dest, result, _ in rows}
    assert by_region[("county_notice", "630103")][1] == "delivered"
    assert ("county_notice", "630202") in by_region
    assert by_region[("county_notice", "630202")] == ("nosuch://…", "invalid")
    assert by_region[("full_digest", None)][1] == "failed"  # EDUSTAT_ALERT_URLS is down
    assert by_region[("region_digest", "630000")] == (
        f"json://127.0.0.1:{night.http_port}/province/630000", "delivered")
    assert [r[4] for r in rows if r[1] == "630105"] == [[2025]]
    for _, _, destination, _, _ in rows:
        assert "s3cr3t" not in destination and "token123" not in destination
        assert "Authorization" not in destination
    assert outcome.failed == failed == 2  # the alert URL and 630202's unusable row

    # Finalize retried: nothing delivered is sent again; the failed ones are tried again.
    before = len(night.http.requests), len(night.mailbox.messages)
    again = notify_night(night.settings, night.dsn, RUN)
    assert (len(night.http.requests), len(night.mailbox.messages)) == before
    assert again.sent == 0 and again.failed == 2


def test_reminders_and_late_notices_once_a_week(warehouse: str, tmp_path: Path,
                                                http_receiver: tuple[int, HttpReceiver]) -> None:
    port, http = http_receiver
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(f"region_code,url\n630105,json://127.0.0.1:{port}/630105\n"
                        f"630100,json://127.0.0.1:{port}/630100\n", encoding="utf-8")
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path), "EDUSTAT_JURISDICTION": "63",
                              "EDUSTAT_CONTACTS": str(contacts), "EDUSTAT_REMINDER_DAYS": "30",
                              "EDUSTAT_MISSING_DEADLINE": "03-31"})
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES ('jan', '2026-01-05')")
        _submission(conn, "630103", 2025, "accepted", "jan")  # 2025 is a year Qinghai reports

    def night(day: str) -> tuple[list[str], list[str]]:
        """Run the notices of the night with this logical date (Beijing = UTC + 8)."""
        with psycopg.connect(warehouse, autocommit=True) as conn:
            conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)",
                         (day, datetime.fromisoformat(day).replace(tzinfo=UTC)))
        seen = len(http.requests)
        notify_night(settings, warehouse, day)
        new = http.requests[seen:]
        county = [r.payload["message"].splitlines()[-1] for r in new if r.path == "/630105"]
        region = [r.payload["title"] for r in new if r.path == "/630100"]
        return county, region

    assert night("2026-02-27") == ([], [])  # the reminders start on 03-01 (30 days before)
    county, region = night("2026-03-01")
    assert county == ["[Reminder] school year 2025 is due on 2026-03-31 (30 days left) and no "
                      "valid submission has arrived: please submit in time"]
    assert len(region) == 1  # the prefecture's weekly digest of who still owes 2025
    assert night("2026-03-05") == ([], [])  # once a week
    county, region = night("2026-03-08")  # a week after the last one
    assert len(county) == 1 and "(23 days left)" in county[0] and len(region) == 1
    county, _ = night("2026-03-31T16:00:00")  # 04-01 in Beijing: late
    assert county == ["[Late] school year 2025 was due on 2026-03-31 and no valid submission "
                      "has arrived: please submit as soon as possible"]
    assert night("2026-04-03")[0] == []
    assert len(night("2026-04-08")[0]) == 1
    with psycopg.connect(warehouse, autocommit=True) as conn:
        _submission(conn, "630105", 2025, "accepted", "jan")  # it came in at last
    assert night("2026-04-20")[0] == []
    with psycopg.connect(warehouse) as conn:
        kinds = conn.execute(
            """SELECT logical_date::date::text, kind, reminder_years, late_years
               FROM ops.deliveries WHERE region_code = '630105' ORDER BY delivery_id""").fetchall()
    assert kinds == [
        ("2026-03-01", "reminder", [2025], []), ("2026-03-08", "reminder", [2025], []),
        ("2026-03-31", "reminder", [], [2025]), ("2026-04-08", "reminder", [], [2025]),
    ]


def test_contacts_file_rules(tmp_path: Path) -> None:
    text = "\ufeff# comment\nRegion_Code , URL\n630103,json://h/x\nnational,json://h/n\n" \
           "630100,json://h/p\n630000,json://h/q\n630000,json://h/q\n441900,json://h/d\n" \
           "63,json://h/bad\n630103,\n"
    contacts = parse_contacts(text.lstrip("\ufeff"), tmp_path / "c.csv")
    assert [(c.region_code, c.level) for c in contacts.rows] == [
        ("630103", "county"), ("national", "national"), ("630100", "prefecture"),
        ("630000", "province"), ("441900", "county")]  # 东莞: a prefecture city that reports
    assert [p.en.split(": ", 1)[1] for p in contacts.problems] == [
        "repeats an earlier row; ignored",
        "region code '63' is not a known county, prefecture or province code nor 'national'; "
        "row not used",
        "Apprise cannot use the URL (?://…); row not used"]
    assert contacts.regions("prefecture", "province") == ["630100", "630000"]
    missing = parse_contacts("code,where\n630103,json://h/x\n", tmp_path / "c.csv")
    assert not missing.rows and "lacks the header region_code,url" in missing.problems[0].en


def test_status_and_run_summary_say_what_went_wrong(
        night: Night, capsys: pytest.CaptureFixture[str]) -> None:
    notify_night(night.settings, night.dsn, RUN)
    print_status(night.settings, night.dsn, 2025)
    out = capsys.readouterr().out
    assert "第11行：区划代码「999999」" in out and "line 11: region code '999999'" in out
    assert re.search(r"城中区 +630103 .*已退回 rejected", out), out
    ok = print_run_summary(night.settings, night.dsn, DagRunOutcome(NIGHT, 0, Path("x.log")))
    out = capsys.readouterr().out
    assert "通知未送达 2 处（数据已处理）/ 2 alert deliveries failed" in out
    assert not ok  # the hand-made run never finished (status running): not success


def test_a_held_file_is_told_so(warehouse: str, tmp_path: Path,
                                http_receiver: tuple[int, HttpReceiver]) -> None:
    """A file validation accepted but the marts build held back: the county reads why."""
    port, http = http_receiver
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(f"region_code,url\n630103,json://127.0.0.1:{port}/630103\n",
                        encoding="utf-8")
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path), "EDUSTAT_CONTACTS": str(contacts)})
    with psycopg.connect(warehouse, autocommit=True) as conn:
        # The statuses and column the marts build's hold brings (reliability's schema).
        conn.execute("ALTER TABLE ops.submissions DROP CONSTRAINT submissions_status_check")
        conn.execute("ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS held_reason text")
        conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, '2025-12-01')",
                     (RUN,))
        sid = _submission(conn, "630103", 2025, "held", RUN,
                          held_reason="汇总测试 cv_within_limits 未通过 / a marts test failed")
        _schools(conn, sid, "630103", ["6301030001", "6301030002"])
    notify_night(settings, warehouse, RUN)
    [message] = [r.payload for r in http.requests]
    text = message["message"]
    assert "2025年度暂缓入库" in message["title"]
    assert ("【已通过校验，暂缓入库】2025年度，文件「630103学校2025.xlsx」：学校 2 所；"
            "此前已接收的数据继续使用") in text
    assert "- 暂缓原因：汇总测试 cv_within_limits 未通过 / a marts test failed" in text
    assert "[Passed validation, held] school year 2025" in text


def test_the_example_contacts_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "contacts.example.csv"
    contacts = parse_contacts(example.read_text(encoding="utf-8"), example)
    assert not contacts.problems
    assert [c.level for c in contacts.rows] == [
        "county", "county", "county", "prefecture", "province", "national"]


def test_my_settings_are_checked_at_start(tmp_path: Path) -> None:
    for key, value in (("EDUSTAT_FIRST_YEAR", "20x4"), ("EDUSTAT_REMINDER_DAYS", "-3")):
        with pytest.raises(ValueError, match=key):
            load_settings({"EDUSTAT_HOME": str(tmp_path), key: value})
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path), "EDUSTAT_FIRST_YEAR": "2024",
                              "EDUSTAT_REMINDER_DAYS": "14"})
    assert (settings.first_year, settings.reminder_days) == (2024, 14)


def test_one_countys_broken_notice_stops_no_other(night: Night,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from edustat.notices import night as night_module

    real = night_module.file_view

    def breaks_for_630103(decision: Decision, settings: Settings) -> FileView:
        if decision.county_code == "630103":
            raise KeyError("a column that is not there")
        return real(decision, settings)

    monkeypatch.setattr(night_module, "file_view", breaks_for_630103)
    outcome = notify_night(night.settings, night.dsn, RUN)
    assert not night.at("/county/630103") and not night.mailbox.messages
    assert len(night.at("/county/630104")) == 1 and len(night.at("/province/630000")) == 1
    [national] = night.at("/national")
    assert "城中区（630103） → （未生成 not built）：KeyError" in national["message"]
    with psycopg.connect(night.dsn) as conn:
        row = conn.execute("SELECT destination, outcome FROM ops.deliveries"
                           " WHERE region_code = '630103'").fetchone()
    assert row == (night_module.NOT_BUILT, "failed")
    assert outcome.failed == 3  # 630103's notice, 630202's unusable row, the alert URL
