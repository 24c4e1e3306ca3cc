"""`edustat generate`: realistic synthetic county submissions in the landing layout.

    generate("63", [2022, 2023, 2024, 2025], Path("landing"), seed=2026, faulty=3)

writes `<out>/<county_code>/<file>.xlsx|.csv`, one file per county per year, as counties really
send them (titles, 合计 rows, GB18030 CSVs, numbers as text...). `faulty=K` counties get, in the
latest year only, a file that must be rejected; a few others get warnings-only oddities. The
same arguments give byte-identical files. Nothing is printed: the summary says what was written.
The parts live in `edustat_synth.generation`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import IO

from edustat_synth.generation.counties import CountyUnit, load_county_units
from edustat_synth.generation.county_job import CountyJob, FileResult, run_county
from edustat_synth.generation.faults import FaultyFile, InjectedFault
from edustat_synth.generation.styles import Decks, make_style

__all__ = ["FaultyFile", "GenerateSummary", "InjectedFault", "generate", "select_counties"]

# Below this many counties a process pool costs more than it saves.
_PARALLEL_FROM = 200


@dataclass
class GenerateSummary:
    out: Path
    years: list[int]
    counties: list[str]  # county codes written, sorted
    files: list[Path] = field(default_factory=list)  # sorted by county, then year
    rows_per_year: dict[int, int] = field(default_factory=dict)  # data rows written
    schools_per_year: dict[int, int] = field(default_factory=dict)  # distinct schools
    faulty: list[FaultyFile] = field(default_factory=list)  # files that must be rejected
    oddities: list[FaultyFile] = field(default_factory=list)  # accepted files with warnings
    faults: list[InjectedFault] = field(default_factory=list)  # every injected fault/oddity

    @property
    def files_written(self) -> int:
        return len(self.files)

    def describe(self) -> str:
        """Bilingual text for the CLI."""
        lines = [
            f"已生成 {self.files_written} 个报送文件（{len(self.counties)} 个县，年度 "
            f"{', '.join(map(str, self.years))}）于 {self.out} / wrote {self.files_written} files "
            f"for {len(self.counties)} counties",
        ]
        lines += [f"  {y} 年: {self.schools_per_year[y]} 所学校 / schools, "
                  f"{self.rows_per_year[y]} 行 / rows" for y in self.years]
        if self.faulty:
            lines.append(f"含错误、应被退回的文件 / files that must be rejected: "
                         f"{len(self.faulty)}")
            lines += [f"  {f.county_code} {f.year} {f.path.name}: {f.description}"
                      for f in self.faulty]
        if self.oddities:
            lines.append(f"仅有提示的文件 / files with warnings only: {len(self.oddities)}")
            lines += [f"  {f.county_code} {f.year} {f.path.name}: {f.description}"
                      for f in self.oddities]
        return "\n".join(lines)


def _province_code(province: str) -> str:
    code = province.strip()
    if len(code) == 6 and code.endswith("0000"):
        code = code[:2]
    if len(code) != 2 or not code.isdigit():
        raise ValueError(f"省级代码应为两位数字，如 63 / province must be a 2-digit code, "
                         f"e.g. 63: {province!r}")
    return code


def select_counties(province: str | None, scale: str | None = None,
                    counties: int | Iterable[str] | None = None) -> list[CountyUnit]:
    """The county units a run covers: a province's, or the country's with scale="national".

    `counties` narrows the run: an int keeps that many, spread evenly over the list (so a small
    national sample spans many provinces); codes keep exactly those units.
    """
    units = load_county_units()
    if scale not in (None, "province", "national"):
        raise ValueError(f"scale 只能为 national / scale must be 'national': {scale!r}")
    if scale == "national":
        chosen = list(units)
    elif province is None:
        raise ValueError("需要指定省份（如 63）或 scale='national' / "
                         "give a province (e.g. 63) or scale='national'")
    else:
        code = _province_code(province)
        chosen = [u for u in units if u.province == code]
        if not chosen:
            raise ValueError(f"区划表中没有省份 {code} / no county units for province {code}")
    if counties is None:
        return chosen
    if isinstance(counties, int):
        if counties < 1:
            raise ValueError(f"counties must be at least 1: {counties}")
        if counties >= len(chosen):
            return chosen
        step = len(chosen) / counties
        return [chosen[int(i * step)] for i in range(counties)]
    wanted = set(counties)
    picked = [u for u in chosen if u.code in wanted]
    unknown = wanted - {u.code for u in picked}
    if unknown:
        raise ValueError(f"不在本次范围内的县级代码 / county codes not in scope: "
                         f"{', '.join(sorted(unknown))}")
    return picked


def _neighbours(units: tuple[CountyUnit, ...]) -> dict[str, str]:
    """For each county, the nearest code in its prefecture (else province): a stray row's."""
    groups: dict[str, list[str]] = {}
    for u in units:
        groups.setdefault(u.prefecture_code, []).append(u.code)
        groups.setdefault(u.province, []).append(u.code)
    result: dict[str, str] = {}
    for u in units:
        for group in (groups[u.prefecture_code], groups[u.province]):
            others = [c for c in group if c != u.code]
            if others:
                result[u.code] = min(others, key=lambda c: (abs(int(c) - int(u.code)), c))
                break
        else:
            result[u.code] = u.code
    return result


