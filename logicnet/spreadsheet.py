"""Cells written to files that people open in a spreadsheet (CSV and XLSX exports, access
packages, error reports): one rule for every export the product writes.

Excel, LibreOffice and Google Sheets run a cell that starts with = + - @ as a formula, and a
tab or carriage return before one (CSV or formula injection, OWASP). Excel also folds the
fullwidth forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) to the ASCII ones, so a cell
starting with those is a formula too. A leading apostrophe makes the cell text; the value is
otherwise written as it is."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: str) -> str:
    """`value` as a spreadsheet shows it as text, never runs it."""
    return "'" + value if value.startswith(FORMULA_START) else value
