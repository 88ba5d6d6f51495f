"""Wall time and SQL statements of opening a monitoring round over 3,755 executing projects.

    .venv/bin/python bench/monitoring_round.py [--projects 3755] [--departments 77] [--runs 3]
                                               [--database sqlite:////tmp/bench.sqlite3]

Builds a fresh database (SQLite file by default; DATABASE_URL or --database for
PostgreSQL), 77 departments with a staff member and a leader each, a finance officer, and
3,755 executing projects of fiscal year 2021 spread over the departments, each with an
approved target version of six rows — the setup the fast way (bulk_create), since only
the round is measured. Then, each run from the same starting state (the SQLite file is
copied back before each workload; on another database each run opens the round of
another month instead), it times:

1. ``workflows.services.monitoring_round_open`` for January–July: the real path — one
   report per project in bulk, one MonitoringFlow per report waiting at its 填报 task
   (workflows.bulk), one audit row for the round, one notice per department member,
   delivered on commit;
2. the same call again: nothing is created (one ``round_extend`` audit row);
3. beside them, ``MonitoringReport.objects.bulk_create`` of the same number of plain
   reports in one transaction (batch 500, as the service): the physical limit of this
   machine for these rows.

Wall times come from runs without query logging (median, min–max, every run), with the
time spent inside ``bulk_start`` and in the delivery after commit, and the other CPU load
on the machine meanwhile; the statements (and the SQL time the log records) from one
more pass of each workload under CaptureQueriesContext, whose wall time is printed too.
Beside them it times the service's project listing as written and with ``stage`` in its
``only()`` (a deferred state field costs one SELECT per project). Finally it checks that
every project has exactly one report and one open 填报 task, and completes one task
through report_save + monitoring_submit. Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

parser = argparse.ArgumentParser()
parser.add_argument("--projects", type=int, default=3755)
parser.add_argument("--departments", type=int, default=77)
parser.add_argument("--runs", type=int, default=3)
parser.add_argument("--database", default="")
args = parser.parse_args()

workdir = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
os.environ["DATABASE_URL"] = args.database or os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from viewflow.workflow.models import Task  # noqa: E402
from viewflow.workflow.status import PROCESS, STATUS  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.district import YEAR, busy_seconds, setup, statements, summary, timed  # noqa: E402
from notifications import services as notification_services  # noqa: E402
from notifications.models import Notification  # noqa: E402
from processes.models import (  # noqa: E402
    BudgetProject,
    MonitoringReport,
    MonitoringRound,
    TargetRow,
)
from processes.services.monitoring import approved_rows, report_save  # noqa: E402
from processes.states import ProjectStage, ReportStatus  # noqa: E402
from workflows import services as workflows_services  # noqa: E402
from workflows.flows import MonitoringFlow  # noqa: E402
from workflows.models import ProjectProcess  # noqa: E402
from workflows.services import monitoring_round_open, monitoring_submit  # noqa: E402


def open_round(finance: User, end_month: int):
    return monitoring_round_open(
        actor=finance, fiscal_year=YEAR, end_month=end_month, due_at=timezone.now() + timedelta(days=14)
    )


def plain_reports(finance: User, end_month: int, *, log: bool = False) -> tuple[float, int]:
    """The limit: the same number of bare report rows, one transaction, nothing else.
    Returns the seconds (building the instances included) and, under ``log``, the
    statements."""
    round_ = MonitoringRound.objects.create(
        fiscal_year=YEAR,
        end_month=end_month,
        title="bulk",
        due_at=timezone.now() + timedelta(days=14),
        opened_by=finance,
    )
    projects = list(BudgetProject.objects.filter(fiscal_year=YEAR).values_list("pk", "approved_amount"))
    with CaptureQueriesContext(connection) if log else nullcontext() as queries:
        started = time.perf_counter()
        with transaction.atomic():
            MonitoringReport.objects.bulk_create(
                [MonitoringReport(round=round_, project_id=pk, budget=amount) for pk, amount in projects],
                batch_size=500,
            )
        seconds = time.perf_counter() - started
    return seconds, len(queries.captured_queries) if log else 0


class State:
    """Puts the database back to the state after setup before each workload (SQLite: a
    file copy); elsewhere each workload opens the round of another month."""

    def __init__(self) -> None:
        self.sqlite = connection.vendor == "sqlite"
        self.path = Path(settings.DATABASES["default"]["NAME"])
        self.copy = workdir / "after-setup.sqlite3"
        self.month = 6
        if self.sqlite:
            connection.close()
            shutil.copyfile(self.path, self.copy)

    def fresh(self) -> int:
        """The end month to open next, on a database holding no round for it."""
        if self.sqlite:
            connection.close()
            shutil.copyfile(self.copy, self.path)
            return 7
        self.month += 1
        if self.month > 12:
            raise SystemExit("more runs than months on a database that cannot be reset")
        return self.month


class OtherLoad:
    """Cores used by anything but this process while the block ran (None off Linux).
    /proc/stat counts in clock ticks (10 ms): meaningful over seconds, not milliseconds."""

    def __enter__(self):
        self.busy, self.own, self.started = busy_seconds(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.started
        now = busy_seconds()
        self.cores = (
            None
            if self.busy is None or now is None
            else max(0.0, (now - self.busy) - (time.process_time() - self.own)) / wall
        )


class Parts:
    """Wall time spent inside two parts of round_open, by wrapping the functions it calls
    (behaviour unchanged): starting the flows in bulk, and delivering the notices after
    commit (pushes, and e-mails through the eager Celery task)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        for module, name, label in (
            (workflows_services, "bulk_start", "flows"),
            (notification_services, "deliver", "delivery"),
        ):
            setattr(module, name, self._wrap(getattr(module, name), label))

    def _wrap(self, fn, label):
        def wrapper(*a, **kw):
            started = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        return wrapper

    def take(self) -> dict[str, float]:
        taken, self.seconds = self.seconds, {}
        return taken


