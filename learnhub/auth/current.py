"""The logged-in account as each request sees it: one indexed Core query by primary key,
no ORM object, unless a view asks for more.

Most pages need only who is logged in (id, name, role, unit). Loading the full ``User``
through the ORM cost a fifth of a lesson page; ``SessionUser`` holds those few columns and
fetches the full ``User`` the first time anything else is read or written, so views,
services and templates that need the whole account keep working unchanged.
"""
from __future__ import annotations

import functools
import hmac

from flask_login import UserMixin
from sqlalchemy import bindparam, select

from .. import reads
from ..extensions import db
from .models import User

_COLUMNS = ("id", "username", "full_name", "role", "unit_id", "must_change_password")


@functools.lru_cache(maxsize=1)
def _statement():
    # Built once: the statement holds bind parameters only, never data.
    return select(*(getattr(User, name) for name in _COLUMNS), User.session_token).where(
        User.id == bindparam("id"), User.is_active_account)


def load_session_user(user_id: str | None) -> SessionUser | None:
    """The account a session or remember cookie names ("<id>:<session token>", see
    ``User.get_id``), if it is active and the token is still its own: a password change, a
    reset, a deactivation or "log out everywhere" replaced the token and ends the session
    at its next request."""
    ident, _, token = (user_id or "").partition(":")
    if not ident.isdigit() or not token or len(ident) > 18:
        return None
    row = reads.first(_statement(), {"id": int(ident)})
    if row is None or not hmac.compare_digest(row.session_token, token):
        return None
    return SessionUser(row)


def _column(name: str) -> property:
    def get(self):
        account = self._account
        return getattr(account if account is not None else self._row, name)

    def set_(self, value):
        setattr(self.account, name, value)

    return property(get, set_)


class SessionUser(UserMixin):
    """A logged-in, active account: its id, username, full name, role, unit id and
    must-change-password flag from the session's query; anything else comes from the full
    ``User`` (``account``), loaded on first use in the request's database session."""

    def __init__(self, row):
        object.__setattr__(self, "_row", row)
        object.__setattr__(self, "_account", None)

    id = _column("id")
    username = _column("username")
    full_name = _column("full_name")
    role = _column("role")
    unit_id = _column("unit_id")
    must_change_password = _column("must_change_password")

    @property
    def is_active(self) -> bool:
        return True  # load_session_user loads active accounts only

    @property
    def account(self) -> User:
        if self._account is None:
            object.__setattr__(self, "_account", db.session.get(User, self._row.id))
        return self._account

    def get_id(self) -> str:
        # Once the full account is loaded it may hold a new token (password changed now).
        if self._account is not None:
            return self._account.get_id()
        return f"{self._row.id}:{self._row.session_token}"

    def has_role(self, *roles) -> bool:
        return User.has_role(self, *roles)

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_row", "_account", "account"):
            raise AttributeError(name)
        return getattr(self.account, name)

    def __setattr__(self, name: str, value) -> None:
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)  # the column properties write to the account
        else:
            setattr(self.account, name, value)

    def __repr__(self) -> str:
        return f"<SessionUser {self.username} {self.role}>"
