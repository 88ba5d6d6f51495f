"""Task completion on deadline day: departments submit their self-evaluations, each
completing the flow's 填报 task — the domain transition, the score sheet checked and
stored, the task done and the leader's 部门审核 task created, one chained audit row, the
leader told (row, push and e-mail after commit), the deadline boards refreshed.

Setup: the reference district, the campaign launched (campaign_launch), and complete
sheets saved (self_evaluation_save) on enough self-evaluations of every department.
Each run restores that state, then:

- in-process: ``workflows.services.self_evaluation_submit`` one after another;
  completions per second, latency p50/p95, statements per completion (all through the
  service, audit and notification included). Limit: a transaction updating one row,
  as many times — the commit rate of this database on this machine.
- over HTTP: daphne serving the project (one process per core), 20 and 50 clients each
  logged in through the login page as a department's staff, each POSTing
  /api/evaluations/self/<id>/submit/ for its own department's sheets; completions per
  second, latency p50/p95, statements per request (session and authentication
  included), errors. Limit: the same clients on the same servers asking for a trivial
  logged-in page (GET /accounts/login/, a redirect) as many times.

Targets (issue 9): ≥ 50 completions per second over HTTP with 0 errors, ≤ 30 statements
per completion including audit and notification.
"""

from __future__ import annotations

import math
import statistics
import time

from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from processes.models import SelfEvaluation
from processes.states import SelfEvaluationStatus
from workflows.services import self_evaluation_submit

from .. import district
from ..context import Context
from ..district import statements
from ..harness import busy_seconds, percentile, timed
from ..http import Client, run_load, serve
from ..mail import Mail


def _state(ctx: Context, per_department: int) -> dict[int, list[int]]:
    """The campaign launched and ``per_department`` sheets saved in every department;
    returns the saved self-evaluations' ids by department."""

    def build() -> None:
        d = district.load()
        district.launch(d)
        district.fill_sheets(d, per_department)

    ctx.state(f"completion-{per_department}", build, base="district")
    saved: dict[int, list[int]] = {}
    for pk, department in (
        SelfEvaluation.objects.filter(sheet__isnull=False, status=SelfEvaluationStatus.ISSUED)
        .order_by("project__department_id", "project__code")
        .values_list("pk", "project__department_id")
    ):
        saved.setdefault(department, []).append(pk)
    return saved


def _round_robin(saved: dict[int, list[int]], n: int) -> list[int]:
    """``n`` saved self-evaluations taken from the departments in turn."""
    queues = [list(ids) for ids in saved.values()]
    taken: list[int] = []
    while len(taken) < n:
        progressed = False
        for q in queues:
            if q and len(taken) < n:
                taken.append(q.pop(0))
                progressed = True
        if not progressed:
            raise RuntimeError(f"only {len(taken)} saved self-evaluations, {n} needed")
    return taken


