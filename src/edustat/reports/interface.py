"""The marts' interface, as the dbt project declares it: read from dbt's manifest.json.

dbt_project/models/marts/_marts__models.yml is the one declaration of every mart: its columns
and their types (an enforced dbt contract: the build fails when the SQL differs), and per
column a `meta` with the Chinese label, the display format, the unit, the code set whose
labels its codes take (seed code_labels) and the policy target it is measured against (seed
policy_parameters); a label may name a policy parameter, `出口带宽≥{bandwidth_target_mbps}Mbps`,
filled in from that seed so that no policy number is typed twice. A mart's grain is its
unique_combination test; a ratio's numerator and
denominator are its ratio_of test. The reports, the Excel export and the tests read all of it
from here; nothing restates it.

A column or mart the reports name that is not declared raises InterfaceError (a renamed column
fails loudly, it never reads as None). The manifest comes from `dbt parse` (no database), kept
under EDUSTAT_HOME/dbt_target/interface/ per content hash of the dbt project, so a process
parses at most once per project change (~10 s).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# How a column's values are shown (pages, Excel): the vocabulary of meta.format.
FORMATS = frozenset({
    "year",  # a school year: digits, no separators
    "code",  # an identifier or a code (text); with meta.codes, shown by its label
    "text",
    "id",  # a numeric identifier (submission ids): digits, no separators
    "count",  # a whole number
    "pct",  # a share 0..1 (or a ratio above 1) shown as a percentage
    "ratio",  # a ratio shown with 2 decimals (生师比)
    "decimal",  # a measure in its unit, 2 decimals
    "cv",  # a coefficient of variation, 3-4 decimals
    "bool",  # 是/否 (code set `boolean`)
    "datetime",
})
_PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "tests")


class InterfaceError(RuntimeError):
    """The declared interface is incomplete, or code named a column it does not declare."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    label: str
    format: str
    unit: str | None = None
    codes: str | None = None  # code set of seed code_labels
    target: str | None = None  # parameter of seed policy_parameters

    @property
    def header(self) -> str:
        """The label with its unit: an Excel header, a table head."""
        return f"{self.label}（{self.unit}）" if self.unit else self.label


