"""Conference sessions and the three ways of recording attendance. Callers commit.

Every mark goes into the audit log. A mark an official made themself (self
check-in) is never replaced by a later roll call or import without a
decision: those come back as conflicts instead.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..codes import normalise, random_code
from ..auth.models import Role, User
from ..auth.services import normalise_username
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from ..signals import progress_recorded
from .models import AttendanceRecord, TrainingSession

STATUSES = ("present", "late", "excused", "absent")


class AttendanceError(ValueError):
    """Shown to the user as is (already translated); ``field`` names the form field at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


def new_checkin_code() -> str:
    return random_code(6)


def create_session(programme, *, title: str, unit: OrgUnit, venue: str,
                   starts_at: datetime, ends_at: datetime, trainer: User | None,
                   grace_minutes: int = 30) -> TrainingSession:
    if ends_at <= starts_at:
        raise AttendanceError(_l("The session must end after it starts."), "ends_at")
    session = TrainingSession(programme_id=programme.id, title=title.strip(), unit_id=unit.id, venue=venue.strip(),
                              starts_at=starts_at, ends_at=ends_at, trainer_id=trainer.id if trainer else None,
                              checkin_code=new_checkin_code(), grace_minutes=grace_minutes)
    db.session.add(session)
    db.session.flush()
    return session


def expected_officials(session: TrainingSession) -> list[User]:
    """Active officials of the session's unit and everything below it, by commune then name."""
    return list(db.session.scalars(
        select(User).join(OrgUnit, User.unit_id == OrgUnit.id)
        .where(User.role == Role.OFFICIAL.value, User.is_active_account.is_(True), subtree_condition(session.unit))
        .order_by(OrgUnit.path, User.full_name, User.id)))


def records_by_user(session: TrainingSession) -> dict[int, AttendanceRecord]:
    return {r.user_id: r for r in db.session.scalars(
        select(AttendanceRecord).where(AttendanceRecord.session_id == session.id))}


@dataclass
class Conflict:
    user: User
    current: AttendanceRecord
    wanted_status: str
    wanted_note: str


