"""Lists over HTTP with 1,000 and with 100,000 tasks in the database: a department's
inbox (GET /, its staff), the project list (GET /projects/, the finance section: every
project of the district, 50 a page) and the supervisors' deadline board (GET /board/, a
supervisor) — p50/p95 latency and statements per page. The same pages must cost the
same statements whatever the number of rows, and barely more time.

The database: the reference district; a monitoring round opened (monitoring_round_open)
over the first 1,000 projects, due in two days — 1,000 open 填报 tasks, all on the
board as due soon. The 100,000-task database adds 99,000 tasks of finished flows (the
history of earlier rounds: written by workflows.bulk.bulk_start, due a year ago, then
marked done with their processes), so the open work is the same and only the tables
grow. On PostgreSQL the tables are analysed after each build (autovacuum would); SQLite
is left as the project leaves it.

Each run is one client asking for each page in turn (after a warm-up), on one daphne
process. Limit: the same client's trivial logged-in request (GET /accounts/login/, a
redirect: session and authentication only).

Targets (issue 9): p95 at 100,000 tasks ≤ 1.5 × p95 at 1,000; statements equal.
"""

from __future__ import annotations

import statistics
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from processes.models import BudgetProject
from workflows.bulk import bulk_start
from workflows.flows import MonitoringFlow
from workflows.services import monitoring_round_open

from .. import district
from ..context import Context
from ..harness import percentile
from ..http import Client, serve

PAGES = [
    ("inbox", "/", "staff"),
    ("project list", "/projects/", "finance"),
    ("deadline board", "/board/", "supervisor"),
    ("limit: trivial logged-in request", "/accounts/login/", "staff"),
]


def _analyse() -> None:
    """The steady state of a database in service after the setup's bulk writes: on
    PostgreSQL, VACUUM ANALYZE — the history's 99,000 tasks are inserted open and then
    closed in one UPDATE, leaving 99,000 dead 'NEW' entries in the status index that
    autovacuum clears within a minute in service (a year's tasks close one at a time);
    measured before it had, the inbox's p95 at 100,000 tasks was that cleanup's."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _open_work(n_open: int) -> None:
    d = district.load()
    # every k-th project: the open work spread over every department
    every = BudgetProject.objects.count() // max(1, n_open)
    projects = list(BudgetProject.objects.order_by("pk").values_list("pk", flat=True))[:: max(1, every)][:n_open]
    monitoring_round_open(
        actor=d.finance,
        fiscal_year=district.YEAR,
        end_month=6,
        due_at=timezone.now() + timedelta(days=2),
        project_ids=projects,
    )
    _analyse()


def _history(n_done: int) -> None:
    """``n_done`` human tasks of finished monitoring flows, over the district's projects."""
    projects = list(BudgetProject.objects.values_list("pk", flat=True))
    task_before = Task.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    process_before = Process.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    due = timezone.now() - timedelta(days=365)
    chunk = 10_000
    for start in range(0, n_done, chunk):
        items = [(projects[i % len(projects)], {"report": None}) for i in range(start, min(n_done, start + chunk))]
        bulk_start(MonitoringFlow, MonitoringFlow.fill, items, due_at=due)
    finished = due + timedelta(days=3)
    Task.objects.filter(pk__gt=task_before).update(status=STATUS.DONE, started=finished, finished=finished)
    Process.objects.filter(pk__gt=process_before).update(status=PROCESS.DONE, finished=finished)
    _analyse()


def run(ctx: Context) -> None:
    small, large = ctx.size["list_tasks"]
    s = ctx.report.scenario(
        "lists",
        "Lists over HTTP (inbox, project list, deadline board)",
        projects=ctx.size["projects"],
        open_tasks=small,
        tasks=f"{small:,} / {large:,}",
    )
    with ctx.report.timing(s):
        ctx.district()
        ctx.state(f"lists-{small}", lambda: _open_work(small), base="district")
        assert Task.objects.count() == small, Task.objects.count()
        # one server for both sizes: the history is written while it waits
        with serve(ctx.workdir, ctx.db.url, count=1) as servers:
            clients = log_in(servers.ports[0])
            measure(ctx, s, small, clients)
            _history(large - small)
            assert Task.objects.count() == large, Task.objects.count()
            for client in clients.values():  # the server dropped them while they idled
                client.close()
            measure(ctx, s, large, clients)
            for client in clients.values():
                client.close()
        judged = ctx.full or None
        judge_growth(s, small, large, judged)


