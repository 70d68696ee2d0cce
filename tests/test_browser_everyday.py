"""Browser, at 360 px: the official's home, the folded menu (without JavaScript), the quiz
timer that stays in view, "Mark done" that keeps the reader's place, and a review that
does not hand out the answers."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.models import QuizAttempt

from . import factories
from .browser import fill, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app, server_url):
    app.config["WTF_CSRF_ENABLED"] = True
    yield server_url
    app.config["WTF_CSRF_ENABLED"] = False


def _fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_home_tells_an_official_what_is_left(site, db, programme, page):
    official = factories.make_user("official", unit_code="D217-01")
    log_in(page, site, official.username)
    page.goto(f"{site}/")
    card = page.locator("section.standing")
    expect(card).to_contain_text("Tập huấn ISO 2021 — cấp xã")
    expect(card).to_contain_text("Còn 2 bước nữa")
    expect(card).to_contain_text("Chưa ghi nhận tham dự hội nghị")
    expect(card).to_contain_text("bài kiểm tra cuối khóa: Chưa làm")
    _fits_the_phone(page)
    # The quiz link in the checklist leads to the quiz.
    with page.expect_navigation():
        card.get_by_role("link", name="Chưa làm").click()
    assert page.url.endswith("/courses/iso-co-ban/quiz")


def test_menu_folds_on_a_phone_and_opens_without_javascript(site, courses, units, page, _browser):
    official = factories.make_user("official", unit_code="D217-01")
    context = _browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", java_script_enabled=False)
    try:
        phone = context.new_page()
        phone.set_default_timeout(10000)
        log_in(phone, site, official.username)
        phone.goto(f"{site}/courses")
        header = phone.locator("header.site").bounding_box()
        assert header["height"] <= 80, header  # was about 190 px with seven links
        my_training = phone.get_by_role("link", name="Học tập của tôi")
        expect(my_training).to_be_hidden()
        phone.locator("label[for=menu-toggle]", has_text="Danh mục").click()
        expect(my_training).to_be_visible()
        with phone.expect_navigation():
            my_training.click()
        assert phone.url.endswith("/my")
        _fits_the_phone(phone)
    finally:
        context.close()
    wide = _browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    try:
        desk = wide.new_page()
        desk.set_default_timeout(10000)
        log_in(desk, site, official.username)
        expect(desk.get_by_role("link", name="Học tập của tôi")).to_be_visible()  # no menu button to press
        expect(desk.locator("label[for=menu-toggle]")).to_be_hidden()
    finally:
        wide.close()


def test_timer_stays_in_view_and_review_keeps_the_answers_back(site, db, courses, units, page):
    official = factories.make_user("official", unit_code="D217-01")
    log_in(page, site, official.username)
    page.goto(f"{site}/courses/iso-co-ban/quiz")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("window.scrollY > 300")
    for selector in ("#timer", "#save-status"):
        box = page.locator(selector).bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 740, (selector, box)
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == official.id))
    fill(page, [(k, v) for k, v in answer_form(attempt, wrong=True).items(multi=True) if not k.endswith("-shown")])
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#submit-attempt").click()
    assert "/review" in page.url
    expect(page.locator("main")).to_contain_text("Đáp án đúng sẽ hiện khi bạn đạt bài kiểm tra hoặc đã hết lượt làm bài")
    assert page.locator(".right-answer").count() == 0
    assert page.locator("section.question.review .mark", has_text="Sai").count() >= 1
    _fits_the_phone(page)


def test_mark_done_returns_to_where_the_reader_was(site, courses, units, page):
    official = factories.make_user("official", unit_code="D217-01")
    log_in(page, site, official.username)
    page.goto(f"{site}/courses/iso-co-ban/he-thong-la-gi")
    button = page.get_by_role("button", name="Đánh dấu đã học xong bài này")
    button.scroll_into_view_if_needed()
    with page.expect_navigation():
        button.click()
    assert page.url.endswith("#lesson-actions")
    page.wait_for_function("window.scrollY > 0")
    done = page.locator("#lesson-actions .badge.done")
    expect(done).to_contain_text("Đã học xong ngày")
    box = done.bounding_box()
    assert 0 <= box["y"] <= 740, box
