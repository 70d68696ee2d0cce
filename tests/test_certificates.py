"""Programmes, attendance three ways, automatic certificates, verification, Open Badges, audit."""
import io
import json
import re
import threading
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from learnhub.attendance.models import AttendanceRecord
from learnhub.attendance.services import (
    AttendanceError, apply_sheet, check_in, create_programme, create_session, enrolled_officials, mark,
    plan_sheet_import, roll_call,
)
from learnhub.audit.models import AuditEntry
from learnhub.audit.services import verify_chain
from learnhub.catalog.models import Lesson
from learnhub.catalog.services import course_by_slug, mark_lesson_done, sync_content
from learnhub.certificates.models import Certificate
from learnhub.certificates.services import active_certificate, issue, revoke
from learnhub.models_base import utcnow
from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.services import finish_attempt, quiz_for, save_answers, start_attempt

from . import factories


@pytest.fixture
def programme(app, db, units):
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    trainer = factories.make_user("trainer", username="giangvien")
    p = create_programme(code="iso-2021-xa", title="Tập huấn ISO 2021 — cấp xã", description="",
                         courses=[course_by_slug("iso-co-ban")], target_units=[factories.unit("217")],
                         requires_attendance=True, deadline=None, validity_months=24,
                         issuer_name="Ban Chỉ đạo ISO tỉnh Bắc Giang", by=trainer)
    now = utcnow()
    create_session(p, title="Hội nghị tập huấn huyện Lạng Giang", unit=factories.unit("217"),
                             venue="Hội trường UBND huyện", starts_at=now - timedelta(minutes=10),
                             ends_at=now + timedelta(hours=3), trainer=trainer)
    db.session.commit()
    return p


def complete_course(db, user, seed=1):
    course = course_by_slug("iso-co-ban")
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)):
        mark_lesson_done(user.id, lesson)
    quiz = quiz_for(course)
    attempt = start_attempt(user.id, quiz, seed=seed)
    save_answers(attempt, answer_form(attempt))
    finish_attempt(attempt)
    for answer in attempt.answers:
        if answer.needs_grading:
            from learnhub.quizzes.services import grade_essay
            grade_essay(answer, 1.0, "", user.id)


def the_session(db, programme):
    from learnhub.attendance.models import TrainingSession
    return db.session.scalar(select(TrainingSession).where(TrainingSession.programme_id == programme.id))


def test_enrolment_follows_the_unit_tree_including_new_officials(db, programme):
    inside = factories.make_user("official", unit_code="D217-02")
    outside = factories.make_user("official", unit_code="D213-01")
    later = factories.make_user("official", unit_code="D217-05")
    ids = set(db.session.scalars(select(enrolled_officials(programme).subquery().c.id)))
    assert inside.id in ids and later.id in ids and outside.id not in ids


def test_certificate_issued_in_the_transaction_that_completes_the_rule(db, programme):
    official = factories.make_user("official", unit_code="D217-01")
    session = the_session(db, programme)
    complete_course(db, official)
    db.session.commit()
    assert active_certificate(official.id, programme.id) is None  # attendance still missing
    trainer = factories.make_user("trainer")
    mark(session, official, "present", by=trainer, source="roll_call")
    # Not committed yet: the certificate is already part of the same transaction.
    cert = active_certificate(official.id, programme.id)
    assert cert is not None and cert.issued_by_id is None
    db.session.rollback()
    assert active_certificate(official.id, programme.id) is None
    assert db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.user_id == official.id)) is None


def test_snapshot_and_expiry(db, programme):
    official = factories.make_user("official", unit_code="D217-01", full_name="Nguyễn Thị Hoà", position="Công chức Tư pháp - hộ tịch")
    mark(the_session(db, programme), official, "present", by=None, source="roll_call")
    complete_course(db, official)
    db.session.commit()
    cert = active_certificate(official.id, programme.id)
    assert cert.snapshot["name"] == "Nguyễn Thị Hoà"
    assert cert.snapshot["unit"].startswith("Thị trấn Vôi, Huyện Lạng Giang")
    assert cert.snapshot["modules"][0]["score"] == 100.0
    assert (cert.expires_at - cert.issued_at).days in range(729, 733)
    assert re.fullmatch(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){3}", cert.code)


