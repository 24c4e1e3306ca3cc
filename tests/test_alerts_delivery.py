"""Alerts reach real receivers through Apprise, and an unreachable receiver never breaks a run.

Protects: the digest arriving by email (a real SMTP server, aiosmtpd) and by JSON webhook
(a real HTTP server) with county name and code, failing check, count, examples and report
link; the DingTalk, WeCom and Slack payloads as those services receive them (a local HTTPS
proxy terminates the plugins' real requests to oapi.dingtalk.com etc., so Apprise's own code
builds and posts them); WeCom's 2 KB limit; bounded, quick retries that log and never raise
when a receiver is down; the Airflow failure callback delivering task id and error text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from edustat.alerts import Digest, build_digest, send, task_failure_callback
from edustat.config import Settings, load_settings
from edustat.divisions import province_counties
from edustat.notices.wording import EN_SEPARATOR
from support.receivers import HttpReceiver, Mailbox, free_port

RUN = "scheduled__2026-04-02T00:00:00+00:00"
PUBLIC = "https://edustat.example.org"


# ---- receivers (tests/support/receivers.py) and the service proxy ----------------------


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edustat-test-receiver")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "receiver.crt", tmp_path / "receiver.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def service_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HttpReceiver]:
    """An HTTPS proxy that answers for DingTalk, WeCom and Slack itself.

    The plugins post to their fixed hosts (oapi.dingtalk.com, qyapi.weixin.qq.com,
    hooks.slack.com); requests sends that through HTTPS_PROXY as a CONNECT tunnel, which
    this proxy terminates with a self-signed certificate (the URLs carry verify=no).
    """
    receiver = HttpReceiver()
    tls = _self_signed(tmp_path)

    class Proxy(BaseHTTPRequestHandler):
        def do_CONNECT(self) -> None:
            self.send_response(200, "Connection established")
            self.end_headers()
            inner = tls.wrap_socket(self.connection, server_side=True)
            receiver.handler(tls_host=self.path)(inner, self.client_address, self.server)
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# ---- a night with one rejected county --------------------------------------------------------


def _settings(tmp_path: Path) -> Settings:
    return load_settings({"EDUSTAT_HOME": str(tmp_path), "EDUSTAT_MISSING_DEADLINE": "03-31",
                          "EDUSTAT_PUBLIC_URL": PUBLIC})


def _reject(conn: psycopg.Connection, county: str, report: Path) -> None:
    sid = conn.execute(
        """INSERT INTO ops.submissions (county_code, school_year, file_name, landing_path,
               checksum, size_bytes, received_at, status, errors, rejection_reason,
               report_path, run_id, decided_run_id)
           VALUES (%s, 2025, %s, %s, md5(random()::text), 1, now(), 'rejected', 4,
                   '学校标识码重复', %s, %s, %s) RETURNING submission_id""",
        (county, f"{county}学校基础数据2025.xlsx", f"/landing/{county}/x.xlsx", str(report),
         RUN, RUN),
    ).fetchone()[0]
    for row, value in ((5, "6301030005"), (9, "6301030009"), (14, "6301030014"), (2, None)):
        conn.execute(
            """INSERT INTO ops.validation_results (submission_id, run_id, stage, check_id,
                   severity, column_name, row_number, value, message_zh, message_en)
               VALUES (%s, %s, 'validate', 'school_code_unique', 'critical', 'school_code',
                       %s, %s, '学校标识码重复', 'duplicate school code')""",
            (sid, RUN, row, value),
        )


@pytest.fixture
def digest(warehouse: str, tmp_path: Path) -> Digest:
    """城中区 630103 rejected: school_code_unique on 4 rows (2, 5, 9, 14), report under home.
    The other Qinghai counties sent their 2025 files in January: none is late."""
    report = tmp_path / "reports" / "rejections" / "630103.html"
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, '2026-04-02T00:00:00Z'),"
            " ('january', '2026-01-10T00:00:00Z')", (RUN,),
        )
        conn.execute(
            """INSERT INTO ops.submissions (county_code, school_year, file_name, landing_path,
                   checksum, size_bytes, received_at, status, run_id, decided_run_id)
               SELECT code, 2025, 'f.xlsx', 'l', md5(code), 1, '2026-01-10', 'accepted',
                      'january', 'january'
               FROM unnest(%s::text[]) AS code""",
            ([c for c in province_counties("63") if c != "630103"],))
        _reject(conn, "630103", report)
    built = build_digest(warehouse, RUN, _settings(tmp_path))
    assert built is not None
    return built


def _assert_actionable(text: str) -> None:
    """County name and code, failing check, count, example values, report link."""
    assert "城中区（630103）" in text
    assert "school_code_unique" in text
    assert "4 处" in text
    assert "第5行「6301030005」" in text and "第9行「6301030009」" in text
    assert "https://edustat.example.org/rejections/630103.html" in text


# ---- tests ---------------------------------------------------------------------------------


def test_digest_arrives_by_email(
    smtp_server: tuple[int, Mailbox], digest: Digest
) -> None:
    port, mailbox = smtp_server
    url = f"mailto://127.0.0.1:{port}?from=edustat@example.org&to=ops@example.org"
    report = send(digest, [url])
    assert report.ok, report
    assert report.results[0].attempts == 1
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "ops@example.org"
    assert "城中区（630103）" in message["Subject"]
    assert "退回 1" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    _assert_actionable(text)
    assert text.index("【退回") < text.index(EN_SEPARATOR)  # Chinese first
    assert "城中区 (630103), school year 2025" in text


def test_digest_arrives_at_json_webhook_with_fields(
    http_receiver: tuple[int, HttpReceiver], digest: Digest
) -> None:
    port, receiver = http_receiver
    report = send(digest, [f"json://127.0.0.1:{port}/edustat/hook"])
    assert report.ok, report
    [request] = receiver.requests
    assert request.path == "/edustat/hook"
    payload = request.payload
    assert payload["type"] == "failure"
    assert payload["title"] == digest.title
    _assert_actionable(payload["message"])
    fields = payload["edustat"]
    assert fields["kind"] == "run_digest"
    assert fields["run_id"] == RUN
    assert fields["counts"]["rejected"] == 1
    [rejected] = fields["rejected"]
    assert (rejected["county_code"], rejected["county_name"]) == ("630103", "城中区")
    [check] = rejected["checks"]
    assert (check["check_id"], check["column"], check["count"]) == (
        "school_code_unique", "school_code", 4,
    )
    # Examples in row order; a failing empty cell keeps its row and an empty value.
    assert [(e["row_number"], e["value"]) for e in check["examples"]] == [
        (2, None), (5, "6301030005"), (9, "6301030009"),
    ]
    assert rejected["report"] == "https://edustat.example.org/rejections/630103.html"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_dingtalk_wecom_and_slack_receive_their_own_payloads(
    service_proxy: HttpReceiver, digest: Digest
) -> None:
    urls = [
        "dingtalk://a1b2c3d4/?verify=no",
        "wecombot://wecomkey123?verify=no",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#edustat?verify=no",
    ]
    report = send(digest, urls)
    assert report.ok, report
    by_host = {r.host.split(":")[0]: r for r in service_proxy.requests}
    assert set(by_host) == {"oapi.dingtalk.com", "qyapi.weixin.qq.com", "hooks.slack.com"}

    ding = by_host["oapi.dingtalk.com"]
    assert ding.path == "/robot/send?access_token=a1b2c3d4"
    assert ding.payload["msgtype"] == "text"
    assert ding.payload["text"]["content"].startswith(digest.title)
    _assert_actionable(ding.payload["text"]["content"])

    wecom = by_host["qyapi.weixin.qq.com"]
    assert wecom.path == "/cgi-bin/webhook/send?key=wecomkey123"
    content = wecom.payload["text"]["content"]
    assert len(content.encode("utf-8")) <= 2048
    _assert_actionable(content)

    slack = by_host["hooks.slack.com"]
    assert slack.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    _assert_actionable(json.dumps(slack.payload, ensure_ascii=False))
    # Tokens never reach the report (logs show it too).
    assert not any("a1b2c3d4" in t or "wecomkey123" in t for t in report.delivered)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_wecom_gets_a_cut_message_within_2kb_on_a_bad_night(
    service_proxy: HttpReceiver, warehouse: str, tmp_path: Path
) -> None:
    counties = [f"6301{n:02d}" for n in (2, 3, 4, 5, 6, 21, 23)]
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, '2026-04-02T00:00:00Z')",
            (RUN,),
        )
        for county in counties:
            _reject(conn, county, tmp_path / "reports" / f"{county}.html")
    digest = build_digest(warehouse, RUN, _settings(tmp_path))
    assert digest is not None and len(digest.short_body.encode("utf-8")) > 2048
    assert send(digest, ["wecombot://wecomkey123?verify=no"]).ok
    [request] = service_proxy.requests
    content = request.payload["text"]["content"]
    assert len(content.encode("utf-8")) <= 2048
    assert content.startswith(digest.title)
    assert "城东区（630102）" in content  # the first rejected county survives the cut
    assert content.endswith("……（内容过长已截断，完整内容见报告）")


def test_receiver_down_is_retried_logged_and_never_raises(
    digest: Digest, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()
    urls = [
        f"json://127.0.0.1:{closed}/hook",
        f"mailto://127.0.0.1:{closed}?from=edustat@example.org&to=ops@example.org",
    ]
    caplog.set_level(logging.WARNING, logger="edustat.alerts")
    started = time.monotonic()
    report = send(digest, urls, attempts=3)
    elapsed = time.monotonic() - started
    assert not report.ok
    assert [(r.delivered, r.attempts) for r in report.results] == [(False, 3), (False, 3)]
    assert all(r.error for r in report.results)
    # Backoff 0.5 s + 1 s per receiver, connection refused is immediate.
    assert elapsed < 6, elapsed
    failures = [r for r in caplog.records if "NOT delivered" in r.getMessage()]
    assert len(failures) == 2
    assert f"127.0.0.1:{closed}" in failures[0].getMessage()


def test_retry_recovers_from_a_receiver_error(
    http_receiver: tuple[int, HttpReceiver], digest: Digest
) -> None:
    port, receiver = http_receiver
    receiver.statuses = [503]
    report = send(digest, [f"json://127.0.0.1:{port}/hook"])
    assert report.ok
    assert report.results[0].attempts == 2
    assert len(receiver.requests) == 2


def test_a_bad_url_does_not_stop_the_others(
    http_receiver: tuple[int, HttpReceiver], digest: Digest
) -> None:
    port, receiver = http_receiver
    report = send(digest, ["nosuchservice://x/y", f"json://127.0.0.1:{port}/hook"])
    assert [(r.delivered, r.attempts) for r in report.results] == [(False, 1), (True, 1)]
    assert len(receiver.requests) == 1


def test_without_urls_the_digest_is_only_logged(
    digest: Digest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edustat.alerts")
    report = send(digest, [])
    assert report.ok and report.results == []
    assert any(digest.title in r.getMessage() for r in caplog.records)


def _airflow_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The parts of an Airflow 3 task context the callback reads, with Airflow's own types."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    with DAG("edustat_nightly", schedule=None) as dag:
        task = PythonOperator(task_id="validate", python_callable=lambda: None)
    ti = RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(), task_id="validate", dag_id="edustat_nightly", run_id=RUN,
        try_number=2, map_index=-1, max_tries=1, task=task,
    )
    try:
        raise ValueError("GX checkpoint crashed on 630103\nsecond line\nthird line")
    except ValueError as exc:
        error = exc
    return {
        "ti": ti, "task_instance": ti, "task": task, "dag": dag, "run_id": RUN,
        "logical_date": dt.datetime(2026, 4, 2, tzinfo=dt.UTC), "exception": error,
    }


def test_failure_callback_delivers_task_and_error(
    http_receiver: tuple[int, HttpReceiver], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, receiver = http_receiver
    context = _airflow_context(tmp_path, monkeypatch)
    monkeypatch.setenv("EDUSTAT_HOME", str(tmp_path))
    monkeypatch.setenv("EDUSTAT_ALERT_URLS", f"json://127.0.0.1:{port}/failures")
    assert task_failure_callback(context) is None
    [request] = receiver.requests
    payload = request.payload
    assert payload["type"] == "failure"
    assert "validate" in payload["title"]
    message = payload["message"]
    assert "任务 Task：validate" in message
    assert "DAG：edustat_nightly" in message
    assert f"运行 Run：{RUN}" in message
    assert "尝试 Try：2/2" in message
    assert "ValueError: GX checkpoint crashed on 630103\nsecond line" in message
    assert "test_alerts_delivery.py" in message  # where it was raised
    # The log link Airflow builds for this task instance and try.
    assert "/dags/edustat_nightly/runs/" in message and "tasks/validate?try_number=2" in message
    fields = payload["edustat"]
    assert (fields["kind"], fields["task_id"], fields["try_number"]) == (
        "task_failure", "validate", 2,
    )
    assert fields["logical_date"] == "2026-04-02T00:00:00+00:00"


def test_failure_callback_survives_a_bare_context_and_a_dead_receiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("EDUSTAT_HOME", str(tmp_path))
    monkeypatch.setenv("EDUSTAT_ALERT_URLS", f"json://127.0.0.1:{free_port()}/x")
    caplog.set_level(logging.WARNING, logger="edustat.alerts")
    assert task_failure_callback({}) is None
    assert task_failure_callback({"exception": "boom", "ti": object()}) is None
    assert any("NOT delivered" in r.getMessage() for r in caplog.records)


def test_failure_alert_is_recorded_for_the_runs_count(
    warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An undelivered task-failure alert lands in ops.deliveries, so the run says so."""
    context = _airflow_context(tmp_path, monkeypatch)
    monkeypatch.setenv("EDUSTAT_HOME", str(tmp_path))
    monkeypatch.setenv("EDUSTAT_WAREHOUSE_DSN", warehouse)
    monkeypatch.setenv("EDUSTAT_ALERT_URLS", f"json://127.0.0.1:{free_port()}/pager?token=abc123")
    task_failure_callback(context)
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            "SELECT run_id, logical_date, kind, destination, outcome, attempts FROM ops.deliveries"
        ).fetchall()
    [(run_id, day, kind, destination, outcome, attempts)] = rows
    assert (run_id, kind, outcome, attempts) == (RUN, "task_failure", "failed", 3)
    assert day == dt.datetime(2026, 4, 2, tzinfo=dt.UTC)
    assert destination.endswith("/pager") and "abc123" not in destination
