"""Certificates people can trust: issued only by the rule (or an explicit override),
revoked ones that look revoked, no private text in public JSON, addresses that a
forged Host cannot change, codes typed by hand. The attack first, then the answer."""
from __future__ import annotations

import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from learnhub import create_app
from learnhub.audit.models import AuditEntry
from learnhub.catalog.models import Lesson
from learnhub.catalog.services import course_by_slug, mark_lesson_done
from learnhub.certificates.models import Certificate
from learnhub.certificates.services import active_certificate, revoke

from . import factories


def _part_way(db, unit_code="D217-01", **kwargs):
    """An official with 2 lessons of the course done, no attendance, no quiz."""
    official = factories.make_user("official", unit_code=unit_code, **kwargs)
    course = course_by_slug("iso-co-ban")
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).limit(2)):
        mark_lesson_done(official.id, lesson)
    db.session.commit()
    return official


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_trainer_cannot_issue_to_someone_who_has_not_met_the_rule(client, db, programme, login_as):
    login_as("trainer")
    official = _part_way(db, full_name="Lê Văn Dở Dang")
    response = client.post(f"/programmes/{programme.code}/certificates/issue", data={"user": [official.id]})
    page = response.get_data(as_text=True)
    assert active_certificate(official.id, programme.id) is None
    assert "Chưa cấp: các cán bộ sau chưa đáp ứng điều kiện" in page
    assert "Lê Văn Dở Dang" in page and "chưa tham dự hội nghị" in page and "chưa hoàn thành khóa học" in page


def test_an_override_needs_a_written_reason(client, db, programme, login_as):
    login_as("trainer")
    official = _part_way(db)
    response = client.post(f"/programmes/{programme.code}/certificates/issue",
                           data={"user": [official.id], "override": "1", "override_reason": "  "})
    assert response.status_code == 400
    assert "phải ghi lý do" in response.get_data(as_text=True)
    assert active_certificate(official.id, programme.id) is None


def test_an_override_with_a_reason_is_kept_shown_and_logged(client, db, programme, login_as):
    trainer = login_as("trainer")
    official = _part_way(db, full_name="Trần Thị Ngoại Lệ")
    reason = "Đã học trực tiếp lớp bồi dưỡng tháng 10, hồ sơ số 15/BC"
    client.post(f"/programmes/{programme.code}/certificates/issue",
                data={"user": [official.id], "override": "1", "override_reason": reason})
    cert = active_certificate(official.id, programme.id)
    assert cert is not None and cert.override_reason == reason and cert.issued_by_id == trainer.id
    page = client.get(f"/programmes/{programme.code}/certificates").get_data(as_text=True)
    assert "Cấp ngoại lệ:" in page and reason in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate.issue",
                                                       AuditEntry.subject_id == official.id))
    assert entry.actor_id == trainer.id and entry.data["override_reason"] == reason


def test_batch_issue_issues_to_the_eligible_and_lists_the_rest(client, db, programme, login_as):
    login_as("trainer")
    done, _cert = factories.certified(programme)
    revoke(_cert, factories.make_user("admin"), "thử lại")  # eligible again, without a certificate
    db.session.commit()
    behind = _part_way(db, full_name="Người Chưa Xong")
    page = client.post(f"/programmes/{programme.code}/certificates/issue",
                       data={"user": [done.id, behind.id]}).get_data(as_text=True)
    assert active_certificate(done.id, programme.id) is not None
    assert active_certificate(behind.id, programme.id) is None
    assert "Đã cấp 1 giấy chứng nhận." in page
    assert "Người Chưa Xong" in page


def test_a_revoked_pdf_says_revoked_and_claims_no_validity(client, db, programme, login_as):
    official, cert = factories.certified(programme)
    client.post("/login", data={"username": official.username, "password": factories.PASSWORD})
    valid = _pdf_text(client.get(f"/certificates/{cert.code}.pdf").data)
    assert "Có giá trị đến" in valid and "THU HỒI" not in valid
    revoke(cert, factories.make_user("admin"), "Cấp nhầm")
    db.session.commit()
    revoked = _pdf_text(client.get(f"/certificates/{cert.code}.pdf").data)
    assert "ĐÃ THU HỒI" in revoked and "REVOKED" in revoked
    assert cert.revoked_at.astimezone().strftime("%Y") in revoked
    assert "Có giá trị đến" not in revoked and "đã hoàn thành chương trình" not in revoked


def test_the_verify_page_of_a_revoked_code_claims_no_validity(client, db, programme):
    _official, cert = factories.certified(programme)
    assert "Có giá trị đến" in client.get(f"/verify/{cert.code}").get_data(as_text=True)
    revoke(cert, factories.make_user("admin"), "Cấp nhầm")
    db.session.commit()
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Đã thu hồi ngày" in page and "Có giá trị đến" not in page


def test_the_trainers_list_keeps_a_revoked_certificate_with_reason_and_date(client, db, programme, login_as):
    login_as("trainer")
    official, cert = factories.certified(programme)
    client.post(f"/certificates/{cert.code}/revoke", data={"reason": "Hồ sơ tham dự bị ghi nhầm"})
    page = client.get(f"/programmes/{programme.code}/certificates").get_data(as_text=True)
    assert cert.code in page and "Hồ sơ tham dự bị ghi nhầm" in page and "Đã thu hồi ngày" in page


def test_public_json_carries_no_reason_written_about_a_person(client, db, programme):
    _official, cert = factories.certified(programme)
    revoke(cert, factories.make_user("admin"), "cán bộ đã chuyển công tác sang huyện khác")
    db.session.commit()
    for url in (f"/badges/assertions/{cert.code}", "/badges/revocations"):
        body = json.dumps(client.get(url).get_json(force=True), ensure_ascii=False)
        assert "chuyển công tác" not in body and "revoked" in body.lower()


def test_a_forged_host_header_cannot_change_badge_addresses(app, db, programme):
    _official, cert = factories.certified(programme)
    pinned = create_app({**app.config, "INSTANCE_PATH": app.instance_path,
                         "BASE_URL": "https://iso.bacgiang.gov.vn"})
    client = pinned.test_client()
    forged = {"Host": "evil.example"}
    assertion = client.get(f"/badges/assertions/{cert.code}", headers=forged).get_json(force=True)
    issuer = client.get("/badges/issuer", headers=forged).get_json(force=True)
    assert assertion["id"] == f"https://iso.bacgiang.gov.vn/badges/assertions/{cert.code}"
    assert issuer["revocationList"] == "https://iso.bacgiang.gov.vn/badges/revocations"
    assert "evil.example" not in json.dumps(assertion) + json.dumps(issuer)
    page = client.get(f"/verify/{cert.code}", headers=forged).get_data(as_text=True)
    assert "evil.example" not in page


def test_codes_typed_by_hand_are_found(client, db, programme):
    _official, cert = factories.certified(programme)
    code = cert.code
    raw = code.replace("-", "")
    looks = raw.replace("0", "O").replace("1", "l")
    for typed in (code.lower(), raw, raw.lower(), " ".join(code.split("-")), looks, looks.lower(),
                  raw.replace("1", "I")):
        response = client.get("/verify", query_string={"code": typed}, follow_redirects=True)
        assert response.status_code == 200, typed
        assert "Còn hiệu lực" in response.get_data(as_text=True), typed
    assert client.get("/verify/ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ").status_code == 404
    assert db.session.scalar(select(Certificate.code)) == code
