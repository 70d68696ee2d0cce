"""Quiz autosave and submit under gunicorn, side by side with a bare Flask POST.

Run: .venv/bin/python bench/autosave.py [sqlite|postgresql|both] [seconds] [rounds]

Both servers run with ``make run``'s flags (gunicorn --workers 2 --threads 4) and
are loaded by ``wrk`` with the same connections, threads and duration.

- autosave: ``POST /quiz/attempts/<id>/save`` as the page's script sends it — the
  whole form of a 14-question attempt, the CSRF token, the session cookie and
  ``Accept: application/json`` — where every request changes exactly one answer
  (each official's requests alternate between two values of one question);
- submit: ``POST /quiz/attempts/<id>/submit`` of the whole form, one answer changed
  since the last autosave, on a fresh attempt every time (each one is graded);
- bare: a Flask app with the same gunicorn flags, sent the same requests, answering
  with the same JSON (for submit: the same redirect) without reading the form.

The two are measured in turns (bare, app, bare, app, ...) for ``ROUNDS`` rounds, so
that other work on the machine weighs on both alike; the ratio printed is the
median of the rounds' ratios.

Targets (issue 15): autosave >= 0.2x the bare POST, submit >= 0.1x, on SQLite and
on PostgreSQL. PostgreSQL: BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/bench_autosave; created if missing,
emptied first). Exits non-zero if a target is missed or any request failed.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, jsonify, redirect

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_autosave")
COURSE = "qms-basics"
PASSWORD = "bench-password"
SECRET = "bench-secret-key-for-autosave"
WRK_THREADS, WRK_CONNECTIONS = 2, 16
SAVE_TARGET, SUBMIT_TARGET = 0.2, 0.1

# --- the bare app: what Flask alone costs for the same POST ------------------

bare = Flask("bare")


@bare.post("/quiz/attempts/<int:attempt_id>/save")
def bare_save(attempt_id: int):
    return jsonify(status="saved", saved_at=datetime.now(timezone.utc).isoformat())


@bare.post("/quiz/attempts/<int:attempt_id>/submit")
def bare_submit(attempt_id: int):
    return redirect(f"/quiz/attempts/{attempt_id}/review")


# --- servers ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with make run's flags; stopped by its own process id."""

    def __init__(self, target: str, env: dict, workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", target],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {target} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- the database and the officials -----------------------------------------

def ensure_pg_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def instance(kind: str) -> dict:
    """A fresh instance folder and an empty, migrated database with the real courses synced.
    Returns the environment the servers and the helpers below run with."""
    folder = tempfile.mkdtemp(prefix=f"learnhub-autosave-{kind}-")
    if kind == "postgresql":
        ensure_pg_database(PG_URL)
        url = PG_URL
    else:
        url = "sqlite:///" + os.path.join(folder, "learnhub.db")
    env = {"LEARNHUB_INSTANCE_PATH": folder, "SECRET_KEY": SECRET, "DATABASE_URL": url,
           "RATELIMIT_LOGIN": "1000000 per minute"}  # one address logs every official in here
    os.environ.update(env)
    return env


def _app():
    from learnhub import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"], "SECRET_KEY": SECRET,
                       "INSTANCE_PATH": os.environ["LEARNHUB_INSTANCE_PATH"]})


