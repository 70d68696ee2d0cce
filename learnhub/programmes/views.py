"""Programme pages: the list, a new programme, one programme with its sessions."""
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..attendance.forms import SessionForm
from ..attendance.models import TrainingSession
from ..attendance.services import AttendanceError, create_session
from ..auth.decorators import roles_required
from ..auth.models import Role, User
from ..auth.scope import sees_unit, unit_condition
from ..catalog.services import active_courses
from ..config import VIETNAM_TZ
from ..extensions import db
from ..orgs.models import OrgUnit
from .forms import ProgrammeForm
from .models import TrainingProgramme
from .services import ProgrammeError, create_programme, enrolled_officials, programme_by_code

bp = Blueprint("programmes", __name__)
STAFF = (Role.TRAINER, Role.ADMIN)


def _programme(code: str) -> TrainingProgramme:
    return programme_by_code(code) or abort(404)


def _local(value: datetime) -> datetime:
    """A datetime-local form value (Vietnam time, no zone) as UTC."""
    return value.replace(tzinfo=VIETNAM_TZ).astimezone(timezone.utc)


@bp.get("/programmes")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def index():
    rows = db.session.scalars(select(TrainingProgramme).order_by(TrainingProgramme.created_at.desc())).all()
    return render_template("programmes/index.html", programmes=rows)


@bp.route("/programmes/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new():
    courses = {c.id: c for c in active_courses()}
    units = {u.id: u for u in db.session.scalars(select(OrgUnit).where(
        OrgUnit.is_active.is_(True), OrgUnit.depth <= 1).order_by(OrgUnit.path))}
    form = ProgrammeForm()
    if not form.is_submitted():
        form.issuer_name.data = current_app.config["ISSUER_NAME"]
    form.courses.choices = [(c.id, c.title) for c in courses.values()]
    form.units.choices = [(u.id, u.label) for u in units.values()]
    if form.validate_on_submit():
        try:
            programme = create_programme(
                code=form.code.data, title=form.title.data, description=form.description.data,
                courses=[courses[i] for i in form.courses.data], target_units=[units[i] for i in form.units.data],
                requires_attendance=form.requires_attendance.data, deadline=form.deadline.data,
                validity_months=form.validity_months.data, issuer_name=form.issuer_name.data or "",
                by=current_user)
        except ProgrammeError as exc:
            getattr(form, exc.field or "code").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Programme created."), "success")
            return redirect(url_for("programmes.detail", code=programme.code))
    return render_template("programmes/form.html", form=form, depth={u.id: u.depth for u in units.values()})


@bp.get("/programmes/<code>")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def detail(code: str):
    programme = _programme(code)
    enrolled = db.session.scalar(select(func.count()).select_from(enrolled_officials(programme).subquery()))
    sessions = db.session.scalars(select(TrainingSession).where(TrainingSession.programme_id == programme.id)
                                  .order_by(TrainingSession.starts_at)).all()
    sessions = [s for s in sessions if sees_unit(current_user, s.unit)]
    return render_template("programmes/detail.html", programme=programme, enrolled=enrolled, sessions=sessions)


@bp.route("/programmes/<code>/sessions/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_session(code: str):
    programme = _programme(code)
    # Only units the trainer oversees: a trainer of one district plans sessions there.
    units = {u.id: u for u in db.session.scalars(
        select(OrgUnit).where(OrgUnit.is_active.is_(True), unit_condition(current_user)).order_by(OrgUnit.path))}
    trainers = {t.id: t for t in db.session.scalars(
        select(User).where(User.role == Role.TRAINER.value).order_by(User.full_name))}
    form = SessionForm()
    form.unit.choices = [(u.id, "\u2003" * u.depth + u.label) for u in units.values()]
    form.trainer.choices = [(0, "—")] + [(t.id, t.full_name) for t in trainers.values()]
    if form.validate_on_submit():
        try:
            session = create_session(programme, title=form.title.data, unit=units[form.unit.data],
                                     venue=form.venue.data or "", starts_at=_local(form.starts_at.data),
                                     ends_at=_local(form.ends_at.data), trainer=trainers.get(form.trainer.data),
                                     grace_minutes=form.grace_minutes.data,
                                     rotate_seconds=form.rotate_seconds.data)
        except AttendanceError as exc:
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Session created."), "success")
            return redirect(url_for("attendance.session", session_id=session.id))
    return render_template("attendance/session_form.html", programme=programme, form=form)
