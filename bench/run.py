"""`make bench`: LearnHub under wrk, beside a bare Flask page of the same size.

Run: .venv/bin/python -m bench.run [scenario ...]   (default: all; names below)

Province scale (SQLite by default, as `make run`): 5,000 officials in about 230 communes.
Country scale (PostgreSQL): 200,000 officials; the database is filled once and kept.
Both served by gunicorn with the flags of `make run` (2 workers x 4 threads). Each
scenario is one short wrk run; the bare page of the same response size is measured right
after it, in the same run, and the app's rate is printed as a ratio to it.

Environment: BENCH_SECONDS (5), BENCH_THREADS (2), BENCH_CONNECTIONS (8),
BENCH_OFFICIALS (5000), BENCH_COMMUNES (230), BENCH_POOL (1500, officials that each start
a quiz, submit it and check in once), BENCH_COUNTRY_OFFICIALS (200000),
BENCH_DATABASE_URL (country, default postgresql+psycopg://postgres@127.0.0.1:5432/learnhub_bench),
BENCH_PROVINCE_DATABASE_URL (default: SQLite in a temporary instance; a PostgreSQL URL
is emptied and refilled), BENCH_REBUILD=1 (refill the country database), BENCH_KEEP=1
(keep the temporary instance and logs).
"""
from __future__ import annotations

import json
import os
import platform
import random
import shutil
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import data, pages, wrk
from .common import (
    ROOT, THREADS, WORKERS, Client, Server, anonymous_session, csrf_token, form_body, login, login_request, new_instance,
)

RESULTS = ROOT / "bench" / "results"
PROVINCE_SCENARIOS = ["floor", "lesson", "catalogue", "my", "course", "certificates", "login", "quiz-start", "quiz-page", "autosave", "submit", "checkin",
                      "report-province"]
COUNTRY_SCENARIOS = ["report-country"]
ALL = PROVINCE_SCENARIOS + COUNTRY_SCENARIOS
COUNTRY_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/learnhub_bench")
FORM = "application/x-www-form-urlencoded"


@dataclass
class Target:
    kind: str      # ratio | rate | p95
    value: float

    def text(self) -> str:
        return {"ratio": f">= {self.value:g}x bare", "rate": f">= {self.value:g}/s", "p95": f"p95 <= {self.value:g} ms"}[self.kind]


@dataclass
class Row:
    key: str
    title: str
    result: wrk.Result
    bare: wrk.Result | None = None
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.result.rate / self.bare.rate if self.bare and self.bare.rate else None

    @property
    def cpu_ratio(self) -> float | None:
        """Bare CPU per response / the app's: the ratio a machine to itself would give, for
        CPU-bound pages; other processes barely move it (lock waits do not show in it)."""
        app, bare = self.result.server_cpu_ms, self.bare.server_cpu_ms if self.bare else None
        return bare / app if app and bare else None

    def verdict(self) -> str:
        t = self.target
        if t is None:
            return ""
        if t.kind == "ratio":
            if self.ratio is None:
                return "?"
            got = self.ratio
            return "met" if got >= t.value else f"MISSED: {got:.2f}x, {100 * (1 - got / t.value):.0f}% short"
        if t.kind == "rate":
            got = self.result.rate
            return "met" if got >= t.value else f"MISSED: {got:.1f}/s, {100 * (1 - got / t.value):.0f}% short"
        got = self.result.p95_ms
        return "met" if got <= t.value else f"MISSED: {got:.0f} ms, {got / t.value:.1f}x the limit"


