"""Run the dbt project (dbt_project/) against a warehouse: build the marts, generate the docs.

dbt runs as a subprocess of this venv's `dbt` with the repo's project and profiles; every file
it writes (manifest, run results, logs, docs) goes under the caller's target_dir so the working
copy stays clean and parallel builds do not share state. The connection comes from the DSN via
EDUSTAT_PG_* environment variables that dbt_project/profiles.yml reads.

One `dbt build` for the whole graph (seeds, models, unit and data tests): per-model tasks cost
more than the models themselves at this size (each pays dbt's start-up, ~4 s).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edustat.config import REPO_ROOT
from edustat.processes import die_with_parent
from edustat.warehouse.connection import dsn_parts

PROJECT_DIR = REPO_ROOT / "dbt_project"
# run_results statuses that mean the node did not do its job (tests: fail; models: error).
_FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
_OUTPUT_TAIL_CHARS = 8000


class DbtError(RuntimeError):
    """dbt could not do what was asked (docs generation failed, dbt missing, ...)."""


@dataclass(frozen=True)
class FailedNode:
    unique_id: str
    name: str
    resource_type: str  # model, test, unit_test, seed, ...
    status: str  # error | fail | runtime error
    message: str
    failures: int | None = None  # failing rows of a data test


@dataclass(frozen=True)
class DbtResult:
    ok: bool
    returncode: int
    elapsed: float  # seconds, wall clock of the dbt process
    failed: tuple[FailedNode, ...] = ()
    skipped: tuple[str, ...] = ()  # names of nodes dbt skipped because something upstream failed
    node_count: int = 0
    target_dir: Path = field(default_factory=Path)
    output: str = ""  # tail of dbt's console output, for logs and alert digests

    @property
    def failed_names(self) -> list[str]:
        return [node.name for node in self.failed]

    def summary(self) -> str:
        """One line for logs and alerts, English; the messages themselves are dbt's."""
        if self.ok:
            return f"dbt build ok: {self.node_count} nodes in {self.elapsed:.1f}s"
        names = ", ".join(self.failed_names) or "see output"
        return (f"dbt build failed (exit {self.returncode}): {len(self.failed)} failed "
                f"[{names}], {len(self.skipped)} skipped, {self.elapsed:.1f}s")


def dbt_executable() -> Path:
    """The dbt of the running interpreter's environment (never whatever is first on PATH)."""
    return Path(sys.executable).parent / "dbt"


