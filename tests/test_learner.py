"""The learner's side: catalogue, course, lesson, marking done, my training, glossary."""
import re

from sqlalchemy import func, select

from learnhub.catalog.models import LessonProgress
from learnhub.fragments import CSRF_SLOT, PATH_SLOT


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_catalogue_shows_each_course_with_progress(client, courses, login_as):
    login_as("official")
    page = text_of(client.get("/"))
    assert "ISO cơ bản (khóa thử)" in page
    assert "0 trên 3 bài đã học xong (0%)" in page


def test_lesson_page_has_contents_and_navigation(client, courses, login_as):
    login_as("official")
    html = client.get("/courses/iso-co-ban/bay-nguyen-tac").get_data(as_text=True)
    assert "<h1 lang=\"vi\">Bài 2. Bảy nguyên tắc quản lý chất lượng</h1>" in html
    assert 'rel="prev" href="/courses/iso-co-ban/he-thong-la-gi"' in html
    assert 'rel="next" href="/courses/iso-co-ban/pdca"' in html
    first = client.get("/courses/iso-co-ban/he-thong-la-gi").get_data(as_text=True)
    assert 'class="toc"' in first and 'href="#khai-niem"' in first and 'id="khai-niem"' in first
    assert 'rel="prev"' not in first


def test_marking_a_lesson_done_changes_progress(client, db, courses, login_as):
    user = login_as("official")
    response = client.post("/courses/iso-co-ban/he-thong-la-gi/done", data={"then": "next"})
    assert response.headers["Location"].endswith("/courses/iso-co-ban/bay-nguyen-tac")
    client.post("/courses/iso-co-ban/he-thong-la-gi/done", data={"then": "stay"})  # double click
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)
                             .where(LessonProgress.user_id == user.id)) == 1
    assert "1 trên 3 bài đã học xong (33%)" in text_of(client.get("/"))
    lesson = text_of(client.get("/courses/iso-co-ban/he-thong-la-gi"))
    assert "Đã học xong ngày" in lesson
    assert re.search(r"\d{2}/\d{2}/\d{4}", lesson)


def test_my_training_lists_what_is_left(client, courses, login_as):
    login_as("official")
    client.post("/courses/iso-co-ban/bay-nguyen-tac/done")
    page = text_of(client.get("/my"))
    assert "Bài 1. Hệ thống quản lý chất lượng là gì" in page
    assert "Bài 3. Chu trình PDCA" in page
    assert "Bài 2. Bảy nguyên tắc" not in page


def test_progress_is_per_official(client, courses, login_as):
    login_as("official")
    client.post("/courses/iso-co-ban/pdca/done")
    client.post("/logout")
    login_as("official")
    assert "0 trên 3 bài" in text_of(client.get("/"))


def test_glossary_is_linked_from_course_and_lesson(client, courses, login_as):
    login_as("official")
    assert 'href="/glossary"' in client.get("/courses/iso-co-ban").get_data(as_text=True)
    assert 'href="/glossary"' in client.get("/courses/iso-co-ban/pdca").get_data(as_text=True)
    glossary = client.get("/glossary").get_data(as_text=True)
    assert "Internal audit" in glossary and "<table>" in glossary


def test_unknown_course_or_lesson_is_404_in_vietnamese(client, courses, login_as):
    login_as("official")
    missing = client.get("/courses/khong-co")
    assert missing.status_code == 404 and "Không tìm thấy trang" in missing.get_data(as_text=True)
    assert client.get("/courses/iso-co-ban/khong-co").status_code == 404


def test_english_is_selectable(client, courses, login_as):
    login_as("official")
    response = client.get("/lang/en?next=/my")
    assert response.headers["Location"] == "/my"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Courses" in page and "0 of 3 lessons done" in page
    client.get("/lang/vi")
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_language_switch_does_not_redirect_off_site(client):
    assert client.get("/lang/en?next=https://evil.example").headers["Location"] == "/"


def test_lesson_page_is_light(client, courses, login_as):
    login_as("official")
    html = client.get("/courses/iso-co-ban/he-thong-la-gi").get_data()
    css = client.get("/static/app.css").get_data()
    assert len(html) + len(css) < 40_000
    assert b"http://" not in html.replace(b"http://localhost", b"") and b"https://" not in html


def test_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    from learnhub import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] != "ok"


def test_each_reader_sees_their_own_header_and_lesson_state(client, courses, login_as):
    # The header and the lesson body are reused between requests: nothing of one
    # reader may leak to the next, and each language keeps its own wording.
    login_as("official", username="nguyenvana")
    client.post("/courses/iso-co-ban/he-thong-la-gi/done")
    first = client.get("/courses/iso-co-ban/he-thong-la-gi").get_data(as_text=True)
    assert "(nguyenvana)" in first and "Đã học xong ngày" in first
    client.post("/logout")
    login_as("official", username="tranthib")
    second = client.get("/courses/iso-co-ban/he-thong-la-gi").get_data(as_text=True)
    assert "(tranthib)" in second and "nguyenvana" not in second
    assert "Đã học xong ngày" not in second and "Đánh dấu đã học xong" in text_of_html(second)
    assert 'href="/lang/en?next=%2Fcourses%2Fiso-co-ban%2Fhe-thong-la-gi%3F"' in second
    assert CSRF_SLOT not in second and PATH_SLOT not in second
    assert re.search(r'name="csrf_token" value="[\w.-]{40,}"', second)
    client.get("/lang/en")
    english = client.get("/courses/iso-co-ban/he-thong-la-gi").get_data(as_text=True)
    assert "Log out" in english and "Mark this lesson as done" in english and "Đăng xuất" not in english


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
