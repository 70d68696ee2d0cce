"""Small builders for test data; each flushes and commits so live servers see it."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from learnhub.attendance.models import TrainingSession
from learnhub.attendance.services import create_session, mark
from learnhub.auth.models import User, hash_password
from learnhub.catalog.models import Course, Lesson
from learnhub.catalog.services import mark_lesson_done
from learnhub.certificates.models import Certificate
from learnhub.certificates.services import active_certificate
from learnhub.extensions import db
from learnhub.models_base import utcnow
from learnhub.orgs.models import OrgUnit
from learnhub.orgs.services import load_units_csv
from learnhub.programmes.models import TrainingProgramme
from learnhub.programmes.services import create_programme
from learnhub.quizzes.attempts import finish_attempt, grade_essay, quiz_for, save_answers, start_attempt
from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.models import QuizAttempt

PASSWORD = "mat-khau-thu-nghiem"
UNITS_CSV = Path(__file__).resolve().parent.parent / "learnhub" / "orgs" / "data" / "bac-giang-2021.csv"
_counter = itertools.count(1)
_HASH: dict[str, str] = {}

# Default unit per role: officials in Thị trấn Vôi (Lạng Giang), committee province-wide.
DEFAULT_UNIT = {"official": "D217-01", "committee": "24", "trainer": None, "admin": None}


def _password_hash() -> str:
    if PASSWORD not in _HASH:  # Argon2id once per run, not once per user
        _HASH[PASSWORD] = hash_password(PASSWORD)
    return _HASH[PASSWORD]


def load_demo_units() -> dict[str, OrgUnit]:
    load_units_csv(UNITS_CSV.read_text(encoding="utf-8"))
    db.session.commit()
    return {u.code: u for u in db.session.scalars(select(OrgUnit))}


def unit(code: str) -> OrgUnit:
    found = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    assert found is not None, f"unit {code} not loaded"
    return found


def make_user(role: str = "official", unit_code: str | None = None, username: str | None = None,
              full_name: str | None = None, **fields) -> User:
    n = next(_counter)
    code = unit_code if unit_code is not None else DEFAULT_UNIT.get(role)
    user = User(username=username or f"{role}-{n}", full_name=full_name or f"Người dùng {n}",
                role=role, unit=unit(code) if code else None, password_hash=_password_hash(), **fields)
    db.session.add(user)
    db.session.commit()
    return user


# --- courses, lessons, quiz attempts -----------------------------------------
# The courses themselves come from the ``courses`` fixture (tests/fixtures synced).

def lessons_of(course: Course) -> list[Lesson]:
    """The course's lessons still in use, in reading order."""
    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))
                                   .order_by(Lesson.position, Lesson.id)))


def finish_lessons(user: User, course: Course) -> None:
    """The official marks every lesson of the course done."""
    for lesson in lessons_of(course):
        mark_lesson_done(user.id, lesson)
    db.session.commit()


def attempt(user: User, course: Course, answers: str | None = "right", seed: int | None = None) -> QuizAttempt:
    """One submitted attempt at the course's quiz.

    ``answers``: "right" (every answer right), "wrong" (every answer wrong) or None (submitted
    blank). Essays left for hand grading are then marked as a trainer would: full marks for
    right answers, none for wrong ones; blank attempts are left as they are.
    """
    taken = start_attempt(user.id, quiz_for(course), seed=seed)
    if answers is not None:
        assert answers in ("right", "wrong"), answers
        save_answers(taken.id, answer_form(taken, wrong=answers == "wrong"))
    finish_attempt(taken)
    if answers is not None:
        for answer in taken.answers:
            if answer.needs_grading:
                grade_essay(answer, 1.0 if answers == "right" else 0.0, "", user.id)
    db.session.commit()
    return taken


def pass_quiz(user: User, course: Course, seed: int | None = 1) -> QuizAttempt:
    """An attempt with every answer right (essays marked in full): the quiz is passed."""
    return attempt(user, course, "right", seed=seed)


