"""The committee's figures for one programme, within the viewer's scope, by unit.

Every number is counted in SQL. A page runs a fixed number of queries, whatever the
number of units or officials: the heavy queries GROUP BY the officials' own unit (a
commune), and those unit rows (a few hundred, a few thousand at most) are rolled up to
the level shown by their materialised path, never by looping over officials.

The rules are the ones defined elsewhere, reused here: enrolment is
``programmes.services.enrolled_officials``, who may see whom ``auth.scope``, "course
complete" the stored ``course_completion``, "quiz passed" ``quizzes.results.passed_quizzes``,
attendance ``ATTENDED_STATUSES``, a certificate's standing ``Certificate.status_rank_sql``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, literal, null, select, true, union_all

from ..attendance.models import ATTENDED_STATUSES, AttendanceRecord, TrainingSession
from ..auth.models import User
from ..auth.scope import sees_everything, unit_condition
from ..catalog.models import Course, Lesson, LessonProgress
from ..certificates.models import Certificate
from ..config import VIETNAM_TZ
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from ..programmes.models import TrainingProgramme
from ..programmes.services import enrolled_officials
from ..progress.models import CourseCompletion
from ..quizzes.models import AttemptAnswer, AttemptState, Question, Quiz, QuizAttempt
from ..quizzes.results import passed_quizzes
from ..sql import local_day
from .memo import remembered

VALID, EXPIRED, REVOKED = (Certificate.STATUS_RANK[s] for s in ("valid", "expired", "revoked"))
LAGGING_LIMIT = 10


@dataclass(frozen=True)
class Rate:
    """``count`` out of ``of``. The percent is rounded half up, as a spreadsheet shows the
    same fraction with a 0% format, so the screen and the file agree to the unit."""

    count: float
    of: float

    @property
    def fraction(self) -> float | None:
        return self.count / self.of if self.of else None

    @property
    def percent(self) -> int | None:
        if not self.of:
            return None
        if isinstance(self.count, int) and isinstance(self.of, int):
            return (200 * self.count + self.of) // (2 * self.of)
        return int(100 * self.count / self.of + 0.5 + 1e-9)


@dataclass
class Counts:
    enrolled: int = 0
    attended: int = 0
    valid: int = 0
    expired: int = 0
    revoked: int = 0
    completed: dict[int, int] = field(default_factory=dict)  # course id → officials
    passed: dict[int, int] = field(default_factory=dict)  # course id (of the quiz) → officials

    def add(self, other: Counts) -> None:
        self.enrolled += other.enrolled
        self.attended += other.attended
        self.valid += other.valid
        self.expired += other.expired
        self.revoked += other.revoked
        for mine, theirs in ((self.completed, other.completed), (self.passed, other.passed)):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n

    @property
    def remaining(self) -> int:
        """Still to certify: enrolled officials without a valid certificate."""
        return self.enrolled - self.valid

    def rate(self, count: int) -> Rate:
        return Rate(count, self.enrolled)


@dataclass
class UnitFigures:
    unit: OrgUnit
    counts: Counts
    direct: bool = False  # officials attached to the unit shown itself, not to a unit below it
    has_children: bool = True


@dataclass
class Lagging:
    unit: OrgUnit
    parent: OrgUnit | None
    counts: Counts
    per_week: int | None  # certifications a week needed to meet the deadline


@dataclass
class SessionFigures:
    session_id: int
    title: str
    starts_at: datetime
    marks: dict[str, int]  # status → officials in scope

    @property
    def attended(self) -> int:
        return sum(self.marks.get(s, 0) for s in ATTENDED_STATUSES)

    @property
    def marked(self) -> int:
        return sum(self.marks.values())


@dataclass
class WeekPoint:
    day: date
    completed: int  # officials who had completed every required course by that day
    certified: int  # officials holding a certificate (not revoked) issued by that day


@dataclass
class Dashboard:
    programme: TrainingProgramme
    unit: OrgUnit | None  # the unit whose parts are the rows; None: every top-level unit
    top: OrgUnit | None  # the highest unit the viewer may see
    trail: list[OrgUnit]  # from ``top`` down to ``unit``
    now: datetime
    courses: list[Course]  # required, in order
    quiz_courses: list[Course]  # required courses with a quiz
    rows: list[UnitFigures]
    total: Counts
    lagging: list[Lagging]
    sessions: list[SessionFigures]
    weeks: list[WeekPoint]
    started: date | None  # the first conference session, local day
    as_of: datetime  # when the figures were counted (reports.memo may reuse them for a minute)

    @property
    def today(self) -> date:
        return self.now.astimezone(VIETNAM_TZ).date()

    @property
    def days_left(self) -> int | None:
        return (self.programme.deadline - self.today).days if self.programme.deadline else None


def _key(kind: str, viewer: User, programme: TrainingProgramme, unit: OrgUnit | None, *extra) -> tuple:
    """What a memoised aggregate depends on; the viewer's scope follows from role and unit."""
    return (kind, programme.id, unit.id if unit is not None else None, viewer.role, viewer.unit_id, *extra)


