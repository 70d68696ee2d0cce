"""Browser, phone-sized: roll call, self check-in, finishing a programme and its certificate,
and the public check page before and after revocation."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.attendance.models import AttendanceRecord
from learnhub.attendance.services import mark
from learnhub.certificates.services import active_certificate
from learnhub.models_base import utcnow
from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.models import Question, QuizAttempt

from . import factories
from .browser import fill, log_in, open_menu

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app, db, units, courses, server_url):
    for essay in db.session.scalars(select(Question).where(Question.qtype == "essay")):
        essay.retired_at = utcnow()  # keep this programme free of hand grading
    trainer = factories.make_user("trainer", username="giangvien", full_name="Giảng Viên")
    programme = factories.make_programme(trainer, [courses["iso-co-ban"]], code="iso-2021", validity_months=0)
    session = factories.make_session(programme, trainer, title="Hội nghị Lạng Giang", venue="Hội trường",
                                     starts_at=utcnow() - timedelta(minutes=5), ends_at=utcnow() + timedelta(hours=4))
    app.config["WTF_CSRF_ENABLED"] = True
    yield {"url": server_url, "programme": programme, "session": session, "trainer": trainer}
    app.config["WTF_CSRF_ENABLED"] = False


def test_trainer_takes_roll_on_a_phone(site, db, page):
    a = factories.make_user("official", unit_code="D217-01", full_name="Lê Thị Vôi")
    b = factories.make_user("official", unit_code="D217-05", full_name="Phạm Văn Tiên Lục")
    log_in(page, site["url"], "giangvien")
    page.goto(f"{site['url']}/sessions/{site['session'].id}")
    assert [h.inner_text().split(" (")[0] for h in page.locator("section.commune h2").all()] == [
        "Thị trấn Vôi", "Xã Tiên Lục"]
    page.locator(f"#official-{a.id} label.st-present").click()
    page.locator(f"#official-{b.id} label.st-excused").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_navigation():
        page.locator("#roll-form .quiz-actions button").click()
    assert "Đã lưu điểm danh" in page.locator(".flash").inner_text()
    assert page.locator(f"#official-{a.id} input[value=present]").is_checked()
    # A note: the official's own page, from their name.
    page.locator(f"#official-{b.id} a.rc-who").click()
    page.fill(f"#note-{b.id}", "Đi công tác")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "“Đi công tác”" in page.locator(f"#official-{b.id}").inner_text()
    marks = {r.user_id: (r.status, r.note) for r in db.session.scalars(select(AttendanceRecord))}
    assert marks == {a.id: ("present", ""), b.id: ("excused", "Đi công tác")}


def test_official_checks_in_with_the_code(site, db, page):
    official = factories.make_user("official", unit_code="D217-02", full_name="Trần Văn Kép")
    log_in(page, site["url"], official.username)
    open_menu(page)
    page.locator("nav.menu a", has_text="Điểm danh").click()
    page.fill("#code", site["session"].checkin_code.lower())
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "Bạn đã điểm danh" in page.locator(".flash").inner_text()
    record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.user_id == official.id))
    assert (record.status, record.source) == ("present", "self")


def test_official_completes_everything_and_gets_the_certificate(site, db, page):
    official = factories.make_user("official", unit_code="D217-01", full_name="Nguyễn Thị Hoa")
    mark(site["session"], official, "present", by=site["trainer"], source="roll_call")
    db.session.commit()
    log_in(page, site["url"], official.username)
    page.goto(f"{site['url']}/courses/iso-co-ban")
    page.locator("a.button.primary").click()
    while True:  # read every lesson and mark it done, going to the next each time
        has_next = page.locator("button[value=next]").count() > 0
        with page.expect_navigation():
            page.locator("button[value=next]" if has_next else "button[value=stay]").click()
        if not has_next:
            break
    page.goto(f"{site['url']}/courses/iso-co-ban/quiz")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    page.reload()  # answers and attempt survive a reload
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == official.id))
    fill(page, [(k, v) for k, v in answer_form(attempt).items(multi=True) if not k.endswith("-shown")])
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#submit-attempt").click()
    result = page.locator("#result").inner_text()
    assert "Đạt" in result and "Chưa" not in result, result
    open_menu(page)
    page.locator("nav.menu a", has_text="Chứng nhận").click()
    card = page.locator(".card", has_text="Tập huấn ISO 2021")
    assert "Còn hiệu lực" in card.inner_text()
    assert active_certificate(official.id, site["programme"].id) is not None


def test_verify_page_says_valid_then_revoked(site, db, page):
    from learnhub.certificates.services import issue
    official = factories.make_user("official", unit_code="D217-01", full_name="Đỗ Văn Hải")
    cert = issue(official, site["programme"], issued_by=site["trainer"])
    db.session.commit()
    page.goto(f"{site['url']}/verify/{cert.code}")
    assert page.locator("#status").inner_text().strip() == "Còn hiệu lực"
    assert "Đỗ Văn Hải" in page.content()
    log_in(page, site["url"], "giangvien")
    page.goto(f"{site['url']}/programmes/iso-2021/certificates")
    page.fill(f"#reason-{cert.id}", "Cấp nhầm người")
    with page.expect_navigation():
        page.locator("form.inline-form button").click()
    page.goto(f"{site['url']}/verify/{cert.code}")
    assert page.locator("#status").inner_text().strip().startswith("Đã thu hồi ngày")
