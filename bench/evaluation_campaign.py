"""Wall time and SQL statements of launching the year's self-evaluation campaign over
3,755 executing projects.

    .venv/bin/python bench/evaluation_campaign.py [--projects 3755] [--departments 77] [--runs 3]
                                                  [--database sqlite:////tmp/bench.sqlite3] [--profile]

Builds a fresh database (SQLite file by default; DATABASE_URL or --database for
PostgreSQL) as bench/monitoring_round.py does: 77 departments with a staff member and a
leader each, a finance officer, and 3,755 executing projects of fiscal year 2021 spread
over the departments, each with an approved target version of six rows — the setup the
fast way (bulk_create), since only the launch is measured. Then, each run from the same
starting state (SQLite: the database file is copied back; PostgreSQL: what a launch
created is deleted — flows' tasks and processes, self-evaluations, the campaign, the
audit rows after the setup's last sequence with the chain head put back, notifications —
and the projects are set back to executing with a raw UPDATE), it times:

1. ``workflows.services.campaign_launch`` for 2021: the real path — one SelfEvaluation
   per executing project in bulk, the projects moved to 评价中 in one UPDATE, one chained
   audit row per project in one batch (``audit_record_many``), one SelfEvaluationFlow per
   project waiting at its 填报 task (``workflows.bulk.bulk_start``), the campaign's audit
   row, one notice per department member, delivered on commit;
2. the same call again: nothing is created (one ``campaign_extend`` audit row);
3. beside them, ``SelfEvaluation.objects.bulk_create`` of the same number of plain rows in
   one transaction (as the service calls it, no batch_size), then deleted: the physical
   limit of this machine for these rows.

Wall times come from runs without query logging (median, min–max, every run), with the
time spent inside parts of the launch (audit batch, ``bulk_start``, the notices, delivery
after commit) and the other CPU load on the machine meanwhile (all busy CPU minus this
process and, on PostgreSQL, its server backend); the statements (and the SQL time the log
records) from one more pass of each workload under CaptureQueriesContext. Finally it
checks that every project has exactly one self-evaluation and one open 填报 task due at
the campaign's due date, that every project is 评价中 and the audit chain verifies, and
completes one task through self_evaluation_save + self_evaluation_submit. ``--profile``
adds a cProfile of one more launch. Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

parser = argparse.ArgumentParser()
parser.add_argument("--projects", type=int, default=3755)
parser.add_argument("--departments", type=int, default=77)
parser.add_argument("--runs", type=int, default=3)
parser.add_argument("--database", default="")
parser.add_argument("--profile", action="store_true", help="cProfile one more launch and print where the time goes")
args = parser.parse_args()

workdir = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
os.environ["DATABASE_URL"] = args.database or os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from viewflow.workflow.models import Process, Task  # noqa: E402
from viewflow.workflow.status import PROCESS, STATUS  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.district import YEAR, busy_seconds, setup, statements, summary, timed  # noqa: E402
from notifications import services as notification_services  # noqa: E402
from notifications.models import Notification  # noqa: E402
from processes.models import (  # noqa: E402
    AuditChainHead,
    AuditEvent,
    BudgetProject,
    EvaluationCampaign,
    ScoreLine,
    ScoreSheet,
    SelfEvaluation,
    TargetRow,
)
from processes.services import evaluation as evaluation_services  # noqa: E402
from processes.services.audit import audit_verify  # noqa: E402
from processes.services.evaluation import approved_rows, self_evaluation_save  # noqa: E402
from processes.states import ProjectStage, SelfEvaluationStatus  # noqa: E402
from workflows import services as workflows_services  # noqa: E402
from workflows.flows import SelfEvaluationFlow  # noqa: E402
from workflows.models import ProjectProcess, ProjectProcessRow  # noqa: E402
from workflows.nodes import task_due  # noqa: E402
from workflows.services import campaign_launch, self_evaluation_submit  # noqa: E402

#: the actual values entered for ROWS by name when one task is completed (some short of
#: target, so the deviation reason and measure count)
ACTUALS = {
    "完成数量": Decimal("112"),
    "验收合格率": Decimal("96.5"),
    "单位成本": Decimal("36.2"),
    "覆盖人数": Decimal("8350"),
    "服务对象满意度": Decimal("88"),
}


def launch(finance: User):
    return campaign_launch(actor=finance, fiscal_year=YEAR, due_at=timezone.now() + timedelta(days=30))


def plain_evaluations(finance: User, *, log: bool = False) -> tuple[float, int]:
    """The limit: the same number of bare SelfEvaluation rows, one transaction, nothing
    else (bulk_create as the service calls it); deleted afterwards. Returns the seconds
    (building the instances included) and, under ``log``, the statements."""
    campaign = EvaluationCampaign.objects.create(
        fiscal_year=YEAR, title="bulk", due_at=timezone.now() + timedelta(days=30), launched_by=finance
    )
    projects = list(
        BudgetProject.objects.filter(fiscal_year=YEAR, stage=ProjectStage.EXECUTING, self_evaluation=None)
        .order_by("department_id", "code")
        .values_list("pk", flat=True)
    )
    with CaptureQueriesContext(connection) if log else nullcontext() as queries:
        started = time.perf_counter()
        with transaction.atomic():
            SelfEvaluation.objects.bulk_create([SelfEvaluation(campaign=campaign, project_id=pk) for pk in projects])
        seconds = time.perf_counter() - started
    assert SelfEvaluation.objects.filter(campaign=campaign).count() == len(projects) == args.projects
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SelfEvaluation._meta.db_table} WHERE campaign_id = %s", [campaign.pk])
    campaign.delete()
    return seconds, len(queries.captured_queries) if log else 0


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class State:
    """Puts the database back to the state after setup before each workload. SQLite: a
    file copy. Elsewhere: deletes every row a launch (and the completed task) created —
    rows above the setup's largest ids, audit rows above its last sequence — puts the
    audit chain head back and the projects back to executing with a raw UPDATE."""

    def __init__(self) -> None:
        self.sqlite = connection.vendor == "sqlite"
        self.path = Path(settings.DATABASES["default"]["NAME"])
        self.copy = workdir / "after-setup.sqlite3"
        if self.sqlite:
            connection.close()
            shutil.copyfile(self.path, self.copy)
            return
        head = AuditChainHead.objects.filter(pk=1).first()
        self.head = (head.last_sequence, head.last_hash) if head else None
        self.sequence = AuditEvent.objects.aggregate(m=Max("sequence"))["m"] or 0
        self.max = {
            model: model.objects.aggregate(m=Max("pk"))["m"] or 0
            for model in (Task, Process, Notification, EvaluationCampaign, SelfEvaluation, ScoreSheet, ScoreLine)
        }

    def fresh(self) -> None:
        if self.sqlite:
            connection.close()
            shutil.copyfile(self.copy, self.path)
            return
        previous = Task.previous.through
        m = self.max
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, params in (
                (
                    f"DELETE FROM {table(previous)} WHERE from_task_id > %s OR to_task_id > %s",
                    [m[Task], m[Task]],
                ),
                (f"DELETE FROM {table(Task)} WHERE id > %s", [m[Task]]),
                (f"DELETE FROM {table(ProjectProcessRow)} WHERE process_ptr_id > %s", [m[Process]]),
                (f"DELETE FROM {table(Process)} WHERE id > %s", [m[Process]]),
                (f"DELETE FROM {table(SelfEvaluation)} WHERE id > %s", [m[SelfEvaluation]]),
                (f"DELETE FROM {table(ScoreLine)} WHERE id > %s", [m[ScoreLine]]),
                (f"DELETE FROM {table(ScoreSheet)} WHERE id > %s", [m[ScoreSheet]]),
                (f"DELETE FROM {table(EvaluationCampaign)} WHERE id > %s", [m[EvaluationCampaign]]),
                # AuditEvent's queryset refuses delete(): the bench undoes its own rows in SQL
                (f"DELETE FROM {table(AuditEvent)} WHERE sequence > %s", [self.sequence]),
                (f"DELETE FROM {table(Notification)} WHERE id > %s", [m[Notification]]),
                (
                    f"UPDATE {table(BudgetProject)} SET stage = %s WHERE fiscal_year = %s AND stage <> %s",
                    [ProjectStage.EXECUTING, YEAR, ProjectStage.EXECUTING],
                ),
            ):
                cursor.execute(sql, params)
            if self.head is None:
                cursor.execute(f"DELETE FROM {table(AuditChainHead)}")
            else:
                cursor.execute(
                    f"UPDATE {table(AuditChainHead)} SET last_sequence = %s, last_hash = %s WHERE id = 1",
                    list(self.head),
                )
        with connection.cursor() as cursor:  # autocommit: the deleted rows gone, statistics current
            cursor.execute("VACUUM ANALYZE")
        assert not SelfEvaluation.objects.exists() and not EvaluationCampaign.objects.exists()
        assert BudgetProject.objects.filter(fiscal_year=YEAR, stage=ProjectStage.EXECUTING).count() == args.projects


def backend_pid() -> int | None:
    """The PostgreSQL server process of this connection (on this machine), else None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def process_seconds(pid: int | None) -> float:
    """User + system CPU of a process (/proc/<pid>/stat); 0 if unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """Cores used by anything but this process (and its PostgreSQL backend) while the block
    ran (None off Linux); ``backend`` is the backend's own cores. /proc/stat counts in
    clock ticks (10 ms): meaningful over seconds, not milliseconds."""

    def __enter__(self):
        self.pid = backend_pid()
        self.busy, self.own, self.server = busy_seconds(), time.process_time(), process_seconds(self.pid)
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.started
        now = busy_seconds()
        server = process_seconds(self.pid) - self.server
        self.backend = server / wall
        self.cores = (
            None
            if self.busy is None or now is None
            else max(0.0, (now - self.busy) - (time.process_time() - self.own) - server) / wall
        )


class Parts:
    """Wall time spent inside parts of campaign_launch, by wrapping the functions it calls
    (behaviour unchanged): the audit batch, starting the flows in bulk, writing the
    notices, and delivering them after commit (pushes, e-mails through the eager Celery
    task)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        for module, name, label in (
            (evaluation_services, "audit_record_many", "audit"),
            (workflows_services, "bulk_start", "flows"),
            (evaluation_services, "_tell_departments", "notices"),
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


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if connection.vendor == "sqlite":
        database = f"SQLite {sqlite3.sqlite_version}"
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0], "?")
        database += f" file database (journal_mode={journal}, synchronous={sync})"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
            cursor.execute("SHOW synchronous_commit")
            database += f" (synchronous_commit={cursor.fetchone()[0]})"
    return (
        f"machine: {model or platform.processor() or '?'}, {os.cpu_count()} cores; {database}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, viewflow {metadata.version('django-viewflow')}"
    )


