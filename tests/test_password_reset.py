"""Forgotten passwords: whom to ask, by unit; a single-use reset link by email lasting an hour;
no answer that tells whether an account exists."""
import re
from unittest import mock

import pytest
from sqlalchemy import select

from learnhub.audit.models import AuditEntry

from . import factories
from .smtp_capture import SMTPCapture


@pytest.fixture
def smtp(app):
    with SMTPCapture() as capture:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=capture.port, MAIL_DEFAULT_SENDER="learnhub@example.gov.vn")
        yield capture
    app.config.update(MAIL_SERVER="", MAIL_DEFAULT_SENDER="")


def _page(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_login_page_links_to_the_forgotten_password_page(client, units):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)
    assert "Quên mật khẩu?" in client.get("/password/forgot").get_data(as_text=True)


def test_page_names_the_trainers_and_administrators_of_a_unit(client, units):
    factories.make_user("trainer", unit_code="217", full_name="Ngô Văn Giảng", position="Giảng viên huyện")
    factories.make_user("admin", full_name="Phạm Quản Trị")
    factories.make_user("trainer", unit_code="213", full_name="Người Huyện Khác")
    factories.make_user("official", unit_code="D217-01", full_name="Cán Bộ Xã")
    page = _page(client.get("/password/forgot?unit=D217-01"))
    assert "Ngô Văn Giảng" in page and "Giảng viên huyện" in page and "Phạm Quản Trị" in page
    assert "Người Huyện Khác" not in page and "Cán Bộ Xã" not in page
    # Without mail configured there is no form that could tell accounts apart.
    assert "Nhận liên kết qua thư điện tử" not in page


def test_same_answer_whether_or_not_the_account_exists(client, units, smtp):
    factories.make_user("official", username="hoa", email="hoa@example.vn")
    factories.make_user("official", username="khongthu")  # no email
    answers = set()
    for identifier in ("hoa", "khongthu", "khong-co-ai", "ai@example.vn"):
        response = client.post("/password/forgot", data={"identifier": identifier})
        assert response.status_code == 200
        answers.add(re.sub(r'value="[^"]*"', "", _page(response)))
    assert len(answers) == 1
    recipients, message = smtp.next_message()
    assert recipients == ["hoa@example.vn"]
    assert smtp.empty()  # the other three sent nothing


def test_reset_link_works_once_ends_sessions_and_is_audited(app, db, client, units, smtp):
    user = factories.make_user("official", username="hoa", email="Hoa@Example.vn")
    other_device = app.test_client()
    other_device.post("/login", data={"username": "hoa", "password": factories.PASSWORD})
    assert other_device.get("/").status_code == 200

    client.post("/password/forgot", data={"identifier": "hoa@example.vn"})
    _, message = smtp.next_message()
    body = message.get_content()
    assert "trong vòng 1 giờ" in body and message["Subject"] == "LearnHub: đặt lại mật khẩu"
    link = re.search(r"http://localhost(/password/reset/\S+)", body).group(1)

    assert "Đặt mật khẩu mới" in client.get(link).get_data(as_text=True)
    short = client.post(link, data={"new": "ngan", "confirm": "ngan"})
    assert short.status_code == 200 and "ít nhất 8 ký tự" in short.get_data(as_text=True)
    done = client.post(link, data={"new": "mat-khau-moi-2026", "confirm": "mat-khau-moi-2026"})
    assert done.headers["Location"].endswith("/login")
    assert other_device.get("/").status_code == 302  # the other session has ended
    assert client.post("/login", data={"username": "hoa", "password": "mat-khau-moi-2026"}).status_code == 302
    # Used once: the same link no longer works.
    again = client.get(link)
    assert again.status_code == 410 and "đã hết hạn hoặc đã được dùng" in again.get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.password_reset_by_email"))
    assert entry is not None and entry.subject_id == user.id


def test_reset_link_expires_after_an_hour(app, client, units, smtp):
    factories.make_user("official", username="hoa", email="hoa@example.vn")
    client.post("/password/forgot", data={"identifier": "hoa"})
    _, message = smtp.next_message()
    link = re.search(r"http://localhost(/password/reset/\S+)", message.get_content()).group(1)
    import time as real_time
    later = real_time.time() + 3601
    with mock.patch("itsdangerous.timed.time.time", return_value=later):
        assert client.get(link).status_code == 410


def test_a_tampered_link_is_refused(client, units):
    assert client.get("/password/reset/abc.def.ghi").status_code == 410
    assert client.post("/password/reset/" + "x" * 500, data={"new": "a" * 10, "confirm": "a" * 10}).status_code == 410
