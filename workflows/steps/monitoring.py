"""Flow steps of the monitoring lifecycle (see workflows/steps/__init__.py): each
transition of a MonitoringReport completes its MonitoringFlow task (the one process of
that report), whoever calls the processes service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from processes.models import MonitoringReport
from processes.transitions import register_bulk_flow_step, register_flow_step

from .targets import finishing

if TYPE_CHECKING:
    from collections.abc import Mapping

    from accounts.models import User
    from notifications.services import Message
    from processes.transitions import Step


def cleared_many(steps: list[Step]) -> list[Mapping[User, Message]]:
    """The bulk twin of the clearance's flow step (processes.services.monitoring.
    reports_clear): the finance task of every cleared report completed and its process
    ended — the rows a single clearance writes, in a constant number of statements
    (workflows.bulk.bulk_finish). A cleared report's process has no next task: nobody
    else is told."""
    from viewflow.workflow.status import PROCESS

    from notifications.services import board_changed
    from processes.errors import Conflict
    from workflows.bulk import bulk_finish
    from workflows.flows import MonitoringFlow
    from workflows.models import ProjectProcess

    if not steps:
        return []
    actor = steps[0].actor
    assert actor is not None, "a flow task is done by a person"
    wanted = [s.obj.pk for s in steps]
    processes = dict(
        ProjectProcess.objects.filter(flow_class=MonitoringFlow, status=PROCESS.NEW, data__report__in=wanted)
        .order_by("pk")
        .values_list("data__report", "pk")
    )
    if set(processes) != set(wanted):
        raise Conflict()
    bulk_finish(
        MonitoringFlow.finance_review,
        list(processes.values()),
        actor,
        path=[MonitoringFlow.reviewed, MonitoringFlow.cleared_or_returned, MonitoringFlow.end],
    )
    board_changed("task_done")
    return [{} for _ in steps]


def register() -> None:
    """Register this lifecycle's flow steps with processes.transitions."""
    from workflows.flows import MonitoringFlow

    def report(node, *, outcome_wins: bool = False):
        return finishing(node, by_record="report", outcome_wins=outcome_wins)

    register_flow_step(MonitoringReport, "submit", report(MonitoringFlow.fill))
    register_flow_step(MonitoringReport, "dept_approve", report(MonitoringFlow.leader_review))
    register_flow_step(MonitoringReport, "dept_return", report(MonitoringFlow.leader_review, outcome_wins=True))
    for name in ("clear", "warn", "send_back"):
        register_flow_step(MonitoringReport, name, report(MonitoringFlow.finance_review, outcome_wins=True))
    register_flow_step(MonitoringReport, "dispose", report(MonitoringFlow.dispose, outcome_wins=True))
    register_bulk_flow_step(MonitoringReport, "clear", cleared_many)
