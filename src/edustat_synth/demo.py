"""`edustat demo`: the first thing a new user runs, from nothing to reports in one command."""

from __future__ import annotations

import sys

from edustat.config import Settings


def run_demo(settings: Settings, regenerate: bool = False) -> int:
    from edustat.cli import (
        DEMO_FAULTY,
        DEMO_PROVINCE,
        DEMO_SEED,
        DEMO_YEARS,
        _warehouse,
        years_value,
    )
    from edustat.orchestration import run_dag
    from edustat.summary import print_run_summary
    from edustat.warehouse.connection import redact
    from edustat_synth.generate import generate

    print(f"EDUSTAT_HOME: {settings.home}")
    dsn = _warehouse(settings)
    where = "EDUSTAT_WAREHOUSE_DSN" if settings.warehouse_dsn else "嵌入式 embedded Postgres"
    print(f"数据仓库 warehouse: {where} ({redact(dsn)})")
    landing = settings.landing
    if regenerate or not landing.exists() or not any(landing.iterdir()):
        summary = generate(DEMO_PROVINCE, years_value(DEMO_YEARS), landing, seed=DEMO_SEED,
                           faulty=DEMO_FAULTY, progress=sys.stderr)
        print(f"样例数据 sample province {DEMO_PROVINCE}: {summary.describe()}")
    else:
        print(f"沿用已有样例数据 reusing the sample files in {landing}")
    print("通过 Airflow 运行每晚流程 running the nightly DAG through Airflow …")
    outcome = run_dag(settings, dsn, say=lambda line: print(line, flush=True))
    ok = print_run_summary(settings, dsn, outcome)
    reports = settings.reports / "index.html"
    docs = settings.data_docs_index
    print()
    print(f"数据文档 GX Data Docs: {docs}")
    print(f"dbt 文档 dbt docs:     {settings.dbt_target / 'static_index.html'}")
    print("Airflow 界面 UI:        make airflow   (然后打开 then open http://127.0.0.1:8080;"
          " 登录 the login is printed there)")
    print(f"查询 query the marts:   psql \"{redact(dsn)}\" -c 'select * from marts.region_summary'")
    print(f"省级报告 provincial report: {reports}")
    return 0 if ok else 1
