"""Flow steps of the self-evaluation lifecycle (see workflows/steps/__init__.py): a
campaign's launch starts one flow per new self-evaluation (``start_flows``), and each
decision on a SelfEvaluation completes its SelfEvaluationFlow task — 填报 on submit, the
leader's review on approve or return, the finance section's on accept or return — under
the flow lock, whoever calls the service.

A forward step returns the next actors' task notices (with the task's due date), which
replace the declaration's plainer notice for the same people; a return's step tells
nobody itself: the declared notice to the department, with the reason, says more than its
new filling task.

Re-checks have no flow (a state machine only): their waiting steps are listed by
processes.selectors.evaluation_work_for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processes.models import SelfEvaluation
from processes.services.evaluation import CAMPAIGN_FLOWS
from processes.transitions import register_bulk_flow_step, register_bulk_start, register_flow_step

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from accounts.models import User
    from notifications.services import Message
    from processes.models import EvaluationCampaign
    from processes.transitions import Step

#: transition → (the flow node it completes, whether the next actors are told by the step)
STEPS = {
    "submit": ("fill", True),
    "dept_approve": ("leader_review", True),
    "dept_return": ("leader_review", False),
    "accept": ("finance_review", True),  # the flow ends: nobody is next
    "send_back": ("finance_review", False),
}


def complete_task(node_name: str, *, tell_next: bool):
    """The step that completes the self-evaluation's open task of ``node_name``."""

    def step(applied: Step) -> Mapping[User, Message]:
        from ..flows import SelfEvaluationFlow
        from ..services import _finish_task, _next_actor_messages

        evaluation = applied.obj
        node = getattr(SelfEvaluationFlow, node_name)
        actor = applied.actor
        if actor is None:  # pragma: no cover - every declared step is a person's
            raise RuntimeError(f"SelfEvaluation.{applied.name}: a flow task is completed by a person")
        process = _finish_task(node, evaluation.project_id, actor, data={"self_evaluation": evaluation.pk})
        return _next_actor_messages(evaluation.project, process.pk) if tell_next else {}

    return step


def start_flows(campaign: EvaluationCampaign, evaluations: list[SelfEvaluation], due_at: datetime) -> None:
    """A launch's new self-evaluations: one SelfEvaluationFlow each, waiting at its
    department's 填报 task, due at the launch's due date — in bulk (workflows.bulk), inside
    the launch's transaction."""
    from ..bulk import bulk_start
    from ..flows import SelfEvaluationFlow

    bulk_start(
        SelfEvaluationFlow,
        SelfEvaluationFlow.fill,
        [(e.project_id, {"self_evaluation": e.pk}) for e in evaluations],
        due_at=due_at,
    )


def register() -> None:
    """Register this lifecycle's flow steps and the campaign's bulk start with processes.transitions."""
    from ..bulk import bulk_step
    from ..flows import SelfEvaluationFlow as Flow

    for name, (node_name, tell_next) in STEPS.items():
        register_flow_step(SelfEvaluation, name, complete_task(node_name, tell_next=tell_next))
    # the bulk actions' twins (decision 0023): the finance section's acceptance ends the
    # flow; the leader's approval hands it to the finance section
    register_bulk_flow_step(
        SelfEvaluation,
        "accept",
        bulk_step(Flow.finance_review, data_key="self_evaluation", then=[Flow.reviewed, Flow.end]),
    )
    register_bulk_flow_step(
        SelfEvaluation,
        "dept_approve",
        bulk_step(Flow.leader_review, data_key="self_evaluation", then=[Flow.leader_decided, Flow.finance_review]),
    )
    register_bulk_start(CAMPAIGN_FLOWS, start_flows)
