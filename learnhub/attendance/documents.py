"""The paper side of a conference: the sign-in sheet to print (PDF) and the same sheet as a
spreadsheet to fill in and import back. Rendering only: no database writes."""
from __future__ import annotations

import csv
import io

from flask import render_template

from ..config import VIETNAM_TZ
from ..pdf import render_pdf
from ..qr import qr_svg
from ..spreadsheets import safe_row
from .models import TrainingSession
from .services import expected_officials

# The sheet's own headings, in Vietnamese on paper whatever the interface language: the
# import reads them back (and their English names).
SHEET_COLUMNS = ("STT", "Họ và tên", "Chức vụ", "Đơn vị", "Ký tên", "Ghi chú")


def _when(session: TrainingSession) -> str:
    start, end = session.starts_at.astimezone(VIETNAM_TZ), session.ends_at.astimezone(VIETNAM_TZ)
    if start.date() == end.date():
        return f"{start:%H:%M}–{end:%H:%M} ngày {start:%d/%m/%Y}"
    return f"{start:%H:%M} ngày {start:%d/%m/%Y} – {end:%H:%M} ngày {end:%d/%m/%Y}"


def _by_commune(session: TrainingSession):
    groups = []
    for user in expected_officials(session):
        if not groups or groups[-1][0].id != user.unit_id:
            groups.append((user.unit, []))
        groups[-1][1].append(user)
    return groups


def sign_in_sheet_pdf(session: TrainingSession, checkin_url: str) -> bytes:
    html = render_template("attendance/sign_in_sheet.html", session=session, groups=_by_commune(session),
                           when=_when(session), checkin_url=checkin_url, qr=qr_svg(checkin_url))
    return render_pdf(html)


def _sheet_rows(session: TrainingSession):
    number = 0
    for unit, users in _by_commune(session):
        for user in users:
            number += 1
            yield [number, user.full_name, user.position, unit.label, "", ""]


def sign_in_sheet_xlsx(session: TrainingSession) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Ký tên"
    sheet.append(safe_row([f"DANH SÁCH KÝ TÊN — {session.title}"]))
    sheet.append(safe_row([f"{_when(session)} · {session.venue}".strip(" ·")]))
    sheet.append(["Ghi vào cột “Ký tên” một dấu x (hoặc chữ ký) cho người có mặt; để trống là vắng."])
    sheet.append(list(SHEET_COLUMNS))
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for row in _sheet_rows(session):
        sheet.append(safe_row(row))
    for column, width in zip("ABCDEF", (6, 30, 24, 28, 12, 20)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A5"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sign_in_sheet_csv(session: TrainingSession) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SHEET_COLUMNS)
    for row in _sheet_rows(session):
        writer.writerow(safe_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8
