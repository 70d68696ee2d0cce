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
from sqlalchemy.sql.util import ClauseAdapter

from ..attendance.models import ATTENDED_STATUSES, AttendanceRecord, TrainingSession
from ..auth.models import User
from ..catalog.models import Course, Lesson, LessonProgress
from .. import reads
from ..extensions import db
from ..models_base import utcnow
from ..sql import insert_ignoring_duplicates
from ..programmes.models import TrainingProgramme
from ..quizzes.models import AttemptState, Quiz, QuizAttempt
from ..quizzes.results import QuizResult, passed_quizzes
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


def _passed_by(user_id):
    """``passed_quizzes`` read over one official's attempts only: the same rule (the same
    statement, its attempt table swapped for the official's rows), without building the
    union over every official first, which SQLite does not narrow by the outer condition
    (0.27 ms at 5,000 officials, growing with them; 0.01 ms this way)."""
    attempts = QuizAttempt.__table__
    own = select(attempts).where(attempts.c.user_id == user_id).subquery("own_attempt")
    return ClauseAdapter(own).traverse(passed_quizzes())


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
    passed = _passed_by(user_id)
    quiz_passed = Course.id.in_(select(passed.c.course_id).where(passed.c.user_id == user_id))
    complete = select(CourseCompletion.course_id).where(
        CourseCompletion.user_id == user_id, CourseCompletion.course_id == Course.id).exists()
    return (select(Course.id, Course.slug, Course.title, Course.summary, Course.estimated_minutes,
                   total, done, has_quiz, quiz_passed, complete)
            .where(Course.retired_at.is_(None)).order_by(Course.position, Course.slug))


def progress_by_course(user_id: int) -> tuple[CourseProgress, ...]:
    """Each active course with the official's finished lessons, quiz and completion, in one
    query (Core, through learnhub.reads: the ORM's bookkeeping per statement cost more than
    the query on the learner's home page)."""
    rows = reads.rows(_progress_statement(), {"user_id": user_id})
    return tuple(CourseProgress(CourseSummary(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], bool(r[7]), bool(r[8]),
                                bool(r[9])) for r in rows)


@functools.lru_cache(maxsize=1)
def _lessons_left_statement():
    done = select(LessonProgress.id).where(LessonProgress.lesson_id == Lesson.id,
                                           LessonProgress.user_id == bindparam("user_id")).exists()
    return (select(Lesson.course_id, Lesson.id, Lesson.slug, Lesson.title)
            .where(Lesson.retired_at.is_(None), ~done).order_by(Lesson.course_id, Lesson.position, Lesson.slug))


def lessons_left(user_id: int) -> dict[int, tuple[tuple[int, str, str], ...]]:
    """(id, slug, title) of the active lessons the official has not finished, in order, by
    course id: one query for every course (``catalog.services.lesson_outline`` without
    ``done_lesson_ids``, course by course)."""
    out: dict[int, list] = {}
    for course_id, *row in reads.rows(_lessons_left_statement(), {"user_id": user_id}):
        out.setdefault(course_id, []).append(tuple(row))
    return {course_id: tuple(rows) for course_id, rows in out.items()}


@dataclass(frozen=True)
class CoursePage:
    """What a course's page shows: the course, its lessons with the official's marks, its quiz."""
    id: int
    slug: str
    title: str
    overview_html: str
    outline: tuple[tuple[int, str, str], ...]  # (id, slug, title) of the active lessons, in order
    done: frozenset[int]  # the official's finished lessons among them
    quiz_pass_percent: float | None  # None: the course has no quiz

    @property
    def next_lesson(self) -> tuple[int, str, str] | None:
        return next((row for row in self.outline if row[0] not in self.done), None)


