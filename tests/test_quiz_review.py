"""The review of an attempt: which answers were wrong and the feedback always; the right
answers only once the quiz is passed or no attempt is left; never the raw variants."""
import pytest
from sqlalchemy import select

from learnhub.quizzes.attempts import quiz_for
from learnhub.quizzes.models import Question, QuizAttempt
from learnhub.quizzes.review import _right_answer_html

from . import factories


@pytest.fixture
def course(courses):
    return courses["iso-co-ban"]


def _review(client, attempt):
    return client.get(f"/quiz/attempts/{attempt.id}/review").get_data(as_text=True)


def test_failed_attempt_with_attempts_left_shows_feedback_but_not_the_answers(client, db, course, login_as):
    official = login_as("official")
    attempt = factories.attempt(official, course, "wrong", seed=2)
    page = _review(client, attempt)
    assert "Sai" in page  # which questions were wrong, in words, not only in colour
    assert 'class="feedback"' in page  # the feedback on the answers given
    assert 'class="right-answer"' not in page and "Đáp án đúng:" not in page
    assert 'class="feedback general"' not in page  # general feedback states the answer
    assert "Đáp án đúng sẽ hiện khi bạn đạt bài kiểm tra hoặc đã hết lượt làm bài" in page


def test_right_answers_appear_once_no_attempt_is_left(client, db, course, login_as):
    official = login_as("official")
    attempts = [factories.attempt(official, course, "wrong", seed=s) for s in (1, 2)]
    assert 'class="right-answer"' not in _review(client, attempts[0])
    attempts.append(factories.attempt(official, course, "wrong", seed=3))  # the third and last
    for attempt in attempts:
        page = _review(client, attempt)
        assert 'class="right-answer"' in page and 'class="feedback general"' in page


def test_right_answers_appear_once_passed(client, db, course, login_as):
    official = login_as("official")
    failed = factories.attempt(official, course, "wrong", seed=2)
    factories.pass_quiz(official, course, seed=2)
    assert 'class="right-answer"' in _review(client, failed)


def test_no_answers_while_another_attempt_is_open(client, db, course, login_as):
    official = login_as("official")
    quiz = quiz_for(course)
    quiz.right_answers = "after_attempt"  # a practice quiz
    db.session.commit()
    first = factories.attempt(official, course, "wrong", seed=2)
    assert 'class="right-answer"' in _review(client, first)
    client.post("/courses/iso-co-ban/quiz/start")
    assert 'class="right-answer"' not in _review(client, first)


def test_short_answer_shows_one_spelling_not_the_accepted_variants(db, courses):
    question = db.session.scalar(select(Question).where(Question.key == "CT-1"))
    assert _right_answer_html(question) == "QMS"


def test_trainer_can_choose_practice_review(client, db, course, login_as):
    login_as("trainer")
    response = client.post("/trainer/quizzes/iso-co-ban/settings", data={
        "questions_per_attempt": "6", "time_limit_minutes": "20", "max_attempts": "3", "pass_percent": "60",
        "grading": "highest", "review": "after_attempt", "right_answers": "after_attempt"})
    assert response.status_code == 302
    assert quiz_for(course).right_answers == "after_attempt"


def test_status_reads_chua_lam_before_any_attempt(client, db, course, login_as):
    official = login_as("official")
    overview = client.get("/courses/iso-co-ban/quiz").get_data(as_text=True)
    assert "Chưa làm" in overview and "Chưa đạt" not in overview
    assert "Chưa làm" in client.get("/courses/iso-co-ban").get_data(as_text=True)
    assert "Chưa làm" in client.get("/my").get_data(as_text=True)
    factories.attempt(official, course, "wrong", seed=2)
    overview = client.get("/courses/iso-co-ban/quiz").get_data(as_text=True)
    assert "Chưa đạt" in overview and "Chưa làm" not in overview
