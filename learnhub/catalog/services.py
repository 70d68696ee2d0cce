"""Reading courses and lessons, and recording that a lesson is done. Callers commit."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from .. import reads
from ..extensions import db
from ..models_base import utcnow
from ..sql import insert_ignoring_duplicates
from ..signals import progress_recorded
from .models import Course, Lesson, LessonProgress


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


def mark_lesson_done(user_id: int, lesson: Lesson) -> bool:
    """Record that the user finished the lesson. Returns False if it already was.

    Idempotent under double clicks and concurrent requests: the insert
    ignores a row that already exists instead of failing.
    """
    inserted = bool(insert_ignoring_duplicates(
        LessonProgress, [{"user_id": user_id, "lesson_id": lesson.id, "lesson_version": lesson.version,
                          "completed_at": utcnow()}],
        ["user_id", "lesson_id"]))
    if inserted:
        progress_recorded.send("catalog", user_id=user_id, course_id=lesson.course_id)
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
    # Through learnhub.reads: the ORM's per-statement bookkeeping costs more than the query.
    row = reads.first(_lesson_page_statement(), {
        "course_slug": course_slug, "lesson_slug": lesson_slug, "user_id": user_id})
    if row is None:
        return None
    (course_id, c_slug, c_title, lesson_id, l_slug, title, body, toc, completed_at, n_before, total,
     prev_slug, prev_title, next_slug, next_title) = row
    return LessonPage(course_id, c_slug, c_title, lesson_id, l_slug, title, body, toc, n_before + 1, total,
                      (prev_slug, prev_title) if prev_slug else None,
                      (next_slug, next_title) if next_slug else None, completed_at)
