"""Demo data for `make run`: Bắc Giang's units, the demo accounts and some progress.

The story, in dates that agree: this year's programme ("Tập huấn ISO <year> — cấp xã") was
set up two weeks before the Lạng Giang conference, held about a month ago; its deadline is
the end of the year. Since then ``certified`` has finished and holds a certificate,
``revoked`` had one revoked, ``official`` is part-way (one course read, the quiz failed once)
and ``official2`` has not started.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .attendance.services import create_session, mark
from .auth.models import Role, User, hash_password
from .certificates.models import Certificate
from .certificates.services import active_certificate, revoke
from .config import VIETNAM_TZ
from .catalog.models import Lesson
from .catalog.services import active_courses, mark_lesson_done
from .extensions import db
from .models_base import utcnow
from .orgs.models import OrgUnit
from .orgs.services import load_units_csv
from .programmes.models import TrainingProgramme
from .programmes.services import create_programme
from .quizzes.attempts import attempts_of, finish_attempt, grade_essay, quiz_for, save_answers, start_attempt
from .quizzes.autofill import answer_form

_POSITIONS = [
    "Chủ tịch UBND", "Phó Chủ tịch UBND", "Công chức Văn phòng - thống kê",
    "Công chức Tư pháp - hộ tịch", "Công chức Địa chính - xây dựng",
    "Công chức Tài chính - kế toán", "Công chức Văn hóa - xã hội",
]
_NAMES = [
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em",
    "Vũ Thị Giang", "Đỗ Văn Hải", "Bùi Thị Hạnh", "Đặng Văn Khoa", "Ngô Thị Lan",
    "Dương Văn Minh", "Lý Thị Nga", "Trịnh Văn Phúc", "Đinh Thị Quỳnh", "Mai Văn Sơn",
]


def _ensure_user(username, full_name, role, unit, position, password, existing) -> User:
    user = existing.get(username)
    if user is None:
        # One Argon2id hash serves every demo account: they share the demo password.
        user = User(username=username, full_name=full_name, role=role, unit=unit, position=position,
                    password_hash=password)
        db.session.add(user)
        existing[username] = user
    return user


def seed_demo(password: str, units_csv: str) -> str:
    password = hash_password(password)
    counts = load_units_csv(units_csv)
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    existing = {u.username: u for u in db.session.scalars(select(User))}
    before = len(existing)
    _ensure_user("admin", "Quản trị hệ thống", Role.ADMIN.value, None, "Quản trị viên", password, existing)
    _ensure_user("trainer", "Giảng viên Chi cục TĐC", Role.TRAINER.value, None,
                 "Giảng viên, Chi cục Tiêu chuẩn Đo lường Chất lượng", password, existing)
    _ensure_user("committee", "Thành viên Ban Chỉ đạo ISO tỉnh", Role.COMMITTEE.value, units["24"],
                 "Sở Khoa học và Công nghệ", password, existing)
    _ensure_user("committee-lg", "Thành viên BCĐ ISO huyện Lạng Giang", Role.COMMITTEE.value, units["217"],
                 "Phòng Nội vụ huyện Lạng Giang", password, existing)
    _ensure_user("official", "Nguyễn Thị Hoa", Role.OFFICIAL.value, units["D217-01"],
                 "Công chức Văn phòng - thống kê", password, existing)
    _ensure_user("official2", "Trần Văn Long", Role.OFFICIAL.value, units["D213-01"],
                 "Công chức Tư pháp - hộ tịch", password, existing)
    _ensure_user("certified", "Lương Thị Thu", Role.OFFICIAL.value, units["D217-02"],
                 "Công chức Văn phòng - thống kê", password, existing)
    _ensure_user("revoked", "Hà Văn Tùng", Role.OFFICIAL.value, units["D217-03"],
                 "Công chức Địa chính - xây dựng", password, existing)
    communes = [u for u in units.values() if u.level == "commune"]
    communes.sort(key=lambda u: u.code)
    n = 0
    for commune in communes:
        for i in range(3):
            name = _NAMES[n % len(_NAMES)]
            n += 1
            _ensure_user(f"cb-{commune.code.lower()}-{i + 1}", name, Role.OFFICIAL.value, commune,
                         _POSITIONS[(n + i) % len(_POSITIONS)], password, existing)
    db.session.flush()

    # Some officials part-way through the first course, a few finished.
    courses = active_courses()
    if courses:
        lessons = list(db.session.scalars(select(Lesson).where(
            Lesson.course_id == courses[0].id, Lesson.retired_at.is_(None)).order_by(Lesson.position)))
        demo_officials = sorted((u for u in existing.values() if u.username.startswith("cb-")),
                                key=lambda u: u.username)
        for k, user in enumerate(demo_officials):
            for lesson in lessons[: (k * 7) % (len(lessons) + 1)]:
                mark_lesson_done(user.id, lesson)
    created = len(existing) - before
    return (f"Demo data: units {counts['created']} created, {counts['unchanged']} unchanged; "
            f"{created} accounts created, {len(existing)} in all.")


def demo_programme_code(today: date) -> str:
    return f"iso-{today.year}-cap-xa"


def _demo_dates(now: datetime) -> tuple[datetime, datetime, date]:
    """(programme set up, conference start, deadline): the conference about a month ago but
    in this year (Vietnam time), the programme set up up to two weeks before it, the deadline
    on 31 December. In that order, and the conference already over."""
    local = now.astimezone(VIETNAM_TZ)
    new_year = datetime(local.year, 1, 1, tzinfo=VIETNAM_TZ)
    day = max((local - timedelta(days=30)).date(), new_year.date())
    start = datetime(day.year, day.month, day.day, 8, 0, tzinfo=VIETNAM_TZ)
    start = min(start, local - timedelta(hours=8))  # the first hours of 1 January: yesterday's evening
    created = min(max(start - timedelta(days=14), new_year), start)
    return created.astimezone(timezone.utc), start.astimezone(timezone.utc), date(local.year, 12, 31)


def seed_programme_demo(now: datetime | None = None) -> str:
    """This year's programme, a past conference in Lạng Giang with attendance, officials
    part-way, certified and revoked accounts. Runs once a year; later runs leave it as it is."""
    now = now or utcnow()
    created_at, start, deadline = _demo_dates(now)
    code = demo_programme_code(deadline)
    if db.session.scalar(select(TrainingProgramme.id).where(TrainingProgramme.code == code)):
        return f"Demo programme {code} already present."
    courses = active_courses()
    if not courses:
        return "No courses synced: demo programme skipped."
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    trainer, admin = users["trainer"], users["admin"]
    programme = create_programme(
        code=code, title=f"Tập huấn ISO {deadline.year} — cấp xã",
        description="Áp dụng, duy trì và cải tiến HTQLCL theo TCVN ISO 9001:2015 tại UBND cấp xã.",
        courses=courses, target_units=[units["24"]], requires_attendance=True, deadline=deadline,
        validity_months=36, issuer_name="Ban Chỉ đạo ISO tỉnh Bắc Giang", by=trainer)
    programme.created_at = created_at
    session = create_session(programme, title="Hội nghị tập huấn ISO huyện Lạng Giang", unit=units["217"],
                             venue="Hội trường UBND huyện Lạng Giang", starts_at=start,
                             ends_at=start + timedelta(hours=7), trainer=trainer)
    named = {"certified", "revoked", "official"}
    officials = sorted((u for u in users.values() if u.role == Role.OFFICIAL.value and u.unit
                        and u.unit.path.startswith(units["217"].path)), key=lambda u: u.username)
    statuses = ["present", "present", "late", "present", "excused", "absent"]
    for i, official in enumerate(o for o in officials if o.username not in named):
        mark(session, official, statuses[i % len(statuses)], by=trainer, source="roll_call")
    for username in sorted(named):
        mark(session, users[username], "present", by=trainer, source="roll_call")

    def take_quiz(official, course, wrong=False, seed=None):
        quiz = quiz_for(course)
        if quiz is None:
            return
        attempt = start_attempt(official.id, quiz, seed=seed if seed is not None else official.id)
        save_answers(attempt.id, answer_form(attempt, wrong=wrong))
        finish_attempt(attempt)
        for answer in attempt.answers:
            if answer.needs_grading:
                grade_essay(answer, 0.0 if wrong else 1.0, "Chưa đạt yêu cầu." if wrong else "Đạt yêu cầu.",
                            trainer.id)

    def finish_everything(official):
        for course in courses:
            for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id,
                                                                  Lesson.retired_at.is_(None))):
                mark_lesson_done(official.id, lesson)
            take_quiz(official, course)

    # Two officials of the roll call, plus the named ``certified`` and ``revoked`` accounts, finish.
    present = [o for i, o in enumerate(o for o in officials if o.username not in named)
               if statuses[i % len(statuses)] in ("present", "late")][:2]
    for official in present + [users["certified"], users["revoked"]]:
        finish_everything(official)
    cert = active_certificate(users["revoked"].id, programme.id)
    if cert is not None:
        revoke(cert, admin, "Cấp nhầm: hồ sơ điểm danh ghi sai người, cần xác minh lại (dữ liệu minh họa).")
    # ``official`` is part-way: the first course read through, its quiz failed once; the second begun.
    hoa = users["official"]
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == courses[0].id,
                                                          Lesson.retired_at.is_(None))):
        mark_lesson_done(hoa.id, lesson)
    if quiz_for(courses[0]) is not None and not attempts_of(hoa.id, quiz_for(courses[0])):
        take_quiz(hoa, courses[0], wrong=True)
    if len(courses) > 1:
        for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == courses[1].id,
                                                              Lesson.retired_at.is_(None))
                                         .order_by(Lesson.position).limit(2)):
            mark_lesson_done(hoa.id, lesson)
    db.session.flush()
    certified = db.session.scalars(select(User.username).join(Certificate, Certificate.user_id == User.id).where(
        Certificate.programme_id == programme.id, Certificate.revoked_at.is_(None)).order_by(User.username)).all()
    example = active_certificate(users["certified"].id, programme.id)
    quiz_takers = _seed_quiz_practice(users, units, courses[0], trainer)
    return (f"Demo programme {code}: conference on {start.astimezone(VIETNAM_TZ):%d/%m/%Y}, deadline "
            f"{deadline:%d/%m/%Y}; {len(officials)} attendance marks; certified: {', '.join(certified) or '—'}; "
            f"revoked: revoked; {quiz_takers} officials elsewhere tried the first quiz. "
            f"Example certificate: {example.code if example else '—'}")


def _mixed_form(attempt, wrong_slots: set[int]) -> MultiDict:
    """What an official who gets some questions wrong would post."""
    right, wrong = answer_form(attempt), answer_form(attempt, wrong=True)
    form = MultiDict()
    for answer in attempt.answers:
        source, name = (wrong if answer.slot in wrong_slots else right), f"q{answer.slot}"
        for key in source.keys():
            if key == name or key.startswith(name + "-"):
                for value in source.getlist(key):
                    form.add(key, value)
    return form


def _seed_quiz_practice(users, units, course, trainer) -> int:
    """Officials of three other districts try the first course's quiz once, each district
    weaker on different lessons, so that "where knowledge is weak" has something to show."""
    quiz = quiz_for(course)
    if quiz is None:
        return 0
    n = 0
    for d, district in enumerate(("213", "215", "216")):
        prefix = units[district].path
        takers = sorted((u for u in users.values() if u.username.startswith("cb-") and u.unit
                         and u.unit.path.startswith(prefix)), key=lambda u: u.username)
        for k, official in enumerate(takers):
            attempt = start_attempt(official.id, quiz, seed=official.id)
            categories = sorted({a.question.category for a in attempt.answers})
            wrong = {a.slot for a in attempt.answers
                     if (categories.index(a.question.category) + d) % 3 == 0 or (a.slot + k) % 4 == 0}
            save_answers(attempt.id, _mixed_form(attempt, wrong))
            finish_attempt(attempt)
            for answer in attempt.answers:
                if answer.needs_grading:
                    grade_essay(answer, 0.0 if answer.slot in wrong else 1.0, "Cần bổ sung ví dụ.", trainer.id)
            n += 1
    return n
