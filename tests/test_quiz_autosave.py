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
from learnhub.signals import progress_recorded

from . import factories
from .querycount import Statements


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
    official_id, quiz_id, quiz_course_id = official.id, quiz.id, quiz.course_id
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
        signals = []

        def heard(sender, **kwargs):
            if sender == "quizzes":
                signals.append(kwargs)

        progress_recorded.connect(heard)
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            progress_recorded.disconnect(heard)
        assert not errors, errors
        graded = db.session.get(QuizAttempt, attempt_id).state == "graded"
        # Certificates follow the signal: once per graded attempt (an essay waits for a trainer).
        assert signals == ([{"user_id": official_id, "course_id": quiz_course_id}] if graded else [])
        assert set(statuses) <= {200, 409}, statuses
        _stored_answers_are_the_graded_ones(db, attempt_id)
        # Once submitted, a save is refused and changes nothing.
        late = clients[0].post(f"/quiz/attempts/{attempt_id}/save", data=wrong,
                               headers={"Accept": "application/json"})
        assert late.status_code == 409 and late.get_json()["status"] == "closed"
        _stored_answers_are_the_graded_ones(db, attempt_id)


# --- queries: start, page, save and submit cost the same for 5 questions as for 30 ---

_KINDS = [
    "::MC-{i}:: Câu hỏi một lựa chọn số {i}? {{=Đúng ~Sai một ~Sai hai}}",
    "::TF-{i}:: Mệnh đề số {i} là đúng. {{T}}",
    "::SA-{i}:: Viết tắt của hệ thống quản lý chất lượng (câu {i})? {{=QMS}}",
    "::NU-{i}:: Số {i} là số nào? {{#{i}}}",
    "::MA-{i}:: Ghép các cặp (câu {i}). {{=Điều 9 -> Đánh giá =Điều 10 -> Cải tiến =Điều 7 -> Hỗ trợ}}",
    "::MR-{i}:: Chọn các nguyên tắc (câu {i}). {{~%50%Sự lãnh đạo ~%50%Tiếp cận theo quá trình ~%-100%Kiểm tra cuối}}",
]


@pytest.fixture
def counting_quiz(app, db, tmp_path):
    """A course whose bank has 30 questions of every automatically graded type."""
    import shutil
    courses, quizzes = tmp_path / "courses", tmp_path / "quizzes"
    shutil.copytree(app.config["COURSES_DIR"], courses)
    shutil.copytree(app.config["QUIZZES_DIR"], quizzes)
    course = courses / "dem-cau-hoi"
    course.mkdir()
    (course / "course.md").write_text(
        '---\ntitle: "Khóa đếm câu hỏi"\norder: 9\nquiz:\n  bank: dem-cau-hoi.gift\n  questions_per_attempt: 30\n'
        "  time_limit_minutes: 30\n  max_attempts: 0\n  pass_percent: 50\n---\nKhóa thử.\n", encoding="utf-8")
    (course / "01-bai.md").write_text('---\ntitle: "Bài 1"\norder: 1\n---\nNội dung.\n', encoding="utf-8")
    (quizzes / "dem-cau-hoi.gift").write_text(
        "\n\n".join(_KINDS[i % len(_KINDS)].format(i=i + 1) for i in range(30)) + "\n", encoding="utf-8")
    sync_content(str(courses), str(quizzes))
    db.session.commit()
    return quiz_for(course_by_slug("dem-cau-hoi"))


def _one_changed(form, wrong_form):
    """``form`` with the first answer replaced by the wrong one."""
    changed = form.copy()
    for key in {k for k in wrong_form if k.startswith("q1-") or k == "q1"}:
        changed.setlist(key, wrong_form.getlist(key))
    return changed