# --- programme and unit -----------------------------------------------------

def programmes() -> list[TrainingProgramme]:
    return list(db.session.scalars(select(TrainingProgramme).order_by(TrainingProgramme.created_at.desc(),
                                                                      TrainingProgramme.id.desc())))


def current_programme(choices: list[TrainingProgramme], today: date) -> TrainingProgramme | None:
    """The newest programme still open (no deadline, or one not yet passed); else the newest."""
    open_ = [p for p in choices if p.deadline is None or p.deadline >= today]
    return (open_ or choices or [None])[0]


def top_unit(viewer: User) -> OrgUnit | None:
    if not sees_everything(viewer):
        return viewer.unit
    roots = list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None), OrgUnit.is_active.is_(True))
                                    .limit(2)))
    return roots[0] if len(roots) == 1 else None


def _ids_in_path(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def trail_to(unit: OrgUnit | None, top: OrgUnit | None) -> list[OrgUnit]:
    if unit is None:
        return []
    ids = _ids_in_path(unit.path)
    units = list(db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.depth)))
    return [u for u in units if top is None or u.depth >= top.depth]


# --- the population ---------------------------------------------------------

def cohort(viewer: User, programme: TrainingProgramme, unit: OrgUnit | None):
    """SELECT (user_id, unit_id, path) of the officials enrolled in the programme that the
    viewer may see, under ``unit``."""
    query = enrolled_officials(programme).where(unit_condition(viewer))
    if unit is not None:
        query = query.where(subtree_condition(unit))
    return query.with_only_columns(User.id.label("user_id"), User.unit_id.label("unit_id"),
                                   OrgUnit.path.label("path"))


def required_courses(programme: TrainingProgramme) -> tuple[list[Course], list[Course]]:
    courses = [c for c in programme.courses if c.retired_at is None]
    with_quiz = set(db.session.scalars(select(Quiz.course_id).where(Quiz.course_id.in_([c.id for c in courses]))))
    return courses, [c for c in courses if c.id in with_quiz]


def counts_by_unit(viewer, programme, unit, courses, quiz_courses, now) -> list[tuple[int, str, Counts]]:
    """One query: every figure of the dashboard per officials' unit: (unit id, path, Counts)."""
    return unit_counts(cohort(viewer, programme, unit).subquery(), programme, courses, quiz_courses, now)


def _only(column, user_ids):
    return column.in_(user_ids) if user_ids is not None else true()


def unit_counts(people, programme, courses, quiz_courses, now: datetime | None,
                user_ids: list[int] | None = None) -> list[tuple[int, str, Counts]]:
    """The figures of the officials in ``people`` (a ``cohort`` subquery) by their unit.
    ``now=None``: certificates are not seen as expired (``valid`` then counts every official
    holding one not revoked; ``reports.tally`` stores that, and subtracts expiry when read).
    ``user_ids``: the officials ``people`` is limited to, so that each table is read by index
    for them only."""
    return unit_counts_read(db.session.execute(unit_counts_query(people, programme, courses, quiz_courses, now,
                                                                  user_ids)), courses, quiz_courses)


