"""Turn edustat.rules into the GX suite and the file-context project under expectations/.

`write_project(root)` (run by `make suites`) regenerates the committed project; the nightly run
copies it into EDUSTAT_HOME and validates there, so the working copy is never written to.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from edustat.config import REPO_ROOT
from edustat.rules import RULES, Rule

SUITE_NAME = "county_school_rows"
DATASOURCE = "night_submissions"
ASSET = "school_rows"
BATCH = "whole_night"
VALIDATION = "validate_county_school_rows"
CHECKPOINT = "nightly_intake"
PROJECT_DIR = REPO_ROOT / "expectations"


def _class_name(expectation_type: str) -> str:
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def build_expectations(gxe: Any) -> list[Any]:
    expectations = []
    for rule in RULES:
        cls = getattr(gxe, _class_name(rule.expectation))
        kwargs: dict[str, Any] = dict(rule.kwargs)
        if rule.row_condition:
            kwargs |= {"row_condition": rule.row_condition, "condition_parser": "pandas"}
        expectations.append(cls(**kwargs, meta=_meta(rule)))
    return expectations


def _meta(rule: Rule) -> dict[str, str]:
    return {"rule_id": rule.rule_id, "severity": rule.severity, "column": rule.column,
            "message_zh": rule.zh, "message_en": rule.en}


def write_project(root: Path = PROJECT_DIR) -> Path:
    """(Re)create the GX file project: datasource, suite, validation definition, checkpoint."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    gx_dir = root / "gx"
    if gx_dir.exists():
        shutil.rmtree(gx_dir)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    batch = (
        context.data_sources.add_pandas(DATASOURCE)
        .add_dataframe_asset(ASSET)
        .add_batch_definition_whole_dataframe(BATCH)
    )
    suite = gx.ExpectationSuite(name=SUITE_NAME, meta={
        "source": "generated from src/edustat/rules.py by `make suites`; do not edit",
    })
    for expectation in build_expectations(gxe):
        suite.add_expectation(expectation)
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=VALIDATION, data=batch, suite=suite)
    )
    context.checkpoints.add(gx.Checkpoint(
        name=CHECKPOINT,
        validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")],
        result_format={"result_format": "COMPLETE"},
    ))
    # Machine-local files GX writes next to the project: never committed.
    for stray in gx_dir.rglob(".ge_store_backend_id"):
        stray.unlink()
    return gx_dir


def install_project(home_gx: Path, source: Path = PROJECT_DIR / "gx") -> Path:
    """Copy the committed project into EDUSTAT_HOME, keeping earlier results and data docs."""
    for item in source.iterdir():
        if item.name == "uncommitted":
            continue
        target = home_gx / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            home_gx.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target)
    return home_gx