def test_quiz_queries_do_not_grow_with_the_number_of_questions(app, client, db, counting_quiz,
                                                                          login_as):
    user_id, quiz_id = login_as("official").id, counting_quiz.id
    counts = {}
    for size in (5, 30):
        quiz = db.session.get(Quiz, quiz_id)
        quiz.questions_per_attempt = size
        db.session.commit()
        db.session.remove()
        with Statements(db.engine) as start:  # the attempt and its slots written
            started = client.post("/courses/dem-cau-hoi/quiz/start")
        assert started.status_code == 302
        attempt_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.number == (1 if size == 5 else 2) and len(attempt.answers) == size
        right, wrong = answer_form(attempt), answer_form(attempt, wrong=True)
        changed = _one_changed(right, wrong)
        db.session.remove()
        url = f"/quiz/attempts/{attempt_id}"
        with Statements(db.engine) as page:  # the page with every question
            shown = client.get(url)
        assert shown.status_code == 200 and shown.get_data(as_text=True).count('class="question"') == size
        with Statements(db.engine) as first:  # every answer is new
            assert client.post(f"{url}/save", data=right, headers={"Accept": "application/json"}).status_code == 200
        with Statements(db.engine) as one:  # one answer changed
            assert client.post(f"{url}/save", data=changed, headers={"Accept": "application/json"}).status_code == 200
        with Statements(db.engine) as same:  # nothing changed
            assert client.post(f"{url}/save", data=changed, headers={"Accept": "application/json"}).status_code == 200
        with Statements(db.engine) as submit:  # one answer changed back, then graded
            assert client.post(f"{url}/submit", data=right).status_code == 302
        counts[size] = {"start": len(start.sql), "page": len(page.sql), "first save": len(first.sql),
                        "save": len(one.sql), "unchanged save": len(same.sql), "submit": len(submit.sql)}
        stored = db.session.get(QuizAttempt, attempt_id)
        assert stored.state == "graded" and stored.score == size  # what was posted last is what counts
        _stored_answers_are_the_graded_ones(db, attempt_id)
        writes = one.writes
        assert len(writes) == 1 and "attempt_answer" in writes[0]
        assert not same.writes
    assert counts[5] == counts[30], counts
    # The logged-in user, the attempt with its slots, the changed answers.
    assert counts[30]["save"] <= 3, counts


def test_save_and_submit_keep_ownership_and_csrf(app, client, db, quiz, login_as):
    other = factories.make_user("official")
    theirs = start_attempt(other.id, quiz, seed=2)
    db.session.commit()
    form = answer_form(theirs)
    user = login_as("official")
    json = {"Accept": "application/json"}
    # Another official's attempt does not exist for you, and stays as it was.
    assert client.post(f"/quiz/attempts/{theirs.id}/save", data=form, headers=json).status_code == 404
    assert client.post(f"/quiz/attempts/{theirs.id}/submit", data=form).status_code == 404
    db.session.expire_all()
    assert db.session.get(QuizAttempt, theirs.id).state == "in_progress"
    assert all(a.response is None for a in db.session.get(QuizAttempt, theirs.id).answers)
    mine = start_attempt(user.id, quiz, seed=3)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/quiz/attempts/{mine.id}/save", data=answer_form(mine), headers=json)
        assert refused.status_code == 400
        assert client.post(f"/quiz/attempts/{mine.id}/submit", data=answer_form(mine)).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.expire_all()
    mine = db.session.get(QuizAttempt, mine.id)
    assert mine.state == "in_progress" and all(a.response is None for a in mine.answers)


def test_a_save_after_the_time_limit_is_refused_and_the_attempt_graded_with_what_was_saved(
        client, db, quiz, login_as):
    from datetime import timedelta

    from learnhub.models_base import utcnow
    user = login_as("official")
    attempt = start_attempt(user.id, quiz, now=utcnow() - timedelta(minutes=19, seconds=50), seed=4)
    db.session.commit()
    right, wrong = answer_form(attempt), answer_form(attempt, wrong=True)
    attempt_id = attempt.id
    json = {"Accept": "application/json"}
    assert client.post(f"/quiz/attempts/{attempt_id}/save", data=right, headers=json).status_code == 200
    db.session.execute(QuizAttempt.__table__.update().where(QuizAttempt.id == attempt_id)
                       .values(deadline_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    late = client.post(f"/quiz/attempts/{attempt_id}/save", data=wrong, headers=json)
    assert late.status_code == 409 and late.get_json()["status"] == "closed"
    assert late.get_json()["redirect"].endswith(f"/quiz/attempts/{attempt_id}/review")
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    essays = sum(1 for a in attempt.answers if a.question.qtype == "essay")
    assert attempt.state in ("graded", "needs_grading") and attempt.score == len(attempt.answers) - essays
    assert attempt.submitted_at == attempt.deadline_at
    _stored_answers_are_the_graded_ones(db, attempt_id)
