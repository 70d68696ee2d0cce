"""Programmes: creating them, and who they cover. Callers commit.

A programme is the certificate rule: the courses to complete, whether the
conference must be attended, the deadline and how long a certificate lasts.
Enrolment is by unit: every active official under a target unit is covered.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, or_, select

from ..audit.services import record
from ..auth.models import Role, User
from ..extensions import db
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from .models import TrainingProgramme, programme_unit


class ProgrammeError(ValueError):
    """Shown to the user as is (already translated); ``field`` names the form field at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


def programme_by_code(code: str) -> TrainingProgramme | None:
    return db.session.scalar(select(TrainingProgramme).where(TrainingProgramme.code == code))


def create_programme(*, code: str, title: str, description: str, courses, target_units,
                     requires_attendance: bool, deadline, validity_months: int, issuer_name: str,
                     by: User | None) -> TrainingProgramme:
    code = (code or "").strip().lower()
    if not code or not title.strip():
        raise ProgrammeError(_l("A programme needs a code and a title."), "code" if not code else "title")
    if db.session.scalar(select(TrainingProgramme.id).where(TrainingProgramme.code == code)):
        raise ProgrammeError(_l("The programme code %(c)s is already used.", c=code), "code")
    if not courses:
        raise ProgrammeError(_l("Choose at least one required course."), "courses")
    if not target_units:
        raise ProgrammeError(_l("Choose at least one target unit."), "units")
    programme = TrainingProgramme(code=code, title=title.strip(), description=(description or "").strip(),
                                  requires_attendance=requires_attendance, deadline=deadline,
                                  validity_months=validity_months, issuer_name=issuer_name.strip(),
                                  created_by_id=by.id if by else None)
    programme.courses = list(courses)
    programme.target_units = list(target_units)
    db.session.add(programme)
    db.session.flush()
    record("programme.create", "programme", programme.code, actor_id=by.id if by else None,
           data={"title": programme.title, "courses": [c.slug for c in courses],
                 "units": [u.code for u in target_units], "requires_attendance": requires_attendance})
    return programme


def enrolled_officials(programme: TrainingProgramme):
    """SELECT of the officials a programme covers: every active official under a target unit.

    Enrolment follows the unit tree, so officials imported later are enrolled
    the moment they exist.
    """
    conditions = [subtree_condition(unit) for unit in programme.target_units]
    return (select(User).join(OrgUnit, User.unit_id == OrgUnit.id)
            .where(User.role == Role.OFFICIAL.value, User.is_active_account.is_(True), or_(false(), *conditions)))


def programme_ids_for_unit(unit_id):
    """SELECT of the ids of the programmes whose target units contain the unit (enrolment
    is by unit). ``unit_id``: a value or a bind parameter."""
    own = OrgUnit.__table__.alias("own")
    target = OrgUnit.__table__.alias("target")
    return (select(programme_unit.c.programme_id)
            .join(target, target.c.id == programme_unit.c.unit_id)
            .join(own, own.c.id == unit_id)
            .where(func.substr(own.c.path, 1, func.length(target.c.path)) == target.c.path))


def programmes_for(user: User) -> list[TrainingProgramme]:
    """Programmes whose target units contain the official's unit (enrolment is by unit)."""
    if user.unit_id is None:
        return []
    return list(db.session.scalars(
        select(TrainingProgramme).where(TrainingProgramme.id.in_(programme_ids_for_unit(user.unit_id)))))
