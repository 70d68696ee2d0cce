"""Drive a server with wrk and bench/bench.lua; read back rates and latencies."""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("bench.lua")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
SECONDS = max(1, int(os.environ.get("BENCH_SECONDS", "5")))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))


def settings() -> str:
    return f"wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s"


@dataclass
class Req:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    bodies: list[str] = field(default_factory=lambda: [""])


@dataclass
class Expect:
    status: int
    location: str | None = None
    not_location: str | None = None
    body: str | None = None


@dataclass
class Result:
    rate: float          # good responses per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    ok: int
    bad: int
    errors: dict
    body_bytes_avg: float
    exhausted: bool
    seconds: float
    first_bad: str
    cpu_others: float | None = None   # share of the machine's CPU used by other processes meanwhile
    server_cpu_ms: float | None = None  # CPU the server's processes spent per good response


    def problems(self) -> str:
        errs = {k: v for k, v in self.errors.items() if v}
        notes = []
        if self.bad:
            notes.append(f"{self.bad} unexpected responses (first: {self.first_bad[:160]!r})")
        if errs:
            notes.append(f"socket/status errors {errs}")
        if self.exhausted:
            notes.append("every prepared request was sent before the time was up; rate counted to the last response")
        return "; ".join(notes)


def _busy_ticks() -> int:
    """CPU ticks the whole machine spent busy since boot (all cores)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values[:8]) - idle


def _pid_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def _lua(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "nil"
    if isinstance(value, str):
        out = []
        for byte in value.encode("utf-8"):
            ch = chr(byte)
            out.append(ch if 32 <= byte < 127 and ch not in '"\\' else f"\\{byte:03d}")
        return '"' + "".join(out) + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    raise TypeError(type(value))


def run(url: str, requests: list[Req], expect: Expect, *, mode: str = "cycle",
        seconds: int | None = None, threads: int | None = None, connections: int | None = None,
        server_pids: list[int] | None = None) -> Result:
    """``server_pids``: the server's processes, for the CPU they spend per response and the CPU
    other processes took meanwhile (a busy machine lowers every rate; the bare rate shows it too)."""
    threads = threads or THREADS
    connections = connections or CONNECTIONS
    seconds = max(1, int(seconds or SECONDS))  # wrk takes whole seconds
    plan = {
        "mode": mode, "threads": threads,
        "expect": {"status": expect.status, "location": expect.location, "not_location": expect.not_location,
                   "body": expect.body},
        "requests": [{"method": r.method, "path": r.path, "headers": r.headers, "bodies": r.bodies}
                     for r in requests],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-plan-", delete=False) as f:
        f.write("return " + _lua(plan) + "\n")
        plan_path = f.name
    tick = os.sysconf("SC_CLK_TCK")
    busy0, ours0 = _busy_ticks(), _pid_ticks(server_pids or [])
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    try:
        proc = subprocess.run(
            [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
             "-s", str(LUA_SCRIPT), url],
            env={**os.environ, "BENCH_PLAN": plan_path}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=seconds + 120)
    finally:
        os.unlink(plan_path)
    wall = time.monotonic() - began
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_ticks = ((children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)) * tick
    server_ticks = _pid_ticks(server_pids or []) - ours0
    others = (_busy_ticks() - busy0) - server_ticks - wrk_ticks
    cpu_others = max(0.0, others / (tick * wall * (os.cpu_count() or 1))) if server_pids and wall > 0 else None
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    data = json.loads(line[len("BENCH_RESULT "):])
    exhausted = bool(data["exhausted"])
    elapsed = data["active_s"] if exhausted else data["duration_s"]
    return Result(
        rate=data["ok"] / elapsed if elapsed > 0 else 0.0,
        p50_ms=data["p50_ms"], p95_ms=data["p95_ms"], p99_ms=data["p99_ms"],
        ok=data["ok"], bad=data["bad"], errors=data["errors"],
        body_bytes_avg=data["body_bytes"] / data["ok"] if data["ok"] else 0.0,
        exhausted=exhausted, seconds=elapsed, first_bad=data["first_bad"], cpu_others=cpu_others,
        server_cpu_ms=1000 * server_ticks / tick / data["ok"] if server_pids and data["ok"] else None)
