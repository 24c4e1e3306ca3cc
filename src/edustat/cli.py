"""`edustat …`: the platform's command line (docs/interface.md).

Exit codes: 0 done; 1 the command ran but failed (a failed night, an unreachable warehouse, a
night already in progress); 2 a usage or configuration error (one line naming the option or
setting, the value and what is expected). No traceback unless `edustat --debug …`.

Adding a command is one block: a function taking (args, settings) and returning the exit code,
decorated with @command(name, summary, examples, arguments=...). Commands import what they
need inside, so `edustat --version` and `--help` stay instant.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from edustat.config import ConfigError, Settings, load_settings

DEMO_PROVINCE = "63"
DEMO_YEARS = "2022-2025"
DEMO_SEED = 2026
DEMO_FAULTY = 2

INTERFACE_DOC = "docs/interface.md"
FORMAT_DOC = "docs/submission-format.md"
METHODOLOGY_DOC = "docs/methodology.md"

EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A bad option value found after parsing; str() is the one line to show (exit 2)."""


# -- option values ----------------------------------------------------------------------------

def year_value(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text.strip()) or not 2000 <= int(text) <= 2100:
        raise argparse.ArgumentTypeError(f"{text!r}: 应为 2000–2100 的年份 expected a year "
                                         "2000-2100, e.g. 2025")
    return int(text)


def years_value(spec: str) -> list[int]:
    """`2022-2025`, `2024,2025` or both: the years, sorted."""
    years: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        first, last = year_value(lo), year_value(hi or lo)
        if last < first:
            raise argparse.ArgumentTypeError(f"{part!r}: 起止颠倒 the range runs backwards")
        years.update(range(first, last + 1))
    if not years:
        raise argparse.ArgumentTypeError(f"{spec!r}: 至少一个年份 expected years such as 2022-2025")
    return sorted(years)


def province_value(text: str) -> str:
    from edustat import divisions

    code = text.strip()
    code = code[:2] if re.fullmatch(r"\d{2}0000", code) else code
    if code not in {d.province_code[:2] for d in divisions.load_divisions().values()}:
        raise argparse.ArgumentTypeError(f"{text!r}: 不是省级代码 expected a 2-digit province "
                                         "code such as 63 (青海)")
    return code


def county_value(text: str) -> str:
    from edustat import divisions

    code = text.strip()
    if code not in set(divisions.all_county_units()):
        raise argparse.ArgumentTypeError(f"{text!r}: 不是县级行政区划代码 expected a 6-digit "
                                         "county code such as 630102")
    return code


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: 应为正整数 expected a whole number ≥ 1")
    return int(text)


