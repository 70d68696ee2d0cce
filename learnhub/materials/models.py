"""Materials kept in the database: file contents, drafts, published versions, attachments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models_base import Base, UTCDateTime, utcnow


class Blob(Base):
    """A file's content, stored once by its SHA-256 and shared by every version that holds it.

    In the database rather than on one server's disk, so that every app server reads the same.
    """

    __tablename__ = "blob"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(120))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManagedCourse(Base):
    """A course managed in the app (uploaded or edited there): `learnhub sync` leaves it alone.

    ``draft`` is the trainers' work not yet published (a snapshot, see ``snapshots``);
    officials never see it.
    """

    __tablename__ = "managed_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    draft: Mapped[dict | None] = mapped_column(JSON)
    draft_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    draft_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    managed_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseVersion(Base):
    """A published version of a course: its whole source, who published it, when and why.

    Never changed once written; a rollback publishes an older snapshot as a new number.
    """

    __tablename__ = "course_version"
    __table_args__ = (UniqueConstraint("slug", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), index=True)
    number: Mapped[int] = mapped_column()
    snapshot: Mapped[dict] = mapped_column(JSON)
    # The lessons' versions this publication produced ({lesson slug: Lesson.version}), so a
    # lesson mark's version leads back to the text the official read.
    lesson_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="app")  # app | files
    restored_from: Mapped[int | None] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseAttachment(Base):
    """An attachment of a course as published: what /courses/<slug>/files/<name> serves."""

    __tablename__ = "course_attachment"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(120))
