"""When is a course complete for an official: every active lesson done and, if the
course has a quiz, the quiz passed. One definition, used by learners' pages and reports."""
from __future__ import annotations

from sqlalchemy import and_, delete, func, or_, select, tuple_

from ..extensions import db
from ..models_base import insert_ignoring_duplicates, utcnow
from ..quizzes.models import Quiz
from ..quizzes.services import passed_quizzes
from .models import CourseCompletion, Lesson, LessonProgress


def completions():
    """Subquery of (user_id, course_id) for every course a user has completed."""
    totals = (select(Lesson.course_id, func.count(Lesson.id).label("total"))
              .where(Lesson.retired_at.is_(None)).group_by(Lesson.course_id).subquery())
    done = (select(LessonProgress.user_id, Lesson.course_id, func.count(LessonProgress.id).label("n"))
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(Lesson.retired_at.is_(None))
            .group_by(LessonProgress.user_id, Lesson.course_id).subquery())
    passed = passed_quizzes()
    return (select(done.c.user_id, done.c.course_id)
            .join(totals, and_(totals.c.course_id == done.c.course_id, done.c.n >= totals.c.total))
            .outerjoin(passed, and_(passed.c.user_id == done.c.user_id, passed.c.course_id == done.c.course_id))
            .where(or_(done.c.course_id.not_in(select(Quiz.course_id)), passed.c.user_id.is_not(None)))
            .subquery())


def refresh_completions(course_id: int | None = None, user_id: int | None = None) -> tuple[int, int]:
    """Bring ``course_completion`` in line with ``completions()`` for one official, one
    course, or everything. Writes only the difference; returns (added, removed).

    A completion that stops holding (a lesson added to the course, a "last attempt"
    quiz failed afterwards) is removed; it comes back, with a new date, when earned again.
    """
    done = completions()
    wanted_q = select(done.c.user_id, done.c.course_id)
    stored_q = select(CourseCompletion.user_id, CourseCompletion.course_id)
    if course_id is not None:
        wanted_q = wanted_q.where(done.c.course_id == course_id)
        stored_q = stored_q.where(CourseCompletion.course_id == course_id)
    if user_id is not None:
        wanted_q = wanted_q.where(done.c.user_id == user_id)
        stored_q = stored_q.where(CourseCompletion.user_id == user_id)
    wanted = set(db.session.execute(wanted_q).all())
    stored = set(db.session.execute(stored_q).all())
    now = utcnow()
    added = insert_ignoring_duplicates(
        CourseCompletion, [{"user_id": u, "course_id": c, "completed_at": now} for u, c in sorted(wanted - stored)],
        ["user_id", "course_id"])
    stale = sorted(stored - wanted)
    for start in range(0, len(stale), 500):
        db.session.execute(delete(CourseCompletion).where(
            tuple_(CourseCompletion.user_id, CourseCompletion.course_id).in_(stale[start:start + 500])))
    return len(added), len(stale)
