"""How much a county file may cost to read: bytes on disk, bytes expanded, rows and columns."""

from __future__ import annotations

from dataclasses import dataclass

from edustat.config import Settings

# No county-level unit has anywhere near this many schools (the largest have a few thousand
# including 教学点); a sheet whose content reaches further is a mistake or an attack, and a
# bound here is what keeps the reader's memory bounded.
DEFAULT_MAX_ROWS = 20_000
# The form has 37 columns; counties add a few notes. 200 leaves room and caps the cell grid.
DEFAULT_MAX_COLUMNS = 200
# Excel's own limit for one cell: no xlsx can hold more, so a CSV may not either.
DEFAULT_MAX_CELL_CHARS = 32_767


@dataclass(frozen=True)
class ReadLimits:
    max_file_bytes: int
    max_expanded_bytes: int
    max_compression_ratio: float
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(
            max_file_bytes=settings.max_file_bytes,
            max_expanded_bytes=settings.max_expanded_bytes,
            max_compression_ratio=settings.max_compression_ratio,
        )
