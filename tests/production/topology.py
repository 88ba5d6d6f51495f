"""The production topology the suite runs against, each part a process of its own so a test
can stop, kill -9 or restart exactly one: a private PostgreSQL 15 cluster and redis-server
on free ports, two daphne processes, a Celery worker and beat (their commands come from
the Procfile), an SMTP sink in a thread that can be told to stall, and HTTP / WebSocket
clients of the real protocols. Only 127.0.0.1 is ever contacted."""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from config.env import BASE_DIR
from scripts import process_list

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
DEMO_PASSWORD = "Jixiao@2021demo"
NOTIFICATION_HEADER = "X-Jixiao-Notification"
RESULTS = BASE_DIR / "var" / "production-results.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> float:
    """Poll ``predicate`` until it is truthy; return the seconds it took, fail after ``timeout``."""
    start = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - start
        except Exception:
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def record(test: str, figures: dict) -> None:
    """Print a test's figures and keep them in var/production-results.json (docs/operations.md)."""
    line = f"[production figures] {test}: " + ", ".join(f"{k}={v}" for k, v in figures.items())
    print(line, flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[test] = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **figures}
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    FIGURES[test] = figures


#: Figures of this run, printed again in the terminal summary (conftest).
FIGURES: dict[str, dict] = {}


def as_postgres(argv: list[str], **kw) -> subprocess.CompletedProcess:
    if os.getuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


# --- processes -------------------------------------------------------------------------


