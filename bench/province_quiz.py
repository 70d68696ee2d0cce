"""Province rehearsal: 1,000 officials each save 14 answers and submit within 10 minutes.

Run: .venv/bin/python bench/province_quiz.py [officials] [minutes] [seed]

On PostgreSQL (BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/bench_autosave; created if missing,
emptied first), against gunicorn with ``make run``'s flags (2 workers, 4 threads).

Before the window: every official has the final quiz of qms-basics (14 questions)
started, and a session: the first 16 log in through the form, the others get the
session cookie such a login gives (signed with the instance's key; logins are
what bench/quiz_start.py measures). In the window,
each official answers one question at a time: after each answer the page's
script sends the whole form (``POST .../save``, JSON accepted) holding the
answers given so far, then the official submits the whole form. Officials begin
within the first tenth of the window and take between half and nine tenths of it,
with random pauses between answers; an official never sends a request before
the previous one has been answered.

Reported: p50/p95/p99/max of save and of submit, and whether everything fitted in
the window. Then the database is checked: every attempt graded exactly once (one
``quiz.result`` audit entry each), every answer stored by its autosave before the
submit (so the submit had nothing left to add), every stored mark equal to the
grade of the stored response, and every score full (every answer given was right).
Exits non-zero if any check fails or any request failed.
"""
from __future__ import annotations

import heapq
import http.client
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.autosave import COURSE, Server, instance, login_all, populate  # noqa: E402

OFFICIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
MINUTES = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 15
REAL_LOGINS = 16  # logins are measured by bench/quiz_start.py; here they only set the stage
CLIENTS = 64  # requests in flight at most (officials waiting for an answer from the server)


def forms(official: dict) -> list[str]:
    """The 14 autosaves (answers 1..k given) and the submit (all given), as bodies."""
    pairs = official["saved"]  # every answer, right; "qN-shown" markers first for each slot
    slots = sorted({int(k[1:].split("-")[0]) for k, _v in pairs})
    markers = [(k, v) for k, v in pairs if k.endswith("-shown")]
    bodies = []
    for k in range(1, len(slots) + 1):
        given = [(key, v) for key, v in pairs if not key.endswith("-shown")
                 and int(key[1:].split("-")[0]) in slots[:k]]
        bodies.append(urllib.parse.urlencode([("csrf_token", official["token"]), *markers, *given]))
    bodies.append(bodies[-1])  # the submit posts the whole form, as the last save did
    return bodies


def plan(rng: random.Random, steps: int, window: float) -> list[float]:
    """When the official means to send each request, in seconds from the window's start."""
    start = rng.uniform(0, 0.1 * window)
    duration = rng.uniform(0.5 * window, 0.9 * window)
    pauses = [rng.expovariate(1.0) for _ in range(steps)]
    total = sum(pauses)
    times, t = [], start
    for pause in pauses:
        t += duration * pause / total
        times.append(t)
    return times


def send(port: int, official: dict, step: int, body: str) -> tuple[str, float, bool]:
    submit = step == 14
    path = f"/quiz/attempts/{official['attempt']}/{'submit' if submit else 'save'}"
    headers = {"Cookie": official["cookie"], "Content-Type": "application/x-www-form-urlencoded"}
    if not submit:
        headers.update({"Accept": "application/json", "X-Requested-With": "fetch"})
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if submit:
            ok = response.status == 302 and response.getheader("Location", "").endswith("/review")
        else:
            ok = response.status == 200 and b'"saved"' in payload
    except OSError:
        ok = False
    finally:
        conn.close()
    return ("submit" if submit else "save"), time.perf_counter() - began, ok


def run_window(port: int, officials: list[dict], window: float) -> dict:
    rng = random.Random(SEED)
    bodies = [forms(o) for o in officials]
    schedule = [plan(rng, len(b), window) for b in bodies]
    latencies = {"save": [], "submit": []}
    failures = []
    due: list[tuple[float, int, int]] = [(schedule[i][0], i, 0) for i in range(len(officials))]
    heapq.heapify(due)
    lock = threading.Condition()
    outstanding = [len(officials)]
    began = time.perf_counter()

    def done(i: int, step: int, future) -> None:
        kind, seconds, ok = future.result()
        with lock:
            latencies[kind].append(seconds)
            if not ok:
                failures.append((officials[i]["username"], step))
            if step + 1 < len(bodies[i]):
                # The next answer comes after the planned pause, never before this reply.
                at = max(schedule[i][step + 1], time.perf_counter() - began)
                heapq.heappush(due, (at, i, step + 1))
            else:
                outstanding[0] -= 1
            lock.notify()

    with ThreadPoolExecutor(CLIENTS) as pool:
        with lock:
            while outstanding[0]:
                now = time.perf_counter() - began
                if due and due[0][0] <= now:
                    _at, i, step = heapq.heappop(due)
                    future = pool.submit(send, port, officials[i], step, bodies[i][step])
                    future.add_done_callback(lambda f, i=i, step=step: done(i, step, f))
                else:
                    lock.wait(timeout=(due[0][0] - now) if due else 1.0)
    elapsed = time.perf_counter() - began
    return {"latencies": latencies, "failures": failures, "elapsed": elapsed}


