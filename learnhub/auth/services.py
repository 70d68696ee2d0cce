"""Accounts: authentication, administration, bulk import and who may see whom.

Services take plain values and never commit; the calling view or command does.
"""
from __future__ import annotations

import functools
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from ..audit.services import record
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..spreadsheets import SpreadsheetError, csv_reader, read_table
from ..sql import insert_ignoring_duplicates
from .models import TEMPORARY_HASH_PREFIX, LoginThrottle, Role, User, hash_password, verify_password

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 8
# No 0/O, 1/l/I: officials copy these from paper.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class AccountError(ValueError):
    """Shown to the user as is (already translated); ``field`` names the form field at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


def normalise_username(value: str) -> str:
    return (value or "").strip().lower()


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def _throttle_row(name: str) -> LoginThrottle:
    insert_ignoring_duplicates(LoginThrottle, [{"username": name, "failures": 0, "window_started_at": utcnow()}],
                               ["username"])
    return db.session.get(LoginThrottle, name, populate_existing=True)


def _locked_for(name: str, now: datetime) -> timedelta | None:
    row = db.session.get(LoginThrottle, name)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until - now
    return None


def _count_failure(name: str, now: datetime) -> None:
    """One more failure for this name, counted in the database (every worker and server
    sees it). Past the limit within the window, the name is locked for a delay that
    doubles with each further failure, up to a day."""
    config = current_app.config
    row = _throttle_row(name)
    quiet_since = row.locked_until or row.window_started_at
    if now - quiet_since > config["LOGIN_LOCK_WINDOW"]:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    db.session.execute(update(LoginThrottle).where(LoginThrottle.username == name)
                       .values(failures=LoginThrottle.failures + 1)
                       .execution_options(synchronize_session=False))
    db.session.refresh(row)
    over = row.failures - config["LOGIN_LOCK_FAILURES"]
    if over >= 0:
        row.locked_until = now + min(config["LOGIN_LOCK_BASE"] * (2 ** min(over, 20)), timedelta(days=1))
    db.session.flush()


def authenticate(username: str, password: str, now: datetime | None = None) -> User:
    """The account these credentials open, or AccountError with the message to show.

    Costs one slow hash whatever happens: an unknown name, an account on a (fast-hashed)
    temporary password and a wrong password take the same time, so timing tells no one
    which accounts exist. Failures are counted per name; the caller commits them.
    """
    now = now or utcnow()
    name = normalise_username(username)[:80]
    locked = _locked_for(name, now)
    if locked is not None:
        minutes = max(1, math.ceil(locked.total_seconds() / 60))
        raise AccountError(_l("Too many wrong passwords for this account. Log-in is paused: try again in %(n)d minutes, or ask your unit's trainer or administrator to reset the password.", n=minutes))
    user = db.session.scalar(select(User).where(User.username == name))
    slow = user is not None and not user.password_hash.startswith(TEMPORARY_HASH_PREFIX) and bool(user.password_hash)
    if not slow:
        verify_password(_decoy_hash(), password)
    if user is None or not user.check_password(password) or not user.is_active:
        _count_failure(name, now)
        raise AccountError(_l("Wrong username or password, or the account is deactivated."))
    if user.temporary_password_expired:
        raise AccountError(_l("This temporary password has expired (it lasts %(n)d days). Ask your unit's trainer or administrator for a new one.", n=current_app.config["TEMPORARY_PASSWORD_DAYS"]))
    # A password stored before Argon2id (or with weaker parameters) is re-hashed now, the
    # one moment the plain password is known.
    user.upgrade_password_hash(password)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == name))
    return user


def end_other_sessions(user: User) -> None:
    """"Log out everywhere": every session and remembered device of this account ends;
    the caller logs the current device in again."""
    user.end_all_sessions()
    record("account.sessions_ended", "user", user.id, actor_id=user.id, subject_id=user.id)


def check_new_password(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), "new")
    if username and password.lower() == username.lower():
        raise AccountError(_l("The password must not be the same as the username."), "new")


def change_password(user: User, current: str, new: str) -> None:
    """Other sessions and remembered devices end (a new session token); the caller logs
    the current device in again."""
    if not user.check_password(current):
        raise AccountError(_l("The current password is not correct."), "current")
    check_new_password(new, user.username)
    user.set_password(new)
    record("account.password_changed", "user", user.id, actor_id=user.id, subject_id=user.id)


def generate_temporary_password() -> str:
    return "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(12))


def create_user(*, username: str, full_name: str, role: str, unit: OrgUnit | None,
                position: str = "", email: str = "", phone: str = "",
                password: str | None = None, by: User | None = None) -> tuple[User, str | None]:
    """Create an account. Without a password a temporary one is generated and returned."""
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise AccountError(_l("A username has 2–80 characters: lowercase letters without accents, digits, dot, hyphen or underscore."))
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(_l("The username %(u)s is already taken.", u=username))
    if role not in {r.value for r in Role}:
        raise AccountError(_l("Unknown role."))
    if role in (Role.OFFICIAL.value, Role.COMMITTEE.value) and unit is None:
        raise AccountError(_l("Officials and committee members must belong to a unit."))
    if not full_name.strip():
        raise AccountError(_l("The full name is required."))
    user = User(username=username, full_name=full_name.strip(), role=role, unit=unit,
                position=position.strip(), email=email.strip(), phone=phone.strip())
    temporary = None
    if password:
        check_new_password(password, username)
        user.set_password(password)
    else:
        temporary = generate_temporary_password()
        user.set_temporary_password(temporary)
    db.session.add(user)
    db.session.flush()
    record("account.create", "user", user.id, actor_id=by.id if by else None, subject_id=user.id,
           data={"username": user.username, "role": role, "unit": unit.code if unit else None})
    return user, temporary


def set_active(user: User, active: bool, by: User) -> None:
    if user.id == by.id and not active:
        raise AccountError(_l("You cannot deactivate your own account."))
    user.is_active_account = active
    user.deactivated_at = None if active else utcnow()
    user.deactivated_by_id = None if active else by.id
    if not active:
        user.end_all_sessions()
    record("account.activate" if active else "account.deactivate", "user", user.id, actor_id=by.id,
           subject_id=user.id)


def reset_password(user: User, by: User | None = None) -> str:
    """A new temporary password; every session of the account ends."""
    temporary = generate_temporary_password()
    user.set_temporary_password(temporary)
    record("account.password_reset", "user", user.id, actor_id=by.id if by else None, subject_id=user.id)
    return temporary


# --- bulk import of officials ---------------------------------------------

_COLUMNS = {
    "full_name": {"full_name", "ho_ten", "họ tên", "ho ten", "name"},
    "username": {"username", "ten_dang_nhap", "tên đăng nhập", "login"},
    "unit_code": {"unit_code", "ma_don_vi", "mã đơn vị", "unit"},
    "position": {"position", "chuc_vu", "chức vụ"},
    "email": {"email", "thư điện tử"},
    "phone": {"phone", "dien_thoai", "điện thoại", "so_dien_thoai"},
}
_REQUIRED = ("full_name", "username", "unit_code")
MAX_IMPORT_ROWS = 20000
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9 .-]{8,15}$")


@dataclass
class ImportRow:
    line: int
    username: str
    full_name: str
    unit_code: str
    position: str
    email: str
    phone: str
    action: str = ""  # create | update | unchanged
    changes: list[str] = field(default_factory=list)


@dataclass
class ImportProblem:
    line: int
    message: str


@dataclass
class ImportPlan:
    rows: list[ImportRow]
    problems: list[ImportProblem]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def _decode_upload(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AccountError(_l("Line %(line)d is not UTF-8 text. In Excel, save the file as “CSV UTF-8”.", line=line)) from None


def _upload_rows(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line, values) of an uploaded CSV or XLSX file."""
    if (filename or "").lower().endswith(".xlsx"):
        try:
            rows = [(n, cells) for n, cells in read_table(data, filename, max_rows=MAX_IMPORT_ROWS + 2) if any(cells)]
        except SpreadsheetError as exc:
            raise AccountError(str(exc)) from None
        if not rows:
            raise AccountError(_l("The file is empty."))
        return rows[0][1], rows[1:]
    text = _decode_upload(data)
    if not text.strip():
        raise AccountError(_l("The file is empty."))
    reader = csv_reader(text)
    header = next(reader)
    return header, [(reader.line_num, values) for values in reader]


