"""A province the project has never seen, end to end: check first, then the real night tells
exactly the people responsible.

Protects the issue's own check, with Airflow running the real DAG (`edustat run`): Guizhou
(52), four counties, two of them with a faulty 2025 file; `edustat check` on every file of the
night beforehand says 0 for the accepted ones and 1 for the rejected ones, with the accepted
2024 history in reach, and leaves the warehouse unchanged; after the night each county's JSON
receiver holds exactly one message naming only that county, the province's digest names every
rejected county, and an undeliverable destination is recorded and said by `edustat run` (exit
0 all the same).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat import pipeline
from edustat.config import load_settings
from edustat.divisions import county_name, province_counties
from edustat_synth.generate import generate
from support.databases import fresh_database
from support.landing import settle
from support.receivers import HttpReceiver, free_port

pytestmark = pytest.mark.e2e

EDUSTAT = str(Path(sys.executable).parent / "edustat")
PROVINCE = "52"


@pytest.fixture
def province(pg_server: str, tmp_path: Path) -> Iterator[dict]:
    with fresh_database(pg_server, "edustat_notices") as dsn:
        yield {"dsn": dsn, "home": tmp_path / "home"}


def _fingerprint(dsn: str) -> str:
    digest = hashlib.sha256()
    with psycopg.connect(dsn) as conn:
        for schema, table in conn.execute(
                """SELECT table_schema, table_name FROM information_schema.tables
                   WHERE table_schema IN ('ops', 'raw', 'marts') ORDER BY 1, 2""").fetchall():
            rows = sorted(r[0] for r in conn.execute(f'SELECT t::text FROM {schema}."{table}" t'))
            digest.update(f"{schema}.{table}\n".encode() + "\n".join(rows).encode())
    return digest.hexdigest()


def test_check_first_then_everyone_responsible_is_told(
        province: dict, tmp_path: Path, http_receiver: tuple[int, HttpReceiver]) -> None:
    port, http = http_receiver
    home, dsn = province["home"], province["dsn"]
    generated = generate(PROVINCE, [2024, 2025], tmp_path / "generated", seed=7, faulty=2,
                         counties=4)
    counties = generated.counties
    faulty = {f.path for f in generated.faulty}
    assert len(faulty) == 2 and all(f.year == 2025 for f in generated.faulty)
    rejected = sorted({f.county_code for f in generated.faulty})
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "region_code,url\n"
        + "".join(f"{c},json://127.0.0.1:{port}/county/{c}\n" for c in counties)
        + f"{PROVINCE}0000,json://127.0.0.1:{port}/province\n"
        + f"{PROVINCE}0000,json://127.0.0.1:{free_port()}/province-down\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUSTAT_")} | {
        "EDUSTAT_HOME": str(home), "EDUSTAT_WAREHOUSE_DSN": dsn,
        "EDUSTAT_CONTACTS": str(contacts), "EDUSTAT_SETTLE_SECONDS": "0",
        "EDUSTAT_PUBLIC_URL": "https://edustat.guizhou.example.org",
        "EDUSTAT_ALERT_URLS": f"json://127.0.0.1:{port}/national"}

    # Last year's files came in, and were announced, on an earlier night (without marts).
    landing = home / "landing"
    last_night = datetime(2025, 11, 1, tzinfo=UTC)
    for path in generated.files:
        if "2024" in path.name:
            target = landing / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            settle(Path(shutil.copy(path, target)), last_night)
    settings = load_settings(env)
    ctx = pipeline.RunContext("night-2024", last_night, settings=settings)
    for stage in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                  pipeline.decide, pipeline.finalize):
        stage(ctx)
    http.requests.clear()

    # Before the night: every 2025 file checked with `edustat check`.
    tonight = [p for p in generated.files if "2025" in p.name]
    before = _fingerprint(dsn)
    for path in tonight:
        proc = subprocess.run([EDUSTAT, "check", str(path), "--year", "2025",
                               "--out", str(tmp_path / "checks" / path.parent.name)],
                              env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == (1 if path in faulty else 0), proc.stdout + proc.stderr
        assert "已与已接收的往年数据做同比检查" in proc.stdout  # the 2024 history was in reach
    assert _fingerprint(dsn) == before
    assert not http.requests

    for path in tonight:
        shutil.copy(path, landing / path.parent.name / path.name)
    run = subprocess.run([EDUSTAT, "run"], env=env, capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "通知未送达 1 处（数据已处理）/ 1 alert deliveries failed" in run.stdout

    names = {c: county_name(c) for c in province_counties(PROVINCE)}
    for county in counties:
        [message] = [r.payload for r in http.requests if r.path == f"/county/{county}"]
        text = message["title"] + message["message"]
        assert f"{names[county]}（{county}）" in text
        for other, name in names.items():
            if other != county:
                assert other not in text and name not in text, (county, other)
        status = "rejected" if county in rejected else "accepted"
        assert [f["status"] for f in message["edustat"]["files"]] == [status]
        if county in rejected:
            assert "https://edustat.guizhou.example.org/rejections/" in text

    [digest] = [r.payload for r in http.requests if r.path == "/province"]
    section = digest["message"].split("【退回：请县区修正后重报】")[1].split("\n\n【")[0]
    for county in rejected:
        assert f"{names[county]}（{county}）" in section
    assert "贵州省（520000）" in digest["title"]
    assert [r for r in http.requests if r.path == "/national"]

    with psycopg.connect(dsn) as conn:
        run_id, failed = conn.execute(
            "SELECT run_id, alerts_failed FROM ops.runs WHERE status = 'success'"
            " AND run_id <> 'night-2024'").fetchone()
        outcomes = conn.execute(
            """SELECT kind, region_code, outcome FROM ops.deliveries WHERE run_id = %s
               ORDER BY kind, region_code, outcome""", (run_id,)).fetchall()
    assert failed == 1
    assert outcomes == sorted(
        [("county_notice", c, "delivered") for c in counties]
        + [("full_digest", None, "delivered"), ("region_digest", "520000", "delivered"),
           ("region_digest", "520000", "failed")])
