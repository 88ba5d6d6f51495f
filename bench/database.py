"""The benchmark's own throwaway database, and the snapshots that put it back to a known
state before every run.

SQLite (no DATABASE_URL): a file in a temporary directory; a snapshot is a copy of the
file. PostgreSQL (DATABASE_URL names a server): a database ``jixiao_bench`` created on that
server with the URL's role (it needs CREATEDB), and a snapshot is another database
(``jixiao_bench__<name>``) made with ``CREATE DATABASE … TEMPLATE``; restoring drops the
working database and copies the snapshot back. Neither ever touches the developer's
db.sqlite3, the URL's own database or the test databases; everything is removed at the
end.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

#: The names the benchmark owns on a PostgreSQL server: its working database and snapshots
#: (BENCH_PG_NAME chooses another, so that two benchmarks can share one server).
PG_NAME = os.environ.get("BENCH_PG_NAME", "jixiao_bench")


class BenchDatabase:
    """Create, snapshot, restore and drop the benchmark database. ``url`` is what Django's
    DATABASE_URL must be set to (before ``django.setup()``)."""

    def __init__(self, server_url: str | None) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
        self.server_url = server_url or ""
        self.vendor = "postgresql" if self.server_url.startswith(("postgres://", "postgresql://")) else "sqlite"
        self.snapshots: set[str] = set()
        if self.vendor == "sqlite":
            if self.server_url and not self.server_url.startswith("sqlite"):
                raise SystemExit(f"bench: DATABASE_URL must name PostgreSQL or be unset, not {self.server_url!r}")
            self.path = self.workdir / "bench.sqlite3"
            self.url = f"sqlite:///{self.path}"
            return
        parts = urlsplit(self.server_url)
        self.url = urlunsplit(parts._replace(path=f"/{PG_NAME}"))
        self.admin_dbname = unquote(parts.path.lstrip("/")) or "postgres"
        self.conninfo = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 5432,
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
        }
        self._drop_leftovers()
        self._admin(f"CREATE DATABASE \"{PG_NAME}\" ENCODING 'UTF8' TEMPLATE template0")

    # -- PostgreSQL administration (autocommit, on the URL's own database) --------------------

    def _admin(self, sql: str) -> list[tuple]:
        import psycopg

        for attempt in range(20):
            try:
                with psycopg.connect(dbname=self.admin_dbname, autocommit=True, **self.conninfo) as conn:
                    cursor = conn.execute(sql)
                    return cursor.fetchall() if cursor.description else []
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
                # an autovacuum worker on the database (after a bulk write) cannot be
                # terminated by the URL's role: it finishes within moments
                if attempt == 19:
                    raise
                time.sleep(0.5)
        return []

    def _drop_leftovers(self) -> None:
        """Databases of an earlier run that did not finish (only names this benchmark owns)."""
        for (name,) in self._admin(
            f"SELECT datname FROM pg_database WHERE datname = '{PG_NAME}' OR datname LIKE '{PG_NAME}\\_\\_%'"
        ):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url_for(self, name: str) -> str:
        """The DATABASE_URL of snapshot ``name`` (PostgreSQL), e.g. for a second process."""
        return urlunsplit(urlsplit(self.url)._replace(path=f"/{quote(self._snapshot_name(name))}"))

    @staticmethod
    def _snapshot_name(name: str) -> str:
        return f"{PG_NAME}__{name}"

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self, name: str) -> None:
        """Keep the database's current state as ``name``."""
        _close_django_connections()
        if self.vendor == "sqlite":
            _sqlite_copy(self.path, self.workdir / f"{name}.sqlite3")
        else:
            target = self._snapshot_name(name)
            self._admin(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{target}" TEMPLATE "{PG_NAME}" STRATEGY FILE_COPY')
        self.snapshots.add(name)

    def restore(self, name: str) -> None:
        """Put the database back to snapshot ``name`` (every connection to it is closed)."""
        if name not in self.snapshots:
            raise KeyError(name)
        _close_django_connections()
        if self.vendor == "sqlite":
            _sqlite_copy(self.workdir / f"{name}.sqlite3", self.path)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{PG_NAME}" TEMPLATE "{self._snapshot_name(name)}" STRATEGY FILE_COPY')

    def drop(self, keep_files: bool = False) -> None:
        """Remove the database, its snapshots and (unless ``keep_files``) the temporary
        directory."""
        _close_django_connections()
        if self.vendor == "postgresql":
            self._drop_leftovers()
        if not keep_files:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy the database, its write-ahead log included, with SQLite's backup API."""
    for suffix in ("-journal", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    Path(target).unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _close_django_connections() -> None:
    try:
        from django.db import connections
    except ImportError:  # pragma: no cover - Django is a requirement
        return
    from django.apps import apps

    if apps.ready:
        connections.close_all()


def sqlite_description(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(conn.execute("PRAGMA synchronous").fetchone()[0], "?")
    finally:
        conn.close()
    return f"SQLite {sqlite3.sqlite_version} file (journal_mode={journal}, synchronous={sync})"
