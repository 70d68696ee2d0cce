"""The committee's dashboard over a country-scale population, on PostgreSQL, through gunicorn.

Run: .venv/bin/python bench/reports.py [officials] [seconds]   (default 200000, 30)
With BENCH_REUSE=1 it measures the database the previous run filled (upgraded first);
BENCH_MEMO=60 also measures with each server's memo of the aggregates on.
Needs the machine's PostgreSQL (BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/learnhub_bench_reports; created if missing,
emptied first) and wrk (/usr/bin/wrk). Fills a province of 10 districts and 200 communes with
that many officials enrolled in one programme (attendance, lessons, graded attempts with
answers, certificates valid, expired and revoked), serves the app with gunicorn
(2 workers, 4 threads), logs in as a province-wide committee member, and prints wrk's
latency (p50/p90/p95/p99) of the province page and of the one-page PDF, with the CPU the
gunicorn workers spent per response, then the same page built in process: wall and SQL
milliseconds per page (median of 20). Target for the page: p95 of 100 ms or less, with the
memo off (several app servers).

The rows are written with SQL, around the app, so the dashboard's stored counts are made by
``learnhub.reports.tally.recount`` afterwards, as ``flask learnhub recount-reports`` does.
"""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port  # noqa: E402

OFFICIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
URL = os.environ.get("BENCH_DATABASE_URL",
                     "postgresql+psycopg://postgres@127.0.0.1:5432/learnhub_bench_reports")
PASSWORD = "bench-password"
WRK = os.environ.get("WRK", "/usr/bin/wrk")