def test_one_active_certificate_even_under_concurrent_issue(app, db, programme):
    official = factories.make_user("official", unit_code="D217-01")
    programme_id, user_id = programme.id, official.id
    results = []

    def go():
        with app.test_request_context():
            from learnhub.attendance.models import TrainingProgramme
            from learnhub.auth.models import User
            from learnhub.extensions import db as tdb
            try:
                cert = issue(tdb.session.get(User, user_id), tdb.session.get(TrainingProgramme, programme_id))
                tdb.session.commit()
                results.append(cert.code)
            except Exception as exc:  # a lost race must surface as the other's certificate, not an error
                tdb.session.rollback()
                results.append(repr(exc))
            finally:
                tdb.session.remove()

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    active = db.session.scalar(select(func.count()).select_from(Certificate).where(
        Certificate.user_id == user_id, Certificate.revoked_at.is_(None)))
    assert active == 1
    assert sum(1 for r in results if r.startswith("IntegrityError") or "Error" in r) <= len(results) - 1


def test_self_check_in_window_once_and_typed_code(client, db, programme, login_as):
    session = the_session(db, programme)
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
    session = the_session(db, programme)
    official = factories.make_user("official", unit_code="D217-03")
    with pytest.raises(AttendanceError):
        check_in(session.checkin_code, official, now=session.ends_at + timedelta(minutes=31))
    with pytest.raises(AttendanceError):
        check_in(session.checkin_code, official, now=session.starts_at - timedelta(minutes=31))
    check_in(session.checkin_code, official, now=session.starts_at + timedelta(minutes=45))
    assert db.session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.user_id == official.id)) == "late"


def test_bulk_mark_never_silently_overwrites_a_check_in(db, programme):
    session = the_session(db, programme)
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
    session = the_session(db, programme)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Thị trấn Vôi" in page and "Xã Tiên Lục" in page and "Người Thành Phố" not in page
    client.post(f"/sessions/{session.id}/roll-call", data={f"status-{a.id}": "present", f"status-{b.id}": "excused",
                                                         f"note-{b.id}": "đi công tác"})
    marks = dict(db.session.execute(select(AttendanceRecord.user_id, AttendanceRecord.status)).all())
    assert marks == {a.id: "present", b.id: "excused"}


def test_sheet_import_dry_run_lists_bad_rows(db, programme):
    session = the_session(db, programme)
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
    session = the_session(db, programme)
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


def pdf_objects(data: bytes) -> bytes:
    """The PDF with its compressed streams expanded, to look for page size and fonts."""
    import zlib
    parts = [data]
    # A stream's last byte may itself be CR or LF, so take everything up to "endstream" and
    # let the decompressor stop at the end of the zlib data.
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            parts.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(parts)


def _certified(db, programme, **kwargs):
    official = factories.make_user("official", unit_code="D217-01", **kwargs)
    mark(the_session(db, programme), official, "present", by=None, source="roll_call")
    complete_course(db, official)
    db.session.commit()
    return official, active_certificate(official.id, programme.id)


def test_verify_page_valid_revoked_expired_unknown(client, db, programme):
    official, cert = _certified(db, programme, full_name="Phạm Văn Kiểm", email="kiem@example.vn", phone="0912345678",
                                position="Phó Chủ tịch UBND")
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Còn hiệu lực" in page and "Phạm Văn Kiểm" in page and "Tập huấn ISO 2021" in page
    assert 'rel="alternate" type="application/ld+json"' in page
    for private in ("kiem@example.vn", "0912345678", official.username, "Phó Chủ tịch"):
        assert private not in page
    revoke(cert, factories.make_user("admin"), "Cấp nhầm người")
    db.session.commit()
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Đã thu hồi ngày" in page
    cert.revoked_at, cert.expires_at = None, utcnow() - timedelta(days=1)
    db.session.commit()
    assert "Hết hạn ngày" in client.get(f"/verify/{cert.code}").get_data(as_text=True)
    unknown = client.get("/verify/AAAAA-BBBBB-CCCCC-DDDDD")
    assert unknown.status_code == 404 and "Không có chứng nhận nào mang mã" in unknown.get_data(as_text=True)


