"""Who is told what when a pre-assessment (事前绩效评估) or an opinion moves: the ``tells=``
of their transitions (processes.models.pre_assessment). See processes/notices/__init__.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_noop

from .. import messages
from ..states import Conclusion, OpinionStatus
from ..transitions import msgid
from . import agency_staff, everyone, finance_officers

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.services import Message

    from ..models import PreAssessment
    from ..transitions import Step

#: The confirmed conclusion, to the commissioned agency.
CONCLUSION_CONFIRMED = gettext_noop("项目「%(project)s」事前绩效评估结论已确认：%(conclusion)s，审定金额 %(amount)s 元")
#: The confirmed conclusion, to each panel member, beside their own recommendation.
CONCLUSION_CONFIRMED_MEMBER = gettext_noop(
    "项目「%(project)s」事前绩效评估结论已确认：%(conclusion)s，审定金额 %(amount)s 元（您的建议金额：%(own)s）"
)
#: A member's recommended amount when their opinion gave none (expired, or not yet in).
NO_RECOMMENDATION = gettext_noop("未提出")


def due(pa: PreAssessment) -> str:
    return timezone.localtime(pa.due_at).strftime("%Y-%m-%d %H:%M")


def _seated(pa: PreAssessment):
    return pa.panel.filter(active=True).select_related("user", "opinion").order_by("seat")


def panel_seated(step: Step) -> dict[User, Message]:
    """组建评审组: each drawn member is asked for their opinion by the due date."""
    pa = step.obj
    message = messages.plain("task", messages.PANEL_SEAT, project=pa.project.name, due=due(pa))
    return everyone([m.user for m in _seated(pa)], message)


def opinions_collected(step: Step) -> dict[User, Message]:
    """汇总专家意见: the agency is asked for its conclusion."""
    pa = step.obj
    message = messages.plain(
        "task", messages.OPINIONS_COLLECTED, project=pa.project.name, count=step.detail.get("submitted", 0)
    )
    return everyone(agency_staff(pa.agency_id), message)


def conclusion_proposed(step: Step) -> dict[User, Message]:
    """提出评估结论: the finance section is asked to confirm it."""
    pa = step.obj
    message = messages.plain(
        "task",
        messages.CONCLUSION_PROPOSED,
        ("conclusion",),
        project=pa.project.name,
        conclusion=msgid(Conclusion(pa.conclusion).label),
        amount=str(pa.approved_amount),
    )
    return everyone(finance_officers(), message)


def conclusion_confirmed(step: Step) -> dict[User, Message]:
    """确认评估结论: the agency hears the outcome; every seated panel member, expert or
    deputy, hears it with their own recommended amount beside the confirmed one."""
    pa = step.obj
    common = {
        "project": pa.project.name,
        "conclusion": msgid(Conclusion(pa.conclusion).label),
        "amount": str(pa.approved_amount),
    }
    told: dict[User, Message] = everyone(
        agency_staff(pa.agency_id), messages.plain("approved", CONCLUSION_CONFIRMED, ("conclusion",), **common)
    )
    for member in _seated(pa):
        opinion = member.opinion
        if opinion.status == OpinionStatus.SUBMITTED and opinion.recommended_amount is not None:
            told[member.user] = messages.plain(
                "approved",
                CONCLUSION_CONFIRMED_MEMBER,
                ("conclusion",),
                **common,
                own=str(opinion.recommended_amount),
            )
        else:
            told[member.user] = messages.plain(
                "approved", CONCLUSION_CONFIRMED_MEMBER, ("conclusion", "own"), **common, own=NO_RECOMMENDATION
            )
    return told


def conclusion_returned(step: Step) -> dict[User, Message]:
    """退回评估结论: the agency gets it back, with the reason."""
    pa = step.obj
    message = messages.plain("returned", messages.CONCLUSION_RETURNED, project=pa.project.name, reason=step.comment)
    return everyone(agency_staff(pa.agency_id), message)


def seats_cancelled(step: Step) -> dict[User, Message]:
    """The review ended with its project (withdrawn, cancelled, rejected): the panel's seats go."""
    pa = step.obj
    message = messages.plain("task_cancelled", messages.PANEL_SEAT_CANCELLED, project=pa.project.name)
    return everyone([m.user for m in _seated(pa)], message)