@dataclass(frozen=True)
class Mart:
    name: str
    label: str
    sheet_order: int
    grain: tuple[str, ...]
    columns: tuple[Column, ...]
    # column -> (numerator column, denominator column), from its ratio_of test.
    ratios: Mapping[str, tuple[str, str]] = field(default_factory=dict, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise InterfaceError(f"marts.{self.name} declares no column {name!r} "
                             f"(dbt_project/models/marts/_marts__models.yml)")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    @property
    def school_grain(self) -> bool:
        """Rows per school: streamed, never loaded whole (national years hold ~1 M)."""
        return "school_code" in self.grain


@dataclass(frozen=True)
class Interface:
    marts: Mapping[str, Mart]  # in sheet order

    def __getitem__(self, name: str) -> Mart:
        try:
            return self.marts[name]
        except KeyError:
            raise InterfaceError(f"no mart {name!r} is declared in dbt_project/models/marts"
                                 ) from None

    def __iter__(self) -> Iterator[Mart]:
        return iter(self.marts.values())

    def column(self, mart: str, column: str) -> Column:
        return self[mart].column(column)


def policy_parameters(project_dir: Path) -> dict[str, str]:
    """Seed policy_parameters of the dbt project: parameter -> value as written."""
    with (project_dir / "seeds" / "policy_parameters.csv").open(encoding="utf-8") as f:
        return {r["parameter"]: r["value"] for r in csv.DictReader(f)}


_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def _label(text: str, policy: Mapping[str, str], where: str, problems: list[str]) -> str:
    """`text` with each `{parameter}` replaced by that policy number."""
    def fill(m: re.Match[str]) -> str:
        if m.group(1) not in policy:
            problems.append(f"{where}: meta.label names {m.group(1)!r}, which is not in seed "
                            "policy_parameters")
            return m.group(0)
        return policy[m.group(1)]
    return _PLACEHOLDER.sub(fill, text)


def from_manifest(manifest: Mapping[str, Any],
                  policy: Mapping[str, str] | None = None) -> Interface:
    """The marts of a manifest; InterfaceError naming every declaration that is missing.
    `policy`: the policy parameters labels may name (default: the project's seed)."""
    if policy is None:
        from edustat.transform import PROJECT_DIR

        policy = policy_parameters(PROJECT_DIR)
    nodes = manifest["nodes"]
    tests: dict[str, list[dict[str, Any]]] = {}
    for node in nodes.values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            tests.setdefault(node.get("attached_node") or "", []).append(node)
    problems: list[str] = []
    marts: list[Mart] = []
    for uid, node in nodes.items():
        if node["resource_type"] != "model" or node["fqn"][1:2] != ["marts"]:
            continue
        name = node["name"]
        meta = node.get("meta") or {}
        if not node["config"].get("contract", {}).get("enforced"):
            problems.append(f"marts.{name}: the contract is not enforced")
        columns = []
        for column in node["columns"].values():
            cmeta = column.get("meta") or {}
            where = f"marts.{name}.{column['name']}"
            if not column.get("data_type"):
                problems.append(f"{where}: no data_type")
            if not cmeta.get("label"):
                problems.append(f"{where}: no meta.label")
            if cmeta.get("format") not in FORMATS:
                problems.append(f"{where}: meta.format {cmeta.get('format')!r} is not one of "
                                f"{sorted(FORMATS)}")
            columns.append(Column(
                name=column["name"], data_type=str(column.get("data_type") or ""),
                label=_label(str(cmeta.get("label") or column["name"]), policy, where,
                             problems),
                format=str(cmeta.get("format") or "text"),
                unit=cmeta.get("unit") or None, codes=cmeta.get("codes") or None,
                target=cmeta.get("target") or None))
        grains = [t["test_metadata"]["kwargs"]["combination_of_columns"]
                  for t in tests.get(uid, []) if t["test_metadata"]["name"] == "unique_combination"]
        if len(grains) != 1:
            problems.append(f"marts.{name}: needs exactly one unique_combination test (its grain)")
        ratios = {t["column_name"]: (t["test_metadata"]["kwargs"]["numerator"],
                                     t["test_metadata"]["kwargs"]["denominator"])
                  for t in tests.get(uid, []) if t["test_metadata"]["name"] == "ratio_of"}
        if not meta.get("label"):
            problems.append(f"marts.{name}: no meta.label")
        marts.append(Mart(name=name, label=str(meta.get("label") or name),
                          sheet_order=int(meta.get("sheet_order", 1000)),
                          grain=tuple(grains[0]) if grains else (),
                          columns=tuple(columns), ratios=ratios))
    if problems:
        raise InterfaceError("the marts' declared interface is incomplete:\n  "
                             + "\n  ".join(problems))
    marts.sort(key=lambda m: (m.sheet_order, m.name))
    return Interface({m.name: m for m in marts})


def project_hash(project_dir: Path) -> str:
    """Content hash of what shapes the manifest (dbt's own target/ and logs/ left out)."""
    digest = hashlib.sha256()
    for part in _PROJECT_PARTS:
        root = project_dir / part
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file():
                digest.update(path.relative_to(project_dir).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


_loaded: dict[str, Interface] = {}


def load_interface(cache_dir: Path | None = None) -> Interface:
    """The marts' interface of the working copy's dbt project (parsed at most once per change
    of the project; kept in `cache_dir`, default EDUSTAT_HOME/dbt_target/interface)."""
    from edustat.transform import PROJECT_DIR, dbt_parse

    key = project_hash(PROJECT_DIR)
    if key in _loaded:
        return _loaded[key]
    if cache_dir is None:
        from edustat.config import load_settings

        cache_dir = load_settings().dbt_target / "interface"
    cached = cache_dir / f"manifest-{key}.json"
    if not cached.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as work:
            manifest = dbt_parse(Path(work))
            # Only what the interface needs: the full manifest is a megabyte or more.
            nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
            kept = {uid: n for uid, n in nodes.items()
                    if n["resource_type"] in ("model", "test")
                    and (n["fqn"][1:2] == ["marts"] or n["resource_type"] == "test")}
            fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"nodes": kept}, fh, ensure_ascii=False)
            os.replace(tmp, cached)
    interface = from_manifest(json.loads(cached.read_text(encoding="utf-8")),
                              policy_parameters(PROJECT_DIR))
    _loaded[key] = interface
    return interface
