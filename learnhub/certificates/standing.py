"""What is left before an official's certificate: each programme's rule read against the
official's own record, with the certificate's status.

It sits here because it needs both sides: the rule and the record come from ``progress``
(and ``programmes``, ``quizzes``) below, the certificate from this package. Nothing here
writes.

The home page shows this to every official at every visit, so it is read in three
statements built once (the programmes with their courses and attendance, the
certificates, the quiz results), whatever the number of programmes and courses, and
every value is hashable: the page renders it as a fragment keyed by them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select

from ..auth.models import User
from ..catalog.models import Course
from ..config import VIETNAM_TZ
from .. import reads
from ..programmes.models import TrainingProgramme, programme_course
from ..programmes.services import programme_ids_for_unit
from ..progress.rules import CourseProgress, QuizSummary, attended_condition, progress_by_course, quiz_results
from .models import Certificate


@dataclass(frozen=True)
class CourseStanding:
    progress: CourseProgress
    quiz: QuizSummary | None  # None: the course has no quiz

    @property
    def lessons_left(self) -> int:
        return max(self.progress.total - self.progress.done, 0)


@dataclass(frozen=True)
class ProgrammeSummary:
    id: int
    code: str
    title: str
    deadline: date | None


@dataclass(frozen=True)
class CertificateSummary:
    """What the home page shows of a certificate; ``status`` is ``Certificate.status``."""
    code: str
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: str | None

    status = Certificate.status


@dataclass(frozen=True)
class ProgrammeStanding:
    programme: ProgrammeSummary
    requires_attendance: bool
    attended: bool
    courses: tuple[CourseStanding, ...] = ()
    certificate: CertificateSummary | None = None  # the active one, else the latest revoked or expired
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


@functools.lru_cache(maxsize=1)
def _programmes_statement():
    """Each programme the official's unit is enrolled in, once per required course (in the
    courses' order; once with no course if it has none), with "attended"."""
    user_id, unit_id = bindparam("user_id"), bindparam("unit_id")
    p = TrainingProgramme
    return (select(p.id, p.code, p.title, p.deadline, p.requires_attendance,
                   attended_condition(p.id, user_id), Course.id)
            .outerjoin(programme_course, programme_course.c.programme_id == p.id)
            .outerjoin(Course, Course.id == programme_course.c.course_id)
            .where(p.id.in_(programme_ids_for_unit(unit_id)))
            .order_by(p.id, Course.position))


@functools.lru_cache(maxsize=1)
def _certificates_statement():
    c = Certificate
    return (select(c.programme_id, c.code, c.issued_at, c.expires_at, c.revoked_at, c.revoke_reason)
            .where(c.user_id == bindparam("user_id"), c.programme_id.in_(programme_ids_for_unit(bindparam("unit_id"))))
            .order_by(c.issued_at))


def programme_standings(user: User, now: datetime,
                         progress: tuple[CourseProgress, ...] | None = None) -> list[ProgrammeStanding]:
    """One standing per programme the official is enrolled in, nearest deadline first.
    ``progress``: the official's ``progress_by_course``, if the caller has it already."""
    if user.unit_id is None:
        return []
    params = {"user_id": user.id, "unit_id": user.unit_id}
    programmes: dict[int, tuple] = {}
    course_ids: dict[int, list[int]] = {}
    for pid, code, title, deadline, requires_attendance, was_there, course_id in reads.rows(
            _programmes_statement(), params):
        programmes[pid] = (ProgrammeSummary(pid, code, title, deadline), requires_attendance, bool(was_there))
        ids = course_ids.setdefault(pid, [])
        if course_id is not None:
            ids.append(course_id)
    if not programmes:
        return []
    progress = {item.course.id: item for item in (progress if progress is not None else progress_by_course(user.id))}
    held: dict[int, list[CertificateSummary]] = {}
    for pid, *values in reads.rows(_certificates_statement(), params):
        held.setdefault(pid, []).append(CertificateSummary(*values))
    quizzes = quiz_results(user.id) if any(item.has_quiz for item in progress.values()) else {}
    today = _today(now)
    standings = []
    for summary, requires_attendance, was_there in sorted(programmes.values(),
                                                           key=lambda p: (p[0].deadline or date.max, p[0].id)):
        courses = tuple(CourseStanding(progress[c], quizzes.get(c) if progress[c].has_quiz else None)
                        for c in course_ids[summary.id] if c in progress)  # a retired course: nothing to do about it
        certs = held.get(summary.id, [])
        active = next((c for c in certs if c.revoked_at is None), None)
        latest = active or (certs[-1] if certs else None)
        standings.append(ProgrammeStanding(
            summary, requires_attendance, was_there if requires_attendance else True, courses,
            latest, latest.status(now) if latest else None,
            (summary.deadline - today).days if summary.deadline else None))
    return standings
