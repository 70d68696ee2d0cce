"""Conference sessions and the three ways of recording attendance. Callers commit.

Every mark goes into the audit log. A mark an official made themself (self
check-in) is never replaced by a later roll call or import without a
decision: those come back as conflicts instead.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, false, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..auth.models import Role, User
from ..auth.services import normalise_username
from ..codes import ALPHABET, normalise, random_code
from ..extensions import db
from ..models_base import utcnow
from ..names import fold
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from ..signals import progress_recorded
from ..spreadsheets import SpreadsheetError, read_table
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
                   grace_minutes: int = 30, rotate_seconds: int = 0) -> TrainingSession:
    if ends_at <= starts_at:
        raise AttendanceError(_l("The session must end after it starts."), "ends_at")
    if rotate_seconds and rotate_seconds not in ROTATION_CHOICES:
        raise AttendanceError(_l("Choose how often the code changes from the list."), "rotate_seconds")
    session = TrainingSession(programme_id=programme.id, title=title.strip(), unit_id=unit.id, venue=venue.strip(),
                              starts_at=starts_at, ends_at=ends_at, trainer_id=trainer.id if trainer else None,
                              checkin_code=new_checkin_code(), grace_minutes=grace_minutes,
                              rotate_seconds=rotate_seconds)
    db.session.add(session)
    db.session.flush()
    return session


def _expected(session: TrainingSession):
    """Who is expected: active officials of the session's unit and everything below it."""
    return and_(User.role == Role.OFFICIAL.value, User.is_active_account.is_(True), subtree_condition(session.unit))


