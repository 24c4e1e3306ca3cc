"""The command line as a new user meets it: mistakes, help, read-only commands, `status`.

Protects: a mistake (bad option, bad setting, unreachable or malformed warehouse) that prints
a traceback, succeeds silently, or takes more than a few lines; exit codes (2 usage and
configuration, 1 failure); help without defaults or examples, or citing docs the repo does
not name; `status` and `report` running setup DDL; `status` without its summary line, with
columns that shift under Chinese names, without `received`/`held`, or whose filters do not
filter.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from edustat.cli import COMMANDS, INTERFACE_DOC, build_parser
from edustat.summary import LABELS, display_width

EDUSTAT = str(Path(sys.executable).parent / "edustat")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _edustat(args: list[str], tmp_path: Path, timeout: float = 120, **env: str
             ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EDUSTAT_")}
    base.update({"EDUSTAT_HOME": str(tmp_path / "home"), **env})
    return subprocess.run([EDUSTAT, *args], env=base, capture_output=True, text=True,
                          timeout=timeout, cwd=tmp_path)


def _assert_one_clear_line(proc: subprocess.CompletedProcess[str], code: int,
                           *needles: str) -> str:
    out = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == code, out
    assert "Traceback" not in out
    assert 1 <= len(out.splitlines()) <= 2, out
    for needle in needles:
        assert needle in out, (needle, out)
    return out


MISTAKES = [
    # (arguments, extra environment, exit code, what the line must name)
    (["run", "--landing", "/does-not-exist"], {}, 2, ["--landing", "/does-not-exist"]),
    (["report", "--county", "999999", "--year", "2025"], {}, 2, ["--county", "999999"]),
    (["report", "--county", "630102"], {}, 2, ["--county needs --year"]),
    (["status", "--province", "99"], {}, 2, ["--province", "99"]),
    (["status", "--year", "20x5"], {}, 2, ["--year", "20x5"]),
    (["generate", "--years", "2025-2022", "--out", "x"], {}, 2, ["--years", "backwards"]),
    (["generate", "--counties", "0", "--out", "x"], {}, 2, ["--counties"]),
    (["generate", "--province", "63"], {}, 2, ["--out"]),
    (["frobnicate"], {}, 2, ["frobnicate"]),
    (["airflow-ui", "--port", "70000"], {}, 2, ["--port", "70000"]),
    (["grant", "--province", "63", "Bad-Name"], {}, 2, ["Bad-Name"]),
    (["status"], {"EDUSTAT_JURISDICTION": "qinghai"}, 2, ["EDUSTAT_JURISDICTION", "national"]),
    (["status"], {"EDUSTAT_MISSING_DEADLINE": "2026-03-31"}, 2,
     ["EDUSTAT_MISSING_DEADLINE", "MM-DD"]),
    (["status"], {"EDUSTAT_MAX_FILE_BYTES": "50XB"}, 2, ["EDUSTAT_MAX_FILE_BYTES", "50MB"]),
    (["status"], {"EDUSTAT_WAREHOUSE_DSN": "postgresql://u:hunter2@host:port/db"}, 2,
     ["EDUSTAT_WAREHOUSE_DSN", "postgresql://"]),
]


@pytest.mark.parametrize(("args", "env", "code", "needles"), MISTAKES,
                         ids=[" ".join(m[0]) + " " + " ".join(m[1]) for m in MISTAKES])
def test_each_mistake_is_one_clear_line(tmp_path: Path, args: list[str], env: dict[str, str],
                                        code: int, needles: list[str]) -> None:
    out = _assert_one_clear_line(_edustat(args, tmp_path, **env), code, *needles)
    assert "hunter2" not in out


def test_an_unreachable_warehouse_names_host_and_port(tmp_path: Path) -> None:
    port = _closed_port()
    dsn = f"postgresql://edustat:hunter2@127.0.0.1:{port}/edustat"
    for args in (["status"], ["run"], ["report"]):
        out = _assert_one_clear_line(_edustat(args, tmp_path, EDUSTAT_WAREHOUSE_DSN=dsn), 1,
                                     f"127.0.0.1:{port}", "check")
        assert "hunter2" not in out
    # --debug is the way to the traceback.
    debug = _edustat(["--debug", "status"], tmp_path, EDUSTAT_WAREHOUSE_DSN=dsn)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_a_wrong_password_is_one_line(tmp_path: Path, pg_server: str) -> None:
    role = f"edustat_cli_{os.getpid()}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'right-one'")
    try:
        info = psycopg.conninfo.conninfo_to_dict(pg_server)
        dsn = f"postgresql://{role}:wrong-one@{info.get('host', '127.0.0.1')}:" \
              f"{info.get('port', 5432)}/postgres"
        proc = _edustat(["status"], tmp_path, EDUSTAT_WAREHOUSE_DSN=dsn)
        # A trust server lets anyone in: then the read-only status simply finds no data.
        if proc.returncode == 1:
            _assert_one_clear_line(proc, 1, "cannot reach the warehouse")
            assert "wrong-one" not in proc.stderr
        else:
            _assert_one_clear_line(proc, 0, "no submissions yet")
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_version(tmp_path: Path) -> None:
    proc = _edustat(["--version"], tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip().startswith("edustat 0.")


def test_every_option_says_its_default_and_every_command_has_examples() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {c.name for c in COMMANDS}
    for cmd in COMMANDS:
        p = sub.choices[cmd.name]
        assert cmd.examples and all(e.startswith(f"edustat {cmd.name}") for e in cmd.examples)
        assert cmd.docs in (INTERFACE_DOC, "docs/submission-format.md", "docs/methodology.md")
        help_text = p.format_help()
        assert "examples:" in help_text and f"see {cmd.docs}" in help_text
        for action in p._actions:
            if action.dest in ("help",) or action.help is None:
                continue
            assert action.help, (cmd.name, action.dest)
            if action.option_strings:
                assert "default" in action.help or "required" in action.help, \
                    (cmd.name, action.dest)


# -- read-only commands -----------------------------------------------------------------------

def test_status_and_report_run_no_setup_ddl(tmp_path: Path, empty_db: str) -> None:
    status = _edustat(["status"], tmp_path, EDUSTAT_WAREHOUSE_DSN=empty_db)
    _assert_one_clear_line(status, 0, "no submissions yet")
    report = _edustat(["report"], tmp_path, EDUSTAT_WAREHOUSE_DSN=empty_db)
    _assert_one_clear_line(report, 1, "no marts yet")
    with psycopg.connect(empty_db) as conn:
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
    assert not schemas & {"ops", "raw", "marts", "staging", "intermediate"}


# -- status -----------------------------------------------------------------------------------

def _submit(conn: psycopg.Connection, county: str, year: int | None, status: str,
            reason: str | None = None, errors: int = 0) -> None:
    conn.execute(
        """INSERT INTO ops.submissions (county_code, school_year, file_name, landing_path,
               checksum, size_bytes, received_at, status, errors, rejection_reason,
               held_reason, run_id)
           VALUES (%s, %s, 'f.xlsx', '/x', md5(random()::text), 1, clock_timestamp(), %s, %s,
                   %s, %s, 'night-1')""",
        (county, year, status, errors, reason if status == "rejected" else None,
         reason if status == "held" else None))


@pytest.fixture
def statuses(warehouse: str) -> str:
    with psycopg.connect(warehouse) as conn:
        # `held` (a county-year that broke the marts build) and its reason: the reliability
        # work adds them to the schema; here they are added if missing.
        conn.execute("ALTER TABLE ops.submissions ADD COLUMN IF NOT EXISTS held_reason text")
        conn.execute("ALTER TABLE ops.submissions DROP CONSTRAINT IF EXISTS "
                     "submissions_status_check")
        conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES ('night-1', now())")
        for year in (2024, 2025):
            _submit(conn, "630102", year, "accepted")          # 城东区
        _submit(conn, "630103", 2025, "rejected", "缺少必填列", errors=3)  # 城中区
        _submit(conn, "632625", 2025, "held", "dbt: integer out of range")  # 久治县
        _submit(conn, "632626", None, "received")              # 玛多县, not judged yet
        _submit(conn, "620102", 2025, "accepted")              # 甘肃 城关区
    return warehouse


def _status(tmp_path: Path, dsn: str, *args: str) -> list[str]:
    proc = _edustat(["status", *args], tmp_path, EDUSTAT_WAREHOUSE_DSN=dsn,
                    EDUSTAT_JURISDICTION="63")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_status_starts_with_a_summary_and_aligns_chinese_names(tmp_path: Path,
                                                               statuses: str) -> None:
    lines = _status(tmp_path, statuses)
    summary = lines[0]
    # 45 Qinghai counties expected (jurisdiction) and the Gansu county that sent a file.
    assert summary.startswith("46 个县 counties")
    for part in ("已接收 accepted 3", "已退回 rejected 1", "暂缓入库 held 1", "待处理 received 1",
                 "未报送 missing 86"):
        assert part in summary, summary
    table = [line for line in lines[2:] if line and not line.startswith("（")]
    assert "区县 county" in table[0]
    body = table[1:]
    assert len(body) == 46 * 2 - 1 + 1  # Gansu: only 2025; one file without a year
    # The status column starts at the same screen column on every line, whatever the name.
    starts = set()
    for line in body:
        label = next(v for v in LABELS.values() if v in line)
        starts.add(display_width(line[:line.index(label)]))
    assert len(starts) == 1, starts
    held = next(line for line in body if "632625" in line and "2025" in line)
    assert "暂缓入库 held" in held and "integer out of range" in held
    received = next(line for line in body if "632626" in line and "received" in line)
    assert "—" in received


def test_status_filters(tmp_path: Path, statuses: str) -> None:
    problems = _status(tmp_path, statuses, "--problems", "--year", "2025")
    body = [line for line in problems[2:] if line and not line.startswith(("区县", "（"))]
    assert body and not any("已接收 accepted" in line for line in body)
    assert any("630103" in line for line in body) and any("632625" in line for line in body)
    assert all("2025" in line for line in body)
    gansu = _status(tmp_path, statuses, "--province", "62")
    assert gansu[0].startswith("1 个县 counties")
    rows = [line for line in gansu[2:] if "620102" in line]
    assert len(rows) == 1 and not any("630102" in line for line in gansu)


def test_run_summary_says_held_counties_and_undelivered_alerts(tmp_path: Path,
                                                               statuses: str) -> None:
    from datetime import UTC, datetime

    from edustat.config import load_settings
    from edustat.orchestration import DagRunOutcome
    from edustat.summary import print_run_summary

    with psycopg.connect(statuses) as conn:
        conn.execute("UPDATE ops.runs SET status = 'success', alerts_failed = 3")
    said: list[str] = []
    outcome = DagRunOutcome(datetime.now(UTC), 0, tmp_path / "run.log", run_id="night-1")
    ok = print_run_summary(load_settings({"EDUSTAT_HOME": str(tmp_path)}), statuses, outcome,
                           say=said.append)
    text = "\n".join(said)
    assert ok, text  # the data night succeeded
    assert "3 alert deliveries failed (the data night succeeded)" in text
    assert "暂缓 held 1" in text
    held = next(line for line in said if "632625" in line)
    assert "久治县" in held and "integer out of range" in held


def test_dbt_runs_against_the_configured_warehouse(tmp_path: Path, warehouse: str) -> None:
    proc = _edustat(["dbt", "debug"], tmp_path, timeout=300, EDUSTAT_WAREHOUSE_DSN=warehouse)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    dbname = psycopg.conninfo.conninfo_to_dict(warehouse)["dbname"]
    assert "Connection test: [OK connection ok]" in out and dbname in out
    # dbt's files stay out of the repo, under EDUSTAT_HOME.
    assert (tmp_path / "home" / "dbt_manual" / "logs").is_dir()
