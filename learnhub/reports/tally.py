"""The dashboard's counts, stored per programme and officials' own unit, kept in step with
their causes in the same transaction.

Why: over 200,000 officials the dashboard's GROUP BYs take seconds, and a cache per server
process would show different figures on different servers. So the counts the figures are
made of (``figures.unit_counts``, ``marks_by_unit``, ``daily_by_unit``: the very queries the
page otherwise runs) are stored in ``report_tally``, one row per programme, unit, kind and
reference, and a page sums the rows of the units in its scope.

How they stay right: whatever may change an official's figures marks them (or the whole
programme) during the transaction, from the events that already exist: ``progress_recorded``
and ``completion_refreshed`` (lessons, quizzes, attendance, content syncs, quiz settings),
and the flush of any attendance record, certificate, attempt state, official's unit, role or
activity, programme, conference session or unit reorganisation. Just before the transaction
commits, the marked units are counted again from their sources with those same queries and
their rows replaced, in the same transaction; nothing is added to or subtracted from stored
numbers, so a count is always the count of what is committed with it. On PostgreSQL a
transaction-scoped advisory lock per programme and unit (shared per programme, exclusive for
a whole programme) makes two transactions recounting the same unit wait for each other, so
the second counts what the first committed; SQLite has one writer at a time anyway.

Expiry is the one thing that changes with time alone: the stored rows count officials
holding a certificate not revoked (``holding``; one at most per programme) by the local day
it expires on, so a page reads those of earlier days as expired and those of later days as
valid, and counts only today's expiries when it is read (``expiring_today_by_unit``).

``recount`` counts a programme (or all) afresh: ``learnhub recount-reports``, a content sync,
a unit reorganisation and any change to a programme run it. A programme not yet counted (no
``report_tally_state`` row, e.g. right after the upgrade) is counted afresh on each page,
as before.
"""
from __future__ import annotations

from datetime import date, datetime, time

from flask import has_app_context
from sqlalchemy import bindparam, case, delete, event, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from ..attendance.models import AttendanceRecord, TrainingSession
from ..auth.models import Role, User
from ..auth.scope import unit_condition
from ..certificates.models import Certificate
from ..config import VIETNAM_TZ
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from ..programmes.models import TrainingProgramme, programme_unit
from ..progress.models import CourseCompletion
from ..quizzes.models import QuizAttempt
from ..signals import completion_refreshed, progress_recorded
from ..sql import local_day
from .figures import (Counts, _only, cohort, daily_by_unit_query, daily_by_unit_read, marks_by_unit_query,
                      required_courses, unit_counts_query, unit_counts_read)
from .models import ReportTally, ReportTallyState

_PENDING = "learnhub.report_tally"
_MARK = "m:"
# Beyond this many officials to recount in one transaction, the programme is counted whole.
_MAX_UNIT_OFFICIALS = 20_000


# --- counting ---------------------------------------------------------------

def count_rows(programme: TrainingProgramme, unit_ids: set[int] | None = None) -> list[dict]:
    """The rows of ``report_tally`` for the programme (only ``unit_ids``' officials, if given)."""
    courses, quiz_courses = required_courses(programme)
    if unit_ids is None:
        people = cohort(None, programme, None).subquery()
        queries = _count_queries(people, programme, courses, quiz_courses, None)
        params = {}
    else:
        # Enrolment follows the unit tree (programmes.services.enrolled_officials): the units
        # within a target unit are told apart here, so that each statement below names the
        # officials of those units, not every target unit of a programme over a whole country.
        targets = [u.path for u in programme.target_units]
        covered = [u for u, path in db.session.execute(select(OrgUnit.id, OrgUnit.path)
                                                       .where(OrgUnit.id.in_(unit_ids)))
                   if any(path.startswith(t) for t in targets)]
        user_ids = list(db.session.scalars(_OFFICIALS_OF_UNITS, {"units": covered or [-1]}))
        if not user_ids:
            return []
        # Built once per programme and set of courses (a recount runs at every commit that
        # moves a figure: building these statements cost more than running them).
        queries = _unit_count_queries(programme, courses, quiz_courses)
        params = {"user_ids": user_ids}
    rows: dict[tuple[int, str, int], int] = {}

    def add(unit_id, kind, ref, n):
        if n:
            rows[(unit_id, kind, ref)] = rows.get((unit_id, kind, ref), 0) + int(n)

    units, holding, marks, daily = queries
    for unit_id, _path, c in unit_counts_read(db.session.execute(units, params), courses, quiz_courses):
        add(unit_id, "enrolled", 0, c.enrolled)
        add(unit_id, "attended", 0, c.attended)
        add(unit_id, "revoked", 0, c.revoked)
        for course_id, n in c.completed.items():
            add(unit_id, "completed", course_id, n)
        for course_id, n in c.passed.items():
            add(unit_id, "passed", course_id, n)
    for unit_id, day, n in db.session.execute(holding, params):
        add(unit_id, "holding", date.fromisoformat(str(day)[:10]).toordinal() if day else 0, n)
    for unit_id, session_id, status, n in db.session.execute(marks, params):
        add(unit_id, _MARK + status, session_id, n)
    for what, unit_id, day, n in daily_by_unit_read(db.session.execute(daily, params)):
        add(unit_id, "done_day" if what == "completed" else "cert_day", day.toordinal(), n)
    return [{"programme_id": programme.id, "unit_id": u, "kind": k, "ref": r, "n": n} for (u, k, r), n in rows.items()]


