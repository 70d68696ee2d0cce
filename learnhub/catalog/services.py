"""Course content sync and learner progress. Callers commit."""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, func, select

from ..content import RENDER_VERSION, render_markdown, word_count
from ..extensions import db
from ..models_base import insert_ignoring_duplicates, utcnow
from .loader import ContentError, ContentProblem, CourseSource, PageSource, load_tree
from .models import ContentPage, Course, Lesson, LessonProgress


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.restored)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.retired)} retired, {len(self.restored)} restored, "
                f"{self.unchanged} unchanged")


def _stamp(*parts: str) -> str:
    """Hash of the source plus the renderer version: equal stamp, nothing to write."""
    h = hashlib.sha256(RENDER_VERSION.encode())
    for part in parts:
        h.update(b"\0" + part.encode())
    return h.hexdigest()


def sync_content(root: str, quizzes_root: str | None = None, progress=None) -> SyncReport:
    """Bring courses, shared pages and quizzes in line with the files.

    Everything (Markdown and GIFT) is parsed first; on any problem
    ContentError is raised and nothing is written. Lessons and questions
    that disappeared are retired, not deleted, so history stays.
    """
    from ..quizzes.banks import load_quiz
    from ..quizzes.services import sync_quiz

    courses, pages = load_tree(root)
    quizzes_dir = Path(quizzes_root) if quizzes_root else Path(root).parent / "quizzes"
    problems: list[ContentProblem] = []
    specs = {}
    for source in courses:
        if source.quiz:
            spec = load_quiz(source.slug, source.quiz, source.path, quizzes_dir, problems)
            if spec is not None:
                specs[source.slug] = spec
    if problems:
        raise ContentError(problems)

    report = SyncReport()
    existing = {c.slug: c for c in db.session.scalars(select(Course))}
    for source in courses:
        course = _sync_course(source, existing.get(source.slug), report)
        if source.slug in specs:
            sync_quiz(course, specs[source.slug], report)
        if progress:
            progress(source.slug)
    present = {c.slug for c in courses}
    for slug, course in existing.items():
        if slug not in present and course.retired_at is None:
            course.retired_at = utcnow()
            report.retired.append(slug)
    _sync_pages(pages, report)
    db.session.flush()
    # Lessons added or retired, or a quiz's rules changed, change who has completed what.
    from .completion import refresh_completions
    refresh_completions()
    return report


def _sync_course(source: CourseSource, course: Course | None, report: SyncReport) -> Course:
    stamp = _stamp(source.sha256, repr(sorted(source.quiz.items(), key=str)))
    if course is None:
        course = Course(slug=source.slug)
        db.session.add(course)
        report.created.append(source.slug)
    elif course.retired_at is not None:
        course.retired_at = None
        report.restored.append(source.slug)
    elif course.source_hash == stamp:
        report.unchanged += 1
        return course
    else:
        report.updated.append(source.slug)
    course.title = source.title
    course.summary = source.summary
    course.position = source.order
    course.estimated_minutes = source.estimated_minutes
    course.overview_html = render_markdown(source.overview).html
    course.quiz_settings = source.quiz
    course.source_hash = stamp
    course.updated_at = utcnow()
    db.session.flush()

    lessons = {lesson.slug: lesson for lesson in db.session.scalars(
        select(Lesson).where(Lesson.course_id == course.id))}
    for ls in source.lessons:
        lstamp = _stamp(ls.sha256, str(ls.order))
        lesson = lessons.get(ls.slug)
        label = f"{source.slug}/{ls.slug}"
        if lesson is None:
            lesson = Lesson(course_id=course.id, slug=ls.slug, version=1)
            db.session.add(lesson)
            report.created.append(label)
        elif lesson.source_hash == lstamp and lesson.retired_at is None:
            continue
        elif lesson.retired_at is not None:
            lesson.retired_at = None
            lesson.version += 1
            report.restored.append(label)
        else:
            lesson.version += 1
            report.updated.append(label)
        rendered = render_markdown(ls.body)
        lesson.title = ls.title
        lesson.position = ls.order
        lesson.body_html = rendered.html
        lesson.toc_html = rendered.toc_html
        lesson.word_count = word_count(ls.body)
        lesson.source_path = ls.path
        lesson.source_hash = lstamp
        lesson.updated_at = utcnow()
    present = {ls.slug for ls in source.lessons}
    for slug, lesson in lessons.items():
        if slug not in present and lesson.retired_at is None:
            lesson.retired_at = utcnow()
            report.retired.append(f"{source.slug}/{slug}")
    return course


def _sync_pages(pages: list[PageSource], report: SyncReport) -> None:
    existing = {p.slug: p for p in db.session.scalars(select(ContentPage))}
    for source in pages:
        stamp = _stamp(source.sha256)
        page = existing.get(source.slug)
        if page is not None and page.source_hash == stamp:
            report.unchanged += 1
            continue
        if page is None:
            page = ContentPage(slug=source.slug)
            db.session.add(page)
            report.created.append(f"page:{source.slug}")
        else:
            report.updated.append(f"page:{source.slug}")
        rendered = render_markdown(source.body)
        page.title = source.title
        page.body_html = rendered.html
        page.toc_html = rendered.toc_html
        page.source_hash = stamp
        page.updated_at = utcnow()


# --- reading ---------------------------------------------------------------

def active_courses() -> list[Course]:
    return list(db.session.scalars(
        select(Course).where(Course.retired_at.is_(None)).order_by(Course.position, Course.slug)))


def course_by_slug(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug, Course.retired_at.is_(None)))