def project_list(with_stage: bool) -> float:
    """The service's project list, its only() as written (stage deferred: BudgetProject's
    ConcurrentTransitionMixin reads the state field in __init__, one SELECT per project),
    or with stage added."""
    fields = ["pk", "department_id", "approved_amount", "adjusted_amount", "name"] + (["stage"] if with_stage else [])
    started = time.perf_counter()
    list(BudgetProject.objects.filter(fiscal_year=YEAR, stage=ProjectStage.EXECUTING).only(*fields))
    return time.perf_counter() - started


def check(round_: MonitoringRound, staff: dict[int, User]) -> None:
    """Every project: exactly one report and one open 填报 task; one completes normally."""
    n = BudgetProject.objects.filter(fiscal_year=YEAR, stage=ProjectStage.EXECUTING).count()
    per_project = MonitoringReport.objects.filter(round=round_).values("project_id").annotate(n=Count("id"))
    assert len(per_project) == n and all(r["n"] == 1 for r in per_project), "one report per project"
    fill = Task.objects.filter(
        flow_task=MonitoringFlow.fill, flow_task_type="HUMAN", status=STATUS.NEW, process__status=PROCESS.NEW
    )
    tasks = fill.values("process__projectprocess__project_id").annotate(n=Count("id"))
    assert len(tasks) == n and all(t["n"] == 1 for t in tasks), "one open 填报 task per project"
    reports = dict(MonitoringReport.objects.filter(round=round_).values_list("project_id", "pk"))
    for process in ProjectProcess.objects.filter(flow_class=MonitoringFlow).only("project_id", "data")[:200]:
        assert process.data["report"] == reports[process.project_id], "the flow names its project's report"
    assert fill.filter(owner_permission="processes.fill_monitoring").count() == n
    print(f"check: {n} projects, each with exactly one report and one open 填报 task")

    report = MonitoringReport.objects.filter(round=round_).select_related("project").order_by("pk").first()
    assert report is not None
    actor = staff[report.project.department_id]
    rows = approved_rows(report.project)
    indicators = [
        {"target_row": r.pk, "value": r.target_value * 7 / 12, "likelihood": "certain"}
        if r.quantitative
        else {"target_row": r.pk, "progress": "achieved", "likelihood": "certain"}
        for r in rows
    ]
    budget = report.budget or Decimal(0)
    report = report_save(
        report=report,
        actor=actor,
        executed=(budget * Decimal("0.6")).quantize(Decimal("0.01")),
        expected_full_year=budget,
        indicators=indicators,
    )
    with CaptureQueriesContext(connection) as q:
        report = monitoring_submit(report=report, actor=actor)
    process = ProjectProcess.objects.get(flow_class=MonitoringFlow, data__report=report.pk)
    done = Task.objects.filter(process=process, flow_task=MonitoringFlow.fill, status=STATUS.DONE).count()
    waiting = Task.objects.filter(process=process, flow_task=MonitoringFlow.leader_review, status=STATUS.NEW).count()
    assert (report.status, done, waiting) == (ReportStatus.SUBMITTED, 1, 1), (report.status, done, waiting)
    print(
        f"check: report {report.pk} ({report.light}) submitted by {actor.username} through monitoring_submit "
        f"({len(q.captured_queries)} statements): 填报 task done, 部门审核 task waiting"
    )


