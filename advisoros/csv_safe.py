"""CSV exports: keep spreadsheets from running what people typed as a formula."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """Text for a CSV cell, with a leading quote where a spreadsheet would see a
    formula (CSV injection: `=HYPERLINK(...)`, `@SUM(...)`, `+1-2`)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
