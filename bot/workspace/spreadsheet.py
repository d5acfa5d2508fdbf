"""CSV cells for people: text a spreadsheet would run as a formula is written so it shows as text.

Excel, LibreOffice and Google Sheets read a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula, and some also after leading whitespace, so a customer who writes ``=HYPERLINK(…)`` would
have it run on the agent's machine when the export is opened. As OWASP recommends, such a cell is written
with a leading single quote, which makes it text (Excel hides the quote; other spreadsheets may show it).
Only CSV for people is escaped: JSON lines are data, and training CSVs are read back by Helpline itself
(``training/dataset.py``).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def text_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of ``row`` through ``text_cell``."""
    return {field: text_cell(value) for field, value in row.items()}
