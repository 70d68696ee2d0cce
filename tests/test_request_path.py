"""The lean request path (issue 13): what it keeps between requests must never show one
learner another's page, let an expired cookie in, or let a forged form through."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from learnhub import create_app, reads
from learnhub.auth.current import _statement as account_statement
from learnhub.catalog.models import Lesson, LessonProgress
from learnhub.catalog.services import lesson_page
from learnhub.extensions import db as _db

from . import factories

LESSON = "/courses/iso-co-ban/he-thong-la-gi"
SLOT = re.compile(r"slot[0-9a-f]{24}|csrf[0-9a-f]{24}|path[0-9a-f]{24}")
TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def test_every_slot_of_a_cached_lesson_page_is_filled(client, courses, login_as):
    login_as("official", username="le.van.c")
    client.post(LESSON + "/done")
    for _ in range(2):  # rendered, then from the cache
        html = client.get(LESSON).get_data(as_text=True)
        assert not SLOT.search(html)
        assert "(le.van.c)" in html and "Đã học xong ngày" in html


def test_a_trainer_and_an_official_on_the_same_lesson_get_their_own_menus(client, courses, login_as):
    login_as("official", username="hoc.vien")
    official = client.get(LESSON).get_data(as_text=True)
    client.post("/logout")
    login_as("trainer", username="giang.vien")
    trainer = client.get(LESSON).get_data(as_text=True)
    assert "Chấm bài" in trainer and "Chấm bài" not in official
    assert "(giang.vien)" in trainer and "hoc.vien" not in trainer
    assert "Chứng nhận" in official and "(hoc.vien)" in official


def test_a_flashed_message_shows_once_on_the_lesson_page(client, courses, login_as):
    login_as("official")
    response = client.post(LESSON + "/done", follow_redirects=True)
    assert "Đã đánh dấu bài học là đã học xong" in response.get_data(as_text=True)
    again = client.get(LESSON).get_data(as_text=True)
    assert "Đã đánh dấu bài học là đã học xong" not in again and "Đã học xong ngày" in again


def test_a_session_cookie_past_its_lifetime_is_refused_though_seen_before(app, client, courses, login_as,
                                                                          monkeypatch):
    login_as("official")
    assert client.get(LESSON).status_code == 200  # the cookie's check is now remembered
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=1))
    time.sleep(2.2)
    response = client.get(LESSON)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_tampered_session_cookie_is_refused(client, courses, login_as):
    login_as("official")
    cookie = client.get_cookie("session").value
    client.set_cookie("session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    response = client.get(LESSON)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_forms_token_is_signed_once_per_session_and_still_checked(app, units, courses):
    guarded = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    user = factories.make_user("official", username="co.token")
    other = factories.make_user("official", username="khac.token")

    def logged_in(username):
        client = guarded.test_client()
        token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
        response = client.post("/login", data={"username": username, "password": factories.PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302
        return client

    mine, theirs = logged_in(user.username), logged_in(other.username)
    first = TOKEN.search(mine.get(LESSON).get_data(as_text=True)).group(1)
    second = TOKEN.search(mine.get(LESSON).get_data(as_text=True)).group(1)
    assert first == second
    foreign = TOKEN.search(theirs.get(LESSON).get_data(as_text=True)).group(1)
    assert foreign != first
    assert mine.post(LESSON + "/done", data={"csrf_token": foreign}).status_code == 400
    assert mine.post(LESSON + "/done", data={"csrf_token": "forged"}).status_code == 400
    assert mine.post(LESSON + "/done", data={"csrf_token": first}).status_code == 302
    with guarded.app_context():
        done = _db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == user.id))
        assert done is not None


def test_reads_see_what_the_request_has_written_and_convert_types(app, db, units, courses):
    user = factories.make_user("official", username="doc.nhanh")
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "he-thong-la-gi"))
    with app.test_request_context():
        assert lesson_page("iso-co-ban", "he-thong-la-gi", user.id).completed_at is None
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, lesson_version=lesson.version,
                                      completed_at=datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)))
        db.session.flush()  # not committed: only this request's transaction holds it
        page = lesson_page("iso-co-ban", "he-thong-la-gi", user.id)
        assert isinstance(page.completed_at, datetime) and page.completed_at.day == 3
        db.session.rollback()
        reads.release()


def test_reads_outside_a_transaction_use_one_pooled_connection_per_request(app, db, units):
    user_id = factories.make_user("official", username="mot.ket.noi").id
    db.session.remove()
    with app.test_request_context():
        pool = _db.engine.pool
        before = pool.checkedout()
        row = reads.first(account_statement(), {"id": user_id})
        assert row.username == "mot.ket.noi" and row.role == "official"
        assert reads.first(account_statement(), {"id": user_id + 999}) is None
        assert pool.checkedout() == before + 1
    assert pool.checkedout() == before  # given back when the request ended


def test_the_glossary_is_one_cached_page_with_the_readers_own_header(client, courses, login_as):
    login_as("official", username="tra.tu")
    for _ in range(2):
        html = client.get("/glossary").get_data(as_text=True)
        assert "(tra.tu)" in html and "<h1" in html and not SLOT.search(html)
    client.post("/logout")
    login_as("committee", username="ban.chi.dao")
    html = client.get("/glossary").get_data(as_text=True)
    assert "(ban.chi.dao)" in html and "tra.tu" not in html and "Bảng theo dõi" in html
