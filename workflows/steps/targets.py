"""Flow steps of the targets lifecycle (see workflows/steps/__init__.py): each transition
of a TargetSet completes its TargetReviewFlow task, whoever calls the processes service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from processes.models import TargetSet
from processes.states import TargetSetStatus
from processes.transitions import Step, register_bulk_flow_step, register_flow_step

if TYPE_CHECKING:
    from collections.abc import Mapping

    from accounts.models import User
    from notifications.services import Message


def finishing(node, *, by_record: str | None = None, outcome_wins: bool = False):
    """The flow step of a transition that completes ``node``'s task of the record's
    process for the actor (claiming it if queued) and tells the next actors of their
    tasks. ``by_record`` names the process-data key holding the record's id when a project
    runs several processes of the flow at once (one monitoring report per round).
    ``outcome_wins``: the declaration tells the project's department the outcome (a
    return's reason, a rating, a light); its members keep that message rather than the
    bare "new task" one, which says less (the task is in their inbox all the same)."""
    from workflows.services import _finish_task, _next_actor_messages

    def step(s: Step) -> Mapping[User, Message]:
        record = s.obj
        assert s.actor is not None, "a flow task is done by a person"
        data = {by_record: record.pk} if by_record else None
        process = _finish_task(node, record.project_id, s.actor, data=data)
        told = _next_actor_messages(record.project, process.pk)
        if outcome_wins:
            department = record.project.department_id
            told = {user: message for user, message in told.items() if user.department_id != department}
        return told

    return step


def _rated(node):
    finish = finishing(node, outcome_wins=True)

    def step(s: Step) -> Mapping[User, Message]:
        from workflows.flows import PreAssessmentFlow
        from workflows.services import _cancel_flows

        told = dict(finish(s))
        if s.obj.status == TargetSetStatus.REJECTED and not s.obj.is_change:
            # 差 on the first version rejects the project: its pre-assessment flow ends too
            told.update(_cancel_flows(s.obj.project, only=PreAssessmentFlow))
        return told

    return step


def register() -> None:
    """Register this lifecycle's flow steps with processes.transitions."""
    from workflows.flows import TargetReviewFlow

    register_flow_step(TargetSet, "submit", finishing(TargetReviewFlow.fill))
    register_flow_step(TargetSet, "dept_approve", finishing(TargetReviewFlow.leader_review))
    from ..bulk import bulk_step

    flow = TargetReviewFlow
    register_bulk_flow_step(
        TargetSet,
        "dept_approve",
        bulk_step(flow.leader_review, data_key="target_set", then=[flow.leader_decided, flow.finance_review]),
    )
    register_flow_step(TargetSet, "dept_return", finishing(TargetReviewFlow.leader_review, outcome_wins=True))
    rated = _rated(TargetReviewFlow.finance_review)
    for name in ("approve", "send_back", "reject"):
        register_flow_step(TargetSet, name, rated)
