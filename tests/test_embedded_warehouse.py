"""The embedded warehouse a fresh machine gets (no EDUSTAT_WAREHOUSE_DSN), started for real.

Protects: a server that accepts any password or none on TCP, a password file others can read
or a DSN that carries the password into logs, a socket open to other OS users, commits
acknowledged before they are durable (synchronous_commit off), `edustat stop` that does not
stop it or a command after it that does not start it again, and a ministry_reader login that
can connect to other databases of the server or create temporary tables.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from edustat.config import load_settings
from edustat.warehouse import embedded
from edustat.warehouse.bootstrap import bootstrap
from edustat.warehouse.connection import dsn_parts, resolve_dsn, with_database

EDUSTAT = str(Path(sys.executable).parent / "edustat")

pytestmark = pytest.mark.skipif(
    not any(Path(p).exists() for p in ("/usr/lib/postgresql", "/usr/local/bin/initdb")),
    reason="PostgreSQL server binaries are installed by `make deps-os`")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("embedded") / "home"
    settings = load_settings({"EDUSTAT_HOME": str(home)})
    try:
        yield home
    finally:
        embedded.stop(settings.pgdata)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUSTAT_")}
    return {**env, "EDUSTAT_HOME": str(home)}


@pytest.fixture(scope="module")
def dsn(home: Path) -> str:
    dsn = resolve_dsn(load_settings({"EDUSTAT_HOME": str(home)}))
    bootstrap(dsn)
    return dsn


def test_the_password_is_generated_kept_0600_and_not_in_the_dsn(home: Path, dsn: str) -> None:
    passfile = home / "secrets" / embedded.PASSFILE
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    assert stat.S_IMODE(passfile.parent.stat().st_mode) == 0o700
    password = embedded.passfile_password(passfile)
    assert len(password) >= 24
    assert password not in dsn and f"passfile={passfile}" in dsn
    assert dsn_parts(dsn)["password"] == password  # what dbt's profile gets
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        rules = conn.execute(
            "SELECT type, auth_method FROM pg_hba_file_rules WHERE error IS NULL").fetchall()
    assert {method for kind, method in rules if kind == "host"} == {"scram-sha-256"}
    assert {method for kind, method in rules if kind == "local"} == {"peer"}


def test_a_wrong_or_missing_password_is_refused(dsn: str) -> None:
    parts = dsn_parts(dsn)
    for password in ("wrong-password", ""):
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(host="127.0.0.1", port=parts["port"], user="postgres",
                            dbname=parts["dbname"], password=password, passfile="/dev/null",
                            connect_timeout=10)
        assert "password" in str(refused.value)
    with psycopg.connect(host="127.0.0.1", port=parts["port"], user="postgres",
                         dbname=parts["dbname"], password=parts["password"]) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs two OS users: runs as root here")
def test_the_socket_admits_the_owner_only(home: Path, dsn: str) -> None:
    port = dsn_parts(dsn)["port"]
    pgdata = home / "pgdata"
    psql = str(embedded.find_bin_dir() / "psql")
    if not Path(psql).exists():
        psql = "psql"
    owner = subprocess.run(["runuser", "-u", "postgres", "--", psql, "-h", str(pgdata), "-p",
                            port, "-U", "postgres", "-d", "edustat", "-Atc", "SELECT 42"],
                           capture_output=True, text=True, timeout=60)
    assert owner.returncode == 0 and owner.stdout.strip() == "42", owner.stderr
    # root is not the owner: peer authentication refuses it as postgres.
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(host=str(pgdata), port=port, user="postgres", dbname="edustat",
                        passfile="/dev/null", connect_timeout=10)
    assert "Peer authentication failed" in str(refused.value)


def test_ministry_reader_connects_to_the_warehouse_only_and_creates_nothing(dsn: str) -> None:
    login = f"edustat_ministry_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'reader-pw' IN ROLE ministry_reader")
    try:
        parts = dsn_parts(dsn)
        member = {"host": "127.0.0.1", "port": parts["port"], "user": login,
                  "password": "reader-pw", "passfile": "/dev/null", "connect_timeout": 10}
        with psycopg.connect(dbname="edustat", autocommit=True, **member) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "edustat"
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("CREATE TEMP TABLE scratch (x int)")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT count(*) FROM ops.submissions")
        for other in ("postgres", "template1"):
            with pytest.raises(psycopg.OperationalError) as refused:
                psycopg.connect(dbname=other, **member)
            assert "permission denied" in str(refused.value)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {login}")


def test_stop_and_the_next_command_starts_it_again(home: Path, dsn: str) -> None:
    pgdata = home / "pgdata"
    assert embedded.is_running(pgdata)
    stopped = subprocess.run([EDUSTAT, "stop"], env=_env(home), capture_output=True,
                             text=True, timeout=120)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not embedded.is_running(pgdata)
    again = subprocess.run([EDUSTAT, "stop"], env=_env(home), capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and "not running" in again.stdout
    status = subprocess.run([EDUSTAT, "status"], env=_env(home), capture_output=True,
                            text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    assert embedded.is_running(pgdata)
    # Nothing committed before the stop was lost, and the bootstrap is still there.
    with psycopg.connect(with_database(dsn, "edustat")) as conn:
        assert conn.execute("SELECT to_regclass('ops.submissions')").fetchone()[0]


def test_two_warehouses_of_one_cluster_bootstrap_at_once(tmp_path: Path) -> None:
    """Roles are cluster-wide: the second of two first bootstraps must not fail on the role."""
    pgdata = tmp_path / "pgdata"
    server = embedded.ensure_running(pgdata, tmp_path / "secrets")
    try:
        with psycopg.connect(server, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = "
                                "'ministry_reader'").fetchone()[0] == 0
            conn.execute("CREATE DATABASE province")
        first = psycopg.connect(server)  # the other bootstrap, caught inside its CREATE ROLE
        first.execute("CREATE ROLE ministry_reader NOLOGIN")
        errors: list[BaseException] = []

        def second() -> None:
            try:
                bootstrap(with_database(server, "province"))
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        worker = threading.Thread(target=second)
        worker.start()
        worker.join(3)
        assert worker.is_alive(), "the second bootstrap should wait for the first's role"
        first.commit()
        first.close()
        worker.join(60)
        assert not worker.is_alive() and errors == []
        with psycopg.connect(with_database(server, "province")) as conn:
            assert conn.execute("SELECT has_schema_privilege('ministry_reader', 'marts', "
                                "'USAGE')").fetchone()[0]
    finally:
        embedded.stop(pgdata)