def count_value(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: 应为非负整数 expected a whole number ≥ 0")
    return int(text)


def port_value(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: 应为端口号 expected a port 1-65535")
    return int(text)


def existing_dir(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: 目录不存在 expected an existing folder")
    return path.resolve()


# -- the command registry ---------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    examples: tuple[str, ...]
    run: Callable[[argparse.Namespace, Settings], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    docs: str = INTERFACE_DOC
    pass_through: bool = False  # every argument goes to another program (edustat dbt)


COMMANDS: list[Command] = []


def command(name: str, summary: str, examples: Sequence[str],
            arguments: Callable[[argparse.ArgumentParser], None] | None = None,
            docs: str = INTERFACE_DOC, pass_through: bool = False
            ) -> Callable[[Callable[[argparse.Namespace, Settings], int]],
                          Callable[[argparse.Namespace, Settings], int]]:
    def register(run: Callable[[argparse.Namespace, Settings], int]
                 ) -> Callable[[argparse.Namespace, Settings], int]:
        COMMANDS.append(Command(name, summary, tuple(examples), run, arguments, docs,
                                pass_through))
        return run
    return register


def say(line: str = "") -> None:
    print(line, flush=True)


def _stamp(line: str) -> None:
    say(f"{datetime.now():%H:%M:%S} {line}")


def _warehouse(settings: Settings, create: bool = True) -> str:
    """The warehouse DSN, reachable; `create` also creates the embedded database and runs the
    bootstrap DDL (commands that write). Read-only commands change nothing."""
    from edustat.warehouse.connection import check_reachable, resolve_dsn

    dsn = resolve_dsn(settings, create=create)
    check_reachable(dsn)
    if create:
        from edustat.warehouse.bootstrap import bootstrap
        from edustat.warehouse.connection import guard

        guard(lambda: bootstrap(dsn), dsn)
    return dsn


def _has_platform_schema(dsn: str) -> bool:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT to_regclass('ops.submissions') IS NOT NULL").fetchone()[0]


# -- commands ---------------------------------------------------------------------------------

def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--regenerate", action="store_true",
                   help="write the sample files again even if the landing folder has them "
                        "(default: reuse them)")


@command("demo", "prepare everything, generate a sample province, run the night, show results",
         ["edustat demo", "edustat demo --regenerate"], _demo_arguments)
def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from edustat_synth.demo import run_demo

    return run_demo(settings, regenerate=args.regenerate)


def _generate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--province", type=province_value, default=DEMO_PROVINCE,
                   help=f"2-digit province code (default: {DEMO_PROVINCE}, 青海)")
    p.add_argument("--years", type=years_value, default=years_value(DEMO_YEARS),
                   help=f"school years, a range and/or a list (default: {DEMO_YEARS})")
    p.add_argument("--out", required=True, type=Path,
                   help="folder to write <county_code>/<file> into (required; e.g. a landing)")
    p.add_argument("--seed", type=int, default=DEMO_SEED,
                   help=f"random seed: the same seed writes the same bytes (default: {DEMO_SEED})")
    p.add_argument("--faulty", type=count_value, default=0,
                   help="this many counties get a file that must be rejected (default: 0)")
    p.add_argument("--scale", choices=["national"], default=None,
                   help="`national`: every county of the country, --province is ignored "
                        "(default: one province)")
    p.add_argument("--counties", type=positive_int, default=None,
                   help="only this many counties, spread over the province or country "
                        "(default: all)")


@command("generate", "write realistic county submission files in the landing layout",
         ["edustat generate --province 63 --years 2022-2025 --out /tmp/landing --faulty 2",
          "edustat generate --scale national --years 2025 --counties 100 --out /tmp/nation"],
         _generate_arguments, docs=FORMAT_DOC)
def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from edustat_synth.generate import generate

    try:
        summary = generate(args.province, args.years, args.out, seed=args.seed,
                           faulty=args.faulty, scale=args.scale, counties=args.counties,
                           progress=sys.stderr)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    say(summary.describe())
    return 0


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landing", type=existing_dir,
                   help="folder of county files to take in (default: $EDUSTAT_HOME/landing)")
    p.add_argument("--year", type=year_value,
                   help="rebuild the reports of this school year only (default: what changed)")
    p.add_argument("--verbose", action="store_true",
                   help="also stream Airflow's own output (default: step lines only)")


@command("run", "run the nightly DAG once, now, through Airflow, and wait for it",
         ["edustat run", "edustat run --landing /srv/edustat/landing",
          "edustat run --year 2025 --verbose"], _run_arguments)
def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.orchestration import run_dag
    from edustat.summary import print_run_summary

    dsn = _warehouse(settings)
    landing = args.landing or settings.landing
    if args.landing is None and not landing.is_dir():
        raise UsageError(f"落地目录不存在 the landing folder {landing} does not exist: put county "
                         "files in <landing>/<county_code>/ or give --landing DIR")
    _stamp(f"开始每晚流程 starting the nightly DAG through Airflow (landing: {landing})")
    outcome = run_dag(settings, dsn, landing=args.landing, year=args.year, echo=args.verbose,
                      say=_stamp)
    if outcome.night_in_progress:
        say(f"另一次运行正在进行 another night is in progress: {outcome.night_in_progress}")
        return EXIT_FAILED
    ok = print_run_summary(settings, dsn, outcome, say=say)
    return 0 if ok and outcome.returncode == 0 else EXIT_FAILED


def _report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=year_value,
                   help="only this school year (default: every year in the marts)")
    p.add_argument("--out", type=Path,
                   help="folder to write the site into (default: $EDUSTAT_HOME/reports)")
    p.add_argument("--county", action="append", type=county_value,
                   help="with --year: rebuild only what this county's change touches "
                        "(repeatable; default: the whole year)")


@command("report", "rebuild the reports (HTML, Excel) from the marts",
         ["edustat report", "edustat report --year 2025 --county 630102 --county 630103"],
         _report_arguments, docs=METHODOLOGY_DOC)
def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.pipeline import report_links
    from edustat.reports import NoDataForYears, build_reports, require_data

    if args.county and not args.year:
        raise UsageError("--county 需要 --year（--county needs --year）")
    dsn = _warehouse(settings, create=False)
    if not _has_marts(dsn):
        say("尚无数据集市 no marts yet: run `edustat run` first")
        return EXIT_FAILED
    out = args.out or settings.reports
    try:
        if args.year:
            # Before anything is written: an empty year writes nothing at all.
            require_data(dsn, [args.year])
        result = build_reports(dsn, out, years=[args.year] if args.year else None,
                               links=report_links(settings),
                               counties={args.year: args.county} if args.county else None)
    except NoDataForYears as exc:
        raise UsageError(str(exc)) from None
    say(f"报告 reports: {out / 'index.html'} ({len(result.provincial)} 个年度 years)")
    if result.pdf_problem:
        say(result.pdf_problem)
    return 0


