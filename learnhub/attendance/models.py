"""Conference sessions and attendance."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models_base import Base, UTCDateTime, utcnow
from ..orgs.models import OrgUnit


# The marks that count as having attended a session.
ATTENDED_STATUSES = ("present", "late")


class TrainingSession(Base):
    """One conference session (hội nghị tập huấn) in a district."""

    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("training_programme.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    venue: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    checkin_code: Mapped[str] = mapped_column(String(12), unique=True)
    grace_minutes: Mapped[int] = mapped_column(default=30)
    # The rotating code on the projector: HMAC(checkin_secret, time window); 0 = off.
    checkin_secret: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))
    rotate_seconds: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped["TrainingProgramme"] = relationship()  # noqa: F821 (resolved by name)
    unit: Mapped[OrgUnit] = relationship()


class AttendanceRecord(Base):
    """An official's attendance at a session: the current mark; every change is in the audit log."""

    __tablename__ = "attendance_record"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # present | late | excused | absent
    source: Mapped[str] = mapped_column(String(12))  # roll_call | self | import
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
