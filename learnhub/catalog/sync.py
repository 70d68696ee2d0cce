"""Courses and shared pages, from parsed sources into the database. Callers commit.

Unchanged sources write nothing (a stamp of source and renderer); a changed
lesson gets a new version; lessons and courses that disappeared are retired,
never deleted, so progress history stays.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from ..content import RENDER_VERSION, course_links, render_markdown, word_count
from ..extensions import db
from ..models_base import utcnow
from .loader import CourseSource, PageSource
from .models import ContentPage, Course, Lesson


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    unchanged: int = 0
    left_alone: list[str] = field(default_factory=list)  # courses managed in the app

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


def attachments_url(course_slug: str) -> str:
    """Where a course's published attachments are served (materials serves this path)."""
    return f"/courses/{course_slug}/files/"


def sync_course(source: CourseSource, course: Course | None, report: SyncReport) -> Course:
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
    links = course_links(attachments_url(source.slug), source.attachments)
    course.overview_html = render_markdown(source.overview, links).html
    course.quiz_settings = source.quiz
    course.source_hash = stamp
    course.updated_at = utcnow()
    db.session.flush()

    lessons = {lesson.slug: lesson for lesson in db.session.scalars(
        select(Lesson).where(Lesson.course_id == course.id))}
    for ls in source.lessons:
        # The attachments' names too: a link to one that appears or goes renders differently.
        lstamp = _stamp(ls.sha256, str(ls.order), "\0".join(sorted(source.attachments)))
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
        rendered = render_markdown(ls.body, links)
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


def sync_pages(pages: list[PageSource], report: SyncReport) -> None:
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


def retire_missing_courses(present: set[str], report: SyncReport) -> None:
    """Retire the active courses whose slug is not in ``present`` (pass the app-managed ones too)."""
    for course in db.session.scalars(select(Course).where(Course.retired_at.is_(None))):
        if course.slug not in present:
            course.retired_at = utcnow()
            report.retired.append(course.slug)