def unit_counts_read(rows, courses, quiz_courses) -> list[tuple[int, str, Counts]]:
    result = []
    for row in rows:
        unit_id, path, enrolled, att, valid, expired, revoked, *rest = row
        counts = Counts(enrolled, att, valid, expired, revoked)
        counts.completed = {c.id: int(n) for c, n in zip(courses, rest[:len(courses)])}
        counts.passed = {c.id: int(n) for c, n in zip(quiz_courses, rest[len(courses):])}
        result.append((unit_id, path, counts))
    return result


def unit_counts_query(people, programme, courses, quiz_courses, now: datetime | None, user_ids=None):
    """``unit_counts``' statement; ``user_ids`` may be an expanding bind parameter, so that
    ``reports.tally`` builds it once per programme and set of courses."""
    attended = (select(AttendanceRecord.user_id)
                .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
                .where(TrainingSession.programme_id == programme.id,
                       AttendanceRecord.status.in_(ATTENDED_STATUSES), _only(AttendanceRecord.user_id, user_ids))
                .group_by(AttendanceRecord.user_id).subquery())
    rank = (Certificate.status_rank_sql(now) if now is not None
            else case((Certificate.revoked_at.is_not(None), REVOKED), else_=VALID))
    standing = (select(Certificate.user_id, func.max(rank).label("rank"))
                .where(Certificate.programme_id == programme.id, _only(Certificate.user_id, user_ids))
                .group_by(Certificate.user_id).subquery())
    columns = [people.c.unit_id, people.c.path, func.count(),
               func.count(attended.c.user_id),
               func.count(case((standing.c.rank == VALID, 1))),
               func.count(case((standing.c.rank == EXPIRED, 1))),
               func.count(case((standing.c.rank == REVOKED, 1)))]
    query = (select().select_from(people)
             .outerjoin(attended, attended.c.user_id == people.c.user_id)
             .outerjoin(standing, standing.c.user_id == people.c.user_id))
    if courses:
        done = (select(CourseCompletion.user_id, *[
            func.max(case((CourseCompletion.course_id == c.id, 1), else_=0)).label(f"c{c.id}") for c in courses])
            .where(CourseCompletion.course_id.in_([c.id for c in courses]), _only(CourseCompletion.user_id, user_ids))
            .group_by(CourseCompletion.user_id).subquery())
        query = query.outerjoin(done, done.c.user_id == people.c.user_id)
        columns += [func.coalesce(func.sum(done.c[f"c{c.id}"]), 0) for c in courses]
    if quiz_courses:
        passed_all = passed_quizzes()
        passed = (select(passed_all.c.user_id, *[
            func.max(case((passed_all.c.course_id == c.id, 1), else_=0)).label(f"q{c.id}") for c in quiz_courses])
            .where(passed_all.c.course_id.in_([c.id for c in quiz_courses]), _only(passed_all.c.user_id, user_ids))
            .group_by(passed_all.c.user_id).subquery())
        query = query.outerjoin(passed, passed.c.user_id == people.c.user_id)
        columns += [func.coalesce(func.sum(passed.c[f"q{c.id}"]), 0) for c in quiz_courses]
    return query.add_columns(*columns).group_by(people.c.unit_id, people.c.path)


def _part_of(path: str, unit: OrgUnit | None) -> int | None:
    """The id of the unit one level below ``unit`` that holds the unit at ``path``
    (None: ``unit`` itself)."""
    ids = _ids_in_path(path)
    depth = -1 if unit is None else unit.depth
    return ids[depth + 1] if len(ids) > depth + 1 else None


def roll_up(per_unit, unit: OrgUnit | None) -> dict[int | None, Counts]:
    parts: dict[int | None, Counts] = {}
    for _unit_id, path, counts in per_unit:
        parts.setdefault(_part_of(path, unit), Counts()).add(counts)
    return parts


