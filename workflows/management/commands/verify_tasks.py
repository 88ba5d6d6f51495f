"""`manage.py verify_tasks`: every open flow task agrees with the state of its object.

A human task is open exactly while its object waits for that step (a project SUBMITTED
has its department review open, a target version DEPT_APPROVED its finance review, …):
each transition moves the object and the task in one transaction. A task whose object is
in another state — or a task in viewflow's ERROR status, an open task of a finished
process, or an automatic step that never ran — is stuck: no one can act on it, or someone
acts on the wrong thing. Run after an incident (docs/operations.md) and in the production
suite after every fault. Exits 1 naming each mismatch, 0 when there is none.

Reads one snapshot (REPEATABLE READ on PostgreSQL), so a transition committing while it
runs is not reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from processes.models import MonitoringReport, PreAssessment, SelfEvaluation, TargetSet
from processes.states import (
    PreAssessmentStatus,
    ProjectStage,
    ReportStatus,
    SelfEvaluationStatus,
    TargetSetStatus,
)
from workflows.models import ProjectProcess

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED, STATUS.ERROR]
#: Automatic nodes that legitimately stay open: a join waits for its other branches.
WAITING_NODES = {"Join"}


def _project(process: ProjectProcess) -> str:
    return process.project.stage


def _pre_assessment(process: ProjectProcess) -> str | None:
    pa = PreAssessment.objects.filter(project_id=process.project_id).order_by("-pk").first()
    return pa.status if pa else None


def _by_data(model, key: str):
    def state(process: ProjectProcess) -> str | None:
        pk = (process.data or {}).get(key)
        obj = model.objects.filter(pk=pk).only("status").first() if pk is not None else None
        return obj.status if obj else None

    return state


#: (flow class, node) → (what the state is read from, the states in which the task is open).
RULES: dict[tuple[str, str], tuple[str, object, set[str]]] = {
    ("ProjectIntakeFlow", "dept_review"): ("project", _project, {ProjectStage.SUBMITTED}),
    ("ProjectIntakeFlow", "finance_intake"): ("project", _project, {ProjectStage.DEPT_APPROVED}),
    ("PreAssessmentFlow", "draw"): ("pre-assessment", _pre_assessment, {PreAssessmentStatus.INITIATED}),
    ("PreAssessmentFlow", "opinion"): (
        "pre-assessment",
        _pre_assessment,
        {PreAssessmentStatus.PANEL_FORMED, PreAssessmentStatus.UNDER_REVIEW},
    ),
    ("PreAssessmentFlow", "conclude"): ("pre-assessment", _pre_assessment, {PreAssessmentStatus.OPINIONS_COLLECTED}),
    ("PreAssessmentFlow", "confirm"): ("pre-assessment", _pre_assessment, {PreAssessmentStatus.CONCLUDED}),
    ("TargetReviewFlow", "fill"): (
        "target set",
        _by_data(TargetSet, "target_set"),
        {TargetSetStatus.DRAFT, TargetSetStatus.RETURNED},
    ),
    ("TargetReviewFlow", "leader_review"): (
        "target set",
        _by_data(TargetSet, "target_set"),
        {TargetSetStatus.SUBMITTED},
    ),
    ("TargetReviewFlow", "finance_review"): (
        "target set",
        _by_data(TargetSet, "target_set"),
        {TargetSetStatus.DEPT_APPROVED},
    ),
    ("MonitoringFlow", "fill"): ("monitoring report", _by_data(MonitoringReport, "report"), {ReportStatus.ISSUED}),
    ("MonitoringFlow", "leader_review"): (
        "monitoring report",
        _by_data(MonitoringReport, "report"),
        {ReportStatus.SUBMITTED},
    ),
    ("MonitoringFlow", "finance_review"): (
        "monitoring report",
        _by_data(MonitoringReport, "report"),
        {ReportStatus.DEPT_APPROVED},
    ),
    ("MonitoringFlow", "dispose"): ("monitoring report", _by_data(MonitoringReport, "report"), {ReportStatus.WARNED}),
    ("SelfEvaluationFlow", "fill"): (
        "self-evaluation",
        _by_data(SelfEvaluation, "self_evaluation"),
        {SelfEvaluationStatus.ISSUED},
    ),
    ("SelfEvaluationFlow", "leader_review"): (
        "self-evaluation",
        _by_data(SelfEvaluation, "self_evaluation"),
        {SelfEvaluationStatus.SUBMITTED},
    ),
    ("SelfEvaluationFlow", "finance_review"): (
        "self-evaluation",
        _by_data(SelfEvaluation, "self_evaluation"),
        {SelfEvaluationStatus.DEPT_APPROVED},
    ),
}


@dataclass(frozen=True)
class Mismatch:
    task_id: int
    process_id: int
    where: str  # Flow.node
    problem: str

    def __str__(self) -> str:
        return f"task {self.task_id} ({self.where}, process {self.process_id}): {self.problem}"


def find_mismatches() -> list[Mismatch]:
    """Every open task that disagrees with its object, in task order."""
    found: list[Mismatch] = []
    tasks = Task.objects.filter(status__in=OPEN).select_related("process").order_by("pk")
    processes = {
        p.pk: p for p in ProjectProcess.objects.filter(pk__in=tasks.values("process_id")).select_related("project")
    }
    for task in tasks:
        node = task.flow_task
        flow_name = node.flow_class.__name__ if node is not None else "?"
        node_name = node.name if node is not None else "?"
        where = f"{flow_name}.{node_name}"

        def add(problem: str, task=task, where=where) -> None:
            found.append(Mismatch(task.pk, task.process_id, where, problem))

        if task.status == STATUS.ERROR:
            add(_("任务处于错误状态（ERROR）"))
            continue
        if task.process.status in (STATUS.DONE, STATUS.CANCELED):
            add(_("流程已结束（%(status)s），任务仍未关闭") % {"status": task.process.status})
            continue
        if task.flow_task_type != "HUMAN":
            if type(node).__name__ not in WAITING_NODES:
                add(_("自动步骤未执行（%(status)s）") % {"status": task.status})
            continue
        rule = RULES.get((flow_name, node_name))
        if rule is None:
            add(_("没有核对规则：请在 verify_tasks.RULES 中登记此步骤"))
            continue
        process = processes.get(task.process_id)
        if process is None:
            add(_("流程不是项目流程"))
            continue
        label, read_state, expected = rule
        state = read_state(process)  # type: ignore[operator]
        if state not in expected:
            add(
                _("%(object)s 的状态为 %(state)s，此任务只应在 %(expected)s 时待办")
                % {"object": label, "state": state or "—", "expected": "/".join(sorted(str(s) for s in expected))}
            )
    return found


class Command(BaseCommand):
    help = "Check that every open flow task agrees with its object's state; exit 1 naming each mismatch."

    def handle(self, *args, **options):
        outermost = not connection.in_atomic_block  # a caller's transaction has its own snapshot
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            mismatches = find_mismatches()
            open_count = Task.objects.filter(status__in=OPEN).count()
        for mismatch in mismatches:
            self.stderr.write(str(mismatch))
        if mismatches:
            raise CommandError(
                _("%(n)d 个待办任务与其对象状态不符（共 %(total)d 个待办任务）")
                % {"n": len(mismatches), "total": open_count}
            )
        self.stdout.write(_("%(total)d 个待办任务均与其对象状态一致。") % {"total": open_count})
