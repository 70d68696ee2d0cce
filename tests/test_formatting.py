"""Dates and numbers as a Vietnamese reader writes them (dd/mm/yyyy HH:mm, decimal comma), and
unambiguous in English ("2 Dec 2026, 14:05"): pages, PDFs and the language of content."""
import io
import re
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader

from learnhub.formatting import format_date, format_datetime, format_number, format_percent

from . import factories

MOMENT = datetime(2026, 12, 2, 7, 5, tzinfo=timezone.utc)  # 14:05 in Vietnam


@pytest.mark.parametrize("lang, expected", [
    ("vi", ("02/12/2026", "02/12/2026 14:05", "28,2", "28,2%", "1.234,5", "70%")),
    ("en", ("2 Dec 2026", "2 Dec 2026, 14:05", "28.2", "28.2%", "1,234.5", "70%")),
])
def test_one_format_per_language(app, lang, expected):
    with app.test_request_context(f"/?lang={lang}"):
        assert (format_date(date(2026, 12, 2)), format_datetime(MOMENT), format_number(28.24),
                format_percent(28.24), format_number(1234.5), format_percent(70.0)) == expected


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_training_record_pdf_follows_the_readers_language(client, db, programme):
    official, cert = factories.certified(programme, full_name="Đặng Thị Ngọc Ánh")
    client.post("/login", data={"username": official.username, "password": factories.PASSWORD})
    vietnamese = _pdf_text(client.get("/my/record.pdf").data)
    assert "Hồ sơ đào tạo" in vietnamese and "Còn hiệu lực" in vietnamese
    assert re.search(r"Lập ngày \d{2}/\d{2}/\d{4} \d{2}:\d{2}", vietnamese)
    assert "100%" in vietnamese
    client.get("/lang/en")
    english = _pdf_text(client.get("/my/record.pdf").data)
    assert "Training record" in english and "Valid" in english and "Passed" in english
    assert re.search(r"Drawn up on \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", english)
    for vietnamese_label in ("Hồ sơ", "Lập ngày", "Khóa học", "Giấy chứng nhận", "Đạt", "Còn hiệu lực"):
        assert vietnamese_label not in english
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", english)  # never 12/2/26
    assert "Đặng Thị Ngọc Ánh" in english  # names stay as written


def test_vietnamese_content_is_marked_vi_in_the_english_interface(client, courses, login_as):
    login_as("official")
    client.get("/lang/en")
    lesson = client.get("/courses/iso-co-ban/he-thong-la-gi").get_data(as_text=True)
    assert '<html lang="en">' in lesson
    assert '<div class="prose" lang="vi">' in lesson and '<h1 lang="vi">' in lesson
    home = client.get("/courses").get_data(as_text=True)
    assert re.search(r'<a href="/courses/iso-co-ban" lang="vi">', home)


def test_pages_show_dates_and_grades_the_vietnamese_way(client, db, courses, login_as):
    official = login_as("official")
    factories.attempt(official, courses["iso-co-ban"], "wrong", seed=2)
    page = client.get("/courses/iso-co-ban/quiz").get_data(as_text=True)
    assert re.search(r"<td>\d{2}/\d{2}/\d{4} \d{2}:\d{2}</td>", page)
    client.get("/lang/en")
    page = client.get("/courses/iso-co-ban/quiz").get_data(as_text=True)
    assert re.search(r"<td>\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}</td>", page)