def generate(province: str | None, years: list[int], out: Path, seed: int = 2026,
             faulty: int = 0, scale: str | None = None, *,
             counties: int | Iterable[str] | None = None,
             workers: int | None = None, progress: IO[str] | None = None) -> GenerateSummary:
    """Write one submission file per county and year under `out`; see the module docstring.

    `scale="national"` covers every county unit of the country (`province` is then ignored).
    `counties` narrows the run (see `select_counties`); `workers` processes (default: 1 for a
    province, 2 at national scale); `progress`: a stream to report progress on (the CLI's).
    Raises ValueError for arguments that cannot be honoured.
    """
    wanted_years = sorted(set(years))
    if not wanted_years:
        raise ValueError("至少需要一个年度 / at least one year is required")
    if any(not 2000 <= y <= 2100 for y in wanted_years):
        raise ValueError(f"年度须在2000–2100之间 / years must be 2000-2100: {wanted_years}")
    selected = select_counties(province, scale, counties)
    if not 0 <= faulty <= len(selected):
        raise ValueError(f"faulty 须在0到{len(selected)}之间 / faulty must be 0..{len(selected)}: "
                         f"{faulty}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    all_units = load_county_units()
    provinces = {u.province for u in selected}
    decks = Decks([u for u in all_units if u.province in provinces], seed)
    codes = [u.code for u in selected]
    neighbours = _neighbours(all_units)
    plan = random.Random(f"edustat:{seed}:faulty:{faulty}")
    faulty_codes = set(plan.sample(codes, faulty))
    clean = [c for c in codes if c not in faulty_codes]
    odd_count = min(len(clean), max(1, round(0.04 * len(codes)))) if len(codes) > 1 else 0
    odd_codes = set(plan.sample(clean, odd_count))

    jobs = [
        CountyJob(
            unit=u, style=make_style(u, decks, seed), seed=seed, years=tuple(wanted_years),
            out=out, fault_count=plan.choice((1, 2, 2, 3)) if u.code in faulty_codes else 0,
            oddity=u.code in odd_codes, neighbour=neighbours[u.code],
        )
        for u in selected
    ]
    if workers is None:
        workers = 1 if len(jobs) < _PARALLEL_FROM else min(2, os.cpu_count() or 1)
    results: list[FileResult] = []
    if workers <= 1:
        for county_results in _tracked(map(run_county, jobs), len(jobs), progress):
            results.extend(county_results)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            for county_results in _tracked(pool.map(run_county, jobs, chunksize=8), len(jobs),
                                           progress):
                results.extend(county_results)
    return _summarise(out, wanted_years, codes, results)


def _tracked(items: Iterable[list[FileResult]], total: int, out: IO[str] | None
             ) -> Iterable[list[FileResult]]:
    if out is None:
        return items
    from edustat.progress import track

    return track(items, total, "生成 generating counties", out=out)


def _summarise(out: Path, years: list[int], codes: list[str],
               results: list[FileResult]) -> GenerateSummary:
    summary = GenerateSummary(out=out, years=years, counties=sorted(codes))
    summary.rows_per_year = dict.fromkeys(years, 0)
    summary.schools_per_year = dict.fromkeys(years, 0)
    for r in sorted(results, key=lambda r: (r.county_code, r.year)):
        summary.files.append(r.path)
        summary.rows_per_year[r.year] += r.rows
        summary.schools_per_year[r.year] += r.schools
        if not r.findings:
            continue
        summary.faults.extend(r.findings)
        entry = FaultyFile(r.county_code, r.year, r.path,
                           "；".join(f.description for f in r.findings))
        if any(f.severity == "critical" for f in r.findings):
            summary.faulty.append(entry)
        else:
            summary.oddities.append(entry)
    return summary
