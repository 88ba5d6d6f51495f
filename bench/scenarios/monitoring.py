"""Monitoring round: ``workflows.services.monitoring_round_open`` for January–July over
every executing project (3,755 at the reference scale) in one action — one report per
project in bulk, one MonitoringFlow per report waiting at its 填报 task (workflows.bulk),
the round's audit row, one notice per department member delivered after commit. Beside
it, in the same run, the same rows inserted by the ORM and by the driver. No target of
its own in issue 9 ("the same way" as the campaign)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from notifications import services as notification_services
from processes.models import BudgetProject, MonitoringReport
from processes.services.audit import audit_verify
from processes.states import ProjectStage
from workflows import services as workflows_services
from workflows.flows import MonitoringFlow
from workflows.services import monitoring_round_open

from .. import district
from ..context import Context
from .bulk import Parts, measure


def check(opened) -> str:
    """Every project: exactly one report and one open 填报 task; the audit chain intact."""
    n = BudgetProject.objects.filter(fiscal_year=district.YEAR, stage=ProjectStage.EXECUTING).count()
    per_project = MonitoringReport.objects.filter(round=opened.round).values("project_id").annotate(n=Count("id"))
    assert len(per_project) == n and all(r["n"] == 1 for r in per_project), "one report per project"
    fill = Task.objects.filter(
        flow_task=MonitoringFlow.fill, flow_task_type="HUMAN", status=STATUS.NEW, process__status=PROCESS.NEW
    )
    tasks = fill.values("process__projectprocess__project_id").annotate(n=Count("id"))
    assert len(tasks) == n and all(t["n"] == 1 for t in tasks), "one open 填报 task per project"
    assert fill.filter(owner_permission="processes.fill_monitoring").count() == n
    problem = audit_verify()
    assert problem is None, str(problem)
    return f"checked: {n} projects, each with one report and one open 填报 task; audit_verify() is None"


def run(ctx: Context) -> None:
    s = ctx.report.scenario(
        "monitoring",
        "Monitoring round (monitoring_round_open, January–July)",
        projects=ctx.size["projects"],
        departments=ctx.size["departments"],
    )
    with ctx.report.timing(s):
        d = ctx.district()
        parts = Parts(
            [
                (workflows_services, "bulk_start", "bulk_start (flows)"),
                (notification_services, "deliver", "delivery after commit"),
            ]
        )
        measure(
            ctx,
            s,
            label="monitoring_round_open",
            state=ctx.district,
            action=lambda: monitoring_round_open(
                actor=d.finance, fiscal_year=district.YEAR, end_month=7, due_at=timezone.now() + timedelta(days=14)
            ),
            created=lambda opened: len(opened.created),
            parts=parts,
            check=check,
            judge_insert=True,
        )