def log_in(port: int) -> dict[str, Client]:
    """The three readers: the first department's staff, the finance section, a supervisor."""
    d = district.load()
    users = {"staff": d.staff[d.departments[0].pk], "finance": d.finance, "supervisor": d.supervisor}
    clients = {}
    for who, user in users.items():
        clients[who] = Client(port)
        clients[who].log_in(user.username, district.PASSWORD)
    return clients


def measure(ctx: Context, s, tasks: int, clients: dict[str, Client]) -> None:
    n, warmup = ctx.size["list_requests"], ctx.size["list_warmup"]
    series: dict[str, dict[str, list[float]]] = {page: {"p50": [], "p95": [], "st": []} for page, *_ in PAGES}
    for _ in range(ctx.runs):
        for page, path, who in PAGES:
            client = clients[who]
            for _w in range(warmup):
                client.get(path)
            latencies, counts = [], []
            for _i in range(n):
                answer = client.get(path)
                expected = 302 if path == "/accounts/login/" else 200
                if answer.status != expected:
                    raise AssertionError(f"{path} as {who}: HTTP {answer.status}")
                latencies.append(answer.seconds * 1000)
                counts.append(answer.statements or 0)
            series[page]["p50"].append(percentile(latencies, 50))
            series[page]["p95"].append(percentile(latencies, 95))
            series[page]["st"].append(statistics.median(counts))
            if len(set(counts)) > 1:
                s.note(f"{page} at {tasks:,} tasks: statements varied between requests: {sorted(set(counts))}")
    retried = sum(c.retries for c in clients.values())
    if retried:
        s.note(f"{tasks:,} tasks: {retried} GET(s) asked again after the server closed an idle connection")
    rows = Task.objects.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED]).count()
    s.note(f"{tasks:,} tasks in the database, {rows:,} of them open")
    for page, *_ in PAGES:
        s.add(f"{page}, {tasks:,} tasks: p50", series[page]["p50"], "ms")
        s.add(f"{page}, {tasks:,} tasks: p95", series[page]["p95"], "ms")
        s.add(f"{page}, {tasks:,} tasks: statements", series[page]["st"], "statements")


def judge_growth(s, small: int, large: int, judged: bool | None, *, against_trivial: bool = True) -> None:
    """The lists' targets as the tasks grow from ``small`` to ``large``: each page's p95
    within 1.5 times, and the same statements (the city scale judges the same way); with
    ``against_trivial`` (the district, issue 20) also each page's p50 within 3 times the
    trivial signed-in request's at both sizes."""
    trivial = PAGES[-1][0]
    for page, _path, _who in PAGES[:-1]:
        for tasks in (small, large) if against_trivial else ():  # issue 20: p50 ≤ 3 × the trivial request's, same run
            times = s.get(f"{page}, {tasks:,} tasks: p50").median / s.get(f"{trivial}, {tasks:,} tasks: p50").median
            s.ratio(f"{page}, {tasks:,} tasks: p50 ÷ the trivial request's", times)
            s.target(f"{page}, {tasks:,} tasks: p50 ÷ trivial", "≤ 3", f"{times:.1f}", judged and times <= 3)
        p95_small = s.get(f"{page}, {small:,} tasks: p95").median
        p95_large = s.get(f"{page}, {large:,} tasks: p95").median
        ratio = s.ratio(f"{page}: p95 at {large:,} ÷ p95 at {small:,} tasks", p95_large / p95_small)
        s.target(f"{page}: p95 {large:,} ÷ {small:,} tasks", "≤ 1.5", f"{ratio:.2f}", judged and ratio <= 1.5)
        st_small = s.get(f"{page}, {small:,} tasks: statements").runs
        st_large = s.get(f"{page}, {large:,} tasks: statements").runs
        equal = len(set(st_small) | set(st_large)) == 1
        s.target(
            f"{page}: statements at {small:,} and {large:,} tasks",
            "equal",
            f"{st_small[0]:.0f} / {st_large[0]:.0f}",
            judged and equal,
        )
