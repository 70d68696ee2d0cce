"""Training programmes, conference sessions and attendance."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Course
from ..models_base import Base, UTCDateTime, utcnow
from ..orgs.models import OrgUnit

programme_course = Table(
    "programme_course", Base.metadata,
    Column("programme_id", ForeignKey("training_programme.id"), primary_key=True),
    Column("course_id", ForeignKey("course.id"), primary_key=True),
)
programme_unit = Table(
    "programme_unit", Base.metadata,
    Column("programme_id", ForeignKey("training_programme.id"), primary_key=True),
    Column("unit_id", ForeignKey("org_unit.id"), primary_key=True),
)


class TrainingProgramme(Base):
    """E.g. "Tập huấn ISO 2021 — cấp xã": what officials of the target units must complete."""

    __tablename__ = "training_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    requires_attendance: Mapped[bool] = mapped_column(default=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    validity_months: Mapped[int] = mapped_column(default=0)  # 0: certificates do not expire
    issuer_name: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    courses: Mapped[list[Course]] = relationship(secondary=programme_course, order_by="Course.position")
    target_units: Mapped[list[OrgUnit]] = relationship(secondary=programme_unit)


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[TrainingProgramme] = relationship()
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
