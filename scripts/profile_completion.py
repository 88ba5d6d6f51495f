"""Profile task completion in one process (issue 20): CPU per completion, through the
service and through the API (Django's test client: middleware, DRF, the answer).

    .venv/bin/python scripts/profile_completion.py [--n 120] [--http] [--profile out.prof]

Builds a throwaway database (bench/database.py: SQLite temp file, or PostgreSQL when
DATABASE_URL is set, named by BENCH_PG_NAME) at a reduced size, then submits N saved
self-evaluations, reporting time.process_time() per completion and statements."""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=120)
    p.add_argument("--http", action="store_true", help="POST the API through the test client")
    p.add_argument("--profile", default="")
    p.add_argument("--compile-report", action="store_true", help="time spent compiling each query")
    p.add_argument("--sql", action="store_true", help="print the statements of one completion")
    p.add_argument("--deferred", action="store_true", help="CELERY_TASK_ALWAYS_EAGER off (tasks not run here)")
    args = p.parse_args()

    from bench.database import BenchDatabase

    db = BenchDatabase(os.environ.get("DATABASE_URL"))
    try:
        os.environ["DATABASE_URL"] = db.url
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
        os.environ["MEDIA_ROOT"] = str(db.workdir / "media")
        os.environ["PRIVATE_MEDIA_ROOT"] = str(db.workdir / "private")
        import django

        django.setup()
        from django.conf import settings

        settings.ALLOWED_HOSTS = ["*"]
        if args.deferred:
            from config.celery import app

            app.conf.task_always_eager = False
            settings.CELERY_TASK_ALWAYS_EAGER = False
        from bench.context import Context
        from bench.harness import Report
        from bench.scenarios import completion

        size = {"projects": 600, "departments": 20, "completions": args.n * 2 + 40, "clients": []}
        ctx = Context(db=db, report=Report(smoke=True, runs=1), smoke=True, runs=1, size=size)
        saved = completion.ready(ctx)
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from bench import district
        from processes.models import SelfEvaluation
        from workflows.services import self_evaluation_submit

        d = district.load()
        pks = completion._round_robin(saved, args.n + 20)
        warm, pks = pks[:20], pks[20:]
        clients: dict[int, Client] = {}

        def client_for(dept: int) -> Client:
            if dept not in clients:
                c = Client()
                c.force_login(d.staff[dept])
                clients[dept] = c
            return clients[dept]

        evaluations = {e.pk: e for e in SelfEvaluation.objects.filter(pk__in=warm + pks).select_related("project")}

        header_counts: list[int] = []

        def one(pk: int) -> None:
            e = evaluations[pk]
            if args.http:
                r = client_for(e.project.department_id).post(f"/api/evaluations/self/{pk}/submit/")
                assert r.status_code == 200, (r.status_code, r.content[:500])
                header_counts.append(int(r.headers.get("X-Bench-Statements", 0)))
            else:
                self_evaluation_submit(evaluation=e, actor=d.staff[e.project.department_id])

        for pk in warm[:10]:
            one(pk)
        with CaptureQueriesContext(connection) as q:
            for pk in warm[10:]:
                one(pk)
        stmts = sum(header_counts[-10:]) / 10 if args.http else len(q.captured_queries) / 10
        if args.sql:
            import traceback

            root = str(Path(__file__).resolve().parent.parent) + "/"
            calls: list[tuple[str, str]] = []

            def where(execute, sql, params, many, context):
                frames = [
                    f"{f.filename.removeprefix(root)}:{f.lineno} {f.name}"
                    for f in traceback.extract_stack()[:-1]
                    if f.filename.startswith(root) and "/.venv/" not in f.filename and "scripts/" not in f.filename
                ]
                calls.append((sql, " < ".join(reversed(frames[-3:]))))
                return execute(sql, params, many, context)

            with connection.execute_wrapper(where):
                one(pks.pop())
            for i, (sql, frames) in enumerate(calls, 1):
                print(f"{i:3d} {sql[:160]}\n      {frames}")
        compile_times: dict[str, list[float]] = {}
        if args.compile_report:
            import traceback

            from django.db.models.sql import compiler as sqlc

            original = sqlc.SQLCompiler.as_sql
            depth = [0]

            def timed_as_sql(self, *a, **k):
                depth[0] += 1
                t = time.process_time()
                try:
                    out = original(self, *a, **k)
                finally:
                    depth[0] -= 1
                if depth[0] == 0:
                    where = next(
                        (
                            f"{f.filename.split('wt-comp/')[-1]}:{f.lineno}"
                            for f in reversed(traceback.extract_stack()[:-1])
                            if "wt-comp/" in f.filename
                            and ".venv" not in f.filename
                            and "profile_completion" not in f.filename
                        ),
                        "?",
                    )
                    key = f"{where} {type(self).__name__} {out[0][:90]}"
                    compile_times.setdefault(key, []).append(time.process_time() - t)
                return out

            for cls in (sqlc.SQLCompiler,):
                cls.as_sql = timed_as_sql
        prof = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        for pk in pks:
            one(pk)
        if prof:
            prof.disable()
            prof.dump_stats(args.profile)
        cpu = (time.process_time() - cpu) / len(pks) * 1000
        wall = (time.perf_counter() - wall) / len(pks) * 1000
        for key, ts in sorted(compile_times.items(), key=lambda kv: -sum(kv[1])):
            print(f"{sum(ts) / len(pks) * 1000:6.2f} ms/completion  x{len(ts) / len(pks):.1f}  {key}")
        print(
            f"{'http' if args.http else 'service'} {connection.vendor} n={len(pks)}: "
            f"CPU {cpu:.2f} ms/completion, wall {wall:.2f} ms, statements {stmts:.1f}" + (" (profiled)" if prof else "")
        )
    finally:
        db.drop()


if __name__ == "__main__":
    main()
