"""Autosave and submit: what is stored is what was graded, whatever the interleaving."""
import threading

import pytest
from sqlalchemy import select

from learnhub.catalog.services import course_by_slug
from learnhub.materials.sync import sync_content
from learnhub.quizzes.attempts import quiz_for, start_attempt
from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.grading import grade
from learnhub.quizzes.models import AttemptAnswer, Question, Quiz, QuizAttempt

from . import factories


@pytest.fixture
def quiz(app, db):
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    quiz = quiz_for(course_by_slug("iso-co-ban"))
    quiz.max_attempts = 0
    db.session.commit()
    return quiz


def _logged_in_client(app, user):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def _stored_answers_are_the_graded_ones(db, attempt_id):
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.state in ("graded", "needs_grading")
    rows = db.session.execute(select(AttemptAnswer, Question).join(Question)
                              .where(AttemptAnswer.attempt_id == attempt_id).order_by(AttemptAnswer.slot)).all()
    regraded = [grade(question.qtype, question.data, answer.response).fraction for answer, question in rows]
    stored = [answer.fraction for answer, _question in rows]
    assert stored == regraded, [(a.slot, q.qtype, a.response) for a, q in rows]
    assert attempt.score == sum(f or 0.0 for f in regraded)


def test_saves_racing_a_submit_never_change_the_graded_answers(app, db, quiz, units):
    """Several tabs keep autosaving while one submits: the review must show what was scored."""
    official = factories.make_user("official")
    savers = 6
    clients = [_logged_in_client(app, official) for _ in range(savers + 1)]
    official_id, quiz_id = official.id, quiz.id
    for round_ in range(4):
        attempt = start_attempt(official_id, db.session.get(Quiz, quiz_id), seed=round_)
        db.session.commit()
        attempt_id = attempt.id
        right, wrong = answer_form(attempt), answer_form(attempt, wrong=True)
        db.session.remove()
        barrier = threading.Barrier(savers + 1)
        statuses, errors = [], []

        def save(client, k):
            try:
                barrier.wait()
                for n in range(12):
                    form = right if (n + k) % 2 else wrong
                    response = client.post(f"/quiz/attempts/{attempt_id}/save", data=form,
                                           headers={"Accept": "application/json"})
                    statuses.append(response.status_code)
                    if response.status_code == 409:
                        assert response.get_json()["status"] == "closed"
            except Exception as exc:  # reported below, not lost in the thread
                errors.append(repr(exc))

        def submit(client):
            try:
                barrier.wait()
                response = client.post(f"/quiz/attempts/{attempt_id}/submit", data=right)
                assert response.status_code == 302, response.status_code
            except Exception as exc:
                errors.append(repr(exc))

        threads = [threading.Thread(target=save, args=(c, k)) for k, c in enumerate(clients[:savers])]
        threads.append(threading.Thread(target=submit, args=(clients[-1],)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert set(statuses) <= {200, 409}, statuses
        _stored_answers_are_the_graded_ones(db, attempt_id)
        # Once submitted, a save is refused and changes nothing.
        late = clients[0].post(f"/quiz/attempts/{attempt_id}/save", data=wrong,
                               headers={"Accept": "application/json"})
        assert late.status_code == 409 and late.get_json()["status"] == "closed"
        _stored_answers_are_the_graded_ones(db, attempt_id)
