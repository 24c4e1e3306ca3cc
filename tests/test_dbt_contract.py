"""Protects the dbt project's house rules, without a database: the raw source and staging casts
follow src/edustat/columns.py (one definition of a column), source() appears only in
staging, policy numbers and thresholds live in seeds and never as SQL literals, the CV formula
is written once, every model and column is documented (marts in Chinese and English), and the
marts and exposures the reports rely on are declared.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from edustat.columns import COLUMNS

PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
MODELS = PROJECT / "models"
INTERFACE_MARTS = {"school_indicators", "county_indicator_cv", "county_multimedia_coverage",
                   "county_broadband", "county_teacher_ratios", "county_balance_readiness",
                   "school_resource_gaps", "region_summary", "submission_status",
                   "county_urban_rural", "region_urban_rural", "county_school_changes"}
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
# Numbers of docs/methodology.md that belong in seeds (thresholds, limits, policy), never in SQL.
POLICY_LITERAL = re.compile(
    r"(?<![\w.])(4\.2|5\.3|0\.9|4\.5|5\.8|7\.5|10\.2|2\.3|2\.4|0\.50?|0\.45|0\.65|0\.55|0\.85"
    r"|0\.95|45|50|56|2000|2500|12)(?![\w.])")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def sql_without_comments(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def model_files() -> dict[str, Path]:
    return {p.stem: p for p in MODELS.rglob("*.sql")}


def test_raw_source_and_staging_follow_the_column_definitions() -> None:
    sources = load(MODELS / "staging" / "_sources.yml")["sources"]
    raw = next(s for s in sources if s["name"] == "raw")
    table = next(t for t in raw["tables"] if t["name"] == "school_rows")
    documented = {c["name"]: c["description"] for c in table["columns"]}
    for column in COLUMNS:
        assert column.key in documented, column.key
        assert column.header in documented[column.key], column.key
    staging = (MODELS / "staging" / "stg_raw__school_rows.sql").read_text()
    for column in COLUMNS:
        cast = {"int": "to_int", "num": "to_num"}.get(column.kind, "to_text")
        assert f"{{{{ {cast}('{column.key}') }}}} as {column.key}," in staging, column.key


def test_source_only_in_staging_and_one_yaml_per_folder() -> None:
    for name, path in model_files().items():
        uses_source = "source(" in path.read_text()
        assert uses_source == (path.parent.name == "staging"), name
        assert name.startswith({"staging": "stg_", "intermediate": "int_", "marts": ""}[
            path.parent.name]), name
    for folder, yml in (("staging", "_staging__models.yml"),
                        ("intermediate", "_intermediate__models.yml"),
                        ("marts", "_marts__models.yml")):
        assert sorted(p.name for p in (MODELS / folder).glob("*.yml")) == sorted(
            [yml, "_sources.yml"] if folder == "staging" else [yml])
    assert (PROJECT / "seeds" / "_seeds__seeds.yml").exists()


def test_no_policy_numbers_in_sql_and_the_cv_formula_written_once() -> None:
    for name, path in model_files().items():
        # The median is the 0.5 quantile by definition, not a policy choice.
        sql = sql_without_comments(path).replace("percentile_cont(0.5)", "")
        found = POLICY_LITERAL.findall(sql)
        assert not found, f"{name}: literal {found} belongs in a seed"
    formula_sites = [p.name for p in [*MODELS.rglob("*.sql"), *(PROJECT / "macros").glob("*.sql")]
                     if "sqrt(" in sql_without_comments(p)]
    assert formula_sites == ["weighted_cv.sql"]


def test_every_model_and_column_is_documented_marts_bilingually() -> None:
    # That the documented columns are exactly the built ones is checked against the database
    # in test_dbt_marts.py.
    files = model_files()
    documented: dict[str, dict] = {}
    for yml in MODELS.rglob("_*__models.yml"):
        for model in load(yml)["models"]:
            documented[model["name"]] = model
    assert set(documented) == set(files)
    for name, model in documented.items():
        assert model.get("description", "").strip(), name
        assert model.get("columns"), name
        for column in model["columns"]:
            assert column.get("description", "").strip(), (name, column["name"])
        if files[name].parent.name == "marts":
            texts = [model["description"], *(c["description"] for c in model["columns"])]
            for text in texts:
                assert CJK.search(text) and LATIN_WORD.search(text), (name, text)


def test_marts_tests_and_exposures_are_declared() -> None:
    marts = load(MODELS / "marts" / "_marts__models.yml")
    by_name = {m["name"]: m for m in marts["models"]}
    assert set(by_name) == INTERFACE_MARTS
    for name, model in by_name.items():
        kinds = [next(iter(t)) for t in model.get("data_tests", [])]
        assert "unique_combination" in kinds and "not_null_columns" in kinds, name
    exposures = {e["name"]: e for e in marts["exposures"]}
    assert {"provincial_html_report", "county_scorecards", "excel_export"} <= set(exposures)
    for exposure in exposures.values():
        assert exposure["depends_on"] and exposure["owner"]
    project = load(PROJECT / "dbt_project.yml")
    assert project["models"]["edustat"]["marts"]["+grants"] == {"select": ["ministry_reader"]}
    units = load(MODELS / "intermediate" / "_intermediate__models.yml")["unit_tests"]
    assert any(u["model"] == "int_county_indicator_cv_computed" for u in units)
