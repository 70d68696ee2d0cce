"""The one path from course sources to the database, whatever holds them.

Files on the server (``learnhub sync``), an upload, a draft being published and a
version rolled back to all come here: parse everything first (pure, no database:
``catalog.loader`` and ``quizzes.banks``), then write through ``catalog.sync`` and
``quizzes.bank_sync``, then announce the change so that course completion is
brought up to date. Callers commit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ..catalog.loader import ContentError, ContentProblem, CourseSource, course_folder_files, load_tree, read_course
from ..catalog.models import Course, Lesson
from ..catalog.sync import SyncReport, retire_missing_courses, sync_course, sync_pages
from ..extensions import db
from ..quizzes.bank_sync import sync_quiz
from ..quizzes.banks import QuizSpec, load_quiz
from ..signals import progress_recorded
from ..sql import insert_ignoring_duplicates
from . import snapshots
from .models import Blob, CourseAttachment, CourseVersion, ManagedCourse
from .uploads import UploadRefused, check_attachment


@dataclass
class ParsedCourse:
    source: CourseSource
    spec: QuizSpec | None
    snapshot: dict


def parse_snapshot(slug: str, snapshot: dict, prefix: str | None = None) -> ParsedCourse:
    """Check a whole course held in memory (a draft, an upload, a version); ContentError on any problem."""
    problems: list[ContentProblem] = []
    label = slug if prefix is None else prefix
    source = read_course(slug, snapshots.course_files(snapshot), label, problems)
    spec = None
    if source is not None and source.quiz:
        spec = load_quiz(slug, source.quiz, source.path, snapshots.banks(snapshot), problems, banks_label=label)
    if problems or source is None:
        raise ContentError(problems or [ContentProblem(label, 0, "course could not be read")])
    return ParsedCourse(source, spec, snapshot)


def store_blob(data: bytes, content_type: str) -> str:
    """Keep a file's content once, by its SHA-256 (safe when two servers store the same at once)."""
    sha = hashlib.sha256(data).hexdigest()
    if db.session.scalar(select(Blob.id).where(Blob.sha256 == sha)) is None:
        insert_ignoring_duplicates(Blob, [{"sha256": sha, "size": len(data), "content_type": content_type,
                                           "data": data}], ["sha256"])
    return sha


def managed_slugs() -> set[str]:
    return set(db.session.scalars(select(ManagedCourse.slug)))


def latest_version(slug: str) -> CourseVersion | None:
    return db.session.scalar(select(CourseVersion).where(CourseVersion.slug == slug)
                             .order_by(CourseVersion.number.desc()).limit(1))


def write_course(parsed: ParsedCourse, report: SyncReport) -> Course:
    """Write one parsed course: course and lessons, quiz and bank, attachments."""
    existing = db.session.scalar(select(Course).where(Course.slug == parsed.source.slug))
    course = sync_course(parsed.source, existing, report)
    if parsed.spec is not None:
        sync_quiz(course, parsed.spec, report)
    db.session.flush()
    wanted = parsed.snapshot["attachments"]
    current = {a.name: a for a in db.session.scalars(
        select(CourseAttachment).where(CourseAttachment.course_id == course.id))}
    for name, row in current.items():
        if name not in wanted:
            db.session.delete(row)
    for name, info in wanted.items():
        row = current.get(name)
        if row is None:
            db.session.add(CourseAttachment(course_id=course.id, name=name, sha256=info["sha256"],
                                            content_type=info["content_type"]))
        elif row.sha256 != info["sha256"]:
            row.sha256, row.content_type = info["sha256"], info["content_type"]
    db.session.flush()
    return course


