"""A finding: one broken rule on one row (or on the whole file), in Chinese and English.

Readers, validation and year-over-year checks all speak this type; ops.validation_results,
the rejection reports and the alert digest are rendered from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["critical", "warning"]


@dataclass(frozen=True)
class Finding:
    check_id: str
    severity: Severity
    message_zh: str
    message_en: str
    column: str | None = None  # submission column key, e.g. "school_code"
    row_number: int | None = None  # 1-based row number in the county's sheet
    value: str | None = None
    school_code: str | None = None
    failing_count: int = 1

    @property
    def critical(self) -> bool:
        return self.severity == "critical"
