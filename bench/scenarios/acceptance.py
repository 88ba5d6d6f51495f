"""Bulk acceptance (批量确认绩效自评, issue 18): the finance section accepts every
self-evaluation of the campaign that the departments' leaders passed (3,755 at the
reference scale) in one bulk action, ``processes.services.evaluation.
self_evaluations_accept_many`` (processes.transitions.apply_many, chunks of 500): per
chunk the projects' and the records' rows locked, each item checked, the records saved
in one UPDATE, the flows' 财政确认 tasks completed and the processes ended in bulk
(workflows.bulk.bulk_finish), one chained audit row per item in one INSERT, the
projects' 已评价 cascade in bulk, the department told once per member per chunk.
Beside it, in the same run, the same rows inserted by the ORM and by the driver, and a
plain ``bulk_create`` of as many audit rows.

Setup (not timed): the reference district, the campaign launched, every sheet saved and
submitted through the single services, every department's submissions passed by its
leader through the bulk leader approval.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from processes import transitions
from processes.models import AuditEvent, BudgetProject, SelfEvaluation
from processes.services import audit as audit_services
from processes.services import evaluation as evaluation_services
from processes.services.audit import audit_verify
from processes.states import ProjectStage, SelfEvaluationStatus
from workflows import bulk as workflows_bulk
from workflows.flows import SelfEvaluationFlow

from .. import district
from ..context import Context
from .bulk import Parts, measure


def _build(ctx: Context) -> None:
    from workflows.services import self_evaluation_submit

    d = district.load()
    district.launch(d)
    district.fill_sheets(d, ctx.size["projects"])
    with transaction.atomic():  # setup: one commit
        for evaluation in SelfEvaluation.objects.select_related("project").order_by("pk"):
            self_evaluation_submit(evaluation=evaluation, actor=d.staff[evaluation.project.department_id])
        for department, leader in d.leaders.items():
            submitted = list(
                SelfEvaluation.objects.filter(project__department_id=department, status=SelfEvaluationStatus.SUBMITTED)
                .select_related(*SelfEvaluation.lock_related)
                .order_by("pk")
            )
            evaluation_services.self_evaluations_dept_approve_many(evaluations=submitted, actor=leader)


def ready(ctx: Context) -> None:
    ctx.district()
    ctx.state("acceptance", lambda: _build(ctx), base="district")


def passed() -> list[SelfEvaluation]:
    return list(
        SelfEvaluation.objects.filter(status=SelfEvaluationStatus.DEPT_APPROVED)
        .select_related(*SelfEvaluation.lock_related)
        .order_by("pk")
    )


def check(outcome) -> str:
    """Every self-evaluation accepted, its project 已评价 with its executed amount, its
    flow ended; one acceptance and one stage audit row each; the chain intact."""
    n = BudgetProject.objects.filter(fiscal_year=district.YEAR).count()
    assert not outcome.refused, outcome.refused[:3]
    assert SelfEvaluation.objects.filter(status=SelfEvaluationStatus.ACCEPTED).count() == n
    stages = dict(BudgetProject.objects.filter(fiscal_year=district.YEAR).values_list("stage").annotate(c=Count("id")))
    assert stages == {ProjectStage.EVALUATED: n}, stages
    assert not BudgetProject.objects.filter(executed_amount__isnull=True).exists()
    open_tasks = Task.objects.filter(
        process__flow_class=SelfEvaluationFlow, status__in=[STATUS.NEW, STATUS.ASSIGNED], flow_task_type="HUMAN"
    )
    assert not open_tasks.exists(), "every self-evaluation flow ended"
    from workflows.models import ProjectProcess

    running = ProjectProcess.objects.filter(flow_class=SelfEvaluationFlow, status=PROCESS.NEW)
    assert not running.exists()
    assert AuditEvent.objects.filter(action="self_evaluation_accept").count() == n
    assert AuditEvent.objects.filter(action="complete_evaluation").count() == n
    problem = audit_verify()
    assert problem is None, str(problem)
    return (
        f"checked: {n} self-evaluations accepted, each project 已评价 with its executed amount, every flow "
        "ended; one self_evaluation_accept and one complete_evaluation audit row each; audit_verify() is None"
    )


def audit_rows_bulk_create(n: int) -> float:
    """The limit the issue names: a plain ``bulk_create`` of ``n`` audit rows (unchained
    content, one transaction), rolled back so the chain stays as it was."""
    now = timezone.now()
    rows = [
        AuditEvent(
            sequence=10_000_000 + i,
            occurred_at=now,
            actor_role="finance_officer",
            object_type="processes.selfevaluation",
            object_id=str(i),
            object_repr=f"bench {i}",
            action="self_evaluation_accept",
            from_state="dept_approved",
            to_state="accepted",
            prev_hash="0" * 64,
            hash="0" * 64,
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        AuditEvent.objects.bulk_create(rows)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def run(ctx: Context) -> None:
    n = ctx.size["projects"]
    s = ctx.report.scenario(
        "acceptance",
        "Bulk acceptance of a campaign's self-evaluations (self_evaluations_accept_many)",
        projects=n,
        departments=ctx.size["departments"],
    )
    with ctx.report.timing(s):
        ready(ctx)
        parts = Parts(
            [
                (transitions, "_lock_many", "locks and reads (per chunk)"),
                (transitions, "_save_many", "the records' UPDATE"),
                (workflows_bulk, "bulk_finish", "the flows (bulk_finish)"),
                (audit_services, "audit_record_many", "audit rows (chained, per chunk)"),
                (transitions, "_notify_grouped", "the grouped notices"),
            ]
        )
        state = lambda: ctx.state("acceptance", lambda: _build(ctx), base="district")  # noqa: E731
        result = measure(
            ctx,
            s,
            label="bulk accept",
            state=state,
            action=lambda: evaluation_services.self_evaluations_accept_many(
                evaluations=passed(), actor=district.load().finance
            ),
            created=lambda outcome: len(outcome.done),
            parts=parts,
            check=check,
        )
        limits = []
        for _ in range(ctx.runs):
            state()
            limits.append(audit_rows_bulk_create(n))
        s.add(f"limit: bulk_create of {n:,} audit rows", limits, "s")
        s.ratio("bulk accept ÷ bulk_create of as many audit rows", result["seconds"] / sorted(limits)[len(limits) // 2])
        s.note(
            "statement count: independent of the number of items within a chunk (tests/workflows/"
            "test_bulk_accept.py compares 3 and 30); one more set of statements per chunk of 500"
        )
