"""The dashboard's stored counts (reports.tally) never drift: after any series of events, each
committed by itself as a request would, they equal a count made afresh from the sources, and
the page built from them shows what counting afresh shows."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.attendance.models import TrainingSession
from learnhub.attendance.services import create_session, mark
from learnhub.auth.models import User
from learnhub.catalog.models import Lesson
from learnhub.catalog.services import mark_lesson_done
from learnhub.certificates.services import active_certificate, revoke
from learnhub.models_base import utcnow
from learnhub.orgs.models import OrgUnit
from learnhub.orgs.services import move_unit
from learnhub.programmes.services import create_programme
from learnhub.admin.services import merge_units
from learnhub.quizzes.attempts import quiz_for
from learnhub.quizzes.settings import change_settings
from learnhub.reports import tally
from learnhub.reports.figures import counts_by_unit, daily_progress, required_courses, sessions_attendance
from learnhub.reports.models import ReportTally

from . import factories
from .dashboard_world import course, fixture, programme, take_course  # noqa: F401 (fixtures)

COMMUNES = ("D217-01", "D217-02", "D213-01")


def stored(db, programme) -> set[tuple]:
    return {(r.unit_id, r.kind, r.ref, r.n) for r in db.session.scalars(
        select(ReportTally).where(ReportTally.programme_id == programme.id))}


def afresh(programme) -> set[tuple]:
    return {(r["unit_id"], r["kind"], r["ref"], r["n"]) for r in tally.count_rows(programme)}


def assert_in_step(db, programme, now=None):
    db.session.expire_all()
    assert stored(db, programme) == afresh(programme)
    # And what a page reads from them is what the page counted before the rows were stored.
    now = now or utcnow()
    courses, quiz_courses = required_courses(programme)
    for unit in (None, factories.unit("217"), factories.unit("D217-01")):
        per_unit, marks, daily = tally.stored_figures(None, programme, unit, courses, quiz_courses, now)
        live = counts_by_unit(None, programme, unit, courses, quiz_courses, now)
        assert sorted((u, p, vars(c)) for u, p, c in per_unit) == sorted((u, p, vars(c)) for u, p, c in live)
        assert marks == {s.session_id: s.marks for s in sessions_attendance(None, programme, unit)}
        live_daily = daily_progress(None, programme, unit, courses)
        assert daily == {k: sorted(v) for k, v in live_daily.items()}


def test_the_fixture_is_counted_and_stored(db, fixture, programme):
    assert tally.is_counted(programme)
    rows = stored(db, programme)
    vôi = factories.unit("D217-01").id
    assert (vôi, "enrolled", 0, 3) in rows and (vôi, "revoked", 0, 1) in rows
    assert sum(n for unit_id, kind, _day, n in rows if (unit_id, kind) == (vôi, "holding")) == 1
    assert_in_step(db, programme)


@pytest.mark.parametrize("expires_in", [timedelta(minutes=-1), timedelta(minutes=1), timedelta(hours=-20),
                                        timedelta(hours=20), timedelta(days=-400), None])
def test_expiry_is_read_at_the_moment_of_reading(db, fixture, programme, expires_in):
    """Stored by the day a certificate expires; a page at any moment shows what counting then shows."""
    certificate = active_certificate(fixture["A"].id, programme.id)
    certificate.expires_at = utcnow() + expires_in if expires_in is not None else None
    db.session.commit()
    for later in (timedelta(0), timedelta(hours=5), timedelta(days=1), timedelta(days=800)):
        assert_in_step(db, programme, utcnow() + later)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_events_leave_the_stored_counts_equal_to_a_recount(db, fixture, programme, course, seed):
    rng = random.Random(seed)
    trainer = db.session.scalar(select(User).where(User.username == "giangvien"))
    admin = factories.make_user("admin")
    db.session.commit()
    # A second programme over one district only: events elsewhere must leave it right too.
    other = create_programme(code="iso-tp", title="Tập huấn ISO — TP Bắc Giang", description="", courses=[course],
                             target_units=[factories.unit("213")], requires_attendance=False, deadline=None,
                             validity_months=12, issuer_name="BCĐ", by=trainer)
    db.session.commit()
    lessons = list(db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)))
    sessions = list(db.session.scalars(select(TrainingSession).where(TrainingSession.programme_id == programme.id)))

    def officials():
        return list(db.session.scalars(select(User).where(User.role == "official").order_by(User.id)))

    def event(kind):
        people = officials()
        person = rng.choice(people)
        if kind == "new official":
            factories.make_user("official", unit_code=rng.choice(COMMUNES))
        elif kind == "lesson":
            mark_lesson_done(person.id, rng.choice(lessons))
        elif kind == "course":
            take_course(db, person, trainer, right=rng.random() < 0.7, seed=rng.randrange(1000))
        elif kind == "attendance":
            session = rng.choice(sessions)
            if person.unit.path.startswith(session.unit.path):
                mark(session, person, rng.choice(["present", "late", "excused", "absent"]), by=trainer,
                     source="roll_call")
        elif kind == "revoke":
            cert = active_certificate(person.id, programme.id)
            if cert is not None:
                revoke(cert, admin, "Kiểm tra.")
        elif kind == "expire":
            cert = active_certificate(person.id, programme.id)
            if cert is not None:
                cert.expires_at = utcnow() - timedelta(days=rng.randrange(1, 30))
        elif kind == "move official":
            person.unit = factories.unit(rng.choice(COMMUNES + ("24",)))
        elif kind == "deactivate":
            person.is_active_account = not person.is_active_account
        elif kind == "role":
            person.role = "trainer"
        elif kind == "quiz settings":
            change_settings(quiz_for(course), {"pass_percent": rng.choice([50.0, 70.0, 90.0])}, trainer.id)
        elif kind == "new session":
            sessions.append(create_session(programme, title="Buổi bổ sung", unit=factories.unit("213"),
                                           venue="Hội trường", starts_at=utcnow() - timedelta(days=3),
                                           ends_at=utcnow() - timedelta(days=3, hours=-3), trainer=trainer))
        elif kind == "target units":
            programme.target_units = [factories.unit("24")] if rng.random() < 0.5 else [factories.unit("217")]
        elif kind == "move unit":
            commune = factories.unit("D217-02")
            move_unit(commune, factories.unit("213") if commune.parent.code == "217" else factories.unit("217"))
        db.session.commit()

    kinds = ["new official", "lesson", "course", "course", "attendance", "attendance", "revoke", "expire",
             "move official", "deactivate", "role", "quiz settings", "new session", "target units", "move unit"]
    for step in range(24):
        event(rng.choice(kinds))
        if step % 6 == 5:
            assert_in_step(db, programme)
            assert_in_step(db, other)
    assert_in_step(db, programme)
    assert_in_step(db, other)
    assert stored(db, other)


def test_a_merge_of_units_moves_the_counts(db, fixture, programme):
    merge_units(factories.unit("D217-02"), factories.unit("D217-01"))
    db.session.commit()
    assert_in_step(db, programme)
    rows = stored(db, programme)
    assert (factories.unit("D217-01").id, "enrolled", 0, 4) in rows
    assert not [r for r in rows if r[0] == factories.unit("D217-02").id]


def test_a_rolled_back_change_leaves_the_counts(db, fixture, programme):
    before = stored(db, programme)
    person = db.session.scalar(select(User).where(User.username == "cb-d"))
    person.unit = factories.unit("D213-01")
    db.session.flush()
    db.session.rollback()
    factories.make_user("admin")
    db.session.commit()
    assert stored(db, programme) == before
    assert_in_step(db, programme)


def test_recount_command_and_uncounted_programmes(app, db, fixture, programme):
    from learnhub.reports.models import ReportTallyState

    db.session.query(ReportTally).delete()
    db.session.query(ReportTallyState).delete()
    db.session.commit()
    assert not tally.is_counted(programme)
    result = app.test_cli_runner().invoke(args=["learnhub", "recount-reports", "--programme", programme.code])
    assert result.exit_code == 0, result.output
    assert "Counted programme iso-2021-xa" in result.output
    assert tally.is_counted(programme)
    assert_in_step(db, programme)
    result = app.test_cli_runner().invoke(args=["learnhub", "recount-reports", "--programme", "nope"])
    assert result.exit_code == 1


def test_an_unchanged_sync_counts_programmes_never_counted(app, db, fixture, programme):
    from learnhub.materials.sync import sync_content
    from learnhub.reports.models import ReportTallyState

    db.session.query(ReportTally).delete()
    db.session.query(ReportTallyState).delete()
    db.session.commit()
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    assert tally.is_counted(programme)
    assert_in_step(db, programme)


def test_the_page_reads_few_rows_not_officials(db, fixture, programme, client, login_as):
    """The province page of the fixture comes from the stored rows: with the sources of a
    figure changed behind the app's back (as only SQL could), the page still shows the stored
    figure until the programme is counted again."""
    from learnhub.certificates.models import Certificate
    from sqlalchemy import update

    login_as("committee", unit_code="24")
    db.session.execute(update(Certificate).values(revoked_at=None))  # around the app: not seen
    db.session.commit()
    from .dashboard_world import page_text, row_of
    assert row_of(page_text(client.get("/reports/")), "Tổng cộng") == "6 3 (50%) 3 (50%) 3 (50%) 1 (17%) 1 1 5 (83%)"
    tally.recount(programme)
    db.session.commit()
    assert row_of(page_text(client.get("/reports/")), "Tổng cộng") == "6 3 (50%) 3 (50%) 3 (50%) 2 (33%) 0 1 4 (67%)"


def test_the_app_keeps_the_counts_without_anyone_importing_them():
    """An app server or a command that never opened the dashboard keeps the counts too."""
    import subprocess
    import sys

    code = ("import sys; from learnhub import create_app; create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); "
            "print('learnhub.reports.tally' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("True")
