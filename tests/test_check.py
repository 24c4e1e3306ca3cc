"""`edustat check` gives the night's verdict before the night, and changes nothing.

Protects: the verdict (and every finding, message for message) of `edustat check` equalling
what the real night (pipeline discover → decide on a real warehouse) decides for the same file
in the same folder, over the whole corpus (tests/corpus good and hostile, plus a file in a
folder that is no county and one in another county's folder), year-over-year warnings
included; the warehouse and the landing folder untouched by it; exit status 0/1/2; the
rejection report written where it says; bilingual output.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat import pipeline
from edustat.check import judge
from edustat.config import Settings, load_settings
from support.landing import settle

CORPUS = Path(__file__).parent / "corpus"
COUNTY = "630102"  # the corpus's county (西宁市城东区), year 2025
EDUSTAT = str(Path(sys.executable).parent / "edustat")


def _settings(home: Path, dsn: str) -> Settings:
    return load_settings({"EDUSTAT_HOME": str(home), "EDUSTAT_WAREHOUSE_DSN": dsn,
                          "EDUSTAT_JURISDICTION": "63", "EDUSTAT_SETTLE_SECONDS": "0"})


def _logical_date(day: int) -> datetime:
    return datetime(2026, 3, day, tzinfo=UTC)


def _night(settings: Settings, landing: Path, run_id: str, day: int) -> None:
    ctx = pipeline.RunContext(run_id=run_id, logical_date=_logical_date(day),
                              landing=landing, settings=settings)
    for stage in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                  pipeline.decide):
        stage(ctx)


def _history_file(path: Path) -> None:
    """The corpus's schools as 2024's file, one school renamed and enrolment halved, so that
    2025's files carry year-over-year warnings."""
    lines = (CORPUS / "good" / "utf8.csv").read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[0] = "2024"
        cells[2] = cells[2].replace("0630102003", "0630102009")
        for column in (6, 7, 8):  # students: 2025 doubles them, +100 %
            cells[column] = str(int(cells[column]) // 2)
        out.append(",".join(cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    settle(path, _logical_date(1))


def _landing(root: Path) -> dict[Path, str]:
    """Every corpus file in the county's folder; bytes already there go to a neighbour's
    folder (the night would file a second copy as a duplicate and never judge it); two more
    placements: a folder that is no county, another county's folder."""
    placed: dict[Path, str] = {}
    seen: set[str] = set()
    for source in sorted((CORPUS / "good").iterdir()) + sorted((CORPUS / "hostile").iterdir()):
        if source.suffix == ".py":
            continue
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        folder = COUNTY if digest not in seen else "630103"
        seen.add(digest)
        target = root / folder / f"{source.parent.name}-{source.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        placed[settle(Path(shutil.copy(source, target)), _logical_date(2))] = folder
    for folder in ("630100", "630104"):  # 630100: a prefecture, not a county-level unit
        target = root / folder / "good-xlsx.xlsx"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / "good" / "reordered_columns.xlsx", target)
        placed[settle(target, _logical_date(2))] = folder
    return placed


def _fingerprint(dsn: str) -> str:
    digest = hashlib.sha256()
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_schema IN ('ops', 'raw', 'staging', 'intermediate', 'marts')
               ORDER BY 1, 2""").fetchall()
        for schema, table in tables:
            rows = sorted(r[0] for r in conn.execute(f'SELECT t::text FROM {schema}."{table}" t'))
            digest.update(f"{schema}.{table}:{len(rows)}\n".encode())
            digest.update("\n".join(rows).encode())
    return digest.hexdigest()


def _tree(root: Path) -> dict[str, tuple[int, int, str]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns,
                                       hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file()}


def _key(check_id: str, severity: str, column: str | None, row: int | None, value: str | None,
         school: str | None, count: int, zh: str, en: str) -> tuple:
    return (check_id, severity, column, row, value, school, count, zh, en)


def test_verdicts_equal_the_nights_on_the_whole_corpus(warehouse: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home", warehouse)
    first = tmp_path / "landing-2024"
    _history_file(first / COUNTY / "2024.csv")
    _night(settings, first, "night-2024", 1)

    landing = tmp_path / "landing"
    placed = _landing(landing)
    before, files = _fingerprint(warehouse), _tree(landing)
    verdicts = {path: judge(path, folder, settings, warehouse) for path, folder in placed.items()}
    assert _fingerprint(warehouse) == before, "edustat check wrote to the warehouse"
    assert _tree(landing) == files, "edustat check touched the landing folder"

    _night(settings, landing, "night-2025", 2)
    with psycopg.connect(warehouse) as conn:
        decided = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
            """SELECT county_code, file_name, status, submission_id FROM ops.submissions
               WHERE run_id = 'night-2025'""")}
        results: dict[int, Counter] = {}
        for sid, *row in conn.execute(
                """SELECT submission_id, check_id, severity, column_name, row_number, value,
                          school_code, failing_count, message_zh, message_en
                   FROM ops.validation_results"""):
            results.setdefault(sid, Counter())[_key(*row)] += 1
    assert len(decided) == len(placed)
    outcomes = Counter()
    for path, verdict in verdicts.items():
        status, sid = decided[(placed[path], path.name)]
        assert status in ("accepted", "rejected"), (path.name, status)
        assert verdict.accepted == (status == "accepted"), (path.name, status, verdict.findings)
        mine = Counter(_key(f.check_id, f.severity, f.column, f.row_number, f.value,
                            f.school_code, f.failing_count, f.message_zh, f.message_en)
                       for f in verdict.findings)
        assert mine == results.get(sid, Counter()), path.name
        outcomes[status] += 1
    # Both verdicts occur, and the history was really compared (warnings from 2024's file).
    assert outcomes["accepted"] >= 20 and outcomes["rejected"] >= 25
    good = verdicts[landing / COUNTY / "good-utf8.csv"]
    assert {"enrolment_change", "school_appeared", "school_disappeared"} <= {
        f.check_id for f in good.findings}
    assert verdicts[landing / "630100" / "good-xlsx.xlsx"].findings[-1].check_id == (
        "unknown_county_folder")


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([EDUSTAT, "check", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_cli_exit_status_output_and_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUSTAT_")}
    env["EDUSTAT_HOME"] = str(tmp_path / "home")  # no warehouse: checks run without history
    folder = tmp_path / "mine" / COUNTY
    folder.mkdir(parents=True)
    good = folder / "城东区2025.xlsx"
    shutil.copy(CORPUS / "good" / "reordered_columns.xlsx", good)
    bad = tmp_path / "formulas.xlsx"
    shutil.copy(CORPUS / "hostile" / "formulas.xlsx", bad)

    accepted = _cli(str(good), "--year", "2025", env=env, cwd=tmp_path)  # county from folder
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "结论：夜间运行将接收此文件（错误 0 条" in accepted.stdout
    assert "Verdict: the night would ACCEPT this file" in accepted.stdout
    assert accepted.stdout.index("结论") < accepted.stdout.index("Verdict")
    assert "未连接数据仓库，未做同比检查" in accepted.stdout
    assert not (tmp_path / "edustat-check").exists()  # nothing to report

    out = tmp_path / "report"
    rejected = _cli(str(bad), "--county", COUNTY, "--out", str(out), env=env, cwd=tmp_path)
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert "夜间运行将退回此文件（错误 2 条" in rejected.stdout
    assert "第2行「=1200+34」" in rejected.stdout and 'row 2 "=1200+34"' in rejected.stdout
    assert f"{out / 'rejection_report.html'}" in rejected.stdout
    html = (out / "rejection_report.html").read_text(encoding="utf-8")
    assert "formula_cell" in html and "=SUM(Y2:Y2)*2" in html
    assert "夜间运行将退回此文件" in html and "Submission rejected" not in html
    # The folder is no site: every link of the page leads to a file beside it.
    links = [h for h in re.findall(r'href="([^"]+)"', html) if not h.startswith("data:")]
    assert links and all((out / h).is_file() for h in links), links
    assert (out / "rejection_report.csv").read_text(encoding="utf-8-sig").count("formula_cell") == 2

    # Usage errors: one line, exit 2, nothing written.
    nowhere = _cli(str(bad), env=env, cwd=tmp_path)  # not in a county folder, no --county
    assert nowhere.returncode == 2 and "--county" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr and len(nowhere.stderr.strip().splitlines()) == 1
    missing = _cli(str(tmp_path / "nope.xlsx"), "--county", COUNTY, env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    landing_out = _cli(str(bad), "--county", COUNTY, "--out",
                       str(tmp_path / "home" / "landing" / "x"), env=env, cwd=tmp_path)
    assert landing_out.returncode == 2 and "landing" in landing_out.stderr
    assert not (tmp_path / "home" / "landing").exists()
    assert _cli("--county", COUNTY, env=env, cwd=tmp_path).returncode == 2  # no FILE
    assert not (tmp_path / "home" / "pgdata").exists()  # no embedded warehouse was started


@pytest.mark.parametrize("name", ["formulas.xlsx"])
def test_landing_files_are_never_moved(warehouse: str, tmp_path: Path, name: str) -> None:
    """The night quarantines a rejected file; the check leaves it where it is."""
    settings = _settings(tmp_path / "home", warehouse)
    target = settings.landing / COUNTY / name
    target.parent.mkdir(parents=True)
    shutil.copy(CORPUS / "hostile" / name, target)
    verdict = judge(target, COUNTY, settings, warehouse)
    assert not verdict.accepted and target.exists()
    assert not settings.quarantine.exists()
