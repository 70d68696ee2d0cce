"""The rules of progress, each written once: course complete, programme rule met.

"Quiz passed" is ``quizzes.results.passed_quizzes`` (the quiz pages need it and sit
below this package); "course complete" is ``completions()`` here, built on it:
every active lesson done and, if the course has a quiz, the quiz passed. Pages,
reports and certificates read the stored ``course_completion`` that
``refresh_completions`` keeps equal to it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, func, literal, or_, select, tuple_, union_all

from ..attendance.models import ATTENDED_STATUSES, AttendanceRecord, TrainingSession
from ..auth.models import User
from ..catalog.models import Course, Lesson, LessonProgress
from ..extensions import db
from ..models_base import utcnow
from ..sql import insert_ignoring_duplicates
from ..programmes.models import TrainingProgramme
from ..quizzes.models import Quiz
from ..quizzes.results import passed_quizzes
from .models import CourseCompletion


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
    """``sync_completions``, counted: (added, removed)."""
    added, removed = sync_completions(course_id, user_id)
    return len(added), len(removed)


@functools.lru_cache(maxsize=4)
def _sync_statements(by_course: bool, by_user: bool):
    """What should be stored and what is, for one official, one course or everything;
    built once per shape with bind parameters (building ``completions()``,
    with the "quiz passed" union inside it, cost more than running it for one official)."""
    done = completions()
    wanted = select(done.c.user_id, done.c.course_id)
    stored = select(CourseCompletion.user_id, CourseCompletion.course_id)
    if by_course:
        wanted = wanted.where(done.c.course_id == bindparam("course_id"))
        stored = stored.where(CourseCompletion.course_id == bindparam("course_id"))
    if by_user:
        wanted = wanted.where(done.c.user_id == bindparam("user_id"))
        stored = stored.where(CourseCompletion.user_id == bindparam("user_id"))
    # One statement, each row tagged with its side: one round trip per progress event.
    return union_all(select(literal(True).label("wanted"), wanted.subquery()),
                     select(literal(False).label("wanted"), stored.subquery()))


def sync_completions(course_id: int | None = None, user_id: int | None = None):
    """Bring ``course_completion`` in line with ``completions()`` for one official, one
    course, or everything. Writes only the difference; returns the (user_id, course_id)
    pairs added and removed.

    A completion that stops holding (a lesson added to the course, a "last attempt"
    quiz failed afterwards) is removed; it comes back, with a new date, when earned again.
    """
    statement = _sync_statements(course_id is not None, user_id is not None)
    db.session.flush()  # as the ORM's autoflush would: the cause's pending rows count
    wanted, stored = set(), set()
    for is_wanted, u, c in db.session.connection().execute(statement, {"course_id": course_id, "user_id": user_id}):
        (wanted if is_wanted else stored).add((u, c))
    added = sorted(wanted - stored)
    if added:
        now = utcnow()
        insert_ignoring_duplicates(CourseCompletion, [{"user_id": u, "course_id": c, "completed_at": now}
                                                      for u, c in added], ["user_id", "course_id"])
    stale = sorted(stored - wanted)
    for start in range(0, len(stale), 500):
        db.session.execute(delete(CourseCompletion).where(
            tuple_(CourseCompletion.user_id, CourseCompletion.course_id).in_(stale[start:start + 500])))
    return added, stale


def completion_stored() -> bool:
    return db.session.scalar(select(CourseCompletion.id).limit(1)) is not None


def completed_course_ids(user_id: int) -> set[int]:
    return set(db.session.scalars(select(CourseCompletion.course_id).where(CourseCompletion.user_id == user_id)))


@dataclass(frozen=True)
class CourseSummary:
    """What the learner's pages show of a course."""
    id: int
    slug: str
    title: str
    summary: str
    estimated_minutes: int


@dataclass(frozen=True)
class CourseProgress:
    """Hashable: the home page's course cards are a fragment keyed by these values."""
    course: CourseSummary
    total: int
    done: int
    has_quiz: bool = False
    quiz_passed: bool = False
    complete: bool = False  # from the stored completion: the one definition, as reports count it

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def lessons_done(self) -> bool:
        return self.total > 0 and self.done >= self.total


@functools.lru_cache(maxsize=1)
def _progress_statement():
    """Built once (it holds bind parameters only): building this SELECT, with the "quiz
    passed" union inside it, cost more than running it."""
    user_id = bindparam("user_id")
    active_lesson = and_(Lesson.course_id == Course.id, Lesson.retired_at.is_(None))
    total = select(func.count(Lesson.id)).where(active_lesson).scalar_subquery()
    done = (select(func.count(LessonProgress.id)).join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(active_lesson, LessonProgress.user_id == user_id).scalar_subquery())
    has_quiz = select(Quiz.id).where(Quiz.course_id == Course.id).exists()
    passed = passed_quizzes()
    quiz_passed = Course.id.in_(select(passed.c.course_id).where(passed.c.user_id == user_id))
    complete = select(CourseCompletion.course_id).where(
        CourseCompletion.user_id == user_id, CourseCompletion.course_id == Course.id).exists()
    return (select(Course.id, Course.slug, Course.title, Course.summary, Course.estimated_minutes,
                   total, done, has_quiz, quiz_passed, complete)
            .where(Course.retired_at.is_(None)).order_by(Course.position, Course.slug))


def progress_by_course(user_id: int) -> tuple[CourseProgress, ...]:
    """Each active course with the official's finished lessons, quiz and completion, in one
    query (Core, on the session's connection: the ORM's bookkeeping per statement cost more
    than the query on the learner's home page)."""
    rows = db.session.connection().execute(_progress_statement(), {"user_id": user_id})
    return tuple(CourseProgress(CourseSummary(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], bool(r[7]), bool(r[8]),
                                bool(r[9])) for r in rows)


def attended(user_id: int, programme: TrainingProgramme) -> bool:
    return db.session.scalar(select(AttendanceRecord.id).join(TrainingSession).where(
        TrainingSession.programme_id == programme.id, AttendanceRecord.user_id == user_id,
        AttendanceRecord.status.in_(ATTENDED_STATUSES)).limit(1)) is not None


@dataclass
class Eligibility:
    eligible: bool
    attendance_ok: bool
    courses_done: list[int]
    courses_missing: list[int]


def eligibility(user: User, programme: TrainingProgramme) -> Eligibility:
    """Does the official meet the programme's rule: every required course complete and,
    if the programme asks for it, the conference attended?"""
    done = completed_course_ids(user.id)
    required = [c.id for c in programme.courses]
    attendance_ok = not programme.requires_attendance or attended(user.id, programme)
    missing = [c for c in required if c not in done]
    return Eligibility(bool(required) and attendance_ok and not missing, attendance_ok,
                       [c for c in required if c in done], missing)