def populate(officials: int, spare_attempts: int = 0, presave: bool = True) -> list[dict]:
    """Officials of Bắc Giang's communes, each with an attempt of the course's quiz in
    progress (every answer saved if ``presave``), plus ``spare_attempts`` more such
    attempts each (for submits). Returns per official: username, attempt ids, and two
    forms (lists of pairs) of that attempt which differ in exactly one answer: "saved",
    every answer right, and "changed"."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select, text
    from werkzeug.security import generate_password_hash

    from learnhub.auth.models import User
    from learnhub.catalog.services import course_by_slug
    from learnhub.extensions import db
    from learnhub.materials.sync import sync_content
    from learnhub.orgs.models import OrgUnit
    from learnhub.orgs.services import load_units_csv
    from learnhub.quizzes.attempts import quiz_for, save_answers, start_attempt
    from learnhub.quizzes.autofill import answer_form
    from learnhub.quizzes.models import AttemptAnswer, QuizAttempt

    app = _app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
        load_units_csv((ROOT / "learnhub/orgs/data/bac-giang-2021.csv").read_text(encoding="utf-8"))
        db.session.commit()
        communes = db.session.scalars(select(OrgUnit.id).where(OrgUnit.level == "commune")).all()
        digest = generate_password_hash(PASSWORD, method="scrypt")
        db.session.execute(insert(User), [
            {"username": f"cb{i:05d}", "full_name": f"Cán bộ {i}", "role": "official",
             "unit_id": communes[i % len(communes)], "password_hash": digest} for i in range(officials)])
        db.session.commit()
        quiz = quiz_for(course_by_slug(COURSE))
        quiz.max_attempts = 0  # the spare attempts below
        users = db.session.execute(select(User.id, User.username).order_by(User.username)).all()
        result = []
        for k, (user_id, username) in enumerate(users):
            attempt = start_attempt(user_id, quiz, seed=k)
            right, wrong = answer_form(attempt), answer_form(attempt, wrong=True)
            slot = next(a.slot for a in attempt.answers if a.question.qtype in ("multichoice", "truefalse"))
            other = right.copy()
            other.setlist(f"q{slot}", wrong.getlist(f"q{slot}"))
            if presave:
                save_answers(attempt.id, right)
            result.append({"username": username, "user_id": user_id, "attempt": attempt.id, "saved": list(right.items(multi=True)),
                           "changed": list(other.items(multi=True)), "spares": []})
            if spare_attempts:
                # Same questions and order as the first attempt, "changed" already saved:
                # the submit posts "saved", so one answer changes as it is submitted.
                template = [(a.slot, a.question_id, a.order) for a in attempt.answers]
                save_answers(attempt.id, other)
                saved = {a.slot: a.response for a in attempt.answers}
                save_answers(attempt.id, right)
                db.session.execute(insert(QuizAttempt), [
                    {"user_id": user_id, "quiz_id": quiz.id, "number": n, "state": "in_progress",
                     "started_at": attempt.started_at, "deadline_at": None, "pass_percent": quiz.pass_percent,
                     "review": quiz.review, "max_score": attempt.max_score}
                    for n in range(2, spare_attempts + 2)])
                ids = db.session.scalars(select(QuizAttempt.id).where(
                    QuizAttempt.user_id == user_id, QuizAttempt.number > 1).order_by(QuizAttempt.number)).all()
                db.session.execute(insert(AttemptAnswer), [
                    {"attempt_id": i, "slot": s, "question_id": q, "order": o, "response": saved[s],
                     "needs_grading": False, "grader_comment": ""}
                    for i in ids for s, q, o in template])
                result[-1]["spares"] = ids
            if k % 50 == 49:
                db.session.commit()
        db.session.commit()
        db.engine.dispose()
    return result


def login(port: int, username: str) -> tuple[str, str]:
    """The session cookie and the CSRF token its forms carry, as a browser gets them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD})
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 302, f"login of {username} failed: {response.status}"
    return response.getheader("Set-Cookie").split(";", 1)[0], token


