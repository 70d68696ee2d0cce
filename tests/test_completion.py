"""Stored course completions follow lessons done, quizzes passed and course changes."""
import shutil

import pytest
from sqlalchemy import select

from learnhub.progress.rules import completions, refresh_completions
from learnhub.catalog.models import Lesson
from learnhub.progress.models import CourseCompletion
from learnhub.catalog.services import course_by_slug, mark_lesson_done
from learnhub.materials.sync import sync_content
from learnhub.quizzes.autofill import answer_form
from learnhub.models_base import utcnow
from learnhub.quizzes.attempts import finish_attempt, grade_essay, quiz_for, save_answers, start_attempt

from . import factories


@pytest.fixture
def course(app, db, units):
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    return course_by_slug("iso-co-ban")


def stored(db) -> set[tuple[int, int]]:
    return {tuple(r) for r in db.session.execute(select(CourseCompletion.user_id, CourseCompletion.course_id))}


def derived(db) -> set[tuple[int, int]]:
    done = completions()
    return {tuple(r) for r in db.session.execute(select(done.c.user_id, done.c.course_id))}


def take_quiz(db, user, course, wrong=False):
    attempt = start_attempt(user.id, quiz_for(course), seed=3)
    save_answers(attempt.id, answer_form(attempt, wrong))
    finish_attempt(attempt)
    for answer in attempt.answers:
        if answer.needs_grading:  # the trainer marks the essay; that completes the attempt
            grade_essay(answer, 0.0 if wrong else 1.0, "", user.id)
    db.session.commit()


def lessons_of(db, course):
    return db.session.scalars(select(Lesson).where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))).all()


def test_completion_is_stored_once_lessons_and_quiz_are_done(db, course):
    official = factories.make_user("official")
    for lesson in lessons_of(db, course):
        mark_lesson_done(official.id, lesson)
        mark_lesson_done(official.id, lesson)  # a double click
    db.session.commit()
    assert stored(db) == set()  # the quiz is still to pass
    take_quiz(db, official, course, wrong=True)
    assert stored(db) == set()
    quiz_for(course).max_attempts = 5
    take_quiz(db, official, course)
    assert stored(db) == derived(db) == {(official.id, course.id)}


def test_a_lesson_added_to_the_course_reopens_it(app, db, course, tmp_path):
    official = factories.make_user("official")
    for lesson in lessons_of(db, course):
        mark_lesson_done(official.id, lesson)
    take_quiz(db, official, course)
    assert stored(db) == {(official.id, course.id)}
    courses, quizzes = tmp_path / "courses", tmp_path / "quizzes"
    shutil.copytree(app.config["COURSES_DIR"], courses)
    shutil.copytree(app.config["QUIZZES_DIR"], quizzes)
    (courses / "iso-co-ban" / "04-bai-moi.md").write_text("---\ntitle: Bài mới\norder: 4\n---\nNội dung.\n",
                                                          encoding="utf-8")
    sync_content(str(courses), str(quizzes))
    db.session.commit()
    assert stored(db) == derived(db) == set()
    mark_lesson_done(official.id, db.session.scalar(select(Lesson).where(Lesson.slug == "bai-moi")))
    db.session.commit()
    assert stored(db) == {(official.id, course.id)}


def test_refresh_repairs_whatever_drifted_and_then_writes_nothing(db, course):
    official = factories.make_user("official")
    for lesson in lessons_of(db, course):
        mark_lesson_done(official.id, lesson)
    take_quiz(db, official, course)
    db.session.execute(CourseCompletion.__table__.delete())
    db.session.add(CourseCompletion(user_id=factories.make_user("official").id, course_id=course.id))
    db.session.commit()
    assert refresh_completions() == (1, 1)
    assert stored(db) == derived(db)
    assert refresh_completions() == (0, 0)


def test_refresh_handles_more_completions_than_one_statement_carries(db, course):
    # 12,000 officials who all finished: more rows than SQLite or PostgreSQL take parameters for.
    from learnhub.auth.models import User
    from learnhub.catalog.models import LessonProgress
    from learnhub.quizzes.models import Quiz
    db.session.execute(Quiz.__table__.delete())  # a course without a quiz: lessons alone complete it
    unit = factories.unit("D217-01")
    db.session.execute(User.__table__.insert(), [
        {"username": f"cb{i}", "full_name": f"Cán bộ {i}", "role": "official", "unit_id": unit.id,
         "password_hash": "", "position": "", "email": "", "phone": "", "is_active": True,
         "must_change_password": False, "created_at": utcnow(), "updated_at": utcnow()}
        for i in range(12000)])
    ids = db.session.scalars(select(User.id)).all()
    db.session.execute(LessonProgress.__table__.insert(), [
        {"user_id": u, "lesson_id": lesson.id, "completed_at": utcnow()}
        for u in ids for lesson in lessons_of(db, course)])
    assert refresh_completions() == (12000, 0)
    assert refresh_completions(course_id=course.id) == (0, 0)
