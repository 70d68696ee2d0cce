"""Quiz attempts end to end: start, save, reload, submit once, grading, limits, review."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.materials.sync import sync_content
from learnhub.models_base import utcnow
from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.models import Question, Quiz, QuizAttempt
from learnhub.quizzes.attempts import QuizError, finish_attempt, quiz_for, save_answers, start_attempt
from learnhub.quizzes.statistics import quiz_statistics

from . import factories


@pytest.fixture
def quiz(courses):
    return quiz_for(courses["iso-co-ban"])


def right_form(attempt, wrong=False):
    return answer_form(attempt, wrong)


def test_sync_loads_the_bank_and_settings(db, quiz):
    assert quiz.questions_per_attempt == 6 and quiz.max_attempts == 3 and quiz.pass_percent == 60
    types = dict(db.session.execute(select(Question.qtype, func.count()).group_by(Question.qtype)).all())
    assert types == {"numerical": 1, "multichoice": 2, "truefalse": 1, "multiresponse": 1,
                     "shortanswer": 1, "matching": 1, "essay": 1}


def test_attempt_draws_per_category_and_hides_answers(client, db, quiz, login_as):
    login_as("official")
    response = client.post("/courses/iso-co-ban/quiz/start")
    attempt = db.session.scalar(select(QuizAttempt))
    assert response.headers["Location"].endswith(f"/quiz/attempts/{attempt.id}")
    categories = [a.question.category for a in attempt.answers]
    assert categories.count("iso-co-ban/nguyen-tac") == 3 and categories.count("iso-co-ban/cau-truc") == 3
    page = client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    for secret in ("Đúng.", "Không phải nguyên tắc", "Bảy nguyên tắc, không xếp hạng", "fraction", "%50%"):
        assert secret not in page
    assert 'value="0"' in page


def test_answers_survive_reload_and_count_after_submit(client, db, quiz, login_as):
    login_as("official")
    client.post("/courses/iso-co-ban/quiz/start")
    attempt = db.session.scalar(select(QuizAttempt))
    form = right_form(attempt)
    assert client.post(f"/quiz/attempts/{attempt.id}/save", data=form,
                       headers={"Accept": "application/json"}).get_json()["status"] == "saved"
    page = client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    assert page.count("checked") + page.count("selected") >= 3
    # Submitting posts nothing new: what was saved is graded.
    result = client.post(f"/quiz/attempts/{attempt.id}/submit", follow_redirects=True)
    text = result.get_data(as_text=True)
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    essays = sum(1 for a in attempt.answers if a.question.qtype == "essay")
    assert attempt.score == len(attempt.answers) - essays
    assert "Đáp án đúng" in text


def test_wrong_answers_fail_and_review_shows_feedback(client, db, quiz, login_as):
    login_as("official")
    client.post("/courses/iso-co-ban/quiz/start")
    attempt = db.session.scalar(select(QuizAttempt))
    response = client.post(f"/quiz/attempts/{attempt.id}/submit", data=right_form(attempt, wrong=True),
                           follow_redirects=True)
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert attempt.score == 0
    assert attempt.state in ("graded", "needs_grading")
    assert "Chưa đạt" in response.get_data(as_text=True) or attempt.state == "needs_grading"


def test_double_submit_grades_once(client, db, quiz, login_as):
    login_as("official")
    client.post("/courses/iso-co-ban/quiz/start")
    attempt = db.session.scalar(select(QuizAttempt))
    form = right_form(attempt)
    first = client.post(f"/quiz/attempts/{attempt.id}/submit", data=form)
    second = client.post(f"/quiz/attempts/{attempt.id}/submit", data=right_form(attempt, wrong=True))
    assert first.headers["Location"] == second.headers["Location"]
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt.id).score > 0


def test_parallel_submits_grade_once(app, db, quiz, units):
    official = factories.make_user("official")
    attempt = start_attempt(official.id, quiz, seed=1)
    db.session.commit()
    attempt_id = attempt.id
    outcomes = []

    def submit():
        with app.test_request_context():
            from learnhub.extensions import db as tdb
            a = tdb.session.get(QuizAttempt, attempt_id)
            outcomes.append(finish_attempt(a))
            tdb.session.commit()
            tdb.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False] * 7 + [True]
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt_id).state in ("graded", "needs_grading")


def test_parallel_starts_never_exceed_the_limit(app, db, quiz, units):
    official = factories.make_user("official")
    quiz.max_attempts = 2
    db.session.commit()
    quiz_id = quiz.id
    errors = []

    def start_and_finish():
        with app.test_request_context():
            from learnhub.extensions import db as tdb
            try:
                for _ in range(3):
                    a = start_attempt(official.id, tdb.session.get(Quiz, quiz_id))
                    finish_attempt(a)
                    tdb.session.commit()
            except QuizError as exc:
                tdb.session.rollback()
                errors.append(str(exc))
            except Exception as exc:  # a database conflict must not pass silently either
                tdb.session.rollback()
                errors.append(repr(exc))
            finally:
                tdb.session.remove()

    threads = [threading.Thread(target=start_and_finish) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    count = db.session.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.user_id == official.id))
    assert count == 2
    assert errors and all("lượt" in e or "attempts" in e for e in errors), errors


def test_answers_after_the_deadline_do_not_count(db, quiz, units):
    official = factories.make_user("official")
    start = utcnow() - timedelta(minutes=30)
    attempt = start_attempt(official.id, quiz, now=start, seed=3)
    db.session.commit()
    assert attempt.deadline_at == start + timedelta(minutes=20)
    early = right_form(attempt)
    save_answers(attempt.id, early, now=start + timedelta(minutes=5))
    db.session.commit()
    with pytest.raises(QuizError):
        save_answers(attempt.id, right_form(attempt, wrong=True), now=start + timedelta(minutes=21))
    db.session.commit()
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert attempt.state in ("graded", "needs_grading")
    assert attempt.submitted_at == attempt.deadline_at
    essays = sum(1 for a in attempt.answers if a.question.qtype == "essay")
    assert attempt.score == len(attempt.answers) - essays


def test_expired_attempt_is_graded_when_the_official_returns(client, db, quiz, login_as):
    user = login_as("official")
    attempt = start_attempt(user.id, quiz, now=utcnow() - timedelta(hours=1))
    db.session.commit()
    response = client.get(f"/quiz/attempts/{attempt.id}")
    assert response.headers["Location"].endswith(f"/quiz/attempts/{attempt.id}/review")


def test_attempt_limit_is_enforced(client, db, courses, quiz, login_as):
    user = login_as("official")
    for _ in range(3):
        factories.attempt(user, courses["iso-co-ban"], answers=None)
    response = client.post("/courses/iso-co-ban/quiz/start", follow_redirects=True)
    assert "Bạn đã dùng hết 3 lượt làm bài" in response.get_data(as_text=True)


def test_another_officials_attempt_is_not_found(client, db, quiz, login_as):
    other = factories.make_user("official")
    attempt = start_attempt(other.id, quiz)
    db.session.commit()
    login_as("official")
    assert client.get(f"/quiz/attempts/{attempt.id}").status_code == 404
    assert client.post(f"/quiz/attempts/{attempt.id}/submit").status_code == 404


def test_review_after_pass_hides_answers_until_passed(client, db, quiz, login_as):
    quiz.review = "after_pass"
    db.session.commit()
    login_as("official")
    client.post("/courses/iso-co-ban/quiz/start")
    attempt = db.session.scalar(select(QuizAttempt))
    page = client.post(f"/quiz/attempts/{attempt.id}/submit", data=right_form(attempt, wrong=True),
                       follow_redirects=True).get_data(as_text=True)
    assert 'class="right-answer"' not in page and "Nhận xét và đáp án đúng sẽ hiện khi bạn đạt" in page


def test_essay_is_graded_by_a_trainer(client, db, quiz, login_as):
    official = factories.make_user("official")
    essay = db.session.scalar(select(Question).where(Question.qtype == "essay"))
    attempt = start_attempt(official.id, quiz, seed=0)
    slot = next((a for a in attempt.answers if a.question_id == essay.id), attempt.answers[-1])
    slot.question_id = essay.id
    db.session.commit()
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    save_answers(attempt.id, right_form(attempt))
    finish_attempt(attempt)
    db.session.commit()
    assert attempt.state == "needs_grading" and attempt.passed is None
    login_as("trainer")
    queue = client.get("/trainer/grading").get_data(as_text=True)
    assert "Sổ theo dõi hồ sơ (mẫu 07)" in queue
    bad = client.post(f"/trainer/grading/{slot.id}", data={"percent": "150"}, follow_redirects=True)
    assert "0 đến 100" in bad.get_data(as_text=True)
    client.post(f"/trainer/grading/{slot.id}", data={"percent": "100", "comment": "Tốt"})
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert attempt.state == "graded" and attempt.passed is True and attempt.score == attempt.max_score


def test_officials_cannot_open_trainer_pages(client, quiz, login_as):
    login_as("official")
    assert client.get("/trainer/grading").status_code == 403
    assert client.get("/trainer/quizzes/iso-co-ban/statistics").status_code == 403


def test_statistics_show_facility_per_question(client, db, courses, quiz, login_as):
    for k in range(4):  # essays marked in full for right answers, zero for wrong ones
        factories.attempt(factories.make_user("official"), courses["iso-co-ban"],
                          "wrong" if k % 2 == 1 else "right", seed=k)
    stats = quiz_statistics(quiz)
    assert stats.attempts == 4 and stats.pass_rate == 0.5
    assert all(0 <= s.facility <= 1 for s in stats.questions)
    login_as("trainer")
    page = client.get("/trainer/quizzes/iso-co-ban/statistics").get_data(as_text=True)
    assert "Độ phân biệt" in page
    assert "Hãy xem lại câu này" not in page  # right for the strong, wrong for the weak: good questions


def test_statistics_point_at_questions_nobody_gets_right(client, db, courses, quiz, login_as):
    for k in range(3):
        factories.attempt(factories.make_user("official"), courses["iso-co-ban"], "wrong", seed=k)
    login_as("trainer")
    page = client.get("/trainer/quizzes/iso-co-ban/statistics").get_data(as_text=True)
    assert "Hãy xem lại câu này" in page


def test_trainer_changes_settings_and_sync_keeps_them(app, client, db, quiz, login_as):
    login_as("trainer")
    response = client.post("/trainer/quizzes/iso-co-ban/settings", data={
        "questions_per_attempt": "6", "time_limit_minutes": "45", "max_attempts": "5", "pass_percent": "80",
        "grading": "last", "review": "after_pass", "shuffle_questions": "y"})
    assert response.status_code == 302
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    db.session.expire_all()
    quiz = db.session.get(Quiz, quiz.id)
    assert (quiz.time_limit_minutes, quiz.max_attempts, quiz.pass_percent, quiz.grading) == (45, 5, 80.0, "last")
    bad = client.post("/trainer/quizzes/iso-co-ban/settings", data={
        "questions_per_attempt": "0", "time_limit_minutes": "x", "max_attempts": "5", "pass_percent": "180",
        "grading": "last", "review": "after_pass"})
    assert bad.status_code == 200 and "Từ 0 đến 100" in bad.get_data(as_text=True)


def test_changed_question_gets_a_new_version_and_old_attempts_keep_theirs(app, db, quiz, units, tmp_path):
    import shutil
    official = factories.make_user("official")
    attempt = start_attempt(official.id, quiz, seed=5)
    db.session.commit()
    used = {a.question_id for a in attempt.answers}
    courses = tmp_path / "courses"
    quizzes = tmp_path / "quizzes"
    shutil.copytree(app.config["COURSES_DIR"], courses)
    shutil.copytree(app.config["QUIZZES_DIR"], quizzes)
    bank = quizzes / "iso-co-ban.gift"
    bank.write_text(bank.read_text(encoding="utf-8").replace("Có bao nhiêu nguyên tắc", "Bao nhiêu nguyên tắc"), encoding="utf-8")
    report = sync_content(str(courses), str(quizzes))
    db.session.commit()
    assert report.updated == ["iso-co-ban/q:NT-1"]
    versions = db.session.scalars(select(Question.version).where(Question.key == "NT-1").order_by(Question.version)).all()
    assert versions == [1, 2]
    assert {a.question_id for a in db.session.get(QuizAttempt, attempt.id).answers} == used


def test_a_newer_rendering_pipeline_rerenders_questions_in_place(app, db, quiz):
    stale = db.session.scalars(select(Question).where(Question.retired_at.is_(None))).all()
    count = len(stale)
    for question in stale:
        question.text_html = "<p>cũ</p>"
        question.data = {**question.data, "render_version": "0"}
    db.session.commit()
    report = sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    assert len([k for k in report.updated if "/q:" in k]) == count
    rows = db.session.scalars(select(Question)).all()
    assert len(rows) == count and all(q.version == 1 and q.text_html != "<p>cũ</p>" for q in rows)
    again = sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    assert not [k for k in again.updated if "/q:" in k]


def test_inline_question_text_never_tears_the_page_markup():
    from learnhub.quizzes.rendering import render_text
    assert render_text("<p>Đúng</p>", "html", inline=True) == "Đúng"
    several = render_text('<p>a</p><p title="x">b</p>', "html", inline=True)
    assert several.count("<p") == several.count("</p>") == 2


def test_settings_form_explains_bad_numbers_in_vietnamese(client, quiz, login_as):
    login_as("trainer")
    page = client.post("/trainer/quizzes/iso-co-ban/settings", data={
        "questions_per_attempt": "sáu", "time_limit_minutes": "45", "max_attempts": "5", "pass_percent": "80%",
        "grading": "highest", "review": "after_attempt"}).get_data(as_text=True)
    assert "Hãy nhập một số nguyên." in page and "Hãy nhập một số." in page
    assert "Not a valid" not in page
    assert quiz.questions_per_attempt == 6  # nothing saved
