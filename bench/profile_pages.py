"""Where the lists' pages spend their CPU (issue 20, item 3): the inbox (a department's
staff), the project list (finance) and the deadline board (a supervisor), beside the
trivial signed-in request — each asked in one process through Django's full middleware
stack (the test client), on a database built as the `lists` scenario builds it.

    .venv/bin/python -m bench.profile_pages [--projects 3755] [--departments 77]
        [--tasks 1000] [--requests 50] [--profile inbox|projects|board|trivial] [--top 40]

Prints CPU milliseconds per request (time.process_time, the median of ``--requests``
after a warm-up) and statements per page; with ``--profile`` also the cProfile of that
page's requests (top frames by cumulative and by own time). The database is a SQLite
file kept under /tmp (``--db``), built once per size and reused; its tables are made
from the models (as a smoke run does), not by the migrations.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

PAGES = {
    "inbox": ("/", "staff"),
    "projects": ("/projects/", "finance"),
    "board": ("/board/", "supervisor"),
    "trivial": ("/accounts/login/", "staff"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=3755)
    parser.add_argument("--departments", type=int, default=77)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--profile", choices=sorted(PAGES), default=None)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    db = args.db or Path(f"/tmp/jixiao-profile-pages-{args.projects}-{args.departments}-{args.tasks}.sqlite3")
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    fresh = not db.exists()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from . import district
    from .context import _NoMigrations

    if fresh:
        from django.core.management import call_command

        from .scenarios.lists import _open_work

        saved = settings.MIGRATION_MODULES
        settings.MIGRATION_MODULES = _NoMigrations()
        try:
            call_command("migrate", run_syncdb=True, verbosity=0)
        finally:
            settings.MIGRATION_MODULES = saved
        district.setup(args.projects, args.departments)
        _open_work(args.tasks)
    d = district.load()
    users = {"staff": d.staff[d.departments[0].pk], "finance": d.finance, "supervisor": d.supervisor}
    settings.ALLOWED_HOSTS = ["*"]
    clients = {}
    for who, user in users.items():
        clients[who] = Client()
        clients[who].force_login(user, backend=settings.AUTHENTICATION_BACKENDS[-1])

    def ask(page: str) -> None:
        path, who = PAGES[page]
        answer = clients[who].get(path)
        assert answer.status_code == (302 if page == "trivial" else 200), (page, answer.status_code)

    print(f"database {db}: {args.projects} projects, {args.departments} departments, {args.tasks} open tasks")
    for page in PAGES:
        for _ in range(5):
            ask(page)
        cpu = []
        for _ in range(args.requests):
            start = time.process_time()
            ask(page)
            cpu.append((time.process_time() - start) * 1000)
        with CaptureQueriesContext(connection) as queries:
            ask(page)
        print(
            f"{page:10s} CPU ms/request: median {statistics.median(cpu):7.2f}  min {min(cpu):7.2f}"
            f"  statements {len(queries.captured_queries)}"
        )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            ask(args.profile)
        profile.disable()
        stats = pstats.Stats(profile, stream=sys.stdout)
        print(f"\n== {args.profile}: {args.requests} requests, by cumulative time")
        stats.sort_stats("cumulative").print_stats(args.top)
        print(f"\n== {args.profile}: {args.requests} requests, by own time")
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
