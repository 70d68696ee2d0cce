"""Spreadsheets in and out: CSV read as people write it, cells written so that none runs as
a formula in Excel or LibreOffice, and uploaded sheets read within fixed limits."""
from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

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
    """A csv reader for a file saved by Excel, LibreOffice or by hand. The delimiter (comma,
    semicolon or tab) is the one that splits the first row, the header, into the most cells:
    a header names columns and rarely quotes, while guessing from the data (csv.Sniffer) is
    fooled by names full of quotes and semicolons. Quotes follow the spreadsheet rule, so
    ``"Nguyễn ""Bá"" An"`` reads as ``Nguyễn "Bá" An`` and a quoted comma stays in its cell."""
    def reader(delimiter: str):
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                          strict=False)

    def header_cells(delimiter: str) -> int:
        try:
            return len(next(reader(delimiter), []))
        except csv.Error:
            return 0

    return reader(max((",", ";", "\t"), key=header_cells))


# --- reading uploaded sheets -----------------------------------------------
# Uploads come from anyone with a staff account, and a spreadsheet is a zip of XML: every
# limit below holds before the content is trusted. A sheet that breaks one is refused with
# a message saying which, never a 500 and never a worker stuck for minutes.

MAX_ROWS = 20_000
MAX_COLUMNS = 64  # cells further right are ignored: no sheet we read has so many columns
MAX_XLSX_INFLATED = 50 * 1024 * 1024  # all XML parts together, once uncompressed
MAX_XLSX_ENTRIES = 2_000
MAX_PARSE_SECONDS = 20.0


class SpreadsheetError(ValueError):
    """Shown to the user as is (already translated)."""


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def _check_zip(archive: zipfile.ZipFile, deadline: float, inflate_cap: int) -> None:
    entries = archive.infolist()
    if len(entries) > MAX_XLSX_ENTRIES:
        raise SpreadsheetError(_l("The workbook has too many parts (%(n)d) to be an ordinary sheet.", n=len(entries)))
    declared = sum(info.file_size for info in entries)
    if declared > inflate_cap:
        raise SpreadsheetError(_l(
            "The workbook would take %(mb)d MB once uncompressed; at most %(cap)d MB are read. "
            "Split it into smaller files or save it as CSV.", mb=declared // 2**20, cap=inflate_cap // 2**20))
    # The declared sizes are the sender's word: count what actually comes out, and stop
    # as soon as the total passes the cap, whatever the headers say.
    total = 0
    for info in entries:
        with archive.open(info) as part:
            while chunk := part.read(256 * 1024):
                total += len(chunk)
                if total > inflate_cap:
                    raise SpreadsheetError(_l(
                        "The workbook inflates to more than %(cap)d MB; it is refused.", cap=inflate_cap // 2**20))
                if time.monotonic() > deadline:
                    raise _TooSlow


class _TooSlow(Exception):
    pass


def _xlsx_rows(data: bytes, deadline: float, max_rows: int, inflate_cap: int) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_zip(archive, deadline, inflate_cap)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, ValueError) as exc:
        if isinstance(exc, SpreadsheetError):
            raise
        raise SpreadsheetError(_l("The file is not a readable .xlsx workbook (it is damaged or not an Excel file). "
                                  "Save it again from Excel, or as CSV UTF-8.")) from None
    rows: list[tuple[int, list[str]]] = []
    workbook = None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.active
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise SpreadsheetError(_l("The workbook's first sheet holds no table. Put the list on the first sheet."))
        # The stored dimensions are the file's claim: ignoring them, rows are as wide as their
        # cells and no padding to "XFD1048576" is made.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if number > max_rows:
                raise SpreadsheetError(_l("The sheet has more than %(n)d rows; import at most %(n)d at a time.", n=max_rows))
            if time.monotonic() > deadline:
                raise _TooSlow
            cells = [_cell_text(v) for v in values]
            while cells and not cells[-1]:
                cells.pop()
            rows.append((number, cells))
    except (SpreadsheetError, _TooSlow):
        raise
    except Exception:  # openpyxl and the XML parser raise many kinds for a damaged file
        raise SpreadsheetError(_l("The file is not a readable .xlsx workbook (it is damaged or not an Excel file). "
                                  "Save it again from Excel, or as CSV UTF-8.")) from None
    finally:
        if workbook is not None:
            workbook.close()
    return rows


def _csv_rows(data: bytes, deadline: float, max_rows: int) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpreadsheetError(_l("Line %(line)d is not UTF-8 text. In Excel, save the file as “CSV UTF-8” or .xlsx.",
                                  line=line)) from None
    reader = csv_reader(text)
    rows: list[tuple[int, list[str]]] = []
    try:
        for values in reader:
            if len(rows) >= max_rows:
                raise SpreadsheetError(_l("The sheet has more than %(n)d rows; import at most %(n)d at a time.", n=max_rows))
            if time.monotonic() > deadline:
                raise _TooSlow
            rows.append((reader.line_num, [v.strip() for v in values[:MAX_COLUMNS]]))
    except csv.Error:
        raise SpreadsheetError(_l("Line %(line)d cannot be read as CSV (a cell too long, or a stray character). "
                                  "Correct it, or save the sheet again as CSV UTF-8.", line=reader.line_num + 1)) from None
    return rows


def read_table(data: bytes, filename: str, *, max_rows: int = MAX_ROWS, max_seconds: float = MAX_PARSE_SECONDS,
               inflate_cap: int = MAX_XLSX_INFLATED) -> list[tuple[int, list[str]]]:
    """An uploaded .xlsx (first sheet) or .csv as (row number, cell texts) pairs, every limit checked."""
    deadline = time.monotonic() + max_seconds
    try:
        if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
            return _xlsx_rows(data, deadline, max_rows, inflate_cap)
        return _csv_rows(data, deadline, max_rows)
    except _TooSlow:
        raise SpreadsheetError(_l("Reading the file took longer than %(s)d seconds, so it was stopped. "
                                  "Split it into smaller files.", s=int(max_seconds))) from None
