"""Spreadsheets people make and open in Excel or LibreOffice: CSV read as they write it,
cells written so that none runs as a formula."""
from __future__ import annotations

import csv
import datetime
import io
import zipfile
import zlib

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


# --- .xlsx uploads ------------------------------------------------------------
# An .xlsx file is a ZIP of XML: a few KB can inflate to gigabytes. Every member is inflated
# once, in chunks, counting the bytes actually produced (never the sizes the archive
# claims), and the file is refused past the cap; only then does openpyxl read it, streaming
# (read-only), at most ``max_rows`` non-empty rows and ``max_columns`` columns.

XLSX_MAX_INFLATED = 64 * 1024 * 1024
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_SCANNED_ROWS = 200_000  # empty rows count here, so formatting a whole column stays bounded


class SpreadsheetError(ValueError):
    """The upload cannot be read; the message is shown to the user (already translated)."""


def _not_readable() -> SpreadsheetError:
    from flask_babel import lazy_gettext as _l
    return SpreadsheetError(str(_l("The file is not a readable .xlsx workbook. Open it in Excel or LibreOffice and save it again as .xlsx, or as “CSV UTF-8”.")))


def _check_inflated_size(data: bytes, limit: int) -> None:
    from flask_babel import lazy_gettext as _l
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_readable() from None
    total = 0
    with archive:
        members = archive.infolist()
        if len(members) > XLSX_MAX_MEMBERS:
            raise _not_readable()
        try:
            for info in members:
                with archive.open(info) as member:
                    while chunk := member.read(256 * 1024):
                        total += len(chunk)
                        if total > limit:
                            raise SpreadsheetError(str(_l(
                                "The workbook is too large once unpacked (more than %(n)d MB). Split it, or save it as “CSV UTF-8”.",
                                n=limit // (1024 * 1024))))
        except SpreadsheetError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError):
            raise _not_readable() from None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number: 912345678, not 912345678.0
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return str(value).strip()


def xlsx_rows(data: bytes, max_rows: int, max_columns: int = 30,
              max_inflated: int = XLSX_MAX_INFLATED) -> list[tuple[int, list[str]]]:
    """(row number, cell texts) of the first sheet's non-empty rows: at most ``max_rows`` of them
    (the caller reports "too many" when it gets that many). Raises SpreadsheetError."""
    _check_inflated_size(data, max_inflated)
    from openpyxl import load_workbook  # heavy; only uploads need it

    rows: list[tuple[int, list[str]]] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=max_columns), start=1):
                if number > XLSX_MAX_SCANNED_ROWS:
                    break
                cells = [_cell_text(v) for v in values]
                if any(cells):
                    rows.append((number, cells))
                    if len(rows) >= max_rows:
                        break
        finally:
            book.close()
    except SpreadsheetError:
        raise
    except Exception:  # openpyxl and the XML parser raise many kinds for a damaged workbook
        raise _not_readable() from None
    return rows
