"""The production deployment under docker/ is consistent with the code, without a Docker engine.

Protects: a compose file that no longer parses or lacks a component of the issue's topology; a
COPY, build context, env file or volume pointing at a path the repo does not have; an image
that installs something else than the pins (pyproject.toml + requirements.lock); an entrypoint
that is not executable, not valid bash, or starts any service (Airflow components and the
Postgres containers) with an empty or change-me secret; a login that is not a real auth
manager (the FAB auth manager is started for real: anonymous REST calls refused); an env
example that forgets a setting of docs/interface.md or points a DSN at a service that does not
exist; a component command or healthcheck that is not a real `airflow`/`celery` command of the
pinned versions (each is run with --help from the venv).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from support.rest import free_port, request_json

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
DOCKERFILE = DOCKER / "Dockerfile"
ENTRYPOINT = DOCKER / "entrypoint.sh"
ENV_EXAMPLE = DOCKER / ".env.example"
VENV_BIN = Path(sys.executable).parent

# The topology of the issue ("scale"): warehouse, metadata DB, broker, init and the Airflow 3
# components with N Celery workers.
REQUIRED_SERVICES = {"warehouse", "airflow-db", "redis", "airflow-init", "api-server",
                     "scheduler", "dag-processor", "triggerer", "worker"}
AIRFLOW_COMPONENTS = {"api-server", "scheduler", "dag-processor", "triggerer", "worker"}


# -- parsing helpers --------------------------------------------------------------------------

def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default} with no variables set: what a fresh checkout gets."""
    def default(match: re.Match[str]) -> str:
        assert match.group(2) is not None, f"{match.group(0)} has no default"
        return match.group(2)

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", default, value)


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    out = []
    for line in logical:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY/ADD from the build context."""
    result = []
    for word, rest in _instructions():
        if word in ("COPY", "ADD"):
            tokens = shlex.split(rest)
            assert not any(t.startswith("--from") for t in tokens), "no multi-stage copies"
            args = [t for t in tokens if not t.startswith("--")]
            result.append((args[:-1], args[-1]))
    return result


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=VALUE: {line!r}"
            assert key not in values, f"{key} set twice"
            values[key] = value
    return values


def _airflow_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}")
    return env


# -- compose ----------------------------------------------------------------------------------

def test_compose_has_every_component_of_the_topology() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) >= REQUIRED_SERVICES
    assert services["warehouse"]["image"] == "postgres:15"
    assert services["airflow-db"]["image"] == "postgres:15"
    assert services["redis"]["image"].startswith("redis")
    # N workers, 2 unless EDUSTAT_WORKERS says otherwise.
    assert _interpolate(str(services["worker"]["deploy"]["replicas"])) == "2"
    assert "${EDUSTAT_WORKERS" in COMPOSE.read_text(encoding="utf-8")
    for name in REQUIRED_SERVICES - {"airflow-init"}:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    # Memory-conscious: every long-running service has a limit.
    for name in REQUIRED_SERVICES - {"airflow-init"}:
        assert services[name]["deploy"]["resources"]["limits"]["memory"], name
    # Components start after the one-off migration succeeded.
    for name in AIRFLOW_COMPONENTS:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["airflow-init"]["command"] == ["init"]
    assert services["airflow-init"]["restart"] == "no"


def test_compose_paths_exist_in_the_repo() -> None:
    compose = _compose()
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = (DOCKER / build["context"]).resolve()
            assert context == REPO, f"{name}: build context must be the repo root"
            assert (context / build["dockerfile"]).resolve() == DOCKERFILE
        for entry in service.get("env_file") or []:
            path = DOCKER / (entry["path"] if isinstance(entry, dict) else entry)
            required = entry.get("required", True) if isinstance(entry, dict) else True
            if required:
                assert path.is_file(), f"{name}: env_file {path} missing"
        for volume in service.get("volumes") or []:
            source = _interpolate(volume if isinstance(volume, str) else volume["source"])
            source = source.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (DOCKER / source).exists(), f"{name}: mounts missing {source}"
            else:
                assert source in declared_volumes, f"{name}: volume {source} not declared"
    # The Airflow components share state: landing, EDUSTAT_HOME and task logs.
    for name in AIRFLOW_COMPONENTS:
        targets = {v.rsplit(":", 1)[-1] for v in compose["services"][name]["volumes"]}
        assert {"/var/lib/edustat", "/var/lib/edustat/landing", "/opt/airflow/logs"} <= targets


# -- Dockerfile -------------------------------------------------------------------------------

def test_dockerfile_copies_paths_that_exist() -> None:
    instructions = _instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    copies = _copies()
    sources = [s for srcs, _ in copies for s in srcs]
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: not in the repo"
    for needed in ("dags/", "plugins/", "src/", "dbt_project/", "expectations/", "pyproject.toml",
                   "requirements.lock", "docker/entrypoint.sh"):
        assert needed in sources, f"the image lacks {needed}"
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert "postgresql-client" in runs
    # The cluster policy lands where Airflow imports airflow_local_settings from.
    env = " ".join(rest for word, rest in instructions if word == "ENV")
    airflow_home = re.search(r"AIRFLOW_HOME=(\S+)", env).group(1)
    assert (["docker/airflow_local_settings.py"],
            f"{airflow_home}/config/airflow_local_settings.py") in copies


def test_dockerignore_keeps_state_out_and_code_in() -> None:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for excluded in (".venv", ".edustat", ".git", ".pytest_cache", ".ruff_cache"):
        assert excluded in patterns
    for sources, _ in _copies():
        for source in sources:
            top = source.rstrip("/").split("/")[0]
            assert top not in patterns and source.rstrip("/") not in patterns, source


def _pip_installs() -> list[list[str]]:
    commands = []
    for word, rest in _instructions():
        if word == "RUN":
            command: list[str] = []
            for token in [*shlex.split(rest), "&&"]:
                if token in ("&&", ";", "||"):
                    if command[:2] == ["pip", "install"]:
                        commands.append(command[2:])
                    command = []
                else:
                    command.append(token)
    return commands


def test_image_installs_exactly_the_pins() -> None:
    installs = _pip_installs()
    assert installs, "the Dockerfile installs nothing"
    runs = " ".join(rest for word, rest in _instructions() if word == "RUN")
    for args in installs:
        assert "-c" in args and args[args.index("-c") + 1] == "requirements.lock", args
        i = 0
        while i < len(args):
            token = args[i]
            if token in ("-c", "-r", "-e"):
                value = args[i + 1]
                if token == "-e":
                    assert value == "." and "--no-deps" in args, "the project, without deps"
                if token == "-r":
                    # The requirements file is generated from pyproject's dependencies.
                    assert f"> {value}" in runs
                    assert "['project']['dependencies']" in runs
                i += 2
                continue
            assert token.startswith("-"), f"unpinned pip install of {token!r}"
            i += 1

    import tomllib

    lock = dict(line.split("==", 1) for line in
                (REPO / "requirements.lock").read_text().split() if "==" in line)
    lock = {_norm(k): v for k, v in lock.items()}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, sep, version = requirement.partition("==")
        assert sep, f"{requirement} is not pinned"
        assert lock[_norm(name.split("[")[0])] == version, f"{requirement} vs requirements.lock"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_venv_is_the_lock() -> None:
    """The venv the scale-out test runs in has the image's versions, or it proves nothing."""
    from importlib.metadata import distributions

    installed = {_norm(d.metadata["Name"]): d.version for d in distributions()}
    lock = [line.split("==", 1) for line in
            (REPO / "requirements.lock").read_text().split() if "==" in line]
    drift = {name: (version, installed.get(_norm(name)))
             for name, version in lock if installed.get(_norm(name)) != version}
    assert drift == {}, f"requirements.lock vs venv (lock, installed): {drift}"
    # And the lock is complete: nothing the image needs is left for pip to pick freely.
    unpinned = set(installed) - {_norm(name) for name, _ in lock}
    assert unpinned <= {"edustat", "pip", "setuptools", "wheel"}, unpinned


