"""Certificates: one active per official and programme, verifiable by code."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, case, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..programmes.models import TrainingProgramme
from ..auth.models import User
from ..models_base import Base, UTCDateTime, utcnow


class Certificate(Base):
    __tablename__ = "certificate"
    __table_args__ = (
        # The database itself refuses a second active certificate, whatever races above it.
        Index("uq_certificate_active", "user_id", "programme_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
        # The dashboard counts expired certificates when it is read: only those are scanned.
        Index("ix_certificate_programme_expires", "programme_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("training_programme.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None: automatic
    # Set when a trainer issued it although the programme's rule was not met: why.
    override_reason: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    badge_salt: Mapped[str] = mapped_column(String(32))
    # What the certificate says, fixed at issue: name, unit, position, modules and scores.
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    programme: Mapped[TrainingProgramme] = relationship()

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "valid"

    # The same rule in SQL, for counting: written beside ``status`` so the two cannot drift.
    STATUS_RANK = {"revoked": 1, "expired": 2, "valid": 3}

    @classmethod
    def status_rank_sql(cls, now: datetime):
        """SQL expression: ``STATUS_RANK[status(now)]``; the highest over an official's
        certificates for a programme is their standing (a valid one outranks revoked ones)."""
        return case((cls.revoked_at.is_not(None), 1),
                    (cls.expires_at.is_not(None) & (cls.expires_at <= now), 2),
                    else_=3)
