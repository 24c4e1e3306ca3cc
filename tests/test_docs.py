"""Protects the repo's own documentation: every `docs/*.md` the code, help texts, templates and
docs name exists (with the section a link names), nothing points outside the repo at a shared
spec, spec files are never named without their docs/ path, the generated tables of docs/
(CLI, settings, marts, seeds, plausibility bounds) equal what scripts/build_docs.py writes from
their sources today, the submission-format column table names exactly the columns of
edustat.columns, and the README links the docs below its first screen.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from edustat.columns import COLUMNS

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SPECS = ("interface.md", "methodology.md", "submission-format.md")

# Where code, help, templates and docs live; generated and installed trees are left out.
SCANNED = ("src", "dags", "plugins", "dbt_project", "tests", "bench", "scripts", "docker",
           "expectations", "docs", "README.md", "Makefile", "pyproject.toml")
SKIPPED_DIRS = {"__pycache__", "node_modules", "target", "logs", "dbt_packages", ".venv",
                "uncommitted", "corpus"}
TEXT_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".j2", ".html", ".txt", ".toml", ".cfg",
                 ".json", ".csv", ".sh", ".ini", ".conf", ".example", ""}

# Built, not written: this file has to name what it forbids.
OUTSIDE_SPEC = re.compile(r"\.\./" + "shared" + r"|\bshared/(?:spec|notes)")
DOC_LINK = re.compile(r"\bdocs/([\w.-]+\.md)(?:#([\w-]+))?")
BARE_SPEC = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(s) for s in SPECS)
                       + r"|indicators\.md)")
RELATIVE_LINK = re.compile(r"\]\(([\w.-]+\.md)(?:#([\w-]+))?\)")


def _text_files() -> list[Path]:
    files = []
    for top in SCANNED:
        root = REPO / top
        paths = [root] if root.is_file() else root.rglob("*")
        for path in paths:
            parts = path.relative_to(REPO).parts
            if path.is_file() and path.suffix in TEXT_SUFFIXES \
                    and not SKIPPED_DIRS & set(parts) \
                    and not any(part.endswith(".egg-info") for part in parts):
                files.append(path)
    return files


@pytest.fixture(scope="module")
def tree() -> dict[Path, str]:
    texts = {}
    for path in _text_files():
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    assert len(texts) > 100 and REPO / "src" / "edustat" / "cli.py" in texts
    return texts


def _anchors(doc: Path) -> set[str]:
    """Explicit `<a id>` anchors of a doc (the ones links to a section use)."""
    return set(re.findall(r'<a id="([\w-]+)"></a>', doc.read_text(encoding="utf-8")))


def test_every_docs_path_named_in_the_tree_exists_with_its_section(tree: dict[Path, str]
                                                                   ) -> None:
    named: dict[tuple[str, str | None], list[str]] = {}
    for path, text in tree.items():
        where = str(path.relative_to(REPO))
        for match in DOC_LINK.finditer(text):
            named.setdefault((match.group(1), match.group(2)), []).append(where)
        if path.parent == DOCS:  # links between the docs are relative to docs/
            for match in RELATIVE_LINK.finditer(text):
                named.setdefault((match.group(1), match.group(2)), []).append(where)
    assert {"interface.md", "methodology.md", "submission-format.md"} <= {n for n, _ in named}
    broken = [f"docs/{name}{'#' + anchor if anchor else ''} (named in {', '.join(sorted(set(w)))})"
              for (name, anchor), w in sorted(named.items(), key=str)
              if not (DOCS / name).is_file()
              or (anchor is not None and anchor not in _anchors(DOCS / name))]
    assert broken == []


def test_nothing_points_at_a_spec_outside_the_repo(tree: dict[Path, str]) -> None:
    offenders = [f"{p.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1}"
                 for p, text in tree.items() for m in OUTSIDE_SPEC.finditer(text)]
    assert offenders == []


def test_spec_files_are_named_with_their_docs_path(tree: dict[Path, str]) -> None:
    """`interface.md` alone would send a reader looking; outside docs/ it is `docs/interface.md`.
    The old indicators spec is docs/methodology.md now."""
    offenders = []
    for path, text in tree.items():
        if path == Path(__file__).resolve():  # names the files to check, as file names
            continue
        for match in BARE_SPEC.finditer(text):
            inside_docs = path.parent == DOCS and match.group(1) != "indicators.md"
            if not inside_docs:
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(REPO)}:{line}: {match.group(1)}")
    assert offenders == []


def _build_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_docs", REPO / "scripts" / "build_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_equal_their_sources() -> None:
    build_docs = _build_docs()
    docs = build_docs.rendered()
    assert set(docs) == {DOCS / "interface.md", DOCS / "methodology.md"}
    stale = [str(p.relative_to(REPO)) for p, (current, wanted) in docs.items() if current != wanted]
    assert stale == [], "run `.venv/bin/python scripts/build_docs.py` and commit docs/"


def test_generated_tables_hold_the_facts_of_their_sources() -> None:
    """Spot facts read back from the docs as written, against the sources read directly."""
    import yaml

    from edustat.cli import COMMANDS
    from edustat.config import SETTINGS
    from edustat.rules import BOUNDS

    interface = (DOCS / "interface.md").read_text(encoding="utf-8")
    methodology = (DOCS / "methodology.md").read_text(encoding="utf-8")
    for cmd in COMMANDS:
        assert f"### `edustat {cmd.name}`" in interface
        assert all(example in interface for example in cmd.examples)
    for setting in SETTINGS:
        assert re.search(rf"^\| `{setting.env}` \|", interface, re.MULTILINE), setting.env
    marts = yaml.safe_load((REPO / "dbt_project" / "models" / "marts" / "_marts__models.yml")
                           .read_text(encoding="utf-8"))["models"]
    for model in marts:
        section = interface.split(f"### `marts.{model['name']}`", 1)[1].split("\n### ", 1)[0]
        documented = re.findall(r"^\| `(\w+)` \| ([^|]+?) \| ([^|]+?) \|", section,
                                re.MULTILINE)
        assert documented == [(c["name"], c["data_type"], c["meta"]["label"])
                              for c in model["columns"]], model["name"]
    bounds = methodology.split('<a id="plausibility-bounds"></a>', 1)[1]
    assert len(re.findall(r"^\| .+ \| (?:critical|warning) \| `", bounds, re.MULTILINE)) \
        == len(BOUNDS)
    for bound in BOUNDS:
        assert f"`{bound.rule_id}`" in bounds and bound.reason_zh in bounds
    books = next(b for b in BOUNDS if b.column == "books" and b.severity == "critical")
    assert f"≤ {books.formula()[1]}" in bounds


def test_interface_names_every_schema_table_and_function_of_the_warehouse() -> None:
    """The warehouse section is prose; what it must name is read from schema.sql."""
    schema_sql = (REPO / "src" / "edustat" / "warehouse" / "schema.sql").read_text()
    interface = (DOCS / "interface.md").read_text(encoding="utf-8")
    warehouse = interface.split('<a id="warehouse"></a>', 1)[1].split('<a id="marts"></a>', 1)[0]
    schemas = set(re.findall(r"CREATE SCHEMA IF NOT EXISTS (\w+)", schema_sql))
    tables = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+\.\w+)", schema_sql))
    functions = set(re.findall(r"CREATE OR REPLACE FUNCTION (ops\.\w+)", schema_sql))
    roles = set(re.findall(r"CREATE ROLE (\w+)", schema_sql))
    assert {"raw", "ops", "marts"} <= schemas and "ops.submissions" in tables
    assert {"ops.county_year_status"} <= functions and roles == {"ministry_reader"}
    missing = [name for name in sorted(schemas | tables | functions | roles)
               if f"`{name}" not in warehouse]
    assert missing == []


def test_a_stale_block_is_found_and_rewritten(tmp_path: Path) -> None:
    build_docs = _build_docs()
    text = (DOCS / "methodology.md").read_text(encoding="utf-8")
    begin, end = build_docs.BEGIN.format(name="policy"), build_docs.END.format(name="policy")
    stale = text.replace(begin, begin + "\n| `made_up_parameter` | 1 | | | |")
    assert stale != text
    block = build_docs.policy_block()
    assert build_docs.render(stale, "policy", block) == build_docs.render(text, "policy", block)
    assert "made_up_parameter" not in build_docs.render(stale, "policy", block)
    with pytest.raises(SystemExit, match="markers of block 'policy'"):
        build_docs.render(stale.replace(end, ""), "policy", build_docs.policy_block())


def test_submission_format_names_exactly_the_columns_of_the_code() -> None:
    text = (DOCS / "submission-format.md").read_text(encoding="utf-8")
    section = text.split('<a id="columns"></a>', 1)[1].split("\n## ", 2)[1]
    rows = re.findall(r"^\| (\d+) \| ([^|]+?) \| (\w+) \|", section, re.MULTILINE)
    assert [(header, key) for _, header, key in rows] == [(c.header, c.key) for c in COLUMNS]
    assert [int(number) for number, *_ in rows] == list(range(1, len(COLUMNS) + 1))


def test_readme_links_the_docs_after_its_first_screen() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_screen = readme.split("\n## ", 1)[0]
    assert "make demo" in first_screen and "make test" in first_screen
    assert "docs/" not in first_screen
    documentation = readme.split("\n## Documentation\n", 1)[1].split("\n## ", 1)[0]
    for spec in SPECS:
        assert f"(docs/{spec})" in documentation
