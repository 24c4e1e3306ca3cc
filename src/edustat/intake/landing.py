"""The landing folder: find settled files, checksum them, register submissions, quarantine.

Layout: <landing>/<county_code>/<file>. The same bytes in the same county folder are one
submission whatever they are called; a file already looked at (same path, size and mtime) is
not hashed again, so an unchanged night costs one stat per file.

A file is taken only once it has settled (the upload convention in README.md): its name is
not an upload in progress (`*.part`, `*.tmp`, `~$*`, dot-files), it was last modified at least
EDUSTAT_SETTLE_SECONDS before the night's logical date, and no process on this machine has it
open for writing. Anything else is *arriving*: recorded in ops.landing_arrivals and left
where it is for the next night, never read and never rejected. Judging against the logical
date, not the clock, keeps a retried night taking the same files.

Names are bytes on Linux; one that is not UTF-8 (GBK from a Windows share) is recorded
losslessly: landing_path_bytes keeps the bytes, file_name and landing_path show them with
\\x escapes (`shown`), and the file is read and judged like any other.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

# Office lock files (~$name.xlsx) and editor/OS droppings are never submissions; neither are
# uploads still under their temporary name (browsers, WinSCP, rsync's dot-files, Office).
_IGNORED = re.compile(r"^(~\$|\.|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_IN_PROGRESS = re.compile(
    r"\.(part|partial|tmp|temp|crdownload|download|filepart|opdownload|!ut)$", re.IGNORECASE)
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def shown(name: str | os.PathLike[str]) -> str:
    """A path or name as text: itself when it is UTF-8, else its odd bytes as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def ignored(name: str) -> bool:
    """Never a submission: lock files, hidden files, uploads under a temporary name."""
    return bool(_IGNORED.match(name) or _IN_PROGRESS.search(name))


@dataclass(frozen=True)
class LandedFile:
    path: Path
    county_folder: str  # shown(): the folder name as text
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """The path as recorded in ops (text; `path_bytes` has the exact bytes)."""
        return shown(self.path)

    @property
    def path_bytes(self) -> bytes:
        return os.fsencode(self.path)

    @property
    def modified_at(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


@dataclass
class LandingScan:
    settled: list[LandedFile] = field(default_factory=list)  # oldest first
    # (file, reason): "recent" (modified within the settle window) or "open" (being written)
    arriving: list[tuple[LandedFile, str]] = field(default_factory=list)


@dataclass
class DiscoveryResult:
    files_seen: int = 0
    new_submissions: int = 0
    duplicates: int = 0


def scan(landing: Path, settled_before: datetime) -> LandingScan:
    """Every candidate file, split into settled (oldest first, so a later file of a night gets
    the later id) and arriving. `settled_before`: the latest mtime a settled file may have."""
    result = LandingScan()
    if not landing.is_dir():
        return result
    cutoff_ns = int(settled_before.timestamp() * 1e9)
    candidates: list[LandedFile] = []
    identities: dict[tuple[int, int], LandedFile] = {}
    for county_dir in sorted(p for p in landing.iterdir() if p.is_dir()):
        if county_dir.is_symlink():
            log.warning("skipping symlinked county folder %s", shown(county_dir))
            continue
        for entry in sorted(county_dir.iterdir()):
            if ignored(entry.name) or entry.is_symlink() or not entry.is_file():
                continue
            st = entry.stat()
            landed = LandedFile(entry, shown(county_dir.name), st.st_size, st.st_mtime_ns)
            if st.st_mtime_ns > cutoff_ns:
                result.arriving.append((landed, "recent"))
                continue
            candidates.append(landed)
            identities[(st.st_dev, st.st_ino)] = landed
    writing = open_for_writing(identities)
    for landed in candidates:
        if landed in writing:
            result.arriving.append((landed, "open"))
        else:
            result.settled.append(landed)
    result.settled.sort(key=lambda f: (f.mtime_ns, f.key))
    return result


def open_for_writing(files: dict[tuple[int, int], LandedFile]) -> set[LandedFile]:
    """The files some process on this machine holds open for writing (an SMB/SFTP server or a
    copy still running), by device and inode so renames and odd names do not matter.

    psutil lists every open file of every process (as far as this user may see them) with its
    mode; a process that vanishes or is not ours to inspect is skipped.
    """
    if not files:
        return set()
    import psutil

    found: set[LandedFile] = set()
    for process in psutil.process_iter():
        try:
            opened = process.open_files()
        except (psutil.Error, OSError):
            continue
        for handle in opened:
            if handle.mode == "r":
                continue
            try:
                st = os.stat(handle.path)
            except OSError:
                continue
            landed = files.get((st.st_dev, st.st_ino))
            if landed is not None:
                found.add(landed)
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def register(conn: psycopg.Connection, files: Iterable[LandedFile], run_id: str,
             received_at: datetime) -> DiscoveryResult:
    """Record settled files as submissions (status received) or duplicates; idempotent."""
    files = list(files)
    result = DiscoveryResult(files_seen=len(files))
    known = {
        row[0]: (row[1], row[2], row[3], row[4])
        for row in conn.execute(
            """SELECT f.landing_path, f.size_bytes, f.mtime_ns, f.checksum, s.status
               FROM ops.landing_files f
               LEFT JOIN ops.submissions s USING (submission_id)""")
    }
    for f in files:
        size, mtime, taken_checksum, taken_status = known.get(f.key, (None, None, None, None))
        if (size, mtime) == (f.size, f.mtime_ns):
            continue
        checksum = sha256_of(f.path)
        if checksum == taken_checksum and taken_status != "rejected":
            # Touched, or copied again unchanged, where the file already taken still lies: the
            # same submission. (A rejected file was moved away: the same bytes there again are
            # a new attempt, recorded as a duplicate of the rejected one below.)
            conn.execute("UPDATE ops.landing_files SET size_bytes = %s, mtime_ns = %s"
                         " WHERE landing_path = %s", (f.size, f.mtime_ns, f.key))
            continue
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
            """INSERT INTO ops.submissions (county_code, file_name, landing_path,
                   landing_path_bytes, checksum, size_bytes, received_at, status, duplicate_of,
                   run_id, decided_run_id)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING submission_id""",
            (f.county_folder, shown(f.path.name), f.key, f.path_bytes, checksum, f.size,
             received_at, status, duplicate_of, run_id,
             run_id if status == "duplicate" else None),
        ).fetchone()[0]
        conn.execute(
            """INSERT INTO ops.landing_files (landing_path, size_bytes, mtime_ns, checksum,
                   submission_id) VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (landing_path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes,
                   mtime_ns = EXCLUDED.mtime_ns, checksum = EXCLUDED.checksum,
                   submission_id = EXCLUDED.submission_id""",
            (f.key, f.size, f.mtime_ns, checksum, submission_id),
        )
    return result


