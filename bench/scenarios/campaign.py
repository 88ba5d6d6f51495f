"""Campaign launch: the year's self-evaluation campaign over every executing project
(3,755 at the reference scale) in one action, ``workflows.services.campaign_launch`` —
one self-evaluation per project in bulk, the projects moved to 评价中 in one UPDATE, one
chained audit row per project in one batch, one SelfEvaluationFlow per project waiting
at its 填报 task (workflows.bulk), the campaign's audit row, one notice per department
member delivered after commit. Beside it, in the same run, the same rows inserted by the
ORM and by the driver.

Targets (issue 9): ≤ 2.5 s on both databases; ≤ 10 statements in all on PostgreSQL —
the launch's own statements: its transaction and, after its commit, the notices' read
and the e-mail task's queuing; not the e-mail task's (a worker's in production, run
in-process by the eager path without REDIS_URL: bench/mail.py, bulk.measure).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from notifications import services as notification_services
from processes.models import AuditEvent, BudgetProject, SelfEvaluation
from processes.services import evaluation as evaluation_services
from processes.services.audit import audit_verify
from processes.states import ProjectStage, SelfEvaluationStatus
from workflows import bulk as workflows_bulk
from workflows.flows import SelfEvaluationFlow
from workflows.nodes import task_due

from .. import district
from ..context import Context
from .bulk import Parts, measure


def check(launched) -> str:
    """Every project: exactly one self-evaluation and one open 填报 task due at the
    campaign's due date; every project 评价中; the audit chain intact."""
    campaign = launched.campaign
    n = BudgetProject.objects.filter(fiscal_year=district.YEAR).count()
    per_project = SelfEvaluation.objects.values("project_id").annotate(n=Count("id"))
    assert len(per_project) == n and all(r["n"] == 1 for r in per_project), "one self-evaluation per project"
    assert SelfEvaluation.objects.filter(campaign=campaign, status=SelfEvaluationStatus.ISSUED).count() == n
    fill = Task.objects.filter(
        flow_task=SelfEvaluationFlow.fill, flow_task_type="HUMAN", status=STATUS.NEW, process__status=PROCESS.NEW
    )
    tasks = fill.values("process__projectprocess__project_id").annotate(n=Count("id"))
    assert len(tasks) == n and all(t["n"] == 1 for t in tasks), "one open 填报 task per project"
    assert {task_due(t) for t in fill.only("data")} == {campaign.due_at}
    stages = dict(BudgetProject.objects.filter(fiscal_year=district.YEAR).values_list("stage").annotate(n=Count("id")))
    assert stages == {ProjectStage.EVALUATING: n}, stages
    assert AuditEvent.objects.filter(action="start_evaluation").count() == n
    problem = audit_verify()
    assert problem is None, str(problem)
    return (
        f"checked: {n} projects, each with one self-evaluation and one open 填报 task due at the campaign's "
        "due date; all 评价中; one start_evaluation audit row each; audit_verify() is None"
    )


def run(ctx: Context) -> None:
    n = ctx.size["projects"]
    s = ctx.report.scenario(
        "campaign", "Campaign launch (campaign_launch)", projects=n, departments=ctx.size["departments"]
    )
    with ctx.report.timing(s):
        parts = Parts(
            [
                (evaluation_services, "audit_record_many", "audit_record_many (chained batch)"),
                (workflows_bulk, "bulk_start", "bulk_start (flows)"),
                (evaluation_services, "_tell_departments", "the notices (in the transaction)"),
                (notification_services, "deliver", "delivery after commit"),
            ]
        )
        d = ctx.district()
        result = measure(
            ctx,
            s,
            label="campaign_launch",
            state=ctx.district,
            action=lambda: district.launch(d),
            created=lambda launched: len(launched.created),
            parts=parts,
            check=check,
            judge_insert=True,
        )
        postgres = connection.vendor == "postgresql"
        judged = ctx.full or None
        s.target(
            "campaign launch wall time",
            "≤ 2.5 s",
            f"{result['seconds']:.2f} s",
            judged and result["seconds"] <= 2.5,
        )
        s.target(
            "campaign launch statements in all",
            "≤ 10 (PostgreSQL)" if postgres else "≤ 10 on PostgreSQL (SQLite: not a target)",
            str(result["statements"]),
            (judged and result["statements"] <= 10) if postgres else None,
        )
