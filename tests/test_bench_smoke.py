"""The `make bench` harness (bench/benchkit) on a tiny input, so it cannot rot unnoticed.

Protects, each against real parts (generator, pipeline functions, Postgres, Airflow):
- the cached dataset and the landing it is linked into (history + benchmark year, exact file
  set, strays removed, the incremental resubmission differing in exactly one value);
- the floors: the night's raw rows exported and COPY'd back whole, the read floor seeing every
  file with one and two processes alike;
- phase extraction from a real Airflow metadata DB after a real `airflow dags test`, and the
  memory sampler seeing a child process's allocation;
- the table's arithmetic (medians, shares, ratio to the floor, targets) on hand-made figures.
The whole national benchmark is `make bench`, not a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from benchkit import data, floor, memory, night, phases, results  # noqa: E402

from edustat.config import load_settings  # noqa: E402
from edustat.intake.readers import ReadLimits, read_submission  # noqa: E402

SPEC = data.DataSpec("national", None, 2025, 2022, seed=7, counties=3)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> data.Dataset:
    return data.ensure_dataset(SPEC, tmp_path_factory.mktemp("bench"), workers=1)


def test_dataset_is_cached_and_split_by_year(dataset: data.Dataset) -> None:
    assert len(dataset.files[2022]) == len(dataset.files[2025]) == 3
    assert sum(dataset.split(2025).values()) == 3
    limits = ReadLimits.from_settings(load_settings({}))
    for year in (2022, 2025):
        for path in dataset.paths(year):  # the split by year agrees with the files' content
            rows = read_submission(path, path.parent.name, limits).rows
            assert set(rows["school_year"]) == {str(year)}, path
    assert [Path(r).parent for r in dataset.files[2022]] == [
        Path(r).parent for r in dataset.files[2025]]
    mtimes = {p: p.stat().st_mtime_ns for p in dataset.paths(2025)}
    again = data.ensure_dataset(SPEC, dataset.root.parents[1], workers=1)
    assert again.files == dataset.files and again.rows == dataset.rows
    assert {p: p.stat().st_mtime_ns for p in again.paths(2025)} == mtimes  # not regenerated


def test_landing_holds_exactly_the_wanted_years(dataset: data.Dataset, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    assert data.sync_landing(dataset, landing, [2022]) == 3
    stray = landing / dataset.files[2022][0].split("/")[0] / "更正1-old.csv"
    stray.write_text("x")
    assert data.sync_landing(dataset, landing, [2022, 2025]) == 6
    present = sorted(str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file())
    assert present == sorted(dataset.files[2022] + dataset.files[2025])
    for rel in present:
        assert os.path.samefile(landing / rel, dataset.root / rel)


def test_resubmission_changes_exactly_one_book_count(dataset: data.Dataset,
                                                     tmp_path: Path) -> None:
    source = data.pick_resubmission_source(dataset)
    target, old, new = data.make_resubmission(source, tmp_path, 3)
    assert int(new) == int(float(old.replace(",", ""))) + 3
    limits = ReadLimits.from_settings(load_settings({}))
    before = read_submission(source, source.parent.name, limits)
    after = read_submission(target, source.parent.name, limits)
    assert before.readable and after.readable
    a, b = before.rows.drop(columns=["extra"]), after.rows.drop(columns=["extra"])
    assert a.shape == b.shape
    differing = [(i, c) for c in a.columns for i in range(len(a))
                 if a.at[i, c] != b.at[i, c]]
    assert differing == [(0, "books")]
    assert int(b.at[0, "books"]) == int(a.at[0, "books"]) + 3


def test_floors_move_the_nights_rows(dataset: data.Dataset, warehouse: str,
                                     tmp_path: Path) -> None:
    from edustat.pipeline import RunContext, discover, read_and_stage

    landing = tmp_path / "landing"
    data.sync_landing(dataset, landing, [2025])
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path / "home"),
                              "EDUSTAT_WAREHOUSE_DSN": warehouse})
    ctx = RunContext("bench-smoke", datetime.now(UTC), landing=landing, settings=settings)
    discover(ctx)
    read_and_stage(ctx)
    with psycopg.connect(warehouse) as conn:
        ids = [r[0] for r in conn.execute("SELECT submission_id FROM ops.submissions")]
    assert len(ids) == 3

    exported, size = floor.export_rows(warehouse, ids, tmp_path / "rows.csv")
    assert exported == dataset.rows[2025]  # what the generator wrote, row for row
    assert size > 0
    copied = floor.copy_floor(warehouse, tmp_path / "rows.csv", runs=2)
    assert copied.rows == dataset.rows[2025] and len(copied.runs) == 2
    assert copied.seconds > 0
    with psycopg.connect(warehouse) as conn:  # the floor leaves nothing behind
        assert conn.execute("SELECT to_regnamespace('bench_floor')").fetchone()[0] is None

    one = floor.read_floor(dataset.paths(2025), processes=1, runs=1)
    two = floor.read_floor(dataset.paths(2025), processes=2, runs=1)
    magic = sum(p.read_bytes()[:4] == b"PK\x03\x04" for p in dataset.paths(2025))
    assert (one.files, one.xlsx, one.csv) == (3, magic, 3 - magic)
    assert (one.rows, one.cells) == (two.rows, two.cells)
    # Every school row plus at least a header per file (titles and 合计 rows come on top).
    assert one.rows >= dataset.rows[2025] + 3


def test_memory_sampler_sees_a_childs_allocation(tmp_path: Path) -> None:
    child = "b = bytearray(200 * 1024 * 1024); import time; time.sleep(1.5)"
    parent = (f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}],"
              " check=True)")
    wall, code, peak = night.measure([sys.executable, "-c", parent], dict(os.environ),
                                     tmp_path / "m.log", timeout=60, interval=0.1)
    assert code == 0 and wall >= 1.5
    assert peak.max_process_rss >= 200 * 1024 * 1024
    assert peak.max_tree_rss > peak.max_process_rss  # the parent counts too
    assert peak.max_processes == 2
    assert isinstance(peak, memory.MemoryPeak)


def test_phases_come_from_airflows_metadata(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "bench_smoke.py").write_text(textwrap.dedent("""
        import time
        import pendulum
        from airflow.sdk import dag, task

        @dag(dag_id="bench_smoke", schedule=None,
             start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
        def bench_smoke():
            @task
            def discover():
                time.sleep(0.5)

            @task
            def read_and_stage():
                time.sleep(1.2)

            discover() >> read_and_stage()

        bench_smoke()
    """), encoding="utf-8")
    home = tmp_path / "airflow"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"})
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    wall, code, peak = night.measure([airflow, "dags", "test", "bench_smoke", "2026-02-01"],
                                     env, tmp_path / "run.log", timeout=120)
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]
    run_id = phases.latest_run_id(home / "airflow.db", "bench_smoke")
    assert run_id is not None
    got = phases.read_phases(home / "airflow.db", run_id, "bench_smoke")
    assert set(got.phases) == {"discover", "read_and_stage"}
    first, second = got.phases["discover"], got.phases["read_and_stage"]
    assert first.state == second.state == "success" and first.tries == 1
    # Lower bounds only: under load a task also carries its runner's start-up.
    assert first.seconds >= 0.5 and second.seconds >= 1.2
    assert first.end is not None and second.start is not None and first.end <= second.start
    assert got.overhead(wall) == pytest.approx(wall - first.seconds - second.seconds)
    assert got.overhead(wall) > 0
    # The gap before each task's code runs is Airflow's, read from the run's own log.
    phases.apply_log(got, (tmp_path / "run.log").read_text(encoding="utf-8"))
    assert set(got.startup) == {"discover", "read_and_stage"}
    assert all(v >= 0 for v in got.startup.values())
    assert 0.5 <= got.work("discover") < first.seconds
    assert got.work("read_and_stage") >= 1.2
    assert list(phases.median_phases([got])) == ["discover", "read_and_stage"]
    # Samples taken while each task ran are attributed to it (0.2 s sampling, tasks ≥ 0.5 s).
    by_task = phases.peak_by_task(got, peak.timeline)
    assert set(by_task) == {"discover", "read_and_stage"}
    assert 0 < max(by_task.values()) <= peak.max_process_rss


def _night(wall: float, tasks: dict[str, float], rss: int,
           startup: dict[str, float] | None = None) -> night.Night:
    ph = phases.NightPhases("r", {t: phases.Phase(t, s, "success", 1) for t, s in tasks.items()},
                            startup or {})
    return night.Night("n", wall, 0, ph, memory.MemoryPeak(rss, "p", rss * 2, 3, 10), {},
                       (0, 0, 0), (0, 0, 0), Path("x"))


def test_table_arithmetic_on_hand_made_nights() -> None:
    full = [
        _night(400, {"discover": 10, "read_and_stage": 100, "validate": 60, "decide": 10}, 1,
               {"discover": 4}),
        _night(500, {"discover": 30, "read_and_stage": 140, "validate": 80, "decide": 20}, 5,
               {"discover": 4}),
        _night(450, {"discover": 20, "read_and_stage": 120, "validate": 70, "decide": 30}, 2,
               {"discover": 5}),
    ]
    incr = [_night(70, {"discover": 5}, 3)]
    read = floor.ReadFloor(3, 1, 2, 10, 5, seconds=30, processes=2, runs=[30])
    copy = floor.CopyFloor(100, 1000, seconds=20, runs=[20])
    s = results.summarise(full, incr, read, read, copy)
    rows: dict[str, results.Row] = {}
    for r in s.rows:  # the full night's rows come first; keep those
        rows.setdefault(r.phase.strip(), r)
    wall = rows["full night, wall clock"]
    assert (wall.seconds, wall.ok) == (450, False)  # median of 400, 450, 500 > 60
    assert rows["read_and_stage"].seconds == 120 and rows["read_and_stage"].floor == 50
    assert rows["read_and_stage"].ratio == pytest.approx(120 / 50)
    assert rows["read_and_stage"].share == pytest.approx(120 / 450)
    intake = next(r for r in s.rows if r.phase.strip().startswith("read + validate"))
    # medians per task: 120 + 70 + 20 = 210 against a 50 s floor: 4.2x misses the 3x target.
    assert intake.seconds == 210 and intake.ratio == pytest.approx(4.2) and intake.ok is False
    # discover's own time: median of 10-4, 30-4, 20-5; the start-up gets its own row.
    assert rows["discover"].seconds == 15
    assert rows["Airflow task start-up (inside task instances)"].seconds == 4
    overhead = rows["Airflow + CLI overhead (wall − task instances)"]
    assert overhead.seconds == 220  # median of 400-180=220, 500-270=230, 450-240=210
    incremental = rows["incremental (1 county resubmits) night, wall clock"]
    assert (incremental.seconds, incremental.ok) == (70, False)
    assert rows["peak RSS, largest process"].seconds == pytest.approx(5 / 1024**3)
    assert rows["peak RSS, largest process"].ok is True
    table = results.text_table(s)
    assert "✗ MISSED" in table and "read_and_stage" in table
    assert results.markdown_table(s).count("\n") == len(s.rows) + 1
