"""An embedded Postgres under EDUSTAT_HOME, for a machine with no EDUSTAT_WAREHOUSE_DSN.

Uses the server binaries of the OS package (the Makefile installs it where missing). initdb
refuses to run as root, so as root the server runs as the `postgres` OS user (created by the
package) via runuser. The server listens on 127.0.0.1 only, on a port chosen once and kept in
the data directory so later runs find it again.

Secure by default: TCP logins need the `postgres` role's password (scram-sha-256), generated at
initdb and kept in EDUSTAT_HOME/secrets/warehouse.pgpass (0600, libpq's passfile format); the
Unix socket lives inside the 0700 data directory and admits only the OS user owning it (peer).
The DSN names the passfile instead of carrying the password, so it can be printed and logged.
Commits are synchronous: an acknowledged commit survives a crash or an immediate stop.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

PORT_FILE = "edustat_port"
PASSFILE = "warehouse.pgpass"
SUPERUSER = "postgres"


class EmbeddedPostgresError(RuntimeError):
    pass


def find_bin_dir() -> Path:
    candidates = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise EmbeddedPostgresError(
        "No PostgreSQL server binaries found (initdb, pg_ctl). Run `make deps-os` "
        "(installs Debian's postgresql) or set EDUSTAT_WAREHOUSE_DSN."
    )


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def write_secret(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (0600) before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def passfile_password(passfile: Path) -> str:
    """The password of a one-line libpq passfile (host:port:db:user:password)."""
    line = passfile.read_text(encoding="utf-8").strip().splitlines()[0]
    return line.split(":", 4)[4].replace("\\:", ":").replace("\\\\", "\\")


def _pgpass_line(port: int, password: str) -> str:
    # Only [A-Za-z0-9_-] in generated passwords: nothing to escape in the passfile.
    return f"127.0.0.1:{port}:*:{SUPERUSER}:{password}\n"


def _initdb(bin_dir: Path, pgdata: Path, password: str) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    pgdata.chmod(0o700)
    pwfile = pgdata.parent / f".initdb-{os.getpid()}.pw"
    write_secret(pwfile, password + "\n")
    try:
        if os.geteuid() == 0:
            shutil.chown(pgdata, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
            # runuser needs to traverse the parents of EDUSTAT_HOME.
            for parent in pgdata.parents:
                parent.chmod(parent.stat().st_mode | 0o011)
                if parent == Path(parent.anchor):
                    break
        subprocess.run(
            _as_owner([str(bin_dir / "initdb"), "-D", str(pgdata), "-U", SUPERUSER,
                       "--auth-host=scram-sha-256", "--auth-local=peer",
                       f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True, text=True,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _harden_old_cluster(pgdata: Path, port: int, password: str) -> None:
    """A data directory from before passwords (trust): set one and require it from now on."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(SUPERUSER), sql.Literal(password)))
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        hba_text = ("local all all peer\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n"
                    "host all all ::1/128 scram-sha-256\n")
        subprocess.run(_as_owner(["tee", str(hba)]), input=hba_text, check=True,
                       capture_output=True, text=True)
        conn.execute("SELECT pg_reload_conf()")


def ensure_running(pgdata: Path, secrets_dir: Path | None = None) -> str:
    """Start (initialising if needed) the embedded server; return its DSN (no password in it:
    `passfile=` names the 0600 file that holds it)."""
    bin_dir = find_bin_dir()
    pgdata = pgdata.resolve()
    passfile = (secrets_dir or pgdata.parent / "secrets").resolve() / PASSFILE
    fresh = not (pgdata / "PG_VERSION").exists()
    if fresh:
        password = secrets.token_urlsafe(24)
        _initdb(bin_dir, pgdata, password)
        port = _free_port()
        (pgdata / PORT_FILE).write_text(str(port))
        write_secret(passfile, _pgpass_line(port, password))
    port = int((pgdata / PORT_FILE).read_text())
    if not _is_listening(port):
        log = pgdata / "server.log"
        opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {pgdata}"
        started = subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-l", str(log),
                       "-o", opts, "-w", "-t", "60", "start"]),
            check=False, capture_output=True, text=True,
        )
        if started.returncode != 0:
            raise EmbeddedPostgresError(
                f"嵌入式数据仓库未能启动 the embedded warehouse did not start "
                f"(pg_ctl exit {started.returncode}); see {log}")
        deadline = time.monotonic() + 30
        while not _is_listening(port):
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(f"embedded Postgres did not start; see {log}")
            time.sleep(0.2)
    if not passfile.exists():
        password = secrets.token_urlsafe(24)
        _harden_old_cluster(pgdata, port, password)
        write_secret(passfile, _pgpass_line(port, password))
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres?passfile={passfile}"


def is_running(pgdata: Path) -> bool:
    port_file = pgdata / PORT_FILE
    return port_file.exists() and _is_listening(int(port_file.read_text()))


def stop(pgdata: Path) -> bool:
    """Stop the embedded server (fast shutdown: sessions end, commits are kept). True if it
    was running."""
    if not (pgdata / "PG_VERSION").exists() or not is_running(pgdata):
        return False
    subprocess.run(
        _as_owner([str(find_bin_dir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w",
                   "stop"]),
        check=False, capture_output=True,
    )
    return True
