"""When is a course complete for an official: every active lesson done and, if the
course has a quiz, the quiz passed. One definition, used by learners' pages and reports."""
from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from ..quizzes.models import Quiz
from ..quizzes.services import passed_quizzes
from .models import Lesson, LessonProgress


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