def expected_officials(session: TrainingSession) -> list[User]:
    """The expected officials, by commune then name (accents aside: Đặng before Hồ)."""
    return list(db.session.scalars(
        select(User).join(OrgUnit, User.unit_id == OrgUnit.id).where(_expected(session))
        .order_by(OrgUnit.path, User.name_key, User.id)))


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
         note: str | None = "", override_self: bool = False) -> Conflict | None:
    """Set one official's mark. Returns a Conflict instead of replacing their own check-in.
    ``note=None`` keeps the note already there."""
    if status not in STATUSES:
        raise AttendanceError(_l("Unknown attendance status."))
    if user.unit is None or not user.unit.path.startswith(session.unit.path) or not user.has_role(Role.OFFICIAL):
        raise AttendanceError(_l("%(name)s is not expected at this session.", name=user.full_name))
    current, created = own_record(session, user), None
    if current is None:
        created = AttendanceRecord(session_id=session.id, user_id=user.id, status=status, source=source,
                                   note=(note or "").strip()[:500], recorded_by_id=by.id if by else None,
                                   recorded_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(created)
                db.session.flush()
        except IntegrityError:
            # Marked at the same moment by another request (the page's own autosave and its Save
            # button, or two trainers): that mark is committed now; go on from it as from any mark.
            current = own_record(session, user)
            if current is None:
                raise AttendanceError(_l("This attendance was recorded at the same moment by someone else; "
                                         "reload the page.")) from None
        else:
            current, previous = created, None
    if current is not created:
        note = (current.note if note is None else note).strip()[:500]
        if (current.status, current.note) == (status, note):
            return None
        if current.source == "self" and source != "self" and not override_self and current.status != status:
            return Conflict(user, current, status, note)
        previous = {"status": current.status, "source": current.source}
        current.status, current.note, current.source = status, note, source
        current.recorded_by_id = by.id if by else None
        current.recorded_at = utcnow()
    note = current.note
    db.session.flush()
    record("attendance.mark", "attendance", f"{session.id}:{user.id}", actor_id=by.id if by else user.id,
           subject_id=user.id, data={"session": session.id, "status": status, "source": source, "note": note,
                                     "previous": previous})
    progress_recorded.send("attendance", user_id=user.id, course_id=None)
    return None


def roll_call(session: TrainingSession, marks: dict[int, tuple[str, str | None]], by: User,
              override_self: set[int] | None = None) -> list[Conflict]:
    """Apply a trainer's roll call {user_id: (status, note or None to keep it)}; conflicts are
    returned, not applied."""
    users = {u.id: u for u in db.session.scalars(
        select(User).join(OrgUnit, User.unit_id == OrgUnit.id).where(_expected(session), User.id.in_(marks)))}
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


# --- roll call for hundreds ------------------------------------------------

UNMARKED = "unmarked"


def _like_fragment(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def roll_call_rows(session: TrainingSession, *, search: str = "", unit_id: int | None = None,
                   status: str = "", user_id: int | None = None) -> list[tuple[User, AttendanceRecord | None]]:
    """The expected officials with their marks, by commune then name, narrowed in SQL by a name
    (accents optional), a commune, a status (``unmarked``: no mark yet) or one official."""
    stmt = (select(User, AttendanceRecord).join(OrgUnit, User.unit_id == OrgUnit.id)
            .outerjoin(AttendanceRecord, and_(AttendanceRecord.user_id == User.id,
                                              AttendanceRecord.session_id == session.id))
            .where(_expected(session)))
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    key = fold(search)
    if key:
        fragment = _like_fragment(key)
        stmt = stmt.where(or_(User.name_key.like(fragment, escape="\\"), User.username.like(fragment, escape="\\")))
    if unit_id:
        unit = db.session.get(OrgUnit, unit_id)
        stmt = stmt.where(subtree_condition(unit) if unit is not None else false())
    if status == UNMARKED:
        stmt = stmt.where(AttendanceRecord.id.is_(None))
    elif status in STATUSES:
        stmt = stmt.where(AttendanceRecord.status == status)
    return [(u, r) for u, r in db.session.execute(stmt.order_by(OrgUnit.path, User.name_key, User.id)).all()]


def attendance_totals(session: TrainingSession) -> dict[str, int]:
    """How many expected officials have each mark, ``unmarked`` included, and ``expected``: one GROUP BY."""
    status = func.coalesce(AttendanceRecord.status, UNMARKED)
    rows = db.session.execute(
        select(status, func.count()).select_from(User).join(OrgUnit, User.unit_id == OrgUnit.id)
        .outerjoin(AttendanceRecord, and_(AttendanceRecord.user_id == User.id,
                                          AttendanceRecord.session_id == session.id))
        .where(_expected(session)).group_by(status)).all()
    totals = {s: 0 for s in (*STATUSES, UNMARKED)}
    totals.update({s: n for s, n in rows})
    totals["expected"] = sum(n for _s, n in rows)
    return totals


def session_communes(session: TrainingSession) -> list[tuple[OrgUnit, int, int]]:
    """The units whose officials are expected, with how many each and how many not marked yet,
    in tree order."""
    rows = db.session.execute(
        select(OrgUnit.id, func.count(User.id), func.count(User.id) - func.count(AttendanceRecord.id))
        .join(User, User.unit_id == OrgUnit.id)
        .outerjoin(AttendanceRecord, and_(AttendanceRecord.user_id == User.id,
                                          AttendanceRecord.session_id == session.id))
        .where(_expected(session)).group_by(OrgUnit.id)).all()
    units = {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_([r[0] for r in rows])))}
    return sorted(((units[i], n, unmarked) for i, n, unmarked in rows), key=lambda row: row[0].path)


def mark_all_present(session: TrainingSession, unit: OrgUnit, by: User) -> int:
    """Everyone of ``unit`` who has no mark yet is marked present; marks already made, an
    official's own check-in included, stay. Returns how many were marked."""
    if not unit.path.startswith(session.unit.path):
        raise AttendanceError(_l("%(unit)s is not part of this session.", unit=unit.label))
    unmarked = [u for u, _r in roll_call_rows(session, unit_id=unit.id, status=UNMARKED)]
    for user in unmarked:
        mark(session, user, "present", by=by, source="roll_call", note="")
    return len(unmarked)


