"""Who is told what about the committee's review opinions 审议意见 (issue 19): the ``tells=``
of the ``CommitteeOpinionItem`` transitions and the message of an opinion recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from .. import messages as msg
from . import department_members, everyone, finance_officers, supervisors
from .rectification import when

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.services import Message

    from ..models import CommitteeOpinionItem
    from ..transitions import Step

ASSIGNED = gettext_noop("人大审议意见交办：%(title)s，请于 %(deadline)s 前报送落实情况")
RESPONDED = gettext_noop("审议意见落实情况待验收：%(title)s（%(assignee)s）")
ACCEPTED = gettext_noop("审议意见落实情况已验收：%(title)s")
SENT_BACK = gettext_noop("审议意见落实情况被退回：%(title)s。理由：%(reason)s")


def assignee_people(item: CommitteeOpinionItem) -> list[User]:
    """Who answers for an item: the department's staff and leaders, or (an item assigned to
    the finance bureau) the finance section."""
    if item.department_id is None:
        return finance_officers()
    return department_members(item.department_id)


def overseers(item: CommitteeOpinionItem) -> list[User]:
    """Who hears of every step of an item besides the finance section: its department, or —
    the finance bureau's own item, the finance section answering to itself — the supervisors."""
    if item.department_id is None:
        return assignee_people(item) + supervisors()
    return assignee_people(item)


def assigned(item: CommitteeOpinionItem) -> dict[User, Message]:
    """录入交办 → the assignee has an item to answer by its deadline."""
    return everyone(assignee_people(item), msg.plain("task", ASSIGNED, title=item.title, deadline=when(item.deadline)))


def responded(step: Step) -> dict[User, Message]:
    """报送 → the finance section has a response to accept or return (and, for the bureau's
    own item, the supervisors)."""
    item: CommitteeOpinionItem = step.obj
    people = finance_officers() if item.department_id is not None else overseers(item)
    return everyone(people, msg.plain("task", RESPONDED, title=item.title, assignee=item.assignee_name))


def accepted(step: Step) -> dict[User, Message]:
    """验收 → the assignee (and, for the bureau's own item, the supervisors)."""
    item: CommitteeOpinionItem = step.obj
    return everyone(overseers(item), msg.plain("approved", ACCEPTED, title=item.title))


def sent_back(step: Step) -> dict[User, Message]:
    """退回 → the assignee, with the reason (and, for the bureau's own item, the supervisors)."""
    item: CommitteeOpinionItem = step.obj
    return everyone(overseers(item), msg.plain("returned", SENT_BACK, title=item.title, reason=step.comment))