def mark(session: TrainingSession, user: User, status: str, *, by: User | None, source: str,
         note: str = "", override_self: bool = False) -> Conflict | None:
    """Set one official's mark. Returns a Conflict instead of replacing their own check-in."""
    if status not in STATUSES:
        raise AttendanceError(_l("Unknown attendance status."))
    if user.unit is None or not user.unit.path.startswith(session.unit.path) or not user.has_role(Role.OFFICIAL):
        raise AttendanceError(_l("%(name)s is not expected at this session.", name=user.full_name))
    current = db.session.scalar(select(AttendanceRecord).where(
        AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id))
    note = (note or "").strip()[:500]
    if current is not None:
        if (current.status, current.note) == (status, note):
            return None
        if current.source == "self" and source != "self" and not override_self and current.status != status:
            return Conflict(user, current, status, note)
        previous = {"status": current.status, "source": current.source}
        current.status, current.note, current.source = status, note, source
        current.recorded_by_id = by.id if by else None
        current.recorded_at = utcnow()
    else:
        previous = None
        current = AttendanceRecord(session_id=session.id, user_id=user.id, status=status, source=source,
                                   note=note, recorded_by_id=by.id if by else None, recorded_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(current)
                db.session.flush()
        except IntegrityError:
            raise AttendanceError(_l("This attendance was recorded at the same moment by someone else; reload the page.")) from None
    db.session.flush()
    record("attendance.mark", "attendance", f"{session.id}:{user.id}", actor_id=by.id if by else user.id,
           subject_id=user.id, data={"session": session.id, "status": status, "source": source, "note": note,
                                     "previous": previous})
    progress_recorded.send("attendance", user_id=user.id, course_id=None)
    return None


def roll_call(session: TrainingSession, marks: dict[int, tuple[str, str]], by: User,
              override_self: set[int] | None = None) -> list[Conflict]:
    """Apply a trainer's roll call {user_id: (status, note)}; conflicts are returned, not applied."""
    users = {u.id: u for u in expected_officials(session)}
    conflicts = []
    for user_id, (status, note) in marks.items():
        user = users.get(user_id)
        if user is None:
            raise AttendanceError(_l("An official in the list is not expected at this session."))
        conflict = mark(session, user, status, by=by, source="roll_call", note=note,
                        override_self=bool(override_self and user_id in override_self))
        if conflict:
            conflicts.append(conflict)
    return conflicts


def check_in(code: str, user: User, now: datetime | None = None) -> TrainingSession:
    """An official checks themself in with the session code, inside the session window."""
    now = now or utcnow()
    code = normalise(code)
    session = db.session.scalar(select(TrainingSession).where(TrainingSession.checkin_code == code)) if code else None
    if session is None:
        raise AttendanceError(_l("This session code does not exist. Check the code shown by the trainer."))
    grace = timedelta(minutes=session.grace_minutes)
    if now < session.starts_at - grace:
        raise AttendanceError(_l("Check-in for this session has not opened yet."))
    if now > session.ends_at + grace:
        raise AttendanceError(_l("Check-in for this session has closed."))
    existing = db.session.scalar(select(AttendanceRecord).where(
        AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id))
    if existing is not None and existing.source == "self":
        raise AttendanceError(_l("You have already checked in to this session."))
    status = "late" if now > session.starts_at + grace else "present"
    mark(session, user, status, by=user, source="self", override_self=True)
    return session


# --- import of a signed sheet ------------------------------------------------

@dataclass
class SheetRow:
    line: int
    user: User
    status: str
    note: str


@dataclass
class SheetPlan:
    rows: list[SheetRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


_STATUS_WORDS = {
    "present": "present", "có mặt": "present", "co mat": "present", "x": "present", "1": "present",
    "late": "late", "muộn": "late", "đi muộn": "late", "muon": "late",
    "excused": "excused", "có phép": "excused", "vắng có phép": "excused", "co phep": "excused",
    "absent": "absent", "vắng": "absent", "vắng không phép": "absent", "vang": "absent", "0": "absent",
}


def _sheet_rows(data: bytes, filename: str) -> list[tuple[int, list[str]]]:
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception:  # openpyxl raises many kinds for a damaged file
            raise AttendanceError(_l("The file is not a readable .xlsx workbook.")) from None
        return [(n, ["" if v is None else str(v).strip() for v in row])
                for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AttendanceError(_l("The file is not UTF-8 text. In Excel, save it as “CSV UTF-8” or .xlsx.")) from None
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    return [(reader.line_num, [v.strip() for v in row]) for row in reader]


def plan_sheet_import(session: TrainingSession, data: bytes, filename: str) -> SheetPlan:
    """Check a signed attendance sheet (username, status[, note]); writes nothing."""
    rows = _sheet_rows(data, filename)
    plan = SheetPlan()
    if not rows:
        raise AttendanceError(_l("The file is empty."))
    header = [h.lower() for h in rows[0][1]]
    try:
        i_user = next(i for i, h in enumerate(header) if h in ("username", "tên đăng nhập", "ten_dang_nhap"))
        i_status = next(i for i, h in enumerate(header) if h in ("status", "trạng thái", "trang_thai"))
    except StopIteration:
        raise AttendanceError(_l("The first line must name the columns username and status (note optional).")) from None
    i_note = next((i for i, h in enumerate(header) if h in ("note", "ghi chú", "ghi_chu")), None)
    expected = {u.username: u for u in expected_officials(session)}
    seen: dict[str, int] = {}
    for line, values in rows[1:]:
        if not any(values):
            continue
        get = lambda i: values[i] if i is not None and i < len(values) else ""  # noqa: E731
        username = normalise_username(get(i_user))
        status = _STATUS_WORDS.get(get(i_status).strip().lower())
        if username not in expected:
            plan.problems.append((line, str(_l("%(u)s is not an official expected at this session", u=username or "—"))))
        elif status is None:
            plan.problems.append((line, str(_l("status “%(s)s” is not one of: present, late, excused, absent", s=get(i_status)))))
        elif username in seen:
            plan.problems.append((line, str(_l("%(u)s is already on line %(line)d", u=username, line=seen[username]))))
        else:
            seen[username] = line
            plan.rows.append(SheetRow(line, expected[username], status, get(i_note)))
    return plan


def apply_sheet(session: TrainingSession, plan: SheetPlan, by: User) -> list[Conflict]:
    if plan.problems:
        raise AttendanceError(_l("Fix the rows listed before importing."))
    conflicts = []
    for row in plan.rows:
        conflict = mark(session, row.user, row.status, by=by, source="import", note=row.note)
        if conflict:
            conflicts.append(conflict)
    return conflicts