_OFFICIALS = (select(User.id.label("user_id"), User.unit_id.label("unit_id"), OrgUnit.path.label("path"))
              .join(OrgUnit, User.unit_id == OrgUnit.id)
              .where(User.role == Role.OFFICIAL.value, User.is_active_account.is_(True)))
_OFFICIALS_OF_UNITS = _OFFICIALS.with_only_columns(User.id).where(User.unit_id.in_(bindparam("units", expanding=True)))


def _count_queries(people, programme, courses, quiz_courses, user_ids):
    """The four statements of a recount: figures by unit, certificates held by the day they
    expire, attendance marks, completions and certificates by day."""
    # An official holds at most one certificate not revoked per programme (uq_certificate_active):
    # counted by the local day it expires on (0: never), so a page can tell expired ones by the day.
    expiry = local_day(Certificate.expires_at)
    holding = (select(people.c.unit_id, expiry, func.count(func.distinct(Certificate.user_id)))
               .join(people, people.c.user_id == Certificate.user_id)
               .where(Certificate.programme_id == programme.id, Certificate.revoked_at.is_(None),
                      _only(Certificate.user_id, user_ids))
               .group_by(people.c.unit_id, expiry))
    return (unit_counts_query(people, programme, courses, quiz_courses, None, user_ids), holding,
            marks_by_unit_query(people, programme, user_ids),
            daily_by_unit_query(people, programme, courses, user_ids=user_ids))


_built: dict[tuple, tuple] = {}


def _unit_count_queries(programme, courses, quiz_courses) -> tuple:
    """``_count_queries`` for the officials bound as ``user_ids``, kept by the programme's id,
    its courses' and quizzes' ids and the database: the statements hold nothing else."""
    key = (programme.id, tuple(c.id for c in courses), tuple(c.id for c in quiz_courses),
           db.session.get_bind().dialect.name)
    found = _built.get(key)
    if found is None:
        user_ids = bindparam("user_ids", expanding=True)
        people = _OFFICIALS.where(User.id.in_(user_ids)).subquery()
        found = _count_queries(people, programme, courses, quiz_courses, user_ids)
        if len(_built) >= 256:
            _built.clear()
        _built[key] = found
    return found


def _lock_key(programme_id: int, unit_id: int = 0) -> int:
    # Negative: apart from the audit log's positive key.
    return -((programme_id << 32) + unit_id)


def _lock(programme_id: int, unit_ids: list[int] | None) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    if unit_ids is None:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(programme_id)})
        return
    db.session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _lock_key(programme_id)})
    for unit_id in sorted(unit_ids):
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(programme_id, unit_id)})


def _write(programme: TrainingProgramme, unit_ids: set[int] | None) -> None:
    _lock(programme.id, None if unit_ids is None else sorted(unit_ids))
    rows = count_rows(programme, unit_ids)
    stale = delete(ReportTally).where(ReportTally.programme_id == programme.id)
    if unit_ids is not None:
        stale = stale.where(ReportTally.unit_id.in_(unit_ids))
    db.session.execute(stale)
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(ReportTally), rows[start:start + 2000])
    if unit_ids is None:
        db.session.execute(delete(ReportTallyState).where(ReportTallyState.programme_id == programme.id))
        db.session.execute(insert(ReportTallyState).values(programme_id=programme.id, counted_at=utcnow()))


def recount(programme: TrainingProgramme | None = None) -> int:
    """Count a programme (None: every programme) afresh and store it; returns the rows stored."""
    programmes = [programme] if programme is not None else list(
        db.session.scalars(select(TrainingProgramme).order_by(TrainingProgramme.id)))
    for p in programmes:
        _write(p, None)
    return db.session.scalar(select(func.count()).select_from(ReportTally).where(
        ReportTally.programme_id.in_([p.id for p in programmes] or [-1])))


def is_counted(programme: TrainingProgramme) -> bool:
    return db.session.scalar(select(ReportTallyState.programme_id)
                             .where(ReportTallyState.programme_id == programme.id)) is not None


