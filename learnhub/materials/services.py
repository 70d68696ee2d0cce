"""Document control for course materials: drafts, publishing, rollback, export. Callers commit.

Every change goes into the course's draft (``ManagedCourse.draft``), checked whole by
the same parser as ``learnhub sync`` before it is kept, so a draft can always be
published. Publishing writes the draft through ``sync.write_course`` (the one path
to the tables officials read) and keeps it as version N+1; rolling back publishes
an older version's snapshot as a new number.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..audit.services import record
from ..auth.models import User
from ..catalog.loader import _LESSON_FILE_RE, ContentError, ContentProblem
from ..catalog.models import Course
from ..catalog.sync import SyncReport
from ..extensions import db
from ..models_base import utcnow
from ..quizzes.models import Question
from ..signals import progress_recorded
from . import snapshots
from .models import Blob, CourseAttachment, CourseVersion, ManagedCourse
from .sync import ParsedCourse, latest_version, parse_snapshot, record_version, store_blob, write_course
from .uploads import Upload, UploadRefused, inspect_upload


class MaterialsError(ValueError):
    """A request that cannot be carried out; ``str()`` is in the user's language."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))

    def __str__(self) -> str:
        return str(self.message)


# --- reading -----------------------------------------------------------------

@dataclass
class CourseState:
    slug: str
    title: str
    managed: str  # "app" | "files"
    has_draft: bool
    draft_at: datetime | None
    published: int | None
    published_at: datetime | None
    author: str
    retired: bool
    bank: str
    questions: int


def author_name(user_id: int | None) -> str:
    if user_id is None:
        return "learnhub sync"
    user = db.session.get(User, user_id)
    return user.username if user else ""


def course_states() -> list[CourseState]:
    """Every course the materials area knows: published, file-managed, or only a draft."""
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    managed = {m.slug: m for m in db.session.scalars(select(ManagedCourse))}
    latest_numbers = select(CourseVersion.slug, func.max(CourseVersion.number).label("n")).group_by(
        CourseVersion.slug).subquery()
    latest = {v.slug: v for v in db.session.scalars(select(CourseVersion).join(
        latest_numbers, (CourseVersion.slug == latest_numbers.c.slug) & (CourseVersion.number == latest_numbers.c.n)))}
    counts = dict(db.session.execute(select(Question.course_id, func.count(Question.id)).where(
        Question.retired_at.is_(None), Question.qtype != "description").group_by(Question.course_id)).all())
    rows = []
    for slug in sorted(set(courses) | set(managed)):
        course, mc, version = courses.get(slug), managed.get(slug), latest.get(slug)
        snapshot = (mc.draft if mc and mc.draft else None) or (version.snapshot if version else None)
        bank = (snapshot or {}).get("bank") or {}
        title = course.title if course else snapshots.front_matter(
            (snapshot or {}).get("files", {}).get("course.md", "")).get("title", slug)
        rows.append(CourseState(
            slug=slug, title=str(title), managed="app" if mc else "files",
            has_draft=bool(mc and mc.draft is not None), draft_at=mc.draft_at if mc else None,
            published=version.number if version else None,
            published_at=version.published_at if version else None,
            author=author_name(version.author_id) if version else "",
            retired=bool(course and course.retired_at is not None),
            bank=bank.get("name", ""), questions=counts.get(course.id, 0) if course else 0))
    return rows


def versions(slug: str) -> list[CourseVersion]:
    return list(db.session.scalars(select(CourseVersion).where(CourseVersion.slug == slug)
                                   .order_by(CourseVersion.number.desc())))


def version(slug: str, number: int) -> CourseVersion | None:
    return db.session.scalar(select(CourseVersion).where(CourseVersion.slug == slug, CourseVersion.number == number))


def managed_course(slug: str, for_update: bool = False) -> ManagedCourse | None:
    """The course's materials row; ``for_update`` locks it (PostgreSQL) until the transaction
    ends, so two trainers publishing or saving at once are taken one after the other."""
    query = select(ManagedCourse).where(ManagedCourse.slug == slug)
    return db.session.scalar(query.with_for_update() if for_update else query)


def versions_info(slug: str) -> dict | None:
    """What `learnhub versions SLUG --json` prints; None for an unknown course."""
    mc = managed_course(slug)
    rows = versions(slug)
    known = mc is not None or rows or db.session.scalar(select(Course.id).where(Course.slug == slug))
    if not known:
        return None
    return {
        "slug": slug,
        "managed": "app" if mc else "files",
        "published": rows[0].number if rows else None,
        "draft": bool(mc and mc.draft is not None),
        "versions": [{"number": v.number, "published_at": v.published_at.isoformat(),
                      "author": author_name(v.author_id) if v.author_id else None, "note": v.note}
                     for v in reversed(rows)],
    }