def _has_marts(dsn: str) -> bool:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return bool(conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'marts'").fetchone()[0])


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=port_value, default=8000,
                   help="port to serve on (default: 8000)")


@command("serve", "serve the generated site (reports, rejection reports, Data Docs, dbt docs) "
         "read-only over HTTP", ["edustat serve", "edustat serve --port 8081 --host 0.0.0.0"],
         _serve_arguments)
def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.serve import serve

    return serve(settings, host=args.host, port=args.port)


def _status_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=year_value, help="only this school year (default: all)")
    p.add_argument("--province", action="append", type=province_value,
                   help="only this province's counties (repeatable; default: all)")
    p.add_argument("--problems", action="store_true",
                   help="only rows that need attention: rejected, held, missing "
                        "(default: every row)")


@command("status", "per county and year: accepted, rejected, held, received or missing",
         ["edustat status", "edustat status --problems --province 63 --year 2025"],
         _status_arguments)
def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.summary import print_status
    from edustat.warehouse.connection import NoWarehouseYet

    try:
        dsn = _warehouse(settings, create=False)
    except NoWarehouseYet:
        dsn = None
    if dsn is None or not _has_platform_schema(dsn):
        say("尚无报送 no submissions yet: the warehouse has no edustat data (run `edustat run`)")
        return 0
    print_status(settings, dsn, year=args.year, problems=args.problems,
                 provinces=args.province or (), say=say)
    return 0


def _check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the county's .xlsx or .csv file (required)")
    # Not county_value: a code that is no county unit is the night's verdict (rejected,
    # unknown_county_folder), so check gives it too instead of a usage error.
    p.add_argument("--county", help="6-digit county code (default: the file's folder name)")
    p.add_argument("--year", type=year_value,
                   help="the school year the file is meant for (default: the file's own year)")
    p.add_argument("--out", help="folder for the rejection report "
                                 "(default: ./edustat-check/<county>-<file>)")


@command("check", "judge a county file now with the night's rules; exit 0 the night would "
         "accept it, 1 reject it, 2 usage error (writes nothing to the warehouse or landing)",
         ["edustat check 632801/2025.xlsx", "edustat check 学校表.csv --county 632801 --year 2025"],
         _check_arguments, docs=FORMAT_DOC)
def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from edustat import check

    try:
        return check.run(args, settings)
    except check.UsageError as exc:
        raise UsageError(str(exc)) from None


def _airflow_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=port_value, default=8080,
                   help="port of the UI and REST API (default: 8080)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--unpause", action="store_true",
                   help="switch the nightly schedule on (default: paused)")


@command("airflow-ui", "the Airflow UI and REST API on the platform's state, with a login",
         ["edustat airflow-ui", "edustat airflow-ui --port 8081 --unpause"], _airflow_arguments)
def cmd_airflow(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.orchestration import port_in_use, standalone

    if port_in_use(args.port):
        raise UsageError(f"--port {args.port}: 端口已被占用 the port is in use; choose another "
                         "with --port")
    return standalone(settings, _warehouse(settings), port=args.port, host=args.host,
                      unpause=args.unpause, say=say)


@command("stop", "stop the embedded warehouse (commands that need it start it again)",
         ["edustat stop"])
def cmd_stop(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.warehouse import embedded

    if settings.warehouse_dsn:
        say("EDUSTAT_WAREHOUSE_DSN 已设置 is set: that warehouse is not edustat's to stop")
        return 0
    if embedded.stop(settings.pgdata):
        say(f"嵌入式数据仓库已停止 embedded warehouse stopped ({settings.pgdata})")
    else:
        say("嵌入式数据仓库未在运行 the embedded warehouse was not running")
    return 0


def _dbt_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dbt_args", nargs=argparse.REMAINDER,
                   help="dbt's own command and options, e.g. `test --select marts` "
                        "(`edustat dbt --help` shows dbt's help)")


@command("dbt", "dbt against the configured warehouse and the repo's project and profile",
         ["edustat dbt test --select marts", "edustat dbt docs generate",
          "edustat dbt show --inline 'select * from marts.region_summary' --limit 5"],
         _dbt_arguments, pass_through=True)
def cmd_dbt(args: argparse.Namespace, settings: Settings) -> int:
    import os
    import subprocess

    from edustat.transform import PROJECT_DIR, dbt_env, dbt_executable

    dsn = _warehouse(settings, create=False)
    env = dbt_env(dsn)
    # dbt reads these unless the command line says otherwise; its files stay out of the repo.
    target = settings.home / "dbt_manual"
    env.setdefault("DBT_PROJECT_DIR", str(PROJECT_DIR))
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT_DIR))
    env.setdefault("DBT_TARGET_PATH", str(target))
    env.setdefault("DBT_LOG_PATH", str(target / "logs"))
    if settings.jurisdiction:
        env.setdefault("EDUSTAT_JURISDICTION", ",".join(settings.jurisdiction))
    target.mkdir(parents=True, exist_ok=True)
    code = subprocess.call([str(dbt_executable()), *(args.dbt_args or ["--help"])], env=env,
                           cwd=os.getcwd())
    _resecure_marts(dsn)
    return code


