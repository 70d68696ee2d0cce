"""Reorganising units (rename, move, merge) seen from the people they hold: who moves, and
which programmes gain or lose officials. Callers commit.

Enrolment follows the unit tree (``enrolled_officials``), so the preview does not re-state
that rule: it performs the change inside a savepoint, reads enrolment after it, and rolls the
savepoint back. What the preview shows is what confirming will do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, func, select, type_coerce

from ..admin.services import merge_units
from ..audit.services import record
from ..auth.models import Role, User
from ..extensions import db
from ..orgs.models import OrgUnit
from ..orgs.services import OrgError, move_unit, rename_unit, subtree_condition
from .models import TrainingProgramme
from .services import enrolled_officials

OPERATIONS = ("rename", "move", "merge")
SAMPLE = 20


class ReorganiseError(ValueError):
    """Shown to the user as is (already translated)."""


@dataclass
class EnrolmentChange:
    programme: TrainingProgramme
    before: int  # officials of the affected units enrolled before the change
    after: int
    joined: int
    left: int


@dataclass
class UnitChange:
    operation: str
    unit: OrgUnit
    new_name: str = ""
    target: OrgUnit | None = None  # move: the new parent (None: top level); merge: the unit merged into
    officials: int = 0  # officials whose unit, or whose unit's place in the tree, changes
    sample: list[User] = field(default_factory=list)
    programmes: list[EnrolmentChange] = field(default_factory=list)


def officials_per_unit(unit_ids: list[int]) -> dict[int, int]:
    """Active officials in each unit and everything below it: one GROUP BY query."""
    if not unit_ids:
        return {}
    below = OrgUnit.__table__.alias("below")
    top = OrgUnit.__table__.alias("top")
    rows = db.session.execute(
        select(top.c.id, func.count(User.id))
        .select_from(top)
        .join(below, (below.c.path >= top.c.path)
              & (below.c.path < type_coerce(func.substr(top.c.path, 1, func.length(top.c.path) - 1), String) + "0"))
        .join(User, User.unit_id == below.c.id)
        .where(top.c.id.in_(unit_ids), User.role == Role.OFFICIAL.value, User.is_active_account.is_(True))
        .group_by(top.c.id)).all()
    return dict(rows)


def _apply(change: UnitChange) -> None:
    unit = change.unit
    try:
        if change.operation == "rename":
            rename_unit(unit, change.new_name)
        elif change.operation == "move":
            move_unit(unit, change.target)
        else:
            merge_units(unit, change.target)
    except OrgError:
        raise ReorganiseError(_errors(change)) from None


def _errors(change: UnitChange) -> str:
    if change.operation == "rename":
        return str(_l("Enter the new name."))
    if change.operation == "move":
        return str(_l("A unit cannot be moved under itself or a unit below it."))
    return str(_l("A unit cannot be merged into itself or a unit below it."))


def _affected_ids(unit: OrgUnit) -> list[int]:
    return list(db.session.scalars(select(User.id).join(OrgUnit, OrgUnit.id == User.unit_id).where(
        subtree_condition(unit), User.role == Role.OFFICIAL.value, User.is_active_account.is_(True))))


def _enrolled(programmes: list[TrainingProgramme], ids: list[int]) -> dict[int, set[int]]:
    result = {}
    for programme in programmes:
        query = enrolled_officials(programme).with_only_columns(User.id)
        result[programme.id] = set(db.session.scalars(query.where(User.id.in_(ids)))) if ids else set()
    return result


def preview(operation: str, unit: OrgUnit, *, new_name: str = "", target: OrgUnit | None = None) -> UnitChange:
    """What the change would do, computed by doing it in a savepoint and undoing it."""
    if operation not in OPERATIONS:
        raise ReorganiseError(str(_l("Unknown operation.")))
    if operation == "merge" and target is None:
        raise ReorganiseError(str(_l("Choose the unit to merge into.")))
    change = UnitChange(operation, unit, (new_name or "").strip()[:200], target)
    if operation == "rename":
        if not change.new_name:
            raise ReorganiseError(_errors(change))
        return change
    ids = _affected_ids(unit)
    change.officials = len(ids)
    change.sample = list(db.session.scalars(select(User).where(User.id.in_(ids[:SAMPLE])).order_by(User.full_name)))
    programmes = list(db.session.scalars(select(TrainingProgramme).order_by(TrainingProgramme.code)))
    before = _enrolled(programmes, ids)
    savepoint = db.session.begin_nested()
    try:
        _apply(change)
        db.session.flush()
        after = _enrolled(programmes, ids)
    finally:
        savepoint.rollback()
        db.session.expire_all()
    for programme in programmes:
        b, a = before[programme.id], after[programme.id]
        if a != b:
            change.programmes.append(EnrolmentChange(programme, len(b), len(a), len(a - b), len(b - a)))
    return change


def apply_change(change: UnitChange, by: User | None) -> None:
    """Make the change previewed and write it to the audit log."""
    unit = change.unit
    data = {"code": unit.code, "officials": change.officials,
            "programmes": {e.programme.code: {"joined": e.joined, "left": e.left} for e in change.programmes}}
    if change.operation == "rename":
        data.update(old=unit.name, new=change.new_name)
    elif change.operation == "move":
        data.update(old_parent=unit.parent.code if unit.parent else None,
                    new_parent=change.target.code if change.target else None)
    else:
        data.update(into=change.target.code)
    _apply(change)
    db.session.flush()
    record(f"unit.{change.operation}", "unit", unit.code, actor_id=by.id if by else None, data=data)
