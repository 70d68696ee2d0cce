"""Training programmes: what the officials of some units must complete to be certified."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, String, Table, Text
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
