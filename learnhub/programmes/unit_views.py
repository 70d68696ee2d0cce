"""The units page of the administration: the tree with codes and officials, and rename, move
and merge with a preview of who moves and which programmes' enrolment changes.

It lives beside the programmes because the preview reads enrolment, which the programmes
define; the admin package sits below them and cannot."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.decorators import roles_required
from ..auth.models import Role
from ..extensions import db
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from .reorganise import OPERATIONS, ReorganiseError, apply_change, officials_per_unit, preview

bp = Blueprint("units", __name__, url_prefix="/admin/units")


def _unit(code: str) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code)) or abort(404)


def _chain(unit: OrgUnit) -> list[OrgUnit]:
    chain = []
    while unit is not None:
        chain.append(unit)
        unit = unit.parent
    return chain[::-1]


@bp.get("/")
@bp.get("/<code>")
@roles_required(Role.ADMIN)
def index(code: str | None = None):
    unit = _unit(code) if code else None
    parent = OrgUnit.parent_id == unit.id if unit else OrgUnit.parent_id.is_(None)
    children = db.session.scalars(select(OrgUnit).where(parent)
                                  .order_by(OrgUnit.is_active.desc(), OrgUnit.code)).all()
    shown = ([unit] if unit else []) + list(children)
    counts = officials_per_unit([u.id for u in shown])
    with_children = set(db.session.scalars(select(OrgUnit.parent_id).where(
        OrgUnit.parent_id.in_([u.id for u in children])).distinct()))
    targets = []
    if unit is not None:
        # Where the unit may go or merge into: any active unit outside its own subtree.
        targets = db.session.execute(select(OrgUnit.code, OrgUnit.kind, OrgUnit.name, OrgUnit.depth)
                                     .where(OrgUnit.is_active.is_(True), ~subtree_condition(unit))
                                     .order_by(OrgUnit.path)).all()
    return render_template("admin/units.html", unit=unit, chain=_chain(unit) if unit else [], children=children,
                           counts=counts, with_children=with_children, targets=targets)


def _change_from_form(unit: OrgUnit):
    operation = request.form.get("operation", "")
    if operation not in OPERATIONS:
        abort(400)
    target_code = (request.form.get("target") or "").strip()[:32]
    target = None
    if operation in ("move", "merge") and target_code and target_code != "-":
        target = db.session.scalar(select(OrgUnit).where(OrgUnit.code == target_code, OrgUnit.is_active.is_(True)))
        if target is None:
            raise ReorganiseError(_("Choose a unit from the list."))
    if operation == "move" and not target_code:
        raise ReorganiseError(_("Choose where to move the unit."))
    return preview(operation, unit, new_name=request.form.get("name", ""), target=target)


@bp.post("/<code>/preview")
@roles_required(Role.ADMIN)
def preview_change(code: str):
    unit = _unit(code)
    try:
        change = _change_from_form(unit)
    except ReorganiseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("units.index", code=code))
    return render_template("admin/unit_preview.html", change=change, target_code=request.form.get("target", ""),
                           counts=officials_per_unit([unit.id]))


@bp.post("/<code>/apply")
@roles_required(Role.ADMIN)
def apply(code: str):
    unit = _unit(code)
    try:
        change = _change_from_form(unit)  # computed afresh: the tree may have changed since the preview
        apply_change(change, current_user)
    except ReorganiseError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("units.index", code=code))
    db.session.commit()
    messages = {"rename": _("Unit %(c)s renamed.", c=code), "move": _("Unit %(c)s moved.", c=code),
                "merge": _("Unit %(c)s merged; it is kept, inactive, so that history still names it.", c=code)}
    flash(messages[change.operation], "success")
    target = change.target.code if change.operation == "merge" else code
    return redirect(url_for("units.index", code=target))