def parts_of(unit: OrgUnit | None, with_officials) -> list[OrgUnit]:
    """The units one level below ``unit`` (active ones, and any inactive one still holding
    officials), by code."""
    parent = OrgUnit.parent_id.is_(None) if unit is None else OrgUnit.parent_id == unit.id
    return list(db.session.scalars(select(OrgUnit).where(
        parent, OrgUnit.is_active.is_(True) | OrgUnit.id.in_(list(with_officials) or [-1]))
        .order_by(OrgUnit.code)))


def lagging_units(per_unit, programme, today: date) -> list[Lagging]:
    """The officials' own units (communes) with the lowest certification rate, the ones with
    more officials still to go first among equals."""
    ranked = sorted(((c.valid / c.enrolled, -c.remaining, unit_id, c) for unit_id, _p, c in per_unit
                     if c.enrolled and c.remaining), key=lambda t: t[:3])[:LAGGING_LIMIT]
    units = {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_([t[2] for t in ranked])))}
    parents = {u.id: u for u in db.session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_({u.parent_id for u in units.values() if u.parent_id} or {-1})))}
    weeks = None
    if programme.deadline is not None and programme.deadline > today:
        weeks = max((programme.deadline - today).days / 7, 1)
    return [Lagging(units[unit_id], parents.get(units[unit_id].parent_id), counts, _ceil(counts.remaining / weeks) if weeks else None)
            for _r, _m, unit_id, counts in ranked]


