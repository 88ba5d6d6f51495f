"""What run.py hands every scenario: the options and sizes, the report to record into, and
the benchmark database with its snapshots (each built once per run, on demand)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .database import BenchDatabase
from .harness import Report

#: Sizes of a full run (issue 9: the reference year) and of a smoke run (seconds).
SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "projects": 3755,
        "departments": 77,
        "completions": 600,  # per run: in-process, and over HTTP for each client count
        "clients": [20, 50],
        "list_tasks": [1_000, 100_000],
        "list_requests": 200,  # per page and size, after list_warmup
        "list_warmup": 20,
        "latency_samples": 200,
        "latency_departments": 10,
        "storage_projects": 40,
        "indicator_rows": 10_000,
        # issue 20's city: 11 districts (11 × 77 departments, 41,000 projects); the lists
        # with 1,000 open tasks and with 1,000,000 in all (bench/scenarios/city.py)
        "city_projects": 41_000,
        "city_departments": 847,
        "city_tasks": [1_000, 1_000_000],
    },
    "smoke": {
        "projects": 24,
        "departments": 3,
        "completions": 8,
        "clients": [2, 4],
        "list_tasks": [12, 60],
        "list_requests": 4,
        "list_warmup": 1,
        "latency_samples": 6,
        "latency_departments": 2,
        "storage_projects": 2,
        "indicator_rows": 60,
        "city_projects": 44,
        "city_departments": 4,
        "city_tasks": [12, 120],
    },
}


@dataclass
class Context:
    db: BenchDatabase
    report: Report
    smoke: bool
    runs: int
    size: dict[str, Any]
    #: the share of the city scenario's size to build (``--city-scale``; 1 = 41,000 projects)
    city_scale: float = 1.0

    @property
    def workdir(self) -> Path:
        return self.db.workdir

    @property
    def full(self) -> bool:
        """A full-size run, whose figures are judged against issue 9's targets."""
        return not self.smoke

    def state(self, name: str, build: Callable[[], None], base: str | None = "migrated") -> None:
        """Put the database in state ``name``: restore its snapshot, or (the first time)
        restore ``base`` (None: as it is), run ``build`` and keep the result as ``name``."""
        if name in self.db.snapshots:
            self.db.restore(name)
            return
        if base is not None:
            self.migrated() if base == "migrated" else self.db.restore(base)
        build()
        self.db.snapshot(name)

    def migrated(self) -> None:
        """An empty database with every migration applied (migrations run once per run).

        A smoke run creates the same tables straight from the models instead (as
        pytest-django's --nomigrations does; `makemigrations --check` keeps the two equal):
        rendering 75 migrations' model states costs ~20 s of CPU, more than all the
        smoke scenarios together. The migrations' data (role groups, the audit chain
        head) is made by district.setup and the audit service either way."""
        if "migrated" in self.db.snapshots:
            self.db.restore("migrated")
            return
        from django.core.management import call_command
        from django.db import connection

        # Not measured: every migration's commit need not wait for the disk (this connection
        # only; the next one has the database's defaults again).
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA synchronous = OFF")
                cursor.execute("PRAGMA journal_mode = MEMORY")
            else:
                cursor.execute("SET synchronous_commit = off")
        if self.smoke:
            from django.conf import settings

            saved = settings.MIGRATION_MODULES
            settings.MIGRATION_MODULES = _NoMigrations()
            try:
                call_command("migrate", run_syncdb=True, verbosity=0)
            finally:
                settings.MIGRATION_MODULES = saved
        else:
            call_command("migrate", verbosity=0)
        self.db.snapshot("migrated")

    def district(self):
        """The reference district (district.setup at this run's size), freshly restored."""
        from . import district

        self.state("district", lambda: district.setup(self.size["projects"], self.size["departments"]))
        return district.load()


class _NoMigrations(dict):
    """MIGRATION_MODULES that says "no migrations" for every app."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None
