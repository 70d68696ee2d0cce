"""Demo data for `make run`: Bắc Giang's units, the demo accounts and some progress."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from .attendance.services import create_session, mark
from .auth.models import Role, User
from .certificates.services import active_certificate, revoke
from .catalog.models import Lesson
from .catalog.services import active_courses, mark_lesson_done
from .extensions import db
from .models_base import utcnow
from .orgs.models import OrgUnit
from .orgs.services import load_units_csv
from .programmes.models import TrainingProgramme
from .programmes.services import create_programme
from .quizzes.attempts import finish_attempt, grade_essay, quiz_for, save_answers, start_attempt
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
        # One scrypt hash serves every demo account: they share the demo password.
        user = User(username=username, full_name=full_name, role=role, unit=unit, position=position,
                    password_hash=password)
        db.session.add(user)
        existing[username] = user
    return user


def seed_demo(password: str, units_csv: str) -> str:
    password = generate_password_hash(password, method="scrypt")
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


def seed_programme_demo() -> str:
    """A programme, a past conference in Lạng Giang with attendance, officials part-way,
    some certified and one certificate revoked. Runs once; later runs leave it as it is."""
    if db.session.scalar(select(TrainingProgramme.id).where(TrainingProgramme.code == "iso-2021-cap-xa")):
        return "Demo programme already present."
    courses = active_courses()
    if not courses:
        return "No courses synced: demo programme skipped."
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    trainer, admin = users["trainer"], users["admin"]
    programme = create_programme(
        code="iso-2021-cap-xa", title="Tập huấn ISO 2021 — cấp xã",
        description="Áp dụng, duy trì và cải tiến HTQLCL theo TCVN ISO 9001:2015 tại UBND cấp xã.",
        courses=courses, target_units=[units["24"]], requires_attendance=True, deadline=None,
        validity_months=36, issuer_name="Ban Chỉ đạo ISO tỉnh Bắc Giang", by=trainer)
    start = (utcnow() - timedelta(days=30)).replace(hour=1, minute=30, second=0, microsecond=0)
    session = create_session(programme, title="Hội nghị tập huấn ISO huyện Lạng Giang", unit=units["217"],
                             venue="Hội trường UBND huyện Lạng Giang", starts_at=start,
                             ends_at=start + timedelta(hours=7), trainer=trainer)
    officials = sorted((u for u in users.values() if u.role == Role.OFFICIAL.value and u.unit
                        and u.unit.path.startswith(units["217"].path)), key=lambda u: u.username)
    statuses = ["present", "present", "late", "present", "excused", "absent"]
    for i, official in enumerate(officials):
        mark(session, official, statuses[i % len(statuses)], by=trainer, source="roll_call")

    def finish_everything(official):
        for course in courses:
            for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id,
                                                                  Lesson.retired_at.is_(None))):
                mark_lesson_done(official.id, lesson)
            quiz = quiz_for(course)
            if quiz is not None:
                attempt = start_attempt(official.id, quiz, seed=official.id)
                save_answers(attempt.id, answer_form(attempt))
                finish_attempt(attempt)
                for answer in attempt.answers:
                    if answer.needs_grading:
                        grade_essay(answer, 1.0, "Đạt yêu cầu.", trainer.id)

    certified = [o for i, o in enumerate(officials) if statuses[i % len(statuses)] in ("present", "late")][:4]
    for official in certified:
        finish_everything(official)
    revoked = 0
    if certified:
        cert = active_certificate(certified[-1].id, programme.id)
        if cert is not None:
            revoke(cert, admin, "Cấp nhầm: cán bộ đã chuyển công tác trước hội nghị (dữ liệu minh họa).")
            revoked = 1
    count = sum(1 for o in certified if active_certificate(o.id, programme.id))
    codes = [active_certificate(o.id, programme.id).code for o in certified if active_certificate(o.id, programme.id)]
    return (f"Demo programme: 1 session with {len(officials)} attendance marks, {count} certified, "
            f"{revoked} revoked. Example certificate: {codes[0] if codes else '—'}")
