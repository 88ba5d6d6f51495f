"""Flow steps of the pre-assessment lifecycle (see workflows/steps/__init__.py).

PreAssessmentFlow hands out the review's tasks: the agency's draw, one opinion task per
seat, the agency's conclusion, the finance section's confirmation. Each domain transition
(processes.services.pre_assessment) moves its task here, inside the transition, so the
service alone — whoever calls it — leaves no task open. A review that runs without its
flow (one imported from history, or made by a test of the domain alone) has no tasks:
its steps do nothing.

The domain's declarations already tell the next actors (the panel of their seats, the
agency of the collected opinions, the finance section of the proposed conclusion), so
the steps return nothing beyond the targets' tasks a rejected project loses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from viewflow.workflow.models import Task

from processes.models import Opinion, PanelMember, PreAssessment
from processes.services import targets as target_services
from processes.states import Conclusion
from processes.transitions import register_flow_step

from ..flows import PreAssessmentFlow, TargetReviewFlow
from ..services import OPEN, _cancel_flows, _finish_task, _running_process

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.services import Message
    from processes.transitions import Step


def _process(project_id: int):

    return _running_process(project_id, PreAssessmentFlow)


def _complete(node, pa: PreAssessment, actor: User | None, *, seat: int | None = None) -> dict[User, Message]:
    """Claim (if queued) and complete the review's open task of ``node`` for ``actor``; a
    Conflict if the flow runs but the task is gone (someone else did it first)."""

    if actor is not None and _process(pa.project_id) is not None:
        _finish_task(node, pa.project_id, actor, seat=seat)
    return {}


def drawn(step: Step) -> dict[User, Message]:
    """抽取评审组: the draw task is done; the flow fans out one opinion task per seat."""

    return _complete(PreAssessmentFlow.draw, step.obj, step.actor)


def opinion_submitted(step: Step) -> dict[User, Message]:
    """A member's opinion is in: their seat's task is done (the last one fires the join)."""

    member = step.obj.member
    return _complete(PreAssessmentFlow.opinion, member.pre_assessment, step.actor, seat=member.seat)


def opinion_expired(step: Step) -> dict[User, Message]:
    """At the due date, with the quorum in: the seat's task closes as expired."""

    member = step.obj.member
    process = _process(member.pre_assessment.project_id)
    if process is None:
        return {}
    with PreAssessmentFlow.lock(process.pk):
        for task in Task.objects.filter(
            process=process, flow_task=PreAssessmentFlow.opinion, status__in=OPEN, data__seat=member.seat
        ):
            task.data = {**task.data, "expired": True}
            task.save(update_fields=["data"])
            activation = task.flow_task.activation_class(task)
            activation.start(None)
            activation.execute()
    return {}


def opinion_withdrawn(step: Step) -> dict[User, Message]:
    """The member was replaced: the seat's task follows the seat to the newcomer."""

    member = step.obj.member
    process = _process(member.pre_assessment.project_id)
    if process is None:
        return {}
    holder = PanelMember.objects.get(pre_assessment_id=member.pre_assessment_id, seat=member.seat, active=True)
    with PreAssessmentFlow.lock(process.pk):
        for task in Task.objects.filter(
            process=process, flow_task=PreAssessmentFlow.opinion, status__in=OPEN, data__seat=member.seat
        ):
            task.owner_id = holder.user_id
            task.data = {**task.data, "user_id": holder.user_id, "kind": holder.kind}
            task.save(update_fields=["owner", "data"])
    return {}


def concluded(step: Step) -> dict[User, Message]:
    """提出评估结论: the agency's task is done; the finance section's confirmation is next."""

    return _complete(PreAssessmentFlow.conclude, step.obj, step.actor)


def decided(step: Step) -> dict[User, Message]:
    """确认 / 退回评估结论: the confirmation task is done (a return routes the flow back to
    the agency's conclusion). A confirmed 不予支持 ends the project's targets review too."""

    pa = step.obj
    told = _complete(PreAssessmentFlow.confirm, pa, step.actor)
    if step.name == "confirm" and pa.conclusion == Conclusion.REJECT:
        told = _cancel_flows(pa.project, only=TargetReviewFlow)
        target_services.target_cancel_open(project=pa.project, actor=step.actor, reason=pa.conclusion_reasons)
    return told


def cancelled(step: Step) -> dict[User, Message]:
    """The review ended with its project: its flow ends, and whoever held one of its tasks
    is told (the panel hears it from the declaration, of their seats)."""

    pa = step.obj
    if _process(pa.project_id) is None:
        return {}
    told = _cancel_flows(pa.project, only=PreAssessmentFlow)
    seated = set(pa.panel.filter(active=True).values_list("user_id", flat=True))
    return {user: message for user, message in told.items() if user.pk not in seated}


def register() -> None:
    """Register this lifecycle's flow steps with processes.transitions."""
    register_flow_step(PreAssessment, "form_panel", drawn)
    register_flow_step(PreAssessment, "conclude", concluded)
    register_flow_step(PreAssessment, "confirm", decided)
    register_flow_step(PreAssessment, "send_back", decided)
    register_flow_step(PreAssessment, "cancel", cancelled)
    register_flow_step(Opinion, "submit", opinion_submitted)
    register_flow_step(Opinion, "expire", opinion_expired)
    register_flow_step(Opinion, "withdraw", opinion_withdrawn)
