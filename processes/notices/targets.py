"""Who is told what when a project's performance targets (绩效目标) move: the ``tells=``
of TargetSet's transitions (see processes/notices/__init__.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from .. import messages
from ..states import TargetRating
from ..transitions import msgid
from . import department_leaders, department_members, everyone, finance_officers

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.services import Message

    from ..transitions import Step

TARGETS_SUBMITTED = gettext_noop("项目「%(project)s」的绩效目标（第 %(number)s 版）已提交，请审核")
TARGETS_TO_RATE = gettext_noop("项目「%(project)s」的绩效目标（第 %(number)s 版）已通过部门审核，请评定审核等次")


def leaders_to_review(step: Step) -> dict[User, Message]:
    """Submitted: the department's leaders have a version to review."""
    ts = step.obj
    message = messages.plain("task", TARGETS_SUBMITTED, project=ts.project.name, number=ts.number)
    return everyone(department_leaders(ts.project.department_id), message)


def finance_to_rate(step: Step) -> dict[User, Message]:
    """Passed by the leader: the finance section has a version to rate."""
    ts = step.obj
    return everyone(
        finance_officers(), messages.plain("task", TARGETS_TO_RATE, project=ts.project.name, number=ts.number)
    )


def department_returned(step: Step) -> dict[User, Message]:
    """Returned by the leader: the department, with the reason."""
    ts = step.obj
    message = messages.plain(
        "returned", messages.TARGETS_RETURNED_BY_LEADER, project=ts.project.name, reason=step.comment
    )
    return everyone(department_members(ts.project.department_id), message)


def department_rated(step: Step) -> dict[User, Message]:
    """Rated 优 / 良 / 中 / 差: the department, with the rating and the comment."""
    ts = step.obj
    message = messages.plain(
        "targets_rated",
        messages.TARGETS_RATED_CHANGE if ts.is_change else messages.TARGETS_RATED,
        ("rating",),
        project=ts.project.name,
        rating=msgid(TargetRating(ts.rating).label),
        comment=step.comment or "—",
    )
    return everyone(department_members(ts.project.department_id), message)
