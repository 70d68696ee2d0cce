"""A dashboard table as CSV or XLSX. Every cell goes through ``safe_cell``: unit and official
names come from imports, and a spreadsheet must never run them as formulas."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

from flask_babel import gettext as _

from ..config import VIETNAM_TZ
from ..spreadsheets import safe_cell, safe_row
from .figures import Rate
from .tables import Table

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _header(table: Table) -> list[str]:
    header = []
    for column in table.columns:
        if column.kind == "rate":
            header += [column.label, _("%(column)s (%%)", column=column.label)]
        elif column.kind == "share":
            header.append(_("%(column)s (%%)", column=column.label))
        else:
            header.append(column.label)
    return header


def _cells(table: Table, values: dict, spreadsheet: bool) -> list:
    """One row's cells: a rate is its count and its percent (a fraction for the spreadsheet,
    formatted as a percentage; the whole percent in CSV, as the screen shows it)."""
    out = []
    for column in table.columns:
        value = values.get(column.key)
        if column.kind in ("rate", "share"):
            value = value if isinstance(value, Rate) else Rate(0, 0)
            if column.kind == "rate":
                out.append(value.count)
            out.append(value.fraction if spreadsheet else value.percent)
        elif column.kind == "date" and isinstance(value, datetime):
            day = value.astimezone(VIETNAM_TZ).date()
            out.append(day if spreadsheet else day.strftime("%d/%m/%Y"))
        elif column.kind == "date" and isinstance(value, date):
            out.append(value if spreadsheet else value.strftime("%d/%m/%Y"))
        else:
            out.append(value)
    return out


def _rows(table: Table, spreadsheet: bool) -> list[list]:
    rows = [_cells(table, r.values, spreadsheet) for r in table.rows]
    if table.total is not None:
        rows.append(_cells(table, table.total.values, spreadsheet))
    return rows


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(_header(table)))
    for row in _rows(table, spreadsheet=False):
        writer.writerow(safe_row(row))
    # A BOM so that Excel opens the Vietnamese text as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheet_name(name: str) -> str:
    """Excel refuses []:*?/\\ in a sheet name and more than 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "1"


def table_xlsx(table: Table, title: str) -> bytes:
    """A title row (programme, scope, date), the table's name, then the header, the rows and
    the total; rates as percentages; columns wide enough to read."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name(table.sheet)
    header = _header(table)
    sheet.append([safe_cell(title)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([safe_cell(table.title)])
    sheet["A2"].font = Font(italic=True)
    sheet.append(safe_row(header))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    formats = []
    for column in table.columns:
        if column.kind == "rate":
            formats += ["0", "0%"]
        elif column.kind == "share":
            formats.append("0%")
        elif column.kind == "date":
            formats.append("dd/mm/yyyy")
        else:
            formats.append(None)
    rows = _rows(table, spreadsheet=True)
    for values in rows:
        sheet.append(safe_row(values))
        for cell, fmt in zip(sheet[sheet.max_row], formats):
            if fmt:
                cell.number_format = fmt
    if table.total is not None:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    widths = []
    for column in table.columns:
        widths += [column.width, 8] if column.kind == "rate" else [column.width]
    for i, (label, width) in enumerate(zip(header, widths), start=1):
        longest = max([len(str(r[i - 1])) for r in rows if r[i - 1] is not None] + [0])
        sheet.column_dimensions[get_column_letter(i)].width = min(max(width, longest + 2, 8), 60)
    sheet.freeze_panes = "A4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