def login_all(port: int, officials: list[dict], clients: int = 8, real: int | None = None) -> None:
    """Log the officials in. ``real``: only that many through the login form (one scrypt
    check each, seconds apiece on a busy 2-core machine); the others get the session a
    login would have given them, signed with the instance's key (same CSRF secret)."""
    real = len(officials) if real is None else max(1, min(real, len(officials)))
    with ThreadPoolExecutor(clients) as pool:
        for official, (cookie, token) in zip(officials, pool.map(lambda o: login(port, o["username"]),
                                                                  officials[:real])):
            official["cookie"], official["token"] = cookie, token
    if real < len(officials):
        app = _app()
        serializer = app.session_interface.get_signing_serializer(app)
        name, value = officials[0]["cookie"].split("=", 1)
        template = serializer.loads(value)
        with app.app_context():
            from sqlalchemy import select

            from learnhub.auth.models import User
            from learnhub.extensions import db
            # A session names "<id>:<session token>" (User.get_id), not the bare id.
            ids = dict(db.session.execute(select(User.id, User.session_token).where(
                User.id.in_([o["user_id"] for o in officials[real:]]))).all())
        for official in officials[real:]:
            session = {**template, "_user_id": f"{official['user_id']}:{ids[official['user_id']]}"}
            official["cookie"], official["token"] = f"{name}={serializer.dumps(session)}", officials[0]["token"]


def body(official: dict, pairs: list) -> str:
    return urllib.parse.urlencode([("csrf_token", official["token"]), *pairs])


# --- wrk ---------------------------------------------------------------------

def _data_file(rows: list[tuple[str, ...]]) -> str:
    """One request a line, fields separated by tabs (urlencoded bodies hold none)."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False,
                                     dir=os.environ["LEARNHUB_INSTANCE_PATH"]) as f:
        f.writelines("\t".join(row) + "\n" for row in rows)
    return f.name


LUA_SAVE = r"""
-- Each wrk thread owns every n-th official; each official's saves alternate between
-- two forms that differ in one answer, so every save really changes something.
local counter = 1
local mine = {}
failures = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  local i = 0
  for line in io.lines("%s") do
    if i %% %d == tid then
      local e = {}
      for field in string.gmatch(line, "[^\t]+") do table.insert(e, field) end
      table.insert(e, false)
      table.insert(mine, e)
    end
    i = i + 1
  end
end
function request()
  local e = mine[counter]
  counter = counter %% #mine + 1
  e[5] = not e[5]
  local headers = {["Cookie"] = e[2], ["Accept"] = "application/json", ["X-Requested-With"] = "fetch",
                   ["Content-Type"] = "application/x-www-form-urlencoded"}
  return wrk.format("POST", e[1], headers, e[5] and e[3] or e[4])
end
function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("failures") end
  io.write(string.format("FAILURES %%d\n", total))
end
"""

LUA_SUBMIT = r"""
-- Every request submits a fresh attempt; an exhausted list posts to a missing path
-- (a 404, counted as a failure) rather than re-submitting a closed attempt.
local counter = 1
local mine = {}
failures = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  local i = 0
  for line in io.lines("%s") do
    if i %% %d == tid then
      local e = {}
      for field in string.gmatch(line, "[^\t]+") do table.insert(e, field) end
      table.insert(mine, e)
    end
    i = i + 1
  end
end
function request()
  local e = mine[counter]
  counter = counter + 1
  if e == nil and %s then
    counter = 2
    e = mine[1]
  end
  if e == nil then return wrk.format("POST", "/exhausted") end
  local headers = {["Cookie"] = e[2], ["Content-Type"] = "application/x-www-form-urlencoded"}
  return wrk.format("POST", e[1], headers, e[3])
end
function response(status, headers, body)
  if status ~= 302 then failures = failures + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("failures") end
  io.write(string.format("FAILURES %%d\n", total))