def plan_officials_import(data: bytes, filename: str = "") -> ImportPlan:
    """Check every row of a CSV or XLSX file and decide what importing would do. Writes nothing."""
    header_cells, records = _upload_rows(data, filename)
    header = [h.strip().lower() for h in header_cells]
    index: dict[str, int] = {}
    for key, names in _COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                index[key] = i
                break
    missing = [k for k in _REQUIRED if k not in index]
    if missing:
        raise AccountError(_l("Missing columns: %(cols)s. The first line must name the columns full_name, username, unit_code (position, email, phone optional).", cols=", ".join(missing)))

    rows: list[ImportRow] = []
    problems: list[ImportProblem] = []
    seen: dict[str, int] = {}
    for line, values in records:
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(problems) >= MAX_IMPORT_ROWS:
            problems.append(ImportProblem(line, str(_l("Too many rows: import at most %(n)d at a time.", n=MAX_IMPORT_ROWS))))
            break

        def get(key: str) -> str:
            i = index.get(key)
            return values[i].strip() if i is not None and i < len(values) else ""

        row = ImportRow(line, normalise_username(get("username")), " ".join(get("full_name").split()),
                        get("unit_code"), get("position"), get("email"), get("phone"))
        reasons = []
        if not row.full_name:
            reasons.append(str(_l("full name is empty")))
        if not USERNAME_RE.match(row.username):
            reasons.append(str(_l("username “%(u)s” is not valid (lowercase letters without accents, digits, . _ -)", u=row.username)))
        elif row.username in seen:
            reasons.append(str(_l("username %(u)s is already on line %(line)d", u=row.username, line=seen[row.username])))
        if not row.unit_code:
            reasons.append(str(_l("unit code is empty")))
        if row.email and not _EMAIL_RE.match(row.email):
            reasons.append(str(_l("email “%(e)s” is not valid", e=row.email)))
        if row.phone and not _PHONE_RE.match(row.phone):
            reasons.append(str(_l("phone “%(p)s” is not valid", p=row.phone)))
        if reasons:
            problems.append(ImportProblem(line, "; ".join(reasons)))
        else:
            seen[row.username] = line
            rows.append(row)

    units = {u.code: u for u in db.session.scalars(
        select(OrgUnit).where(OrgUnit.code.in_({r.unit_code for r in rows}))
    )} if rows else {}
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_({r.username for r in rows}))
    )} if rows else {}
    good: list[ImportRow] = []
    for row in rows:
        unit = units.get(row.unit_code)
        if unit is None or not unit.is_active:
            problems.append(ImportProblem(row.line, str(_l("unit code %(c)s does not exist", c=row.unit_code))))
            continue
        existing = users.get(row.username)
        if existing is None:
            row.action = "create"
        elif existing.role != Role.OFFICIAL.value:
            problems.append(ImportProblem(row.line, str(_l("username %(u)s belongs to an account that is not an official", u=row.username))))
            continue
        else:
            changes = []
            for attr, value in (("full_name", row.full_name), ("position", row.position),
                                ("email", row.email), ("phone", row.phone)):
                if getattr(existing, attr) != value:
                    changes.append(attr)
            if existing.unit_id != unit.id:
                changes.append("unit")
            row.changes = changes
            row.action = "update" if changes else "unchanged"
        good.append(row)
    problems.sort(key=lambda p: p.line)
    return ImportPlan(rows=good, problems=problems)


