"""Flow steps of the project stage (ProjectIntakeFlow and what a stage change starts or ends).

Registered on BudgetProject's transitions, so ``processes.services.projects.
project_transition`` moves the intake flow whoever calls it:

- 提交 starts the intake flow (the leader's review task);
- 审核通过 / 退回修改 / 下达预算 complete the open task of their node;
- 转事前绩效评估 / 转绩效目标审核 complete finance's intake task and start the targets' review;
- 撤回 / 取消 end every running flow and the open sub-process records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processes.models import BudgetProject
from processes.transitions import register_flow_step

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.services import Message
    from processes.transitions import Step


def _start_intake(step: Step) -> dict[User, Message]:
    """Starts the intake flow: the department leaders get the review task."""
    from ..services import _start_intake

    return _start_intake(step.obj)


def _actor(step: Step) -> User:
    """A person's project transition always has an actor (the engine refuses one without)."""
    assert step.actor is not None
    return step.actor


def _end_work(step: Step) -> dict[User, Message]:
    """Ends every running flow and open sub-process record; holders of cancelled tasks are told."""
    from ..services import _end_project_work

    return _end_project_work(_actor(step), step.comment)(step.obj)


def _complete(name: str):
    def step_(step: Step) -> dict[User, Message]:
        """Completes the open task of this step; the next task's holders are told."""
        from ..services import _complete_task, _node_for_action

        return _complete_task(_node_for_action(name), step.obj, _actor(step))(step.obj)

    return step_


def _route(name: str):
    def step_(step: Step) -> dict[User, Message]:
        """Completes finance's intake task and starts the targets' review: the department is asked for targets."""
        from ..services import _node_for_action, _route

        return _route(_node_for_action(name), step.obj, _actor(step))(step.obj)

    return step_


def register() -> None:
    register_flow_step(BudgetProject, "submit", _start_intake)
    for name in ("withdraw", "cancel"):
        register_flow_step(BudgetProject, name, _end_work)
    for name in ("route_to_pre_assessment", "route_to_target_review"):
        register_flow_step(BudgetProject, name, _route(name))
    from ..services import _node_for_action

    for name in ("approve", "send_back", "start_execution"):
        if _node_for_action(name) is not None:
            register_flow_step(BudgetProject, name, _complete(name))
