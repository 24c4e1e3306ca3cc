"""An embedded Postgres under EDUSTAT_HOME, for a machine with no EDUSTAT_WAREHOUSE_DSN.

Uses the server binaries of the OS package (the Makefile installs it where missing). initdb
refuses to run as root, so as root the server runs as the `postgres` OS user (created by the
package) via runuser. The server listens on 127.0.0.1 only, on a port chosen once and kept in
the data directory so later runs find it again.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PORT_FILE = "edustat_port"


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


def ensure_running(pgdata: Path) -> str:
    """Start (initialising if needed) the embedded server; return its DSN."""
    bin_dir = find_bin_dir()
    pgdata = pgdata.resolve()
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(pgdata, "postgres", "postgres")
            # runuser needs to traverse the parents of EDUSTAT_HOME.
            for parent in pgdata.parents:
                parent.chmod(parent.stat().st_mode | 0o011)
                if parent == Path(parent.anchor):
                    break
        subprocess.run(
            _as_owner([str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres",
                       "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True, text=True,
        )
        (pgdata / PORT_FILE).write_text(str(_free_port()))
    port = int((pgdata / PORT_FILE).read_text())
    if not _is_listening(port):
        log = pgdata / "server.log"
        opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {pgdata} -c synchronous_commit=off"
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-l", str(log),
                       "-o", opts, "-w", "-t", "60", "start"]),
            check=True, capture_output=True, text=True,
        )
        deadline = time.monotonic() + 30
        while not _is_listening(port):
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(f"embedded Postgres did not start; see {log}")
            time.sleep(0.2)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def stop(pgdata: Path) -> None:
    if (pgdata / "PG_VERSION").exists():
        subprocess.run(
            _as_owner([str(find_bin_dir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "stop"]),
            check=False, capture_output=True,
        )