def lesson_outline(course: Course) -> list[tuple[int, str, str]]:
    """(id, slug, title) of the active lessons in order: enough for navigation."""
    return list(db.session.execute(
        select(Lesson.id, Lesson.slug, Lesson.title)
        .where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))
        .order_by(Lesson.position, Lesson.slug)))


def done_lesson_ids(user_id: int, course_id: int | None = None) -> set[int]:
    query = select(LessonProgress.lesson_id).where(LessonProgress.user_id == user_id)
    if course_id is not None:
        query = query.join(Lesson, Lesson.id == LessonProgress.lesson_id).where(Lesson.course_id == course_id)
    return set(db.session.scalars(query))


@dataclass
class CourseProgress:
    course: Course
    total: int
    done: int
    has_quiz: bool = False
    quiz_passed: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def lessons_done(self) -> bool:
        return self.total > 0 and self.done >= self.total

    @property
    def complete(self) -> bool:
        return self.lessons_done and (self.quiz_passed or not self.has_quiz)


def progress_by_course(user_id: int) -> list[CourseProgress]:
    """Each active course with the user's count of finished active lessons: two queries."""
    courses = active_courses()
    totals = dict(db.session.execute(
        select(Lesson.course_id, func.count(Lesson.id))
        .where(Lesson.retired_at.is_(None)).group_by(Lesson.course_id)).all())
    done = dict(db.session.execute(
        select(Lesson.course_id, func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user_id, Lesson.retired_at.is_(None))
        .group_by(Lesson.course_id)).all())
    from ..quizzes.models import Quiz
    from ..quizzes.services import passed_quizzes

    with_quiz = set(db.session.scalars(select(Quiz.course_id)))
    passed_q = passed_quizzes()
    passed = set(db.session.scalars(select(passed_q.c.course_id).where(passed_q.c.user_id == user_id)))
    return [CourseProgress(c, totals.get(c.id, 0), done.get(c.id, 0), c.id in with_quiz, c.id in passed)
            for c in courses]


def mark_lesson_done(user_id: int, lesson: Lesson) -> bool:
    """Record that the user finished the lesson. Returns False if it already was.

    Idempotent under double clicks and concurrent requests: the insert
    ignores a row that already exists instead of failing.
    """
    inserted = bool(insert_ignoring_duplicates(
        LessonProgress, [{"user_id": user_id, "lesson_id": lesson.id, "completed_at": utcnow()}],
        ["user_id", "lesson_id"]))
    if inserted:
        from ..auth.models import User
        from ..certificates.services import issue_certificate_if_eligible
        from .completion import refresh_completions
        refresh_completions(course_id=lesson.course_id, user_id=user_id)
        issue_certificate_if_eligible(db.session.get(User, user_id))
    return inserted



@dataclass
class LessonPage:
    course_id: int
    course_slug: str
    course_title: str
    lesson_id: int
    lesson_slug: str
    title: str
    body_html: str
    toc_html: str
    position: int
    count: int
    previous: tuple[str, str] | None
    following: tuple[str, str] | None
    completed_at: object


@functools.lru_cache(maxsize=1)
def _lesson_page_statement():
    """Built once: constructing this SELECT costs more than running it.

    The statement holds no data, only bind parameters, so sharing it across
    requests cannot serve anything stale.
    """
    from sqlalchemy import and_, bindparam
    from sqlalchemy.orm import aliased

    other = aliased(Lesson)
    active = and_(other.course_id == Lesson.course_id, other.retired_at.is_(None))
    before = and_(active, (other.position < Lesson.position)
                  | ((other.position == Lesson.position) & (other.slug < Lesson.slug)))
    after = and_(active, (other.position > Lesson.position)
                 | ((other.position == Lesson.position) & (other.slug > Lesson.slug)))

    def neighbour(condition, descending: bool, column):
        order = (other.position.desc(), other.slug.desc()) if descending else (other.position, other.slug)
        return select(column).where(condition).order_by(*order).limit(1).scalar_subquery()

    return (
        select(Course.id, Course.slug, Course.title, Lesson.id, Lesson.slug, Lesson.title, Lesson.body_html,
               Lesson.toc_html, LessonProgress.completed_at,
               select(func.count(other.id)).where(before).scalar_subquery(),
               select(func.count(other.id)).where(active).scalar_subquery(),
               neighbour(before, True, other.slug), neighbour(before, True, other.title),
               neighbour(after, False, other.slug), neighbour(after, False, other.title))
        .join(Course, Course.id == Lesson.course_id)
        .outerjoin(LessonProgress, and_(LessonProgress.lesson_id == Lesson.id,
                                        LessonProgress.user_id == bindparam("user_id")))
        .where(Course.slug == bindparam("course_slug"), Course.retired_at.is_(None),
               Lesson.slug == bindparam("lesson_slug"), Lesson.retired_at.is_(None)))


def lesson_page(course_slug: str, lesson_slug: str, user_id: int) -> LessonPage | None:
    """Everything a lesson page shows, in one query: the lesson, its course, the learner's
    completion, its place in the course and its neighbours."""
    # A Core statement on the session's connection: the same transaction, without the
    # ORM's per-statement bookkeeping, which costs more than the query on this hot page.
    row = db.session.connection().execute(_lesson_page_statement(), {
        "course_slug": course_slug, "lesson_slug": lesson_slug, "user_id": user_id}).first()
    if row is None:
        return None
    (course_id, c_slug, c_title, lesson_id, l_slug, title, body, toc, completed_at, n_before, total,
     prev_slug, prev_title, next_slug, next_title) = row
    return LessonPage(course_id, c_slug, c_title, lesson_id, l_slug, title, body, toc, n_before + 1, total,
                      (prev_slug, prev_title) if prev_slug else None,
                      (next_slug, next_title) if next_slug else None, completed_at)
