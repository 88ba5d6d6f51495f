"""Who hears of a results-application decision (结果应用): the project's department."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from .. import messages
from ..units import yuan_text
from . import department_members

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.services import Message

    from ..transitions import Step

RESULTS_ACCEPTED = gettext_noop("项目「%(project)s」结果应用：采纳建议（%(recommendation)s），安排 %(amount)s 元")
RESULTS_OVERRIDDEN = gettext_noop(
    "项目「%(project)s」结果应用：未采纳建议（%(recommendation)s），安排 %(amount)s 元。理由：%(reason)s"
)


def decided(step: Step) -> dict[User, Message]:
    """The department's staff and leaders: what was decided, with the reason of an override."""
    from ..results_ledger import recommendation_text

    decision = step.obj
    params = {
        "project": decision.project.name,
        "recommendation": recommendation_text(decision.recommendation, decision.cut_percent),
        "amount": yuan_text(decision.decided_amount),
    }
    if step.name == "override":
        message = messages.plain("results_decided", RESULTS_OVERRIDDEN, reason=step.comment, **params)
    else:
        message = messages.plain("results_decided", RESULTS_ACCEPTED, **params)
    return {member: message for member in department_members(decision.project.department_id)}
