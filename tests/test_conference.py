"""Conference day: roll call for hundreds, the sign-in sheet on paper and back, the QR
check-in through a first log-in, the changing code, and login slips."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from learnhub.attendance.models import AttendanceRecord, TrainingSession
from learnhub.attendance.services import (
    AttendanceError, apply_sheet, attendance_totals, check_in, create_session, mark, mark_all_present,
    plan_sheet_import, projector_code, roll_call_rows, rotating_code, session_for_code, set_rotation,
)
from learnhub.audit.models import AuditEntry
from learnhub.auth.models import User
from learnhub.catalog.services import course_by_slug
from learnhub.materials.sync import sync_content
from learnhub.models_base import utcnow
from learnhub.names import fold
from learnhub.programmes.services import create_programme
from learnhub.spreadsheets import SpreadsheetError, read_table

from . import factories
from .conference_world import COMMUNES, conference, pdf_text  # noqa: F401 (fixtures and helpers)


def test_fold_ignores_accents_case_d_and_spaces():
    assert fold("  NGUYỄN   Văn  Ấn ") == "nguyen van an"
    assert fold("Đỗ Thị Hường") == fold("do thi huong") == "do thi huong"
    assert fold("Họ và tên") == "ho va ten"
    # Composed and decomposed spellings of the same name (Windows and macOS keyboards) agree.
    assert fold("Nguy\u1ec5n") == fold("Nguye\u0302\u0303n") == "nguyen"


# --- roll call for hundreds -----------------------------------------------------

def test_search_finds_names_without_accents_in_sql(conference, db):
    session, _trainer = conference
    an = factories.make_user("official", unit_code="D217-02", full_name="Nguyễn Văn An")
    factories.make_user("official", unit_code="D217-03", full_name="Nguyễn Thị Bình")
    factories.make_user("official", unit_code="D213-01", full_name="Nguyễn Văn An")  # another district
    assert [u.id for u, _r in roll_call_rows(session, search="nguyen  VAN an")] == [an.id]
    assert [u.id for u, _r in roll_call_rows(session, search="Nguyễn Văn Ấn")] == [an.id]
    assert len(roll_call_rows(session, search="nguyen")) == 2
    assert roll_call_rows(session, search="%") == [] and roll_call_rows(session, search="_") == []
    assert db.session.scalar(select(User.name_key).where(User.id == an.id)) == "nguyen van an"


def test_all_present_for_a_commune_keeps_marks_already_made_then_one_exception(conference, db):
    session, trainer = conference
    people = factories.make_officials(9, ["D217-01", "D217-02", "D217-03"])
    vôi = [u for u in people if u.unit.code == "D217-01"]
    check_in(session.checkin_code, vôi[0])  # checked in themself
    mark(session, vôi[1], "excused", by=trainer, source="roll_call", note="ốm")
    db.session.commit()
    assert mark_all_present(session, factories.unit("D217-01"), trainer) == 1
    db.session.commit()
    status = dict(db.session.execute(select(AttendanceRecord.user_id, AttendanceRecord.status)).all())
    assert status == {vôi[0].id: "present", vôi[1].id: "excused", vôi[2].id: "present"}
    assert attendance_totals(session) == {"present": 2, "late": 0, "excused": 1, "absent": 0, "unmarked": 6,
                                          "expected": 9}
    # Then only the exception, through the page: the others keep their marks.
    with pytest.raises(AttendanceError):
        mark_all_present(session, factories.unit("D213-01"), trainer)


def test_roll_call_page_filters_totals_and_all_present(conference, db, client, login_as):
    session, _ = conference
    people = factories.make_officials(30, COMMUNES)
    an = factories.make_user("official", unit_code="D217-04", full_name="Nguyễn Văn An")
    login_as("trainer")
    page = client.get(f"/sessions/{session.id}?q=nguyen+van+an").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and page.count('class="rc-who"') == 1
    kep = factories.unit("D217-02")
    response = client.post(f"/sessions/{session.id}/all-present", data={"commune": kep.id, "unit": kep.id})
    assert response.status_code == 302 and f"unit={kep.id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "6 cán bộ của Thị trấn Kép đã được ghi có mặt" in page
    exception = next(u for u in people if u.unit_id == kep.id)
    client.post(f"/sessions/{session.id}/roll-call", data={f"status-{exception.id}": "absent"})
    totals = attendance_totals(session)
    assert (totals["present"], totals["absent"], totals["unmarked"], totals["expected"]) == (5, 1, 25, 31)
    page = client.get(f"/sessions/{session.id}?status=unmarked").get_data(as_text=True)
    assert page.count('class="rc-who"') == 25 and "Nguyễn Văn An" in page
    assert re.search(r'data-total="absent">1<', page)
    # The page's script saves one tap at a time and gets the totals back.
    live = client.post(f"/sessions/{session.id}/roll-call", data={f"status-{an.id}": "late"},
                       headers={"Accept": "application/json"})
    assert live.get_json()["totals"]["late"] == 1


def test_roll_call_without_a_note_field_keeps_the_note(conference, db, client, login_as):
    session, trainer = conference
    official = factories.make_user("official", unit_code="D217-01")
    mark(session, official, "excused", by=trainer, source="roll_call", note="đi công tác")
    db.session.commit()
    login_as("trainer")
    client.post(f"/sessions/{session.id}/roll-call", data={f"status-{official.id}": "late"})
    assert db.session.scalar(select(AttendanceRecord.note)) == "đi công tác"


# --- the sign-in sheet --------------------------------------------------------------

def test_sign_in_sheet_pdf_holds_every_expected_name_grouped_by_commune(conference, db, client, login_as):
    session, _ = conference
    people = factories.make_officials(80, COMMUNES)
    factories.make_user("official", unit_code="D217-05", full_name="Nguyễn Thị Phương Huyền Trang",
                        position="Phó Chủ tịch Ủy ban nhân dân phụ trách văn hóa, xã hội và y tế")
    outsider = factories.make_user("official", unit_code="D213-01", full_name="Người Ngoài Huyện")
    login_as("trainer")
    response = client.get(f"/sessions/{session.id}/sign-in-sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    flat = " ".join(text.split())
    for user in people:
        assert f"{user.full_name} {user.position}" in flat, user.full_name
    assert "Nguyễn Thị Phương Huyền Trang" in flat and outsider.full_name not in flat
    for heading in ("STT", "Họ và tên", "Chức vụ", "Đơn vị", "Ký tên", "Danh sách ký tên".upper()):
        assert heading in text
    assert session.title in flat and "Hội trường UBND huyện" in flat and "Quét mã để tự điểm danh" in flat
    assert f"/check-in?code={session.checkin_code}" in flat.replace(" ", "")  # the address may wrap
    assert flat.index("Thị trấn Vôi (16 người)") < flat.index("Xã Tiên Lục (17 người)")
    from pypdf import PdfReader
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) >= 3 and all(round(float(p.mediabox.width)) == 595 for p in pages)  # A4 portrait


def test_sign_in_sheet_never_splits_a_row_across_pages(conference, db, app):
    from weasyprint import HTML
    from flask import render_template
    from learnhub.attendance import documents
    session, _ = conference
    factories.make_officials(120, COMMUNES)
    with app.test_request_context():
        html = render_template("attendance/sign_in_sheet.html", session=session,
                               groups=documents._by_commune(session), when=documents._when(session),
                               checkin_url="http://x/check-in", qr="")
        document = HTML(string=html).render()
    pages_of_row: list[tuple[object, set[int]]] = []  # (the <tr>, pages it is drawn on)
    for number, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            if type(box).__name__ != "TableRowBox" or "".join(box.element.itertext()).startswith("STT"):
                continue  # the column headings repeat on every page by design
            for element, pages in pages_of_row:
                if element is box.element:
                    pages.add(number)
                    break
            else:
                pages_of_row.append((box.element, {number}))
    assert len(document.pages) >= 4
    assert len(pages_of_row) == 120 and all(len(pages) == 1 for _e, pages in pages_of_row)


# --- the signed sheet back in ----------------------------------------------------------

def _two_an(db):
    kep = factories.make_user("official", unit_code="D217-02", full_name="Nguyễn Văn An", position="Chủ tịch UBND")
    luc = factories.make_user("official", unit_code="D217-05", full_name="Nguyễn Văn An", position="Địa chính")
    return kep, luc


def test_filled_in_sheet_matches_same_names_by_unit(conference, db):
    session, trainer = conference
    kep, luc = _two_an(db)
    hoa = factories.make_user("official", unit_code="D217-01", full_name="Lê Thị Hoà")
    bao = factories.make_user("official", unit_code="D217-03", full_name="Trần Văn Bảo")
    sheet = ("STT;Họ và tên;Chức vụ;Đơn vị;Ký tên\n"
             "1;nguyen van an;Chủ tịch;Thị trấn Kép;x\n"
             "2;NGUYỄN  VĂN  AN;;xã tiên lục;\n"
             "3;Lê Thị Hòa;;Vôi;An đã ký\n"
             "4;Trần Văn Bảo;;D217-03;✓\n")
    plan = plan_sheet_import(session, sheet.encode(), "ky-ten.csv")
    assert plan.undecided == []
    assert [(r.line, r.user.id, r.status) for r in plan.rows] == [
        (2, kep.id, "present"), (3, luc.id, "absent"), (4, hoa.id, "present"), (5, bao.id, "present")]
    count, conflicts = apply_sheet(session, plan, trainer)
    db.session.commit()
    assert count == 4 and conflicts == []
    marks = dict(db.session.execute(select(AttendanceRecord.user_id, AttendanceRecord.status)).all())
    assert marks == {kep.id: "present", luc.id: "absent", hoa.id: "present", bao.id: "present"}
    sources = set(db.session.scalars(select(AttendanceRecord.source)))
    assert sources == {"import"}


def test_rows_matching_two_people_or_nobody_wait_for_a_decision(conference, db):
    session, trainer = conference
    kep, luc = _two_an(db)
    other = factories.make_user("official", unit_code="D217-04", full_name="Phạm Thị Thu")
    sheet = ("Họ và tên,Đơn vị,Ký tên\n"
             "Nguyễn Văn An,,x\n"            # no unit: two officials have this name
             "Phạm Thu,Xã Yên Mỹ,x\n"        # name cut short: nobody; the unit's officials are offered
             "Nguyễn Văn An,Phường Mới,x\n"  # a unit not in this session
             "Nguyễn Văn An,Thị trấn Kép,x\n"
             "Nguyễn Văn An,Kép,x\n")         # the same person twice
    plan = plan_sheet_import(session, sheet.encode(), "ky-ten.csv")
    waiting = {r.line: r for r in plan.undecided}
    assert sorted(waiting) == [2, 3, 4, 6]
    assert {u.id for u in waiting[2].candidates} == {kep.id, luc.id} and "2 cán bộ" in waiting[2].problem
    assert [u.id for u in waiting[3].candidates] == [other.id]
    assert "Phường Mới" in waiting[4].problem
    assert waiting[6].candidates == [] and "dòng 5" in waiting[6].problem
    with pytest.raises(AttendanceError):
        apply_sheet(session, plan, trainer, {2: luc.id})  # rows 3, 4, 6 not decided
    with pytest.raises(AttendanceError):  # someone not offered for that row
        apply_sheet(session, plan, trainer, {2: other.id, 3: None, 4: None, 6: None})
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0
    count, _ = apply_sheet(session, plan, trainer, {2: luc.id, 3: other.id, 4: None, 6: None})
    db.session.commit()
    assert count == 3
    marks = dict(db.session.execute(select(AttendanceRecord.user_id, AttendanceRecord.status)).all())
    assert marks == {kep.id: "present", luc.id: "present", other.id: "present"}


def test_quoted_csv_names_are_read_as_written(conference, db):
    session, _ = conference
    ba = factories.make_user("official", unit_code="D217-02", full_name='Nguyễn "Bá" An')
    comma = factories.make_user("official", unit_code="D217-02", full_name="Trần Văn Hải, Jr")
    sheet = ('"Họ và tên","Đơn vị","Trạng thái"\n'
             '"Nguyễn ""Bá"" An","Thị trấn Kép","có mặt"\n'
             '"Trần Văn Hải, Jr","Kép","muộn"\n')
    rows = read_table(sheet.encode(), "x.csv")
    assert rows[1][1][0] == 'Nguyễn "Bá" An'
    plan = plan_sheet_import(session, sheet.encode(), "ky-ten.csv")
    assert [(r.user.id, r.status) for r in plan.rows] == [(ba.id, "present"), (comma.id, "late")]


def test_the_template_downloaded_from_the_import_page_reads_back(conference, db, client, login_as):
    from openpyxl import load_workbook
    session, _ = conference
    people = factories.make_officials(6, COMMUNES[:2])
    login_as("trainer")
    page = client.get(f"/sessions/{session.id}/import").get_data(as_text=True)
    assert f"/sessions/{session.id}/sign-in-sheet.xlsx" in page and f"/sessions/{session.id}/sign-in-sheet.csv" in page
    data = client.get(f"/sessions/{session.id}/sign-in-sheet.xlsx").data
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert [c.value for c in sheet[4]] == ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Ký tên", "Ghi chú"]
    sheet["E5"] = "x"  # one person signed
    filled = io.BytesIO()
    workbook.save(filled)
    plan = plan_sheet_import(session, filled.getvalue(), "filled.xlsx")
    assert plan.undecided == [] and len(plan.rows) == 6
    assert sorted(r.status for r in plan.rows) == ["absent"] * 5 + ["present"]
    csv_rows = list(csv.reader(io.StringIO(client.get(f"/sessions/{session.id}/sign-in-sheet.csv").data.decode("utf-8-sig"))))
    assert csv_rows[0][:5] == ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Ký tên"] and len(csv_rows) == 7
    assert {r[1] for r in csv_rows[1:]} == {u.full_name for u in people}


def test_import_page_dry_run_then_decision_then_confirm(conference, db, client, login_as):
    session, _ = conference
    kep, luc = _two_an(db)
    login_as("trainer")
    sheet = "Họ và tên,Đơn vị,Ký tên\nNguyễn Văn An,,x\nNguyễn Văn An,Xã Tiên Lục,\n"
    page = client.post(f"/sessions/{session.id}/import", data={"file": (io.BytesIO(sheet.encode()), "ky.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "Đã đọc 2 dòng: 1 dòng khớp, 1 dòng chờ bạn quyết định." in page
    batch = re.search(r'name="batch" value="(\d+)"', page).group(1)
    refused = client.post(f"/sessions/{session.id}/import", data={"batch": batch})
    assert refused.status_code == 400 and db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0
    done = client.post(f"/sessions/{session.id}/import", data={"batch": batch, "pick-2": str(kep.id)})
    assert done.status_code == 302
    marks = dict(db.session.execute(select(AttendanceRecord.user_id, AttendanceRecord.status)).all())
    assert marks == {kep.id: "present", luc.id: "absent"}


# --- hostile files ---------------------------------------------------------------------

def _xlsx(sheet_xml_writer, declared_size: int | None = None) -> bytes:
    """A minimal workbook whose sheet XML is produced by ``sheet_xml_writer(file)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                         '<Default Extension="xml" ContentType="application/xml"/>'
                         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                         '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                         '</Types>')
        archive.writestr("_rels/.rels",
                         '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                         '</Relationships>')
        archive.writestr("xl/workbook.xml",
                         '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                         '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels",
                         '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                         '</Relationships>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=False) as part:
            sheet_xml_writer(part)
    data = out.getvalue()
    if declared_size is not None:  # make the headers lie about the sheet's size
        info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
        real = info.file_size.to_bytes(4, "little")
        data = data.replace(real, declared_size.to_bytes(4, "little"))
    return data


def _bomb(part, megabytes: int = 60) -> None:
    part.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
    block = b" " * (1024 * 1024)
    for _ in range(megabytes):
        part.write(block)
    part.write(b"</t></is></c></row></sheetData></worksheet>")


def test_xlsx_zip_bomb_is_refused_before_it_is_inflated(conference, db):
    session, _ = conference
    bomb = _xlsx(_bomb)
    assert len(bomb) < 200 * 1024  # small on disk, 60 MB once inflated
    with pytest.raises(SpreadsheetError, match="60 MB"):
        read_table(bomb, "bomb.xlsx")
    with pytest.raises(AttendanceError, match="tối đa 50 MB"):
        plan_sheet_import(session, bomb, "bomb.xlsx")


def test_xlsx_whose_headers_understate_the_size_is_refused_as_damaged(app):
    liar = _xlsx(_bomb, declared_size=1000)
    with pytest.raises(SpreadsheetError, match="không đọc được"):
        read_table(liar, "liar.xlsx")


def test_damaged_workbook_or_sheet_is_a_message_not_an_error_page(conference, db, client, login_as):
    session, _ = conference
    login_as("trainer")
    broken_xml = _xlsx(lambda part: part.write(b"<worksheet><sheetData><row><c><v>1</v></row>"))
    for data, name in ((b"PK\x03\x04 not really a zip", "a.xlsx"), (broken_xml, "b.xlsx"),
                       (b"\xff\xfe\x00H\x00o", "c.csv"), (b"x" * 200_000 + b"\n", "d.csv")):
        response = client.post(f"/sessions/{session.id}/import", data={"file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")
        assert response.status_code == 200, name
        page = response.get_data(as_text=True)
        assert 'class="flash error"' in page and "Kiểm tra tệp" in page, name


def test_too_many_rows_and_too_slow_are_refused(app):
    rows = "Họ và tên,Đơn vị,Ký tên\n" + "An,Kép,x\n" * 20_000
    with pytest.raises(SpreadsheetError, match="20000"):
        read_table(rows.encode(), "many.csv")
    assert len(read_table(rows.encode(), "many.csv", max_rows=20_001)) == 20_001
    with pytest.raises(SpreadsheetError, match="giây"):
        read_table(b"a,b\n1,2\n", "slow.csv", max_seconds=-1)


def test_sheet_dimensions_claiming_a_million_columns_are_ignored():
    def wide(part):
        part.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   b'<dimension ref="A1:XFD1048576"/><sheetData>'
                   b'<row r="1"><c r="A1" t="inlineStr"><is><t>H\xe1\xbb\x8d v\xc3\xa0 t\xc3\xaan</t></is></c></row>'
                   b'<row r="2"><c r="A2" t="inlineStr"><is><t>An</t></is></c></row></sheetData></worksheet>')
    assert read_table(_xlsx(wide), "wide.xlsx") == [(1, ["Họ và tên"]), (2, ["An"])]


# --- check-in from the QR code ---------------------------------------------------------

def test_qr_scan_by_an_official_who_never_logged_in_ends_checked_in(conference, db, client):
    session, _ = conference
    official = factories.make_user("official", unit_code="D217-03", full_name="Đỗ Thị Lần Đầu")
    official.set_temporary_password("tam-thoi-9x7k")
    db.session.commit()
    scan = client.get(f"/check-in?code={session.checkin_code}")
    assert scan.headers["Location"] == f"/check-in/{session.id}"
    to_login = client.get(scan.headers["Location"])
    assert to_login.headers["Location"].startswith("/login?next=")
    login = client.post(to_login.headers["Location"], data={"username": official.username, "password": "tam-thoi-9x7k"})
    assert login.headers["Location"] == f"/account/password?next=/check-in/{session.id}"
    changed = client.post(login.headers["Location"], data={
        "current": "tam-thoi-9x7k", "new": "mat-khau-rieng-1", "confirm": "mat-khau-rieng-1"})
    assert changed.headers["Location"] == f"/check-in/{session.id}"
    confirm_page = client.get(changed.headers["Location"]).get_data(as_text=True)
    assert 'id="check-in-now"' in confirm_page
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0  # nothing on GET
    done = client.post(f"/check-in/{session.id}", follow_redirects=True).get_data(as_text=True)
    assert "Bạn đã điểm danh" in done
    record = db.session.scalar(select(AttendanceRecord))
    assert (record.user_id, record.status, record.source) == (official.id, "present", "self")


def test_confirm_without_a_scan_checks_nobody_in(conference, db, client, login_as):
    session, _ = conference
    login_as("official", unit_code="D217-03")
    page = client.get(f"/check-in/{session.id}").get_data(as_text=True)
    assert 'id="check-in-now"' not in page
    client.post(f"/check-in/{session.id}")
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0


def test_rotating_code_refused_after_two_rotations(conference, db, client, login_as):
    session, trainer = conference
    official = factories.make_user("official", unit_code="D217-01")
    set_rotation(session, 60, trainer)
    db.session.commit()
    now = utcnow()
    shown, seconds_left = projector_code(session, now)
    assert 1 <= seconds_left <= 60 and shown != session.checkin_code
    one_later = now + timedelta(seconds=60)
    two_later = now + timedelta(seconds=120)
    assert session_for_code(shown, now).id == session.id
    assert session_for_code(shown.lower(), one_later).id == session.id  # one rotation old: still fine
    with pytest.raises(AttendanceError, match="đã đổi"):
        session_for_code(shown, two_later)
    with pytest.raises(AttendanceError, match="thay đổi"):  # the fixed code no longer works
        session_for_code(session.checkin_code, now)
    window = int(now.timestamp()) // 60
    assert rotating_code(session, window) == shown and rotating_code(session, window + 1) != shown
    # Over HTTP: a photo of a code from two rotations ago leads nowhere.
    stale = rotating_code(session, window - 2)
    login_as("official", unit_code="D217-01")
    response = client.get(f"/check-in?code={stale}")
    assert response.status_code == 400 and "Mã này đã đổi" in response.get_data(as_text=True)
    fresh = projector_code(session)[0]
    assert client.get(f"/check-in?code={fresh}").status_code == 302
    client.post(f"/check-in/{session.id}")
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 1
    assert official.id not in set(db.session.scalars(select(AttendanceRecord.user_id)))  # the logged-in one did


def test_check_in_still_only_within_the_session_window(conference, db):
    session, trainer = conference
    set_rotation(session, 30, trainer)
    later = session.ends_at + timedelta(minutes=session.grace_minutes + 1)
    with pytest.raises(AttendanceError, match="hết thời gian"):
        session_for_code(projector_code(session, later)[0], later)


def test_projector_page_rotates_with_and_without_javascript(conference, db, client, login_as):
    session, _ = conference
    login_as("trainer")
    page = client.get(f"/sessions/{session.id}/code").get_data(as_text=True)
    assert session.checkin_code in page and "/static/checkin-code." not in page and "http-equiv" not in page
    client.post(f"/sessions/{session.id}/code/rotation", data={"seconds": "30"})
    assert db.session.get(TrainingSession, session.id).rotate_seconds == 30
    page = client.get(f"/sessions/{session.id}/code").get_data(as_text=True)
    code = re.search(r'id="checkin-code">(\w+)<', page).group(1)
    assert code != session.checkin_code and "/static/checkin-code." in page
    assert re.search(r'<noscript><meta http-equiv="refresh" content="\d+"></noscript>', page)
    data = client.get(f"/sessions/{session.id}/code.json").get_json()
    assert data["code"] in (code, rotating_code(session, int(utcnow().timestamp()) // 30))
    assert data["url"].endswith(f"/check-in?code={data['code']}") and data["qr"].startswith("<svg")
    assert client.post(f"/sessions/{session.id}/code/rotation", data={"seconds": "7"}).status_code == 302
    assert db.session.get(TrainingSession, session.id).rotate_seconds == 30
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "attendance.rotation")) == 1


# --- login slips --------------------------------------------------------------------------

def test_login_slips_reset_only_those_without_their_own_password(conference, db, client, login_as):
    new = factories.make_user("official", unit_code="D217-02", full_name="Hoàng Văn Mới")
    new.set_temporary_password("cu-tam-thoi-1")
    never = factories.make_user("official", unit_code="D217-02", full_name="Vũ Thị Chưa Có")
    never.password_hash = ""
    own = factories.make_user("official", unit_code="D217-02", full_name="Bùi Văn Riêng")
    db.session.commit()
    own_hash = own.password_hash
    trainer = login_as("trainer", unit_code="217")
    kep = factories.unit("D217-02")
    page = client.get(f"/admin/login-slips?unit={kep.id}").get_data(as_text=True)
    assert "mật khẩu tạm mới" in page and "Bùi Văn Riêng" in page
    unconfirmed = client.post("/admin/login-slips", data={"unit": kep.id})
    assert unconfirmed.mimetype == "text/html" and db.session.get(User, new.id).check_password("cu-tam-thoi-1")
    response = client.post("/admin/login-slips", data={"unit": kep.id, "confirm": "1"})
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Hoàng Văn Mới" in text and "Vũ Thị Chưa Có" in text and "Bùi Văn Riêng" not in text
    assert new.username in text and "http://localhost/login" in text
    passwords = dict(re.findall(r"Tên đăng nhập: (\S+)\s+Mật khẩu tạm: (\S+)", text))
    db.session.expire_all()
    assert db.session.get(User, new.id).check_password(passwords[new.username])
    assert not db.session.get(User, new.id).check_password("cu-tam-thoi-1")
    assert db.session.get(User, never.id).must_change_password
    assert db.session.get(User, own.id).password_hash == own_hash
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "account.temporary_password")).all()
    assert sorted(e.subject_id for e in entries) == sorted([new.id, never.id])
    assert {e.actor_id for e in entries} == {trainer.id}
    # Only when asked by name is someone's own password replaced.
    client.post("/admin/login-slips", data={"unit": kep.id, "confirm": "1", "also": str(own.id)})
    db.session.expire_all()
    assert db.session.get(User, own.id).password_hash != own_hash
    # A trainer of another district sees none of it.
    client.post("/logout")
    login_as("trainer", unit_code="213")
    assert client.get(f"/admin/login-slips?unit={kep.id}").status_code == 403
    assert client.post("/admin/login-slips", data={"unit": kep.id, "confirm": "1"}).status_code == 403