def per_department(size: dict) -> int:
    """Sheets to save in every department: enough for the in-process runs (taken from every
    department in turn) and for all the client counts of one HTTP run (client i works for
    department i mod D, and a department's clients share its sheets)."""
    n, clients, departments = size["completions"], size["clients"], size["departments"]
    needed = max(math.ceil(n / departments), sum(math.ceil(k / departments) * (n // k) for k in clients))
    if needed > size["projects"] // departments:
        raise ValueError("more completions per department than projects in it")
    return needed


def ready(ctx: Context) -> dict[int, list[int]]:
    """The completion state (the reference district, the campaign launched, sheets saved),
    freshly restored; the saved self-evaluations' ids by department."""
    ctx.district()
    return _state(ctx, per_department(ctx.size))


def run(ctx: Context) -> None:
    size = ctx.size
    n, clients = size["completions"], size["clients"]
    per_department_ = per_department(size)
    s = ctx.report.scenario(
        "completion",
        "Task completion (self_evaluation_submit: 填报 task done)",
        projects=size["projects"],
        completions_per_run=n,
        clients=", ".join(map(str, clients)),
    )
    with ctx.report.timing(s):
        ready(ctx)
        s.size["sheets_ready"] = SelfEvaluation.objects.filter(sheet__isnull=False).count()
        mail = Mail()
        s.note(f"in-process e-mail: {mail.how}")
        with mail.production():
            in_process(ctx, s, per_department_, mail)
        over_http(ctx, s)
        judge(ctx, s)


def in_process(ctx: Context, s, per_department: int, mail: Mail) -> None:
    """The completions through the service in this process; with REDIS_URL their e-mail
    tasks published to Redis, as production (bench/mail.py), purged and counted per run."""
    n = ctx.size["completions"]
    rates, p50s, p95s, limits, cpus, queued = [], [], [], [], [], []
    d = district.load()
    for run_ in range(ctx.runs + 1):  # the first pass is logged (statements), the rest timed
        saved = _state(ctx, per_department)
        pks = _round_robin(saved, n)
        evaluations = list(SelfEvaluation.objects.filter(pk__in=pks).select_related("project"))
        by_pk = {e.pk: e for e in evaluations}
        if run_ == 0:
            sample = [by_pk[pk] for pk in pks[: min(20, n)]]
            with CaptureQueriesContext(connection) as first:
                self_evaluation_submit(evaluation=sample[0], actor=d.staff[sample[0].project.department_id])
            with CaptureQueriesContext(connection) as rest:
                for e in sample[1:]:
                    self_evaluation_submit(evaluation=e, actor=d.staff[e.project.department_id])
            per = (len(first.captured_queries) + len(rest.captured_queries)) / len(sample)
            s.add("in-process: statements per completion", per, "statements")
            s.note(f"one completion through the service: {statements(first.captured_queries)}")
            mail.drain()
            continue
        latencies = []
        started, cpu = time.perf_counter(), time.process_time()
        for pk in pks:
            e = by_pk[pk]
            latencies.append(
                timed(lambda e=e: self_evaluation_submit(evaluation=e, actor=d.staff[e.project.department_id]))[0]
            )
        wall = time.perf_counter() - started
        cpus.append((time.process_time() - cpu) / n * 1000)
        queued.append(mail.drain())
        assert SelfEvaluation.objects.filter(pk__in=pks, status=SelfEvaluationStatus.SUBMITTED).count() == n
        rates.append(n / wall)
        p50s.append(percentile(latencies, 50) * 1000)
        p95s.append(percentile(latencies, 95) * 1000)
        started = time.perf_counter()
        for pk in pks:
            with transaction.atomic():
                SelfEvaluation.objects.filter(pk=pk).update(revision=F("revision") + 1)
        limits.append(n / (time.perf_counter() - started))
    s.add("in-process: completions per second", rates, "/s")
    s.add("in-process: latency p50", p50s, "ms")
    s.add("in-process: latency p95", p95s, "ms")
    s.add("in-process: CPU per completion (this process)", cpus, "ms")
    s.add("limit: one-row UPDATE transactions per second", limits, "/s")
    if mail.queued:
        s.add("in-process: e-mail tasks queued on Redis (purged)", queued, "tasks")
    s.ratio(
        "in-process completions ÷ one-row transactions (per second)",
        statistics.median(rates) / statistics.median(limits),
    )


def over_http(ctx: Context, s) -> None:
    """Each run: the state restored, the servers started, then for each client count its
    clients log in, ask for the trivial page, then complete their own sheets (each client
    count takes the next sheets of its departments)."""
    n, ks = ctx.size["completions"], ctx.size["clients"]
    d = district.load()
    figures: dict[int, dict[str, list[float]]] = {k: {} for k in ks}
    for _ in range(ctx.runs):
        saved = ready(ctx)
        dept_ids = sorted(saved)
        taken = dict.fromkeys(dept_ids, 0)
        with serve(ctx.workdir, ctx.db.url) as servers:
            for k in ks:
                # client i works for department i mod D; a department's next sheets are
                # dealt out among its clients
                per_client = n // k
                owners: dict[int, list[int]] = {}
                for i in range(k):
                    owners.setdefault(dept_ids[i % len(dept_ids)], []).append(i)
                work: list[list[int]] = [[] for _ in range(k)]
                for dept, clients_of in owners.items():
                    share = saved[dept][taken[dept] : taken[dept] + per_client * len(clients_of)]
                    taken[dept] += len(share)
                    for j, pk in enumerate(share):
                        work[clients_of[j % len(clients_of)]].append(pk)
                if any(len(w) < per_client for w in work):
                    raise RuntimeError("not enough saved sheets per department for the clients")
                f = figures[k]
                clients = [Client(servers.ports[i % len(servers.ports)]) for i in range(k)]
                for i, client in enumerate(clients):
                    client.log_in(d.staff[dept_ids[i % len(dept_ids)]].username, district.PASSWORD)
                trivial = run_load(
                    clients, [[lambda c: c.get("/accounts/login/")] * per_client for _ in clients], expect=(302,)
                )
                busy, served = busy_seconds(), servers.cpu_seconds()
                load = run_load(
                    clients,
                    [[lambda c, pk=pk: c.post(f"/api/evaluations/self/{pk}/submit/") for pk in w] for w in work],
                )
                if busy is not None and load.ok:
                    # where a completion's time goes: every busy core of the machine (servers,
                    # database, clients) and the daphne processes alone, per completion
                    f.setdefault("machine CPU per completion", []).append(
                        ((busy_seconds() or busy) - busy) / load.ok * 1000
                    )
                    f.setdefault("daphne CPU per completion", []).append(
                        (servers.cpu_seconds() - served) / load.ok * 1000
                    )
                for client in clients:
                    client.close()
                done = SelfEvaluation.objects.filter(
                    pk__in=[pk for w in work for pk in w], status=SelfEvaluationStatus.SUBMITTED
                ).count()
                if done < load.ok:
                    raise AssertionError(f"{load.ok} answered 200 but only {done} are submitted")
                if done > load.ok:  # an error after the commit (e.g. in the delivery): say so
                    s.note(f"{k} clients: {done - load.ok} submitted although their request failed")
                f.setdefault("completions per second", []).append(load.rate)
                f.setdefault("latency p50", []).append(load.p(50) * 1000)
                f.setdefault("latency p95", []).append(load.p(95) * 1000)
                f.setdefault("statements per completion (request)", []).append(
                    statistics.median(load.statements) if load.statements else float("nan")
                )
                f.setdefault("errors", []).append(len(load.errors) + len(trivial.errors))
                f.setdefault("trivial", []).append(trivial.rate)
                for e in (load.errors + trivial.errors)[:3]:
                    s.note(f"{k} clients: error {e}")
    units = {
        "completions per second": "/s",
        "latency p50": "ms",
        "latency p95": "ms",
        "errors": "errors",
        "machine CPU per completion": "ms",
        "daphne CPU per completion": "ms",
    }
    for k in ks:
        label = f"HTTP {k} clients"
        for name, values in figures[k].items():
            if name != "trivial":
                s.add(f"{label}: {name}", values, units.get(name, "statements"))
        s.add(f"limit: {label} trivial logged-in requests per second", figures[k]["trivial"], "/s")
        s.ratio(
            f"{label}: completions ÷ trivial requests (per second)",
            statistics.median(figures[k]["completions per second"]) / statistics.median(figures[k]["trivial"]),
        )


def judge(ctx: Context, s) -> None:
    judged = ctx.full or None
    for k in ctx.size["clients"]:
        rate = s.get(f"HTTP {k} clients: completions per second").median
        errors = max(s.get(f"HTTP {k} clients: errors").runs)
        per = s.get(f"HTTP {k} clients: statements per completion (request)").median
        s.target(f"HTTP {k} clients: completions per second", "≥ 50", f"{rate:.1f}", judged and rate >= 50)
        s.target(f"HTTP {k} clients: errors", "0", f"{errors:.0f}", judged and errors == 0)
        s.target(f"HTTP {k} clients: statements per completion", "≤ 30", f"{per:.0f}", judged and per <= 30)
        cpu = s.find(f"HTTP {k} clients: daphne CPU per completion")
        if cpu is not None:  # issue 20 (the CPU is read from /proc: Linux only)
            s.target(
                f"HTTP {k} clients: daphne CPU per completion",
                "≤ 30 ms",
                f"{cpu.median:.1f} ms",
                judged and cpu.median <= 30,
            )
    per = s.get("in-process: statements per completion").median
    s.target("in-process: statements per completion", "≤ 30", f"{per:.1f}", judged and per <= 30)