def record_version(course: Course, snapshot: dict, *, source: str, author_id: int | None, note: str,
                   restored_from: int | None = None) -> CourseVersion:
    number = (db.session.scalar(select(func.max(CourseVersion.number))
                                .where(CourseVersion.slug == course.slug)) or 0) + 1
    lessons = db.session.execute(select(Lesson.slug, Lesson.version).where(
        Lesson.course_id == course.id, Lesson.retired_at.is_(None)))
    version = CourseVersion(slug=course.slug, number=number, snapshot=snapshots.clone(snapshot),
                            lesson_versions={slug: v for slug, v in lessons}, note=note, source=source,
                            author_id=author_id, restored_from=restored_from)
    db.session.add(version)
    db.session.flush()
    return version


def _disk_snapshot(course_dir: Path, source: CourseSource, quizzes_dir: Path,
                   problems: list[ContentProblem], rel: str) -> tuple[dict, dict[str, tuple[bytes, str]]]:
    """The snapshot of a course folder, and its attachments' contents (checked by content)."""
    snapshot = snapshots.empty()
    blobs: dict[str, tuple[bytes, str]] = {}
    for name, data in course_folder_files(course_dir).items():
        if name.startswith("attachments/"):
            try:
                attachment = check_attachment(name, data)
            except UploadRefused as exc:
                problems.append(ContentProblem(f"{rel}/{name}", 0, str(exc)))
                continue
            sha = hashlib.sha256(data).hexdigest()
            snapshot["attachments"][attachment.name] = {"sha256": sha, "content_type": attachment.content_type,
                                                        "size": len(data)}
            blobs[sha] = (data, attachment.content_type)
        else:
            snapshot["files"][name] = data.decode("utf-8")  # the loader has checked it is UTF-8
    bank = source.quiz.get("bank") if source.quiz else None
    if isinstance(bank, str) and (quizzes_dir / bank).is_file():
        snapshot["bank"] = {"name": bank, "text": (quizzes_dir / bank).read_bytes().decode("utf-8")}
    return snapshot, blobs


def sync_content(root: str, quizzes_root: str | None = None, on_course=None) -> SyncReport:
    """Bring the file-managed courses, shared pages and quizzes in line with the files.

    Everything (Markdown and GIFT) is parsed first; on any problem
    ContentError is raised and nothing is written. Lessons and questions
    that disappeared are retired, not deleted, so history stays. Courses
    managed in the app are left alone (``report.left_alone``). A course whose
    files changed gets a new version (source "files"), so its history and
    export work as for the others. ``on_course(slug)`` is called after each
    course (a progress bar).
    """
    managed = managed_slugs()
    courses, pages = load_tree(root, skip=managed)
    root_path = Path(root)
    quizzes_dir = Path(quizzes_root) if quizzes_root else root_path.parent / "quizzes"
    problems: list[ContentProblem] = []
    specs = {}
    disk = {}
    for source in courses:
        if source.quiz:
            spec = load_quiz(source.slug, source.quiz, source.path, quizzes_dir, problems)
            if spec is not None:
                specs[source.slug] = spec
        rel = str(Path(source.path).parent)
        disk[source.slug] = _disk_snapshot(root_path / source.slug, source, quizzes_dir, problems, rel)
    if problems:
        raise ContentError(problems)

    report = SyncReport()
    report.left_alone = sorted(slug for slug in managed if (root_path / slug).is_dir())
    for source in courses:
        snapshot, blobs = disk[source.slug]
        for sha, (data, content_type) in blobs.items():
            store_blob(data, content_type)
        course = write_course(ParsedCourse(source, specs.get(source.slug), snapshot), report)
        latest = latest_version(source.slug)
        if latest is None or latest.snapshot != snapshot:
            record_version(course, snapshot, source="files", author_id=None, note="learnhub sync")
        if on_course:
            on_course(source.slug)
    for slug in report.left_alone:
        if on_course:
            on_course(slug)
    retire_missing_courses({c.slug for c in courses} | managed, report)
    sync_pages(pages, report)
    db.session.flush()
    # Lessons added or retired, or a quiz's rules changed, change who has completed what.
    progress_recorded.send("materials", user_id=None, course_id=None, changed=report.changed)
    return report