def test_a_session_can_start_with_a_changing_code_and_its_sheet_then_says_so(conference, db, client, login_as):
    session, _ = conference
    login_as("trainer")
    form = client.get(f"/programmes/{session.programme.code}/sessions/new").get_data(as_text=True)
    assert "Mã điểm danh trên màn chiếu" in form and "Đổi sau mỗi 60 giây" in form
    response = client.post(f"/programmes/{session.programme.code}/sessions/new", data={
        "title": "Hội nghị có mã đổi", "unit": str(factories.unit("217").id), "starts_at": "2026-12-01T08:00",
        "ends_at": "2026-12-01T11:30", "trainer": "0", "grace_minutes": "20", "rotate_seconds": "60"})
    created = db.session.scalar(select(TrainingSession).where(TrainingSession.title == "Hội nghị có mã đổi"))
    assert response.status_code == 302 and created.rotate_seconds == 60
    text = " ".join(pdf_text(client.get(f"/sessions/{created.id}/sign-in-sheet.pdf").data).split())
    assert "quét mã QR trên màn hình" in text and "/check-in?code=" not in text.replace(" ", "")
    refused = client.post(f"/programmes/{session.programme.code}/sessions/new", data={
        "title": "Sai", "unit": str(factories.unit("217").id), "starts_at": "2026-12-01T08:00",
        "ends_at": "2026-12-01T11:30", "trainer": "0", "grace_minutes": "20", "rotate_seconds": "45"})
    assert refused.status_code == 200 and 'id="rotate_seconds-error"' in refused.get_data(as_text=True)