# --- reading ----------------------------------------------------------------

def expiring_today_by_unit(viewer, programme, unit, now: datetime) -> dict[int, int]:
    """Officials in scope whose certificate (not revoked) expired today, before ``now``, by unit:
    the only expiries the stored day cannot tell (an index range over today's expiries)."""
    midnight = datetime.combine(now.astimezone(VIETNAM_TZ).date(), time(), VIETNAM_TZ)
    query = (cohort(viewer, programme, unit).join(Certificate, Certificate.user_id == User.id)
             .where(Certificate.programme_id == programme.id, Certificate.revoked_at.is_(None),
                    Certificate.expires_at >= midnight, Certificate.expires_at <= now)
             .with_only_columns(User.unit_id, func.count(func.distinct(User.id))).group_by(User.unit_id))
    return dict(db.session.execute(query).all())


_PER_UNIT = ("enrolled", "attended", "revoked", "holding", "completed", "passed")


def stored_figures(viewer, programme, unit, courses, quiz_courses, now: datetime):
    """(per unit [(unit id, path, Counts)], session marks {session id: {status: n}}, daily
    {"completed"|"certified": [(day, n)]}) from the stored rows, as ``figures`` counts them.

    Two queries: the unit figures pivoted in SQL (one row per officials' unit in scope), and
    the marks and days summed over the scope."""
    today = now.astimezone(VIETNAM_TZ).date().toordinal()
    t = ReportTally

    def total(condition):
        return func.coalesce(func.sum(case((condition, t.n), else_=0)), 0)

    # A certificate held is counted by the day it expires: before today expired, else valid
    # (today's expiries are subtracted below).
    columns = [total(t.kind == "enrolled"), total(t.kind == "attended"),
               total((t.kind == "holding") & ((t.ref == 0) | (t.ref >= today))),
               total((t.kind == "holding") & (t.ref > 0) & (t.ref < today)), total(t.kind == "revoked")]
    columns += [total((t.kind == "completed") & (t.ref == c.id)) for c in courses]
    columns += [total((t.kind == "passed") & (t.ref == c.id)) for c in quiz_courses]
    scope = [t.programme_id == programme.id, unit_condition(viewer)]
    if unit is not None:
        scope.append(subtree_condition(unit))
    per_unit: dict[int, tuple[str, Counts]] = {}
    for unit_id, path, enrolled, attended, valid, expired, revoked, *rest in db.session.execute(
            select(t.unit_id, OrgUnit.path, *columns).join(OrgUnit, OrgUnit.id == t.unit_id)
            .where(*scope, t.kind.in_(_PER_UNIT)).group_by(t.unit_id, OrgUnit.path)):
        c = Counts(int(enrolled), int(attended), int(valid), int(expired), int(revoked))
        c.completed = {course.id: int(n) for course, n in zip(courses, rest[:len(courses)])}
        c.passed = {course.id: int(n) for course, n in zip(quiz_courses, rest[len(courses):])}
        per_unit[unit_id] = (path, c)
    marks: dict[int, dict[str, int]] = {}
    days: dict[str, list[tuple[date, int]]] = {"completed": [], "certified": []}
    for kind, ref, n in db.session.execute(
            select(t.kind, t.ref, func.sum(t.n)).join(OrgUnit, OrgUnit.id == t.unit_id)
            .where(*scope, t.kind.not_in(_PER_UNIT)).group_by(t.kind, t.ref)):
        if kind.startswith(_MARK):
            marks.setdefault(ref, {})[kind[len(_MARK):]] = int(n)
        elif kind in ("done_day", "cert_day"):
            days["completed" if kind == "done_day" else "certified"].append((date.fromordinal(ref), int(n)))
    for unit_id, n in expiring_today_by_unit(viewer, programme, unit, now).items():
        if unit_id in per_unit:
            c = per_unit[unit_id][1]
            c.expired, c.valid = c.expired + n, c.valid - n
    result = [(unit_id, path, c) for unit_id, (path, c) in per_unit.items() if c.enrolled]
    return result, marks, {what: sorted(found) for what, found in days.items()}


# --- keeping in step --------------------------------------------------------

class _Pending:
    def __init__(self):
        self.users: set[int] = set()
        self.units: set[int] = set()
        self.programmes: set[int] = set()
        self.everything = False
        self.uncounted = False

    def __bool__(self):
        return bool(self.users or self.units or self.programmes or self.everything or self.uncounted)


def _pending(session) -> _Pending:
    found = session.info.get(_PENDING)
    if found is None:
        found = session.info[_PENDING] = _Pending()
    return found


