"""Text that came from respondents or uploads must stay text in spreadsheets.

Excel, LibreOffice and Google Sheets run a cell starting with ``= + - @`` (or a tab / carriage
return before one) as a formula: ``=HYPERLINK("http://evil", "click")`` in a street name or
comment would become a live link. The Excel builder stores such text as a string cell with
Excel's quote prefix; CSV has no cell types, so the value gets a leading apostrophe (OWASP's
advice). Characters that the XLSX format cannot hold are dropped rather than failing the report.
"""
from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(text: str) -> str:
    """``text`` made inert for a CSV cell."""
    return "'" + text if is_formula_like(text) else text


def excel_text(text: str) -> str:
    """``text`` without the control characters that XLSX cannot store."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # here: CSV and PDF need no openpyxl

    return ILLEGAL_CHARACTERS_RE.sub("", text)