def _resecure_marts(dsn: str) -> None:
    """A mart rebuilt by hand lost its row-level security: put it back before anyone reads."""
    import psycopg

    from edustat.warehouse.access import secure_schema, unsecured_tables

    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT to_regprocedure('ops.reader_provinces(name)')").fetchone()[0] \
                and unsecured_tables(conn):
            secure_schema(conn, "marts")


def _grant_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("role", help="the role to create or update (lower-case letters, digits, _)")
    p.add_argument("--province", action="append", type=province_value, required=True,
                   help="province whose rows the role may read (repeatable; required)")


@command("grant", "a reader role that sees only its provinces' rows of every mart",
         ["edustat grant --province 63 qinghai_reader",
          "edustat grant --province 63 --province 62 northwest_reader"], _grant_arguments)
def cmd_grant(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from edustat.warehouse.access import ROLE_NAME, grant_province

    if not ROLE_NAME.fullmatch(args.role):
        raise UsageError(f"{args.role!r}: 角色名只能含小写字母、数字和 _ expected a role name of "
                         "lower-case letters, digits and _")
    dsn = _warehouse(settings)
    with psycopg.connect(dsn) as conn:
        created = grant_province(conn, args.role, args.province)
    provinces = ", ".join(args.province)
    say(f"{'已创建 created' if created else '已更新 updated'} {args.role}: reads the marts of "
        f"province(s) {provinces} only (row-level security).")
    say(f"给个人登录 give a person a login: CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE "
        f"{args.role};")
    return 0


@command("suites", "regenerate expectations/ (the GX project) from edustat.rules",
         ["edustat suites"], docs=FORMAT_DOC)
def cmd_suites(args: argparse.Namespace, settings: Settings) -> int:
    from edustat.validation.suite import write_project

    say(f"GX project written: {write_project()}")
    return 0


# -- parser and main --------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (plus where to read more), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: 错误 error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_USAGE)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("edustat")
    except PackageNotFoundError:
        return "unknown"


def _epilog(cmd: Command) -> str:
    examples = "\n".join(f"  {e}" for e in cmd.examples)
    return f"examples:\n{examples}\n\nsee {cmd.docs}"


def build_parser() -> argparse.ArgumentParser:
    settings_help = ", ".join(["EDUSTAT_HOME", "EDUSTAT_WAREHOUSE_DSN", "EDUSTAT_JURISDICTION",
                               "EDUSTAT_ALERT_URLS", "…"])
    parser = _Parser(
        prog="edustat", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="County school statistics to a provincial warehouse: Airflow, Great "
                    "Expectations, dbt on Postgres.",
        epilog=f"settings: environment variables ({settings_help}); see {INTERFACE_DOC}\n"
               "exit codes: 0 done, 1 failed, 2 usage or configuration error")
    parser.add_argument("--version", action="version", version=f"edustat {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error (default: one line)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.summary, description=cmd.summary,
                           epilog=_epilog(cmd), add_help=not cmd.pass_through,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if cmd.arguments:
            cmd.arguments(p)
        p.set_defaults(func=cmd.run)
    return parser


def _report_error(line: str) -> None:
    sys.stderr.write(f"edustat: {line}\n")


def main(argv: list[str] | None = None) -> int:
    from edustat.warehouse.connection import WarehouseUnavailable

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        settings = load_settings()
        code = args.func(args, settings)
    except ConfigError as exc:
        _report_error(f"配置错误 configuration: {exc}")
        return EXIT_USAGE
    except UsageError as exc:
        _report_error(f"{args.command}: {exc}")
        return EXIT_USAGE
    except WarehouseUnavailable as exc:
        if args.debug:
            raise
        _report_error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _report_error("已中断 interrupted")
        return 130
    except Exception as exc:
        if args.debug:
            raise
        if type(exc).__name__ == "NightInProgress":
            _report_error(f"另一次运行正在进行 another night is in progress: {exc}")
            return EXIT_FAILED
        message = " ".join(str(exc).split())[:300]
        _report_error(f"{args.command} 失败 failed: {type(exc).__name__}: {message} "
                      "(`edustat --debug …` shows the traceback)")
        return EXIT_FAILED
    if args.command in ("demo", "run"):
        say(f"({time.monotonic() - started:.0f} s)")
    return code


__all__ = ["COMMANDS", "build_parser", "command", "main"]

if __name__ == "__main__":
    sys.exit(main())
