"""Helpers for the benchmarks: gunicorn servers, the flask CLI, a small HTTP client.

Everything runs on 127.0.0.1. Every process started here is stopped by the caller
through ``Server.stop()`` (in a ``finally``), so Ctrl+C or an error leaves nothing behind.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
# The flags of `make run`: 2 workers of 4 threads, access log on stdout.
WORKERS = int(os.environ.get("WORKERS", "2"))
THREADS = 4
SECRET_KEY = "bench-secret-key-not-for-production"
PASSWORD = "bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def gunicorn_command(target: str, port: int) -> list[str]:
    return [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--threads", str(THREADS),
            "--bind", f"{HOST}:{port}", "--access-logfile", "-", target]


class Server:
    """A gunicorn master (in its own process group) and its workers."""

    def __init__(self, name: str, target: str, env: dict, log_dir: str, ready_path: str = "/healthz"):
        self.name = name
        self.port = free_port()
        self.log_path = Path(log_dir) / f"gunicorn-{name}.log"
        self._log = open(self.log_path, "wb")
        # stdout (the access log) is discarded, as a terminal would scroll it away; errors are kept.
        self.proc = subprocess.Popen(gunicorn_command(target, self.port), cwd=ROOT,
                                     env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                     stderr=self._log, start_new_session=True)
        try:
            self._wait_ready(ready_path)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited:\n{self.log_tail()}")
            try:
                status, _, _ = Client(self.port, timeout=2).request("GET", path)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} did not answer {path} in {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        children = set()
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            try:
                children.update(int(p) for p in task.read_text().split())
            except OSError:
                pass
        return sorted(children)

    def worker_rss_mb(self) -> list[float]:
        """VmRSS of each worker (the master only forks and watches them)."""
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            if match:
                sizes.append(round(int(match.group(1)) / 1024, 1))
        return sizes

    def stop(self) -> None:
        if self.proc.poll() is None:
            # SIGINT: gunicorn's quick shutdown (workers stop at once, no 30 s grace).
            try:
                self.proc.send_signal(signal.SIGINT)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this Popen created
                self.proc.wait(timeout=5)
        self._log.close()


def flask_cli(env: dict, *args: str, log_dir: str) -> str:
    """Run `flask <args>` for the app in ``env``; its output, or its log on failure."""
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env={**os.environ, "FLASK_APP": "wsgi", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(Path(log_dir) / "flask-cli.log", "a") as log:
        log.write(f"$ flask {' '.join(args)}\n{result.stdout}\n")
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}")
    return result.stdout


def new_instance() -> str:
    return tempfile.mkdtemp(prefix="learnhub-bench-")


def app_env(instance: str, database_url: str) -> dict:
    return {
        "LEARNHUB_INSTANCE_PATH": instance,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "FLASK_APP": "wsgi",
        # Every login comes from 127.0.0.1 here; the per-address limit would stop the bench.
        "RATELIMIT_LOGIN": "10000000 per minute",
    }


# --- HTTP ----------------------------------------------------------------------------


class Client:
    """One keep-alive connection; returns (status, headers, body)."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response.headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # keep-alive closed by the server between requests: reconnect once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def cookie_from(headers: http.client.HTTPMessage, name: str = "session") -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        pair = value.split(";", 1)[0]
        if pair.startswith(name + "="):
            return pair
    return None


CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')


def csrf_token(html: str) -> str:
    """The token of a form's hidden csrf_token input."""
    tag = CSRF_RE.search(html)
    value = re.search(r'value="([^"]+)"', tag.group(0)) if tag else None
    if value is None:
        raise RuntimeError("no csrf_token input on the page")
    return value.group(1)


def form_body(fields: dict | list) -> str:
    return urllib.parse.urlencode(fields)


@dataclass
class Anonymous:
    """A visitor's session cookie (holding the CSRF secret) and the login form's token."""
    cookie: str
    token: str


def anonymous_session(port: int) -> Anonymous:
    status, headers, body = Client(port).request("GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    cookie = cookie_from(headers)
    if cookie is None:
        raise RuntimeError("GET /login set no session cookie")
    return Anonymous(cookie, csrf_token(body.decode()))


def login_request(anon: Anonymous, username: str, password: str = PASSWORD) -> tuple[dict, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": anon.cookie}
    return headers, form_body({"csrf_token": anon.token, "username": username, "password": password})


def login(client: Client, anon: Anonymous, username: str, password: str = PASSWORD) -> str:
    """Log in as the form does; returns the logged-in session cookie."""
    headers, body = login_request(anon, username, password)
    status, response_headers, _ = client.request("POST", "/login", body, headers)
    location = response_headers.get("Location", "")
    cookie = cookie_from(response_headers)
    if status != 302 or "/login" in location or "/account/password" in location or cookie is None:
        raise RuntimeError(f"login of {username} failed: {status} {location}")
    return cookie