# wrk's --latency table stops at 50/75/90/99: the script adds the 95th percentile.
PERCENTILES_LUA = """
done = function(summary, latency, requests)
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("p%d_ms %.1f\\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("requests %d errors %d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def ensure_database() -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(URL)
    admin = url.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{url.database}"')


FILL = [
    # Units: province P → 10 districts → 20 communes each.
    "INSERT INTO org_unit (code, name, level, kind, path, depth, is_active, created_at, updated_at)"
    " VALUES ('P', 'Bench', 'province', 'Tỉnh', '', 0, true, now(), now())",
    "UPDATE org_unit SET path = '/' || id || '/' WHERE code = 'P'",
    "INSERT INTO org_unit (code, name, level, kind, parent_id, path, depth, is_active, created_at, updated_at)"
    " SELECT 'D' || d, 'Huyện ' || d, 'district', 'Huyện', p.id, '', 1, true, now(), now()"
    " FROM generate_series(1, 10) d, org_unit p WHERE p.code = 'P'",
    "UPDATE org_unit u SET path = p.path || u.id || '/' FROM org_unit p WHERE u.parent_id = p.id AND u.level = 'district'",
    "INSERT INTO org_unit (code, name, level, kind, parent_id, path, depth, is_active, created_at, updated_at)"
    " SELECT d.code || '-' || c, 'Xã ' || d.code || '-' || c, 'commune', 'Xã', d.id, '', 2, true, now(), now()"
    " FROM generate_series(1, 20) c, org_unit d WHERE d.level = 'district'",
    "UPDATE org_unit u SET path = p.path || u.id || '/' FROM org_unit p WHERE u.parent_id = p.id AND u.level = 'commune'",
    # Officials, spread evenly over the communes.
    "INSERT INTO user_account (username, full_name, password_hash, role, unit_id, position, email, phone,"
    " is_active, must_change_password, session_token, name_key, created_at, updated_at)"
    " SELECT 'cb' || i, 'Cán bộ ' || i, '', 'official', c.id, '', '', '', true, false, md5(i::text), 'can bo ' || i, now(), now()"
    " FROM generate_series(1, :n) i"
    " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM org_unit WHERE level = 'commune') c"
    "   ON c.k = i % 200",
    # The programme: every course, the whole province, a deadline in two months.
    "INSERT INTO training_programme (code, title, description, requires_attendance, deadline, validity_months,"
    " issuer_name, created_at) VALUES ('bench', 'Tập huấn ISO (bench)', '', true, current_date + 60, 24, '', now())",
    "INSERT INTO programme_course (programme_id, course_id) SELECT p.id, c.id FROM training_programme p, course c",
    "INSERT INTO programme_unit (programme_id, unit_id) SELECT p.id, u.id FROM training_programme p, org_unit u"
    " WHERE u.code = 'P'",
    # One conference session per district, eight weeks ago.
    "INSERT INTO training_session (programme_id, title, unit_id, venue, starts_at, ends_at, checkin_code,"
    " grace_minutes, checkin_secret, rotate_seconds, created_at)"
    " SELECT p.id, 'Hội nghị ' || d.name, d.id, '', now() - interval '56 days', now() - interval '56 days'"
    " + interval '4 hours', 'B' || d.id, 30, md5('s' || d.id), 0, now() FROM training_programme p, org_unit d WHERE d.level = 'district'",
    # Nine in ten officials marked: present, late, excused, absent.
    "INSERT INTO attendance_record (session_id, user_id, status, source, note, recorded_at)"
    " SELECT s.id, u.id, (ARRAY['present', 'present', 'late', 'excused', 'absent'])[u.id % 5 + 1], 'roll_call', '',"
    " now() - interval '56 days'"
    " FROM user_account u JOIN org_unit c ON c.id = u.unit_id JOIN training_session s ON s.unit_id = c.parent_id"
    " WHERE u.role = 'official' AND u.id % 10 <> 0",
    # Lessons: one official in four has finished every course; the others part of one.
    "INSERT INTO lesson_progress (user_id, lesson_id, completed_at)"
    " SELECT u.id, l.id, now() - (u.id % 50) * interval '1 day' FROM user_account u"
    " JOIN (SELECT id, course_id, row_number() OVER (PARTITION BY course_id ORDER BY position, slug) AS r"
    "       FROM lesson WHERE retired_at IS NULL) l"
    "   ON (u.id % 4 = 0) OR (l.r <= u.id % 9 AND l.course_id = (SELECT min(id) FROM course) + u.id % 3)"
    " WHERE u.role = 'official'",
    # A graded attempt at each course whose lessons are all done; one in seven of them failed.
    "INSERT INTO quiz_attempt (user_id, quiz_id, number, state, started_at, submitted_at, graded_at,"
    " score, max_score, percent, passed, pass_percent, review)"
    " SELECT u.id, q.id, 1, 'graded', now(), now(), now(), 6, 10, (CASE WHEN u.id % 7 = 0 THEN 50 ELSE 90 END),"
    " u.id % 7 <> 0, 70, 'after_attempt'"
    " FROM user_account u JOIN quiz q ON true WHERE u.role = 'official' AND u.id % 4 = 0",
    # Six answers an attempt; how often each is right depends on the question and the commune.
    "INSERT INTO attempt_answer (attempt_id, slot, question_id, \"order\", fraction, needs_grading, grader_comment)"
    " SELECT a.id, qq.r, qq.id, '[]', CASE WHEN (qq.id * 7 + u.unit_id) % 10 < 3 THEN 0.0 ELSE 1.0 END, false, ''"
    " FROM quiz_attempt a JOIN quiz q ON q.id = a.quiz_id JOIN user_account u ON u.id = a.user_id"
    " JOIN (SELECT id, course_id, row_number() OVER (PARTITION BY course_id ORDER BY id) AS r FROM question"
    "       WHERE retired_at IS NULL) qq ON qq.course_id = q.course_id AND qq.r <= 6",
]

CERTIFY = [
    "UPDATE course_completion SET completed_at = now() - (user_id % 50) * interval '1 day'",
    # Certificates for those who met the rule, issued over the weeks; some expired, some revoked.
    "INSERT INTO certificate (code, user_id, programme_id, issued_at, expires_at, revoked_at, revoke_reason,"
    " override_reason, badge_salt, snapshot)"
    " SELECT 'BENCH' || u.id, u.id, p.id, now() - (u.id % 50) * interval '1 day',"
    " CASE WHEN u.id % 36 = 0 THEN now() - interval '1 day' END,"
    " CASE WHEN u.id % 44 = 0 THEN now() END, '', '', md5(u.id::text), '{}'"
    " FROM user_account u, training_programme p"
    " WHERE u.role = 'official' AND u.id % 4 = 0 AND u.id % 7 <> 0 AND u.id % 10 <> 0"
    "   AND u.id % 5 NOT IN (3, 4)",
    "ANALYZE",
]


def populate(app) -> None:
    from sqlalchemy import text
    from werkzeug.security import generate_password_hash

    from learnhub.auth.models import User
    from learnhub.extensions import db
    from learnhub.orgs.models import OrgUnit
    from learnhub.progress.rules import refresh_completions

    with app.app_context():
        began = time.perf_counter()
        for statement in FILL:
            db.session.execute(text(statement), {"n": OFFICIALS})
        db.session.commit()
        added, _ = refresh_completions()
        db.session.commit()
        for statement in CERTIFY:
            db.session.execute(text(statement))
        db.session.commit()
        province = db.session.query(OrgUnit).filter_by(code="P").one()
        db.session.add(User(username="bench-committee", full_name="Ban Chỉ đạo", role="committee",
                            unit_id=province.id, password_hash=generate_password_hash(PASSWORD, method="scrypt")))
        db.session.commit()
        print(f"filled {OFFICIALS} officials ({added} course completions) in {time.perf_counter() - began:.0f} s")
    recount(app)


def recount(app) -> None:
    from learnhub.reports.tally import recount as recount_reports

    with app.app_context():
        began = time.perf_counter()
        rows = recount_reports()
        db_commit()
        print(f"dashboard counts stored: {rows} rows in {time.perf_counter() - began:.1f} s")


def db_commit() -> None:
    from learnhub.extensions import db
    db.session.commit()


def in_process(app) -> tuple[float, float, int]:
    """(wall ms, SQL ms, statements) per province page built in process, median of 20."""
    import statistics

    from sqlalchemy import event

    from learnhub.auth.models import User
    from learnhub.extensions import db
    from learnhub.reports.figures import current_programme, dashboard, programmes, top_unit

    walls, sqls, counts = [], [], []
    with app.app_context():
        viewer = db.session.query(User).filter_by(username="bench-committee").one()
        programme = current_programme(programmes(), date.today())
        spent = {"s": 0.0, "n": 0}

        def before(conn, cursor, statement, parameters, context, many):
            context._bench_began = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, many):
            spent["s"] += time.perf_counter() - context._bench_began
            spent["n"] += 1

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        try:
            for _ in range(21):
                spent.update(s=0.0, n=0)
                began = time.perf_counter()
                dashboard(viewer, programme, top_unit(viewer))
                walls.append(time.perf_counter() - began)
                sqls.append(spent["s"])
                counts.append(spent["n"])
                db.session.rollback()
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
    return statistics.median(walls[1:]) * 1000, statistics.median(sqls[1:]) * 1000, counts[-1]


def start_server(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen([gunicorn, "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", "wsgi:app"], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL)
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def log_in(port: int) -> str:
    """The session cookie of the committee member (the login form's CSRF token included)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urlencode({"csrf_token": token, "username": "bench-committee", "password": PASSWORD})
    conn.request("POST", "/login", body=body, headers={"Cookie": cookie,
                                                       "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, f"login failed: {response.status}"
    return response.getheader("Set-Cookie").split(";")[0]


def warm_up(port: int, path: str, cookie: str) -> None:
    """A few requests at once, so that each worker has served the page before wrk starts."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        return response.status

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(one, range(4)))
    assert statuses == [200] * 4, f"{path}: {statuses}"


def wrk(port: int, path: str, cookie: str, connections: int, seconds: int, script: str) -> dict:
    out = subprocess.run([WRK, "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          "--timeout", "30s", "-s", script, "-H", f"Cookie: {cookie}",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    figures = {k: float(v) for k, v in re.findall(r"(p\d+_ms|requests|errors) ([\d.]+)", out)}
    figures["rate"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return figures


def worker_pids(master: int) -> list[int]:
    children = set()
    for task in Path(f"/proc/{master}/task").glob("*/children"):
        children.update(int(p) for p in task.read_text().split())
    return sorted(children)


def pid_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def main() -> None:
    ensure_database()
    from flask_migrate import upgrade
    from sqlalchemy import text

    from learnhub import create_app
    from learnhub.extensions import db
    from learnhub.materials.sync import sync_content

    instance = tempfile.mkdtemp(prefix="learnhub-bench-reports-")
    env = {"DATABASE_URL": URL, "SECRET_KEY": "bench-secret", "LEARNHUB_INSTANCE_PATH": instance}
    os.environ.update(env)
    app = create_app({"SQLALCHEMY_DATABASE_URI": URL})
    reuse = os.environ.get("BENCH_REUSE") == "1"  # keep the database filled by the previous run
    if not reuse:
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            upgrade()
            sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
            db.session.commit()
        populate(app)
    else:
        with app.app_context():
            upgrade()
            from learnhub.auth.models import User
            db.session.query(User).filter_by(username="bench-committee").one().set_password(PASSWORD)
            db.session.commit()
        recount(app)
    wall, sql, statements = in_process(app)
    print(f"in process: the province page's figures in {wall:.1f} ms, of which SQL {sql:.1f} ms "
          f"({statements} statements), median of 20", flush=True)
    with app.app_context():
        db.engine.dispose()
    script = Path(instance) / "percentiles.lua"
    script.write_text(PERCENTILES_LUA)
    # As several app servers run it: no memo; BENCH_MEMO=60 adds a run with each process's memo.
    memos = [("memo off", "0")] + ([("memo " + os.environ["BENCH_MEMO"] + " s", os.environ["BENCH_MEMO"])]
                                   if os.environ.get("BENCH_MEMO") else [])
    for label, memo in memos:
        server, port = start_server({**env, "LEARNHUB_DASHBOARD_CACHE_SECONDS": memo})
        try:
            cookie = log_in(port)
            for path, connections in (("/reports/", 4), ("/reports/", 1), ("/reports/dashboard.pdf", 2)):
                warm_up(port, path, cookie)
                workers = worker_pids(server.pid)
                ticks = pid_ticks(workers)
                f = wrk(port, path, cookie, connections, SECONDS, str(script))
                cpu = (pid_ticks(workers) - ticks) / os.sysconf("SC_CLK_TCK") * 1000 / max(f["requests"], 1)
                print(f"{label:9} {path:22} {connections} conn., {SECONDS} s: {f['rate']:6.1f} req/s, "
                      f"p50 {f['p50_ms']:5.0f} ms, p90 {f['p90_ms']:5.0f} ms, p95 {f['p95_ms']:5.0f} ms, "
                      f"p99 {f['p99_ms']:5.0f} ms ({int(f['requests'])} requests, {int(f['errors'])} errors); "
                      f"app CPU {cpu:.1f} ms a response", flush=True)
        finally:
            server.terminate()
            server.wait()
    print(f"target: province page p95 ≤ 100 ms (load average now {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
