"""Programmes, attendance three ways, automatic certificates, verification, Open Badges, audit."""
import hashlib
import io
import json
import re
import threading
import zipfile
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select, text

from learnhub.attendance.models import AttendanceRecord
from learnhub.attendance.services import (
    AttendanceError, apply_sheet, check_in, create_session, mark, plan_sheet_import, roll_call,
)
from learnhub.programmes.services import create_programme, enrolled_officials
from learnhub.audit.models import AuditEntry
from learnhub.audit.services import verify_chain
from learnhub.catalog.models import Lesson
from learnhub.catalog.services import course_by_slug, mark_lesson_done
from learnhub.materials.sync import sync_content
from learnhub.certificates.models import Certificate
from learnhub.certificates.services import active_certificate, issue, revoke
from learnhub.models_base import utcnow
from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.attempts import finish_attempt, quiz_for, save_answers, start_attempt

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
    save_answers(attempt.id, answer_form(attempt))
    finish_attempt(attempt)
    for answer in attempt.answers:
        if answer.needs_grading:
            from learnhub.quizzes.attempts import grade_essay
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
    official = factories.make_user("official", unit_code="D217-01", full_name="Nguyễn Thị Hòa", position="Công chức Tư pháp - hộ tịch")
    mark(the_session(db, programme), official, "present", by=None, source="roll_call")
    complete_course(db, official)
    db.session.commit()
    cert = active_certificate(official.id, programme.id)
    assert cert.snapshot["name"] == "Nguyễn Thị Hòa"
    assert cert.snapshot["unit"].startswith("Thị trấn Vôi, Huyện Lạng Giang")
    assert cert.snapshot["modules"][0]["score"] == 100.0
    assert (cert.expires_at - cert.issued_at).days in range(729, 733)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}", cert.code)  # Crockford Base32


def test_one_active_certificate_even_under_concurrent_issue(app, db, programme):
    official = factories.make_user("official", unit_code="D217-01")
    programme_id, user_id = programme.id, official.id
    results = []

    def go():
        with app.test_request_context():
            from learnhub.programmes.models import TrainingProgramme
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
    code = db.session.scalar(select(Certificate.code).where(Certificate.user_id == user_id))
    assert results == [code] * 6  # every request, winner or loser, answers with the one certificate


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


OB_CONTEXT = "https://w3id.org/openbadges/v2"
# OB 2.0 DateTime: ISO 8601 with a time zone indicator (the validator's own rule).
OB_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def _local(url: str) -> str:
    assert url.startswith("http://localhost/"), url  # absolute HTTP ids on the app's own origin
    return url[len("http://localhost"):]


def _badge_json(client, url: str, status: int = 200, accept: str | None = None) -> dict:
    response = client.get(_local(url), headers={"Accept": accept} if accept else {})
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = json.loads(response.get_data(as_text=True))
    assert data["@context"] == OB_CONTEXT
    assert data["id"] == url  # each Badge Object is served at its own id
    return data


def test_open_badges_hosted_assertion_badgeclass_issuer(client, db, programme):
    official, cert = _certified(db, programme, email="Hoa@Example.vn")
    url = f"http://localhost/badges/assertions/{cert.code}"
    # What a validator asks for first.
    assertion = _badge_json(client, url, accept="application/ld+json, application/json, image/png, image/svg+xml")
    assert assertion["type"] == "Assertion"
    assert assertion["verification"] == {"type": "HostedBadge"}
    assert OB_DATETIME.match(assertion["issuedOn"]) and OB_DATETIME.match(assertion["expires"])
    issued, expires = (datetime.fromisoformat(assertion[k]) for k in ("issuedOn", "expires"))
    assert issued.utcoffset() == timedelta(0) and issued <= utcnow() < expires
    assert issued == cert.issued_at.replace(microsecond=0)
    assert "revoked" not in assertion and "revocationReason" not in assertion
    recipient = assertion["recipient"]
    assert recipient["hashed"] is True and recipient["type"] == "email" and isinstance(recipient["salt"], str)
    assert re.fullmatch(r"sha256\$[0-9a-f]{64}", recipient["identity"])
    assert recipient["identity"] == "sha256$" + hashlib.sha256(("hoa@example.vn" + recipient["salt"]).encode()).hexdigest()
    assert "hoa@example" not in json.dumps(assertion).lower()
    assert isinstance(assertion["evidence"], str) and _local(assertion["evidence"]) == f"/verify/{cert.code}"

    badge = _badge_json(client, assertion["badge"])
    assert badge["type"] == "BadgeClass" and badge["name"] == "Tập huấn ISO 2021 — cấp xã"
    assert isinstance(badge["description"], str) and badge["description"]
    assert isinstance(badge["criteria"], dict) and "ISO cơ bản (khóa thử)" in badge["criteria"]["narrative"]

    image = client.get(_local(badge["image"]))
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert image.headers["Access-Control-Allow-Origin"] == "*"
    svg = ElementTree.fromstring(image.data)  # well-formed XML, an SVG root
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox")

    issuer = _badge_json(client, badge["issuer"])
    assert issuer["type"] == "Issuer" and issuer["name"] and issuer["url"].startswith("http")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+", issuer["email"])  # required of an issuer Profile
    # Hosted verification: the assertion lives on the issuer id's origin.
    assert urlsplit(assertion["id"]).netloc == urlsplit(issuer["id"]).netloc
    revocations = _badge_json(client, issuer["revocationList"])
    assert revocations == {"@context": OB_CONTEXT, "type": "RevocationList", "id": issuer["revocationList"],
                           "issuer": issuer["id"], "revokedAssertions": []}


