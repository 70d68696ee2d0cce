"""Lesson page rate versus a bare Flask page of the same size, both under gunicorn.

Run: .venv/bin/python bench/lesson_page.py [seconds]
Target (DEVELOPERS.md): the lesson page at well over half the bare page's rate.
"""
from __future__ import annotations

import http.client
import os
import re
import urllib.parse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import measure, prepared_instance, start_gunicorn  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0


def make_official(env: dict) -> None:
    code = (
        "from learnhub import create_app\n"
        "from learnhub.extensions import db\n"
        "from learnhub.orgs.services import load_units_csv\n"
        "from learnhub.auth.services import create_user\n"
        "from learnhub.orgs.models import OrgUnit\n"
        "from sqlalchemy import select\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    load_units_csv(open('learnhub/orgs/data/bac-giang-2021.csv', encoding='utf-8').read())\n"
        "    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'D217-01'))\n"
        "    create_user(username='bench', full_name='Bench', role='official', unit=unit, password='bench-password')\n"
        "    db.session.commit()\n")
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                   env={**os.environ, **env}, check=True)


def login(port: int) -> str:
    """Log in as a browser would: the form's CSRF token, then the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    response = conn.getresponse()
    form = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": "bench", "password": "bench-password"})
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, "login failed"
    return response.getheader("Set-Cookie").split(";", 1)[0]


def main() -> None:
    env = prepared_instance()
    make_official(env)
    app_proc, app_port = start_gunicorn("wsgi:app", env)
    try:
        cookie = login(app_port)
        conn = http.client.HTTPConnection("127.0.0.1", app_port)
        conn.request("GET", "/", headers={"Cookie": cookie})
        home = conn.getresponse().read().decode()
        course = re.search(r'href="(/courses/[^"/]+)"', home).group(1)
        conn.request("GET", course, headers={"Cookie": cookie})
        page = conn.getresponse().read().decode()
        path = re.search(r'href="(' + re.escape(course) + r'/[^"]+)"', page).group(1)
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        size = len(response.read())
        assert response.status == 200, response.status
        bare_proc, bare_port = start_gunicorn("bench.bare_app:app", {"BARE_BYTES": str(size)})
        try:
            measure(bare_port, "/", seconds=1)
            measure(app_port, path, {"Cookie": cookie}, seconds=1)
            bare = measure(bare_port, "/", seconds=SECONDS)
            floor = measure(app_port, "/healthz", seconds=SECONDS)
            lesson = measure(app_port, path, {"Cookie": cookie}, seconds=SECONDS)
        finally:
            bare_proc.terminate()
    finally:
        app_proc.terminate()
    print(f"lesson page {path}: {size} bytes")
    print(f"bare Flask page (same size): {bare:8.1f} req/s")
    print(f"app floor (/healthz, 1 query): {floor:8.1f} req/s  (the app's per-request plumbing)")
    print(f"lesson page (logged in):     {lesson:8.1f} req/s")
    print(f"ratio lesson/bare: {lesson / bare:.2f}  (target: well over 0.5)")


if __name__ == "__main__":
    main()