def test_open_badges_documents(client, db, programme):
    official, cert = _certified(db, programme, email="Hoa@Example.vn")
    response = client.get(f"/badges/assertions/{cert.code}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/ld+json")
    assertion = response.get_json(force=True)
    assert assertion["@context"] == "https://w3id.org/openbadges/v2" and assertion["type"] == "Assertion"
    assert assertion["id"].endswith(f"/badges/assertions/{cert.code}")
    assert assertion["verification"] == {"type": "HostedBadge"}
    import hashlib
    recipient = assertion["recipient"]
    assert recipient["hashed"] is True and recipient["type"] == "email"
    assert recipient["identity"] == "sha256$" + hashlib.sha256(("hoa@example.vn" + recipient["salt"]).encode()).hexdigest()
    assert "Hoa@Example" not in json.dumps(assertion)
    badge = client.get(assertion["badge"].replace("http://localhost", "")).get_json(force=True)
    assert badge["type"] == "BadgeClass" and badge["name"] == "Tập huấn ISO 2021 — cấp xã"
    assert client.get(badge["image"].replace("http://localhost", "")).mimetype == "image/svg+xml"
    issuer = client.get(badge["issuer"].replace("http://localhost", "")).get_json(force=True)
    assert issuer["type"] == "Issuer" and issuer["revocationList"].endswith("/badges/revocations")
    revoke(cert, factories.make_user("admin"), "Gian lận khi làm bài")
    db.session.commit()
    gone = client.get(f"/badges/assertions/{cert.code}")
    assert gone.status_code == 410 and gone.get_json(force=True)["revoked"] is True
    revoked = client.get("/badges/revocations").get_json(force=True)
    assert revoked["revokedAssertions"] == [{"id": assertion["id"], "revocationReason": "Gian lận khi làm bài"}]


def test_pdf_zip_and_record(client, db, programme, login_as):
    official, cert = _certified(db, programme, full_name="Đặng Thị Ngọc Ánh")
    client.post("/login", data={"username": official.username, "password": factories.PASSWORD})
    pdf = client.get(f"/certificates/{cert.code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    content = pdf_objects(pdf.data)
    assert re.search(rb"/MediaBox \[0 0 841\.\d+ 595\.\d+\]", content)  # A4 landscape
    assert re.search(rb"/BaseFont /\w+\+DejaVu-Sans", content) and b"/ToUnicode" in content
    record = client.get("/my/record.pdf")
    assert record.status_code == 200 and record.data.startswith(b"%PDF")
    client.post("/logout")
    login_as("official", unit_code="D217-02")
    assert client.get(f"/certificates/{cert.code}.pdf").status_code == 404
    client.post("/logout")
    login_as("committee", unit_code="217")
    archive = client.get(f"/programmes/{programme.code}/units/{factories.unit('D217-01').id}/certificates.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert names == [f"{official.username}-{programme.code}-{cert.code}.pdf"]


def test_certificates_cli(app, db, programme):
    official, cert = _certified(db, programme)
    revoked_official, revoked_cert = _certified(db, programme)
    revoke(revoked_cert, factories.make_user("admin"), "Sai sót")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["learnhub", "certificates", "--json"])
    rows = {r["code"]: r for r in json.loads(result.output)}
    assert rows[cert.code]["status"] == "valid" and rows[revoked_cert.code]["status"] == "revoked"
    assert rows[cert.code]["holder"] == official.full_name and rows[cert.code]["programme"] == programme.code


def test_audit_chain_detects_a_tampered_row(app, db, programme):
    official, cert = _certified(db, programme)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["learnhub", "audit-verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert {"attendance.mark", "quiz.result", "certificate.issue"} <= set(actions)
    target = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.mark"))
    db.session.execute(text("UPDATE audit_entry SET data = :d WHERE id = :i"),
                       {"d": json.dumps({"status": "absent"}), "i": target.id})
    db.session.commit()
    bad = runner.invoke(args=["learnhub", "audit-verify"])
    assert bad.exit_code == 1 and f"entry {target.id}" in bad.output
    db.session.expire_all()
    assert verify_chain().broken_id == target.id


def test_officials_cannot_manage_programmes(client, programme, login_as):
    login_as("official")
    assert client.get("/programmes").status_code == 403
    assert client.get(f"/programmes/{programme.code}/certificates").status_code == 403


def test_conflict_page_names_statuses_in_vietnamese(client, db, programme, login_as):
    session = the_session(db, programme)
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