def current_snapshot(slug: str) -> dict | None:
    """The draft if there is one, else the latest published version."""
    mc = managed_course(slug)
    if mc is not None and mc.draft is not None:
        return mc.draft
    latest = latest_version(slug)
    return latest.snapshot if latest else None


def draft_problems(slug: str) -> list[ContentProblem]:
    snapshot = current_snapshot(slug)
    if snapshot is None:
        return []
    try:
        parse_snapshot(slug, snapshot)
    except ContentError as exc:
        return exc.problems
    return []


def blob_data(sha256: str) -> Blob | None:
    return db.session.scalar(select(Blob).where(Blob.sha256 == sha256))


def published_attachment(slug: str, name: str) -> tuple[Blob, str] | None:
    """An attachment of an active published course: anyone who may read the course may fetch it."""
    row = db.session.execute(
        select(CourseAttachment.sha256, CourseAttachment.content_type)
        .join(Course, Course.id == CourseAttachment.course_id)
        .where(Course.slug == slug, Course.retired_at.is_(None), CourseAttachment.name == name)).first()
    if row is None:
        return None
    blob = blob_data(row.sha256)
    return (blob, row.content_type) if blob else None


def draft_attachment(slug: str, name: str) -> tuple[Blob, str] | None:
    snapshot = current_snapshot(slug)
    info = (snapshot or {}).get("attachments", {}).get(name)
    if info is None:
        return None
    blob = blob_data(info["sha256"])
    return (blob, info["content_type"]) if blob else None


# --- changing the draft --------------------------------------------------------

def editable_draft(slug: str) -> dict:
    """A copy of the course's draft (started from the latest version if there is none) to change."""
    snapshot = current_snapshot(slug)
    if snapshot is None:
        raise MaterialsError(_l("There is no course %(slug)s.", slug=slug))
    return snapshots.clone(snapshot)


def save_draft(slug: str, snapshot: dict, user: User, blobs: dict[str, tuple[bytes, str]] | None = None) -> ManagedCourse:
    """Keep ``snapshot`` as the course's draft if the whole course reads without a problem.

    Raises ContentError (nothing written) otherwise. From now on the course is managed
    in the app.
    """
    parse_snapshot(slug, snapshot)
    for data, content_type in (blobs or {}).values():
        store_blob(data, content_type)
    mc = managed_course(slug, for_update=True)
    if mc is None:
        mc = ManagedCourse(slug=slug)
        db.session.add(mc)
    mc.draft = snapshots.clone(snapshot)
    mc.draft_by_id = user.id if user else None
    mc.draft_at = utcnow()
    db.session.flush()
    return mc


def discard_draft(slug: str) -> bool:
    mc = managed_course(slug)
    if mc is None or mc.draft is None:
        return False
    if latest_version(slug) is None:
        raise MaterialsError(_l("This course has never been published: its draft is all there is."))
    mc.draft = None
    mc.draft_at = None
    return True


def _attachment_info(upload: Upload) -> tuple[dict, dict[str, tuple[bytes, str]]]:
    infos, blobs = {}, {}
    for name, attachment in upload.attachments.items():
        sha = hashlib.sha256(attachment.data).hexdigest()
        infos[name] = {"sha256": sha, "content_type": attachment.content_type, "size": len(attachment.data)}
        blobs[sha] = (attachment.data, attachment.content_type)
    return infos, blobs


def apply_upload(upload: Upload, target_slug: str | None, user: User) -> str:
    """Put an accepted upload into a draft; returns the course's slug.

    A course ZIP replaces the whole draft (its bank stays if the ZIP has none); a lesson,
    bank or attachment goes into an existing course. Raises MaterialsError or
    ContentError, having written nothing.
    """
    infos, blobs = _attachment_info(upload)
    if upload.kind == "course":
        slug = upload.slug
        previous = current_snapshot(slug)
        snapshot = snapshots.empty()
        snapshot["files"] = {n: t for n, t in upload.texts.items() if n.lower().endswith(".md")}
        snapshot["attachments"] = infos
        gifts = [n for n in upload.texts if n.lower().endswith(".gift")]
        quiz = snapshots.front_matter(snapshot["files"].get("course.md", "")).get("quiz") or {}
        bank_name = quiz.get("bank") if isinstance(quiz, dict) else None
        if gifts:
            snapshot["bank"] = {"name": bank_name if isinstance(bank_name, str) else gifts[0],
                                "text": upload.texts[gifts[0]]}
        elif previous and previous.get("bank") and previous["bank"]["name"] == bank_name:
            snapshot["bank"] = dict(previous["bank"])
        save_draft(slug, snapshot, user, blobs)
        return slug

    if not target_slug:
        raise MaterialsError(_l("Choose the course this file belongs to."))
    slug = target_slug
    snapshot = editable_draft(slug)
    if upload.kind == "lesson":
        name = upload.name
        if name != "course.md" and not _LESSON_FILE_RE.match(name):
            raise MaterialsError(_l(
                "%(name)s: a lesson file is named like 01-lesson-name.md (lowercase Latin letters, "
                "digits and hyphens). Rename it and upload it again.", name=name))
        snapshot["files"][name] = upload.texts[name]
    elif upload.kind == "bank":
        quiz = snapshots.front_matter(snapshot["files"].get("course.md", "")).get("quiz") or {}
        bank_name = quiz.get("bank") if isinstance(quiz, dict) else None
        if not isinstance(bank_name, str) or not bank_name:
            raise MaterialsError(_l(
                "The course %(slug)s has no quiz: add a quiz block naming its bank to course.md first.", slug=slug))
        snapshot["bank"] = {"name": bank_name, "text": upload.texts[upload.name]}
    elif upload.kind == "attachment":
        snapshot["attachments"].update(infos)
    save_draft(slug, snapshot, user, blobs)
    return slug