def check_database(officials: list[dict]) -> list[str]:
    """What the database holds after the rehearsal; returns the problems found."""
    from sqlalchemy import func, select

    from bench.autosave import _app
    from learnhub.audit.models import AuditEntry
    from learnhub.extensions import db
    from learnhub.quizzes.grading import grade
    from learnhub.quizzes.models import AttemptAnswer, Question, QuizAttempt

    problems = []
    ids = [o["attempt"] for o in officials]
    app = _app()
    with app.app_context():
        attempts = {a.id: a for a in db.session.scalars(select(QuizAttempt).where(QuizAttempt.id.in_(ids)))}
        not_graded = [i for i in ids if attempts[i].state != "graded"]
        if not_graded:
            problems.append(f"{len(not_graded)} attempts not graded, e.g. {not_graded[:5]}")
        short = [i for i in ids if attempts[i].score != attempts[i].max_score]
        if short:
            problems.append(f"{len(short)} attempts without a full score, e.g. "
                            f"{[(i, attempts[i].score) for i in short[:5]]}")
        results = dict(db.session.execute(
            select(AuditEntry.object_id, func.count()).where(AuditEntry.action == "quiz.result",
                                                             AuditEntry.object_type == "quiz_attempt")
            .group_by(AuditEntry.object_id)).all())
        not_once = [i for i in ids if results.get(str(i)) != 1]
        if not_once:
            problems.append(f"{len(not_once)} attempts not graded exactly once, e.g. "
                            f"{[(i, results.get(str(i), 0)) for i in not_once[:5]]}")
        rows = db.session.execute(
            select(AttemptAnswer.attempt_id, AttemptAnswer.slot, AttemptAnswer.response, AttemptAnswer.saved_at,
                   AttemptAnswer.fraction, Question.qtype, Question.data)
            .join(Question, Question.id == AttemptAnswer.question_id)
            .where(AttemptAnswer.attempt_id.in_(ids))).all()
        answers = len(rows)
        unsaved = [(r.attempt_id, r.slot) for r in rows if r.response is None or r.saved_at is None
                   or r.saved_at >= attempts[r.attempt_id].submitted_at]
        if unsaved:
            problems.append(f"{len(unsaved)} answers not stored by their autosave before the submit, "
                            f"e.g. {unsaved[:5]}")
        regraded = [(r.attempt_id, r.slot) for r in rows if grade(r.qtype, r.data, r.response).fraction != r.fraction]
        if regraded:
            problems.append(f"{len(regraded)} stored marks differ from the grade of the stored response, "
                            f"e.g. {regraded[:5]}")
        db.engine.dispose()
    print(f"database: {len(attempts)} attempts, {answers} answers, "
          f"{sum(1 for i in ids if results.get(str(i)) == 1)} graded exactly once")
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    window = MINUTES * 60
    env = instance("postgresql")
    began = time.perf_counter()
    officials = populate(OFFICIALS, presave=False)
    print(f"{OFFICIALS} officials, the quiz of {COURSE} started for each: prepared in "
          f"{time.perf_counter() - began:.0f} s")
    with Server("wsgi:app", env) as app:
        began = time.perf_counter()
        real = min(REAL_LOGINS, OFFICIALS)
        login_all(app.port, officials, real=real)
        print(f"logins: {real} through the form in {time.perf_counter() - began:.0f} s (one scrypt check each); "
              f"the other {OFFICIALS - real} officials get the session such a login gives")
        result = run_window(app.port, officials, window)
    print(f"PostgreSQL, gunicorn --workers 2 --threads 4; window {MINUTES:g} min, seed {SEED}")
    for kind in ("save", "submit"):
        values = [v * 1000 for v in result["latencies"][kind]]
        print(f"{kind:6s} n={len(values):6d}  p50 {percentile(values, 50):7.1f} ms  p95 {percentile(values, 95):7.1f} ms"
              f"  p99 {percentile(values, 99):7.1f} ms  max {max(values):7.1f} ms  mean {statistics.mean(values):6.1f} ms")
    requests = sum(len(v) for v in result["latencies"].values())
    print(f"{requests} requests in {result['elapsed']:.0f} s ({requests / result['elapsed']:.1f} per second); "
          f"last submit answered {'within' if result['elapsed'] <= window else 'AFTER'} the {MINUTES:g} minutes")
    problems = check_database(officials)
    if result["failures"]:
        problems.append(f"{len(result['failures'])} requests failed, e.g. {result['failures'][:5]}")
    if result["elapsed"] > window:
        problems.append("the rehearsal did not fit in the window")
    for problem in problems:
        print("PROBLEM:", problem)
    print("all checks passed" if not problems else f"{len(problems)} checks FAILED")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
