"""What is left before an official's certificate: each programme's rule read against the
official's own record, with the certificate's status.

It sits here because it needs both sides: the rule and the record come from ``progress``
(and ``programmes``, ``quizzes``) below, the certificate from this package. Nothing here
writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ..auth.models import User
from ..config import VIETNAM_TZ
from ..extensions import db
from ..programmes.models import TrainingProgramme
from ..programmes.services import programmes_for
from ..progress.rules import CourseProgress, attended, progress_by_course
from ..quizzes.attempts import quiz_for
from ..quizzes.results import QuizResult, quiz_result
from .models import Certificate


@dataclass
class CourseStanding:
    progress: CourseProgress
    quiz: QuizResult | None  # None: the course has no quiz

    @property
    def lessons_left(self) -> int:
        return max(self.progress.total - self.progress.done, 0)


@dataclass
class ProgrammeStanding:
    programme: TrainingProgramme
    requires_attendance: bool
    attended: bool
    courses: list[CourseStanding] = field(default_factory=list)
    certificate: Certificate | None = None  # the active one, else the latest revoked or expired
    certificate_status: str | None = None  # valid | expired | revoked | None (none issued)
    days_to_deadline: int | None = None  # negative once the deadline has passed

    @property
    def steps_left(self) -> int:
        """Attendance missing counts one; each course not complete counts one."""
        return (int(self.requires_attendance and not self.attended)
                + sum(1 for c in self.courses if not c.progress.complete))

    @property
    def rule_met(self) -> bool:
        return self.steps_left == 0 and bool(self.courses)


def _today(now: datetime) -> date:
    return now.astimezone(VIETNAM_TZ).date()


def programme_standings(user: User, now: datetime,
                         progress: list[CourseProgress] | None = None) -> list[ProgrammeStanding]:
    """One standing per programme the official is enrolled in, nearest deadline first.
    ``progress``: the official's ``progress_by_course``, if the caller has it already."""
    programmes = sorted(programmes_for(user), key=lambda p: (p.deadline or date.max, p.id))
    if not programmes:
        return []
    progress = {item.course.id: item for item in (progress if progress is not None else progress_by_course(user.id))}
    results: dict[int, QuizResult | None] = {}
    certificates = db.session.scalars(select(Certificate).where(
        Certificate.user_id == user.id, Certificate.programme_id.in_([p.id for p in programmes]))
        .order_by(Certificate.issued_at)).all()
    standings = []
    for programme in programmes:
        courses = []
        for course in programme.courses:
            item = progress.get(course.id)
            if item is None:  # a retired course: nothing the official can do about it
                continue
            if course.id not in results:
                quiz = quiz_for(course) if item.has_quiz else None
                results[course.id] = quiz_result(user.id, quiz) if quiz else None
            courses.append(CourseStanding(item, results[course.id]))
        held = [c for c in certificates if c.programme_id == programme.id]
        active = next((c for c in held if c.revoked_at is None), None)
        latest = active or (held[-1] if held else None)
        standing = ProgrammeStanding(
            programme, programme.requires_attendance,
            attended(user.id, programme) if programme.requires_attendance else True, courses,
            latest, latest.status(now) if latest else None,
            (programme.deadline - _today(now)).days if programme.deadline else None)
        standings.append(standing)
    return standings