# --- self check-in: the code on the projector -------------------------------
# A session's fixed code (checkin_code) works for its whole window. With rotation on, the
# projector shows instead a code derived from the session's secret and the current time
# window of ``rotate_seconds``; the code of this window and of the one before are accepted,
# so a photo of the screen sent out of the hall stops working after two rotations.
# The code is checked when it is scanned or typed; what survives the log-in and the first
# password change is the scan (a "check-in pass" in the signed session cookie), valid for
# SCAN_VALID_MINUTES.

ROTATION_CHOICES = (30, 60, 120)
ROTATING_CODE_LENGTH = 6
SCAN_VALID_MINUTES = 20


def _window(session: TrainingSession, now: datetime) -> int:
    return int(now.timestamp()) // session.rotate_seconds


def rotating_code(session: TrainingSession, window: int) -> str:
    digest = hmac.new(bytes.fromhex(session.checkin_secret), f"{session.id}:{window}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(ROTATING_CODE_LENGTH))


def projector_code(session: TrainingSession, now: datetime | None = None) -> tuple[str, int]:
    """The code to show now, and the seconds until it changes (0: it never does)."""
    now = now or utcnow()
    if not session.rotate_seconds:
        return session.checkin_code, 0
    window = _window(session, now)
    left = (window + 1) * session.rotate_seconds - now.timestamp()
    return rotating_code(session, window), max(1, int(left + 0.999))


def set_rotation(session: TrainingSession, seconds: int, by: User) -> None:
    if seconds and seconds not in ROTATION_CHOICES:
        raise AttendanceError(_l("Choose how often the code changes from the list."))
    if seconds == session.rotate_seconds:
        return
    record("attendance.rotation", "training_session", session.id, actor_id=by.id,
           data={"from": session.rotate_seconds, "to": seconds})
    session.rotate_seconds = seconds
    db.session.flush()


def _in_window(session: TrainingSession, now: datetime) -> None:
    grace = timedelta(minutes=session.grace_minutes)
    if now < session.starts_at - grace:
        raise AttendanceError(_l("Check-in for this session has not opened yet."))
    if now > session.ends_at + grace:
        raise AttendanceError(_l("Check-in for this session has closed."))


def session_for_code(code: str, now: datetime | None = None) -> TrainingSession:
    """The session whose code this is, if it may be used now (scanned or typed)."""
    now = now or utcnow()
    code = normalise(code)
    if not code:
        raise AttendanceError(_l("This session code does not exist. Check the code shown by the trainer."))
    session = db.session.scalar(select(TrainingSession).where(TrainingSession.checkin_code == code))
    if session is not None:
        if session.rotate_seconds:
            raise AttendanceError(_l("This session's code changes on the screen: scan the QR code "
                                     "or type the code shown there now."))
        _in_window(session, now)
        return session
    # Rotating codes: only sessions whose window (grace of at most 4 hours included) is open.
    open_now = db.session.scalars(select(TrainingSession).where(
        TrainingSession.rotate_seconds > 0, TrainingSession.starts_at <= now + timedelta(hours=4),
        TrainingSession.ends_at >= now - timedelta(hours=4))).all()
    for candidate in open_now:
        window = _window(candidate, now)
        if any(hmac.compare_digest(code, rotating_code(candidate, w)) for w in (window, window - 1)):
            _in_window(candidate, now)
            return candidate
        # A code from earlier in the hour: most likely a forwarded photo, or a phone left open.
        if any(hmac.compare_digest(code, rotating_code(candidate, w)) for w in range(window - 120, window - 1)):
            raise AttendanceError(_l("This code has already changed on the screen. Scan the QR code "
                                     "or type the code shown there now."))
    raise AttendanceError(_l("This session code does not exist. Check the code shown by the trainer."))


def scan_still_valid(scanned_at: float, now: datetime | None = None) -> bool:
    """Whether a check-in pass (the moment a valid code was scanned) may still be used."""
    now = now or utcnow()
    return 0 <= now.timestamp() - scanned_at <= SCAN_VALID_MINUTES * 60


@dataclass(frozen=True)
class UnitPath:
    """A unit as the scope rules read it (``auth.scope.sees_unit``, ``orgs.services.is_within``)."""
    id: int
    path: str


@dataclass(frozen=True)
class OwnMark:
    status: str
    recorded_at: datetime


@dataclass(frozen=True)
class Confirmation:
    """What the check-in confirmation shows: the session, its unit, the official's unit and
    their mark, if any."""
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    unit: UnitPath
    own_unit: UnitPath | None
    record: OwnMark | None


@functools.lru_cache(maxsize=1)
def _confirmation_statement():
    session_unit = OrgUnit.__table__.alias("session_unit")
    own_unit = OrgUnit.__table__.alias("own_unit")
    s = TrainingSession
    return (select(s.id, s.title, s.starts_at, s.ends_at, s.venue, session_unit.c.id, session_unit.c.path,
                   own_unit.c.id, own_unit.c.path, AttendanceRecord.status, AttendanceRecord.recorded_at)
            .join(session_unit, session_unit.c.id == s.unit_id)
            .outerjoin(own_unit, own_unit.c.id == bindparam("unit_id"))
            .outerjoin(AttendanceRecord, and_(AttendanceRecord.session_id == s.id,
                                              AttendanceRecord.user_id == bindparam("user_id")))
            .where(s.id == bindparam("session_id")))


def confirmation(session_id: int, user_id: int, unit_id: int | None) -> Confirmation | None:
    """The session with its unit and the official's unit and mark, in one query built once."""
    row = db.session.connection().execute(_confirmation_statement(), {
        "session_id": session_id, "user_id": user_id, "unit_id": unit_id}).first()
    if row is None:
        return None
    return Confirmation(row[0], row[1], row[2], row[3], row[4], UnitPath(row[5], row[6]),
                        UnitPath(row[7], row[8]) if row[7] is not None else None,
                        OwnMark(row[9], row[10]) if row[9] is not None else None)


def own_record(session: TrainingSession, user: User) -> AttendanceRecord | None:
    return db.session.scalar(select(AttendanceRecord).where(
        AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id))


def check_in_to(session: TrainingSession, user: User, now: datetime | None = None) -> AttendanceRecord:
    """An official checks themself in to ``session`` (whose code they have shown), inside its window."""
    now = now or utcnow()
    if not user.has_role(Role.OFFICIAL):
        raise AttendanceError(_l("Only officials check in to sessions."))
    _in_window(session, now)
    existing = own_record(session, user)
    if existing is not None and existing.source == "self":
        raise AttendanceError(_l("You have already checked in to this session."))
    status = "late" if now > session.starts_at + timedelta(minutes=session.grace_minutes) else "present"
    mark(session, user, status, by=user, source="self", override_self=True)
    return own_record(session, user)


def check_in(code: str, user: User, now: datetime | None = None) -> TrainingSession:
    """Check in with a typed code."""
    now = now or utcnow()
    session = session_for_code(code, now)
    check_in_to(session, user, now)
    return session


# --- import of a signed sheet ------------------------------------------------
# The sheet as people fill it in: "Họ và tên" and "Đơn vị", with "Chức vụ", "Ký tên",
# "Trạng thái" or "Ghi chú" if they are there, under a title or not. A name is matched
# within its unit, ignoring case, accents and spaces; a "username" column still works.
# Every row is listed; the rows that match nobody, or two people, wait for a decision.

_HEADINGS = {
    "name": {"ho va ten", "ho ten", "ho va ten can bo", "full_name", "full name", "name"},
    "unit": {"don vi", "don vi cong tac", "co quan", "xa", "xa, phuong", "xa/phuong", "unit", "unit_code",
             "ma don vi"},
    "position": {"chuc vu", "position"},
    "signature": {"ky ten", "chu ky", "ky", "signature"},
    "status": {"trang thai", "diem danh", "status", "trang_thai"},
    "username": {"username", "ten dang nhap", "ten_dang_nhap", "login"},
    "note": {"ghi chu", "ghi_chu", "note"},
}
_STATUS_WORDS = {
    "present": "present", "co mat": "present", "co": "present", "x": "present", "1": "present", "v": "present",
    "late": "late", "muon": "late", "di muon": "late", "den muon": "late",
    "excused": "excused", "co phep": "excused", "vang co phep": "excused", "phep": "excused",
    "absent": "absent", "vang": "absent", "vang khong phep": "absent", "khong": "absent", "0": "absent",
}
_UNIT_PREFIXES = ("ubnd ", "uy ban nhan dan ")
HEADER_SEARCH_ROWS = 15


@dataclass
class SheetRow:
    line: int
    name: str  # as written on the sheet
    unit_text: str
    status: str | None
    note: str
    user: User | None = None
    problem: str = ""  # why this row waits for a decision
    candidates: list[User] = field(default_factory=list)  # whom the trainer may choose instead
    current: str | None = None  # the official's mark now
    duplicate: bool = False  # names someone an earlier row already matched


@dataclass
class SheetPlan:
    rows: list[SheetRow] = field(default_factory=list)

    @property
    def matched(self) -> list[SheetRow]:
        return [r for r in self.rows if not r.problem]

    @property
    def undecided(self) -> list[SheetRow]:
        return [r for r in self.rows if r.problem]

    @property
    def counts(self) -> dict[str, int]:
        """How many matched rows set each mark."""
        return {s: sum(1 for r in self.matched if r.status == s) for s in STATUSES}

    @property
    def problems(self) -> list[tuple[int, str]]:
        return [(r.line, r.problem) for r in self.undecided]


def _columns(rows: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int]]:
    """The heading row (it may sit under a title) and where each known column is."""
    for position, (_line, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        index: dict[str, int] = {}
        for i, heading in enumerate(values):
            key = fold(heading).rstrip(" :*")
            for column, names in _HEADINGS.items():
                if key in names and column not in index:
                    index[column] = i
        if "name" in index or "username" in index:
            return position, index
    raise AttendanceError(_l("No heading row found: the sheet needs a “Họ và tên” column (and “Đơn vị”), "
                             "or a “username” column."))


def _unit_keys(units: list[OrgUnit]) -> dict[str, OrgUnit]:
    keys: dict[str, OrgUnit] = {}
    for unit in units:
        for text in (unit.label, unit.name, unit.code):
            keys.setdefault(fold(text), unit)
    return keys


def _find_unit(keys: dict[str, OrgUnit], text: str) -> OrgUnit | None:
    key = fold(text)
    for prefix in _UNIT_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
    return keys.get(key)


def plan_sheet_import(session: TrainingSession, data: bytes, filename: str) -> SheetPlan:
    """Read a signed sheet and match every row; writes nothing."""
    try:
        rows = read_table(data, filename)
    except SpreadsheetError as exc:
        raise AttendanceError(str(exc)) from None
    if not any(any(values) for _line, values in rows):
        raise AttendanceError(_l("The file is empty."))
    heading_at, column = _columns(rows)
    if "status" not in column and "signature" not in column:
        raise AttendanceError(_l("The sheet needs a “Ký tên” column (a mark or any text means present) "
                                 "or a “Trạng thái” column."))
    officials = expected_officials(session)
    by_username = {u.username: u for u in officials}
    by_unit_name: dict[tuple[int, str], list[User]] = {}
    by_name: dict[str, list[User]] = {}
    for user in officials:
        by_unit_name.setdefault((user.unit_id, user.name_key), []).append(user)
        by_name.setdefault(user.name_key, []).append(user)
    unit_keys = _unit_keys(list({u.unit_id: u.unit for u in officials}.values()))
    marks = records_by_user(session)

    def cell(values: list[str], key: str) -> str:
        i = column.get(key)
        return values[i].strip() if i is not None and i < len(values) else ""

    plan = SheetPlan()
    taken: dict[int, int] = {}  # user id → line that matched them
    unit_of_row: dict[int, OrgUnit | None] = {}
    for line, values in rows[heading_at + 1:]:
        name, username = " ".join(cell(values, "name").split()), normalise_username(cell(values, "username"))
        if not name and not username:
            if any(cell(values, key) for key in ("unit", "signature", "status", "note")):
                plan.rows.append(SheetRow(line, "", cell(values, "unit"), None, "",
                                          problem=str(_l("no name on this row"))))
            continue
        row = SheetRow(line, name or username, cell(values, "unit"), None, cell(values, "note")[:500])
        plan.rows.append(row)
        written = cell(values, "status")
        if written:
            row.status = _STATUS_WORDS.get(fold(written))
            if row.status is None:
                row.problem = str(_l("status “%(s)s” is not one of: có mặt, muộn, có phép, vắng", s=written))
                continue
        elif "signature" in column:
            row.status = "present" if cell(values, "signature") else "absent"
        else:
            row.problem = str(_l("no status written"))
            continue
        unit = _find_unit(unit_keys, row.unit_text) if row.unit_text else None
        unit_of_row[line] = unit
        if username and "username" in column:
            found = [by_username[username]] if username in by_username else []
            if not found:
                row.problem = str(_l("%(u)s is not an official expected at this session", u=username))
                continue
        elif unit is not None:
            found = by_unit_name.get((unit.id, fold(name)), [])
        else:
            found = by_name.get(fold(name), [])
        if row.unit_text and unit is None and not (username and "username" in column):
            row.problem = str(_l("the unit “%(u)s” is not one expected at this session", u=row.unit_text))
            row.candidates = found
        elif len(found) == 1 and found[0].id in taken:
            row.problem = str(_l("%(name)s is already on line %(line)d", name=found[0].full_name,
                                 line=taken[found[0].id]))
            row.duplicate = True
        elif len(found) == 1:
            row.user = found[0]
            taken[row.user.id] = line
        elif found:
            row.problem = str(_l("%(n)d officials have this name: choose who signed", n=len(found)))
            row.candidates = found
        elif unit is not None:
            row.problem = str(_l("no official of this name in %(unit)s", unit=unit.label))
        else:
            row.problem = str(_l("no official of this name is expected at this session"))
    # Someone the sheet names in a way that matched nobody is most likely one of those left
    # over in the same unit: offer them.
    for row in plan.undecided:
        unit = unit_of_row.get(row.line)
        if not row.candidates and unit is not None and row.status is not None and not row.duplicate:
            row.candidates = [u for u in officials if u.unit_id == unit.id and u.id not in taken]
    for row in plan.rows:
        for user in [row.user] if row.user else row.candidates:
            if user.id in marks:
                row.current = marks[user.id].status
    return plan


def apply_sheet(session: TrainingSession, plan: SheetPlan, by: User,
                decisions: dict[int, int | None] | None = None) -> tuple[int, list[Conflict]]:
    """Record the matched rows, and each row that waited with its decision ({line: user id, or
    None to leave the row out}). Returns how many marks were recorded and the conflicts."""
    decisions = decisions or {}
    chosen: list[tuple[SheetRow, User]] = [(r, r.user) for r in plan.matched]
    for row in plan.undecided:
        if row.line not in decisions:
            raise AttendanceError(_l("Decide about every row listed (choose the official, or leave the row out) "
                                     "before importing."))
        pick = decisions[row.line]
        if pick is None:
            continue
        user = next((u for u in row.candidates if u.id == pick), None)
        if user is None or row.status is None:
            raise AttendanceError(_l("Line %(line)d: choose one of the officials offered.", line=row.line))
        chosen.append((row, user))
    seen: dict[int, int] = {}
    for row, user in chosen:
        if user.id in seen:
            raise AttendanceError(_l("%(name)s would be marked by both line %(a)d and line %(b)d: keep one.",
                                     name=user.full_name, a=seen[user.id], b=row.line))
        seen[user.id] = row.line
    conflicts = []
    for row, user in sorted(chosen, key=lambda pair: pair[0].line):
        conflict = mark(session, user, row.status, by=by, source="import", note=row.note or None)
        if conflict:
            conflicts.append(conflict)
    return len(chosen), conflicts
