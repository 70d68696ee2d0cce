"""Issuing, revoking and checking certificates. Callers commit.

``issue_certificate_if_eligible`` receives ``learnhub.signals.completion_refreshed``,
which ``progress.step`` sends after any event that may complete a programme (a
lesson marked done, a quiz graded, an attendance mark), inside that event's
transaction, so the certificate and its cause commit together.
"""
from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.exc import IntegrityError

from .. import reads
from ..attendance.models import AttendanceRecord, TrainingSession
from ..audit.services import record
from ..auth.models import Role, User
from ..auth.scope import can_view_user, user_condition
from ..codes import normalise, random_code
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from ..programmes.models import TrainingProgramme, programme_course, programme_unit
from ..programmes.services import programmes_for
from ..progress.models import CourseCompletion
from ..progress.rules import Eligibility, eligibility, progress_by_course
from ..quizzes.models import Quiz
from ..quizzes.results import quiz_result
from ..signals import completion_refreshed
from .models import Certificate

CODE_LENGTH, CODE_GROUP = 20, 5


class CertificateError(ValueError):
    """Shown to the user as is (already translated)."""


def new_code() -> str:
    """20 characters from 32 symbols: 100 bits, not guessable; grouped for reading aloud."""
    return random_code(CODE_LENGTH, CODE_GROUP)


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                           31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return moment.replace(year=year, month=month, day=day)


def active_certificate(user_id: int, programme_id: int) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.programme_id == programme_id, Certificate.revoked_at.is_(None)))


def _snapshot(user: User, programme: TrainingProgramme) -> dict:
    modules = []
    for course in programme.courses:
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
        result = quiz_result(user.id, quiz) if quiz else None
        modules.append({"title": course.title,
                        "score": round(result.percent, 1) if result and result.percent is not None else None})
    unit = user.unit
    chain = []
    while unit is not None:
        chain.append(unit.label)
        unit = unit.parent
    # The badge recipient is the address held when the certificate was issued: a later
    # change of email must not change whom a published assertion names.
    return {"name": user.full_name, "position": user.position, "unit": ", ".join(chain),
            "programme": programme.title, "issuer": programme.issuer_name, "modules": modules,
            "recipient_email": (user.email or "").strip().lower()}


def issue(user: User, programme: TrainingProgramme, issued_by: User | None = None,
          now: datetime | None = None, override_reason: str = "") -> Certificate:
    """Issue the certificate; if one is already active (even from a concurrent request) return it.

    Callers check the programme's rule first (``issue_certificate_if_eligible``,
    ``issue_by_hand``); ``override_reason`` records why one was issued without it."""
    existing = active_certificate(user.id, programme.id)
    if existing is not None:
        return existing
    now = now or utcnow()
    cert = Certificate(code=new_code(), user_id=user.id, programme_id=programme.id, issued_at=now,
                       issued_by_id=issued_by.id if issued_by else None,
                       expires_at=_add_months(now, programme.validity_months) if programme.validity_months else None,
                       badge_salt=secrets.token_hex(16), snapshot=_snapshot(user, programme),
                       override_reason=override_reason)
    try:
        with db.session.begin_nested():
            db.session.add(cert)
            db.session.flush()
    except IntegrityError:
        # The partial unique index fired: another request issued it first.
        existing = active_certificate(user.id, programme.id)
        if existing is None:
            raise
        return existing
    record("certificate.issue", "certificate", cert.code, actor_id=issued_by.id if issued_by else None,
           subject_id=user.id, data={"programme": programme.code, "automatic": issued_by is None,
                                     "override_reason": override_reason or None,
                                     "expires_at": cert.expires_at.isoformat() if cert.expires_at else None})
    return cert


@dataclass
class HandIssue:
    issued: list[Certificate] = field(default_factory=list)
    overridden: list[Certificate] = field(default_factory=list)
    not_eligible: list[tuple[User, Eligibility]] = field(default_factory=list)


def issue_by_hand(users: list[User], programme: TrainingProgramme, by: User, override: bool = False,
                  reason: str = "") -> HandIssue:
    """A trainer issues to the officials chosen. Those who meet the programme's rule get
    their certificate; the others are listed with what they lack, unless the trainer
    overrides the rule explicitly, with a written reason that the certificate keeps."""
    reason = (reason or "").strip()
    if override and not reason:
        raise CertificateError(_l("To issue without the programme's rule being met, write the reason."))
    outcome = HandIssue()
    for user in users:
        if active_certificate(user.id, programme.id) is not None:
            continue
        rule = eligibility(user, programme)
        if rule.eligible:
            outcome.issued.append(issue(user, programme, issued_by=by))
        elif override:
            outcome.overridden.append(issue(user, programme, issued_by=by, override_reason=reason[:1000]))
        else:
            outcome.not_eligible.append((user, rule))
    return outcome


def issue_certificate_if_eligible(user: User) -> list[Certificate]:
    """Issue every certificate the official has now earned and does not hold."""
    if not user.has_role(Role.OFFICIAL):
        return []
    issued = []
    for programme in programmes_for(user):
        if active_certificate(user.id, programme.id) is None and eligibility(user, programme).eligible:
            issued.append(issue(user, programme))
    return issued


