"""The official's home page: each programme's rule against their own record, and the certificate."""
import re
from datetime import date, timedelta

from learnhub.attendance.services import mark
from learnhub.certificates.services import revoke
from learnhub.models_base import utcnow

from . import factories


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_home_lists_what_is_left_before_the_certificate(client, db, programme, login_as):
    programme.deadline = (utcnow() + timedelta(days=10)).date()
    db.session.commit()
    official = login_as("official")
    course = programme.courses[0]
    lessons = factories.lessons_of(course)
    from learnhub.catalog.services import mark_lesson_done
    mark_lesson_done(official.id, lessons[0])
    db.session.commit()
    factories.attempt(official, course, "wrong", seed=3)

    page = text_of(client.get("/"))
    assert "Tập huấn ISO 2021 — cấp xã" in page
    assert "Còn 2 bước nữa là đủ điều kiện nhận giấy chứng nhận." in page
    assert "Chưa ghi nhận tham dự hội nghị" in page
    assert re.search(rf"{re.escape(course.title)} ?: còn {len(lessons) - 1} bài;", page)
    assert "bài kiểm tra cuối khóa: Chưa đạt (điểm 0%), còn 2 lượt làm bài." in page
    assert re.search(r"Hạn hoàn thành: \d{2}/\d{2}/\d{4} \((còn )?(9|10) ngày", page)
    # The course list is still there below.
    assert "1 trên 3 bài đã học xong" in page

    mark(factories.the_session(programme), official, "present", by=None, source="roll_call")
    db.session.commit()
    page = text_of(client.get("/"))
    assert "Đã ghi nhận tham dự hội nghị." in page
    assert "Còn 1 bước nữa" in page


def test_home_says_chua_lam_before_any_attempt(client, programme, login_as):
    login_as("official")
    page = text_of(client.get("/"))
    assert "bài kiểm tra cuối khóa: Chưa làm" in page
    assert "Chưa đạt" not in page


def test_home_shows_a_revoked_certificate_with_date_and_what_to_do(client, db, programme, login_as):
    official, cert = factories.certified(programme, username="hoa")
    page = text_of(client.get("/login"))  # not logged in yet
    client.post("/login", data={"username": "hoa", "password": factories.PASSWORD})
    page = text_of(client.get("/"))
    assert "Giấy chứng nhận cấp ngày" in page and "Tải giấy chứng nhận (PDF)" in page
    trainer = factories.make_user("trainer")
    revoke(cert, trainer, "Cấp nhầm đơn vị.")
    db.session.commit()
    page = text_of(client.get("/"))
    today = utcnow().astimezone(__import__("learnhub.config", fromlist=["VIETNAM_TZ"]).VIETNAM_TZ).date()
    assert f"đã bị thu hồi ngày {today:%d/%m/%Y}" in page
    assert "Lý do: Cấp nhầm đơn vị." in page
    assert "Cần làm gì:" in page


def test_staff_home_is_the_course_list(client, courses, login_as):
    login_as("trainer")
    page = text_of(client.get("/"))
    assert "ISO cơ bản (khóa thử)" in page and "bước nữa" not in page
