"""The landing folder: find new files, checksum them, register submissions, quarantine.

Layout: <landing>/<county_code>/<file>. The same bytes in the same county folder are one
submission whatever they are called; a file already looked at (same path, size and mtime) is
not hashed again, so an unchanged night costs one stat per file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".xlsx", ".csv")
# Office lock files (~$name.xlsx) and editor/OS droppings are never submissions.
_IGNORED = re.compile(r"^(~\$|\.|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


@dataclass(frozen=True)
class LandedFile:
    path: Path
    county_folder: str
    size: int
    mtime_ns: int


@dataclass
class DiscoveryResult:
    files_seen: int = 0
    new_submissions: int = 0
    duplicates: int = 0


def scan(landing: Path) -> list[LandedFile]:
    """Every candidate file, oldest first (so a later file of a night gets the later id)."""
    found: list[LandedFile] = []
    if not landing.is_dir():
        return found
    for county_dir in sorted(p for p in landing.iterdir() if p.is_dir()):
        if county_dir.is_symlink():
            log.warning("skipping symlinked county folder %s", county_dir)
            continue
        for entry in sorted(county_dir.iterdir()):
            if _IGNORED.match(entry.name) or entry.is_symlink() or not entry.is_file():
                continue
            st = entry.stat()
            found.append(LandedFile(entry, county_dir.name, st.st_size, st.st_mtime_ns))
    found.sort(key=lambda f: (f.mtime_ns, str(f.path)))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def register(conn: psycopg.Connection, files: list[LandedFile], run_id: str,
             received_at: datetime) -> DiscoveryResult:
    """Record new files as submissions (status received) or duplicates; idempotent."""
    result = DiscoveryResult(files_seen=len(files))
    known = {
        row[0]: (row[1], row[2])
        for row in conn.execute("SELECT landing_path, size_bytes, mtime_ns FROM ops.landing_files")
    }
    for f in files:
        key = str(f.path)
        if known.get(key) == (f.size, f.mtime_ns):
            continue
        checksum = sha256_of(f.path)
        existing = conn.execute(
            "SELECT submission_id FROM ops.submissions WHERE county_code = %s AND checksum = %s"
            " AND status <> 'duplicate'",
            (f.county_folder, checksum),
        ).fetchone()
        if existing is None:
            status, duplicate_of = "received", None
            result.new_submissions += 1
        else:
            status, duplicate_of = "duplicate", existing[0]
            result.duplicates += 1
        submission_id = conn.execute(
            """INSERT INTO ops.submissions (county_code, file_name, landing_path, checksum,
                   size_bytes, received_at, status, duplicate_of, run_id, decided_run_id)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING submission_id""",
            (f.county_folder, f.path.name, key, checksum, f.size, received_at, status,
             duplicate_of, run_id, run_id if status == "duplicate" else None),
        ).fetchone()[0]
        conn.execute(
            """INSERT INTO ops.landing_files (landing_path, size_bytes, mtime_ns, checksum,
                   submission_id) VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (landing_path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes,
                   mtime_ns = EXCLUDED.mtime_ns, checksum = EXCLUDED.checksum,
                   submission_id = EXCLUDED.submission_id""",
            (key, f.size, f.mtime_ns, checksum, submission_id),
        )
    return result


def safe_name(name: str) -> str:
    """A file name that cannot climb out of the quarantine folder or confuse a shell."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "file"
    return cleaned.replace("..", "_")[:120]


def quarantine(path: Path, quarantine_root: Path, county_folder: str, submission_id: int
               ) -> Path:
    """Move a rejected file to quarantine/<county>/<submission>/; the report goes beside it."""
    target_dir = quarantine_root / safe_name(county_folder) / str(submission_id)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / safe_name(path.name)
    if path.exists():
        shutil.move(os.fspath(path), target)
    return target_dir
