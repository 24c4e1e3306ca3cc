"""The mart interface is declared once, in the dbt project, and everything reads it from there.

Protects issue #13's "one declaration": every mart is contract-enforced and every column has a
type, a Chinese label and a display format in its `meta` (read from dbt's manifest, as the
reports, the Excel export and the tests read it); every code set a column names exists in the
code_labels seed and is tested there; every policy target a column names is a parameter of the
policy_parameters seed; an incomplete declaration is refused with every problem named; a
column renamed in the warehouse stops the reports with the difference named (never a silent
None) and writes nothing; a column a report asks for but the interface lacks raises; and a
mart the indicators add later (here: a made-up county_urban_rural) reaches the Excel export
with its Chinese sheet name and headers without any report code naming it.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest

from edustat.reports import build_reports
from edustat.reports.excel import export_year
from edustat.reports.figures import metric
from edustat.reports.interface import FORMATS, InterfaceError, from_manifest, load_interface
from edustat.reports.labels import CODE_LABELS_CSV, codes, label, status_label
from edustat.reports.marts import MartsMismatch, snapshot
from edustat.transform import dbt_parse
from fixtures_marts import marts, marts_template

__all__ = ["marts", "marts_template"]

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return json.loads(dbt_parse(tmp_path_factory.mktemp("parse")).read_text(encoding="utf-8"))


def test_every_mart_column_is_declared_with_type_label_and_format(
        manifest: dict[str, Any]) -> None:
    interface = from_manifest(manifest)
    marts = {n["name"] for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and n["fqn"][1] == "marts"}
    assert set(interface.marts) == marts
    with (SEEDS / "policy_parameters.csv").open(encoding="utf-8") as fh:
        parameters = {r["parameter"] for r in csv.DictReader(fh)}
    code_tests = {(t["attached_node"].split(".")[-1], t["column_name"],
                   t["test_metadata"]["kwargs"]["code_set"])
                  for t in manifest["nodes"].values()
                  if t["resource_type"] == "test"
                  and (t.get("test_metadata") or {}).get("name") == "in_code_set"}
    for mart in interface:
        assert mart.grain and set(mart.grain) <= set(mart.names), mart.name
        assert mart.label and mart.label != mart.name
        for c in mart.columns:
            assert c.data_type and c.format in FORMATS, (mart.name, c.name)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in c.label), (mart.name, c.name)
            if c.codes:
                assert codes(c.codes), (mart.name, c.name)
                assert (mart.name, c.name, c.codes) in code_tests, (mart.name, c.name)
            if c.target:
                assert c.target in parameters, (mart.name, c.name, c.target)
    # The reports' own interface is this one (cached per content of the dbt project).
    assert load_interface().marts.keys() == interface.marts.keys()


def test_an_incomplete_declaration_is_refused_naming_each_problem(
        manifest: dict[str, Any]) -> None:
    broken = copy.deepcopy(manifest)
    node = broken["nodes"]["model.edustat.region_summary"]
    del node["columns"]["coverage_ratio"]["meta"]["label"]
    node["columns"]["schools"]["meta"]["format"] = "percentish"
    node["config"]["contract"]["enforced"] = False
    with pytest.raises(InterfaceError) as refused:
        from_manifest(broken)
    text = str(refused.value)
    assert "marts.region_summary.coverage_ratio: no meta.label" in text
    assert "marts.region_summary.schools: meta.format 'percentish'" in text
    assert "marts.region_summary: the contract is not enforced" in text


def test_status_labels_exist_once_in_the_seed() -> None:
    with CODE_LABELS_CSV.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["code_set"] == "status"]
    assert {r["code"]: r["label_zh"] for r in rows} == {
        "accepted": "已接收", "held": "暂缓入库", "rejected": "已退回", "missing": "未报送"}
    assert status_label("rejected") == "已退回"
    assert label("boolean", True) == "是" and label("section", "junior") == "初中"
    with pytest.raises(KeyError, match="late"):
        status_label("late")


def test_a_renamed_column_fails_loudly_and_writes_nothing(marts: str, tmp_path: Path) -> None:
    with psycopg.connect(marts) as conn:
        conn.execute("ALTER TABLE marts.region_summary RENAME COLUMN coverage_ratio TO coverage")
    with pytest.raises(MartsMismatch) as refused:
        build_reports(marts, tmp_path / "r", pdf=False)
    text = str(refused.value)
    assert "marts.region_summary lacks coverage_ratio" in text
    assert "marts.region_summary has undeclared coverage" in text
    assert not (tmp_path / "r").exists()


def test_rows_have_exactly_the_declared_columns(marts: str) -> None:
    with snapshot(marts) as snap:
        row = snap.rows("region_summary", 2024)[0]
        assert set(row) == set(snap.mart("region_summary").names)
        with pytest.raises(KeyError):
            row["counties"]  # the old name: never a silent None
        with pytest.raises(InterfaceError, match="declares no column 'counties'"):
            metric(snap, "region_summary", "counties")
        with pytest.raises(InterfaceError, match="stream it"):
            snap.rows("school_indicators", 2024)


def test_a_new_declared_mart_reaches_excel_without_report_code(
        marts: str, manifest: dict[str, Any], tmp_path: Path) -> None:
    grown = copy.deepcopy(manifest)
    base = grown["nodes"]["model.edustat.county_broadband"]
    node = copy.deepcopy(base)
    node.update(name="county_urban_rural", unique_id="model.edustat.county_urban_rural",
                fqn=["edustat", "marts", "county_urban_rural"],
                meta={"label": "县域城乡对比", "sheet_order": 9})
    node["columns"] = {
        name: {"name": name, "data_type": data_type, "meta": meta}
        for name, data_type, meta in (
            ("school_year", "integer", {"label": "统计年度", "format": "year"}),
            ("county_code", "text", {"label": "县级区划代码", "format": "code"}),
            ("section", "text", {"label": "学段", "format": "code", "codes": "section"}),
            ("area", "text", {"label": "城乡", "format": "text"}),
            ("schools", "bigint", {"label": "学校数", "format": "count", "unit": "所"}),
            ("value", "numeric", {"label": "指标值", "format": "pct"}))}
    grown["nodes"][node["unique_id"]] = node
    test = copy.deepcopy(next(t for t in grown["nodes"].values()
                              if t["resource_type"] == "test"
                              and t.get("attached_node") == base["unique_id"]
                              and t["test_metadata"]["name"] == "unique_combination"))
    test.update(unique_id="test.edustat.unique_county_urban_rural",
                attached_node=node["unique_id"])
    test["test_metadata"]["kwargs"]["combination_of_columns"] = [
        "school_year", "county_code", "section", "area"]
    grown["nodes"][test["unique_id"]] = test
    interface = from_manifest(grown)
    with psycopg.connect(marts) as conn:
        conn.execute("CREATE TABLE marts.county_urban_rural (school_year integer, county_code"
                     " text, section text, area text, schools bigint, value numeric)")
        conn.execute("INSERT INTO marts.county_urban_rural VALUES"
                     " (2024, '630102', 'primary', 'urban', 3, 0.5)")
    with snapshot(marts, interface) as snap:
        export = export_year(snap, 2024, tmp_path, ["630000"], {"630000": "青海省"})
    wb = openpyxl.load_workbook(export.year)
    assert wb.sheetnames[-1] == "县域城乡对比"
    ws = wb["县域城乡对比"]
    assert [c.value for c in ws[1]] == ["统计年度", "县级区划代码", "学段", "城乡", "学校数（所）",
                                        "指标值"]
    assert [c.value for c in ws[2]] == [2024, "630102", "小学", "urban", 3, 0.5]
    assert ws.cell(row=2, column=6).number_format == "0.00%"