_names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30) \
    .map(str.strip).filter(bool)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_names, _names), min_size=1, max_size=8), st.sampled_from([",", ";", "\t"]))
def test_any_names_written_by_a_spreadsheet_read_back_as_written(rows, delimiter):
    """Quotes, commas, semicolons and tabs inside names: the CSV reader gets every cell back."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["Họ và tên", "Đơn vị", "Ký tên"])
    for name, unit in rows:
        writer.writerow([name, unit, "x"])
    read = read_table(out.getvalue().encode("utf-8"), "sheet.csv")
    assert [values[:2] for _line, values in read[1:]] == [[name, unit] for name, unit in rows]


@given(st.text())
def test_folding_twice_changes_nothing(text):
    assert fold(fold(text)) == fold(text)


def test_a_mark_made_at_the_same_moment_elsewhere_is_built_on_not_an_error(conference, db, monkeypatch):
    """The page saves a tap by itself while the trainer also presses Save: the second request
    finds the row inserted meanwhile and goes on from it."""
    from learnhub.attendance import services
    session, trainer = conference
    official = factories.make_user("official", unit_code="D217-01")
    mark(session, official, "present", by=trainer, source="roll_call", note="hàng đầu")
    db.session.commit()
    real, calls = services.own_record, []

    def not_yet_seen(*args):  # the first look happens before the other request has committed
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(services, "own_record", not_yet_seen)
    assert mark(session, official, "present", by=trainer, source="roll_call", note=None) is None
    assert mark(session, official, "late", by=trainer, source="roll_call", note=None) is None
    db.session.commit()
    records = db.session.scalars(select(AttendanceRecord)).all()
    assert [(r.status, r.note) for r in records] == [("late", "hàng đầu")]