def main() -> None:
    started = time.perf_counter()
    finance, staff = setup(args.projects, args.departments)
    print(
        f"database: {connection.vendor}; departments: {args.departments}; projects: {args.projects} "
        f"({TargetRow.objects.count()} approved target rows); setup {time.perf_counter() - started:.1f} s"
    )
    state = State()
    parts = Parts()
    opens, agains, plains, others = [], [], [], []
    flows, deliveries = [], []
    with OtherLoad() as whole:
        for _ in range(args.runs):
            month = state.fresh()
            with OtherLoad() as other:
                seconds, opened = timed(lambda m=month: open_round(finance, m))
            assert len(opened.created) == args.projects, len(opened.created)
            opens.append(seconds)
            others.append(other.cores)
            taken = parts.take()
            flows.append(taken["flows"])
            deliveries.append(taken["delivery"])
            seconds, again = timed(lambda m=month: open_round(finance, m))
            assert (len(again.created), again.already) == (0, args.projects)
            agains.append(seconds)
            plains.append(plain_reports(finance, state.fresh())[0])
    print(f"runs: {args.runs}, each from the state after setup")
    if whole.cores is not None:
        print(
            f"other CPU load (cores of {os.cpu_count()}): {whole.cores:.2f} over the runs; during each round_open "
            + ", ".join(f"{c:.2f}" for c in others if c is not None)
        )
    summary(f"monitoring_round_open ({args.projects:,} new)", opens, args.projects, unit="reports")
    summary("  of which bulk_start (flows)", flows)
    summary("  of which delivery after commit", deliveries)
    summary("monitoring_round_open again (nothing new)", agains)
    summary("bulk_create of plain MonitoringReport rows", plains, args.projects, unit="reports")
    print(f"ratio round_open ÷ plain bulk_create: {statistics.median(opens) / statistics.median(plains):.1f}")
    listing = [project_list(False) for _ in range(args.runs)]
    listing_fixed = [project_list(True) for _ in range(args.runs)]
    summary("  the service's project list, as written", listing)
    summary("  the same list with stage in only()", listing_fixed)

    # one more pass of each workload, under the query log
    month = state.fresh()
    with CaptureQueriesContext(connection) as q_open:
        seconds_open, opened = timed(lambda: open_round(finance, month))
    with CaptureQueriesContext(connection) as q_again:
        seconds_again, _ = timed(lambda: open_round(finance, month))
    parts.take()
    round_ = opened.round
    told = Notification.objects.filter(object_type="processes.monitoringround", object_id=str(round_.pk)).count()
    logged = q_open.captured_queries
    # the service's transaction ends at the first COMMIT; after it, delivery (on_commit)
    end = next(i for i, q in enumerate(logged) if q["sql"].strip().upper() == "COMMIT") + 1
    print(
        f"round_open under the log: {seconds_open:.3f} s, {len(logged)} statements "
        f"(SQL {sum(float(q['time']) for q in logged):.3f} s as logged); "
        f"{Task.objects.filter(flow_task=MonitoringFlow.fill).count()} tasks, {told} notices"
    )
    print(f"    in the transaction: {end} statements: {statements(logged[:end])}")
    print(f"    delivery after commit: {len(logged) - end} statements: {statements(logged[end:])}")
    print(
        f"again under the log: {seconds_again:.3f} s, {len(q_again.captured_queries)} statements: "
        f"{statements(q_again.captured_queries)}"
    )
    check(round_, staff)
    month = state.fresh()
    seconds_plain, count = plain_reports(finance, month, log=True)
    print(f"plain bulk_create under the log: {seconds_plain:.3f} s, {count} statements")


if __name__ == "__main__":
    main()