def check(launched, staff: dict[int, User]) -> None:
    """Every project: exactly one self-evaluation and one open 填报 task due at the
    campaign's due date; every project 评价中; the audit chain intact; one task completes."""
    campaign = launched.campaign
    n = BudgetProject.objects.filter(fiscal_year=YEAR).count()
    assert n == args.projects
    per_project = SelfEvaluation.objects.values("project_id").annotate(n=Count("id"))
    assert len(per_project) == n and all(r["n"] == 1 for r in per_project), "one self-evaluation per project"
    assert SelfEvaluation.objects.filter(campaign=campaign, status=SelfEvaluationStatus.ISSUED).count() == n
    fill = Task.objects.filter(
        flow_task=SelfEvaluationFlow.fill, flow_task_type="HUMAN", status=STATUS.NEW, process__status=PROCESS.NEW
    )
    tasks = fill.values("process__projectprocess__project_id").annotate(n=Count("id"))
    assert len(tasks) == n and all(t["n"] == 1 for t in tasks), "one open 填报 task per project"
    assert fill.filter(owner_permission="processes.fill_self_evaluation").count() == n
    due = {task_due(t) for t in fill.only("data")}
    assert due == {campaign.due_at}, (due, campaign.due_at)
    evaluations = dict(SelfEvaluation.objects.values_list("project_id", "pk"))
    for process in ProjectProcess.objects.filter(flow_class=SelfEvaluationFlow).only("project_id", "data"):
        assert process.data["self_evaluation"] == evaluations[process.project_id], "the flow names its evaluation"
    stages = dict(BudgetProject.objects.filter(fiscal_year=YEAR).values_list("stage").annotate(n=Count("id")))
    assert stages == {ProjectStage.EVALUATING: n}, stages
    started = AuditEvent.objects.filter(action="start_evaluation", object_type="processes.budgetproject").count()
    assert started == n, started
    problem = audit_verify()
    assert problem is None, str(problem)
    print(
        f"check: {n} projects, each with exactly one self-evaluation and one open 填报 task "
        f"(HUMAN, NEW, processes.fill_self_evaluation) due {timezone.localtime(campaign.due_at):%Y-%m-%d %H:%M}; "
        f"all 评价中; {started} start_evaluation audit rows; audit_verify() is None"
    )

    evaluation = SelfEvaluation.objects.select_related("project").order_by("pk").first()
    assert evaluation is not None
    actor = staff[evaluation.project.department_id]
    lines = []
    for row in approved_rows(evaluation.project):
        item = {
            "target_row": row.pk,
            "deviation_reason": "受施工季节影响，进度略有滞后",
            "measure": "优化进度安排，加强过程监控",
        }
        if row.direction == "qualitative":
            item.update(band="achieved", band_pct="90")
        else:
            item["actual"] = str(ACTUALS[row.name])
        lines.append(item)
    budget = evaluation.project.approved_amount or Decimal(0)
    with CaptureQueriesContext(connection) as q_save:
        evaluation = self_evaluation_save(
            evaluation=evaluation,
            actor=actor,
            lines=lines,
            executed=str((budget * Decimal("0.92")).quantize(Decimal("0.01"))),
            summary="项目总体按计划实施，主要产出基本完成。",
        )
    with CaptureQueriesContext(connection) as q_submit:
        evaluation = self_evaluation_submit(evaluation=evaluation, actor=actor)
    process = ProjectProcess.objects.get(flow_class=SelfEvaluationFlow, data__self_evaluation=evaluation.pk)
    done = Task.objects.filter(process=process, flow_task=SelfEvaluationFlow.fill, status=STATUS.DONE).count()
    waiting = Task.objects.filter(
        process=process, flow_task=SelfEvaluationFlow.leader_review, status=STATUS.NEW
    ).count()
    assert (evaluation.status, done, waiting) == (SelfEvaluationStatus.SUBMITTED, 1, 1), (
        evaluation.status,
        done,
        waiting,
    )
    assert audit_verify() is None
    print(
        f"check: self-evaluation {evaluation.pk} saved (self_evaluation_save, {len(q_save.captured_queries)} "
        f"statements) and submitted by {actor.username} (self_evaluation_submit, {len(q_submit.captured_queries)} "
        f"statements): score {evaluation.score}, grade {evaluation.grade}; 填报 task done, 部门审核 task waiting; "
        "audit_verify() is None"
    )