@functools.lru_cache(maxsize=1)
def _course_page_statement():
    done = select(LessonProgress.id).where(LessonProgress.lesson_id == Lesson.id,
                                           LessonProgress.user_id == bindparam("user_id")).exists()
    return (select(Course.id, Course.slug, Course.title, Course.overview_html, Quiz.pass_percent,
                   Lesson.id, Lesson.slug, Lesson.title, done)
            .outerjoin(Quiz, Quiz.course_id == Course.id)
            .outerjoin(Lesson, and_(Lesson.course_id == Course.id, Lesson.retired_at.is_(None)))
            .where(Course.slug == bindparam("slug"), Course.retired_at.is_(None))
            .order_by(Lesson.position, Lesson.slug))


def course_page(user_id: int, slug: str) -> CoursePage | None:
    """An active course by its slug with its outline and the official's marks, in one query."""
    rows = reads.rows(_course_page_statement(), {"user_id": user_id, "slug": slug})
    if not rows:
        return None
    first = rows[0]
    outline = tuple((r[5], r[6], r[7]) for r in rows if r[5] is not None)
    return CoursePage(first[0], first[1], first[2], first[3], outline,
                      frozenset(r[5] for r in rows if r[5] is not None and r[8]), first[4])


@dataclass(frozen=True)
class QuizSummary:
    """``quizzes.results.QuizResult``'s values, hashable (the home page's standings are a
    fragment keyed by them), with its own ``status`` and ``closed`` rules."""
    percent: float | None
    passed: bool
    attempts_used: int
    attempts_left: int | None
    in_progress: bool = False
    waiting: bool = False

    status = property(QuizResult.status.fget)
    closed = property(QuizResult.closed.fget)


@functools.lru_cache(maxsize=1)
def _quiz_results_statement():
    user_id = bindparam("user_id")
    passed = _passed_by(user_id)
    quiz_passed = Quiz.course_id.in_(select(passed.c.course_id).where(passed.c.user_id == user_id))
    return (select(Quiz.course_id, Quiz.grading, Quiz.max_attempts, QuizAttempt.state, QuizAttempt.percent,
                   quiz_passed)
            .outerjoin(QuizAttempt, and_(QuizAttempt.quiz_id == Quiz.id, QuizAttempt.user_id == user_id))
            .order_by(Quiz.course_id, QuizAttempt.number))


def quiz_results(user_id: int) -> dict[int, QuizSummary]:
    """``quiz_result`` for every quiz at once, by course id: one query (Core, built once)
    instead of three per quiz. Same reading: the grade that counts by the quiz's grading
    method, "passed" by ``passed_quizzes``, attempts used and left."""
    attempts: dict[int, list] = {}
    quizzes: dict[int, tuple] = {}
    for course_id, grading, max_attempts, state, percent, passed in reads.rows(
            _quiz_results_statement(), {"user_id": user_id}):
        quizzes[course_id] = (grading, max_attempts, bool(passed))
        rows = attempts.setdefault(course_id, [])
        if state is not None:
            rows.append((state, percent))
    out = {}
    for course_id, (grading, max_attempts, passed) in quizzes.items():
        rows = attempts[course_id]
        graded = [percent for state, percent in rows if state == AttemptState.GRADED]
        percent = (graded[-1] if graded else None) if grading == "last" else max(graded, default=None)
        out[course_id] = QuizSummary(
            percent, bool(graded) and passed, len(rows), None if not max_attempts else max(max_attempts - len(rows), 0),
            in_progress=any(state == AttemptState.IN_PROGRESS for state, _ in rows),
            waiting=any(state == AttemptState.NEEDS_GRADING for state, _ in rows))
    return out


def attended_condition(programme_id, user_id):
    """SQL: the official attended one of the programme's sessions (present or late)."""
    # One comparison per status, not IN (...): an expanding IN is rewritten at every execution.
    return (select(AttendanceRecord.id).join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
            .where(TrainingSession.programme_id == programme_id, AttendanceRecord.user_id == user_id,
                   or_(*(AttendanceRecord.status == status for status in ATTENDED_STATUSES))).exists())


def attended(user_id: int, programme: TrainingProgramme) -> bool:
    return bool(db.session.scalar(select(attended_condition(programme.id, user_id))))


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
