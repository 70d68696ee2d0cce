"""Accounts and roles."""
from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash

from ..models_base import Base, UTCDateTime, utcnow
from ..names import fold
from ..orgs.models import OrgUnit


TEMPORARY_HASH_PREFIX = "temp-sha256$"
# Argon2id at OWASP's minimum: 19 MiB of memory, 2 passes, 1 lane (about 25 ms of one core).
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
ARGON2ID_PREFIX = "$argon2id$"


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """One slow verification: Argon2id, or werkzeug's scrypt/PBKDF2 for hashes stored
    before Argon2 (upgraded at the account's next successful log-in)."""
    if stored.startswith("$argon2"):
        try:
            return PASSWORD_HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        return check_password_hash(stored, password)
    except ValueError:  # not a hash werkzeug knows
        return False


def password_needs_rehash(stored: str) -> bool:
    """An own password stored with an older scheme or weaker parameters than today's."""
    if stored.startswith(TEMPORARY_HASH_PREFIX) or not stored:
        return False
    return not stored.startswith(ARGON2ID_PREFIX) or PASSWORD_HASHER.check_needs_rehash(stored)


class Role(str, enum.Enum):
    OFFICIAL = "official"
    TRAINER = "trainer"
    COMMITTEE = "committee"
    ADMIN = "admin"


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # The full name folded (learnhub.names.fold), kept in step by ``_fold_name``, so that
    # "nguyen van an" finds "Nguyễn Văn An" in SQL.
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.OFFICIAL.value, index=True)
    # Officials: their commune. Committee members: the unit they oversee
    # (with everything under it). Trainers and admins: optional.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    position: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Part of the id that sessions and "keep me logged in" cookies carry: a new token
    # (password changed or reset, account deactivated, "log out everywhere") ends them all.
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_urlsafe(16))
    temporary_password_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[unit_id])

    @validates("full_name")
    def _fold_name(self, _key, value):
        self.name_key = fold(value)[:200]
        return value

    # Flask-Login reads is_active; a deactivated account cannot log in.
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.is_active_account

    def get_id(self) -> str:
        """Flask-Login's alternative id: "<id>:<session token>" (see ``session_token``)."""
        return f"{self.id}:{self.session_token}"

    def end_all_sessions(self) -> None:
        self.session_token = secrets.token_urlsafe(16)

    @property
    def temporary_password_expired(self) -> bool:
        from flask import current_app
        days = current_app.config["TEMPORARY_PASSWORD_DAYS"]
        return (self.must_change_password and self.temporary_password_at is not None
                and utcnow() - self.temporary_password_at > timedelta(days=days))

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)
        self.must_change_password = False
        self.temporary_password_at = None
        self.end_all_sessions()

    def set_temporary_password(self, password: str) -> None:
        """A generated one-time password: random and long, so a fast hash is enough.

        Importing thousands of officials cannot afford Argon2 per row; the
        official must choose their own password (Argon2id) at first login.
        """
        salt = secrets.token_hex(8)
        digest = hashlib.sha256((salt + password).encode()).hexdigest()
        self.password_hash = f"{TEMPORARY_HASH_PREFIX}{salt}${digest}"
        self.must_change_password = True
        self.temporary_password_at = utcnow()
        self.end_all_sessions()

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        if self.password_hash.startswith(TEMPORARY_HASH_PREFIX):
            salt, digest = self.password_hash[len(TEMPORARY_HASH_PREFIX):].split("$", 1)
            candidate = hashlib.sha256((salt + password).encode()).hexdigest()
            return hmac.compare_digest(candidate, digest)
        return verify_password(self.password_hash, password)

    def upgrade_password_hash(self, password: str) -> None:
        """Store the same password under today's hash. Not a password change: the account's
        sessions and remembered devices go on."""
        if password_needs_rehash(self.password_hash):
            self.password_hash = hash_password(password)

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {r.value if isinstance(r, Role) else r for r in roles}

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginThrottle(Base):
    """Failed log-ins per username, in the database so every worker and server counts the
    same. Kept for names that have no account too, so a lock reveals nothing."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
