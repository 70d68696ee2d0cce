"""Committee completion report over a national-scale population, on PostgreSQL.

Run: .venv/bin/python bench/reports.py [officials]
Needs the machine's PostgreSQL (BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/learnhub_bench; the database is
created if missing and emptied first). Target (DEVELOPERS.md): the report over
200,000 officials in about a tenth of a second. Printed beside it, measured in
the same run: a plain count of those officials, the cheapest query such a report
could possibly be.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OFFICIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/learnhub_bench")


def ensure_database() -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(URL)
    admin = url.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{url.database}"')


def populate(db) -> None:
    """Province → 10 districts → 20 communes each; officials spread over them; progress
    and passed quizzes for a share of them, all in SQL."""
    from sqlalchemy import text
    sql = [
        "INSERT INTO org_unit (code, name, level, kind, path, depth, is_active, created_at, updated_at)"
        " VALUES ('P', 'Tỉnh', 'province', 'Tỉnh', '', 0, true, now(), now())",
        "UPDATE org_unit SET path = '/' || id || '/' WHERE code = 'P'",
        "INSERT INTO org_unit (code, name, level, kind, parent_id, path, depth, is_active, created_at, updated_at)"
        " SELECT 'D' || d, 'Huyện ' || d, 'district', 'Huyện', p.id, '', 1, true, now(), now()"
        " FROM generate_series(1, 10) d, org_unit p WHERE p.code = 'P'",
        "UPDATE org_unit u SET path = p.path || u.id || '/' FROM org_unit p WHERE u.parent_id = p.id AND u.level = 'district'",
        "INSERT INTO org_unit (code, name, level, kind, parent_id, path, depth, is_active, created_at, updated_at)"
        " SELECT d.code || '-' || c, 'Xã ' || d.code || '-' || c, 'commune', 'Xã', d.id, '', 2, true, now(), now()"
        " FROM generate_series(1, 20) c, org_unit d WHERE d.level = 'district'",
        "UPDATE org_unit u SET path = p.path || u.id || '/' FROM org_unit p WHERE u.parent_id = p.id AND u.level = 'commune'",
        "INSERT INTO user_account (username, full_name, password_hash, role, unit_id, position, email, phone,"
        " is_active, must_change_password, created_at, updated_at)"
        " SELECT 'cb' || i, 'Cán bộ ' || i, '', 'official', c.id, '', '', '', true, false, now(), now()"
        " FROM generate_series(1, :n) i"
        " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM org_unit WHERE level = 'commune') c"
        "   ON c.k = i % 200",
        # Each official has finished (id % 9) lessons of every course, in course order.
        "INSERT INTO lesson_progress (user_id, lesson_id, completed_at)"
        " SELECT u.id, l.id, now() FROM user_account u"
        " JOIN (SELECT id, course_id, row_number() OVER (PARTITION BY course_id ORDER BY position, slug) AS r"
        "       FROM lesson WHERE retired_at IS NULL) l ON l.r <= u.id % 9"
        " WHERE u.role = 'official' AND l.course_id = (SELECT min(id) FROM course) + u.id % 3",
        # Those who finished every lesson passed the quiz.
        "INSERT INTO quiz_attempt (user_id, quiz_id, number, state, started_at, submitted_at, graded_at,"
        " score, max_score, percent, passed, pass_percent, review)"
        " SELECT u.id, q.id, 1, 'graded', now(), now(), now(), 10, 10, 100, true, 70, 'after_attempt'"
        " FROM user_account u JOIN quiz q ON q.course_id = (SELECT min(id) FROM course) + u.id % 3"
        " WHERE u.role = 'official' AND u.id % 9 = 8",
        "ANALYZE",
    ]
    for statement in sql:
        db.session.execute(text(statement), {"n": OFFICIALS})
    db.session.commit()


def timed(fn, repeats: int = 15) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    ensure_database()
    os.environ["DATABASE_URL"] = URL
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from learnhub import create_app
    from learnhub.auth.models import User
    from learnhub.progress.rules import refresh_completions
    from learnhub.materials.sync import sync_content
    from learnhub.extensions import db
    from learnhub.reports.services import completion_by_unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": URL})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
        db.session.commit()
        began = time.perf_counter()
        populate(db)
        print(f"populated {OFFICIALS} officials in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        added, _ = refresh_completions()  # what `learnhub sync` does after an upgrade
        db.session.commit()
        print(f"stored {added} course completions in {time.perf_counter() - began:.1f} s (a full refresh)")
        admin = User(username="bench-admin", full_name="Admin", role="admin")
        db.session.add(admin)
        db.session.commit()
        district = db.session.scalar(select(User.unit_id).where(User.role == "official").limit(1))

        def count():
            db.session.scalar(select(func.count()).select_from(User).where(User.role == "official"))

        def report():
            result = completion_by_unit(admin)
            assert result.total.officials == OFFICIALS

        base = timed(count)
        full = timed(report)
        progress_rows = db.session.scalar(text("SELECT count(*) FROM lesson_progress"))
    print(f"lesson progress rows: {progress_rows}; unit of a sample official: {district}")
    print(f"count of officials:           {base * 1000:8.1f} ms")
    print(f"completion report (province): {full * 1000:8.1f} ms  ({full / base:.1f}× the count; target ≈ 100 ms)")


if __name__ == "__main__":
    main()