class Bench:
    def __init__(self, selected: list[str]):
        self.selected = selected
        self.rows: list[Row] = []
        self.figures: dict = {}
        self.notes: list[str] = []
        self.servers: list[Server] = []
        self.bare: Server | None = None
        self.instances: list[str] = []
        self.started = time.perf_counter()

    def say(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f}s] {text}", flush=True)

    def server(self, name: str, target: str, env: dict, log_dir: str, ready: str) -> Server:
        server = Server(name, target, env, log_dir, ready_path=ready)
        self.servers.append(server)
        return server

    def bare_server(self, log_dir: str) -> Server:
        if self.bare is None:
            self.bare = self.server("bare", "bench.bare_app:app", {}, log_dir, "/")
            self.warm(self.bare.port, [("/bytes/20000", "")])
        return self.bare

    def server_pids(self, server: Server) -> list[int]:
        return [server.proc.pid, *server.worker_pids()]

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.servers:
            self.servers.remove(server)

    def cleanup(self) -> None:
        for server in list(self.servers):
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                print(f"could not stop gunicorn {server.name}: {exc}", file=sys.stderr)
        self.servers.clear()
        for instance in self.instances:
            if os.environ.get("BENCH_KEEP") == "1":
                print(f"kept {instance}")
            else:
                shutil.rmtree(instance, ignore_errors=True)

    # --- measuring --------------------------------------------------------------------

    def measure(self, key: str, title: str, app: Server, requests: list[wrk.Req], expect: wrk.Expect,
                bare: Server | None, *, mode: str = "cycle", target: Target | None = None, note: str = "",
                single_user: bool = False) -> Row:
        """One wrk run on the app, then one on the bare page of the same size, same settings.

        ``single_user``: one connection, run long enough for about 30 requests (at most 4x
        BENCH_SECONDS): a report's latency as one committee member sees it, not queued
        behind seven others.
        """
        threads = connections = seconds = None
        if single_user:
            threads = connections = 1
            probe = Client(app.port, timeout=120)
            first = requests[0]
            began = time.perf_counter()
            for _ in range(3):
                probe.request(first.method, first.path, first.bodies[0] or None, first.headers)
            latency = (time.perf_counter() - began) / 3
            probe.close()
            seconds = int(min(max(wrk.SECONDS, 30 * latency), 4 * wrk.SECONDS) + 0.5)
            note = (note + "; " if note else "") + f"1 connection, {seconds} s"
        self.say(f"{title}: {len(requests)} distinct request(s), {mode}")
        result = wrk.run(app.url, requests, expect, mode=mode, threads=threads, connections=connections,
                         seconds=seconds, server_pids=self.server_pids(app))
        if result.ok == 0:
            raise RuntimeError(f"{title}: no good response; first: {result.first_bad[:300]!r}")
        bare_result = None
        if bare is not None:
            size = max(int(round(result.body_bytes_avg)), 1)
            first = requests[0]
            if first.method == "GET":
                bare_req = wrk.Req("GET", f"/bytes/{size}")
            else:
                content_type = first.headers.get("Content-Type", FORM)
                bare_req = wrk.Req("POST", f"/json/{size}", {"Content-Type": content_type}, [first.bodies[0]])
            bare_result = wrk.run(bare.url, [bare_req], wrk.Expect(200), threads=threads, connections=connections,
                                  seconds=min(seconds or wrk.SECONDS, wrk.SECONDS), server_pids=self.server_pids(bare))
        row = Row(key, title, result, bare_result, target, note)
        problems = result.problems()
        if problems:
            row.note = (row.note + "; " if row.note else "") + problems
        busy = [r.cpu_others for r in (result, bare_result) if r is not None and r.cpu_others is not None]
        if busy and max(busy) > 0.15:
            row.note = (row.note + "; " if row.note else "") + (
                f"other processes took {100 * (result.cpu_others or 0):.0f}% of the CPU during the app run"
                + (f", {100 * (bare_result.cpu_others or 0):.0f}% during the bare run" if bare_result else ""))
        self.rows.append(row)
        ratio = f", {row.ratio:.2f}x bare ({bare_result.rate:.0f}/s at {size:,} B)" if bare_result else ""
        self.say(f"  {result.rate:.1f}/s, p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms{ratio}")
        return row

    # --- province ---------------------------------------------------------------------

    def province(self) -> None:
        officials = int(os.environ.get("BENCH_OFFICIALS", "5000"))
        communes = int(os.environ.get("BENCH_COMMUNES", "230"))
        pool_size = int(os.environ.get("BENCH_POOL", "1500"))
        instance = new_instance()
        self.instances.append(instance)
        url = os.environ.get("BENCH_PROVINCE_DATABASE_URL") or f"sqlite:///{instance}/learnhub.db"
        if url == COUNTRY_URL:
            raise SystemExit("BENCH_PROVINCE_DATABASE_URL must not be the country database (it is emptied).")
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        self.say(f"province: building {officials:,} officials in {communes} communes on {backend} in {instance}")
        began = time.perf_counter()
        p = data.build_province(instance, url, instance, officials=officials, communes=communes, pool=pool_size)
        self.say(f"  built in {time.perf_counter() - began:.1f} s (migrate, sync, load-units, bulk insert, sync)")
        self.figures["province"] = {"database": backend, "officials": officials, "communes": p.communes}

        app = self.server("province", "wsgi:app", p.env, instance, "/healthz")
        bare = self.bare_server(instance)
        anon = anonymous_session(app.port)
        reader = login(Client(app.port), anon, p.reader)
        committee = login(Client(app.port), anon, p.committee)
        want = set(self.selected)

        began = time.perf_counter()
        pool = self.login_many(app.port, anon, p.pool) if want & {"quiz-start", "quiz-page", "autosave", "submit",
                                                                    "checkin"} else {}
        if pool:
            self.say(f"  {len(pool)} pool officials logged in in {time.perf_counter() - began:.1f} s "
                     "(cheap hash: not measured)")
        # The CSRF token of a form rendered for a logged-in official (the session keeps the secret).
        status, _, body = Client(app.port).request("GET", "/check-in", headers={"Cookie": reader})
        token = csrf_token(body.decode())

        lesson_path = self.find_lesson(app.port, reader, p.quiz_course)
        self.warm(app.port, [(lesson_path, reader), ("/", reader), ("/my", reader), (f"/courses/{p.quiz_course}", reader),
                             ("/my/certificates", reader), ("/reports/", committee)])

        if "floor" in want:
            self.measure("floor", "app floor GET /healthz (1 query, no page)", app, [wrk.Req("GET", "/healthz")],
                         wrk.Expect(200, body='"ok"'), bare)
        if "lesson" in want:
            self.measure("lesson", f"lesson page GET {lesson_path}", app,
                         [wrk.Req("GET", lesson_path, {"Cookie": reader})], wrk.Expect(200, body="</html>"), bare,
                         target=Target("ratio", 0.5))
        if "catalogue" in want:
            self.measure("catalogue", "catalogue GET /", app, [wrk.Req("GET", "/", {"Cookie": reader})],
                         wrk.Expect(200, body="</html>"), bare, target=Target("ratio", 0.3))
        if "my" in want:
            self.measure("my", "my training GET /my", app, [wrk.Req("GET", "/my", {"Cookie": reader})],
                         wrk.Expect(200, body="</html>"), bare, target=Target("ratio", 0.3))
        if "course" in want:
            self.measure("course", f"course page GET /courses/{p.quiz_course}", app,
                         [wrk.Req("GET", f"/courses/{p.quiz_course}", {"Cookie": reader})],
                         wrk.Expect(200, body="</html>"), bare, target=Target("ratio", 0.3))
        if "certificates" in want:
            self.measure("certificates", "my certificates GET /my/certificates", app,
                         [wrk.Req("GET", "/my/certificates", {"Cookie": reader})],
                         wrk.Expect(200, body="</html>"), bare, target=Target("ratio", 0.3))
        if "login" in want:
            headers, body = login_request(anon, p.login_user)
            self.measure("login", "log-in POST /login (Argon2id)", app, [wrk.Req("POST", "/login", headers, [body])],
                         wrk.Expect(302, not_location="/login"), bare, target=Target("rate", 30))

        slug = p.quiz_course
        if "quiz-start" in want:
            requests = [wrk.Req("POST", f"/courses/{slug}/quiz/start", {"Cookie": pool[u], "Content-Type": FORM},
                                [form_body({"csrf_token": token})]) for u in p.pool]
            row = self.measure("quiz_start", f"quiz start POST /courses/{slug}/quiz/start", app, requests,
                               wrk.Expect(302, location="/quiz/attempts/"), bare, mode="once")
            row.note = (f"each a different official; {officials:,} would start in "
                        f"{officials / row.result.rate:.0f} s" + ("; " + row.note if row.note else ""))

        attempts = self.open_attempts(p, pool) if want & {"quiz-page", "autosave", "submit"} else []
        if want & {"quiz-page", "autosave", "submit"} and not attempts:
            attempts = self.start_some(app.port, pool, p, token, 300)
        reserved = attempts[:1]  # stays open for the page weight below
        forms = self.fill_attempts(app.port, attempts) if attempts else {}
        if "quiz-page" in want and attempts:
            self.measure("quiz_page", "quiz attempt page GET /quiz/attempts/<id>", app,
                         [wrk.Req("GET", f"/quiz/attempts/{a}", {"Cookie": c}) for a, c in attempts],
                         wrk.Expect(200, body="attempt-form"), bare, target=Target("ratio", 0.3),
                         note=f"{len(attempts)} attempts in turn")
        if "autosave" in want and attempts:
            requests = []
            for attempt_id, cookie in attempts[1:65]:
                boundary = f"----WebKitFormBoundary{attempt_id:016d}"
                bodies = [pages.multipart(forms[attempt_id][variant], boundary)[0] for variant in (0, 1)]
                content_type = f"multipart/form-data; boundary={boundary}"
                requests.append(wrk.Req("POST", f"/quiz/attempts/{attempt_id}/save", {
                    "Cookie": cookie, "Content-Type": content_type, "Accept": "application/json",
                    "X-Requested-With": "fetch"}, bodies))
            self.measure("autosave", "quiz autosave POST /quiz/attempts/<id>/save (JSON)", app, requests,
                         wrk.Expect(200, body='"saved"'), bare, target=Target("ratio", 0.2),
                         note=f"{len(requests)} attempts, answers changed at each save, multipart as fetch(FormData)")
        if "submit" in want and len(attempts) > 1:
            requests = [wrk.Req("POST", f"/quiz/attempts/{a}/submit", {"Cookie": c, "Content-Type": FORM},
                                [form_body(forms[a][0])]) for a, c in attempts[1:]]
            self.measure("quiz_submit", "quiz submit POST /quiz/attempts/<id>/submit", app, requests,
                         wrk.Expect(302, location="/review"), bare, mode="once", target=Target("ratio", 0.1),
                         note="each a different attempt, all answers filled in")
        if "checkin" in want:
            requests = [wrk.Req("POST", "/check-in", {"Cookie": pool[u], "Content-Type": FORM},
                                [form_body({"csrf_token": token, "code": p.checkin_code})]) for u in p.pool]
            self.measure("checkin", "self check-in POST /check-in", app, requests,
                         wrk.Expect(302, location="/check-in/"), bare, mode="once",
                         note="each a different official, one session for the whole province")
        if "report-province" in want:
            self.measure("report_province", f"committee report GET /reports/ (province, {backend})", app,
                         [wrk.Req("GET", "/reports/", {"Cookie": committee})], wrk.Expect(200, body="</html>"), bare,
                         single_user=True)

        rss = app.worker_rss_mb()
        self.figures["worker_rss_mb"] = max(rss) if rss else None
        self.figures["worker_rss_mb_each"] = rss
        self.say(f"  worker RSS after the load: {', '.join(f'{r:.0f} MB' for r in rss)}")

        weights = {"lesson": (lesson_path, reader), "report": ("/reports/", committee)}
        if reserved:
            weights["quiz"] = (f"/quiz/attempts/{reserved[0][0]}", reserved[0][1])
        for name, (path, cookie) in weights.items():
            weight = pages.page_weight(app.port, path, cookie)
            self.figures[f"{name}_page_bytes"] = weight.total
            self.figures[f"{name}_page_bytes_gzip"] = (weight.total_gzip_requested if weight.server_gzips
                                                       else None)
            self.figures[f"{name}_page_bytes_if_gzipped"] = weight.total_if_gzipped
            self.figures.setdefault("page_weights", {})[name] = asdict(weight) | {"path": path}
            self.say(f"  {name} page with assets: {weight.describe()}")
        self.stop(app)

    def login_many(self, port: int, anon, usernames: list[str]) -> dict[str, str]:
        local = threading.local()

        def one(username):
            if not hasattr(local, "client"):
                local.client = Client(port)
            return username, login(local.client, anon, username)

        with ThreadPoolExecutor(8) as executor:
            return dict(executor.map(one, usernames))

    def find_lesson(self, port: int, cookie: str, slug: str) -> str:
        import re
        client = Client(port)
        status, _, body = client.request("GET", f"/courses/{slug}", headers={"Cookie": cookie})
        links = re.findall(r'href="(/courses/' + re.escape(slug) + r'/[^"/?#]+)"', body.decode())
        lessons = list(dict.fromkeys(link for link in links if not link.endswith("/quiz")))
        if status != 200 or not lessons:
            raise RuntimeError(f"no lesson link on /courses/{slug} ({status})")
        return lessons[min(1, len(lessons) - 1)]  # the second lesson: a typical one, with neighbours

    def warm(self, port: int, paths: list[tuple[str, str]], times: int = 20) -> None:
        client = Client(port)
        for path, cookie in paths:
            for _ in range(times):
                client.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        client.close()

    def open_attempts(self, p: data.Province, pool: dict[str, str]) -> list[tuple[int, str]]:
        from sqlalchemy import select
        engine = data.engine_for(p.database_url)
        t = data.tables()
        qa, user = t["quiz_attempt"], t["user_account"]
        with engine.connect() as conn:
            rows = conn.execute(select(qa.c.id, user.c.username).join(user, user.c.id == qa.c.user_id)
                                .where(qa.c.state == "in_progress").order_by(qa.c.id)).all()
        engine.dispose()
        return [(attempt_id, pool[username]) for attempt_id, username in rows if username in pool]

    def start_some(self, port: int, pool: dict[str, str], p: data.Province, token: str, n: int):
        """Without the quiz-start scenario: start attempts for the quiz scenarios to use."""
        client = Client(port)
        for username in p.pool[:n]:
            client.request("POST", f"/courses/{p.quiz_course}/quiz/start", form_body({"csrf_token": token}),
                           {"Cookie": pool[username], "Content-Type": FORM})
        client.close()
        return self.open_attempts(p, pool)

    def fill_attempts(self, port: int, attempts: list[tuple[int, str]]) -> dict[int, list]:
        """Read each attempt page and answer its questions (two ways, for autosave to alternate)."""
        local = threading.local()
        began = time.perf_counter()

        def one(item):
            attempt_id, cookie = item
            if not hasattr(local, "client"):
                local.client = Client(port)
            status, _, body = local.client.request("GET", f"/quiz/attempts/{attempt_id}", headers={"Cookie": cookie})
            if status != 200:
                raise RuntimeError(f"attempt page {attempt_id} answered {status}")
            html = body.decode()
            rng = random.Random(attempt_id)
            return attempt_id, [pages.fill_form(html, "attempt-form", v, rng) for v in (0, 1)]

        with ThreadPoolExecutor(8) as executor:
            forms = dict(executor.map(one, attempts))
        self.say(f"  {len(attempts)} open attempts read and answered in {time.perf_counter() - began:.1f} s")
        return forms

    # --- country ----------------------------------------------------------------------

    def country(self) -> None:
        officials = int(os.environ.get("BENCH_COUNTRY_OFFICIALS", "200000"))
        instance = new_instance()
        self.instances.append(instance)
        self.say(f"country: {officials:,} officials on PostgreSQL ({COUNTRY_URL.split('@')[-1]})")
        try:
            data.ensure_pg_database(COUNTRY_URL)
        except Exception as exc:
            self.notes.append(f"country scale skipped: PostgreSQL not reachable at {COUNTRY_URL} ({exc})")
            self.say(f"  SKIPPED: {self.notes[-1]}")
            return
        c = data.build_country(instance, COUNTRY_URL, instance, officials=officials,
                               rebuild=os.environ.get("BENCH_REBUILD") == "1", say=self.say)
        self.say(f"  {'filled' if c.built else 'kept from an earlier run (counted)'}: {c.officials:,} officials, "
                 f"{c.units:,} units, in {c.seconds:.1f} s; `flask learnhub sync` with nothing to change "
                 f"takes {c.sync_seconds:.1f} s at this scale")
        self.figures["country"] = {"database": "PostgreSQL", "officials": c.officials, "units": c.units,
                                   "filled_now": c.built, "prepare_s": round(c.seconds, 1),
                                   "sync_unchanged_s": round(c.sync_seconds, 1)}
        app = self.server("country", "wsgi:app", c.env, instance, "/healthz")
        anon = anonymous_session(app.port)
        admin = login(Client(app.port), anon, c.admin)
        committee = login(Client(app.port), anon, c.committee)
        self.warm(app.port, [("/reports/", admin), ("/reports/", committee)], times=5)
        bare = self.bare_server(instance)
        # The country's programme with its figures: the certification chart is drawn only then.
        figures = wrk.Expect(200, body='id="chart-certified"')
        self.measure("report_country", f"report GET /reports/ (country, {c.officials:,} officials, admin)", app,
                     [wrk.Req("GET", "/reports/", {"Cookie": admin})], figures, bare,
                     target=Target("p95", 100), note="admin: 63 provinces", single_user=True)
        self.measure("report_country_province", "report GET /reports/ (one province of the country, committee)",
                     app, [wrk.Req("GET", "/reports/", {"Cookie": committee})], figures, bare,
                     target=Target("p95", 100), note="committee of one province: 11 districts", single_user=True)
        count_ms = data.count_officials_ms(COUNTRY_URL)
        self.figures["count_officials_ms_country_pg"] = round(count_ms, 2)
        self.say(f"  a plain count of the {c.officials:,} officials: {count_ms:.1f} ms (the floor for such a report)")
        rss = app.worker_rss_mb()
        self.figures["worker_rss_mb_country"] = max(rss) if rss else None
        self.say(f"  worker RSS after the load: {', '.join(f'{r:.0f} MB' for r in rss)}")
        weight = pages.page_weight(app.port, "/reports/", admin)
        self.figures["report_page_bytes_country"] = weight.total
        self.say(f"  country report page with assets: {weight.describe()}")
        self.stop(app)

    # --- output -----------------------------------------------------------------------

    def table(self) -> str:
        head = (f"{'scenario':<62} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'bare/s':>8} {'ratio':>6} "
                f"{'CPU ms':>7} {'bare':>5} {'ratio':>6}  {'target':<16} verdict")
        lines = [head, "-" * len(head)]
        legend = ("req/s: good responses per second; bare/s and ratio: the bare page of the same body size, "
                  "same settings; CPU ms: server CPU per response (app, bare) and their ratio, which other "
                  "processes on the machine barely move (PostgreSQL's own CPU not included).")
        for row in self.rows:
            r = row.result
            bare = f"{row.bare.rate:8.0f}" if row.bare else f"{'':>8}"
            ratio = f"{row.ratio:6.2f}" if row.ratio is not None else f"{'':>6}"
            cpu = f"{r.server_cpu_ms:7.2f}" if r.server_cpu_ms is not None else f"{'':>7}"
            bare_cpu = (f"{row.bare.server_cpu_ms:5.2f}" if row.bare and row.bare.server_cpu_ms is not None
                        else f"{'':>5}")
            cpu_ratio = f"{row.cpu_ratio:6.2f}" if row.cpu_ratio is not None else f"{'':>6}"
            lines.append(f"{row.title[:62]:<62} {r.rate:8.1f} {r.p50_ms:8.1f} {r.p95_ms:8.1f} {bare} {ratio} "
                         f"{cpu} {bare_cpu} {cpu_ratio}  {row.target.text() if row.target else '':<16} {row.verdict()}")
        notes = [f"  {row.key}: {row.note}" for row in self.rows if row.note]
        lines += ["", legend]
        if notes:
            lines += ["", "notes:", *notes]
        return "\n".join(lines)

    def results(self) -> dict:
        by_key = {row.key: row for row in self.rows}

        def ratio(key):
            row = by_key.get(key)
            return round(row.ratio, 3) if row and row.ratio is not None else None

        def p95(key):
            row = by_key.get(key)
            return round(row.result.p95_ms, 1) if row else None

        out = {
            "floor_ratio": ratio("floor"),
            "lesson_ratio": ratio("lesson"),
            "catalogue_ratio": ratio("catalogue"),
            "my_ratio": ratio("my"),
            "course_ratio": ratio("course"),
            "certificates_ratio": ratio("certificates"),
            "quiz_page_ratio": ratio("quiz_page"),
            "quiz_start_ratio": ratio("quiz_start"),
            "autosave_ratio": ratio("autosave"),
            "quiz_submit_ratio": ratio("quiz_submit"),
            "checkin_ratio": ratio("checkin"),
            "login_per_s": round(by_key["login"].result.rate, 1) if "login" in by_key else None,
            "quiz_start_per_s": round(by_key["quiz_start"].result.rate, 1) if "quiz_start" in by_key else None,
            "quiz_start_p95_ms_province": p95("quiz_start"),
            "report_p95_ms_province": p95("report_province"),
            "report_p95_ms_country_pg": p95("report_country"),
            "report_p95_ms_country_pg_one_province": p95("report_country_province"),
            "lesson_page_bytes": self.figures.get("lesson_page_bytes"),
            "quiz_page_bytes": self.figures.get("quiz_page_bytes"),
            "report_page_bytes": self.figures.get("report_page_bytes"),
            "worker_rss_mb": self.figures.get("worker_rss_mb"),
        }
        out.update({k: v for k, v in self.figures.items() if k not in out})
        out["scenarios"] = {row.key: {
            "title": row.title, "rate": round(row.result.rate, 1), "p50_ms": row.result.p50_ms,
            "p95_ms": row.result.p95_ms, "p99_ms": row.result.p99_ms, "ok": row.result.ok, "bad": row.result.bad,
            "errors": row.result.errors, "body_bytes": round(row.result.body_bytes_avg),
            "bare_rate": round(row.bare.rate, 1) if row.bare else None,
            "bare_p95_ms": row.bare.p95_ms if row.bare else None,
            "cpu_others_app": round(row.result.cpu_others, 2) if row.result.cpu_others is not None else None,
            "cpu_others_bare": round(row.bare.cpu_others, 2) if row.bare and row.bare.cpu_others is not None else None,
            "ratio": round(row.ratio, 3) if row.ratio is not None else None,
            "server_cpu_ms": round(row.result.server_cpu_ms, 3) if row.result.server_cpu_ms is not None else None,
            "bare_server_cpu_ms": (round(row.bare.server_cpu_ms, 3) if row.bare and row.bare.server_cpu_ms is not None
                                   else None),
            "cpu_ratio": round(row.cpu_ratio, 3) if row.cpu_ratio is not None else None,
            "target": row.target.text() if row.target else None, "verdict": row.verdict(), "note": row.note,
        } for row in self.rows}
        out["notes"] = self.notes
        out["settings"] = {"wrk": wrk.settings(), "gunicorn": f"--workers {WORKERS} --threads {THREADS} --access-logfile -",
                           "machine": f"{os.cpu_count()} cores, {platform.platform()}",
                           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "total_s": round(time.perf_counter() - self.started, 1)}
        return out


