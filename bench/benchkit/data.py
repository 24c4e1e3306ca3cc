"""The benchmark's input: generated once with a fixed seed, cached, linked into a landing.

One `generate` call writes both years (the history year and the benchmark year) so the schools
of 2022 are the same schools as in 2025: retention marts need that continuity. The folder is
reused when its marker records the same parameters, because national generation takes minutes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edustat_synth.generate import generate

MARKER = ".bench-dataset.json"
# Bumped when the layout of the cache changes, so an old cache is regenerated, not misread.
CACHE_VERSION = 1


@dataclass(frozen=True)
class DataSpec:
    scale: str  # "national" or "province"
    province: str | None  # only for scale="province"
    year: int  # the benchmarked school year
    history_year: int  # loaded before timing (the Y-3 intake year for retention)
    seed: int
    counties: int | None = None  # narrow a national run to this many counties (tests)

    @property
    def name(self) -> str:
        where = "national" if self.scale == "national" else f"p{self.province}"
        size = f"-c{self.counties}" if self.counties else ""
        return f"{where}{size}-{self.history_year}-{self.year}-s{self.seed}"


@dataclass
class Dataset:
    spec: DataSpec
    root: Path
    # Paths relative to root, per school year.
    files: dict[int, list[str]]
    rows: dict[int, int]
    schools: dict[int, int]
    generate_seconds: float

    def paths(self, year: int) -> list[Path]:
        return [self.root / rel for rel in self.files[year]]

    def split(self, year: int) -> dict[str, int]:
        """How many of the year's files are xlsx and csv (by extension, as counties name them)."""
        out = {"xlsx": 0, "csv": 0}
        for rel in self.files[year]:
            out["csv" if rel.lower().endswith(".csv") else "xlsx"] += 1
        return out


def _marker_payload(spec: DataSpec) -> dict:
    return {"version": CACHE_VERSION, "spec": asdict(spec)}


def ensure_dataset(spec: DataSpec, work: Path, workers: int = 2) -> Dataset:
    """The cached dataset for `spec` under work/data/, generating it when missing or stale."""
    root = work / "data" / spec.name
    marker = root / MARKER
    if marker.exists():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if saved.get("key") == _marker_payload(spec):
            return Dataset(spec, root, {int(k): v for k, v in saved["files"].items()},
                           {int(k): v for k, v in saved["rows"].items()},
                           {int(k): v for k, v in saved["schools"].items()},
                           saved["generate_seconds"])
    if root.exists():
        shutil.rmtree(root)
    started = time.monotonic()
    summary = generate(
        spec.province, [spec.history_year, spec.year], root, seed=spec.seed, faulty=0,
        scale="national" if spec.scale == "national" else None,
        counties=spec.counties, workers=workers,
    )
    elapsed = time.monotonic() - started
    # summary.files is sorted by county, then year: each county folder holds one file per year.
    files: dict[int, list[str]] = {spec.history_year: [], spec.year: []}
    by_county: dict[str, list[Path]] = {}
    for path in summary.files:
        by_county.setdefault(path.parent.name, []).append(path)
    for county, paths in by_county.items():
        if len(paths) != 2:
            raise RuntimeError(f"county {county}: expected one file per year, got {paths}")
        files[spec.history_year].append(str(paths[0].relative_to(root)))
        files[spec.year].append(str(paths[1].relative_to(root)))
    dataset = Dataset(spec, root, files, dict(summary.rows_per_year),
                      dict(summary.schools_per_year), round(elapsed, 1))
    marker.write_text(json.dumps({
        "key": _marker_payload(spec), "files": files, "rows": dataset.rows,
        "schools": dataset.schools, "generate_seconds": dataset.generate_seconds,
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    return dataset


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        # Another file system: a copy with the same mtime is, for discovery, the same file.
        shutil.copy2(source, target)


def sync_landing(dataset: Dataset, landing: Path, years: list[int]) -> int:
    """Make `landing` hold exactly the dataset's files of `years` (hard links); return count.

    Anything else in it (a previous incremental resubmission, stray files) is removed, and a
    file the night moved to quarantine is linked again, so every repetition starts alike.
    """
    wanted = {rel for y in years for rel in dataset.files[y]}
    if landing.exists():
        for path in sorted(landing.rglob("*"), reverse=True):
            rel = str(path.relative_to(landing))
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif rel not in wanted:
                path.unlink()
    for rel in sorted(wanted):
        source, target = dataset.root / rel, landing / rel
        if target.exists() and os.path.samefile(source, target):
            continue
        if target.exists():
            target.unlink()
        _link(source, target)
    return len(wanted)


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ValueError("neither UTF-8 nor GB18030")


# The value the incremental night changes: a library's book count moves by a few books, which
# no rule rejects and which still changes the county's marts.
BOOKS_HEADER = "图书"


def pick_resubmission_source(dataset: Dataset) -> Path:
    """The benchmark year's first CSV file (by county code): the county that resubmits."""
    for rel in sorted(dataset.files[dataset.spec.year]):
        if rel.lower().endswith(".csv"):
            return dataset.root / rel
    raise RuntimeError("the dataset has no CSV file to resubmit")


def make_resubmission(source: Path, folder: Path, serial: int) -> tuple[Path, str, str]:
    """Write `source` with one book count raised by `serial` under a new name into `folder`.

    Returns (new path, old value, new value). The encoding and layout of the county's file are
    kept; only that one cell differs.
    """
    text, encoding = _decode(source.read_bytes())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header_at = next(i for i, row in enumerate(rows)
                     if any(cell.strip().startswith(BOOKS_HEADER) for cell in row))
    column = next(j for j, cell in enumerate(rows[header_at])
                  if cell.strip().startswith(BOOKS_HEADER))
    row = rows[header_at + 1]
    old = row[column]
    digits = old.replace(",", "").strip()
    new = str(int(float(digits)) + serial)
    row[column] = new
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    target = folder / f"更正{serial}-{source.name}"
    payload = out.getvalue().encode(encoding)
    target.write_bytes(payload)
    # Sent a day before the night that takes it: a file modified within EDUSTAT_SETTLE_SECONDS
    # of the night is still arriving and waits for the next one.
    sent = time.time() - 86_400
    os.utime(target, (sent, sent))
    return target, old, new
