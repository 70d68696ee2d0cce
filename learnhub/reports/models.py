"""The dashboard's stored counts: per programme and officials' own unit, kept in step with
their causes in the same transaction (``reports.tally``), so that a page sums a few rows per
unit instead of counting every official again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models_base import Base, UTCDateTime, utcnow


class ReportTally(Base):
    """``n`` enrolled officials of the unit ``unit_id`` (their own unit) counted under
    ``kind`` for the programme; ``ref`` says of what: a course (completed, passed), a
    conference session (m:present, m:late, …), a local day as an ordinal (done_day,
    cert_day; holding: a certificate not revoked, by the day it expires, 0 if never), else 0
    (enrolled, attended, revoked: certificates, every one revoked)."""

    __tablename__ = "report_tally"

    programme_id: Mapped[int] = mapped_column(ForeignKey("training_programme.id", ondelete="CASCADE"),
                                              primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class ReportTallyState(Base):
    """A programme whose counts are stored (a programme without this row is counted afresh
    on each page until ``learnhub recount-reports`` or ``learnhub sync`` stores them)."""

    __tablename__ = "report_tally_state"

    programme_id: Mapped[int] = mapped_column(ForeignKey("training_programme.id", ondelete="CASCADE"),
                                              primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
