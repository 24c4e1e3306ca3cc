"""Set-based screening: which rows of the night any expectation of the suite could fail.

GX's pandas engine builds each expectation's domain from the whole frame (row condition,
missing-value filter, copies) and walks it once per expectation: on a national night
(263,501 rows × 73 columns, 86 expectations) that is most of the validation time, although
nearly every row passes every expectation. Screening runs the same column operations GX runs
(the expectation's own pandas condition on the same domain) once per expectation, vectorised,
and keeps the rows that may fail any of them; GX then validates exactly those rows
(runner.validate_night) and remains what decides the findings.

Built from the suite's expectations, not from rules.py, so a new rule is screened with the
suite it is generated into. An expectation type this module does not know keeps every row of
its domain (the night is then as slow as before, never wrong). Screening may keep more rows
than fail (harmless: GX decides); a row it drops must pass every expectation, which the
runner checks against GX's own results on the kept rows (`covers`) and
tests/test_validation_screen.py proves against GX on the whole frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

# Defaults GX applies when an expectation does not set ignore_row_if (GX 1.x).
_PAIR_DEFAULT = "both_values_are_missing"
_LIST_DEFAULT = "all_values_are_missing"


def _param(value: Any, parameters: Mapping[str, Any]) -> Any:
    """A suite parameter ({"$PARAMETER": name}) resolved as GX resolves it at run time."""
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def _domain(frame: pd.DataFrame, row_condition: Any, columns: list[str]) -> pd.DataFrame:
    """The rows GX's pandas engine validates, only the `columns` the expectation reads.

    GX runs DataFrame.query on a pandas-syntax condition, i.e. eval then loc: the same mask,
    without copying the frame's other columns. Any other kind of condition keeps every row
    (a superset of GX's domain)."""
    condition = getattr(row_condition, "pass_through_filter", None) if row_condition else None
    if isinstance(condition, str):
        return frame.loc[frame.eval(condition), columns]
    return frame[columns]


def _not_null(kw: dict[str, Any], d: pd.DataFrame) -> pd.Series:
    return d[kw["column"]].isna()


def _regex(kw: dict[str, Any], d: pd.DataFrame) -> pd.Series:
    column = d[kw["column"]].dropna()
    return ~column.astype(str).str.contains(kw["regex"]).fillna(False).astype(bool)


def _in_set(kw: dict[str, Any], d: pd.DataFrame) -> pd.Series:
    column = d[kw["column"]].dropna()
    return ~column.isin(kw["value_set"])


def _between(kw: dict[str, Any], d: pd.DataFrame) -> pd.Series:
    column = d[kw["column"]].dropna()
    if column.dtype not in (int, float):
        # GX compares such values one by one in Python: keep them all for GX.
        return pd.Series(True, index=column.index)
    ok = pd.Series(True, index=column.index)
    low, high = kw.get("min_value"), kw.get("max_value")
    if low is not None:
        ok &= column > low if kw.get("strict_min") else column >= low
    if high is not None:
        ok &= column < high if kw.get("strict_max") else column <= high
    return ~ok


def _pair(kw: dict[str, Any], d: pd.DataFrame) -> pd.DataFrame:
    subset = [kw["column_A"], kw["column_B"]]
    how = {"both_values_are_missing": "all", "either_value_is_missing": "any"}.get(
        kw.get("ignore_row_if") or _PAIR_DEFAULT)
    return d[subset].dropna(how=how) if how else d[subset]


def _greater(kw: dict[str, Any], d: pd.DataFrame) -> pd.Series:
    pair = _pair(kw, d)
    a, b = pair[kw["column_A"]], pair[kw["column_B"]]
    ok = a >= b if kw.get("or_equal") else a > b
    return ~ok.fillna(False).astype(bool)


def _equal(kw: dict[str, Any], d: pd.DataFrame) -> pd.Series:
    pair = _pair(kw, d)
    return ~(pair[kw["column_A"]] == pair[kw["column_B"]]).fillna(False).astype(bool)


def _compound_unique(kw: dict[str, Any], d: pd.DataFrame) -> pd.Series:
    columns = list(kw["column_list"])
    how = {"all_values_are_missing": "all", "any_value_is_missing": "any"}.get(
        kw.get("ignore_row_if") or _LIST_DEFAULT)
    rows = d[columns].dropna(how=how) if how else d[columns]
    return rows.duplicated(keep=False)


_FAILING: dict[str, Callable[[dict[str, Any], pd.DataFrame], pd.Series]] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_match_regex": _regex,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_be_between": _between,
    "expect_column_pair_values_a_to_be_greater_than_b": _greater,
    "expect_column_pair_values_to_be_equal": _equal,
    "expect_compound_columns_to_be_unique": _compound_unique,
}


def _kwargs(expectation: Any, parameters: Mapping[str, Any]) -> dict[str, Any]:
    config = expectation.configuration
    kwargs = {k: _param(v, parameters) for k, v in config.kwargs.items()
              if k not in ("row_condition", "condition_parser")}
    if "ignore_row_if" not in kwargs and hasattr(expectation, "ignore_row_if"):
        kwargs["ignore_row_if"] = expectation.ignore_row_if  # GX's default for this type
    return kwargs


def may_fail(expectation: Any, frame: pd.DataFrame, parameters: Mapping[str, Any]
             ) -> pd.Index:
    """Index labels of the rows `expectation` (a GX expectation of the suite) may fail."""
    kwargs = _kwargs(expectation, parameters)
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    columns += list(kwargs.get("column_list", []))
    domain = _domain(frame, expectation.row_condition, columns)
    failing = _FAILING.get(expectation.expectation_type)
    if failing is None:
        return domain.index
    mask = failing(kwargs, domain)
    return mask.index[mask.to_numpy(dtype=bool, na_value=True)]


def screen(expectations: list[Any], frame: pd.DataFrame, parameters: Mapping[str, Any]
           ) -> tuple[pd.DataFrame, dict[str, pd.Index]]:
    """The rows of `frame` some expectation may fail (frame order and labels kept), and each
    expectation's (by id) rows."""
    flagged = {e.id: may_fail(e, frame, parameters) for e in expectations}
    keep = np.zeros(len(frame), dtype=bool)
    positions = frame.index.get_indexer
    for index in flagged.values():
        keep[positions(index)] = True
    return frame.loc[keep], flagged


def covers(flagged: pd.Index, unexpected: list[Any]) -> bool:
    """GX found nothing on the kept rows that screening did not expect for this expectation."""
    return pd.Index(unexpected).isin(flagged).all()
