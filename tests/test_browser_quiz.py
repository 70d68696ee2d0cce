"""Browser: an official starts a quiz, answers part of it, reloads, leaves and comes back,
then submits and reads the review. Autosave and the server keep every answer."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.models import AttemptAnswer, QuizAttempt

from . import factories
from .browser import fill, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app, courses, units, server_url):
    app.config["WTF_CSRF_ENABLED"] = True
    yield server_url
    app.config["WTF_CSRF_ENABLED"] = False


def start_quiz(site, db, page):
    """An official logs in and starts the quiz: (attempt page URL, attempt, right answers)."""
    official = factories.make_user("official", unit_code="D217-01")
    log_in(page, site, official.username)
    page.goto(f"{site}/courses/iso-co-ban/quiz")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == official.id))
    pairs = [(k, v) for k, v in answer_form(attempt).items(multi=True) if not k.endswith("-shown")]
    return page.url, attempt, pairs


def test_quiz_survives_reload_and_return_then_review(site, db, page):
    attempt_url, attempt, pairs = start_quiz(site, db, page)
    first_slot = pairs[0][0].split("-")[0]
    first = [(k, v) for k, v in pairs if k.split("-")[0] == first_slot]
    fill(page, first)
    # Autosave reaches the server without pressing anything.
    expect(page.locator("#save-status")).to_contain_text("Đã lưu lúc", timeout=10000)
    saved = db.session.scalar(select(AttemptAnswer.response).where(
        AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.slot == int(first_slot[1:])))
    assert saved
    page.reload()
    key, value = first[0]
    if page.locator(f"[name='{key}'][value='{value}']").count() and \
            page.locator(f"[name='{key}']").first.get_attribute("type") in ("radio", "checkbox"):
        assert page.locator(f"[name='{key}'][value='{value}']").is_checked()
    else:
        assert page.locator(f"[name='{key}']").first.input_value() != ""
    # Leave and come back through the course: the attempt in progress continues.
    page.goto(f"{site}/courses/iso-co-ban/quiz")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert page.url == attempt_url
    fill(page, [(k, v) for k, v in pairs if k.split("-")[0] != first_slot])
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#submit-attempt").click()
    assert "/review" in page.url
    assert page.locator("#result").is_visible()
    assert page.locator("section.question.review").count() == 6
    # No answer key was ever sent before submission: the attempt page had no fractions.
    db.session.expire_all()
    finished = db.session.get(QuizAttempt, attempt.id)
    assert finished.state in ("graded", "needs_grading")
    # The right answers show once the quiz is passed; an essay waiting for its mark holds them back.
    if finished.passed:
        assert page.locator(".right-answer").count() >= 5
    else:
        assert page.locator(".right-answer").count() == 0


def test_answers_given_offline_survive_a_closed_tab(site, db, page):
    attempt_url, attempt, pairs = start_quiz(site, db, page)
    slot = pairs[0][0].split("-")[0]
    first = [(k, v) for k, v in pairs if k.split("-")[0] == slot]
    page.context.set_offline(True)
    fill(page, first)
    expect(page.locator("#save-status")).to_contain_text("Chưa lưu", timeout=10000)
    page.close()  # the tab is closed before the connection comes back
    saved = db.session.scalar(select(AttemptAnswer.response).where(
        AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.slot == int(slot[1:])))
    assert not saved
    context = page.context
    context.set_offline(False)
    again = context.new_page()
    again.goto(attempt_url)
    expect(again.locator("#save-status")).to_contain_text("Đã lưu lúc", timeout=10000)
    db.session.expire_all()
    saved = db.session.scalar(select(AttemptAnswer.response).where(
        AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.slot == int(slot[1:])))
    assert saved
