from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   session as cookie, url_for)
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
from ..orgs.services import is_within
from ..qr import qr_svg
from ..urls import external_url
from . import documents
from .models import TrainingSession
from .services import (
    ROTATION_CHOICES, STATUSES, UNMARKED, AttendanceError, apply_sheet, attendance_totals, check_in, check_in_to,
    confirmation, mark_all_present, plan_sheet_import, projector_code, roll_call, roll_call_rows, scan_still_valid,
    session_communes, session_for_code, set_rotation,
)

bp = Blueprint("attendance", __name__)
STAFF = (Role.TRAINER, Role.ADMIN)
PASS = "checkin_pass"  # in the signed session cookie: {"s": session id, "at": when the code was scanned}


def _session(session_id: int) -> TrainingSession:
    session = db.session.get(TrainingSession, session_id) or abort(404)
    if not sees_unit(current_user, session.unit):
        abort(403)
    return session


def _filters(values) -> dict:
    """The roll call's search, commune and status, from a query string or a form."""
    unit = values.get("unit", "")
    status = values.get("status", "")
    return {"q": (values.get("q") or "").strip()[:100], "unit": int(unit) if unit.isdigit() else None,
            "status": status if status in (*STATUSES, UNMARKED) else ""}


def _back(session: TrainingSession, filters: dict):
    args = {k: v for k, v in filters.items() if v}
    return redirect(url_for("attendance.session", session_id=session.id, **args) + "#roll-form")


def _grouped(rows):
    groups: list[tuple[OrgUnit, list]] = []
    for user, rec in rows:
        if not groups or groups[-1][0].id != user.unit_id:
            groups.append((user.unit, []))
        groups[-1][1].append((user, rec))
    return groups


def _render_roll(session: TrainingSession, filters: dict, conflicts=None):
    rows = roll_call_rows(session, search=filters["q"], unit_id=filters["unit"], status=filters["status"])
    communes = session_communes(session)
    return render_template("attendance/session.html", session=session, groups=_grouped(rows), shown=len(rows),
                           totals=attendance_totals(session), communes=communes,
                           unmarked_in={unit.id: unmarked for unit, _n, unmarked in communes},
                           filters=filters, filter_args={k: v for k, v in filters.items() if v},
                           statuses=STATUSES, can_mark=current_user.has_role(*STAFF), conflicts=conflicts)


@bp.get("/sessions/<int:session_id>")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def session(session_id: int):
    return _render_roll(_session(session_id), _filters(request.args))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/sessions/<int:session_id>/roll-call")
@roles_required(*STAFF)
def take_roll(session_id: int):
    session = _session(session_id)
    filters = _filters(request.form)
    marks = {}
    for key, value in request.form.items():
        if key.startswith("status-") and key[7:].isdigit() and value:
            user_id = int(key[7:])
            marks[user_id] = (value, request.form.get(f"note-{user_id}"))  # no note field: keep the note
    override = {int(v) for v in request.form.getlist("override") if v.isdigit()}
    try:
        conflicts = roll_call(session, marks, current_user, override)
    except AttendanceError as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify(error=str(exc)), 400
        flash(str(exc), "error")
        return _back(session, filters)
    db.session.commit()
    if _wants_json():  # the page's script saves each tap and shows the new totals
        return jsonify(totals=attendance_totals(session), conflicts=[c.user.id for c in conflicts])
    if conflicts:
        flash(_("%(n)d officials checked themselves in with another status: choose which mark to keep.", n=len(conflicts)), "error")
        return _render_roll(session, filters, conflicts)
    flash(_("Attendance saved."), "success")
    return _back(session, filters)


@bp.post("/sessions/<int:session_id>/all-present")
@roles_required(*STAFF)
def all_present(session_id: int):
    session = _session(session_id)
    filters = _filters(request.form)
    unit_id = request.form.get("commune", "")
    unit = db.session.get(OrgUnit, int(unit_id)) if unit_id.isdigit() else None
    if unit is None:
        abort(404)
    try:
        count = mark_all_present(session, unit, current_user)
    except AttendanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(session, filters)
    db.session.commit()
    flash(_("%(n)d officials of %(unit)s marked present. Now mark only those who are not.", n=count, unit=unit.label),
          "success")
    return _back(session, filters)


@bp.get("/sessions/<int:session_id>/officials/<int:user_id>")
@roles_required(*STAFF)
def official_mark(session_id: int, user_id: int):
    session = _session(session_id)
    rows = roll_call_rows(session, user_id=user_id)
    if not rows:
        abort(404)
    user, rec = rows[0]
    filters = _filters(request.args)
    return render_template("attendance/official.html", session=session, user=user, rec=rec, statuses=STATUSES,
                           filters=filters, filter_args={k: v for k, v in filters.items() if v})


# --- the code on the projector ------------------------------------------------

def _code_payload(session: TrainingSession) -> dict:
    code, seconds_left = projector_code(session)
    url = external_url("attendance.check_in_view", code=code)
    return {"code": code, "url": url, "seconds_left": seconds_left, "qr": qr_svg(url, scalable=True)}


@bp.get("/sessions/<int:session_id>/code")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def show_code(session_id: int):
    session = _session(session_id)
    return render_template("attendance/code.html", session=session, can_change=current_user.has_role(*STAFF),
                           choices=ROTATION_CHOICES, **_code_payload(session))


