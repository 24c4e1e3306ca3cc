"""Read one county file (xlsx or csv) into canonical rows, or say precisely why not.

CONTRACT (the rest of the platform relies on it):

    read_submission(path, county_code, limits) -> ReadResult

- Never raises for bad input: every problem becomes a Finding (edustat.findings) with
  check_id, severity, bilingual message, and column/row/value where they apply.
- ReadResult.rows: pandas DataFrame, one row per school row of the sheet, with columns
  `row_number` (int, 1-based row number in the sheet as the county sees it in Excel or in
  the CSV file) + every key of edustat.columns.KEYS (dtype object: normalised text or None)
  + `extra` (JSON text of unknown columns' values for that row, or None).
- Normalised text: full-width -> half-width, spaces trimmed, thousands separators removed
  for numeric columns, `45.0` -> `45` for int columns, numbers stored in code/digits cells
  rendered without `.0`; empty cells in `zero_when_empty` columns -> "0", other empty -> None.
  Text that still is not a valid value is kept as is: validation names it.
"""