def record_arrivals(conn: psycopg.Connection, run_id: str,
                    arriving: Iterable[tuple[LandedFile, str]]) -> int:
    """ops.landing_arrivals for this run (a retried discovery replaces its own rows)."""
    conn.execute("DELETE FROM ops.landing_arrivals WHERE run_id = %s", (run_id,))
    count = 0
    for landed, reason in arriving:
        conn.execute(
            """INSERT INTO ops.landing_arrivals (run_id, landing_path, county_folder, file_name,
                   size_bytes, modified_at, reason) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            (run_id, landed.key, landed.county_folder, shown(landed.path.name), landed.size,
             landed.modified_at, reason))
        count += 1
    return count


def landing_path(text: str, exact: bytes | None) -> Path:
    """The file a submission came from: its exact bytes when recorded, else the text."""
    return Path(os.fsdecode(exact)) if exact is not None else Path(text)


def safe_name(name: str) -> str:
    """A file name that cannot climb out of the quarantine folder or confuse a shell."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "file"
    return cleaned.replace("..", "_")[:120]


def quarantine(path: Path, quarantine_root: Path, county_folder: str, submission_id: int
               ) -> Path:
    """Move a rejected file to quarantine/<county>/<submission>/; the report goes beside it.

    All or nothing: on the same file system a rename; across file systems a copy under a
    temporary name, renamed when complete, and only then is the landing file removed. A
    failure (disk full) raises and leaves the landing file where it was. Done already (a
    retry): nothing to move.
    """
    target_dir = quarantine_root / safe_name(county_folder) / str(submission_id)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / safe_name(path.name)
    if not path.exists():
        return target_dir
    try:
        os.rename(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        partial = target.with_name(target.name + ".part")
        try:
            shutil.copy2(path, partial)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        path.unlink()
    return target_dir
