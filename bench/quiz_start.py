"""A whole province starting a quiz: how fast do starts go through, under gunicorn?

Run: .venv/bin/python bench/quiz_start.py [officials] [clients]
Target (DEVELOPERS.md): a whole province (about 5,000 officials) starting a quiz
within a minute, i.e. at least 84 starts a second. The officials are logged in first
(each login is one scrypt check: timed and reported on its own); then every one of
them starts the course's quiz at once from ``clients`` concurrent connections.
Set DATABASE_URL to measure on PostgreSQL (the database is emptied first).
"""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, prepared_instance, start_gunicorn  # noqa: E402

OFFICIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 400
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
COURSE = "qms-basics"
PROVINCE = 5000


def make_officials(env: dict, count: int) -> None:
    code = (
        "import sys\n"
        "from werkzeug.security import generate_password_hash\n"
        "from sqlalchemy import select\n"
        "from learnhub import create_app\n"
        "from learnhub.extensions import db\n"
        "from learnhub.auth.models import User\n"
        "from learnhub.orgs.models import OrgUnit\n"
        "from learnhub.orgs.services import load_units_csv\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    load_units_csv(open('learnhub/orgs/data/bac-giang-2021.csv', encoding='utf-8').read())\n"
        "    communes = db.session.scalars(select(OrgUnit).where(OrgUnit.level == 'commune')).all()\n"
        "    digest = generate_password_hash('bench-password', method='scrypt')\n"
        f"    db.session.add_all([User(username=f'cb{{i:05d}}', full_name=f'Cán bộ {{i}}', role='official',\n"
        f"                             unit_id=communes[i % len(communes)].id, password_hash=digest)\n"
        f"                        for i in range({count})])\n"
        "    db.session.commit()\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, check=True)


def login(port: int, username: str) -> tuple[str, str]:
    """The session cookie and the CSRF token its forms carry."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/login")
    response = conn.getresponse()
    form = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": "bench-password"})
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, f"login of {username} failed: {response.status}"
    return response.getheader("Set-Cookie").split(";", 1)[0], token


def start_quiz(port: int, cookie: str, token: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urllib.parse.urlencode({"csrf_token": token})
    conn.request("POST", f"/courses/{COURSE}/quiz/start", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    return response.status == 302 and "/quiz/attempts/" in (response.getheader("Location") or "")


def empty_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from learnhub.config import normalise_database_url
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    if os.environ.get("DATABASE_URL"):
        empty_database(os.environ["DATABASE_URL"])
    env = prepared_instance()
    env["RATELIMIT_LOGIN"] = "1000000 per minute"  # one address logs everyone in here
    make_officials(env, OFFICIALS)
    proc, port = start_gunicorn("wsgi:app", env)
    try:
        names = [f"cb{i:05d}" for i in range(OFFICIALS)]
        began = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            sessions = list(pool.map(lambda n: login(port, n), names))
        login_seconds = time.perf_counter() - began
        began = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda s: start_quiz(port, *s), sessions))
        start_seconds = time.perf_counter() - began
    finally:
        proc.terminate()
    ok = sum(results)
    rate = ok / start_seconds
    print(f"{OFFICIALS} officials, {CLIENTS} concurrent clients, gunicorn 2 workers, "
          f"{'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}")
    print(f"logins:      {OFFICIALS / login_seconds:7.1f} per second (one scrypt check each)")
    print(f"quiz starts: {rate:7.1f} per second, {ok} of {OFFICIALS} started")
    print(f"a province of {PROVINCE} officials would start in {PROVINCE / rate:5.1f} s (target: 60 s)")


if __name__ == "__main__":
    main()
