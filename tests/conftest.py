"""Fixtures: app on SQLite (default) or TEST_DATABASE_URL, a clean database per test,
logged-in clients, and a live server with headless Chromium for browser tests."""
from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from learnhub import create_app
from learnhub.catalog.models import Course
from learnhub.config import TestConfig, normalise_database_url
from learnhub.extensions import db as _db
from learnhub.materials.sync import sync_content
from learnhub.models import Base

from . import factories

REQUIRE_BROWSER = os.environ.get("LEARNHUB_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("LEARNHUB_CHROMIUM", "/usr/bin/chromium")


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def reset_schema(engine) -> None:
    """Empty database, then the schema exactly as the migrations build it."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    url = database_url(tmp_path_factory)
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=str(instance),
                  COURSES_DIR=str(Path(__file__).parent / "fixtures" / "courses"),
                  QUIZZES_DIR=str(Path(__file__).parent / "fixtures" / "quizzes"))
    app = create_app(config)
    with app.app_context():
        reset_schema(_db.engine)
        from flask_migrate import upgrade
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts from empty tables (the schema stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from flask import has_app_context
    if has_app_context():
        _db.session.remove()  # the test's own session: an open transaction would block TRUNCATE
    with app.app_context():
        _db.session.remove()
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if _db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def units(app):
    """Bắc Giang's demo tree: province 24, districts, a few communes each."""
    return factories.load_demo_units()


@pytest.fixture
def courses(app, db) -> dict[str, Course]:
    """The fixture courses and their quiz banks (tests/fixtures), synced: {slug: Course}."""
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    return {c.slug: c for c in db.session.scalars(select(Course))}


@pytest.fixture
def programme(db, units, courses):
    """Lạng Giang's ISO programme (course iso-co-ban, attendance required, valid 24 months),
    created by trainer ``giangvien``, with one session under way."""
    trainer = factories.make_user("trainer", username="giangvien")
    created = factories.make_programme(trainer, [courses["iso-co-ban"]])
    factories.make_session(created, trainer)
    return created


@pytest.fixture
def login_as(app, client, units):
    """login_as('official') → the User, with ``client`` logged in as them."""
    def login(role: str = "official", unit_code: str | None = None, **kwargs):
        user = factories.make_user(role=role, unit_code=unit_code, **kwargs)
        response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
        assert response.status_code == 302, "login failed"
        return user
    return login


# --- live server and browser ----------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_url(app):
    from werkzeug.serving import make_server

    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="session")
def _browser():
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (install Debian's chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(_browser):
    """A phone-sized page (360×740), the size most officials read on."""
    context = _browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page
    context.close()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if REQUIRE_BROWSER and skipped:
        terminalreporter.write_line(
            f"FAILED: {len(skipped)} tests were skipped, but LEARNHUB_REQUIRE_BROWSER=1 forbids skips.", red=True)
        config._learnhub_forbidden_skips = True


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_BROWSER and session.config.pluginmanager.get_plugin("terminalreporter"):
        skipped = session.config.pluginmanager.get_plugin("terminalreporter").stats.get("skipped", [])
        if skipped and session.exitstatus == 0:
            session.exitstatus = 1