def dbt_env(dsn: str | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a dbt subprocess: connection settings from the DSN (none for commands
    that never connect, e.g. parse), no telemetry."""
    env = dict(os.environ if base is None else base)
    if dsn is not None:
        parts = dsn_parts(dsn)
        env.update({
            "EDUSTAT_PG_HOST": parts["host"],
            "EDUSTAT_PG_PORT": parts["port"],
            "EDUSTAT_PG_USER": parts["user"],
            "EDUSTAT_PG_PASSWORD": parts["password"],
            "EDUSTAT_PG_DBNAME": parts["dbname"],
        })
    env.update({
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DBT_USE_COLORS": "false",
    })
    return env


def _common_args(target_dir: Path) -> list[str]:
    return [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target_dir),
        "--log-path", str(target_dir / "logs"),
    ]


def _run(args: list[str], dsn: str | None, target_dir: Path) -> tuple[int, str, float]:
    target_dir.mkdir(parents=True, exist_ok=True)
    executable = dbt_executable()
    if not executable.exists():
        raise DbtError(f"dbt not found at {executable}; install the project's requirements")
    started = time.monotonic()
    completed = subprocess.run(
        [str(executable), *args],
        env=dbt_env(dsn),
        cwd=str(target_dir),  # anything dbt writes relative to cwd lands here, not in the repo
        capture_output=True,
        text=True,
        check=False,
        # A task killed with -9 must not leave dbt building on (edustat.processes).
        preexec_fn=functools.partial(die_with_parent, os.getpid()),
    )
    output = (completed.stdout or "") + (completed.stderr or "")
    return completed.returncode, output, time.monotonic() - started


def parse_run_results(path: Path) -> tuple[list[FailedNode], list[str], int]:
    """Failed nodes, skipped node names and node count from dbt's run_results.json."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    failed: list[FailedNode] = []
    skipped: list[str] = []
    results = data.get("results", [])
    for result in results:
        unique_id = str(result.get("unique_id", ""))
        name = unique_id.split(".")[-1] if unique_id else "?"
        status = str(result.get("status", ""))
        if status in _FAILED_STATUSES:
            failed.append(FailedNode(
                unique_id=unique_id,
                name=_node_name(unique_id, name),
                resource_type=unique_id.split(".")[0] if unique_id else "?",
                status=status,
                message=str(result.get("message") or ""),
                failures=result.get("failures"),
            ))
        elif status == "skipped":
            skipped.append(_node_name(unique_id, name))
    return failed, skipped, len(results)


def _node_name(unique_id: str, fallback: str) -> str:
    # test.edustat.unique_combination_school_indicators_....<hash>: the hash is noise.
    parts = unique_id.split(".")
    if parts and parts[0] in ("test", "unit_test") and len(parts) >= 3:
        return parts[2] if parts[0] == "test" else ".".join(parts[2:])
    return fallback


def dbt_build(
    dsn: str,
    target_dir: Path,
    select: str | None = None,
    vars: dict[str, Any] | None = None,  # named like dbt's --vars on purpose
    full_refresh: bool = False,
    exclude: str | None = None,
) -> DbtResult:
    """`dbt build` (seeds, models, unit and data tests) into the warehouse at `dsn`.

    ok is True only when dbt exited 0 and no node errored or failed: a failing mart test
    makes the build not ok, although the marts built before it stay in place (each swap is
    atomic, so readers see old or new tables, never a half-built one).
    vars: e.g. {"jurisdiction": ["63"]}; without it the models fall back to the
    EDUSTAT_JURISDICTION environment variable.
    full_refresh: rebuild incremental models from scratch (edustat.warehouse.build_scope).
    """
    target_dir = Path(target_dir).resolve()
    results_path = target_dir / "run_results.json"
    results_path.unlink(missing_ok=True)  # never report a previous build's results
    args = ["build", *_common_args(target_dir)]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if full_refresh:
        args.append("--full-refresh")
    if vars:
        args += ["--vars", json.dumps(vars, ensure_ascii=False)]
    returncode, output, elapsed = _run(args, dsn, target_dir)
    tail = output[-_OUTPUT_TAIL_CHARS:]
    if results_path.exists():
        failed, skipped, count = parse_run_results(results_path)
    else:
        # dbt stopped before running anything (parse or connection error): the reason is in
        # its output.
        failed, skipped, count = [], [], 0
    if returncode != 0 and not failed:
        failed = [FailedNode(unique_id="dbt", name="dbt", resource_type="invocation",
                             status="error", message=_last_error_lines(output))]
    return DbtResult(
        ok=returncode == 0 and not failed,
        returncode=returncode,
        elapsed=elapsed,
        failed=tuple(failed),
        skipped=tuple(skipped),
        node_count=count,
        target_dir=target_dir,
        output=tail,
    )


def dbt_docs_generate(dsn: str, target_dir: Path) -> Path:
    """dbt docs (manifest + catalog + index.html) under target_dir; returns index.html.

    Also writes static_index.html, a single file that opens without a web server.
    Raises DbtError when dbt fails.
    """
    target_dir = Path(target_dir).resolve()
    args = ["docs", "generate", "--static", *_common_args(target_dir)]
    returncode, output, _ = _run(args, dsn, target_dir)
    index = target_dir / "index.html"
    if returncode != 0 or not index.exists():
        raise DbtError(f"dbt docs generate failed (exit {returncode}): {_last_error_lines(output)}")
    return index


def dbt_parse(target_dir: Path) -> Path:
    """The project's manifest.json (models, columns, meta, tests) under target_dir, without a
    database: `dbt parse` renders profiles.yml but never connects. Raises DbtError."""
    target_dir = Path(target_dir).resolve()
    returncode, output, _ = _run(["parse", *_common_args(target_dir)], None, target_dir)
    manifest = target_dir / "manifest.json"
    if returncode != 0 or not manifest.exists():
        raise DbtError(f"dbt parse failed (exit {returncode}): {_last_error_lines(output)}")
    return manifest


def _last_error_lines(output: str, lines: int = 15) -> str:
    kept = [line for line in output.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])
