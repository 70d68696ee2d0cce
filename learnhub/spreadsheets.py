"""Spreadsheets people make and open in Excel or LibreOffice: CSV read as they write it,
cells written so that none runs as a formula."""
from __future__ import annotations

import csv
import io

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A text cell that a spreadsheet would run as a formula (``=HYPERLINK(...)``,
    ``+cmd|...``, ``@SUM(...)``) gets a leading apostrophe, so it shows as typed and
    runs nothing. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]


def csv_reader(text: str):
    """A csv reader for a file saved by Excel, LibreOffice or by hand: the delimiter (comma,
    semicolon or tab) is guessed from a sample, and quotes follow the standard rule, so
    ``"Nguyễn ""Bá"" An"`` reads as ``Nguyễn "Bá" An`` and a quoted comma stays in its cell."""
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    return csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', doublequote=True,
                      skipinitialspace=False, strict=False)