def main() -> None:
    started = time.perf_counter()
    finance, staff = setup(args.projects, args.departments)
    print(
        f"database: {connection.vendor}; departments: {args.departments}; projects: {args.projects} "
        f"({TargetRow.objects.count()} approved target rows); setup {time.perf_counter() - started:.1f} s"
    )
    print(machine())
    state = State()
    parts = Parts()
    launches, agains, plains, others, backends = [], [], [], [], []
    part_runs: dict[str, list[float]] = {}
    with OtherLoad() as whole:
        for _ in range(args.runs):
            state.fresh()
            with OtherLoad() as other:
                seconds, launched = timed(lambda: launch(finance))
            assert len(launched.created) == args.projects, len(launched.created)
            launches.append(seconds)
            others.append(other.cores)
            backends.append(other.backend)
            for label, value in parts.take().items():
                part_runs.setdefault(label, []).append(value)
            seconds, again = timed(lambda: launch(finance))
            assert (len(again.created), again.already) == (0, args.projects)
            agains.append(seconds)
            parts.take()
            state.fresh()
            plains.append(plain_evaluations(finance)[0])
    print(f"runs: {args.runs}, each from the state after setup; {time.strftime('%Y-%m-%d %H:%M %Z')}")
    if whole.cores is not None:
        print(
            f"other CPU load (cores of {os.cpu_count()}): {whole.cores:.2f} over the runs; during each launch "
            + ", ".join(f"{c:.2f}" for c in others if c is not None)
            + (
                f"; the PostgreSQL backend itself: {', '.join(f'{b:.2f}' for b in backends)}"
                if connection.vendor == "postgresql"
                else ""
            )
        )
    summary(f"campaign_launch ({args.projects:,} new)", launches, args.projects)
    for label, text in (
        ("audit", "  of which audit_record_many (chained batch)"),
        ("flows", "  of which bulk_start (flows)"),
        ("notices", "  of which the notices (in the transaction)"),
        ("delivery", "  of which delivery after commit"),
    ):
        if label in part_runs:
            summary(text, part_runs[label])
    summary("campaign_launch again (nothing new)", agains)
    summary("bulk_create of plain SelfEvaluation rows", plains, args.projects)
    ratio = statistics.median(launches) / statistics.median(plains)
    in_transaction = [s - d for s, d in zip(launches, part_runs.get("delivery", [0.0] * len(launches)), strict=True)]
    print(
        f"ratio campaign_launch ÷ plain bulk_create: {ratio:.1f}; without the delivery after commit "
        f"(median {statistics.median(in_transaction):.3f} s): {statistics.median(in_transaction) / statistics.median(plains):.1f}"
    )

    # one more pass of each workload, under the query log
    state.fresh()
    with CaptureQueriesContext(connection) as q_launch:
        seconds_launch, launched = timed(lambda: launch(finance))
    with CaptureQueriesContext(connection) as q_again:
        seconds_again, _ = timed(lambda: launch(finance))
    parts.take()
    campaign = launched.campaign
    told = Notification.objects.filter(object_type="processes.evaluationcampaign", object_id=str(campaign.pk)).count()
    logged = q_launch.captured_queries
    # the service's transaction ends at the first COMMIT; after it, delivery (on_commit)
    end = next(i for i, q in enumerate(logged) if q["sql"].strip().upper() == "COMMIT") + 1
    print(
        f"campaign_launch under the log: {seconds_launch:.3f} s, {len(logged)} statements "
        f"({len(logged) / args.projects:.3f} per project; {end / args.projects:.3f} in the transaction) "
        f"(SQL {sum(float(q['time']) for q in logged):.3f} s as logged); "
        f"{Task.objects.filter(flow_task=SelfEvaluationFlow.fill).count()} tasks, {told} notices"
    )
    print(f"    in the transaction: {end} statements: {statements(logged[:end])}")
    print(f"    delivery after commit: {len(logged) - end} statements: {statements(logged[end:])}")
    print(
        f"again under the log: {seconds_again:.3f} s, {len(q_again.captured_queries)} statements: "
        f"{statements(q_again.captured_queries)}"
    )
    check(launched, staff)
    state.fresh()
    seconds_plain, count = plain_evaluations(finance, log=True)
    print(f"plain bulk_create under the log: {seconds_plain:.3f} s, {count} statements")

    if args.profile:
        state.fresh()
        profiler = cProfile.Profile()
        profiler.enable()
        launch(finance)
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(30)
            print(f"profile of one launch, by {order}:")
            print("\n".join(out.getvalue().splitlines()[:60]))


if __name__ == "__main__":
    main()
