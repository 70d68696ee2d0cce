from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..auth.decorators import roles_required
from ..auth.models import Role, User
from ..auth.scope import sees_unit
from ..auth.services import AccountError, create_user, reset_password, set_active
from ..extensions import db
from ..urls import external_url
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from ..pdf import render_pdf
from ..qr import qr_svg
from .forms import EditUserForm, ImportForm, UserForm
from .services import (
    confirm_officials_import, has_own_password, issue_login_slips, slip_units, stage_officials_import, unit_officials,
    update_account,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


def _unit_choices():
    rows = db.session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.depth)
                              .where(OrgUnit.is_active.is_(True)).order_by(OrgUnit.path)).all()
    return [("", "—")] + [(code, "\u2003" * depth + f"{kind} {name}".strip()) for code, name, kind, depth in rows]


ROLES = ("official", "trainer", "committee", "admin")


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    page = max(request.args.get("page", 1, type=int), 1)
    q = (request.args.get("q") or "").strip()[:100]
    role = request.args.get("role") or ""
    role = role if role in ROLES else ""
    unit_code = (request.args.get("unit") or "").strip()[:32]
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code)) if unit_code else None
    stmt = select(User)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.full_name).like(like), User.username.like(like)))
    if role:
        stmt = stmt.where(User.role == role)
    if unit is not None:  # the unit and every unit below it
        stmt = stmt.join(OrgUnit, OrgUnit.id == User.unit_id).where(subtree_condition(unit))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(User.username).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return render_template("admin/users.html", users=rows, total=total, page=page, per_page=PER_PAGE, q=q,
                           role=role, unit=unit, unit_code=unit_code, units=_unit_choices())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    form = UserForm()
    form.unit_code.choices = _unit_choices()
    if form.validate_on_submit():
        unit = None
        if form.unit_code.data:
            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == form.unit_code.data))
            if unit is None:
                form.unit_code.errors.append(_("Choose a unit from the list."))
        if not form.unit_code.errors:
            try:
                user, temporary = create_user(
                    username=form.username.data, full_name=form.full_name.data, role=form.role.data,
                    unit=unit, position=form.position.data or "", email=form.email.data or "",
                    phone=form.phone.data or "", password=form.password.data or None, by=current_user)
            except AccountError as exc:
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(_("Account %(u)s created.", u=user.username), "success")
                if temporary:
                    return render_template("admin/temporary.html", accounts=[(user, temporary)])
                return redirect(url_for("admin.users", q=user.username))
    return render_template("admin/user_form.html", form=form)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = EditUserForm(obj=user)
    form.unit_code.choices = _unit_choices()
    if request.method == "GET":
        form.unit_code.data = user.unit.code if user.unit else ""
    if form.validate_on_submit():
        unit = None
        if form.unit_code.data:
            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == form.unit_code.data))
            if unit is None:
                form.unit_code.errors.append(_("Choose a unit from the list."))
        if not form.unit_code.errors:
            try:
                changed = update_account(user, full_name=form.full_name.data, role=form.role.data, unit=unit,
                                         position=form.position.data or "", email=form.email.data or "",
                                         phone=form.phone.data or "", by=current_user)
            except AccountError as exc:
                db.session.rollback()
                getattr(form, exc.field or "full_name").errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Account %(u)s saved.", u=user.username) if changed
                      else _("Nothing changed in account %(u)s.", u=user.username), "success" if changed else "info")
                return redirect(url_for("admin.users", q=user.username))
    return render_template("admin/user_edit.html", form=form, user=user)


def _confirm_page(user: User, action: str):
    return render_template("admin/confirm.html", user=user, action=action)


@bp.get("/users/<int:user_id>/deactivate")
@roles_required(Role.ADMIN)
def confirm_deactivate(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    return _confirm_page(user, "deactivate")


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def toggle_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    active = request.form.get("active") == "1"
    if not active and request.form.get("confirmed") != "1":
        return _confirm_page(user, "deactivate")  # asked first, whatever posted here
    try:
        set_active(user, active, current_user)
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Account %(u)s activated.", u=user.username) if active
              else _("Account %(u)s deactivated.", u=user.username), "success")
    return redirect(url_for("admin.users", q=user.username))


@bp.get("/users/<int:user_id>/reset-password")
@roles_required(Role.ADMIN)
def confirm_reset_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    return _confirm_page(user, "reset")


@bp.post("/users/<int:user_id>/reset-password")
@roles_required(Role.ADMIN)
def reset_user_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if request.form.get("confirmed") != "1":
        return _confirm_page(user, "reset")
    temporary = reset_password(user, current_user)
    db.session.commit()
    return render_template("admin/temporary.html", accounts=[(user, temporary)])


@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def import_officials():
    form = ImportForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            batch, plan = stage_officials_import(data, form.file.data.filename or "", current_user)
        except AccountError as exc:
            form.file.errors.append(str(exc))
        else:
            db.session.commit()
            return render_template("admin/import_preview.html", batch=batch, plan=plan)
    return render_template("admin/import.html", form=form)


@bp.post("/import/<int:batch_id>/confirm")
@roles_required(Role.ADMIN)
def confirm_import(batch_id: int):
    try:
        plan, created = confirm_officials_import(batch_id, current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.import_officials"))
    db.session.commit()
    flash(_("Import done: %(c)d accounts created, %(u)d updated, %(s)d unchanged.",
            c=len(created), u=plan.count("update"), s=plan.count("unchanged")), "success")
    if created:
        return render_template("admin/temporary.html", accounts=created)
    return redirect(url_for("admin.users"))


@bp.route("/login-slips", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.TRAINER)
def login_slips():
    """Cut-out cards with each official's username and a new temporary password, for a commune."""
    units = slip_units(current_user)
    wanted = request.values.get("unit", "")
    unit = db.session.get(OrgUnit, int(wanted)) if wanted.isdigit() else None
    if unit is not None and not sees_unit(current_user, unit):
        abort(403)
    officials = unit_officials(unit) if unit is not None else []
    if request.method == "POST" and unit is not None:
        if request.form.get("confirm") != "1":
            flash(_("Tick the box to confirm that the passwords are to be reset."), "error")
        else:
            also = {int(v) for v in request.form.getlist("also") if v.isdigit()}
            issued = issue_login_slips(unit, current_user, also)
            if not issued:
                flash(_("Nobody to print: every official of %(unit)s already has their own password.", unit=unit.label),
                      "error")
            else:
                login_url = external_url("auth.login")
                pdf = render_pdf(render_template("admin/login_slips_pdf.html", unit=unit, issued=issued,
                                                 login_url=login_url, qr=qr_svg(login_url)))
                db.session.commit()  # the passwords change only once the slips exist
                return Response(pdf, mimetype="application/pdf", headers={
                    "Content-Disposition": f'attachment; filename="phieu-dang-nhap-{unit.code}.pdf"'})
    return render_template("admin/login_slips.html", units=units, unit=unit, officials=officials,
                           own={u.id for u in officials if has_own_password(u)})
