"""Helpers for the benchmarks: a prepared instance, gunicorn servers, a load loop."""
from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(target: str, env: dict, workers: int = 2) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [GUNICORN, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn {target} did not start")


def _worker(port: int, path: str, headers: dict, seconds: float, queue) -> None:
    count = errors = 0
    end = time.time() + seconds
    while time.time() < end:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                count += 1
            else:
                errors += 1
        except OSError:
            errors += 1
        finally:
            conn.close()
    queue.put((count, errors))


def measure(port: int, path: str, headers: dict | None = None, seconds: float = 5.0,
            clients: int = 4) -> float:
    """Requests per second that succeed, from ``clients`` processes for ``seconds``."""
    queue = mp.Queue()
    procs = [mp.Process(target=_worker, args=(port, path, headers or {}, seconds, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    if errors:
        print(f"  ({errors} failed requests on {path})")
    return ok / seconds


def prepared_instance() -> dict:
    """A fresh instance folder with migrated SQLite and the real courses synced."""
    instance = tempfile.mkdtemp(prefix="learnhub-bench-")
    env = {"LEARNHUB_INSTANCE_PATH": instance, "SECRET_KEY": "bench-secret", "FLASK_APP": "wsgi"}
    env.pop("DATABASE_URL", None)
    flask = str(Path(sys.executable).with_name("flask"))
    for args in (["db", "upgrade"], ["learnhub", "sync"]):
        subprocess.run([flask, *args], cwd=ROOT, env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return env