def _may_have_earned_statement():
    """SELECT of the officials among ``user_ids`` with a programme of their unit that they do
    not hold and whose every course they have completed. Only a necessary condition (the
    attendance is not read): ``eligibility`` still decides, for the few it names. Nearly
    every event earns nothing, and this answers that in one query instead of the
    programme rule's several per programme."""
    own = OrgUnit.__table__.alias("own")
    target = OrgUnit.__table__.alias("target")
    programme = programme_unit.c.programme_id
    required = select(programme_course.c.course_id).where(programme_course.c.programme_id == programme)
    done = (exists().where(CourseCompletion.user_id == User.id,
                           CourseCompletion.course_id == programme_course.c.course_id)
            .correlate(User, programme_course))  # two levels up: the official
    missing = required.where(~done)
    held = exists().where(Certificate.user_id == User.id, Certificate.programme_id == programme,
                          Certificate.revoked_at.is_(None))
    return (select(User.id).distinct()
            .join(own, own.c.id == User.unit_id)
            .join(target, func.substr(own.c.path, 1, func.length(target.c.path)) == target.c.path)
            .join(programme_unit, programme_unit.c.unit_id == target.c.id)
            .where(User.id.in_(bindparam("user_ids", expanding=True)), User.role == Role.OFFICIAL.value,
                   required.exists(), ~missing.exists(), ~held))


_MAY_HAVE_EARNED = _may_have_earned_statement()


@completion_refreshed.connect
def _issue_earned(sender, user_ids: set[int], **_) -> None:
    db.session.flush()
    candidates = list(db.session.connection().scalars(_MAY_HAVE_EARNED, {"user_ids": sorted(user_ids)}))
    if not candidates:
        return
    for user in db.session.scalars(select(User).where(User.id.in_(sorted(candidates)))):
        issue_certificate_if_eligible(user)


def revoke(cert: Certificate, by: User, reason: str, now: datetime | None = None) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_l("Give the reason for revoking the certificate."))
    if cert.revoked_at is not None:
        raise CertificateError(_l("This certificate is already revoked."))
    cert.revoked_at = now or utcnow()
    cert.revoked_by_id = by.id
    cert.revoke_reason = reason[:1000]
    db.session.flush()
    record("certificate.revoke", "certificate", cert.code, actor_id=by.id, subject_id=cert.user_id,
           data={"reason": cert.revoke_reason})


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate a person typed or scanned: any case, spaces or no dashes, and
    O/I/L read as 0/1 (Crockford). Codes issued before that alphabet match as written."""
    if len(code or "") > 60:
        return None
    typed = (code or "").strip().upper()
    spellings = {typed, normalise(typed, CODE_GROUP)}
    return db.session.scalar(select(Certificate).where(Certificate.code.in_(spellings)).limit(1))


def certificates_in_scope(viewer: User | None, programme: TrainingProgramme | None = None,
                          unit: OrgUnit | None = None):
    """SELECT of the certificates ``viewer`` may see (``None``: the command line, all)."""
    query = (select(Certificate).join(User, User.id == Certificate.user_id)
             .outerjoin(OrgUnit, OrgUnit.id == User.unit_id).where(user_condition(viewer)))
    if programme is not None:
        query = query.where(Certificate.programme_id == programme.id)
    if unit is not None:
        query = query.where(subtree_condition(unit))
    return query


def can_see_certificate(viewer: User, cert: Certificate) -> bool:
    return can_view_user(viewer, cert.user)


def training_record(user: User) -> dict:
    """What an official has done, as evidence of competence (ISO 9001 7.2): attendance,
    courses with quiz results, certificates."""
    attendance = db.session.execute(
        select(TrainingSession, AttendanceRecord).join(AttendanceRecord, AttendanceRecord.session_id == TrainingSession.id)
        .where(AttendanceRecord.user_id == user.id).order_by(TrainingSession.starts_at)).all()
    courses = []
    for item in progress_by_course(user.id):
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == item.course.id))
        courses.append((item, quiz_result(user.id, quiz) if quiz else None))
    return {"attendance": attendance, "courses": courses, "certificates": certificates_of(user.id),
            "generated_at": utcnow()}


def certificates_of(user_id: int) -> list[Certificate]:
    """The official's certificates, valid or not, oldest first."""
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)
                                   .order_by(Certificate.issued_at)))


@dataclass(frozen=True)
class CertificateCard:
    """One certificate as its holder's page lists it (hashable: the page is cached by it)."""
    programme: str
    code: str
    issued_at: datetime
    status: str
    revoked_at: datetime | None
    expires_at: datetime | None


@functools.cache
def _cards_statement():
    c = Certificate
    return (select(c.snapshot, c.code, c.issued_at, c.revoked_at, c.expires_at)
            .where(c.user_id == bindparam("user_id")).order_by(c.issued_at))


def certificate_cards(user_id: int, now: datetime) -> tuple[CertificateCard, ...]:
    """The official's certificates, valid or not, oldest first, with their status at ``now``:
    one hot read (learnhub.reads), no ORM objects."""
    return tuple(CertificateCard((row.snapshot or {}).get("programme", ""), row.code, row.issued_at,
                                 Certificate.status(row, now), row.revoked_at, row.expires_at)
                 for row in reads.rows(_cards_statement(), {"user_id": user_id}))


def certificate_rows(viewer: User | None, now: datetime | None = None):
    now = now or utcnow()
    certs = db.session.scalars(certificates_in_scope(viewer).order_by(Certificate.issued_at)).all()
    return [{"code": c.code, "holder": c.snapshot.get("name") or c.user.full_name, "username": c.user.username,
             "programme": c.programme.code, "status": c.status(now),
             "issued_at": c.issued_at.isoformat(timespec="seconds"),
             "revoked_at": c.revoked_at.isoformat(timespec="seconds") if c.revoked_at else None,
             "expires_at": c.expires_at.isoformat(timespec="seconds") if c.expires_at else None}
            for c in certs]