class Process:
    """One OS process (its own process group) with its log in a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None
        self.offset = 0  # where the log of the latest start begins

    def start(self) -> Process:
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            out.write(f"\n=== start {time.strftime('%H:%M:%S')}: {' '.join(self.argv)}\n".encode())
            self.popen = subprocess.Popen(
                self.argv, cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole group (a prefork worker's children too), as a crash or the OOM killer."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(30)  # type: ignore[union-attr]

    def stop(self, timeout: float = 30) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def log_since_start(self) -> str:
        """The log of the latest start only."""
        with open(self.log, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")


class Postgres:
    """A private PostgreSQL 15 cluster in a temp dir on a free port (as .ci/run's)."""

    def __init__(self, home: Path):
        self.home = home
        self.data, self.socket_dir, self.log = home / "data", home / "socket", home / "postgres.log"
        self.port = free_port()
        self.password = secrets.token_hex(16)

    def init(self) -> None:
        self.data.mkdir(parents=True)
        self.socket_dir.mkdir()
        pwfile = self.home / "superuser-password"
        pwfile.write_text(secrets.token_hex(16))
        if os.getuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--home-dir", str(self.home), "postgres"], check=True)
            shutil.chown(self.home, "postgres")
            for path in (self.data, self.socket_dir, pwfile):
                shutil.chown(path, "postgres")
        as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )

    def start(self) -> None:
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} -c fsync=off -c max_connections=200"
        as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start", "-o", opts]
        )

    def stop(self) -> None:
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])

    def psql(self, sql: str, db: str = "postgres") -> str:
        done = as_postgres(
            [str(PG_BIN / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
             "-p", str(self.port), "-d", db, "-c", sql]
        )  # fmt: skip
        return done.stdout.strip()

    def create_app_database(self, name: str = "jixiao") -> str:
        self.psql(f"CREATE ROLE jixiao LOGIN CREATEDB PASSWORD '{self.password}'")
        self.psql("ALTER ROLE jixiao SET lock_timeout = '10s'")
        self.psql(f"CREATE DATABASE {name} OWNER jixiao ENCODING 'UTF8' TEMPLATE template0")
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgres://jixiao:{self.password}@127.0.0.1:{self.port}/{name}"

    def ready(self) -> bool:
        return (
            subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode == 0
        )


class Redis:
    """A private redis-server on a free port, with Debian's default snapshots (so a clean
    stop keeps the queue, as a packaged Redis does)."""

    def __init__(self, home: Path):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = Process(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(home),
             "--save", "3600 1 300 100 60 10000", "--appendonly", "no"],
            dict(os.environ),
            home / "redis.log",
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.process.start()
        wait_until(self.ping, 30, "redis-server to answer")

    def stop(self) -> None:
        self.process.stop()


# --- SMTP sink -------------------------------------------------------------------------


@dataclass
class Mail:
    notification: str | None
    to: list[str]
    subject: str
    at: float


class SmtpSink:
    """A local SMTP server (aiosmtpd) in a thread recording every message it accepts. A
    message counts as delivered once its DATA has fully arrived — a real mail server
    queues it then, before its 250 reply. While ``stall`` is set the reply is held: a
    sender killed then does not know its message went out (the duplicate window)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.mails: list[Mail] = []
        self.stall = threading.Event()
        self.stalled = 0  # replies currently held
        self.held_total = 0  # messages whose reply was ever held (each may be sent again)
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=30)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        msg = email.message_from_bytes(envelope.content)
        subject = str(email.header.make_header(email.header.decode_header(msg.get("Subject", ""))))
        with self.lock:
            self.mails.append(Mail(msg.get(NOTIFICATION_HEADER), list(envelope.rcpt_tos), subject, time.monotonic()))
            self.stalled += 1
            if self.stall.is_set():
                self.held_total += 1
        try:
            while self.stall.is_set():
                await asyncio.sleep(0.05)
        finally:  # also when the sender's connection died (aiosmtpd cancels the handler)
            with self.lock:
                self.stalled -= 1
        return "250 OK"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.stall.clear()
        self.controller.stop()

    def snapshot(self) -> list[Mail]:
        with self.lock:
            return list(self.mails)

    def by_notification(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for mail in self.snapshot():
            key = mail.notification or f"(no header) {mail.to} {mail.subject}"
            counts[key] = counts.get(key, 0) + 1
        return counts


# --- the topology ----------------------------------------------------------------------


@dataclass
class Topology:
    tmp: Path
    pg: Postgres
    redis: Redis
    smtp: SmtpSink
    env: dict[str, str]
    web_ports: list[int] = field(default_factory=list)
    webs: list[Process] = field(default_factory=list)
    worker: Process | None = None
    beat: Process | None = None
    extra: list[Process] = field(default_factory=list)
    release: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    # processes from the Procfile
    def spawn(self, entry: str, name: str, port: int | None = None, replace: dict[str, str] | None = None) -> Process:
        argv = process_list.command(entry, port=port, env=self.env)
        for old, new in (replace or {}).items():
            argv = [new if a == old else a for a in argv]
        return Process(name, argv, self.env, self.tmp / "logs" / f"{name}.log")

    def start_processes(self) -> None:
        (self.tmp / "logs").mkdir(exist_ok=True)
        self.web_ports = [free_port(), free_port()]
        self.webs = [self.spawn("web", f"web{i + 1}", port=p).start() for i, p in enumerate(self.web_ports)]
        self.worker = self.spawn("worker", "worker").start()
        self.beat = self.spawn(
            "beat", "beat", replace={"--schedule=var/celerybeat-schedule": f"--schedule={self.tmp / 'beat1-schedule'}"}
        ).start()
        for port in self.web_ports:
            self.wait_web(port)
        self.wait_worker()
        beat = self.beat
        wait_until(lambda: "beat: Starting" in beat.log_since_start(), 90, "beat to start")

    def wait_web(self, port: int, timeout: float = 120) -> float:
        return wait_until(lambda: http_ok(port), timeout, f"daphne on {port}")

    def wait_worker(self, timeout: float = 120) -> float:
        worker = self.worker
        assert worker is not None
        return wait_until(lambda: " ready." in worker.log_since_start(), timeout, "the Celery worker to be ready")

    def restart_worker(self) -> float:
        assert self.worker is not None
        self.worker.stop()
        start = time.monotonic()
        self.worker.start()
        self.wait_worker()
        return time.monotonic() - start

    def stop_all(self) -> None:
        for proc in [*self.extra, self.beat, self.worker, *self.webs]:
            if proc is not None:
                proc.stop(timeout=20)

    def manage(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def base(self, i: int) -> str:
        return f"http://127.0.0.1:{self.web_ports[i % len(self.web_ports)]}"

    def logs_tail(self, lines: int = 40) -> str:
        parts = []
        for proc in [*self.webs, self.worker, self.beat, *self.extra]:
            if proc is not None:
                parts.append(f"--- {proc.name} ---\n" + "\n".join(proc.log_text().splitlines()[-lines:]))
        return "\n".join(parts)


def http_ok(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


# --- clients ---------------------------------------------------------------------------


class ApiClient:
    """A user of the API through one daphne, by token (POST /api/auth/token/)."""

    def __init__(self, topo: Topology, username: str, web: int, timeout: float = 30):
        self.topo, self.username, self.web = topo, username, web
        self.http = httpx.Client(base_url=topo.base(web), timeout=timeout, headers={"Accept-Language": "zh-hans"})
        token = self._token()
        self.http.headers["Authorization"] = f"Token {token}"

    def _token(self) -> str:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = self.http.post("/api/auth/token/", data={"username": self.username, "password": DEMO_PASSWORD})
                if r.status_code == 200:
                    return r.json()["token"]
                raise AssertionError(f"token for {self.username}: {r.status_code} {r.text[:200]}")
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def switch(self, web: int) -> None:
        self.web = web
        self.http.base_url = httpx.URL(self.topo.base(web))

    def get(self, path: str, **kw) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, json: dict | None = None, **kw) -> httpx.Response:
        return self.http.post(path, json=json or {}, **kw)

    def close(self) -> None:
        self.http.close()


def session_cookie(topo: Topology, username: str, web: int = 0) -> str:
    """Log in through the login form (as a browser does) and return the session cookie's value."""
    with httpx.Client(base_url=topo.base(web), timeout=30) as http:
        page = http.get("/accounts/login/")
        csrf = page.cookies.get("csrftoken") or _cookie_from_headers(page, "csrftoken")
        r = http.post(
            "/accounts/login/",
            data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": csrf},
            headers={"Cookie": f"csrftoken={csrf}", "Referer": f"{topo.base(web)}/accounts/login/"},
        )
        session = _cookie_from_headers(r, "sessionid")
        assert r.status_code in (302, 303) and session, f"login of {username}: {r.status_code} {r.text[:300]}"
        return session


def _cookie_from_headers(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key.strip() == name:
            return rest.split(";", 1)[0]
    return None


class LiveSocket:
    """/ws/notifications/ of one logged-in user on one daphne, kept open by a thread with its
    own event loop and reconnecting with static/js/live.js's policy: capped exponential
    backoff with full jitter (0.5 s base, 3 s cap; reset once a connection delivers), and
    ``?since=`` the newest notification id seen (the first message's ``last_id`` until a
    notification arrives), so pushes missed while away are replayed. Records every frame,
    every (re)connection and every close."""

    BASE_DELAY = 0.5
    MAX_DELAY = 3.0

    def __init__(self, topo: Topology, cookie: str, web: int):
        self.topo, self.cookie, self.web = topo, cookie, web
        self.frames: list[tuple[float, dict]] = []
        self.connects: list[float] = []
        self.closes: list[tuple[float, int | None, str]] = []
        self.last_id = 0
        self.open = threading.Event()
        self.stopping = threading.Event()
        self.reconnect = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"ws-{web}", daemon=True)

    def start(self) -> LiveSocket:
        self.thread.start()
        assert self.open.wait(60), "WebSocket did not open within 60 s"
        return self

    def url(self) -> str:
        port = self.topo.web_ports[self.web]
        since = f"?since={self.last_id}" if self.connects else ""  # after a drop, even ?since=0
        return f"ws://127.0.0.1:{port}/ws/notifications/{since}"

    def _run(self) -> None:
        asyncio.run(self._main())

    def _backoff(self, attempt: int) -> float:
        import random

        return random.random() * min(self.MAX_DELAY, self.BASE_DELAY * 2**attempt)

    async def _main(self) -> None:
        import websockets

        attempt = 0
        while not self.stopping.is_set():
            try:
                async with websockets.connect(
                    self.url(),
                    origin=f"http://127.0.0.1:{self.topo.web_ports[self.web]}",
                    additional_headers={"Cookie": f"sessionid={self.cookie}"},
                    ping_interval=None,  # like a browser: no protocol pings from the client
                    open_timeout=10,
                ) as ws:
                    self.connects.append(time.monotonic())
                    self.open.set()
                    while not self.stopping.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                        except TimeoutError:
                            continue
                        data = json.loads(raw)
                        attempt = 0  # this connection works
                        with self.lock:
                            self.frames.append((time.monotonic(), data))
                            if data.get("type") == "unread" and isinstance(data.get("last_id"), int):
                                self.last_id = max(self.last_id, data["last_id"])
                            if data.get("type") == "notification" and isinstance(data.get("id"), int):
                                self.last_id = max(self.last_id, data["id"])
                    await ws.close()
            except Exception as exc:  # closed by the server, refused, timed out
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                self.closes.append((time.monotonic(), code, repr(exc)[:200]))
                self.open.clear()
                if not self.reconnect or code == 4401:
                    return
            if self.stopping.is_set():
                return
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1

    def notification_ids(self) -> set[int]:
        with self.lock:
            return {d["id"] for _, d in self.frames if d.get("type") == "notification"}

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(15)


# --- what the database says --------------------------------------------------------------


def max_notification_id(conn) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM notifications_notification").fetchone()[0]


def emailable_notifications(conn, after_id: int, upto_id: int | None = None) -> list[int]:
    """Ids of the notifications in (after_id, upto_id] whose recipient gets e-mails."""
    upto = upto_id if upto_id is not None else max_notification_id(conn)
    rows = conn.execute(
        """SELECT n.id FROM notifications_notification n JOIN accounts_user u ON u.id = n.recipient_id
           WHERE n.id > %s AND n.id <= %s AND u.email_notifications AND u.email <> '' AND u.is_active
           ORDER BY n.id""",
        [after_id, upto],
    ).fetchall()
    return [r[0] for r in rows]


def notifications_of(conn, username: str, after_id: int, upto_id: int) -> list[int]:
    rows = conn.execute(
        """SELECT n.id FROM notifications_notification n JOIN accounts_user u ON u.id = n.recipient_id
           WHERE u.username = %s AND n.id > %s AND n.id <= %s ORDER BY n.id""",
        [username, after_id, upto_id],
    ).fetchall()
    return [r[0] for r in rows]


@dataclass
class EmailFigures:
    expected: int
    lost: list[int]
    duplicated: int  # extra copies of the expected notifications
    without_header: int  # messages the sink got without the notification header
    seconds: float | None  # until the last expected one arrived (None: some never did)


def wait_for_emails(
    sink: SmtpSink, ids: list[int], timeout: float, since: float, settle_until: float | None = None
) -> EmailFigures:
    """Wait (bounded) until the sink has every notification of ``ids``; count what is lost
    and duplicated. ``since``: the moment the recovery started (for ``seconds``);
    ``settle_until``: count duplicates no earlier than this (a copy sent again only after
    a lease expired arrives late)."""
    wanted = {str(i) for i in ids}

    def complete() -> bool:
        return wanted <= set(sink.by_notification())

    seconds: float | None
    try:
        wait_until(complete, timeout, f"{len(ids)} e-mails", interval=0.5)
        seconds = round(time.monotonic() - since, 1)
        time.sleep(max(2.0, (settle_until or 0) - time.monotonic()))  # let a late duplicate arrive
    except AssertionError:
        seconds = None
    counts = sink.by_notification()
    return EmailFigures(
        expected=len(ids),
        lost=[i for i in ids if counts.get(str(i), 0) == 0],
        duplicated=sum(counts.get(str(i), 0) - 1 for i in ids if counts.get(str(i), 0) > 1),
        without_header=sum(1 for m in sink.snapshot() if not m.notification),
        seconds=seconds,
    )
