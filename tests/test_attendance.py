"""Attendance three ways: the trainer's roll call, self check-in with the session code,
and an imported sign-in sheet; and the session form."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.attendance.models import AttendanceRecord
from learnhub.attendance.services import AttendanceError, apply_sheet, check_in, plan_sheet_import, roll_call

from . import factories


def test_self_check_in_window_once_and_typed_code(client, db, programme, login_as):
    session = factories.the_session(programme)
    official = login_as("official", unit_code="D217-03")
    response = client.post("/check-in", data={"code": session.checkin_code.lower()}, follow_redirects=True)
    assert "Bạn đã điểm danh" in response.get_data(as_text=True)
    record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.user_id == official.id))
    assert (record.status, record.source) == ("present", "self")
    again = client.post("/check-in", data={"code": session.checkin_code}, follow_redirects=True)
    assert "đã điểm danh hội nghị này rồi" in again.get_data(as_text=True)
    wrong = client.post("/check-in", data={"code": "ZZZZZZ"}, follow_redirects=True)
    assert "Mã hội nghị không tồn tại" in wrong.get_data(as_text=True)


def test_check_in_outside_the_window_is_refused(db, programme):
    session = factories.the_session(programme)
    official = factories.make_user("official", unit_code="D217-03")
    with pytest.raises(AttendanceError):
        check_in(session.checkin_code, official, now=session.ends_at + timedelta(minutes=31))
    with pytest.raises(AttendanceError):
        check_in(session.checkin_code, official, now=session.starts_at - timedelta(minutes=31))
    check_in(session.checkin_code, official, now=session.starts_at + timedelta(minutes=45))
    assert db.session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.user_id == official.id)) == "late"


def test_bulk_mark_never_silently_overwrites_a_check_in(db, programme):
    session = factories.the_session(programme)
    trainer = factories.make_user("trainer")
    official = factories.make_user("official", unit_code="D217-03")
    other = factories.make_user("official", unit_code="D217-04")
    check_in(session.checkin_code, official)
    conflicts = roll_call(session, {official.id: ("absent", ""), other.id: ("present", "")}, trainer)
    assert [c.user.id for c in conflicts] == [official.id]
    assert db.session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.user_id == official.id)) == "present"
    assert roll_call(session, {official.id: ("absent", "rời sớm")}, trainer, override_self={official.id}) == []
    assert db.session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.user_id == official.id)) == "absent"


def test_roll_call_page_groups_by_commune_and_records(client, db, programme, login_as):
    a = factories.make_user("official", unit_code="D217-01", full_name="Lê Văn Vôi")
    b = factories.make_user("official", unit_code="D217-05", full_name="Trần Thị Tiên Lục")
    factories.make_user("official", unit_code="D213-01", full_name="Người Thành Phố")
    login_as("trainer")
    session = factories.the_session(programme)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Thị trấn Vôi" in page and "Xã Tiên Lục" in page and "Người Thành Phố" not in page
    client.post(f"/sessions/{session.id}/roll-call", data={f"status-{a.id}": "present", f"status-{b.id}": "excused",
                                                         f"note-{b.id}": "đi công tác"})
    marks = dict(db.session.execute(select(AttendanceRecord.user_id, AttendanceRecord.status)).all())
    assert marks == {a.id: "present", b.id: "excused"}


def test_conflict_page_names_statuses_in_vietnamese(client, db, programme, login_as):
    session = factories.the_session(programme)
    official = factories.make_user("official", unit_code="D217-03", full_name="Hoàng Văn Tự")
    check_in(session.checkin_code, official)
    db.session.commit()
    login_as("trainer")
    page = client.post(f"/sessions/{session.id}/roll-call", data={f"status-{official.id}": "absent"})
    text = page.get_data(as_text=True)
    assert "đã tự điểm danh là “Có mặt”; kết quả mới là “Vắng”" in text
    assert db.session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.user_id == official.id)) == "present"
    client.post(f"/sessions/{session.id}/roll-call", data={f"status-{official.id}": "absent", "override": str(official.id)})
    db.session.expire_all()
    assert db.session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.user_id == official.id)) == "absent"


def test_sheet_import_dry_run_lists_bad_rows(db, programme):
    session = factories.the_session(programme)
    factories.make_user("official", unit_code="D217-01", username="cb-a")
    factories.make_user("official", unit_code="D213-01", username="cb-ngoai")
    sheet = "username,status,note\ncb-a,có mặt,\ncb-ngoai,present,\ncb-khong-co,present,\ncb-a,vắng,\n,lạ,\n"
    plan = plan_sheet_import(session, sheet.encode(), "ds.csv")
    assert [line for line, _ in plan.problems] == [3, 4, 5, 6]
    with pytest.raises(AttendanceError):
        apply_sheet(session, plan, factories.make_user("trainer"))
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0


def test_sheet_import_xlsx(db, programme):
    from openpyxl import Workbook
    session = factories.the_session(programme)
    a = factories.make_user("official", unit_code="D217-01", username="cb-a")
    b = factories.make_user("official", unit_code="D217-02", username="cb-b")
    wb = Workbook()
    ws = wb.active
    ws.append(["Tên đăng nhập", "Trạng thái", "Ghi chú"])
    ws.append(["cb-a", "muộn", "kẹt xe"])
    ws.append(["CB-B", "absent", None])
    data = io.BytesIO()
    wb.save(data)
    plan = plan_sheet_import(session, data.getvalue(), "ky-ten.xlsx")
    assert plan.problems == []
    apply_sheet(session, plan, factories.make_user("trainer"))
    db.session.commit()
    marks = dict(db.session.execute(select(AttendanceRecord.user_id, AttendanceRecord.status)).all())
    assert marks == {a.id: "late", b.id: "absent"}


def test_check_in_code_page_shows_the_code_and_a_projector_sized_qr(client, db, programme, login_as):
    session = factories.the_session(programme)
    login_as("trainer")
    page = client.get(f"/sessions/{session.id}/code").get_data(as_text=True)
    assert session.checkin_code in page and "/check-in" in page
    svg = re.search(r"<svg[^>]*>", page).group(0)
    # Scales with the screen (a viewBox, no fixed size) and keeps the standard 4-module quiet zone.
    assert "viewBox" in svg and 'width="' not in svg
    side = int(re.search(r'viewBox="0 0 (\d+)', svg).group(1))
    assert side % 3 == 0 and (side // 3 - 8) % 4 == 1  # QR sides are 4k+17 modules, plus 2×4 border


def test_trainer_creates_a_session_and_bad_times_are_explained(client, db, programme, login_as):
    login_as("trainer")
    district = factories.unit("217")
    page = client.post(f"/programmes/{programme.code}/sessions/new", data={
        "title": "Hội nghị", "unit": str(district.id), "starts_at": "2026-12-01T08:00",
        "ends_at": "2026-12-01T07:00", "grace_minutes": "30"}).get_data(as_text=True)
    assert re.search(r'id="ends_at-error">[^<]*kết thúc phải sau giờ bắt đầu', page)
    page = client.post(f"/programmes/{programme.code}/sessions/new", data={
        "title": "Hội nghị", "unit": str(district.id), "starts_at": "mai", "ends_at": "",
        "grace_minutes": "-5"}).get_data(as_text=True)
    assert 'id="starts_at-error"' in page and 'id="ends_at-error"' in page and 'id="grace_minutes-error"' in page
    response = client.post(f"/programmes/{programme.code}/sessions/new", data={
        "title": "Hội nghị tập huấn lần 2", "unit": str(district.id), "venue": "Hội trường xã",
        "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T11:30", "trainer": "0", "grace_minutes": "20"})
    assert "/sessions/" in response.headers["Location"]
    from learnhub.attendance.models import TrainingSession
    created = db.session.scalar(select(TrainingSession).where(TrainingSession.title == "Hội nghị tập huấn lần 2"))
    assert created.starts_at.hour == 1 and created.grace_minutes == 20  # 08:00 in Vietnam is 01:00 UTC


def test_check_in_guesses_are_limited_per_account_not_per_hall(app, client, db, programme, login_as):
    """Guessing session codes is slowed for each account; a hall of officials behind one
    address still checks in."""
    from learnhub.extensions import limiter
    session = factories.the_session(programme)
    default = app.config["RATELIMIT_CHECKIN"]
    app.config["RATELIMIT_CHECKIN"] = "5 per minute"
    try:
        login_as("official", unit_code="D217-03")
        codes = [client.post("/check-in", data={"code": f"ZZZZ{i:02d}"}).status_code for i in range(5)]
        blocked = client.post("/check-in", data={"code": session.checkin_code})
        neighbour = app.test_client()
        other = factories.make_user("official", unit_code="D217-04")
        neighbour.post("/login", data={"username": other.username, "password": factories.PASSWORD})
        response = neighbour.post("/check-in", data={"code": session.checkin_code}, follow_redirects=True)
    finally:
        app.config["RATELIMIT_CHECKIN"] = default
        limiter.reset()
    assert 429 not in codes
    assert blocked.status_code == 429 and "Hãy chờ một phút" in blocked.get_data(as_text=True)
    assert "Bạn đã điểm danh" in response.get_data(as_text=True)