# -- entrypoint -------------------------------------------------------------------------------

def test_entrypoint_is_executable_and_valid_bash() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/usr/bin/env bash")
    check = subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    entry = dict(_instructions())["ENTRYPOINT"]
    target = yaml.safe_load(entry)[0]
    assert (["docker/entrypoint.sh"], target) in _copies()
    # init migrates the metadata DB before any component starts.
    assert "airflow db migrate" in ENTRYPOINT.read_text()


def _run_entrypoint(tmp_path: Path, args: list[str], **env: str
                    ) -> subprocess.CompletedProcess[str]:
    base = _airflow_env(tmp_path)
    base.update(env)
    return subprocess.run(["bash", str(ENTRYPOINT), *args], env=base, capture_output=True,
                          text=True, timeout=120)


SECRETS = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND",
           "EDUSTAT_WAREHOUSE_DSN", "EDUSTAT_ADMIN_PASSWORD")


def _real_secrets(database: str = "postgresql+psycopg2://airflow:s3cret@127.0.0.1:9/airflow"
                  ) -> dict[str, str]:
    """Every secret the deployment needs, with values nobody copied from the example."""
    return {
        "AIRFLOW__API_AUTH__JWT_SECRET": "9f1c2d7a3b8e4f60",
        "AIRFLOW__CORE__FERNET_KEY": "kPzmL0x1pYw2Qx3S4u5V6w7X8y9Z0a1B2c3D4e5F6g0=",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database,
        "EDUSTAT_WAREHOUSE_DSN": "postgresql://edustat:s3cret@127.0.0.1:9/edustat",
        "EDUSTAT_ADMIN_PASSWORD": "a-long-admin-password",
    }