def test_revoked_hosted_assertion_is_gone_and_listed(client, db, programme):
    official, cert = _certified(db, programme, email="hoa@example.vn")
    url = f"http://localhost/badges/assertions/{cert.code}"
    before = _badge_json(client, url)
    revoke(cert, factories.make_user("admin"), "Gian lận khi làm bài")
    db.session.commit()
    # OB 2.0 "Revoking Hosted Assertions": 410 Gone, the body saying revoked (and why).
    gone = _badge_json(client, url, status=410)
    assert gone["revoked"] is True and gone["revocationReason"] == "Gian lận khi làm bài"
    # Still a complete, valid Assertion otherwise.
    assert {k: v for k, v in gone.items() if k not in ("revoked", "revocationReason")} == before
    revoked = _badge_json(client, "http://localhost/badges/revocations")
    assert revoked["revokedAssertions"] == [{"id": url, "revocationReason": "Gian lận khi làm bài"}]


def test_badge_json_content_negotiation_redirect_and_unknown(client, db, programme):
    official, cert = _certified(db, programme)
    path = f"/badges/assertions/{cert.code}"
    for endpoint in (path, f"/badges/programmes/{programme.code}", "/badges/issuer", "/badges/revocations"):
        default = client.get(endpoint)
        assert default.mimetype == "application/ld+json" and "Accept" in default.headers["Vary"]
        plain = client.get(endpoint, headers={"Accept": "application/json"})  # asks for JSON only
        assert plain.mimetype == "application/json" and plain.headers["Access-Control-Allow-Origin"] == "*"
        assert plain.get_json() == default.get_json(force=True)
    # Another spelling of the code is sent to the Assertion's id.
    moved = client.get(path.lower())
    assert moved.status_code == 301 and moved.headers["Location"].endswith(path)
    assert moved.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/badges/assertions/AAAAA-BBBBB-CCCCC-DDDDD").status_code == 404
    assert client.get("/badges/programmes/khong-co").status_code == 404


def test_issuer_email_and_timestamps(app, client):
    from learnhub.certificates.documents import iso_datetime
    assert iso_datetime(datetime(2026, 11, 24, 10, 0, 0, 123456)) == "2026-11-24T10:00:00+00:00"  # naive is UTC
    assert iso_datetime(datetime(2026, 11, 24, 17, 0, tzinfo=timezone(timedelta(hours=7)))) == "2026-11-24T10:00:00+00:00"
    saved = app.config["ISSUER_EMAIL"]
    try:
        app.config["ISSUER_EMAIL"] = ""
        assert client.get("/badges/issuer").get_json(force=True)["email"] == "contact@localhost"
        app.config["ISSUER_EMAIL"] = "iso@bacgiang.gov.vn"
        assert client.get("/badges/issuer").get_json(force=True)["email"] == "iso@bacgiang.gov.vn"
    finally:
        app.config["ISSUER_EMAIL"] = saved


def test_verify_page_links_the_hosted_assertion(client, db, programme):
    official, cert = _certified(db, programme)
    page = client.get(f"/verify/{cert.code.lower()}").get_data(as_text=True)
    link = re.search(r'<link rel="alternate" type="application/ld\+json" href="([^"]+)">', page)
    assert link and link.group(1) == f"http://localhost/badges/assertions/{cert.code}"
    assert "<link rel=\"alternate\"" not in client.get("/verify/AAAAA-BBBBB-CCCCC-DDDDD").get_data(as_text=True)


