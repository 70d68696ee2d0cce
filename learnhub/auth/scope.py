"""Who may see whom: the one rule, used by every page, export and command.

An administrator (and a trainer who belongs to no unit) sees everything; a
committee member or trainer sees their unit and everything below it; an
official sees only themself. Commands run from the server's shell pass
``viewer=None``: whoever holds the shell already holds the database.
"""
from __future__ import annotations

from sqlalchemy import false, select, true

from ..orgs.models import OrgUnit
from ..orgs.services import is_within, subtree_condition
from .models import Role, User


def sees_everything(viewer: User | None) -> bool:
    return viewer is None or viewer.has_role(Role.ADMIN) or (viewer.has_role(Role.TRAINER) and viewer.unit is None)


def sees_unit(viewer: User | None, unit: OrgUnit | None) -> bool:
    """May ``viewer`` see this unit and what happens in it?"""
    if sees_everything(viewer):
        return True
    if unit is None or viewer.has_role(Role.OFFICIAL) or viewer.unit is None:
        return False
    return is_within(unit, viewer.unit)


def unit_condition(viewer: User | None):
    """SQL condition on ``OrgUnit``: the units ``viewer`` oversees."""
    if sees_everything(viewer):
        return true()
    if viewer.has_role(Role.OFFICIAL) or viewer.unit is None:
        return false()
    return subtree_condition(viewer.unit)


def user_condition(viewer: User | None):
    """SQL condition on ``User`` (joined to its ``OrgUnit``): the accounts ``viewer`` may see."""
    if viewer is not None and viewer.has_role(Role.OFFICIAL):
        return User.id == viewer.id
    return unit_condition(viewer)


def officials_in_scope(viewer: User | None):
    """SELECT of the officials ``viewer`` may see (an official: only themself)."""
    query = select(User).where(User.role == Role.OFFICIAL.value)
    if sees_everything(viewer):
        return query
    return query.join(OrgUnit, User.unit_id == OrgUnit.id).where(user_condition(viewer))


def can_view_user(viewer: User | None, target: User) -> bool:
    if viewer is not None and viewer.id == target.id:
        return True
    if viewer is not None and viewer.has_role(Role.OFFICIAL):
        return False
    return sees_unit(viewer, target.unit)