@bp.get("/sessions/<int:session_id>/code.json")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def code_json(session_id: int):
    response = jsonify(_code_payload(_session(session_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/sessions/<int:session_id>/code/rotation")
@roles_required(*STAFF)
def rotation(session_id: int):
    session = _session(session_id)
    seconds = request.form.get("seconds", "0")
    try:
        set_rotation(session, int(seconds) if seconds.isdigit() else -1, current_user)
    except AttendanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The code now changes every %(s)d seconds.", s=session.rotate_seconds) if session.rotate_seconds
              else _("The code no longer changes."), "success")
    return redirect(url_for("attendance.show_code", session_id=session.id))


# --- self check-in --------------------------------------------------------------

def _checkin_limit() -> str:
    return current_app.config["RATELIMIT_CHECKIN"]


def _account_key() -> str:
    # Per account: a hall's phones share one address. Before log-in, per address.
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return f"address:{request.remote_addr}"


@bp.route("/check-in", methods=["GET", "POST"])
@limiter.limit(_checkin_limit, methods=["POST"], key_func=_account_key)
def check_in_view():
    """GET with ?code= is the QR scan: the code is checked now, and what goes on through the
    log-in is the scan itself. POST is a code typed by a logged-in official."""
    code = (request.values.get("code") or "").strip().upper()
    if request.method == "GET" and code:
        try:
            session = session_for_code(code)
        except AttendanceError as exc:
            flash(str(exc), "error")
            return render_template("attendance/check_in.html", code=code), 400
        cookie[PASS] = {"s": session.id, "at": utcnow().timestamp()}
        return redirect(url_for("attendance.confirm", session_id=session.id))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("attendance.check_in_view")))
    if request.method == "POST":
        try:
            session = check_in(code, current_user)
        except AttendanceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("You are checked in to %(t)s.", t=session.title), "success")
            return redirect(url_for("attendance.confirm", session_id=session.id))
    return render_template("attendance/check_in.html", code=code)


@bp.route("/check-in/<int:session_id>", methods=["GET", "POST"])
@login_required
def confirm(session_id: int):
    """One tap after the scan (and the log-in it led through): check in to this session."""
    # The session, both units and the official's mark in one query; the full account is not needed.
    page = confirmation(session_id, current_user.id, current_user.unit_id) or abort(404)
    if not sees_unit(current_user, page.unit) and not is_within(page.own_unit, page.unit):
        abort(404)  # a session elsewhere: nothing of it to show, nobody to check in
    scan = cookie.get(PASS) or {}
    scanned = scan.get("s") == page.id and scan_still_valid(float(scan.get("at") or 0))
    if request.method == "POST":
        if not scanned:
            flash(_("Scan the QR code in the hall again, or type the code shown there."), "error")
            return redirect(url_for("attendance.check_in_view"))
        session = db.session.get(TrainingSession, session_id)
        try:
            check_in_to(session, current_user)
        except AttendanceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            cookie.pop(PASS, None)
            flash(_("You are checked in to %(t)s.", t=session.title), "success")
        return redirect(url_for("attendance.confirm", session_id=session_id))
    return render_template("attendance/confirm.html", session=page, record=page.record, scanned=scanned,
                           is_official=current_user.has_role(Role.OFFICIAL))


# --- paper: the sign-in sheet and its import -------------------------------------

@bp.get("/sessions/<int:session_id>/sign-in-sheet.pdf")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def sign_in_sheet(session_id: int):
    session = _session(session_id)
    url = external_url("attendance.check_in_view", code=session.checkin_code)
    return Response(documents.sign_in_sheet_pdf(session, url), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="danh-sach-ky-ten-{session.id}.pdf"'})


@bp.get("/sessions/<int:session_id>/sign-in-sheet.<fmt>")
@roles_required(*STAFF)
def sheet_template(session_id: int, fmt: str):
    session = _session(session_id)
    if fmt == "xlsx":
        return Response(documents.sign_in_sheet_xlsx(session), headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f'attachment; filename="danh-sach-ky-ten-{session.id}.xlsx"'})
    if fmt == "csv":
        return Response(documents.sign_in_sheet_csv(session), headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="danh-sach-ky-ten-{session.id}.csv"'})
    abort(404)


def _decisions(form, plan) -> dict[int, int | None]:
    decisions = {}
    for row in plan.undecided:
        value = form.get(f"pick-{row.line}", "")
        if value == "skip":
            decisions[row.line] = None
        elif value.isdigit():
            decisions[row.line] = int(value)
    return decisions


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
            decisions = _decisions(request.form, plan)
            count, conflicts = apply_sheet(session, plan, current_user, decisions)
        except AttendanceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            try:
                plan = plan_sheet_import(session, batch.content, batch.filename)
            except AttendanceError:
                return redirect(url_for("attendance.import_sheet", session_id=session.id))
            return render_template("attendance/import.html", session=session, plan=plan, batch=batch,
                                   picked=request.form), 400
        batch.applied_at = utcnow()
        db.session.commit()
        if conflicts:
            flash(_("%(n)d officials checked themselves in with another status: choose which mark to keep.", n=len(conflicts)), "error")
            return _render_roll(session, _filters({}), conflicts)
        flash(_("Attendance imported: %(n)d rows.", n=count), "success")
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
                                     {"rows": len(plan.rows), "undecided": len(plan.undecided)})
                db.session.commit()
    return render_template("attendance/import.html", session=session, plan=plan, batch=batch, picked={})
