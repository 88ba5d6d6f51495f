"""The production suite's topology, started once per session (`make test-production`).

Every test here is marked ``production`` (pyproject.toml); `make test` and
`make test-servers` leave them out. The session fixture builds production as an operator
does (docs/operations.md): a private PostgreSQL 15 and Redis, an .env with
config.settings.prod, the release steps through ``scripts/prod-up --release-only`` (check
--deploy, migrate, collectstatic, sync_roles), the demo data, then the Procfile's
processes — two daphne, a worker, a beat — each started on its own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from config.env import BASE_DIR

from .topology import FIGURES, PG_BIN, Postgres, Redis, SmtpSink, Topology, wait_until

#: Beat's e-mail sweep and the reminder sweep run this often in the suite (seconds).
SWEEP_SECONDS = "10"
#: A dead sender's e-mails wait this long before the sweep takes them (production: 120 s).
LEASE_SECONDS = 30


#: The order the suite runs in: the healthy-system tests first, the faults after, the one
#: that breaks Redis last (each fault test restores what it broke, and checks recovery).
ORDER = [
    "test_deploy",
    "test_websocket",
    "test_backup_restore",
    "test_worker_kill",
    "test_two_beats",
    "test_pg_and_daphne",
    "test_redis_outage",
]


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        name = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        return ORDER.index(name) if name in ORDER else len(ORDER)

    here = [i for i in items if "tests/production/" in str(i.fspath).replace("\\", "/")]
    if here:
        ordered = iter(sorted(here, key=rank))
        items[:] = [next(ordered) if "tests/production/" in str(i.fspath) else i for i in items]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if FIGURES:
        terminalreporter.section("production figures")
        for test, figures in FIGURES.items():
            terminalreporter.write_line(f"{test}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def _environment(tmp: Path, pg: Postgres, redis: Redis, smtp: SmtpSink, database_url: str) -> dict[str, str]:
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "DATABASE_URL": database_url,
        "DATABASE_POOL_SIZE": "5",
        "REDIS_URL": redis.url,
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp / "private"),
        "DEFAULT_FROM_EMAIL": "jixiao@example.gov.cn",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "SECURE_SSL_REDIRECT": "false",
        "REMINDER_SWEEP_SECONDS": SWEEP_SECONDS,
        "NOTIFICATION_EMAIL_SWEEP_SECONDS": SWEEP_SECONDS,
        "NOTIFICATION_EMAIL_SWEEP_AFTER": SWEEP_SECONDS,
        "NOTIFICATION_EMAIL_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    env_file = tmp / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    env_file.chmod(0o600)
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in os.environ}
    return {
        **keep,
        **values,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "ENV_FILE": str(env_file),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def topology():
    if not (PG_BIN / "initdb").exists():
        pytest.fail(
            "the production suite needs PostgreSQL 15 (apt-get install postgresql-15; make test-production does)"
        )
    if not shutil.which("redis-server"):
        pytest.fail("the production suite needs redis-server (apt-get install redis-server; make test-production does)")
    tmp = Path(tempfile.mkdtemp(prefix="jixiao-prod-"))
    tmp.chmod(0o755)  # the postgres user must reach its cluster inside it
    pg = Postgres(tmp / "pg")
    redis = Redis(tmp / "redis")
    smtp = SmtpSink()
    topo = None
    try:
        pg.init()
        pg.start()
        database_url = pg.create_app_database()
        redis.start()
        smtp.start()
        env = _environment(tmp, pg, redis, smtp, database_url)
        topo = Topology(tmp=tmp, pg=pg, redis=redis, smtp=smtp, env=env)
        release = subprocess.run(
            ["bash", "scripts/prod-up", "--release-only", "--no-servers"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        topo.release["prod-up"] = release
        assert release.returncode == 0 or "collectstatic" in release.stdout.splitlines()[-1], (
            f"scripts/prod-up --release-only failed:\n{release.stdout[-3000:]}\n{release.stderr[-3000:]}"
        )
        if release.returncode != 0:  # collectstatic failed: the deploy test reports it; go on
            topo.manage("sync_roles")
        demo = topo.manage("load_demo")
        assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
        topo.start_processes()
        yield topo
    finally:
        if topo is not None:
            topo.stop_all()
        redis.stop()
        smtp.stop()
        if pg.data.exists():
            try:
                pg.stop()
            except subprocess.CalledProcessError:
                pass
        if os.environ.get("KEEP_PRODUCTION_TMP"):
            print(f"production suite files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


class Database:
    """The production database for a test's checks (autocommit), reconnecting once when the
    server dropped the connection (a test restarts PostgreSQL)."""

    def __init__(self, url: str):
        self.url = url.replace("postgres://", "postgresql://", 1)
        self.conn: psycopg.Connection | None = None

    def execute(self, sql: str, params: list | None = None) -> psycopg.Cursor:
        for attempt in range(2):
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
                return self.conn.execute(sql, params)
            except psycopg.OperationalError:
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@pytest.fixture
def pgconn(topology):
    """The production database, for checks."""
    db = Database(topology.env["DATABASE_URL"])
    yield db
    db.close()


@pytest.fixture
def healthy(topology):
    """Every process up before and after a test (a fault test restores what it broke)."""
    _ensure_up(topology)
    yield topology
    _ensure_up(topology)


def _ensure_up(topo: Topology) -> None:
    if not topo.pg.ready():
        topo.pg.start()
    if not topo.redis.ping():
        topo.redis.start()
    topo.smtp.stall.clear()
    for proc, port in zip(topo.webs, topo.web_ports, strict=True):
        if not proc.alive():
            proc.start()
        topo.wait_web(port)
    for proc in (topo.worker, topo.beat):
        if proc is not None and not proc.alive():
            proc.start()
    wait_until(lambda: topo.worker is not None and topo.worker.alive(), 10, "the worker process")
