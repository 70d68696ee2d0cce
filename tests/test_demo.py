"""The demo tells its story: this year's programme, dates that agree, named certified and
revoked accounts, an official really part-way; running it again changes nothing."""
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learnhub.attendance.models import TrainingSession
from learnhub.auth.models import User
from learnhub.certificates.models import Certificate
from learnhub.config import VIETNAM_TZ
from learnhub.demo import seed_demo, seed_programme_demo
from learnhub.models_base import utcnow
from learnhub.programmes.models import TrainingProgramme
from learnhub.progress.rules import progress_by_course
from learnhub.quizzes.attempts import attempts_of, quiz_for

from . import factories

ROOT = Path(__file__).resolve().parent.parent


def _seed(db, now):
    seed_demo("mat-khau-demo", factories.UNITS_CSV.read_text(encoding="utf-8"))
    db.session.commit()
    message = seed_programme_demo(now)
    db.session.commit()
    return message


@pytest.mark.parametrize("now", [datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc),
                                 datetime(2027, 1, 10, 3, 0, tzinfo=timezone.utc)])
def test_demo_programme_is_this_years_and_its_dates_agree(db, courses, now):
    _seed(db, now)
    programme = db.session.scalar(select(TrainingProgramme))
    assert programme.code == f"iso-{now.year}-cap-xa" and str(now.year) in programme.title
    session = db.session.scalar(select(TrainingSession))
    local = lambda moment: moment.astimezone(VIETNAM_TZ).date()  # noqa: E731
    assert date(now.year, 1, 1) <= local(programme.created_at) <= local(session.starts_at)
    assert session.ends_at < now and programme.deadline == date(now.year, 12, 31)


def test_demo_accounts_tell_the_story_and_a_second_run_changes_nothing(db, courses):
    now = utcnow()  # certificates are issued and revoked at the real time: the story must agree with it
    _seed(db, now)
    session = db.session.scalar(select(TrainingSession))
    for cert in db.session.scalars(select(Certificate)):
        assert session.ends_at < cert.issued_at and (cert.revoked_at is None or cert.revoked_at >= cert.issued_at)
    users = {u.username: u for u in db.session.scalars(select(User).where(
        User.username.in_(["certified", "revoked", "official", "official2"])))}
    certs = {u: db.session.scalars(select(Certificate).where(Certificate.user_id == users[u].id)).all()
             for u in ("certified", "revoked")}
    assert len(certs["certified"]) == 1 and certs["certified"][0].revoked_at is None
    assert len(certs["revoked"]) == 1 and certs["revoked"][0].revoked_at is not None
    course = courses["iso-co-ban"]
    hoa = next(p for p in progress_by_course(users["official"].id) if p.course.id == course.id)
    assert hoa.done == hoa.total and not hoa.complete  # read through, quiz not passed
    assert [a.passed for a in attempts_of(users["official"].id, quiz_for(course))] == [False]
    assert next(p for p in progress_by_course(users["official2"].id)).done == 0
    counts = (db.session.scalar(select(func.count()).select_from(User)),
              db.session.scalar(select(func.count()).select_from(Certificate)))
    assert "already present" in _seed(db, now)
    assert counts == (db.session.scalar(select(func.count()).select_from(User)),
                      db.session.scalar(select(func.count()).select_from(Certificate)))


def test_login_hint_and_readme_name_the_certified_and_revoked_accounts(app, client, units):
    app.config["DEMO_MODE"] = True
    try:
        page = client.get("/login").get_data(as_text=True)
    finally:
        app.config["DEMO_MODE"] = False
    assert "<code>certified</code>" in page and "<code>revoked</code>" in page
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`certified`" in readme and "`revoked`" in readme


def test_readme_links_work_from_a_fresh_clone():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # Examples in code (``` blocks and `spans`) are not links of the README's own.
    readme = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", readme, flags=re.S))
    for target in re.findall(r"\]\(([^)#\s]+)", readme):
        if "://" not in target:
            assert (ROOT / target).exists(), target
