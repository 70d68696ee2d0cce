"""Conference day: 300 officials who have never logged in scan the QR code on the projector.

Run: .venv/bin/python bench/checkin_day.py [officials] [arrival_seconds] [--burst CLIENTS]

Each official, from their own phone (own connection, own cookies): opens the QR link,
is sent to log in, logs in with the temporary password from their slip, chooses their own
password (one Argon2id hash), taps "Điểm danh cho tôi" and sees "đã điểm danh". The time from
the scan to that page is measured for each.

The officials arrive evenly over ``arrival_seconds`` (default 90: everyone within two
minutes), or with --burst all at once, CLIENTS at a time, which shows the server's ceiling.
gunicorn runs as `make run` runs it (2 workers, 4 threads) on PostgreSQL:
BENCH_DATABASE_URL (default: database conf_checkin_bench on 127.0.0.1, created and emptied).
Target (issue 11): 300 check-ins, logins included, within 120 s, p95 under 3 s.
"""
from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/conf_checkin_bench"
TEMPORARY = "tam-thoi-bench-1"
OWN = "mat-khau-rieng-bench"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


SETUP = """
import sys
from datetime import timedelta
from sqlalchemy import select
from learnhub import create_app
from learnhub.extensions import db
from learnhub.auth.models import User
from learnhub.orgs.models import OrgUnit
from learnhub.orgs.services import load_units_csv
from learnhub.programmes.models import TrainingProgramme
from learnhub.attendance.services import create_session
from learnhub.models_base import utcnow
count = int(sys.argv[1])
app = create_app()
with app.app_context():
    load_units_csv(open('learnhub/orgs/data/bac-giang-2021.csv', encoding='utf-8').read())
    district = db.session.scalar(select(OrgUnit).where(OrgUnit.code == '217'))
    communes = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == district.id)).all()
    officials = []
    for i in range(count):
        user = User(username=f'cb{i:04d}', full_name=f'Cán bộ {i}', role='official', unit_id=communes[i % len(communes)].id)
        user.set_temporary_password('TEMPORARY')
        officials.append(user)
    db.session.add_all(officials)
    programme = TrainingProgramme(code='hn-2026', title='Hội nghị 2026')
    db.session.add(programme)
    db.session.flush()
    now = utcnow()
    session = create_session(programme, title='Hội nghị tập huấn', unit=district, venue='Hội trường',
                             starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=3), trainer=None)
    db.session.commit()
    print(session.checkin_code)
""".replace("TEMPORARY", TEMPORARY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Phone:
    """One official's browser: one connection, its cookies, following nothing automatically."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, response.getheader("Location") or "", text


def token(page: str) -> str:
    match = TOKEN.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def official_checks_in(port: int, username: str, code: str) -> float:
    """Scan → log in → own password → check in → "đã điểm danh"; returns the seconds it took."""
    began = time.perf_counter()
    phone = Phone(port)
    status, confirm, _ = phone.request("GET", f"/check-in?code={code}")
    assert status == 302 and confirm.startswith("/check-in/"), (status, confirm)
    status, login, _ = phone.request("GET", confirm)
    assert status == 302 and login.startswith("/login"), (status, login)
    _, _, page = phone.request("GET", login)
    status, change, _ = phone.request("POST", login, {"csrf_token": token(page), "username": username,
                                                      "password": TEMPORARY})
    assert status == 302 and change.startswith("/account/password"), (status, change)
    _, _, page = phone.request("GET", change)
    status, back, _ = phone.request("POST", change, {"csrf_token": token(page), "current": TEMPORARY,
                                                     "new": OWN, "confirm": OWN})
    assert status == 302 and back == confirm, (status, back)
    _, _, page = phone.request("GET", confirm)
    status, done, _ = phone.request("POST", confirm, {"csrf_token": token(page)})
    assert status == 302, status
    _, _, page = phone.request("GET", done)
    assert "đã điểm danh" in page, "no confirmation on the page"
    phone.conn.close()
    return time.perf_counter() - began


def server_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by gunicorn's master and workers, from /proc."""
    pids = [master] + [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    burst = None
    if "--burst" in sys.argv:
        burst = int(sys.argv[sys.argv.index("--burst") + 1])
        args = [a for a in args if a != str(burst)]
    officials = int(args[0]) if args else 300
    arrival = float(args[1]) if len(args) > 1 else 90.0
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    instance = tempfile.mkdtemp(prefix="learnhub-checkin-")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "LEARNHUB_INSTANCE_PATH": instance,
           "FLASK_APP": "wsgi",
           # Everyone comes from 127.0.0.1 here; in a hall they come from many phones. The login
           # limit per address (10 a minute by default) is reported on its own below.
           "RATELIMIT_LOGIN": "1000000 per minute"}
    subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    code = subprocess.run([sys.executable, "-c", SETUP, str(officials)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--bind",
                               f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.2)
        for _ in range(4):  # both workers load their templates before the clock starts
            Phone(port).request("GET", "/login")
        names = [f"cb{i:04d}" for i in range(officials)]
        durations: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def one(name: str) -> None:
            try:
                seconds = official_checks_in(port, name, code)
                with lock:
                    durations.append(seconds)
            except Exception as exc:  # noqa: BLE001 (reported, not hidden)
                with lock:
                    failures.append(f"{name}: {exc!r}")

        cpu_before = server_cpu_seconds(server.pid)
        began = time.perf_counter()
        if burst:
            with ThreadPoolExecutor(burst) as pool:
                list(pool.map(one, names))
        else:
            threads = []
            for i, name in enumerate(names):
                start_at = began + i * arrival / officials
                time.sleep(max(0.0, start_at - time.perf_counter()))
                thread = threading.Thread(target=one, args=(name,))
                thread.start()
                threads.append(thread)
            for thread in threads:
                thread.join()
        total = time.perf_counter() - began
        cpu = server_cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        try:
            server.wait(40)  # gunicorn finishes the requests in flight first
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    checked = subprocess.run([sys.executable, "-c", (
        "from sqlalchemy import create_engine, text; import sys\n"
        "e = create_engine(sys.argv[1])\n"
        "print(e.connect().execute(text(\"SELECT count(*) FROM attendance_record WHERE source = 'self'\")).scalar())")
        , url], capture_output=True, text=True).stdout.strip()
    mode = f"burst, {burst} at a time" if burst else f"arriving evenly over {arrival:.0f} s"
    print(f"{officials} officials ({mode}); gunicorn 2 workers × 4 threads; PostgreSQL")
    print(f"checked in: {len(durations)} (database: {checked} self check-ins); failed: {len(failures)}")
    for failure in failures[:5]:
        print("  ", failure)
    if durations:
        print(f"scan → 'đã điểm danh': p50 {percentile(durations, 50):.2f} s, p95 {percentile(durations, 95):.2f} s, "
              f"max {max(durations):.2f} s")
    print(f"total: {total:.1f} s from the first scan to the last check-in; "
          f"{len(durations) / total:.1f} logins (with first password change) per second")
    if durations:
        print(f"app server CPU: {cpu / len(durations) * 1000:.0f} ms per official (all their requests); "
              f"so at most {os.cpu_count() / (cpu / len(durations)):.1f} check-ins per second on "
              f"{os.cpu_count()} idle cores, before PostgreSQL's share")
    print(f"machine load average at the end: {os.getloadavg()[0]:.1f} (other work on the same cores slows every figure)")
    print("target: all within 120 s, p95 under 3 s")


if __name__ == "__main__":
    main()
