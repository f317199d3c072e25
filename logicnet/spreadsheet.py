"""Cells written to files that people open in a spreadsheet (CSV and XLSX exports, access
packages, error reports): one rule for every export the product writes.

Excel, LibreOffice and Google Sheets run a cell that starts with = + - @ as a formula, and a
tab or carriage return before one (CSV or formula injection, OWASP). Excel also folds the
fullwidth forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) to the ASCII ones, so a cell
starting with those is a formula too. A leading apostrophe makes the cell text; the value is
otherwise written as it is."""

from __future__ import annotations

import datetime
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: str) -> str:
    """`value` as a spreadsheet shows it as text, never runs it."""
    return "'" + value if value.startswith(FORMULA_START) else value


# Excel keeps 15 significant digits: a longer whole number (this product's ids are 16) would
# be shown rounded, so it is written as text.
EXCEL_DIGITS = 15


def xlsx_cell(value):
    """`value` as an Excel cell of its own type: numbers as numbers, dates and timestamps as
    dates (a time zone's wall time: Excel has none), booleans as booleans; text formula-safe.
    None stays an empty cell."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return safe_cell(value)
    if isinstance(value, int):
        return value if abs(value) < 10**EXCEL_DIGITS else str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            from django.utils import timezone

            value = timezone.localtime(value).replace(tzinfo=None)
        return value
    if isinstance(value, datetime.date | float | Decimal):
        return value
    return safe_cell(str(value))


def local_timestamp(text: str | None) -> datetime.datetime | None:
    """A "YYYY-MM-DD HH:MM:SS" wall time (as the export engine reads timestamps from
    PostgreSQL) as a naive datetime, for a date cell; None for an empty one."""
    return datetime.datetime.fromisoformat(text) if text else None  # local wall time, as Excel wants it