end
"""


def save_script(officials: list[dict]) -> str:
    data = _data_file([(f"/quiz/attempts/{o['attempt']}/save", o["cookie"], body(o, o["changed"]),
                        body(o, o["saved"])) for o in officials])
    return LUA_SAVE % (data, WRK_THREADS)


def submit_script(officials: list[dict], part: int = 0, parts: int = 1, cycle: bool = False) -> str:
    """Submits of the spare attempts in share ``part`` of ``parts`` (each round its own)."""
    rows = []
    # Interleaved, so that concurrent submits belong to different officials.
    for n in range(max(len(o["spares"]) for o in officials)):
        if n % parts != part:
            continue
        for o in officials:
            if n < len(o["spares"]):
                rows.append((f"/quiz/attempts/{o['spares'][n]}/submit", o["cookie"], body(o, o["saved"])))
    return LUA_SUBMIT % (_data_file(rows), WRK_THREADS, "true" if cycle else "false")


def wrk(port: int, script: str, seconds: float) -> tuple[float, int, str]:
    """Requests per second, failed requests, and the latency line."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(["wrk", "-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS), "-d", f"{int(seconds)}s",
                              "--timeout", "30s", "-s", f.name, f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    failures = int(re.search(r"FAILURES (\d+)", out).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:  # no answer at all: failed too
        failures += sum(int(n) for n in errors.groups())
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    return rate, failures, f"mean {latency.group(1)}, max {latency.group(3)}"


def run(kind: str, seconds: float, rounds: int) -> bool:
    officials_n, spares = 64, 250
    env = instance(kind)
    began = time.perf_counter()
    officials = populate(officials_n, spares)
    print(f"[{kind}] {officials_n} officials with 1 + {spares} attempts of {COURSE} each (14 questions), "
          f"prepared in {time.perf_counter() - began:.0f} s")
    rates = {"bare save": [], "save": [], "bare submit": [], "submit": []}
    failed = 0
    with Server("wsgi:app", env) as app, Server("bench.autosave:bare", {}) as bare_server:
        login_all(app.port, officials)
        save = save_script(officials)
        wrk(app.port, save, 2)  # warm both up
        wrk(bare_server.port, save, 2)
        bare_submit = submit_script(officials, cycle=True)
        for r in range(rounds):
            submit = submit_script(officials, r, rounds)
            for name, port, script in (("bare save", bare_server.port, save), ("save", app.port, save),
                                       ("bare submit", bare_server.port, bare_submit),
                                       ("submit", app.port, submit)):
                rate, failures, latency = wrk(port, script, seconds)
                rates[name].append(rate)
                failed += failures
                print(f"[{kind}] round {r + 1}: {name:12s} {rate:8.1f} req/s  ({latency}; {failures} failed)")
    graded = count_graded()
    shutil.rmtree(env["LEARNHUB_INSTANCE_PATH"], ignore_errors=True)
    save_ratio = statistics.median(a / b for a, b in zip(rates["save"], rates["bare save"]))
    submit_ratio = statistics.median(a / b for a, b in zip(rates["submit"], rates["bare submit"]))
    print(f"[{kind}] gunicorn --workers 2 --threads 4; wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{seconds:g}s, "
          f"{rounds} rounds; {graded} attempts graded")
    print(f"[{kind}] autosave (1 answer changed): median {statistics.median(rates['save']):7.1f} req/s vs bare "
          f"{statistics.median(rates['bare save']):7.1f}: ratio {save_ratio:.3f} (target >= {SAVE_TARGET})")
    print(f"[{kind}] submit + grading:           median {statistics.median(rates['submit']):7.1f} req/s vs bare "
          f"{statistics.median(rates['bare submit']):7.1f}: ratio {submit_ratio:.3f} (target >= {SUBMIT_TARGET})")
    ok = True
    if failed:
        print(f"[{kind}] {failed} requests FAILED")
        ok = False
    if save_ratio < SAVE_TARGET or submit_ratio < SUBMIT_TARGET:
        print(f"[{kind}] BELOW TARGET")
        ok = False
    return ok


def count_graded() -> int:
    from sqlalchemy import func, select

    from learnhub.extensions import db
    from learnhub.quizzes.models import QuizAttempt
    app = _app()
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.state != "in_progress"))
        db.engine.dispose()
    return n


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    kinds = ["sqlite", "postgresql"] if which == "both" else [which]
    results = [run(kind, seconds, rounds) for kind in kinds]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
