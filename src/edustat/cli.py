"""`edustat …`: the command line of interface.md (demo, generate, run, report, status)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from edustat.config import Settings, load_settings

DEMO_PROVINCE = "63"
DEMO_YEARS = "2022-2025"
DEMO_SEED = 2026
DEMO_FAULTY = 2


def _years(spec: str) -> list[int]:
    years: set[int] = set()
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            years.update(range(int(lo), int(hi) + 1))
        elif part.strip():
            years.add(int(part))
    return sorted(years)


def _warehouse(settings: Settings) -> str:
    from edustat.warehouse.bootstrap import bootstrap
    from edustat.warehouse.connection import resolve_dsn

    dsn = resolve_dsn(settings)
    bootstrap(dsn)
    return dsn


def cmd_generate(args: argparse.Namespace) -> int:
    from edustat_synth.generate import generate

    summary = generate(args.province, _years(args.years), Path(args.out), seed=args.seed,
                       faulty=args.faulty, scale=args.scale, counties=args.counties)
    print(summary.describe())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from edustat.orchestration import run_dag
    from edustat.summary import print_run_summary

    settings = load_settings()
    dsn = _warehouse(settings)
    outcome = run_dag(settings, dsn, landing=Path(args.landing).resolve() if args.landing
                      else None, year=args.year, echo=args.verbose)
    ok = print_run_summary(settings, dsn, outcome)
    return 0 if ok and outcome.returncode == 0 else 1


def cmd_report(args: argparse.Namespace) -> int:
    from edustat.pipeline import report_links
    from edustat.reports import NoDataForYears, build_reports, require_data

    if args.county and not args.year:
        args.parser.error("--county 需要 --year（--county needs --year）")
    settings = load_settings()
    dsn = _warehouse(settings)
    out = Path(args.out) if args.out else settings.reports
    try:
        if args.year:
            # Before anything is published: an empty year writes nothing at all.
            require_data(dsn, [args.year])
        result = build_reports(dsn, out, years=[args.year] if args.year else None,
                               links=report_links(settings),
                               counties={args.year: args.county} if args.county else None)
    except NoDataForYears as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"报告 reports: {out / 'index.html'} ({len(result.provincial)} 个年度 years)")
    if result.pdf_problem:
        print(result.pdf_problem, file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from edustat.serve import serve

    return serve(load_settings(), host=args.host, port=args.port)


def cmd_status(args: argparse.Namespace) -> int:
    from edustat.summary import print_status

    settings = load_settings()
    print_status(settings, _warehouse(settings), year=args.year)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from edustat_synth.demo import run_demo

    return run_demo(load_settings(), regenerate=args.regenerate)


def cmd_airflow(args: argparse.Namespace) -> int:
    from edustat.orchestration import standalone

    settings = load_settings()
    return standalone(settings, _warehouse(settings), port=args.port)


def cmd_suites(args: argparse.Namespace) -> int:
    from edustat.validation.suite import write_project

    print(f"GX project written: {write_project()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edustat", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="prepare everything, generate a sample province, run it")
    p.add_argument("--regenerate", action="store_true",
                   help="write the sample files again even if the landing folder has them")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("generate", help="write realistic county submission files")
    p.add_argument("--province", default=DEMO_PROVINCE)
    p.add_argument("--years", default=DEMO_YEARS)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    p.add_argument("--faulty", type=int, default=0)
    p.add_argument("--scale", choices=["national"], default=None)
    p.add_argument("--counties", type=int, default=None,
                   help="only this many counties, spread over the province or country")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="run the nightly DAG once, now, through Airflow")
    p.add_argument("--landing")
    p.add_argument("--year", type=int)
    p.add_argument("--verbose", action="store_true", help="stream Airflow's output")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="rebuild the reports from the marts")
    p.add_argument("--year", type=int)
    p.add_argument("--out")
    p.add_argument("--county", action="append",
                   help="with --year: rebuild only what this county's change touches (repeatable)")
    p.set_defaults(func=cmd_report, parser=p)

    p = sub.add_parser("serve", help="serve the reports site (read-only HTTP)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("status", help="submissions per county and year, incl. missing")
    p.add_argument("--year", type=int)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("airflow-ui", help="Airflow standalone (UI) on the platform's state")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_airflow)

    p = sub.add_parser("suites", help="regenerate expectations/ from edustat.rules")
    p.set_defaults(func=cmd_suites)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    code = args.func(args)
    if args.command in ("demo", "run"):
        print(f"({time.monotonic() - started:.0f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
