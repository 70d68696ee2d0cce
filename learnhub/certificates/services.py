"""Issuing, revoking and checking certificates. Callers commit.

``issue_certificate_if_eligible`` runs inside the transaction of whatever
event may have completed a programme (a lesson marked done, a quiz graded,
an attendance mark), so the certificate and its cause commit together.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..attendance.models import (
    AttendanceRecord, TrainingProgramme, TrainingSession, programme_unit,
)
from ..audit.services import record
from ..auth.models import Role, User
from ..catalog.completion import completions
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..quizzes.models import Quiz
from ..quizzes.services import quiz_result
from .models import Certificate

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ATTENDED = ("present", "late")


class CertificateError(ValueError):
    """Shown to the user as is (already translated)."""


def new_code() -> str:
    """20 characters from 32 symbols: 100 bits, not guessable; grouped for reading aloud."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                           31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return moment.replace(year=year, month=month, day=day)


def programmes_for(user: User) -> list[TrainingProgramme]:
    """Programmes whose target units contain the official's unit (enrolment is by unit)."""
    if user.unit is None:
        return []
    target = OrgUnit.__table__.alias("target")
    return list(db.session.scalars(
        select(TrainingProgramme).join(programme_unit, programme_unit.c.programme_id == TrainingProgramme.id)
        .join(target, target.c.id == programme_unit.c.unit_id)
        .where(func.substr(user.unit.path, 1, func.length(target.c.path)) == target.c.path)
        .distinct()))


def attended(user_id: int, programme: TrainingProgramme) -> bool:
    return db.session.scalar(select(AttendanceRecord.id).join(TrainingSession).where(
        TrainingSession.programme_id == programme.id, AttendanceRecord.user_id == user_id,
        AttendanceRecord.status.in_(ATTENDED)).limit(1)) is not None


@dataclass
class Eligibility:
    eligible: bool
    attendance_ok: bool
    courses_done: list[int]
    courses_missing: list[int]


def eligibility(user: User, programme: TrainingProgramme) -> Eligibility:
    done_q = completions()
    done = set(db.session.scalars(select(done_q.c.course_id).where(done_q.c.user_id == user.id)))
    required = [c.id for c in programme.courses]
    attendance_ok = not programme.requires_attendance or attended(user.id, programme)
    missing = [c for c in required if c not in done]
    return Eligibility(bool(required) and attendance_ok and not missing, attendance_ok,
                       [c for c in required if c in done], missing)


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
        chain.append(f"{unit.kind} {unit.name}".strip())
        unit = unit.parent
    # The badge recipient is the address held when the certificate was issued: a later
    # change of email must not change whom a published assertion names.
    return {"name": user.full_name, "position": user.position, "unit": ", ".join(chain),
            "programme": programme.title, "issuer": programme.issuer_name, "modules": modules,
            "recipient_email": (user.email or "").strip().lower()}


def issue(user: User, programme: TrainingProgramme, issued_by: User | None = None,
          now: datetime | None = None) -> Certificate:
    """Issue the certificate; if one is already active (even from a concurrent request) return it."""
    existing = active_certificate(user.id, programme.id)
    if existing is not None:
        return existing
    now = now or utcnow()
    cert = Certificate(code=new_code(), user_id=user.id, programme_id=programme.id, issued_at=now,
                       issued_by_id=issued_by.id if issued_by else None,
                       expires_at=_add_months(now, programme.validity_months) if programme.validity_months else None,
                       badge_salt=secrets.token_hex(16), snapshot=_snapshot(user, programme))
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
                                     "expires_at": cert.expires_at.isoformat() if cert.expires_at else None})
    return cert


def issue_certificate_if_eligible(user: User) -> list[Certificate]:
    """Called after any event that may complete a programme; issues what is now earned."""
    if not user.has_role(Role.OFFICIAL):
        return []
    issued = []
    for programme in programmes_for(user):
        if active_certificate(user.id, programme.id) is None and eligibility(user, programme).eligible:
            issued.append(issue(user, programme))
    return issued


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
    code = (code or "").strip().upper()
    if len(code) > 40:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def certificates_in_scope(viewer: User, programme: TrainingProgramme | None = None, unit: OrgUnit | None = None):
    from ..auth.services import sees_everything
    from ..orgs.services import subtree_condition
    query = select(Certificate).join(User, User.id == Certificate.user_id).join(OrgUnit, OrgUnit.id == User.unit_id)
    if programme is not None:
        query = query.where(Certificate.programme_id == programme.id)
    if unit is not None:
        query = query.where(subtree_condition(unit))
    if viewer.has_role(Role.OFFICIAL):
        return query.where(Certificate.user_id == viewer.id)
    if not sees_everything(viewer):
        if viewer.unit is None:
            return query.where(False)
        query = query.where(subtree_condition(viewer.unit))
    return query


def can_see_certificate(viewer: User, cert: Certificate) -> bool:
    from ..auth.services import can_view_user
    return can_view_user(viewer, cert.user)


def training_record(user: User) -> dict:
    """What an official has done, as evidence of competence (ISO 9001 7.2): attendance,
    courses with quiz results, certificates."""
    from ..catalog.services import progress_by_course
    attendance = db.session.execute(
        select(TrainingSession, AttendanceRecord).join(AttendanceRecord, AttendanceRecord.session_id == TrainingSession.id)
        .where(AttendanceRecord.user_id == user.id).order_by(TrainingSession.starts_at)).all()
    courses = []
    for item in progress_by_course(user.id):
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == item.course.id))
        courses.append((item, quiz_result(user.id, quiz) if quiz else None))
    certs = db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                               .order_by(Certificate.issued_at)).all()
    return {"attendance": attendance, "courses": courses, "certificates": certs, "generated_at": utcnow()}


def certificate_rows(viewer: User, now: datetime | None = None):
    now = now or utcnow()
    certs = db.session.scalars(certificates_in_scope(viewer).order_by(Certificate.issued_at)).all()
    return [{"code": c.code, "holder": c.snapshot.get("name") or c.user.full_name, "username": c.user.username,
             "programme": c.programme.code, "status": c.status(now),
             "issued_at": c.issued_at.isoformat(timespec="seconds"),
             "revoked_at": c.revoked_at.isoformat(timespec="seconds") if c.revoked_at else None,
             "expires_at": c.expires_at.isoformat(timespec="seconds") if c.expires_at else None}
            for c in certs]
