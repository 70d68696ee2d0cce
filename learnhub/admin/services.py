"""Administration: staged imports of officials, and reorganising units with their people. Callers commit."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from ..audit.services import record
from ..auth.models import Role, User
from ..auth.scope import unit_condition
from ..auth.services import AccountError, apply_officials_import, plan_officials_import, reset_password
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..orgs.services import OrgError, move_unit
from .models import ImportBatch


UNCONFIRMED_UPLOAD_LIFETIME = timedelta(days=1)


def stage_upload(kind: str, filename: str, content: bytes, by: User, summary: dict) -> ImportBatch:
    """Keep an uploaded file until its uploader confirms it; files never confirmed go after a day."""
    discard_unconfirmed_uploads()
    batch = ImportBatch(kind=kind, filename=(filename or "")[:255], content=content, created_by_id=by.id,
                        summary=summary)
    db.session.add(batch)
    db.session.flush()
    return batch


def discard_unconfirmed_uploads(now: datetime | None = None) -> int:
    """Delete uploads left unconfirmed for more than a day (they may hold personal data)."""
    cutoff = (now or utcnow()) - UNCONFIRMED_UPLOAD_LIFETIME
    return db.session.execute(delete(ImportBatch).where(ImportBatch.applied_at.is_(None),
                                                        ImportBatch.created_at < cutoff)).rowcount


def stage_officials_import(data: bytes, filename: str, by: User):
    """Check the file (dry run) and keep it for confirmation; returns (batch, plan)."""
    plan = plan_officials_import(data, filename)
    batch = stage_upload("officials", filename, data, by,
                         {"create": plan.count("create"), "update": plan.count("update"),
                          "unchanged": plan.count("unchanged"), "problems": len(plan.problems)})
    return batch, plan


def confirm_officials_import(batch_id: int, by: User):
    """Apply a staged import, re-checked against the database as it is now."""
    batch = db.session.scalar(select(ImportBatch).where(
        ImportBatch.id == batch_id, ImportBatch.kind == "officials").with_for_update())
    if batch is None or batch.created_by_id != by.id:
        raise AccountError(_l("This import does not exist."))
    if batch.applied_at is not None:
        raise AccountError(_l("This file has already been imported."))
    plan = plan_officials_import(batch.content, batch.filename)
    if plan.problems:
        raise AccountError(_l("The data changed since the check: %(n)d rows now have problems. Upload the file again.", n=len(plan.problems)))
    created = apply_officials_import(plan, by)
    batch.applied_at = utcnow()
    batch.summary = {"create": len(created), "update": plan.count("update"),
                     "unchanged": plan.count("unchanged"), "problems": 0}
    return plan, created


def update_account(user: User, *, full_name: str, role: str, unit: OrgUnit | None, position: str,
                   email: str, phone: str, by: User) -> dict:
    """An administrator corrects an account. Returns {field: [old, new]} of what changed,
    written to the audit log; nothing else an official holds (attempts, certificates) changes."""
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise AccountError(_l("The full name is required."), "full_name")
    if role not in {r.value for r in Role}:
        raise AccountError(_l("Unknown role."), "role")
    if role in (Role.OFFICIAL.value, Role.COMMITTEE.value) and unit is None:
        raise AccountError(_l("Officials and committee members must belong to a unit."), "unit_code")
    if user.id == by.id and role != user.role:
        raise AccountError(_l("You cannot change your own role."), "role")
    wanted = {"full_name": full_name, "role": role, "position": (position or "").strip(),
              "email": (email or "").strip(), "phone": (phone or "").strip()}
    changed = {}
    for attr, value in wanted.items():
        if getattr(user, attr) != value:
            changed[attr] = [getattr(user, attr), value]
            setattr(user, attr, value)
    if user.unit_id != (unit.id if unit else None):
        changed["unit"] = [user.unit.code if user.unit else None, unit.code if unit else None]
        user.unit = unit
    if changed:
        db.session.flush()
        record("account.update", "user", user.id, actor_id=by.id, subject_id=user.id, data={"changed": changed})
    return changed


def merge_units(source: OrgUnit, target: OrgUnit) -> int:
    """Fold ``source`` into ``target``: its people and child units move; records stay theirs.

    Returns how many accounts moved. The source unit is kept, inactive, so
    that history still names it.
    """
    if source.id == target.id:
        raise OrgError("a unit cannot be merged into itself")
    if target.path.startswith(source.path):
        raise OrgError("a unit cannot be merged into a unit below it")
    moved = db.session.execute(
        update(User).where(User.unit_id == source.id).values(unit_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    for child in db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == source.id)).all():
        move_unit(child, target)
    source = db.session.get(OrgUnit, source.id)
    source.is_active = False
    source.merged_into_id = target.id
    db.session.flush()
    return moved




# --- login slips: accounts handed out on paper --------------------------------

def slip_units(viewer: User) -> list[tuple[OrgUnit, int]]:
    """The units ``viewer`` oversees that have active officials, with how many, in tree order."""
    rows = db.session.execute(
        select(OrgUnit, func.count(User.id)).join(User, User.unit_id == OrgUnit.id)
        .where(User.role == Role.OFFICIAL.value, User.is_active_account.is_(True), unit_condition(viewer))
        .group_by(OrgUnit.id).order_by(OrgUnit.path)).all()
    return [(unit, n) for unit, n in rows]


def unit_officials(unit: OrgUnit) -> list[User]:
    """The active officials of this one unit, by name."""
    return list(db.session.scalars(select(User).where(
        User.unit_id == unit.id, User.role == Role.OFFICIAL.value, User.is_active_account.is_(True))
        .order_by(User.full_name, User.id)))


def has_own_password(user: User) -> bool:
    """They have chosen their password themself: a slip would take it away from them."""
    return bool(user.password_hash) and not user.must_change_password


def issue_login_slips(unit: OrgUnit, by: User, also_reset: set[int] = frozenset()) -> list[tuple[User, str]]:
    """A new temporary password for each official of ``unit`` who has none of their own yet, and
    for those in ``also_reset`` (asked for by name) even if they have. Each reset is in the audit
    log. Returns (official, temporary password) for the slips; the passwords are stored hashed."""
    issued = []
    for user in unit_officials(unit):
        own = has_own_password(user)
        if own and user.id not in also_reset:
            continue
        temporary = reset_password(user)
        record("account.temporary_password", "user", user.id, actor_id=by.id, subject_id=user.id,
               data={"reason": "login_slip", "unit": unit.code, "replaced_own_password": own})
        issued.append((user, temporary))
    db.session.flush()
    return issued
