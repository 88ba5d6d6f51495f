"""The benchmark suite of issue 9: `make bench` (full size) and `make bench-smoke`.

    .venv/bin/python -m bench.run [--smoke] [--only NAME[,NAME…]] [--city] [--city-scale F] [--runs N]
                                  [--out DIR] [--no-write]

Runs every scenario (or those named) on a throwaway database it creates: a temporary
SQLite file, or — when DATABASE_URL names a PostgreSQL server — a database
``jixiao_bench`` on that server (the URL's role needs CREATEDB). With REDIS_URL the
channel layer is Redis and the cross-process notification latency is measured too.
Prints a table and, for a full run, writes bench/results/<date>-<database>.json (a smoke
run writes only with --out). Exits non-zero if a scenario failed. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

from .context import SIZES, Context
from .database import BenchDatabase, sqlite_description
from .harness import Report

#: name → module (bench/scenarios/<module>.py), in the order they run
SCENARIOS = {
    "campaign": "campaign",
    "monitoring": "monitoring",
    "completion": "completion",
    "lists": "lists",
    "notifications": "notifications",
    "storage": "storage",
    "imports": "imports",
    "acceptance": "acceptance",
    "city": "city",
}
#: Scenarios a full run leaves out unless named (--only) or asked for (--city): the city
#: scale (issue 20) builds 41,000 projects and 1,000,000 tasks. A smoke run runs them all.
OPT_IN = {"city"}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="every scenario at a tiny size (seconds); judges nothing")
    parser.add_argument("--only", default="", help=f"comma-separated scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--city", action="store_true", help="add the city scale (opt-in at full size; make bench-city)")
    parser.add_argument(
        "--city-scale",
        type=float,
        default=1.0,
        help="share of the city to build (e.g. 0.1: 4,100 projects, 100,000 tasks)",
    )
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3; smoke 1)")
    parser.add_argument("--out", type=Path, default=None, help="directory for the JSON (default bench/results)")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs, SQLite files)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or [
        n for n in SCENARIOS if args.smoke or n not in OPT_IN
    ]
    if args.city and "city" not in names:
        names.append("city")
    if not 0 < args.city_scale <= 1:
        parser.error("--city-scale must be in (0, 1]")
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    args.names = names
    if args.runs is None:
        args.runs = 1 if args.smoke else 3
    if not args.smoke and args.runs < 3:
        print("bench: fewer than 3 runs gives no spread worth recording", file=sys.stderr)
    return args


@contextmanager
def bench_context(*, smoke: bool, runs: int, keep: bool = False, city_scale: float = 1.0) -> Iterator[Context]:
    """The throwaway database created (see bench/database.py), Django set up on it with the
    bench settings, and the context the scenarios (and bench/profile.py) run in; the
    database dropped at the end."""
    db = BenchDatabase(os.environ.get("DATABASE_URL"))
    try:
        os.environ["DATABASE_URL"] = db.url
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
        os.environ["MEDIA_ROOT"] = str(db.workdir / "media")
        os.environ["PRIVATE_MEDIA_ROOT"] = str(db.workdir / "private")
        import django

        django.setup()
        report = Report(smoke=smoke, runs=runs)
        ctx = Context(
            db=db,
            report=report,
            smoke=smoke,
            runs=runs,
            size=SIZES["smoke" if smoke else "full"],
            city_scale=city_scale,
        )
        describe(ctx)
        yield ctx
    finally:
        db.drop(keep_files=keep)
        if keep:
            print(f"kept: {db.workdir}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    with bench_context(smoke=args.smoke, runs=args.runs, keep=args.keep, city_scale=args.city_scale) as ctx:
        report = ctx.report
        failed = []
        for name in args.names:
            print(f"--- {name}", flush=True)
            try:
                import_module(f"bench.scenarios.{SCENARIOS[name]}").run(ctx)
            except Exception:
                failed.append(name)
                traceback.print_exc()
                scenario = next((s for s in report.scenarios if s.name == name), None) or report.scenario(name, name)
                scenario.note("FAILED: " + traceback.format_exc(limit=1).strip().splitlines()[-1])
        print()
        print(report.table())
        if (args.out or not args.smoke) and not args.no_write:
            path = report.write(args.out) if args.out else report.write()
            print(f"\nwritten: {path}")
        print(f"\nbench: {len(args.names)} scenario(s) in {time.perf_counter() - started:.0f} s", end="")
        print(f"; FAILED: {', '.join(failed)}" if failed else "")
        return 1 if failed else 0


def describe(ctx: Context) -> None:
    """The database and channel layer this run measures, into the report."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.ensure_connection()
        description = sqlite_description(ctx.db.path)
        server = None
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
            cursor.execute("SHOW synchronous_commit")
            description = f"PostgreSQL {server} (synchronous_commit={cursor.fetchone()[0]}, TCP)"
    ctx.report.database = {"vendor": connection.vendor, "description": description, "server_version": server}
    if connection.vendor == "sqlite":
        import sqlite3

        ctx.report.versions["sqlite"] = sqlite3.sqlite_version
    else:
        ctx.report.versions["postgresql"] = server or "?"
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    ctx.report.channel_layer = backend
    if "Redis" in backend:
        import redis

        info = redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")
        ctx.report.versions["redis"] = info.get("redis_version", "?")


if __name__ == "__main__":
    sys.exit(main())