def test_entrypoint_secret_list_is_the_documented_one() -> None:
    text = ENTRYPOINT.read_text()
    listed = re.search(r'SECRETS="([^"]*)"', text).group(1).split()
    assert tuple(listed) == SECRETS
    example = _env_example()
    # Every secret is in the example, as a placeholder or empty: a copy must be edited.
    for name in SECRETS:
        assert "change-me" in example[name] or example[name] == "", name


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("component", ["init", "scheduler", "api-server"])
def test_entrypoint_refuses_each_placeholder_and_empty_secret(tmp_path: Path, secret: str,
                                                             component: str) -> None:
    example = _env_example()
    for bad in (example[secret], ""):
        proc = _run_entrypoint(tmp_path, [component], **{**_real_secrets(), secret: bad})
        assert proc.returncode == 1, (secret, bad, proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and secret in lines[0] and "docker/.env" in lines[0], lines
        # The line names the variable, never its value (a DSN carries a password).
        assert bad in ("", "change-me") or bad not in lines[0]


def test_entrypoint_refuses_a_dsn_without_password(tmp_path: Path) -> None:
    proc = _run_entrypoint(tmp_path, ["scheduler"], **{
        **_real_secrets(), "EDUSTAT_WAREHOUSE_DSN": "postgresql://edustat:@warehouse/edustat"})
    assert proc.returncode == 1 and "EDUSTAT_WAREHOUSE_DSN" in proc.stderr


@pytest.mark.parametrize("service", ["warehouse", "airflow-db"])
def test_postgres_services_refuse_placeholder_passwords(tmp_path: Path, service: str) -> None:
    """The postgres containers run docker/require-secrets.sh before their own entrypoint."""
    spec = _compose()["services"][service]
    entry = spec["entrypoint"]
    volumes = {v.split(":")[1]: v.split(":")[0] for v in spec["volumes"]}
    script = DOCKER / volumes[entry[0]]
    guarded = entry[1:entry.index("--")]
    assert guarded == ["POSTGRES_PASSWORD"]
    variable = re.fullmatch(r"\$\{(\w+):-\}", spec["environment"]["POSTGRES_PASSWORD"]).group(1)
    example = _env_example()[variable]
    assert "change-me" in example
    for value, code in ((example, 1), ("", 1), ("a-real-password", 0)):
        # `true` stands in for the image's docker-entrypoint.sh.
        proc = subprocess.run(["sh", str(script), *guarded, "--", "true"], capture_output=True,
                              text=True, env={"PATH": os.environ["PATH"],
                                              "POSTGRES_PASSWORD": value})
        assert proc.returncode == code, (value, proc.stderr)
        if code:
            assert "POSTGRES_PASSWORD" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_entrypoint_gives_up_on_an_unreachable_database(tmp_path: Path) -> None:
    proc = _run_entrypoint(
        tmp_path, ["scheduler"],
        **_real_secrets(), EDUSTAT_WAIT_SECONDS="2")
    assert proc.returncode == 1
    assert "not ready" in proc.stderr


def test_entrypoint_waits_for_the_database_then_runs_airflow(tmp_path: Path,
                                                           pg_server: str) -> None:
    conn = "postgresql+psycopg2://" + pg_server.split("://", 1)[1]
    proc = _run_entrypoint(tmp_path, ["celery", "worker", "--help"], **_real_secrets(conn))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "airflow-db ready" in proc.stderr
    assert "--celery-hostname" in proc.stdout  # exec'd `airflow celery worker --help`


# -- env example ------------------------------------------------------------------------------

def test_env_example_names_every_setting() -> None:
    example = _env_example()
    # The README's configuration table is the user-facing list (docs/interface.md's variables and
    # the platform's own); config.py is what the code reads. Both must be in the example.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(EDUSTAT_[A-Z_]+)`", readme))
    config = (REPO / "src" / "edustat" / "config.py").read_text()
    read_by_code = set(re.findall(r"\"(EDUSTAT_[A-Z_]+)\"", config))
    assert {"EDUSTAT_WAREHOUSE_DSN", "EDUSTAT_HOME", "EDUSTAT_JURISDICTION",
            "EDUSTAT_ALERT_URLS"} <= documented
    missing = (documented | read_by_code | {"EDUSTAT_TASK_QUEUES"}) - set(example)
    assert missing == set()
    assert example["EDUSTAT_ALERT_URLS"] == ""
    assert example["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "change-me" in example["AIRFLOW__API_AUTH__JWT_SECRET"]


def test_env_example_points_at_the_compose_services() -> None:
    example = _env_example()
    services = _compose()["services"]

    warehouse = urlsplit(example["EDUSTAT_WAREHOUSE_DSN"])
    assert warehouse.hostname == "warehouse"
    env = services["warehouse"]["environment"]
    assert warehouse.username == env["POSTGRES_USER"]
    # The container's password is docker/.env's WAREHOUSE_DB_PASSWORD (compose interpolation).
    assert env["POSTGRES_PASSWORD"] == "${WAREHOUSE_DB_PASSWORD:-}"
    assert warehouse.path == "/" + env["POSTGRES_DB"]
    assert warehouse.password == example["WAREHOUSE_DB_PASSWORD"]

    env = services["airflow-db"]["environment"]
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        url = urlsplit(example[key])
        assert url.hostname == "airflow-db", key
        assert url.username == env["POSTGRES_USER"], key
        assert env["POSTGRES_PASSWORD"] == "${AIRFLOW_DB_PASSWORD:-}"
        assert url.password == example["AIRFLOW_DB_PASSWORD"], key
        assert url.path == "/" + env["POSTGRES_DB"], key
    assert example["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert example["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")

    assert urlsplit(example["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    execution = urlsplit(example["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    api = services["api-server"]["command"]
    assert execution.hostname == "api-server"
    assert str(execution.port) == api[api.index("--port") + 1]
    assert execution.path == "/execution/"
    assert example["EDUSTAT_HOME"] == "/var/lib/edustat"


def test_task_queues_are_served_and_name_real_tasks() -> None:
    from edustat.task_routing import parse_task_queues

    routes = parse_task_queues(_env_example()["EDUSTAT_TASK_QUEUES"])
    worker = _compose()["services"]["worker"]["command"]
    served = set(_interpolate(worker[worker.index("--queues") + 1]).split(","))
    assert set(routes.values()) <= served
    assert "default" in served
    dag_source = (REPO / "dags" / "edustat_nightly.py").read_text()
    for task_id in routes:
        assert re.search(rf"def {task_id}\(", dag_source), f"{task_id} is not a task"


# -- commands are real ------------------------------------------------------------------------

def _component_commands() -> list[list[str]]:
    """Every airflow command line the deployment runs (components and healthchecks)."""
    entrypoint = ENTRYPOINT.read_text()
    airflow_arm = re.search(r"^\s*(api-server[^)]*)\)", entrypoint, re.M).group(1)
    dispatched = {word.strip() for word in airflow_arm.split("|")}
    commands = [["airflow", "db", "migrate"]]
    for name, service in _compose()["services"].items():
        if "build" not in service or name == "airflow-init":
            continue
        command = [_interpolate(word) for word in service["command"]]
        assert command[0] in dispatched, f"{name}: entrypoint does not hand {command[0]} to airflow"
        commands.append(["airflow", *command])
        test = service["healthcheck"]["test"]
        words = shlex.split(test[1]) if test[0] == "CMD-SHELL" else test[1:]
        if words[0] == "airflow":
            commands.append(words)
    return commands


# Airflow's own CLI parser, built once as the `airflow` entry point builds it, asked for the
# --help of every command: one Airflow import instead of one per command (seconds each).
HELP_PROBE = r"""
import contextlib, io, json, sys
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
out = {}
for words in json.loads(sys.argv[1]):
    buf = io.StringIO()
    code = None
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            parser.parse_args([*words, "--help"])
    except SystemExit as exc:
        code = exc.code
    out[" ".join(words)] = [code, buf.getvalue()]
print(json.dumps(out))
"""


def _split(words: list[str]) -> tuple[list[str], list[str]]:
    """(subcommand words, options used) of `airflow ...`; option values are not options."""
    positional: list[str] = []
    for word in words[1:]:
        if word.startswith("-"):
            break
        positional.append(word)
    rest = words[1 + len(positional):]
    return positional, [w.split("=")[0] for w in rest if w.startswith("--")] + [
        w for w in rest if w.endswith("Job")]  # --job-type choices


def test_component_commands_are_real_airflow_commands(tmp_path: Path) -> None:
    commands = _component_commands()
    prefixes = {" ".join(c[:3] if c[1] in ("celery", "db") else c[:2])
                for c in commands if c[0] == "airflow"}
    assert {"airflow api-server", "airflow scheduler", "airflow dag-processor",
            "airflow triggerer", "airflow celery worker", "airflow db migrate"} <= prefixes
    env = _airflow_env(tmp_path)
    airflow = [c for c in commands if c[0] == "airflow"]
    proc = subprocess.run([sys.executable, "-c", HELP_PROBE,
                           json.dumps([_split(c)[0] for c in airflow])],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    helps = json.loads(proc.stdout.strip().splitlines()[-1])
    problems = []
    for words in airflow:
        positional, options = _split(words)
        code, text = helps[" ".join(positional)]
        if code != 0:
            problems.append(f"airflow {' '.join(positional)} --help exited {code}: {text[-500:]}")
        problems += [f"{' '.join(words)}: {o} unknown" for o in options if o not in text]
    assert problems == []


def test_worker_healthcheck_is_a_real_celery_command(tmp_path: Path) -> None:
    test = _compose()["services"]["worker"]["healthcheck"]["test"]
    words = shlex.split(test[1]) if test[0] == "CMD-SHELL" else test[1:]
    assert words[0] == "celery" and "ping" in words
    app = words[words.index("--app") + 1]
    assert app == "airflow.providers.celery.executors.celery_executor.app"
    proc = subprocess.run([str(VENV_BIN / "celery"), *words[1:words.index("ping") + 1],
                           "--help"], env=_airflow_env(tmp_path), capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for option in (w for w in words if w.startswith("-") and w != "--app"):
        assert option in proc.stdout


@pytest.mark.parametrize("text", ["default,marts", "default"])
def test_interpolation_helper_reads_compose_defaults(text: str) -> None:
    # Guards the helper the checks above rely on: defaults come out, unset variables do not.
    assert _interpolate(f"${{EDUSTAT_WORKER_QUEUES:-{text}}}") == text
    with pytest.raises(AssertionError):
        _interpolate("${NO_DEFAULT}")


# -- the production login, for real ----------------------------------------------------------


def test_production_login_is_fab_and_refuses_anonymous_api_calls(tmp_path: Path,
                                                                 pg_server: str) -> None:
    """airflow-init (migrate, bootstrap, first admin) then the api-server, through the
    entrypoint, with the example's auth manager: the REST API answers 401 without a token
    and 200 with the admin's."""
    import time
    import uuid

    import psycopg

    from edustat.warehouse.connection import with_database

    example = _env_example()
    assert example["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".FabAuthManager")
    names = [f"edustat_fab_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    meta = "postgresql+psycopg2://" + with_database(pg_server, names[0]).split("://", 1)[1]
    env = {**_real_secrets(meta),
           "EDUSTAT_WAREHOUSE_DSN": with_database(pg_server, names[1]),
           "AIRFLOW__CORE__AUTH_MANAGER": example["AIRFLOW__CORE__AUTH_MANAGER"],
           "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
           "AIRFLOW__API__HOST": "127.0.0.1", "EDUSTAT_HOME": str(tmp_path / "home"),
           "EDUSTAT_ADMIN_USER": "ops-admin"}
    (tmp_path / "dags").mkdir()
    server = None
    try:
        for expected in ("creating admin user ops-admin", "admin user ops-admin exists"):
            init = _run_entrypoint(tmp_path, ["init"], **env)
            assert init.returncode == 0, init.stderr[-3000:]
            assert expected in init.stderr
        base = _airflow_env(tmp_path)
        base.update(env)
        server = subprocess.Popen(["bash", str(ENTRYPOINT), "api-server", "--port", str(port)],
                                  env=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _ = request_json(f"{url}/api/v2/dags")
                break
            except OSError:
                time.sleep(2)
        assert status == 401, "anonymous REST call was not refused"
        code, token = request_json(f"{url}/auth/token",
                               {"username": "ops-admin", "password": env["EDUSTAT_ADMIN_PASSWORD"]})
        assert code == 201 and token.get("access_token")
        assert request_json(f"{url}/api/v2/dags", token=token["access_token"])[0] == 200
        wrong = {"username": "ops-admin", "password": "guess"}
        assert request_json(f"{url}/auth/token", wrong)[0] == 401
    finally:
        if server is not None:
            os.killpg(server.pid, 15)
            server.wait(timeout=60)
        with psycopg.connect(pg_server, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the reports site ---------------------------------------------------------------------------

def test_reports_service_publishes_the_site_read_only_on_localhost() -> None:
    compose = _compose()
    service = compose["services"]["reports"]
    image = service["image"]
    assert image.startswith("nginx:") and image.split(":")[1][0].isdigit(), image  # pinned
    assert service["read_only"] is True
    volumes = {v.split(":")[1]: v for v in service["volumes"]}
    assert volumes["/usr/share/nginx/html"] == "edustat-reports:/usr/share/nginx/html:ro"
    conf_source = volumes["/etc/nginx/conf.d/default.conf"].split(":")[0]
    conf = (DOCKER / conf_source).read_text(encoding="utf-8")
    for directive in ("autoindex off;", "disable_symlinks on;", "limit_except GET",
                      "location ~ /\\.", "listen 8080;", "index index.html;"):
        assert directive in conf, directive
    host, _, container = _interpolate(service["ports"][0]).rpartition(":")
    assert host == "127.0.0.1:8081" and container == "8080"
    assert "/healthz" in " ".join(service["healthcheck"]["test"])
    assert service["deploy"]["resources"]["limits"]["memory"]
    # Every Airflow component writes the site into the volume the service reads.
    for name in AIRFLOW_COMPONENTS:
        targets = dict(reversed(v.split(":")[:2]) for v in compose["services"][name]["volumes"])
        assert targets["/var/lib/edustat/reports"] == "edustat-reports", name
    # Notices and the Airflow menu link pages where the service publishes them.
    assert _env_example()["EDUSTAT_PUBLIC_URL"] == "http://127.0.0.1:8081"


def test_image_can_print_pdfs_and_bundles_the_data_docs_assets() -> None:
    runs = " ".join(rest for word, rest in _instructions() if word == "RUN")
    for package in ("chromium", "fonts-noto-cjk", "fonts-wqy-microhei"):
        assert package in runs, package
    # The Data Docs' CSS/JS come from npm at the lock's pins, installed at build time.
    assert "npm ci --prefix assets/data-docs" in runs
    copied = [s for sources, _ in _copies() for s in sources]
    assert {"assets/data-docs/package.json", "assets/data-docs/package-lock.json"} <= set(copied)
    lock = json.loads((REPO / "assets" / "data-docs" / "package-lock.json").read_text())
    pinned = json.loads((REPO / "assets" / "data-docs" / "package.json").read_text())
    for name, version in pinned["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert "assets/data-docs/node_modules" in ignored