def _ceil(x: float) -> int:
    return int(-(-x // 1))


def sessions_attendance(viewer, programme, unit) -> list[SessionFigures]:
    people = cohort(viewer, programme, unit).subquery()
    query = (select(TrainingSession.id, TrainingSession.title, TrainingSession.starts_at,
                    AttendanceRecord.status, func.count())
             .join(AttendanceRecord, AttendanceRecord.session_id == TrainingSession.id)
             .join(people, people.c.user_id == AttendanceRecord.user_id)
             .where(TrainingSession.programme_id == programme.id)
             .group_by(TrainingSession.id, TrainingSession.title, TrainingSession.starts_at, AttendanceRecord.status))
    sessions: dict[int, SessionFigures] = {}
    for session_id, title, starts_at, status, n in db.session.execute(query):
        sessions.setdefault(session_id, SessionFigures(session_id, title, starts_at, {})).marks[status] = n
    return sorted(sessions.values(), key=lambda s: (s.starts_at, s.session_id))


def marks_by_unit(people, programme, user_ids=None) -> list[tuple[int, int, str, int]]:
    """(unit id, session id, status, officials) of the officials in ``people``."""
    return [tuple(r) for r in db.session.execute(marks_by_unit_query(people, programme, user_ids))]


def marks_by_unit_query(people, programme, user_ids=None):
    return (select(people.c.unit_id, AttendanceRecord.session_id, AttendanceRecord.status, func.count())
            .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
            .join(people, people.c.user_id == AttendanceRecord.user_id)
            .where(TrainingSession.programme_id == programme.id, _only(AttendanceRecord.user_id, user_ids))
            .group_by(people.c.unit_id, AttendanceRecord.session_id, AttendanceRecord.status))


def sessions_named(programme, marks: dict[int, dict[str, int]]) -> list[SessionFigures]:
    """``marks`` (session id → status → officials) with the sessions' titles and times."""
    found = db.session.execute(select(TrainingSession.id, TrainingSession.title, TrainingSession.starts_at)
                               .where(TrainingSession.id.in_(list(marks) or [-1])))
    return sorted((SessionFigures(i, title, starts_at, marks[i]) for i, title, starts_at in found),
                  key=lambda s: (s.starts_at, s.session_id))


def first_session_day(programme) -> date | None:
    first = db.session.scalar(select(func.min(TrainingSession.starts_at))
                              .where(TrainingSession.programme_id == programme.id))
    return first.astimezone(VIETNAM_TZ).date() if first else None


def daily_progress(viewer, programme, unit, courses) -> dict[str, list[tuple[date, int]]]:
    """Per day: officials who completed their last required course, officials certified
    (certificates not revoked); two GROUP BYs in one query."""
    daily: dict[str, list[tuple[date, int]]] = {"completed": [], "certified": []}
    for what, _unit_id, day, n in daily_by_unit(cohort(viewer, programme, unit).subquery(), programme, courses,
                                                by_unit=False):
        daily[what].append((day, n))
    return daily


def daily_by_unit(people, programme, courses, by_unit: bool = True,
                  user_ids=None) -> list[tuple[str, int | None, date, int]]:
    """(what, unit id or None, local day, officials) for the officials in ``people``: the day
    they completed their last required course (what = completed), the days they were
    certified, certificates not revoked (certified)."""
    return daily_by_unit_read(db.session.execute(daily_by_unit_query(people, programme, courses, by_unit, user_ids)))


def daily_by_unit_read(rows) -> list[tuple[str, int | None, date, int]]:
    return [(what, unit_id, date.fromisoformat(str(day)[:10]), n) for what, unit_id, day, n in rows]


def daily_by_unit_query(people, programme, courses, by_unit: bool = True, user_ids=None):
    ids = [c.id for c in courses]
    finished = (select(CourseCompletion.user_id, func.max(CourseCompletion.completed_at).label("at"))
                .where(CourseCompletion.course_id.in_(ids or [-1]), _only(CourseCompletion.user_id, user_ids))
                .group_by(CourseCompletion.user_id).having(func.count() == len(ids)).subquery())
    completed_day = local_day(finished.c.at)
    certified_day = local_day(Certificate.issued_at)
    unit = [people.c.unit_id] if by_unit else [null().label("unit_id")]
    grouped = [people.c.unit_id] if by_unit else []
    query = union_all(
        select(literal("completed").label("what"), *unit, completed_day.label("day"), func.count().label("n"))
        .select_from(finished).join(people, people.c.user_id == finished.c.user_id)
        .group_by(*grouped, completed_day),
        select(literal("certified"), *unit, certified_day, func.count(func.distinct(Certificate.user_id)))
        .select_from(Certificate).join(people, people.c.user_id == Certificate.user_id)
        .where(Certificate.programme_id == programme.id, Certificate.revoked_at.is_(None),
               _only(Certificate.user_id, user_ids))
        .group_by(*grouped, certified_day))
    return query


def weekly_progress(daily, start: date | None, today: date, max_points: int = 53) -> list[WeekPoint]:
    """The running totals at the conference's day and at the end of each week since."""
    if start is None or start > today:
        start = today
    weeks = max(_ceil((today - start).days / 7), 0)
    step = max(_ceil(weeks / (max_points - 1)), 1) if weeks else 1
    days = {start + timedelta(days=7 * k) for k in range(0, weeks, step)} | {start, today}
    return [WeekPoint(day, sum(n for d, n in daily["completed"] if d <= day),
                      sum(n for d, n in daily["certified"] if d <= day)) for day in sorted(days)]


def dashboard(viewer: User, programme: TrainingProgramme, unit: OrgUnit | None,
              now: datetime | None = None) -> Dashboard:
    """The figures of one page: ``unit``'s parts as rows (the caller has checked that the
    viewer may see ``unit``)."""
    now = now or utcnow()
    today = now.astimezone(VIETNAM_TZ).date()
    top = top_unit(viewer)
    courses, quiz_courses = required_courses(programme)
    from . import tally  # the stored counts, kept by tally from these same queries

    if tally.is_counted(programme):
        (per_unit, marks, daily), as_of = remembered(
            _key("stored", viewer, programme, unit),
            lambda: tally.stored_figures(viewer, programme, unit, courses, quiz_courses, now))
        sessions = sessions_named(programme, marks)
    else:  # not counted yet (right after the upgrade): counted afresh
        per_unit, as_of = remembered(_key("units", viewer, programme, unit),
                                     lambda: counts_by_unit(viewer, programme, unit, courses, quiz_courses, now))
        sessions, _at = remembered(_key("sessions", viewer, programme, unit),
                                   lambda: sessions_attendance(viewer, programme, unit))
        daily, _at = remembered(_key("daily", viewer, programme, unit),
                                lambda: daily_progress(viewer, programme, unit, courses))
    parts = roll_up(per_unit, unit)
    total = Counts()
    for counts in parts.values():
        total.add(counts)
    children = parts_of(unit, {k for k in parts if k is not None})
    with_children = set(db.session.scalars(select(OrgUnit.parent_id).where(
        OrgUnit.parent_id.in_([u.id for u in children] or [-1]), OrgUnit.is_active.is_(True)).distinct()))
    rows = [UnitFigures(u, parts.get(u.id, Counts()), has_children=u.id in with_children) for u in children]
    if None in parts and unit is not None and children:  # a commune's own officials are listed one by one
        rows.append(UnitFigures(unit, parts[None], direct=True, has_children=False))
    started, _at = remembered(("first", programme.id), lambda: first_session_day(programme))
    return Dashboard(programme, unit, top, trail_to(unit, top), now, courses, quiz_courses, rows, total,
                     lagging_units(per_unit, programme, today), sessions, weekly_progress(daily, started, today),
                     started, as_of)


# --- where knowledge is weak ------------------------------------------------

@dataclass
class WeakTopics:
    course: Course
    categories: list[str]  # in lesson order
    labels: dict[str, str]  # category → the lesson's title (a category is named after its lesson)
    rows: list[tuple[OrgUnit, dict[str, Rate]]]  # unit → category → share of right answers
    total: dict[str, Rate]


def category_label(category: str) -> str:
    return category.rsplit("/", 1)[-1] or category


def weak_topics(viewer: User, programme: TrainingProgramme, unit: OrgUnit | None) -> list[WeakTopics]:
    """For each quiz of the programme, the share of right answers (mean fraction) per
    question category, by the parts of ``unit``, over graded attempts: one query."""
    courses, quiz_courses = required_courses(programme)
    people = cohort(viewer, programme, unit).subquery()
    query = (select(people.c.path, Question.course_id, Question.category,
                    func.sum(AttemptAnswer.fraction), func.count(AttemptAnswer.id))
             .select_from(AttemptAnswer)
             .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
             .join(people, people.c.user_id == QuizAttempt.user_id)
             .join(Question, Question.id == AttemptAnswer.question_id)
             .where(QuizAttempt.state == AttemptState.GRADED.value, AttemptAnswer.fraction.is_not(None),
                    Question.course_id.in_([c.id for c in quiz_courses] or [-1]))
             .group_by(people.c.path, Question.course_id, Question.category))
    found, _at = remembered(_key("weak", viewer, programme, unit),
                            lambda: [tuple(r) for r in db.session.execute(query)])
    sums: dict[tuple[int, int | None, str], list[float]] = {}
    for path, course_id, category, total, n in found:
        cell = sums.setdefault((course_id, _part_of(path, unit), category), [0.0, 0])
        cell[0] += float(total or 0)
        cell[1] += n
    children = parts_of(unit, {k[1] for k in sums if k[1] is not None})
    lessons = {(course_id, slug): (position, title) for course_id, slug, position, title in db.session.execute(
        select(Lesson.course_id, Lesson.slug, Lesson.position, Lesson.title)
        .where(Lesson.course_id.in_([c.id for c in quiz_courses] or [-1]), Lesson.retired_at.is_(None)))}
    result = []
    for course in quiz_courses:
        cells = {k: v for k, v in sums.items() if k[0] == course.id}
        lesson_of = {cat: lessons.get((course.id, category_label(cat))) for cat in {k[2] for k in cells}}
        categories = sorted(lesson_of, key=lambda cat: (lesson_of[cat] is None, lesson_of[cat] or (0, ""), cat))
        labels = {cat: lesson_of[cat][1] if lesson_of[cat] else category_label(cat) for cat in categories}
        rows = []
        for u in children + ([unit] if any(k[1] is None for k in cells) and unit is not None else []):
            key = None if u is unit else u.id
            rows.append((u, {cat: Rate(*cells[(course.id, key, cat)]) for cat in categories
                             if (course.id, key, cat) in cells}))
        total = {}
        for cat in categories:
            s = [v for k, v in cells.items() if k[2] == cat]
            total[cat] = Rate(sum(x[0] for x in s), sum(x[1] for x in s))
        result.append(WeakTopics(course, categories, labels, rows, total))
    return result


# --- officials --------------------------------------------------------------

@dataclass
class OfficialFigures:
    user: User
    attendance: str | None  # the best mark at any session of the programme
    lessons_done: int
    lessons_total: int
    completed: set[int]
    quizzes: dict[int, tuple[int, float | None, bool]]  # course id → attempts, best percent, passed
    certificate: str | None  # valid | expired | revoked
    certificate_code: str | None


_MARK_ORDER = {"present": 4, "late": 3, "excused": 2, "absent": 1}


def officials_detail(viewer: User, programme: TrainingProgramme, unit: OrgUnit | None, page: int | None = 1,
                     per_page: int = 50, now: datetime | None = None) -> tuple[list[OfficialFigures], int]:
    """The officials in scope under ``unit``, one page (``page=None``: all), with their
    attendance, lessons, attempts and certificate: seven queries whatever the page size."""
    now = now or utcnow()
    courses, quiz_courses = required_courses(programme)
    base = cohort(viewer, programme, unit)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    query = base.with_only_columns(User).order_by(User.full_name, User.id)
    if page is not None:
        query = query.offset((page - 1) * per_page).limit(per_page)
    users = list(db.session.scalars(query))
    ids = [u.id for u in users] or [-1]
    marks: dict[int, str] = {}
    for user_id, status in db.session.execute(
            select(AttendanceRecord.user_id, AttendanceRecord.status)
            .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
            .where(TrainingSession.programme_id == programme.id, AttendanceRecord.user_id.in_(ids))):
        if _MARK_ORDER.get(status, 0) > _MARK_ORDER.get(marks.get(user_id), 0):
            marks[user_id] = status
    course_ids = [c.id for c in courses] or [-1]
    lessons_total = db.session.scalar(select(func.count(Lesson.id)).where(
        Lesson.course_id.in_(course_ids), Lesson.retired_at.is_(None))) or 0
    lessons = dict(db.session.execute(
        select(LessonProgress.user_id, func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id.in_(ids), Lesson.course_id.in_(course_ids), Lesson.retired_at.is_(None))
        .group_by(LessonProgress.user_id)).all())
    completed: dict[int, set[int]] = {}
    for user_id, course_id in db.session.execute(
            select(CourseCompletion.user_id, CourseCompletion.course_id)
            .where(CourseCompletion.user_id.in_(ids), CourseCompletion.course_id.in_(course_ids))):
        completed.setdefault(user_id, set()).add(course_id)
    passed_all = passed_quizzes()
    passed = {tuple(r) for r in db.session.execute(select(passed_all.c.user_id, passed_all.c.course_id)
                                    .where(passed_all.c.user_id.in_(ids)))}
    attempts = {(u, c): (n, best) for u, c, n, best in db.session.execute(
        select(QuizAttempt.user_id, Quiz.course_id, func.count(QuizAttempt.id),
               func.max(case((QuizAttempt.state == AttemptState.GRADED.value, QuizAttempt.percent))))
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .where(QuizAttempt.user_id.in_(ids), Quiz.course_id.in_(course_ids))
        .group_by(QuizAttempt.user_id, Quiz.course_id))}
    certificates: dict[int, tuple[int, str]] = {}
    rank = Certificate.status_rank_sql(now)
    for user_id, r, code in db.session.execute(
            select(Certificate.user_id, rank, Certificate.code)
            .where(Certificate.programme_id == programme.id, Certificate.user_id.in_(ids))
            .order_by(Certificate.issued_at)):
        if r >= certificates.get(user_id, (0, ""))[0]:
            certificates[user_id] = (r, code)
    names = {v: k for k, v in Certificate.STATUS_RANK.items()}
    rows = []
    for u in users:
        cert = certificates.get(u.id)
        rows.append(OfficialFigures(
            u, marks.get(u.id), lessons.get(u.id, 0), lessons_total, completed.get(u.id, set()),
            {c.id: (*attempts.get((u.id, c.id), (0, None)), (u.id, c.id) in passed) for c in quiz_courses},
            names[cert[0]] if cert else None, cert[1] if cert else None))
    return rows, total
