"""Set-based screening never changes a finding (edustat.validation.screen).

Protects: the night validates only the rows screening keeps, so a row it wrongly drops would
be a failure nobody is told about. The same night is validated twice by the real GX suite,
once over every row (as before screening) and once screened, and the findings are compared
one by one (row, column, rule, value, severity, wording, order). The night holds every readable
file of tests/corpus (good and hostile), a generated province with faulty counties, each rule's
case of test_validation_rules (so every rule fires), and rows with random hostile cells.
Also protects the safety net: when GX finds on the kept rows a failure screening did not
predict, the whole frame is validated and the findings are still complete.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from corpus.make_corpus import COUNTY as CORPUS_COUNTY
from edustat import divisions
from edustat.columns import KEYS
from edustat.intake.readers import ReadLimits, file_year, read_submission
from edustat.rules import RULES
from edustat.validation import screen
from edustat.validation.frame import build_frame
from edustat.validation.runner import validate_night
from edustat_synth.generate import generate
from test_validation_rules import CASES, VALID

CORPUS = Path(__file__).parent / "corpus"
LIMITS = ReadLimits(max_file_bytes=50 * 1024 * 1024, max_expanded_bytes=200 * 1024 * 1024,
                    max_compression_ratio=200.0)
HOSTILE_CELLS = [None, "", " ", "　", "-1", "0", "1.5", "１２", "1e3", "abc", "999999999",
                 "12 ", "NaN", "否", "是", "211", "345", "6301021", "2025", "2019"]


def _file_rows(path: Path, county: str, submission_id: int) -> pd.DataFrame | None:
    result = read_submission(path, county, LIMITS)
    if not len(result.rows) or any(f.critical for f in result.findings):
        return None  # the night validates only files read without a critical finding
    rows = pd.DataFrame({k: [None if v is None else str(v) for v in result.rows[k].tolist()]
                         for k in KEYS})
    return rows.assign(submission_id=submission_id, county_folder=county,
                       row_number=result.rows["row_number"].astype("int64").to_numpy(),
                       file_school_year=file_year(result.rows))


def _fuzzed(base: pd.DataFrame, count: int, first_id: int) -> pd.DataFrame:
    """`count` rows of `base`, each with 1-4 cells replaced by hostile values."""
    rng = random.Random(18)
    rows = []
    for i in range(count):
        row = base.iloc[rng.randrange(len(base))].to_dict()
        for key in rng.sample(KEYS, rng.randint(1, 4)):
            row[key] = rng.choice(HOSTILE_CELLS)
        rows.append(row | {"submission_id": first_id + i // 50, "row_number": 4 + i % 50})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, list[str]]:
    landing = tmp_path_factory.mktemp("landing")
    generate("63", [2025], landing, seed=18, faulty=6, counties=14)
    parts = []
    files = [(p, p.parent.name) for p in sorted(landing.rglob("*")) if p.is_file()]
    files += [(p, CORPUS_COUNTY) for folder in ("good", "hostile")
              for p in sorted((CORPUS / folder).iterdir()) if p.suffix in (".csv", ".xlsx")]
    for sid, (path, county) in enumerate(files, start=1):
        rows = _file_rows(path, county, sid)
        if rows is not None:
            parts.append(rows)
    read = pd.concat(parts, ignore_index=True)
    # Each rule's case, and each required column left empty.
    empties = [{r.column: None} for r in RULES
               if r.expectation == "expect_column_values_to_not_be_null"]
    cases = pd.DataFrame([VALID | changes | {"submission_id": 5000 + i, "row_number": 4,
                                             "county_folder": "632857"}
                          for i, changes in enumerate([*(c[-1] for c in CASES), *empties])]
                         ).assign(file_school_year=2024)
    fuzz = _fuzzed(read, 1000, 6000)
    frame = build_frame(pd.concat([read, cases, fuzz], ignore_index=True))
    units = divisions.province_counties("63")
    return frame, units


def _validate(frame: pd.DataFrame, units: list[str], home: Path, screened: bool):
    return validate_night(frame, home / "gx", units, screened=screened)


def test_screened_findings_equal_whole_frame_findings(night, tmp_path: Path) -> None:
    frame, units = night
    whole = _validate(frame, units, tmp_path / "whole", screened=False)
    screened = _validate(frame, units, tmp_path / "screened", screened=True)
    assert screened.findings.keys() == whole.findings.keys()
    for submission_id, expected in whole.findings.items():
        assert screened.findings[submission_id] == expected, submission_id
    fired = {f.check_id for found in whole.findings.values() for f in found}
    # Not a vacuous comparison: every rule fired somewhere in this night...
    assert fired >= {rule.rule_id for rule in RULES}
    # ...and screening kept every row with a finding and left the others to skip.
    failing = {(sid, f.row_number) for sid, found in whole.findings.items() for f in found}
    assert whole.rows_validated == len(frame)
    assert len(failing) <= screened.rows_validated < len(frame)


def test_a_screening_miss_falls_back_to_every_row(night, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    frame, units = night
    whole = _validate(frame, units, tmp_path / "whole", screened=False)
    # A faulty screen for one rule: it forgets a row that rule fails; the row still reaches
    # GX through another rule it breaks (a fuzzed row breaks several).
    rule = "type__books"
    keys = frame.set_index(["submission_id", "row_number"]).index
    target = next(
        keys.get_loc((sid, f.row_number)) for sid, found in whole.findings.items()
        for f in found if f.check_id == rule
        and any(g.check_id != rule and g.row_number == f.row_number for g in found))
    real = screen.may_fail

    def forgetful(expectation, data, parameters):
        index = real(expectation, data, parameters)
        forget = expectation.meta.get("rule_id") == rule and target in index
        return index.drop(target) if forget else index

    monkeypatch.setattr(screen, "may_fail", forgetful)
    fallback = _validate(frame, units, tmp_path / "fallback", screened=True)
    assert fallback.rows_validated == len(frame)
    assert fallback.findings == whole.findings