@progress_recorded.connect
def _on_progress(sender, user_id: int | None = None, course_id: int | None = None, changed: bool = True, **_):
    if sender == "catalog" and user_id is not None:
        return  # a lesson read: only a completion it adds can move a figure (completion_refreshed)
    pending = _pending(db.session())
    if user_id is not None:
        pending.users.add(user_id)
    elif changed:
        pending.everything = True  # a content sync or quiz settings: any official's figures may move
    else:
        pending.uncounted = True  # a sync that changed nothing: count the programmes never counted


@completion_refreshed.connect
def _on_completion(sender, user_ids=(), **_):
    _pending(db.session()).users.update(u for u in user_ids if u is not None)


def _changed(obj, *names) -> list:
    """The values, old and new, of the attributes among ``names`` that changed."""
    state = inspect(obj)
    values = []
    for name in names:
        history = state.attrs[name].history
        if history.added or history.deleted:
            values += [v for v in (*history.added, *history.deleted) if v is not None]
    return values


@event.listens_for(Session, "after_flush")
def _after_flush(session, _context):
    pending = None
    for obj, how in [(o, "new") for o in session.new] + [(o, "dirty") for o in session.dirty] + \
                    [(o, "deleted") for o in session.deleted]:
        if isinstance(obj, (AttendanceRecord, Certificate, CourseCompletion)):
            pending = pending or _pending(session)
            pending.users.add(obj.user_id)
        elif isinstance(obj, QuizAttempt):
            if how != "dirty" or _changed(obj, "state", "passed", "user_id"):
                pending = pending or _pending(session)
                pending.users.add(obj.user_id)
        elif isinstance(obj, User):
            if how != "dirty":
                if obj.unit_id is not None:
                    pending = pending or _pending(session)
                    pending.units.add(obj.unit_id)
            elif _changed(obj, "unit_id", "role", "is_active_account"):
                pending = pending or _pending(session)
                pending.units.update(_changed(obj, "unit_id") or [obj.unit_id])
                if obj.unit_id is not None:
                    pending.units.add(obj.unit_id)
        elif isinstance(obj, TrainingProgramme):
            pending = pending or _pending(session)
            if obj.id is not None:
                pending.programmes.add(obj.id)
        elif isinstance(obj, TrainingSession):
            if how != "dirty" or _changed(obj, "programme_id"):
                pending = pending or _pending(session)
                pending.programmes.update([obj.programme_id, *_changed(obj, "programme_id")])
        elif isinstance(obj, OrgUnit):
            if how == "deleted" or (how == "dirty" and _changed(obj, "parent_id", "path", "is_active",
                                                                "merged_into_id")):
                pending = pending or _pending(session)
                pending.everything = True  # officials moved between units, or enrolment by subtree changed


@event.listens_for(Session, "before_commit")
def _before_commit(session):
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit flushes after this hook: what the flush changes must be counted too
    if not session.info.get(_PENDING):
        return
    if not has_app_context() or session is not db.session():
        session.info.pop(_PENDING, None)  # only the app's own session writes what the dashboard counts
        return
    for _round in range(5):
        session.flush()
        pending = session.info.pop(_PENDING, None)
        if not pending:
            return
        _apply(session, pending)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def _apply(session, pending: _Pending) -> None:
    programmes = list(session.scalars(select(TrainingProgramme).order_by(TrainingProgramme.id)))
    if not programmes:
        return
    counted = set(session.scalars(select(ReportTallyState.programme_id)))
    units = set(pending.units)
    if pending.users:
        users = sorted(pending.users)
        for start in range(0, len(users), 5000):
            units.update(u for u in session.scalars(select(User.unit_id).where(
                User.id.in_(users[start:start + 5000]), User.unit_id.is_not(None))))
    officials = 0
    concerned: dict[int, set[int]] = {}  # programme → the marked units it covers or has counts for
    if units:
        officials = session.scalar(select(func.count()).select_from(User).where(User.unit_id.in_(units))) or 0
        paths = dict(session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(units))).all())
        for programme_id, target in session.execute(
                select(programme_unit.c.programme_id, OrgUnit.path)
                .join(OrgUnit, OrgUnit.id == programme_unit.c.unit_id)):
            concerned.setdefault(programme_id, set()).update(
                u for u, path in paths.items() if path.startswith(target))
        for programme_id, unit_id in session.execute(
                select(ReportTally.programme_id, ReportTally.unit_id).where(ReportTally.unit_id.in_(units))
                .distinct()):
            concerned.setdefault(programme_id, set()).add(unit_id)
    for programme in programmes:  # in id order: locks are taken in one order by every transaction
        whole = (pending.everything or programme.id in pending.programmes
                 or (pending.uncounted and programme.id not in counted))
        mine = concerned.get(programme.id)
        if whole or (mine and programme.id in counted and officials > _MAX_UNIT_OFFICIALS):
            _write(programme, None)
        elif mine and programme.id in counted:
            _write(programme, mine)
