"""Run the GX checkpoint once over the night's frame and turn results into findings."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from edustat.columns import label
from edustat.findings import Finding
from edustat.validation.screen import covers, screen
from edustat.validation.suite import CHECKPOINT, SUITE_NAME, install_project

log = logging.getLogger(__name__)


class ValidationCrashed(RuntimeError):
    """A check could not run at all: a platform fault, never a county's."""


@dataclass
class NightValidation:
    findings: dict[int, list[Finding]]  # submission_id -> findings
    data_docs_index: Path | None
    checks_run: int
    rows_validated: int = 0  # the rows GX validated (screened: those some check may fail)


def _value_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _finding(meta: dict[str, str], frame: pd.DataFrame, index: int) -> Finding:
    column = meta["column"]
    row = frame.loc[index]
    value = _value_text(row[column])
    row_number = int(row["row_number"])
    shown = value if value is not None else "（空）"
    return Finding(
        check_id=meta["rule_id"],
        severity=meta["severity"],  # type: ignore[arg-type]
        column=column,
        row_number=row_number,
        value=value,
        school_code=_value_text(row["school_code"]),
        message_zh=f"第{row_number}行「{label(column)}」：{meta['message_zh']}（填报值：{shown}）",
        message_en=(f"row {row_number}, column {label(column)}: {meta['message_en']} "
                    f"(value: {value if value is not None else '(empty)'})"),
    )


def validate_night(frame: pd.DataFrame, home_gx: Path, county_units: Iterable[str],
                   publish_to: Path | None = None, screened: bool = True) -> NightValidation:
    """Validate every row of the night in one checkpoint run (one GX context per run).
    `publish_to`: the site folder the Data Docs are published into, offline (data_docs.py).

    `screened`: GX validates the rows set-based screening (screen.py) says some expectation
    may fail, not the rows every expectation passes; False validates the whole frame. Should
    GX find on the kept rows a failure screening did not expect, screening is not to be
    trusted for this suite and the whole frame is validated after all."""
    import great_expectations as gx

    if frame.empty:
        return NightValidation({}, None, 0)
    install_project(home_gx)
    context = gx.get_context(mode="file", project_root_dir=str(home_gx.parent))
    checkpoint = context.checkpoints.get(CHECKPOINT)
    parameters = {"county_units": sorted(county_units)}
    flagged: dict[str, pd.Index] | None = None
    rows = frame
    if screened:
        expectations = context.suites.get(SUITE_NAME).expectations
        rows, flagged = screen(expectations, frame, parameters)
    result = checkpoint.run(batch_parameters={"dataframe": rows},
                            expectation_parameters=parameters)
    results = [res for run_result in result.run_results.values() for res in run_result.results]
    if flagged is not None and not all(
            covers(flagged.get(res.expectation_config.id, pd.Index([])),
                   res.result.get("unexpected_index_list") or [])
            for res in results if not res.success):
        log.error("set-based screening missed failures GX found: validating every row")
        return validate_night(frame, home_gx, county_units, publish_to, screened=False)
    findings: dict[int, list[Finding]] = defaultdict(list)
    for res in results:
        meta = res.expectation_config.meta
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise ValidationCrashed(
                f"{meta.get('rule_id')}: {res.exception_info.get('exception_message')}"
            )
        if res.success:
            continue
        for index in res.result.get("unexpected_index_list") or []:
            finding = _finding(meta, frame, index)
            findings[int(frame.at[index, "submission_id"])].append(finding)
    docs = home_gx / "uncommitted" / "data_docs" / "local_site" / "index.html"
    if publish_to is not None:
        from edustat.validation.data_docs import publish_data_docs

        publish_data_docs(docs.parent, publish_to)
    log.info("GX validated %s of %s rows (%s expectations)", len(rows), len(frame), len(results))
    return NightValidation(dict(findings), docs if docs.exists() else None, len(results),
                           len(rows))