def complete_course(user: User, course: Course, seed: int | None = 1) -> QuizAttempt:
    """Every lesson done and the quiz passed."""
    finish_lessons(user, course)
    return pass_quiz(user, course, seed=seed)


# --- programmes, sessions, certificates --------------------------------------

def make_programme(by: User, courses: list[Course], code: str = "iso-2021-xa",
                   title: str = "Tập huấn ISO 2021 — cấp xã", target_units: tuple[str, ...] = ("217",),
                   requires_attendance: bool = True, deadline=None, validity_months: int = 24,
                   issuer_name: str = "Ban Chỉ đạo ISO tỉnh Bắc Giang", description: str = "") -> TrainingProgramme:
    """A programme for Huyện Lạng Giang by default: its courses, attendance required, valid 24 months."""
    programme = create_programme(code=code, title=title, description=description, courses=courses,
                                 target_units=[unit(c) for c in target_units],
                                 requires_attendance=requires_attendance, deadline=deadline,
                                 validity_months=validity_months, issuer_name=issuer_name, by=by)
    db.session.commit()
    return programme


def make_session(programme: TrainingProgramme, trainer: User | None,
                 title: str = "Hội nghị tập huấn huyện Lạng Giang", unit_code: str = "217",
                 venue: str = "Hội trường UBND huyện", starts_at: datetime | None = None,
                 ends_at: datetime | None = None) -> TrainingSession:
    """A session of the programme; by default it began ten minutes ago and lasts three hours more."""
    now = utcnow()
    session = create_session(programme, title=title, unit=unit(unit_code), venue=venue,
                             starts_at=starts_at or now - timedelta(minutes=10),
                             ends_at=ends_at or now + timedelta(hours=3), trainer=trainer)
    db.session.commit()
    return session


def the_session(programme: TrainingProgramme) -> TrainingSession:
    """The programme's (first) session."""
    return db.session.scalar(select(TrainingSession).where(TrainingSession.programme_id == programme.id)
                             .order_by(TrainingSession.id))


def certified(programme: TrainingProgramme, unit_code: str = "D217-01", **fields) -> tuple[User, Certificate]:
    """An official marked present at the programme's session who completed its courses: (official, certificate)."""
    official = make_user("official", unit_code=unit_code, **fields)
    mark(the_session(programme), official, "present", by=None, source="roll_call")
    for course in programme.courses:
        complete_course(official, course)
    return official, active_certificate(official.id, programme.id)


_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
_MIDDLE = ("Văn", "Thị", "Đức", "Thu", "Minh", "Quang", "Thanh", "Hữu", "Ngọc", "Xuân")
_GIVEN = ("Hùng", "Lan", "Hương", "Dũng", "Thảo", "Tuấn", "Hà", "Sơn", "Hạnh", "Phúc", "Trang", "Đạt", "Yến")
_POSITIONS = ("Chủ tịch UBND", "Phó Chủ tịch UBND", "Văn phòng - Thống kê", "Tư pháp - Hộ tịch",
              "Địa chính - Xây dựng", "Tài chính - Kế toán", "Văn hóa - Xã hội")


def make_officials(count: int, unit_codes: list[str], **fields) -> list[User]:
    """``count`` officials with varied Vietnamese names, spread over ``unit_codes``, in one commit."""
    units = [unit(code) for code in unit_codes]
    users = []
    for i in range(count):
        n = next(_counter)
        name = f"{_SURNAMES[i % 12]} {_MIDDLE[(i // 12) % 10]} {_GIVEN[(i // 120 + i) % 13]}"
        users.append(User(username=f"cb-{n}", full_name=name, role="official", unit=units[i % len(units)],
                          position=_POSITIONS[i % len(_POSITIONS)], password_hash=_password_hash(), **fields))
    db.session.add_all(users)
    db.session.commit()
    return users
