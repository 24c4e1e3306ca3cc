"""`make bench`: the national night against its floor, on this machine, reproducibly.

    .venv/bin/python bench/run_bench.py [--runs N] [--full-runs N] [--quick] [--fresh]

1. Data: `edustat generate --scale national` with a fixed seed, school years 2022 (history,
   the Y-3 intake year retention needs) and 2025 (the benchmarked year), cached in bench/work/.
2. History: one untimed night on a landing holding only the 2022 files; its database and
   EDUSTAT_HOME are kept as the warm starting point (cached while the code is unchanged).
3. Full night, N times: a database cloned from the history one (CREATE DATABASE … TEMPLATE),
   EDUSTAT_HOME reset to the warm copy, the 2025 files added to the same landing (the 2022
   files there are already known, so only 2025 is read), `edustat run` timed end to end.
4. Floors on the same machine in the same run: the night's rows COPY'd from one CSV, the same
   files read by python-calamine / csv with 1 and 2 processes.
5. Incremental night, N times: one county resubmits its 2025 file with one changed value.
6. One table printed; bench/results/<stamp>-<label>.json/.md and latest.md written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import psutil  # noqa: E402
import psycopg  # noqa: E402
from benchkit import data, floor, night, results, server  # noqa: E402

SEED = 2025
YEAR = 2025
HISTORY_YEAR = 2022
QUICK_PROVINCE = "63"  # Qinghai: 45 counties, the demo's province
# A first full night longer than this makes one full night the default (see --full-runs).
LONG_NIGHT_S = 480.0
DEFAULT_RUNS = 3
# What shapes the history database: its raw and ops tables, and the dbt project that built its
# marts. A change to any of them rebuilds the history. With the project unchanged the timed
# full night builds only the new year, as in production (edustat.warehouse.build_scope); after
# a project change it would rebuild every year, which is a different night. Other code changes
# do not: a history loaded by slightly older reader code only differs in 2022's raw values.
_HISTORY_SOURCES = ("src/edustat/warehouse/schema.sql", "src/edustat/columns.py",
                    "dbt_project")


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def code_fingerprint() -> str:
    """Hash of the code that shapes the history database (see _HISTORY_SOURCES)."""
    digest = hashlib.sha256()
    for name in _HISTORY_SOURCES:
        path = REPO / name
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*")
            if p.is_file() and not {"target", "logs"} & set(p.relative_to(path).parts))
        for file in files:
            digest.update(str(file.relative_to(REPO)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def reset_home(home: Path, warm: Path) -> None:
    """EDUSTAT_HOME as the history night left it (Airflow metadata migrated, GX project, dbt
    target and docs, the 2022 reports), landing excepted: it is synced separately and keeps its
    path. With the earlier years' reports in place the night rebuilds the reports of the years
    it changed, as a production night for a new school year does."""
    home.mkdir(parents=True, exist_ok=True)
    for entry in home.iterdir():
        if entry.name != "landing":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in warm.iterdir():
        if entry.name in ("landing", "quarantine"):
            continue
        if entry.is_dir():
            # Per-task logs of the history night are not needed, and copying them costs time.
            shutil.copytree(entry, home / entry.name,
                            ignore=shutil.ignore_patterns("logs", "runs"))
        else:
            shutil.copy2(entry, home / entry.name)


def ensure_history(args: argparse.Namespace, dataset: data.Dataset, srv: str, work: Path,
                   home: Path) -> tuple[str, Path, dict]:
    """(history database name, warm home, facts about the history night)."""
    key = hashlib.sha256(f"{dataset.spec.name}:{code_fingerprint()}".encode()).hexdigest()[:12]
    prefix = "edustat_bench_hist_" + dataset.spec.name.replace("-", "_") + "_"
    name = prefix + key
    warm = work / "homes" / dataset.spec.name / f"hist-{key}"
    facts_file = warm.parent / f"hist-{key}.json"
    if (not args.fresh and facts_file.exists() and server.database_exists(srv, name)
            and server.database_comment(srv, name) == key):
        log(f"history: reusing {name} (same data, same code)")
        return name, warm, json.loads(facts_file.read_text(encoding="utf-8"))
    for old in server.databases_like(srv, prefix):  # this dataset's stale history only
        server.drop_database(srv, old)
    if warm.parent.exists():
        shutil.rmtree(warm.parent)
    log(f"history: untimed night on the {HISTORY_YEAR} files → {name}")
    dsn = server.create_database(srv, name)
    for entry in (home.iterdir() if home.exists() else []):
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    data.sync_landing(dataset, home / "landing", [HISTORY_YEAR])
    started = time.monotonic()
    hist = night.run_night("history", home, dsn, work / "logs", timeout=args.timeout)
    elapsed = time.monotonic() - started
    # Marked only once complete: a database left by an interrupted run is never reused.
    server.set_comment(srv, name, key)
    warm.mkdir(parents=True)
    for entry in home.iterdir():
        if entry.name not in ("landing", "quarantine"):
            target = warm / entry.name
            shutil.copytree(entry, target) if entry.is_dir() else shutil.copy2(entry, target)
    facts = {"wall_s": round(elapsed, 1), "outcome": hist.outcome,
             "tasks_s": {t: p.seconds for t, p in hist.phases.phases.items()},
             "max_process_rss": hist.memory.max_process_rss}
    facts_file.write_text(json.dumps(facts, ensure_ascii=False, default=str), encoding="utf-8")
    log(f"history: done in {elapsed:.0f} s ({hist.outcome.get('accepted')} accepted)")
    return name, warm, facts


def check_full(n: night.Night, files: int) -> None:
    o = n.outcome
    if o.get("new_submissions") != files or o.get("accepted", 0) + o.get("rejected", 0) != files:
        raise night.NightFailed(f"{n.label}: expected {files} new files decided, got {o}")


def night_facts(n: night.Night) -> dict:
    return {"label": n.label, "wall_s": n.wall, "outcome": n.outcome,
            "tasks": {t: {"seconds": p.seconds, "airflow_startup_s": n.phases.startup.get(t, 0.0),
                          "state": p.state, "tries": p.tries}
                      for t, p in n.phases.phases.items()},
            "memory": n.memory_facts(), "load_before": n.load_before,
            "load_after": n.load_after}


def checkpoint(work: Path, nights: list[night.Night]) -> None:
    """The nights so far, in case the run is interrupted before the results are written."""
    (work / "partial-nights.json").write_text(
        json.dumps([night_facts(n) for n in nights], ensure_ascii=False, indent=1,
                   default=str), encoding="utf-8")


def machine_info(srv: str, srv_source: str) -> dict:
    def git(*cmd: str) -> str:
        out = subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip()

    return {
        "nproc": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(), "platform": platform.platform(),
        "postgres": server.server_version(srv), "postgres_server": srv_source,
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty_files": len(git("status", "--porcelain").splitlines()),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=None,
                   help="repetitions of each night (default 3; a kind of night whose first run"
                        f" took more than {LONG_NIGHT_S:.0f} s runs once unless given)")
    p.add_argument("--full-runs", type=int, default=None,
                   help=f"repetitions of the full night (default: --runs, but 1 when the first"
                        f" full night takes more than {LONG_NIGHT_S:.0f} s)")
    p.add_argument("--floor-runs", type=int, default=3, help="repetitions of each floor")
    p.add_argument("--quick", action="store_true",
                   help=f"one province ({QUICK_PROVINCE}) instead of the country: to try the"
                        " harness")
    p.add_argument("--counties", type=int, default=None,
                   help="national data narrowed to this many counties (spread over provinces)")
    p.add_argument("--fresh", action="store_true",
                   help="redo the untimed history night (otherwise reused while the data, the"
                        " raw schema and the column contract are unchanged)")
    p.add_argument("--keep", action="store_true", help="keep the last night's database")
    p.add_argument("--timeout", type=float, default=3600, help="seconds allowed per night")
    p.add_argument("--work", type=Path, default=BENCH / "work")
    p.add_argument("--results", type=Path, default=BENCH / "results")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.quick:
        spec = data.DataSpec("province", QUICK_PROVINCE, YEAR, HISTORY_YEAR, SEED)
        label = f"quick-p{QUICK_PROVINCE}"
    else:
        spec = data.DataSpec("national", None, YEAR, HISTORY_YEAR, SEED, args.counties)
        label = "national" if args.counties is None else f"national-c{args.counties}"
    load_start = os.getloadavg()
    started = datetime.now()
    log(f"data: {spec.name} (cached under {work / 'data'})")
    dataset = data.ensure_dataset(spec, work)
    year_files = len(dataset.files[YEAR])
    log(f"data: {year_files} files for {YEAR} ({dataset.split(YEAR)}), "
        f"{dataset.rows[YEAR]} rows; {len(dataset.files[HISTORY_YEAR])} for {HISTORY_YEAR}")
    srv, srv_source = server.server_dsn(work)
    log(f"warehouse server: {srv_source}")
    home = work / "night-home"
    hist_name, warm, hist_facts = ensure_history(args, dataset, srv, work, home)

    full: list[night.Night] = []
    notes: list[str] = []
    full_runs = args.full_runs or args.runs or DEFAULT_RUNS
    incremental_runs = args.runs or DEFAULT_RUNS
    read1 = read2 = copy = None
    db_name = ""
    i = 0
    while i < full_runs:
        if db_name:
            server.drop_database(srv, db_name)
        db_name = f"edustat_bench_night_{os.getpid()}_{i}"
        dsn = server.create_database(srv, db_name, template=hist_name)
        reset_home(home, warm)
        data.sync_landing(dataset, home / "landing", [HISTORY_YEAR, YEAR])
        log(f"full night {i + 1}/{full_runs} …")
        n = night.run_night(f"full-{i + 1}", home, dsn, work / "logs", timeout=args.timeout)
        check_full(n, year_files)
        full.append(n)
        checkpoint(work, full)
        log(f"full night {i + 1}: {n.wall:.0f} s, load {n.load_before[0]:.1f}→"
            f"{n.load_after[0]:.1f}, peak {n.memory.max_process_rss / 1024**3:.2f} GB "
            f"({n.memory.max_process_name})")
        if i == 0:
            if not (args.full_runs or args.runs) and n.wall > LONG_NIGHT_S and full_runs > 1:
                full_runs = 1
                notes.append(f"full night ran once: the first took {n.wall:.0f} s "
                             f"(> {LONG_NIGHT_S:.0f} s); --full-runs N repeats it")
            log("floors: export the night's rows, COPY them, read the files …")
            with psycopg.connect(dsn) as conn:
                ids = [r[0] for r in conn.execute(
                    "SELECT submission_id FROM ops.submissions WHERE decided_run_id = %s"
                    " AND status IN ('accepted', 'rejected')", (n.phases.run_id,))]
            csv_file = work / "floor-rows.csv"
            floor.export_rows(dsn, ids, csv_file)
            copy = floor.copy_floor(dsn, csv_file, runs=args.floor_runs)
            csv_file.unlink()
            paths = dataset.paths(YEAR)
            read1 = floor.read_floor(paths, processes=1, runs=args.floor_runs)
            read2 = floor.read_floor(paths, processes=2, runs=args.floor_runs)
            log(f"floors: COPY {copy.seconds:.1f} s ({copy.rows} rows), read 1p "
                f"{read1.seconds:.1f} s, 2p {read2.seconds:.1f} s")
        i += 1

    incremental: list[night.Night] = []
    source = data.pick_resubmission_source(dataset)
    county = source.parent.name
    changes = []
    j = 0
    while j < incremental_runs:
        target, old, new = data.make_resubmission(source, home / "landing" / county, j + 1)
        changes.append({"file": target.name, "books_before": old, "books_after": new})
        log(f"incremental night {j + 1}/{incremental_runs}: {county} resubmits {target.name} …")
        n = night.run_night(f"incremental-{j + 1}", home, dsn, work / "logs",
                            timeout=args.timeout)
        o = n.outcome
        if o.get("new_submissions") != 1 or o.get("accepted") != 1:
            raise night.NightFailed(f"{n.label}: expected one new accepted file, got {o}")
        incremental.append(n)
        checkpoint(work, [*full, *incremental])
        log(f"incremental night {j + 1}: {n.wall:.0f} s")
        if j == 0 and not args.runs and n.wall > LONG_NIGHT_S and incremental_runs > 1:
            incremental_runs = 1
            notes.append(f"incremental night ran once: the first took {n.wall:.0f} s "
                         f"(> {LONG_NIGHT_S:.0f} s); --runs N repeats it")
        j += 1
    if not args.keep:
        server.drop_database(srv, db_name)

    assert read1 and read2 and copy
    summary = results.summarise(full, incremental, read1, read2, copy)
    table = results.text_table(summary)
    load_end = os.getloadavg()
    nights_load = [n.load_before[0] for n in [*full, *incremental]] + \
        [n.load_after[0] for n in [*full, *incremental]]
    info = machine_info(srv, srv_source)
    params = {"label": label, "data": asdict(spec), "runs": len(incremental),
              "full_runs": len(full),
              "floor_runs": args.floor_runs, "incremental_county": county,
              "incremental_changes": changes, "quick": args.quick}
    size = {"files": year_files, "split": dataset.split(YEAR), "rows": dataset.rows[YEAR],
            "schools": dataset.schools[YEAR], "history_files": len(dataset.files[HISTORY_YEAR]),
            "history_rows": dataset.rows[HISTORY_YEAR],
            "rows_loaded": copy.rows, "generate_s": dataset.generate_seconds}
    load = {"at_start": load_start, "at_end": load_end,
            "during_nights_1min_median": statistics.median(nights_load),
            "during_nights_1min_max": max(nights_load)}
    payload = {
        "started": started.isoformat(timespec="seconds"), "machine": info, "load": load,
        "parameters": params, "data": size, "history_night": hist_facts, "notes": notes,
        "figures": summary.figures,
        "table": [asdict(r) for r in summary.rows],
        "floors": {"read_1p": asdict(read1), "read_2p": asdict(read2), "copy": asdict(copy)},
        "nights": [night_facts(n) for n in [*full, *incremental]],
    }
    markdown = render_markdown(summary, payload)
    stamp = started.strftime("%Y%m%d-%H%M")
    json_path, md_path, latest = results.write_results(args.results, stamp, label, payload,
                                                       markdown)
    print()
    print(table)
    for note in notes:
        print(f"note: {note}")
    print(f"machine: {info['nproc']} cores, {info['memory_gb']} GB; load (1 min) during the "
          f"nights: median {load['during_nights_1min_median']:.1f}, max "
          f"{load['during_nights_1min_max']:.1f}")
    print(f"results: {json_path}\n         {md_path}\n         {latest}")
    return 0


def render_markdown(summary: results.Summary, p: dict) -> str:
    m, d, par, ld = p["machine"], p["data"], p["parameters"], p["load"]
    lines = [
        f"# edustat benchmark — {par['label']} ({p['started']})",
        "",
        results.markdown_table(summary),
        "",
        *[f"- note: {n}" for n in p["notes"]],
        f"- data: {d['files']} county files for {YEAR} ({d['split']['xlsx']} xlsx, "
        f"{d['split']['csv']} CSV), {d['rows']} school rows generated, {d['rows_loaded']} rows "
        f"loaded; history {HISTORY_YEAR}: {d['history_files']} files, {d['history_rows']} "
        f"rows, loaded untimed before the nights (seed {par['data']['seed']})",
        f"- repetitions: full night {par['full_runs']}, incremental {par['runs']}, each floor "
        f"{par['floor_runs']}; figures are medians",
        f"- incremental: county {par['incremental_county']} resubmits its {YEAR} file under a "
        f"new name with one book count changed",
        f"- machine: {m['nproc']} cores, {m['memory_gb']} GB, Python {m['python']}, "
        f"{m['platform']}; {m['postgres'].split(',')[0]} ({m['postgres_server']})",
        f"- load average (1 min) while the nights ran: median "
        f"{ld['during_nights_1min_median']:.1f}, max {ld['during_nights_1min_max']:.1f} "
        f"(at start {ld['at_start'][0]:.1f}); other work on the machine inflates every figure",
        f"- code: {m['git_commit'][:10]} (+{m['git_dirty_files']} uncommitted files)",
        f"- history night ({HISTORY_YEAR}, untimed setup): {p['history_night'].get('wall_s')} s",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