def apply_officials_import(plan: ImportPlan, by: User | None = None) -> list[tuple[User, str]]:
    """Write a checked plan. Returns (user, temporary password) for each new account."""
    if plan.problems:
        raise AccountError(_l("Fix the rows listed before importing."))
    units = {u.code: u for u in db.session.scalars(
        select(OrgUnit).where(OrgUnit.code.in_({r.unit_code for r in plan.rows}))
    )}
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_({r.username for r in plan.rows}))
    )}
    created: list[tuple[User, str]] = []
    for row in plan.rows:
        unit = units[row.unit_code]
        user = users.get(row.username)
        if user is None:
            user = User(username=row.username, full_name=row.full_name, role=Role.OFFICIAL.value,
                        unit=unit, position=row.position, email=row.email, phone=row.phone)
            temporary = generate_temporary_password()
            user.set_temporary_password(temporary)
            db.session.add(user)
            created.append((user, temporary))
        elif row.action == "update":
            user.full_name, user.position = row.full_name, row.position
            user.email, user.phone, user.unit = row.email, row.phone, unit
    db.session.flush()
    record("officials.import", "import", len(plan.rows), actor_id=by.id if by else None,
           data={"created": [u.username for u, _ in created],
                 "updated": [r.username for r in plan.rows if r.action == "update"]})
    return created
