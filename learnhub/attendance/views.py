from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..admin.models import ImportBatch
from ..admin.services import stage_upload
from ..auth.decorators import roles_required
from ..auth.models import Role
from ..auth.scope import sees_unit
from ..extensions import db, limiter
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..qr import qr_svg
from ..urls import external_url
from .models import TrainingSession
from .services import (
    STATUSES, AttendanceError, apply_sheet, check_in, expected_officials, plan_sheet_import, records_by_user,
    roll_call,
)

bp = Blueprint("attendance", __name__)
STAFF = (Role.TRAINER, Role.ADMIN)


def _session(session_id: int) -> TrainingSession:
    session = db.session.get(TrainingSession, session_id) or abort(404)
    if not sees_unit(current_user, session.unit):
        abort(403)
    return session


def _grouped(session: TrainingSession):
    officials = expected_officials(session)
    marks = records_by_user(session)
    groups: list[tuple[OrgUnit, list]] = []
    for user in officials:
        if not groups or groups[-1][0].id != user.unit_id:
            groups.append((user.unit, []))
        groups[-1][1].append((user, marks.get(user.id)))
    return groups


@bp.get("/sessions/<int:session_id>")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def session(session_id: int):
    session = _session(session_id)
    return render_template("attendance/session.html", session=session, groups=_grouped(session),
                           statuses=STATUSES, can_mark=current_user.has_role(*STAFF), conflicts=None)


@bp.post("/sessions/<int:session_id>/roll-call")
@roles_required(*STAFF)
def take_roll(session_id: int):
    session = _session(session_id)
    marks = {}
    for key, value in request.form.items():
        if key.startswith("status-") and key[7:].isdigit() and value:
            user_id = int(key[7:])
            marks[user_id] = (value, request.form.get(f"note-{user_id}", ""))
    override = {int(v) for v in request.form.getlist("override") if v.isdigit()}
    try:
        conflicts = roll_call(session, marks, current_user, override)
    except AttendanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("attendance.session", session_id=session.id))
    db.session.commit()
    if conflicts:
        flash(_("%(n)d officials checked themselves in with another status: choose which mark to keep.", n=len(conflicts)), "error")
        return render_template("attendance/session.html", session=session, groups=_grouped(session),
                               statuses=STATUSES, can_mark=True, conflicts=conflicts)
    flash(_("Attendance saved."), "success")
    return redirect(url_for("attendance.session", session_id=session.id))


@bp.get("/sessions/<int:session_id>/code")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def show_code(session_id: int):
    session = _session(session_id)
    url = external_url("attendance.check_in_view", code=session.checkin_code)
    return render_template("attendance/code.html", session=session, url=url, qr=qr_svg(url, scalable=True))


def _checkin_limit() -> str:
    return current_app.config["RATELIMIT_CHECKIN"]


def _account_key() -> str:
    return f"account:{current_user.id}"


@bp.route("/check-in", methods=["GET", "POST"])
@login_required
@limiter.limit(_checkin_limit, methods=["POST"], key_func=_account_key)
def check_in_view():
    code = (request.values.get("code") or "").strip().upper()
    if request.method == "POST":
        if not current_user.has_role(Role.OFFICIAL):
            flash(_("Only officials check in to sessions."), "error")
        else:
            try:
                session = check_in(code, current_user)
            except AttendanceError as exc:
                db.session.commit()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(_("You are checked in to %(t)s.", t=session.title), "success")
                return redirect(url_for("progress.my_training"))
    return render_template("attendance/check_in.html", code=code)


@bp.route("/sessions/<int:session_id>/import", methods=["GET", "POST"])
@roles_required(*STAFF)
def import_sheet(session_id: int):
    session = _session(session_id)
    if request.method == "POST" and request.form.get("batch"):
        batch = db.session.get(ImportBatch, int(request.form["batch"])) if request.form["batch"].isdigit() else None
        if batch is None or batch.kind != f"attendance:{session.id}" or batch.created_by_id != current_user.id \
                or batch.applied_at is not None:
            abort(404)
        try:
            plan = plan_sheet_import(session, batch.content, batch.filename)
            conflicts = apply_sheet(session, plan, current_user)
        except AttendanceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("attendance.import_sheet", session_id=session.id))
        batch.applied_at = utcnow()
        db.session.commit()
        if conflicts:
            flash(_("%(n)d officials checked themselves in with another status: choose which mark to keep.", n=len(conflicts)), "error")
            return render_template("attendance/session.html", session=session, groups=_grouped(session),
                                   statuses=STATUSES, can_mark=True, conflicts=conflicts)
        flash(_("Attendance imported: %(n)d rows.", n=len(plan.rows)), "success")
        return redirect(url_for("attendance.session", session_id=session.id))
    plan = batch = None
    if request.method == "POST":
        upload = request.files.get("file")
        if not upload or not upload.filename:
            flash(_("Choose a CSV or XLSX file."), "error")
        elif not upload.filename.lower().endswith((".csv", ".xlsx", ".txt")):
            flash(_("The file must be .csv or .xlsx."), "error")
        else:
            data = upload.read()
            try:
                plan = plan_sheet_import(session, data, upload.filename)
            except AttendanceError as exc:
                flash(str(exc), "error")
            else:
                batch = stage_upload(f"attendance:{session.id}", upload.filename, data, current_user,
                                     {"rows": len(plan.rows), "problems": len(plan.problems)})
                db.session.commit()
    return render_template("attendance/import.html", session=session, plan=plan, batch=batch)
