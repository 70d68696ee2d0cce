"""`upgrade head` on an empty database gives exactly the models' schema."""
import os
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from learnhub import create_app
from learnhub.models import Base


def _fresh_database_url(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return "sqlite:///" + str(tmp_path / "migrations.db"), None
    from learnhub.config import normalise_database_url
    url = normalise_database_url(url)
    name = "lh_mig_" + uuid.uuid4().hex[:8]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}", (admin, name)


def test_upgrade_head_matches_models_and_downgrade_empties(tmp_path):
    url, cleanup = _fresh_database_url(tmp_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            from learnhub.extensions import db
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert diff == []
            assert set(inspect(db.engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_conference_migration_fills_folded_names_and_session_secrets(tmp_path):
    """Accounts and sessions that exist before the upgrade get their folded name and a secret each."""
    url, cleanup = _fresh_database_url(tmp_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            from learnhub.extensions import db
            upgrade(revision="16b9950411eb")
            now = "2026-11-30 08:00:00+00:00"
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO org_unit (id, code, name, level, kind, path, depth, is_active, created_at, "
                                  "updated_at) VALUES (1, '217', 'Lạng Giang', 'district', 'Huyện', '/1/', 0, true, "
                                  ":t, :t)"), {"t": now})
                for i, name in ((1, "Nguyễn  Văn ĐẠT"), (2, "Lê Thị Hoà")):
                    conn.execute(text("INSERT INTO user_account (id, username, full_name, password_hash, role, unit_id, "
                                      "position, email, phone, is_active, must_change_password, created_at, updated_at) "
                                      "VALUES (:i, :u, :n, '', 'official', 1, '', '', '', true, false, :t, :t)"),
                                 {"i": i, "u": f"cb-{i}", "n": name, "t": now})
                conn.execute(text("INSERT INTO training_programme (id, code, title, description, requires_attendance, "
                                  "validity_months, issuer_name, created_at) VALUES (1, 'p', 'P', '', true, 0, '', :t)"),
                             {"t": now})
                for i in (1, 2):
                    conn.execute(text("INSERT INTO training_session (id, programme_id, title, unit_id, venue, starts_at, "
                                      "ends_at, checkin_code, grace_minutes, created_at) VALUES (:i, 1, 'S', 1, '', :t, :t, "
                                      ":c, 30, :t)"), {"i": i, "c": f"CODE{i}", "t": now})
            upgrade()
            with db.engine.connect() as conn:
                keys = dict(conn.execute(text("SELECT id, name_key FROM user_account")).all())
                secrets = conn.execute(text("SELECT checkin_secret, rotate_seconds FROM training_session")).all()
            assert keys == {1: "nguyen van dat", 2: "le thi hoa"}
            assert len({s for s, _r in secrets}) == 2 and all(len(s) == 64 for s, _r in secrets)
            assert {r for _s, r in secrets} == {0}
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
