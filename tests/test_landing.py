"""Discovery of county files: one submission per distinct, settled file, nothing hashed twice.

Protects: the same bytes dropped twice (same or other name) becoming two submissions, a
`touch` or an unchanged night registering anything, Office lock files, uploads under a
temporary name or symlinks being taken as submissions, a file still arriving (modified within
the settle window, or open for writing by another process) being read half-written, a file
name that is not UTF-8 (GBK from a Windows share) stopping discovery or losing its bytes, and
quarantine paths escaping their folder or losing a file when the copy fails.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from edustat.intake import landing

NIGHT = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
BEFORE = int((NIGHT - timedelta(days=1)).timestamp() * 1e9)  # a settled file's mtime (ns)


def _run(conn: psycopg.Connection, run_id: str) -> None:
    conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)", (run_id, NIGHT))


def _drop(root: Path | bytes, county: str, name: str | bytes, data: bytes,
          mtime: int = BEFORE) -> Path:
    folder = os.path.join(os.fsencode(root), county.encode())
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, os.fsencode(name))
    with open(path, "wb") as fh:
        fh.write(data)
    os.utime(path, ns=(mtime, mtime))
    return Path(os.fsdecode(path))


def _settled(root: Path) -> list[landing.LandedFile]:
    return landing.scan(root, settled_before=NIGHT).settled


def test_same_bytes_are_one_submission_and_rescans_change_nothing(warehouse: str,
                                                                  tmp_path: Path) -> None:
    _drop(tmp_path, "632857", "a.csv", b"one", BEFORE)
    _drop(tmp_path, "632857", "copy of a.csv", b"one", BEFORE + 1_000)
    _drop(tmp_path, "632857", "~$a.xlsx", b"lock")
    _drop(tmp_path, "630102", "b.csv", b"one", BEFORE + 2_000)  # same bytes, other county
    os.symlink(tmp_path / "632857" / "a.csv", tmp_path / "632857" / "link.csv")
    with psycopg.connect(warehouse) as conn:
        _run(conn, "r1")
        first = landing.register(conn, _settled(tmp_path), "r1", NIGHT)
        _run(conn, "r2")
        second = landing.register(conn, _settled(tmp_path), "r2", NIGHT)
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


def test_changed_file_is_new_but_a_touched_one_is_not(warehouse: str, tmp_path: Path) -> None:
    path = _drop(tmp_path, "632857", "a.csv", b"v1")
    with psycopg.connect(warehouse) as conn:
        _run(conn, "r1")
        landing.register(conn, _settled(tmp_path), "r1", NIGHT)
        # `touch`: same bytes, new mtime. Not a second submission, not a self-duplicate.
        os.utime(path, ns=(BEFORE + 5_000, BEFORE + 5_000))
        _run(conn, "r2")
        touched = landing.register(conn, _settled(tmp_path), "r2", NIGHT)
        path.write_bytes(b"v2 corrected")
        os.utime(path, ns=(BEFORE + 9_000, BEFORE + 9_000))
        _run(conn, "r3")
        again = landing.register(conn, _settled(tmp_path), "r3", NIGHT)
        statuses = [r[0] for r in conn.execute(
            "SELECT status FROM ops.submissions ORDER BY submission_id")]
        mtime = conn.execute("SELECT mtime_ns FROM ops.landing_files").fetchone()[0]
    assert (touched.new_submissions, touched.duplicates) == (0, 0)
    assert again.new_submissions == 1
    assert statuses == ["received", "received"]
    assert mtime == BEFORE + 9_000


def test_files_still_arriving_are_left_for_the_next_night(warehouse: str,
                                                          tmp_path: Path) -> None:
    """Upload names are ignored; a file modified within the settle window, or held open for
    writing by another process, is recorded as arriving and taken once it has settled."""
    _drop(tmp_path, "632857", "县报表.xlsx.part", b"partial")
    _drop(tmp_path, "632857", "上传中.tmp", b"partial")
    _drop(tmp_path, "632857", "下载.xlsx.crdownload", b"partial")
    _drop(tmp_path, "632857", ".~lock.报表.xlsx#", b"lock")
    old = _drop(tmp_path, "632857", "done.csv", b"complete")
    recent = _drop(tmp_path, "632857", "recent.csv", b"just copied",
                   int((NIGHT - timedelta(seconds=60)).timestamp() * 1e9))
    writing = _drop(tmp_path, "630102", "copying.csv", b"half of it")
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; f = open(sys.argv[1], 'ab');"
         " print('open', flush=True); time.sleep(60)", str(writing)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "open"
        cutoff = NIGHT - timedelta(seconds=300)
        night1 = landing.scan(tmp_path, settled_before=cutoff)
        with psycopg.connect(warehouse) as conn:
            _run(conn, "r1")
            found = landing.register(conn, night1.settled, "r1", NIGHT)
            arriving = landing.record_arrivals(conn, "r1", night1.arriving)
            recorded = conn.execute("SELECT file_name, reason FROM ops.landing_arrivals"
                                    " ORDER BY file_name").fetchall()
    finally:
        writer.kill()
        writer.wait()
    assert [f.path for f in night1.settled] == [old]
    assert (found.new_submissions, arriving) == (1, 2)
    assert recorded == [("copying.csv", "open"), ("recent.csv", "recent")]
    # The next night: the copy has finished and the recent file has aged.
    night2 = landing.scan(tmp_path, settled_before=NIGHT + timedelta(days=1))
    assert {f.path for f in night2.settled} == {old, recent, writing}
    assert night2.arriving == []


def test_a_name_that_is_not_utf8_is_kept_byte_for_byte(warehouse: str, tmp_path: Path) -> None:
    gbk = "城关镇报表.csv".encode("gbk")
    path = _drop(tmp_path, "632857", gbk, b"school data")
    with psycopg.connect(warehouse) as conn:
        _run(conn, "r1")
        found = landing.register(conn, _settled(tmp_path), "r1", NIGHT)
        name, shown_path, exact = conn.execute(
            "SELECT file_name, landing_path, landing_path_bytes FROM ops.submissions"
        ).fetchone()
    assert found.new_submissions == 1
    assert name == gbk.decode("utf-8", "backslashreplace")
    assert name.startswith("\\x") and name.endswith(".csv")
    assert shown_path.endswith(name)
    assert bytes(exact) == os.fsencode(path)
    reread = landing.landing_path(shown_path, bytes(exact))
    assert reread.read_bytes() == b"school data"
    folder = landing.quarantine(reread, tmp_path / "q", "632857", 1)
    assert not path.exists() and [p.read_bytes() for p in folder.iterdir()] == [b"school data"]


def test_quarantine_keeps_odd_names_inside_their_folder(tmp_path: Path) -> None:
    source = tmp_path / "in" / "..evil ..name;rm -rf.xlsx"
    source.parent.mkdir()
    source.write_bytes(b"x")
    folder = landing.quarantine(source, tmp_path / "q", "../632857", 7)
    moved = list(folder.iterdir())
    assert folder.resolve().is_relative_to((tmp_path / "q").resolve())
    assert len(moved) == 1 and ".." not in moved[0].name and "/" not in moved[0].name
    assert not source.exists()
    # Done already (a retry after a crash): nothing left to move, the folder is returned.
    assert landing.quarantine(source, tmp_path / "q", "../632857", 7) == folder


def test_quarantine_across_file_systems_is_all_or_nothing(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Quarantine on another file system: rename answers EXDEV, as the kernel does there
    # (simulated, so the test runs the same on every machine).
    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(landing.os, "rename", cross_device)
    source = tmp_path / "rejected.xlsx"
    source.write_bytes(b"x" * 4096)
    root = tmp_path / "quarantine"
    folder = landing.quarantine(source, root, "632857", 9)
    assert not source.exists()
    assert [p.name for p in folder.iterdir()] == ["rejected.xlsx"]
    assert (folder / "rejected.xlsx").read_bytes() == b"x" * 4096

    # The copy stops half-way (the quarantine disk fills up): the half copy is removed,
    # the landing file stays whole. (tests/test_faults.py fills a real disk.)
    def half_then_full(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(landing.shutil, "copy2", half_then_full)
    again = tmp_path / "again.xlsx"
    again.write_bytes(b"y" * 100)
    with pytest.raises(OSError, match="No space"):
        landing.quarantine(again, root, "632857", 10)
    assert again.read_bytes() == b"y" * 100
    assert list((root / "632857" / "10").iterdir()) == []