def test_pdf_zip_and_record(client, db, programme, login_as):
    official, cert = _certified(db, programme, full_name="Đặng Thị Ngọc Ánh")
    client.post("/login", data={"username": official.username, "password": factories.PASSWORD})
    pdf = client.get(f"/certificates/{cert.code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    content = pdf_objects(pdf.data)
    assert re.search(rb"/MediaBox \[0 0 841\.\d+ 595\.\d+\]", content)  # A4 landscape
    assert re.search(rb"/BaseFont /\w+\+DejaVu-Sans", content) and b"/ToUnicode" in content
    assert len(re.findall(rb"/Type\s*/Page\b", content)) == 1  # one page, nothing spilled over
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


def test_certificate_pdf_layout_holds_on_one_page(app, db, programme):
    from flask import render_template

    from learnhub.certificates import documents
    official, cert = _certified(db, programme, full_name="Nguyễn Thị Phương Huyền Trang",
                                position="Phó Chủ tịch Ủy ban nhân dân")
    with app.test_request_context(base_url="https://learnhub.example.vn"):
        url = documents.verify_url(cert)
        html = render_template("certificates/pdf.html", cert=cert, snap=cert.snapshot, verify_url=url,
                               qr=documents.qr_svg(url))
        assert url == f"https://learnhub.example.vn/verify/{cert.code}" and url in html
        assert "<svg" in html and "Nguyễn Thị Phương Huyền Trang" in html and "Phó Chủ tịch" in html
        assert "100%" in html and "Ban Chỉ đạo ISO tỉnh Bắc Giang" in html
        for count in (1, 8, 14, 24):  # however many modules, the certificate stays one page
            cert.snapshot = dict(cert.snapshot, modules=[
                {"title": f"Học phần {i + 1}: hệ thống quản lý chất lượng theo TCVN ISO 9001:2015", "score": 87.5}
                for i in range(count)])
            content = pdf_objects(documents.certificate_pdf(cert))
            assert len(re.findall(rb"/Type\s*/Page\b", content)) == 1, count
            assert re.search(rb"/MediaBox \[0 0 841\.\d+ 595\.\d+\]", content)
    db.session.rollback()


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


def test_assertion_keeps_the_recipient_it_was_issued_to(client, db, programme):
    official, cert = _certified(db, programme, email="lan@example.vn")
    before = client.get(f"/badges/assertions/{cert.code}").get_json(force=True)["recipient"]
    official.email = "lan.moi@example.vn"
    db.session.commit()
    after = client.get(f"/badges/assertions/{cert.code}").get_json(force=True)["recipient"]
    assert after == before
    assert after["identity"] == "sha256$" + hashlib.sha256(("lan@example.vn" + after["salt"]).encode()).hexdigest()


def test_behind_a_proxy_badge_ids_use_the_public_address(app):
    from learnhub import create_app
    proxied = create_app({**app.config, "PROXY_FIX": True})
    issuer = proxied.test_client().get("/badges/issuer", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "iso.bacgiang.gov.vn"}).get_json(force=True)
    assert issuer["id"] == "https://iso.bacgiang.gov.vn/badges/issuer"
    assert issuer["revocationList"] == "https://iso.bacgiang.gov.vn/badges/revocations"


def test_check_in_code_page_shows_the_code_and_a_projector_sized_qr(client, db, programme, login_as):
    session = the_session(db, programme)
    login_as("trainer")
    page = client.get(f"/sessions/{session.id}/code").get_data(as_text=True)
    assert session.checkin_code in page and "/check-in" in page
    svg = re.search(r"<svg[^>]*>", page).group(0)
    # Scales with the screen (a viewBox, no fixed size) and keeps the standard 4-module quiet zone.
    assert "viewBox" in svg and 'width="' not in svg
    side = int(re.search(r'viewBox="0 0 (\d+)', svg).group(1))
    assert side % 3 == 0 and (side // 3 - 8) % 4 == 1  # QR sides are 4k+17 modules, plus 2×4 border


def test_trainer_creates_a_programme_and_bad_input_is_explained_by_each_field(client, db, programme, login_as):
    login_as("trainer")
    course = course_by_slug("iso-co-ban")
    district = factories.unit("218")
    page = client.post("/programmes/new", data={
        "title": "", "code": "Tập huấn!", "validity_months": "mười", "deadline": "31/12/2026"}).get_data(as_text=True)
    for field, message in (("title", "Hãy nhập tên."), ("code", "Dùng từ 2 đến 60 chữ cái không dấu"),
                           ("courses", "Hãy chọn ít nhất một khóa học bắt buộc."),
                           ("units", "Hãy chọn ít nhất một đơn vị áp dụng."),
                           ("validity_months", "Hãy nhập một số nguyên."), ("deadline", "Ngày không hợp lệ.")):
        error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
        assert error and message in error.group(1), field
    assert "Not a valid" not in page
    taken = client.post("/programmes/new", data={
        "title": "Khác", "code": programme.code, "courses": str(course.id), "units": str(district.id),
        "validity_months": "12"}).get_data(as_text=True)
    assert re.search(r'id="code-error">[^<]*đã được dùng', taken)
    response = client.post("/programmes/new", data={
        "title": "Tập huấn ISO 2022 — Hiệp Hòa", "code": "iso-2022-hh", "courses": str(course.id),
        "units": str(district.id), "requires_attendance": "y", "deadline": "2026-12-31", "validity_months": "24",
        "issuer_name": "Ban Chỉ đạo ISO tỉnh"})
    assert response.headers["Location"].endswith("/programmes/iso-2022-hh")
    from learnhub.programmes.models import TrainingProgramme
    created = db.session.scalar(select(TrainingProgramme).where(TrainingProgramme.code == "iso-2022-hh"))
    assert [c.slug for c in created.courses] == ["iso-co-ban"] and [u.code for u in created.target_units] == ["218"]
    assert created.validity_months == 24 and str(created.deadline) == "2026-12-31"


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
