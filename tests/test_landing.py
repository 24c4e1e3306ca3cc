"""Discovery of county files: one submission per distinct file, nothing hashed twice.

Protects: the same bytes dropped twice (same or other name) becoming two submissions, an
unchanged night registering anything, Office lock files or symlinks being taken as
submissions, and quarantine paths escaping their folder.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from edustat.intake import landing

NIGHT = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def _run(conn: psycopg.Connection, run_id: str) -> None:
    conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)", (run_id, NIGHT))


def _drop(root: Path, county: str, name: str, data: bytes, mtime: int) -> Path:
    path = root / county / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime, mtime))
    return path


def test_same_bytes_are_one_submission_and_rescans_change_nothing(warehouse: str,
                                                                  tmp_path: Path) -> None:
    _drop(tmp_path, "632857", "a.csv", b"one", 1_000)
    _drop(tmp_path, "632857", "copy of a.csv", b"one", 2_000)
    _drop(tmp_path, "632857", "~$a.xlsx", b"lock", 3_000)
    _drop(tmp_path, "630102", "b.csv", b"one", 4_000)  # same bytes, other county: its own
    os.symlink(tmp_path / "632857" / "a.csv", tmp_path / "632857" / "link.csv")
    with psycopg.connect(warehouse) as conn:
        _run(conn, "r1")
        first = landing.register(conn, landing.scan(tmp_path), "r1", NIGHT)
        _run(conn, "r2")
        second = landing.register(conn, landing.scan(tmp_path), "r2", NIGHT)
        rows = conn.execute(
            "SELECT county_code, file_name, status, duplicate_of IS NOT NULL"
            " FROM ops.submissions ORDER BY submission_id").fetchall()
    assert (first.files_seen, first.new_submissions, first.duplicates) == (3, 2, 1)
    assert (second.new_submissions, second.duplicates) == (0, 0)
    assert rows == [
        ("632857", "a.csv", "received", False),
        ("632857", "copy of a.csv", "duplicate", True),
        ("630102", "b.csv", "received", False),
    ]


def test_changed_file_at_same_path_is_a_new_submission(warehouse: str, tmp_path: Path) -> None:
    path = _drop(tmp_path, "632857", "a.csv", b"v1", 1_000)
    with psycopg.connect(warehouse) as conn:
        _run(conn, "r1")
        landing.register(conn, landing.scan(tmp_path), "r1", NIGHT)
        path.write_bytes(b"v2 corrected")
        os.utime(path, ns=(5_000, 5_000))
        _run(conn, "r2")
        again = landing.register(conn, landing.scan(tmp_path), "r2", NIGHT)
        count = conn.execute("SELECT count(*) FROM ops.submissions").fetchone()[0]
    assert again.new_submissions == 1
    assert count == 2


def test_quarantine_keeps_odd_names_inside_their_folder(tmp_path: Path) -> None:
    source = tmp_path / "in" / "..evil ..name;rm -rf.xlsx"
    source.parent.mkdir()
    source.write_bytes(b"x")
    folder = landing.quarantine(source, tmp_path / "q", "../632857", 7)
    moved = list(folder.iterdir())
    assert folder.resolve().is_relative_to((tmp_path / "q").resolve())
    assert len(moved) == 1 and ".." not in moved[0].name and "/" not in moved[0].name
    assert not source.exists()
