"""Who hears of a project's stage change (DESIGN §5): its department's staff and leaders,
and the submitter in their own words when their project is approved or sent back. The
next actors of a flow are added by the flow step (workflows.steps.project)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import messages
from ..states import ProjectStage
from . import department_members

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.services import Message

    from ..transitions import Step


def stage_changed(step: Step) -> dict[User, Message]:
    """The department's staff and leaders: the stage moved from → to (with the reason, if
    any); on 审核通过 / 退回修改 the submitter is told in their own words.

    The next task's holders are told by the flow step, with the task and its due date."""
    from ..transitions import msgid

    project = step.obj
    from_label = msgid(ProjectStage(step.from_state).label)
    to_label = msgid(ProjectStage(step.to_state).label)
    told: dict[User, Message] = {
        member: messages.stage_changed(project.name, from_label, to_label, step.comment)
        for member in department_members(project.department_id)
    }
    submitter = project.created_by
    if step.name == "approve":
        told[submitter] = messages.submitter_approved(project.name)
    elif step.name == "send_back":
        told[submitter] = messages.submitter_returned(project.name, step.comment)
    return told