def import_zip(name: str, data: bytes, user: User) -> str:
    """A course ZIP (as export-course writes it) into a draft: the CLI's and the form's path."""
    upload = inspect_upload(name, data)
    if upload.kind != "course":
        raise UploadRefused(_l("%(name)s is not a course ZIP.", name=name))
    return apply_upload(upload, None, user)


# --- publishing ----------------------------------------------------------------------

def _publish_snapshot(slug: str, snapshot: dict, user: User | None, note: str, action: str,
                      restored_from: int | None = None) -> CourseVersion:
    note = (note or "").strip()
    if not note:
        raise MaterialsError(_l("Write a change note: it says what changed and why."))
    parsed: ParsedCourse = parse_snapshot(slug, snapshot)
    mc = managed_course(slug, for_update=True)
    if mc is None:
        db.session.add(ManagedCourse(slug=slug))
    report = SyncReport()
    course = write_course(parsed, report)
    if course.retired_at is not None:
        course.retired_at = None
    created = record_version(course, snapshot, source="app", author_id=user.id if user else None, note=note,
                             restored_from=restored_from)
    record(action, "course", slug, actor_id=user.id if user else None,
           data={"version": created.number, "note": note, "restored_from": restored_from,
                 "changes": report.summary()})
    db.session.flush()
    # Lessons added or retired, or a quiz's rules changed, change who has completed what.
    progress_recorded.send("materials", user_id=None, course_id=course.id)
    return created


def publish(slug: str, user: User, note: str) -> CourseVersion:
    """Publish the course's draft as version N+1 with author, time and change note."""
    mc = managed_course(slug, for_update=True)
    if mc is None or mc.draft is None:
        raise MaterialsError(_l("%(slug)s has no draft to publish.", slug=slug))
    created = _publish_snapshot(slug, mc.draft, user, note, "materials.publish")
    mc.draft = None
    mc.draft_at = None
    return created


def rollback(slug: str, number: int, user: User, note: str) -> CourseVersion:
    """Publish version ``number`` again, as a new number; history stays as it was."""
    old = version(slug, number)
    if old is None:
        raise MaterialsError(_l("%(slug)s has no version %(number)s.", slug=slug, number=number))
    return _publish_snapshot(slug, old.snapshot, user, note, "materials.rollback", restored_from=number)


# --- export ------------------------------------------------------------------------

def export_zip(slug: str) -> bytes:
    """The latest published version in the courses/<slug>/ layout, with its bank and attachments."""
    latest = latest_version(slug)
    if latest is None:
        raise MaterialsError(_l("%(slug)s has no published version to export.", slug=slug))
    return snapshot_zip(slug, latest.snapshot)


def snapshot_zip(slug: str, snapshot: dict) -> bytes:
    buffer = io.BytesIO()
    fixed = (2026, 1, 1, 0, 0, 0)  # the same content gives the same ZIP

    def add(path: str, data: bytes) -> None:
        info = zipfile.ZipInfo(f"{slug}/{path}", date_time=fixed)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, data)

    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(snapshot["files"].items()):
            add(name, text.encode("utf-8"))
        if snapshot.get("bank"):
            add(snapshot["bank"]["name"], snapshot["bank"]["text"].encode("utf-8"))
        for name, info in sorted(snapshot["attachments"].items()):
            blob = blob_data(info["sha256"])
            if blob is None:
                raise MaterialsError(_l("The content of %(name)s is missing from storage.", name=name))
            add(f"attachments/{name}", blob.data)
    return buffer.getvalue()
