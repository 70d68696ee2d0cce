"""Courses, shared pages and question banks from ``courses/`` and ``quizzes/`` into the database.

One path for every source of content: parse everything first (pure, no
database), then write through ``catalog.sync`` and ``quizzes.bank_sync``, then
announce the change so that course completion is brought up to date. Callers
commit.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ..catalog.loader import ContentError, ContentProblem, load_tree
from ..catalog.models import Course
from ..catalog.sync import SyncReport, retire_missing_courses, sync_course, sync_pages
from ..extensions import db
from ..quizzes.bank_sync import sync_quiz
from ..quizzes.banks import load_quiz
from ..signals import progress_recorded


def sync_content(root: str, quizzes_root: str | None = None, on_course=None) -> SyncReport:
    """Bring courses, shared pages and quizzes in line with the files.

    Everything (Markdown and GIFT) is parsed first; on any problem
    ContentError is raised and nothing is written. Lessons and questions
    that disappeared are retired, not deleted, so history stays.
    ``on_course(slug)`` is called after each course (a progress bar).
    """
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
        course = sync_course(source, existing.get(source.slug), report)
        if source.slug in specs:
            sync_quiz(course, specs[source.slug], report)
        if on_course:
            on_course(source.slug)
    retire_missing_courses({c.slug for c in courses}, report)
    sync_pages(pages, report)
    db.session.flush()
    # Lessons added or retired, or a quiz's rules changed, change who has completed what.
    progress_recorded.send("materials", user_id=None, course_id=None, changed=report.changed)
    return report
