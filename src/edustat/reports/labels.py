"""The one label of every code the marts use: seed dbt_project/seeds/code_labels.csv.

The same file is loaded by `dbt seed` (reference.code_labels, tested against every code column
of the marts: in_code_set), so the pages, the Excel export, the notices and the CLI all show
one wording per code (已接收 / 已退回 / 未报送, 小学 / 初中, 是 / 否). Read straight from the
CSV: it needs no database, and importing this module loads nothing heavy (notices use it).
"""

from __future__ import annotations

import csv
from functools import cache

from edustat.config import REPO_ROOT

CODE_LABELS_CSV = REPO_ROOT / "dbt_project" / "seeds" / "code_labels.csv"
UNKNOWN = "未知"


@cache
def code_labels() -> dict[str, dict[str, tuple[str, str]]]:
    """code set -> code -> (Chinese label, English label), each set in its sort order."""
    with CODE_LABELS_CSV.open(encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (r["code_set"], int(r["sort_order"])))
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for r in rows:
        out.setdefault(r["code_set"], {})[r["code"]] = (r["label_zh"], r["label_en"])
    return out


def codes(code_set: str) -> dict[str, str]:
    """code -> Chinese label of a code set, in display order."""
    try:
        found = code_labels()[code_set]
    except KeyError:
        raise KeyError(f"code set {code_set!r} is not in {CODE_LABELS_CSV.name}") from None
    return {code: zh for code, (zh, _) in found.items()}


def label(code_set: str, code: object) -> str:
    """The Chinese label of a code; a code the seed does not know raises KeyError."""
    text = code_text(code)
    found = codes(code_set)
    if text not in found:
        raise KeyError(f"code {text!r} of set {code_set!r} has no label in "
                       f"{CODE_LABELS_CSV.name}")
    return found[text]


def label_en(code_set: str, code: object) -> str:
    """The English label, for the English half of bilingual notices."""
    return code_labels()[code_set][code_text(code)][1]


def code_text(code: object) -> str:
    """The code as the seed writes it (booleans as true/false)."""
    if isinstance(code, bool):
        return "true" if code else "false"
    return str(code)


def status_label(status: str) -> str:
    """已接收 / 已退回 / 未报送 (submission_status.status)."""
    return label("status", status)


def yes_no(value: bool | None) -> str:
    return UNKNOWN if value is None else label("boolean", value)
