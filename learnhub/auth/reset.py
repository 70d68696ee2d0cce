"""Forgotten passwords: who can reset one, and single-use reset links by email. Callers commit.

A link carries a token signed with the app's secret: the account id and a fingerprint of
the account's current password hash and session token. It expires after an hour
(``PASSWORD_RESET_SECONDS``) and dies the moment it is used, since setting the password
changes both. Nothing a visitor sees depends on whether an account exists.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select

from ..audit.services import record
from ..extensions import db
from ..orgs.models import OrgUnit
from .models import Role, User
from .services import AccountError, check_new_password, normalise_username

_SALT = "learnhub password reset v1"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}\n{user.session_token}".encode()).hexdigest()[:32]


def reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_token(token: str) -> User | None:
    """The active account a reset link opens, or None: expired, altered, already used."""
    if not token or len(token) > 400:
        return None
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_SECONDS"])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active or not hmac.compare_digest(str(data.get("f", "")), _fingerprint(user)):
        return None
    return user


def accounts_to_mail(identifier: str) -> list[User]:
    """Active accounts with an email that a username or an email address names."""
    identifier = (identifier or "").strip()[:200]
    if not identifier:
        return []
    condition = (func.lower(User.email) == identifier.lower()) if "@" in identifier \
        else (User.username == normalise_username(identifier))
    return list(db.session.scalars(select(User).where(condition, User.is_active_account.is_(True),
                                                      User.email != "").limit(5)))


def reset_with_token(token: str, new_password: str) -> User:
    """Set the password a valid link allows; every session of the account ends."""
    user = user_for_token(token)
    if user is None:
        raise AccountError(_l("This link has expired or has already been used. Ask for a new one."))
    check_new_password(new_password, user.username)
    user.set_password(new_password)  # new hash and session token: the link is spent, other devices logged out
    record("account.password_reset_by_email", "user", user.id, actor_id=user.id, subject_id=user.id)
    return user


def reset_contacts(unit: OrgUnit | None) -> list[User]:
    """Who can reset a password for someone in ``unit``: its trainers and administrators and
    those of every unit above it, then those who serve the whole province (no unit)."""
    staff = (User.role.in_([Role.TRAINER.value, Role.ADMIN.value]), User.is_active_account.is_(True))
    above = []
    if unit is not None:
        ids = [int(part) for part in unit.path.strip("/").split("/") if part.isdigit()]
        above = [User.unit_id.in_(ids)]
    query = select(User).where(*staff, or_(User.unit_id.is_(None), *above))
    users = db.session.scalars(query.order_by(User.role, User.full_name).limit(50)).all()
    # Nearest first: the unit's own people, then the levels above, then the province-wide.
    depth = {u.id: -(u.unit.depth if u.unit else -1) for u in users}
    return sorted(users, key=lambda u: (depth[u.id], u.role != Role.TRAINER.value, u.full_name))
