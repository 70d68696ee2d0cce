"""Stored course completion."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models_base import Base, UTCDateTime, utcnow


class CourseCompletion(Base):
    """Who has completed which course, kept in step with lessons done and quizzes passed.

    Derived (``progress.rules.completions()`` is the definition); stored so that committee
    reports over hundreds of thousands of officials count rows instead of re-deriving
    completion from every lesson mark and attempt.
    """

    __tablename__ = "course_completion"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
