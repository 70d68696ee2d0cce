"""The dashboard's hand-computed fixture, for its page and browser tests."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from learnhub.attendance.services import create_session, mark
from learnhub.audit.services import chain_head
from learnhub.catalog.models import Lesson
from learnhub.config import VIETNAM_TZ
from learnhub.catalog.services import course_by_slug, mark_lesson_done
from learnhub.certificates.services import active_certificate, revoke
from learnhub.materials.sync import sync_content
from learnhub.models_base import utcnow
from learnhub.orgs.services import load_units_csv
from learnhub.programmes.services import create_programme
from learnhub.quizzes.attempts import finish_attempt, grade_essay, quiz_for, save_answers, start_attempt
from learnhub.quizzes.autofill import answer_form

from . import factories


def take_course(db, user, trainer, right=True, seed=1):
    course = course_by_slug("iso-co-ban")
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)):
        mark_lesson_done(user.id, lesson)
    attempt = start_attempt(user.id, quiz_for(course), seed=seed)
    save_answers(attempt.id, answer_form(attempt, wrong=not right))
    finish_attempt(attempt)
    for answer in attempt.answers:
        if answer.needs_grading:
            grade_essay(answer, 1.0 if right else 0.0, "", trainer.id)
    db.session.commit()


@pytest.fixture
def course(app, db, units):
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    return course_by_slug("iso-co-ban")


@pytest.fixture
def programme(db, course):
    trainer = factories.make_user("trainer", username="giangvien")
    p = create_programme(code="iso-2021-xa", title="Tập huấn ISO 2021 — cấp xã", description="",
                         courses=[course], target_units=[factories.unit("24")], requires_attendance=True,
                         deadline=None, validity_months=24, issuer_name="BCĐ ISO tỉnh Bắc Giang", by=trainer)
    db.session.commit()
    return p


@pytest.fixture
def fixture(db, programme):
    """Six officials, by hand:

    Lạng Giang (217) — Thị trấn Vôi: A present and certified; B late, certified then revoked;
    C absent, every lesson done but every quiz answer wrong. Thị trấn Kép: D excused, nothing done.
    TP Bắc Giang (213) — Phường Trần Phú: E present and certified, the certificate since expired;
    F absent, nothing done.
    """
    trainer = db.session.scalar(select(factories.User).where(factories.User.username == "giangvien"))
    now = utcnow()
    s1 = create_session(programme, title="Hội nghị Lạng Giang", unit=factories.unit("217"), venue="Hội trường",
                        starts_at=now - timedelta(days=20), ends_at=now - timedelta(days=20, hours=-4),
                        trainer=trainer)
    s2 = create_session(programme, title="Hội nghị TP Bắc Giang", unit=factories.unit("213"), venue="Hội trường",
                        starts_at=now - timedelta(days=13), ends_at=now - timedelta(days=13, hours=-4),
                        trainer=trainer)
    people = {}
    for key, code, name in (("A", "D217-01", "An Văn A"), ("B", "D217-01", "Bình Thị B"),
                            ("C", "D217-01", "Cường Văn C"), ("D", "D217-02", "Dung Thị D"),
                            ("E", "D213-01", "Em Văn E"), ("F", "D213-01", "Phúc Thị F")):
        people[key] = factories.make_user("official", unit_code=code, full_name=name, username=f"cb-{key.lower()}")
    for key, session, status in (("A", s1, "present"), ("B", s1, "late"), ("C", s1, "absent"),
                                 ("D", s1, "excused"), ("E", s2, "present"), ("F", s2, "absent")):
        mark(session, people[key], status, by=trainer, source="roll_call")
    db.session.commit()
    for key, right in (("A", True), ("B", True), ("C", False), ("E", True)):
        take_course(db, people[key], trainer, right=right, seed=ord(key))
    admin = factories.make_user("admin")
    revoke(active_certificate(people["B"].id, programme.id), admin, "Cấp nhầm.")
    active_certificate(people["E"].id, programme.id).expires_at = now - timedelta(days=1)
    db.session.commit()
    return people


def page_text(response) -> str:
    html = re.sub(r"<svg.*?</svg>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_of(text: str, label: str) -> str:
    """The text of a table row from its label to the end of the row."""
    match = re.search(re.escape(label) + r" ((?:[\d—%()]+ ?)+)", text)
    assert match, f"no row {label}"
    return match.group(1).strip()


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
