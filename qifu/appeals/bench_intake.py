"""`qifu bench appeals`: appeal intake, the appeals list, its filters and search at a million appeals (issue 10).

1. The data: `--appeals` synthetic appeals with their events in the region `bench-stats`, loaded (COPY, hash chains)
   and reused exactly as `qifu bench stats` does (`qifu.appeals.bench.prepare`): both benchmarks share one load.
2. The production server: `qifu serve` (gunicorn, gthread; `--workers`/`--threads` or QIFU_WEB_WORKERS/THREADS,
   2 × 4 by default) started as a child process on a free port of 127.0.0.1, without the scheduler, on the
   configured database; stopped at the end.
3. Intake: C clients at once (1, 8, 32 by default), each a thread with one keep-alive HTTP connection, POST
   `/api/v1/appeals` with an API token of the region's dispatcher and an Idempotency-Key of its own, for
   `--seconds` after a short warm-up; throughput (answers 201 per second) and latency p50/p95/p99.
4. The lists over the same HTTP: the page `/appeals/?…` (the dispatcher's session) and `GET /api/v1/appeals?…`
   (the token), each filter `--list-runs` times one after another; p95 per filter. Search (`q`) is timed the
   same way: a word of the titles, part of an enterprise's name, an exact appeal number.

Targets (issue 10): intake at 32 clients ≥ 200 appeals/s with p99 < 300 ms; every list, filter and search
p95 < 200 ms. Each is printed PASS or FAIL; `qifu bench appeals` exits 1 on any FAIL.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

from . import bench

INTAKE_RATE = 200.0  # appeals per second at 32 clients
INTAKE_P99 = 0.300  # seconds
LIST_P95 = 0.200  # seconds
TARGET_CLIENTS = 32
TOKEN_NAME = "bench-appeals"


@dataclass
class IntakeRun:
    clients: int
    seconds: float
    ok: int
    errors: int
    latencies: list[float]  # seconds, answers 201 only
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # "server" / "database" → CPU seconds in the window

    def cpu_ms(self, part: str) -> float | None:
        """CPU milliseconds per appeal filed of the server's workers or the database's backends (Linux)."""
        return self.cpu[part] / self.ok * 1000 if self.ok and part in self.cpu else None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies, p)


@dataclass
class Figures:
    appeals: int
    mix: dict = field(default_factory=dict)
    intake: list[IntakeRun] = field(default_factory=list)
    lists: dict[str, list[float]] = field(default_factory=dict)  # "page …" / "API …" → seconds of each run
    checks: dict[str, bool] = field(default_factory=dict)
    server: str = ""


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100), nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


# --- the server ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`qifu serve` as a child process (its own process group), on the configured database."""

    def __init__(self, workers: int | None = None, threads: int | None = None, log_path: str | None = None,
                 source: str | None = None):
        self.port = free_port()
        args = [sys.executable, "-m", "qifu", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--no-scheduler"]
        if workers:
            args += ["--workers", str(workers)]
        if threads:
            args += ["--threads", str(threads)]
        self.log_path = log_path or os.devnull
        self._log = open(self.log_path, "w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if source:  # another checkout's code (e.g. the main branch), to compare two versions on one database
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.abspath(source), env.get("PYTHONPATH")]))
        # `python -m` puts the working directory first on sys.path: the other checkout's, for its code
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=env, cwd=os.path.abspath(source) if source else None,
                                        start_new_session=True)
        self.describe = " ".join(args[2:]) + (f" (code of {source})" if source else "")

    def wait(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"qifu serve exited with {self.process.returncode} (log: {self.log_path})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"qifu serve did not answer within {timeout} s (log: {self.log_path})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        try:  # anything left of its group (the workers), never other processes
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


# --- CPU accounting (Linux /proc; the database on this machine) ---------------------------------------------

def _ticks(pid: int) -> int:
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


class CpuMeter:
    """CPU seconds used by the server's worker processes and by the database's backends serving them, between
    two `snap()`s: what an appeal costs whatever else the machine does (the elapsed time depends on the share of
    the cores the other work leaves). Nothing on platforms without /proc or with a remote database."""

    def __init__(self, server_pid: int):
        from django.db import connection

        self.server_pid, self.backends = server_pid, []
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.local = os.path.exists(f"/proc/{server_pid}/stat")
        if self.local and connection.vendor == "postgresql" and \
                (connection.settings_dict.get("HOST") or "localhost") in ("localhost", "127.0.0.1", "::1", ""):
            self.database = connection.settings_dict["NAME"]
        else:
            self.database = None

    def _backend_pids(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                           [self.database])
            return [row[0] for row in cursor.fetchall()]

    def snap(self) -> dict[str, dict[int, int]]:
        if not self.local:
            return {}
        taken = {"server": {pid: _ticks(pid) for pid in _children(self.server_pid)}}
        if self.database:
            taken["database"] = {pid: _ticks(pid) for pid in self._backend_pids()}
        return taken

    def used(self, before: dict, after: dict) -> dict[str, float]:
        return {part: sum(max(0, t - before[part].get(pid, 0)) for pid, t in after[part].items()) / self.hz
                for part in after if part in before}


# --- intake --------------------------------------------------------------------------------------------

def tokens(user, n: int) -> list[str]:
    """`n` fresh API tokens of `user` (the earlier benchmark tokens revoked): one per client."""
    from django.utils import timezone

    from qifu.accounts.models import ApiToken

    ApiToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return [ApiToken.objects.issue(user, TOKEN_NAME)[1] for _ in range(n)]


class RawConnection:
    """One keep-alive HTTP/1.1 connection over a plain socket: the load generator's client. `http.client` costs
    the generator ~2–3 ms of CPU per request, taken from the 2 cores the server and the database share (its 32
    threads run on the same machine); this one builds the request as bytes and reads only the status line and
    the body's length (Content-Length or chunked), like `wrk`."""

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.sock, self.buffer = None, b""

    def _connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._more()
        taken, self.buffer = self.buffer[:n], self.buffer[n:]
        return taken

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._more()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def request(self, method: str, path: str, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        """(status, body). `head`: the header lines, each ending in CRLF."""
        if self.sock is None:
            self._connect()
        self.sock.sendall(b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
            method.encode(), path.encode(), head, len(body), body))
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        header, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status = int(header[9:12])
        lower = header.lower()
        found = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
        if found:
            payload = self._take(int(found.group(1)))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            parts = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():  # trailers, then the empty line
                        pass
                    break
                parts.append(self._take(size))
                self._take(2)
            payload = b"".join(parts)
        else:  # the body runs to the end of the connection
            while True:
                try:
                    self._more()
                except ConnectionError:
                    break
            payload, self.buffer = self.buffer, b""
            self.close()
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, payload


def intake(port: int, keys: list[str], usccs: list[str], clients: int, seconds: float, warmup: float,
           seed: int = 1, meter: CpuMeter | None = None) -> IntakeRun:
    """`clients` threads POST appeals for `warmup` + `seconds`; only what ends after the warm-up counts. The
    generator's own CPU (this process) in the window is reported as "client"."""
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counted = [0, 0]  # ok, errors
    start = threading.Barrier(clients + 1)
    window: list[float] = [0.0, 0.0]

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        head = (f"Authorization: Bearer {keys[n % len(keys)]}\r\nContent-Type: application/json\r\n"
                "Idempotency-Key: ").encode()
        conn = RawConnection(port)
        mine, codes = [], {}
        ok = errors = 0
        start.wait()
        while True:
            now = time.perf_counter()
            if now >= window[1]:
                break
            problem = bench.PROBLEMS[rng.randrange(len(bench.PROBLEMS))]
            body = json.dumps({"enterprise_uscc": usccs[rng.randrange(len(usccs))], "title": problem,
                               "description": f"{problem}，请协调解决。", "channel": "hotline",
                               "contact_name": "联系人", "contact_phone": f"1380000{rng.randrange(10000):04d}"},
                              ensure_ascii=False).encode()
            t = time.perf_counter()
            try:
                status, _payload = conn.request("POST", "/api/v1/appeals", head + uuid.uuid4().hex.encode() + b"\r\n",
                                                 body)
            except (OSError, ValueError):
                status = 0
                conn.close()
            done = time.perf_counter()
            if t >= window[0] and done <= window[1]:
                codes[status] = codes.get(status, 0) + 1
                if status == 201:
                    ok += 1
                    mine.append(done - t)
                else:
                    errors += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            counted[0] += ok
            counted[1] += errors
            for code, k in codes.items():
                statuses[code] = statuses.get(code, 0) + k

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    now = time.perf_counter()
    window[0], window[1] = now + warmup, now + warmup + seconds
    start.wait()
    cpu = {}
    if meter is not None:
        time.sleep(max(0.0, window[0] - time.perf_counter()))
        before, mine = meter.snap(), time.process_time()
        time.sleep(max(0.0, window[1] - time.perf_counter()))
        cpu = meter.used(before, meter.snap())
        cpu["client"] = time.process_time() - mine
    for t in threads:
        t.join()
    return IntakeRun(clients, seconds, counted[0], counted[1], latencies, statuses, cpu)


# --- the lists -----------------------------------------------------------------------------------------

def settle(log=print) -> None:
    """Between the intake and the lists: VACUUM ANALYZE the tables the intake wrote (PostgreSQL), the work
    autovacuum does after such a burst of inserts. Without it (autovacuum off, as on the machines these figures
    come from) the lists measured the intake's aftermath: the first list had 2 of its 20 runs at 280–570 ms
    (p95 277 ms once), the others at 40–100 ms; with it, 1 of 20 (docs/performance.md)."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        return
    t = time.perf_counter()
    bench.analyze()
    connections.close_all()
    log(f"VACUUM ANALYZE after the intake: {time.perf_counter() - t:.1f} s")


def list_queries(org) -> list[tuple[str, str]]:
    """(label, page query string): the filters of `qifu bench stats`, and an exact number as search."""
    from .models import Appeal

    number = (Appeal.objects.filter(region=org.region, number__startswith="BS-2026").order_by("number")
              .values_list("number", flat=True).first())
    queries = bench.list_queries(org)
    if number:
        queries.append(("q=an appeal number (exact)", f"q={number}"))
    return queries


def session_cookie(user) -> str:
    """A logged-in session of `user` (as Django's test client makes one), for the page over HTTP."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def time_lists(port: int, cookie: str, key: str, queries: list[tuple[str, str]], runs: int,
               log=print) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for label, query in queries:
        for kind, path, headers in (
                ("page", f"/appeals/?{query}", {"Cookie": cookie}),
                ("API", f"/api/v1/appeals?{bench._api_query(query)}", {"Authorization": f"Bearer {key}"})):
            path = urllib.parse.quote(path, safe="/?=&%+:")
            seconds, count = [], None
            for i in range(runs + 1):  # the first run warms the caches and is not counted
                t = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - t
                if response.status != 200:
                    raise RuntimeError(f"GET {path}: {response.status} {payload[:300]!r}")
                if i == 0:
                    if kind == "API":
                        data = json.loads(payload)
                        count = f"{'more than ' if data.get('count_capped') else ''}{data['count']:,} rows match"
                    continue
                seconds.append(elapsed)
            name = f"{kind} {label}"
            timings[name] = seconds
            log(f"  {name}: p50 {percentile(seconds, 50) * 1000:,.0f} ms, p95 {percentile(seconds, 95) * 1000:,.0f} ms, "
                f"max {max(seconds) * 1000:,.0f} ms ({runs} runs)" + (f"; {count}" if count else ""))
    conn.close()
    return timings


# --- the whole benchmark -------------------------------------------------------------------------------

def run(appeals: int, seed: int = 1, reload: bool = False, clients: tuple[int, ...] = (1, 8, 32),
        seconds: float = 20.0, warmup: float = 2.0, list_runs: int = 20, workers: int | None = None,
        threads: int | None = None, server_log: str | None = None, lists: bool = True, server_source: str | None = None,
        log=print) -> Figures:
    from qifu.enterprises.models import Enterprise

    figures = Figures(appeals)
    loaded = bench.Figures(appeals)
    org = bench.prepare(loaded, appeals, seed, reload, log)
    figures.mix = loaded.mix
    usccs = list(Enterprise.objects.filter(region=org.region).order_by("pk").values_list("uscc", flat=True)[:500])
    keys = tokens(org.dispatcher, max(clients))
    cookie = session_cookie(org.dispatcher)
    queries = list_queries(org)
    from django.db import connections

    connections.close_all()  # the server's processes have their own
    server = Server(workers, threads, server_log, server_source)
    figures.server = server.describe
    try:
        server.wait()
        log(f"server: {server.describe} (pid {server.process.pid})")
        meter = CpuMeter(server.process.pid)
        for n in clients:
            r = intake(server.port, keys, usccs, n, seconds, warmup, seed, meter)
            figures.intake.append(r)
            other = {k: v for k, v in sorted(r.statuses.items()) if k != 201}
            cpu = ", ".join(f"{part} {r.cpu_ms(part):.1f}" for part in ("server", "database", "client")
                            if r.cpu_ms(part) is not None)
            log(f"intake, {n} client{'s' if n > 1 else ''}: {r.rate:,.1f} appeals/s ({r.ok:,} in {seconds:g} s), "
                f"p50 {r.pct(50) * 1000:,.0f} ms, p95 {r.pct(95) * 1000:,.0f} ms, p99 {r.pct(99) * 1000:,.0f} ms"
                + (f"; errors {r.errors:,} {other}" if r.errors else "; 0 errors")
                + (f"; CPU ms per appeal: {cpu}" if cpu else ""))
        if lists:
            settle(log)
            log(f"lists and search over HTTP ({list_runs} runs each after one warm-up):")
            figures.lists = time_lists(server.port, cookie, keys[0], queries, list_runs, log=log)
    finally:
        server.stop()
    target = next((r for r in figures.intake if r.clients == TARGET_CLIENTS), None)
    if target is not None:
        figures.checks[f"intake at {TARGET_CLIENTS} clients ≥ {INTAKE_RATE:.0f} appeals/s "
                       f"({target.rate:,.1f})"] = target.rate >= INTAKE_RATE
        figures.checks[f"intake at {TARGET_CLIENTS} clients p99 < {INTAKE_P99 * 1000:.0f} ms "
                       f"({target.pct(99) * 1000:,.0f} ms)"] = target.pct(99) < INTAKE_P99
    for r in figures.intake:
        figures.checks[f"intake at {r.clients} client{'s' if r.clients > 1 else ''}: no errors ({r.errors})"] = \
            r.errors == 0
    for name, seconds_ in figures.lists.items():
        p95 = percentile(seconds_, 95)
        figures.checks[f"{name} p95 < {LIST_P95 * 1000:.0f} ms ({p95 * 1000:,.0f} ms)"] = p95 < LIST_P95
    return figures
