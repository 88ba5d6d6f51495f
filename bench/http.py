"""Real HTTP against the project's ASGI application: daphne processes serving
``config.asgi:application`` on the benchmark database, each on its own port, and a small
keep-alive client that logs in through the project's login page like a browser and reads
the statement count the bench settings put in every response.

One daphne process per core, as production runs behind nginx, on either database. The clients are threads of the benchmark
process (http.client, one connection each, requests spread over the servers' ports as
nginx would); they share the machine's cores with the servers, which the figures include.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from .harness import BASE_DIR, percentile, process_seconds
from .middleware import HEADER

DAPHNE = Path(sys.executable).parent / "daphne"
CELERY = Path(sys.executable).parent / "celery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"daphne exited with code {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"daphne did not answer on port {port} within {timeout} s")


@dataclass
class Servers:
    ports: list[int]
    processes: list[subprocess.Popen]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def cpu_seconds(self) -> float:
        return sum(process_seconds(pid) for pid in self.pids)


@contextmanager
def serve(
    workdir: Path,
    database_url: str,
    count: int | None = None,
    application: str = "config.asgi:application",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Servers]:
    """``count`` daphne processes on the benchmark database, with the bench settings;
    stopped (and their logs kept in ``workdir``) on exit. By default one per core, as
    docs/deployment.md runs production, on either database: the databases are compared
    on the same servers. (One process on SQLite, as `make run` serves, did worse under
    50 writers: every request thread shares one interpreter, so the thread holding
    SQLite's write lock runs slower the more threads wait — docs/performance.md.)
    ``application`` and ``extra_env``: another ASGI application (bench/profile.py's
    profiling wrapper) and its settings.

    With REDIS_URL set (the PostgreSQL runs) the servers queue their e-mail tasks on
    Redis, as production does (config/settings/bench.py), and a Celery worker started
    here beside them sends them (`Procfile`'s worker, one process: the machine has two
    cores); without it, they run eagerly inside the request, as the embedded default."""
    if count is None:
        count = os.cpu_count() or 1
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        "BENCH_SERVER": "1",
        **(extra_env or {}),
    }
    ports = [free_port() for _ in range(count)]
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []
    workers: list[subprocess.Popen] = []
    worker_log: Path | None = None
    try:
        if env.get("REDIS_URL"):
            worker_log = workdir / "celery-worker.log"
            with open(worker_log, "wb") as out:
                workers.append(
                    subprocess.Popen(
                        [str(CELERY), "-A", "config", "worker", "--loglevel=WARNING", "--concurrency=1"]
                        + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
                        cwd=BASE_DIR,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        for port in ports:
            log = workdir / f"daphne-{port}.log"
            logs.append(log)
            with open(log, "wb") as out:
                processes.append(
                    subprocess.Popen(
                        [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), application],
                        cwd=BASE_DIR,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        for port, process, log in zip(ports, processes, logs, strict=True):
            _wait_for(port, process, log)
        yield Servers(ports, processes)
    finally:
        for process in processes + workers:
            process.terminate()
        for process in processes + workers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs + ([worker_log] if worker_log else []):  # a server error is the benchmark's business
            text = log.read_text(errors="replace") if log.exists() else ""
            if "Traceback" in text:
                tail = text[text.index("Traceback") :][:4000]
                print(f"--- {log.name} (first error):\n{tail}", file=sys.stderr)


class Client:
    """One browser: its own keep-alive connection and cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.retries = 0  # GETs asked again on a fresh connection (see request)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        reused = self.conn.sock is not None
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            raw = self.conn.getresponse()
            data = raw.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()  # the next request reconnects
            stale = isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError)
            if method == "GET" and reused and stale:
                # the server dropped an idle keep-alive connection: a browser asks again
                self.retries += 1
                return self.request(method, path, body, headers)
            raise
        seconds = time.perf_counter() - started
        for value in raw.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        count = raw.getheader(HEADER)
        return Response(raw.status, data, seconds, int(count) if count is not None else None)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict | None = None) -> Response:
        """A POST as a page's script sends it: the CSRF cookie echoed in X-CSRFToken."""
        headers = {"X-CSRFToken": self.cookies.get("csrftoken", "")}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            headers["Content-Length"] = "0"
        return self.request("POST", path, body=body, headers=headers)

    def log_in(self, username: str, password: str) -> None:
        """Through the login page, as a browser: its CSRF token, then the form."""
        page = self.get("/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or match is None:
            raise RuntimeError(f"login page: {page.status}")
        answer = self.post(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1).decode()},
        )
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed: {answer.status}")

    def close(self) -> None:
        self.conn.close()


@dataclass
class Response:
    status: int
    body: bytes
    seconds: float
    statements: int | None


@dataclass
class Load:
    """What concurrent clients saw: per request the latency, status and statements."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ok: int = 0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)


def run_load(
    clients: list[Client], work: list[list[Callable[[Client], Response]]], expect: tuple[int, ...] = (200,)
) -> Load:
    """Every client runs its list of requests, all clients at once (released together);
    wall time from the release until the last answer."""
    result = Load()
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)

    def worker(client: Client, jobs: list[Callable[[Client], Response]]) -> None:
        start.wait()
        for job in jobs:
            try:
                answer = job(client)
            except Exception as exc:  # a refused or dropped connection is an error, not a crash
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                result.latencies.append(answer.seconds)
                if answer.statements is not None:
                    result.statements.append(answer.statements)
                if answer.status in expect:
                    result.ok += 1
                else:
                    result.errors.append(f"HTTP {answer.status}: {answer.body[:200]!r}")

    threads = [threading.Thread(target=worker, args=(c, w), daemon=True) for c, w in zip(clients, work, strict=True)]
    for t in threads:
        t.start()
    start.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    return result
