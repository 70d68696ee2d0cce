"""Faults a production setup meets, on real servers: two gunicorn app servers on one database,
PostgreSQL restarted under load, a worker killed with SIGKILL in the middle of a request.

Whatever TEST_DATABASE_URL says, the module starts its own throwaway PostgreSQL cluster
(initdb in a temporary folder, on a free port), so it may stop and restart it at will. It
migrates it, syncs the repository's courses/ into it, adds a few officials, and serves it with
two gunicorn processes (``--workers 1 --threads 4``, same SECRET_KEY and DATABASE_URL).
Every wait has a timeout; the servers and the cluster are stopped in the fixtures' teardown.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from learnhub import create_app
from learnhub.audit.models import AuditEntry
from learnhub.audit.services import _LOCK_KEY as AUDIT_LOCK_KEY
from learnhub.audit.services import verify_chain
from learnhub.materials.sync import sync_content
from learnhub.config import PROJECT_ROOT
from learnhub.extensions import db
from learnhub.quizzes.autofill import answer_form
from learnhub.quizzes.models import AttemptAnswer, QuizAttempt

from . import factories

pytestmark = pytest.mark.faults

PG_BIN = Path(os.environ.get("LEARNHUB_PG_BIN", "/usr/lib/postgresql/15/bin"))
GUNICORN = Path(sys.executable).parent / "gunicorn"
COURSE = "qms-basics"  # from the repository's courses/: no essay, so a submitted attempt is graded at once
REQUEST_TIMEOUT = 20
UNAVAILABLE_VI = "Tạm thời gián đoạn"  # the 503 page's title in Vietnamese


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(interval)


# --- a throwaway PostgreSQL cluster -----------------------------------------------------------

class Cluster:
    """initdb/pg_ctl in a temporary folder; as root, through the postgres account (initdb refuses root)."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            pytest.fail(f"PostgreSQL binaries not found in {PG_BIN} (set LEARNHUB_PG_BIN)", pytrace=False)
        self.root = Path(tempfile.mkdtemp(prefix="learnhub-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgresql.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/learnhub"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(PG_BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                               f"\n{self.log_tail()}")

    def init(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                 "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.root}'\nmax_connections = 40\nshared_buffers = 32MB\n")

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def connect(self, dbname: str = "learnhub", **kwargs) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
                               connect_timeout=5, **kwargs)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def remove(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except Exception:  # noqa: BLE001 - teardown goes on; the folder goes anyway
                pass
        shutil.rmtree(self.root, ignore_errors=True)


# --- gunicorn app servers ---------------------------------------------------------------------

class Server:
    def __init__(self, database_url: str, secret_key: str, folder: Path, name: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.instance = folder / f"instance-{name}"
        self.instance.mkdir()
        self.log = folder / f"gunicorn-{name}.log"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL", "LEARNHUB_DEMO")}
        env.update(DATABASE_URL=database_url, SECRET_KEY=secret_key, LEARNHUB_INSTANCE_PATH=str(self.instance),
                   RATELIMIT_LOGIN="1000 per minute", PYTHONUNBUFFERED="1")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{self.port}",
                 "--chdir", str(PROJECT_ROOT), "--timeout", "60", "--graceful-timeout", "3", "wsgi:app"],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"gunicorn on {self.base} exited:\n{self.log_tail()}", pytrace=False)
        try:
            return request(self.base, "GET", "/healthz", timeout=2).status == 200
        except OSError:
            return False

    def wait_healthy(self, timeout: float = 30) -> None:
        wait_for(self.healthy, timeout, f"{self.base}/healthz to answer 200", interval=0.2)

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def errors(self) -> str:
        """The log's ERROR entries with their tracebacks: what a failed assertion should show."""
        out, keep = [], False
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("["):
                keep = "ERROR" in line and "was sent SIGKILL" not in line
            if keep:
                out.append(line)
        return "\n".join(out[-200:])

    def stop(self) -> None:
        """Ask for gunicorn's quick shutdown; wait_stopped() waits for it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)

    def wait_stopped(self) -> None:
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


# --- a person with a browser's cookies, talking to any server ---------------------------------

@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("Location", "")).path


def request(base: str, method: str, path: str, form=None, headers: dict | None = None,
            timeout: float = REQUEST_TIMEOUT) -> Response:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        if isinstance(form, MultiDict):
            form = list(form.items(multi=True))
        body = urlencode(form, doseq=True) if form is not None else None
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


_TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Person:
    username: str
    cookies: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, server: Server, method: str, path: str, form=None, headers=None, **kw) -> Response:
        headers = dict(headers or {})
        with self.lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = request(server.base, method, path, form, headers, **kw)
        with self.lock:
            for line in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(line).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
        return response

    def token(self, server: Server, path: str = "/") -> str:
        page = self.open(server, "GET", path)
        found = _TOKEN.search(page.body)
        assert found, f"no CSRF token on {path} ({page.status})"
        return found.group(1)

    def login(self, server: Server) -> None:
        token = self.token(server, "/login")
        response = self.open(server, "POST", "/login", {"username": self.username, "password": factories.PASSWORD,
                                                          "csrf_token": token})
        assert response.status == 302, f"login of {self.username} on {server.base}: {response.status}"


# --- the fixture: cluster, schema, courses, officials, two servers ----------------------------

OFFICIALS = {"two-servers": "hai-may-chu", "restart": "khoi-dong-lai"} | {f"kill-{i}": f"bi-kill-{i}" for i in range(8)}


@dataclass
class Site:
    cluster: Cluster
    app: object  # a local app on the cluster, for reading and checking the database
    servers: list[Server]


@contextmanager
def _instance_path(path: Path):
    previous = os.environ.get("LEARNHUB_INSTANCE_PATH")
    os.environ["LEARNHUB_INSTANCE_PATH"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("LEARNHUB_INSTANCE_PATH", None)
        else:
            os.environ["LEARNHUB_INSTANCE_PATH"] = previous


@pytest.fixture(scope="module")
def site():
    cluster = Cluster()
    folder = Path(tempfile.mkdtemp(prefix="learnhub-faults-"))
    servers: list[Server] = []
    local = None
    try:
        cluster.init()
        cluster.start()
        with cluster.connect("postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE learnhub")
        secret = secrets.token_hex(32)
        with _instance_path(folder):
            local = create_app({"SQLALCHEMY_DATABASE_URI": cluster.url, "SECRET_KEY": secret})
        with local.app_context():
            from flask_migrate import upgrade
            upgrade()
            sync_content(local.config["COURSES_DIR"], local.config["QUIZZES_DIR"])  # the repository's courses/
            db.session.commit()
            factories.load_demo_units()
            for username in OFFICIALS.values():
                factories.make_user("official", username=username)
            db.session.remove()
            db.engine.dispose()
        for name in ("one", "two"):
            servers.append(Server(cluster.url, secret, folder, name))
        for server in servers:
            server.wait_healthy()
        yield Site(cluster, local, servers)
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            server.wait_stopped()
        if local is not None:
            with local.app_context():
                db.engine.dispose()
        cluster.remove()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def healthy(site):
    if not site.cluster.running():
        site.cluster.start()
    for server in site.servers:
        server.wait_healthy()
    return site


@contextmanager
def database(site: Site):
    with site.app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


def start_attempt(person: Person, server: Server) -> int:
    token = person.token(server, f"/courses/{COURSE}/quiz")
    response = person.open(server, "POST", f"/courses/{COURSE}/quiz/start", {"csrf_token": token})
    assert response.status == 302 and response.location.startswith("/quiz/attempts/"), \
        f"quiz start: {response.status} {response.location}"
    return int(response.location.rsplit("/", 1)[1])


def answers(site: Site, attempt_id: int, token: str, wrong: bool = False) -> MultiDict:
    """The form of a learner who answers every question (rightly, unless wrong=True)."""
    with database(site) as session:
        form = answer_form(session.get(QuizAttempt, attempt_id), wrong=wrong)
    form["csrf_token"] = token
    return form


def quiz_results(session, attempt_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "quiz.result", AuditEntry.object_id == str(attempt_id)))


def run_threads(targets, timeout: float) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"requests still running after {timeout} s"


# --- 1. two app servers on one database --------------------------------------------------------

def test_two_servers_share_the_login_and_grade_a_racing_submit_once(healthy):
    site = healthy
    one, two = site.servers
    person = Person(OFFICIALS["two-servers"])
    person.login(one)

    # The session cookie from server one is good on server two, and so is its CSRF token.
    home = person.open(two, "GET", "/")
    assert home.status == 200 and f"({person.username})" in home.body, "server two does not know the login"
    token = person.token(one)
    response = person.open(two, "POST", f"/courses/{COURSE}/quiz/start", {"csrf_token": token})
    assert response.status == 302 and response.location.startswith("/quiz/attempts/")
    attempt_id = int(response.location.rsplit("/", 1)[1])
    assert person.open(one, "GET", f"/quiz/attempts/{attempt_id}").status == 200

    form = answers(site, attempt_id, token)
    barrier = threading.Barrier(8, timeout=REQUEST_TIMEOUT)
    results: list[tuple[str, int, str]] = []

    def submit(server: Server):
        def go():
            barrier.wait()
            r = person.open(server, "POST", f"/quiz/attempts/{attempt_id}/submit", form)
            results.append((server.base, r.status, r.location))
        return go

    run_threads([submit(site.servers[i % 2]) for i in range(8)], timeout=60)
    assert sorted(status for _base, status, _loc in results) == [302] * 8, results
    assert {loc for _base, _status, loc in results} == {f"/quiz/attempts/{attempt_id}/review"}

    with database(site) as session:
        attempt = session.get(QuizAttempt, attempt_id)
        assert attempt.state == "graded"
        assert attempt.percent == 100.0 and attempt.passed
        assert all(answer.fraction == 1.0 for answer in attempt.answers)
        assert quiz_results(session, attempt_id) == 1, "graded more than once"
        assert verify_chain().ok
    review = person.open(one, "GET", f"/quiz/attempts/{attempt_id}/review")
    assert review.status == 200 and "100" in review.body


# --- 2. PostgreSQL restarted mid-load -----------------------------------------------------------

def test_database_restart_answers_503_then_recovers_without_losing_saved_answers(healthy):
    site = healthy
    server = site.servers[0]
    person = Person(OFFICIALS["restart"])
    person.login(server)
    attempt_id = start_attempt(person, server)
    token = person.token(server, f"/quiz/attempts/{attempt_id}")
    autosave = {"Accept": "application/json", "X-Requested-With": "fetch"}

    form = answers(site, attempt_id, token)
    wrong_form = answers(site, attempt_id, token, wrong=True)  # sent while the database is down
    saved = person.open(server, "POST", f"/quiz/attempts/{attempt_id}/save", form, autosave)
    assert saved.status == 200 and json.loads(saved.body)["status"] == "saved"
    with site.cluster.connect() as conn:
        before = conn.execute("SELECT slot, response::text FROM attempt_answer WHERE attempt_id = %s ORDER BY slot",
                              (attempt_id,)).fetchall()
    assert before and all(response not in (None, "null") for _slot, response in before)

    # Load: pages that read the database, from both servers, all through the restart.
    stop = threading.Event()
    seen: list[tuple[float, str, int | str]] = []

    def load(target: Server, path: str):
        def go():
            while not stop.is_set():
                try:
                    status = person.open(target, "GET", path, timeout=10).status
                except (OSError, http.client.HTTPException) as exc:
                    status = type(exc).__name__
                seen.append((time.monotonic(), path, status))
                time.sleep(0.02)
        return go

    workers = [server.worker_pids() for server in site.servers]
    paths = (f"/quiz/attempts/{attempt_id}", f"/courses/{COURSE}", "/my")
    loaders = [threading.Thread(target=load(s, p), daemon=True) for s in site.servers for p in paths]
    for thread in loaders:
        thread.start()
    try:
        wait_for(lambda: len(seen) >= 12, 15, "the load to get going")
        site.cluster.stop("fast")
        stopped_at = time.monotonic()

        # While it is down: the 503 page in Vietnamese with Retry-After, for pages and for saves.
        for method, path, data, headers in (("GET", f"/quiz/attempts/{attempt_id}", None, None),
                                            ("POST", f"/quiz/attempts/{attempt_id}/save", wrong_form, autosave),
                                            ("GET", f"/courses/{COURSE}/quiz", None, None)):
            down = person.open(server, method, path, data, headers)
            assert down.status == 503, f"{method} {path} with the database down: {down.status}\n{down.body[:500]}"
            assert UNAVAILABLE_VI in down.body and down.headers.get("Retry-After"), down.body[:500]
        wait_for(lambda: any(s == 503 for t, _p, s in list(seen) if t > stopped_at), 10, "the load to meet the outage")

        site.cluster.start()
        started_at = time.monotonic()
        # Recovery without restarting the app: both servers serve pages again within seconds.
        wait_for(lambda: all(person.open(s, "GET", f"/quiz/attempts/{attempt_id}").status == 200
                             for s in site.servers), 10, "both servers to serve pages again after the restart",
                 interval=0.2)
        wait_for(lambda: sum(1 for t, _p, s in list(seen) if s == 200 and t > started_at) >= 6, 10,
                 "the load to be served again")
    finally:
        stop.set()
        for thread in loaders:
            thread.join(15)
        if not site.cluster.running():
            site.cluster.start()

    statuses = {status for _t, _p, status in seen}
    assert statuses <= {200, 503}, (f"unexpected answers under the restart: {sorted(map(str, statuses))}\n"
                                    + "\n".join(s.errors() for s in site.servers))

    with site.cluster.connect() as conn:
        after = conn.execute("SELECT slot, response::text FROM attempt_answer WHERE attempt_id = %s ORDER BY slot",
                             (attempt_id,)).fetchall()
    assert after == before, "answers saved before the restart changed or were lost"

    # Writes work again, through the same app processes.
    again = person.open(server, "POST", f"/quiz/attempts/{attempt_id}/save", form, autosave)
    assert again.status == 200 and json.loads(again.body)["status"] == "saved"
    assert [server.worker_pids() for server in site.servers] == workers, "an app worker was restarted"


# --- 3. a worker killed mid-request --------------------------------------------------------------

def test_worker_killed_mid_submit_leaves_no_half_graded_attempt(healthy):
    site = healthy
    server = site.servers[1]
    people = [Person(OFFICIALS[f"kill-{i}"]) for i in range(8)]
    forms = {}
    for person in people:
        person.login(server)
        attempt_id = start_attempt(person, server)
        form = answers(site, attempt_id, person.token(server))
        forms[person.username] = (attempt_id, form)

    # Hold the audit log's append lock: each submit then stops inside its transaction, after it
    # has claimed the attempt and written every answer's grade, just before the audit entry.
    holder = site.cluster.connect(autocommit=True)
    outcomes: dict[str, int | str] = {}
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (AUDIT_LOCK_KEY,))

        def submit(person: Person):
            def go():
                attempt_id, form = forms[person.username]
                try:
                    outcomes[person.username] = person.open(server, "POST", f"/quiz/attempts/{attempt_id}/submit",
                                                            form).status
                except (OSError, http.client.HTTPException) as exc:
                    outcomes[person.username] = type(exc).__name__
            return go

        threads = [threading.Thread(target=submit(p), daemon=True) for p in people]
        for thread in threads:
            thread.start()

        def waiting() -> int:
            return holder.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                  "AND wait_event = 'advisory' AND datname = 'learnhub'").fetchone()[0]

        # As many as the worker has threads: those requests are mid-transaction when it dies.
        wait_for(lambda: waiting() >= 4, 15, "4 submits (one per thread) to reach the audit")
        blocked = waiting()
        [worker] = server.worker_pids()
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: worker not in server.worker_pids(), 10, "the killed worker to be gone")
        # A request the dead worker had not accepted yet goes to its successor: let it through.
        holder.execute("SELECT pg_advisory_unlock_all()")
        for thread in threads:
            thread.join(REQUEST_TIMEOUT)
        assert not any(t.is_alive() for t in threads)
    finally:
        holder.execute("SELECT pg_advisory_unlock_all()")
        holder.close()

    # The backends of the killed requests roll back once they find their client gone.
    with site.cluster.connect(autocommit=True) as conn:
        wait_for(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'learnhub' AND pid <> pg_backend_pid() "
            "AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')").fetchone()[0] == 0,
            15, "the killed requests' transactions to end")
    server.wait_healthy()  # the master started a new worker

    ids = [attempt_id for attempt_id, _form in forms.values()]
    with database(site) as session:
        attempts = session.scalars(select(QuizAttempt).where(QuizAttempt.id.in_(ids))).all()
        states = sorted(a.state for a in attempts)
        assert "grading" not in states, "an attempt was left in the middle of grading"
        for attempt in attempts:
            fractions = [a.fraction for a in attempt.answers]
            if attempt.state == "in_progress":
                assert attempt.submitted_at is None and attempt.score is None and fractions == [None] * len(fractions)
                assert quiz_results(session, attempt.id) == 0
            else:
                assert attempt.state == "graded" and None not in fractions and attempt.score == sum(fractions)
                assert quiz_results(session, attempt.id) == 1
        assert states.count("in_progress") >= blocked, (states, outcomes)
        assert verify_chain().ok
        open_ids = [a.id for a in attempts if a.state == "in_progress"]

    # Nothing is stuck: each attempt the kill interrupted can be submitted again, and is graded once.
    for person in people:
        attempt_id, form = forms[person.username]
        if attempt_id in open_ids:
            response = person.open(server, "POST", f"/quiz/attempts/{attempt_id}/submit", form)
            assert response.status == 302, response.status
    with database(site) as session:
        for attempt_id in ids:
            attempt = session.get(QuizAttempt, attempt_id)
            assert attempt.state == "graded" and attempt.percent == 100.0
            assert quiz_results(session, attempt_id) == 1
        assert session.scalar(select(func.count()).select_from(AttemptAnswer).where(
            AttemptAnswer.attempt_id.in_(ids), AttemptAnswer.fraction.is_(None))) == 0
        assert verify_chain().ok