def main(argv: list[str]) -> int:
    selected = argv or ALL
    unknown = [s for s in selected if s not in ALL]
    if unknown:
        print(f"unknown scenario(s) {unknown}; choose from {ALL}", file=sys.stderr)
        return 2
    if not Path(wrk.WRK).exists():
        print("wrk is not installed (make bench installs it with apt-get)", file=sys.stderr)
        return 2
    bench = Bench(selected)
    load = os.getloadavg()[0]
    print(f"LearnHub bench: gunicorn --workers {WORKERS} --threads {THREADS} (as make run); {wrk.settings()} per "
          f"scenario unless noted; {os.cpu_count()} cores; load average {load:.2f} at the start")
    if load > 0.5:
        print("  (other processes are using the CPU: rates are lower and noisier than on a quiet machine)")
    bench.figures["load_average_start"] = round(load, 2)
    error = None
    try:
        if set(selected) & set(PROVINCE_SCENARIOS):
            bench.province()
        if set(selected) & set(COUNTRY_SCENARIOS):
            bench.country()
    except KeyboardInterrupt:
        error = "interrupted"
    except Exception:
        error = traceback.format_exc()
        print(error, file=sys.stderr)
    finally:
        bench.cleanup()
    if error:
        bench.notes.append("INCOMPLETE: " + error.strip().splitlines()[-1])
    bench.figures["load_average_end"] = round(os.getloadavg()[0], 2)
    results = bench.results()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print()
    print(bench.table())
    print()
    for key in ("lesson", "quiz", "report"):
        w = results.get("page_weights", {}).get(key)
        if w:
            print(f"{key} page with its assets: {w['total']:,} B "
                  f"({'gzip: ' + format(w['total_gzip_requested'], ',') + ' B' if w['server_gzips'] else 'server does not compress; gzip would make it ' + format(w['total_if_gzipped'], ',') + ' B'})")
    if results.get("worker_rss_mb_each"):
        print(f"gunicorn worker RSS after the province load: {', '.join(f'{r:.0f} MB' for r in results['worker_rss_mb_each'])}"
              + (f"; after the country load: max {results['worker_rss_mb_country']:.0f} MB"
                 if results.get("worker_rss_mb_country") else ""))
    others = [s["cpu_others_app"] for s in results["scenarios"].values() if s.get("cpu_others_app") is not None]
    if others:
        results["cpu_others_mean"] = round(sum(others) / len(others), 2)
        (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        if results["cpu_others_mean"] > 0.15:
            print(f"WARNING: other processes took {100 * results['cpu_others_mean']:.0f}% of the CPU on average during "
                  "the app runs: rates are low and ratios noisy; run again on a quiet machine.")
    for note in bench.notes:
        print(note)
    print(f"total {results['settings']['total_s']:.0f} s; written to {RESULTS / 'latest.json'}")
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
