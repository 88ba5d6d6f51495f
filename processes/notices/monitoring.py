"""Who is told what in performance monitoring (绩效运行监控): the ``tells=`` of
MonitoringReport's transitions, and the notices of opening or extending a round (see
processes/notices/__init__.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Role

from .. import messages
from ..states import Disposal, Light
from ..transitions import msgid
from . import department_leaders, department_members, everyone, finance_officers

if TYPE_CHECKING:
    from notifications.services import Message

    from ..models import MonitoringRound
    from ..transitions import Step

REPORT_SUBMITTED = gettext_noop("项目「%(project)s」的绩效监控报告（%(round)s）已提交，请审核")
REPORT_TO_REVIEW = gettext_noop("项目「%(project)s」的绩效监控报告（%(round)s）已通过部门审核，请审核")
ROUND_EXTENDED = gettext_noop("%(round)s：填报截止时间调整为 %(due)s，本部门尚有 %(count)s 个项目的监控报告未提交")


def leaders_to_review(step: Step) -> dict[User, Message]:
    """Submitted: the department's leaders have a report to review."""
    report = step.obj
    message = messages.plain("task", REPORT_SUBMITTED, project=report.project.name, round=report.round.title)
    return everyone(department_leaders(report.project.department_id), message)


def finance_to_review(step: Step) -> dict[User, Message]:
    """Passed by the leader: the finance section has a report to review."""
    report = step.obj
    message = messages.plain("task", REPORT_TO_REVIEW, project=report.project.name, round=report.round.title)
    return everyone(finance_officers(), message)


def department_returned(step: Step) -> dict[User, Message]:
    """Returned by the leader: the department, with the reason."""
    report = step.obj
    message = messages.plain("returned", messages.REPORT_RETURNED, project=report.project.name, reason=step.comment)
    return everyone(department_members(report.project.department_id), message)


_REVIEWED = {
    "clear": messages.REPORT_CLEARED,
    "warn": messages.REPORT_WARNED,
    "send_back": messages.REPORT_SENT_BACK,
}


def department_reviewed(step: Step) -> dict[User, Message]:
    """Cleared, warned or sent back by the finance section: the department, with the light."""
    report = step.obj
    message = messages.plain(
        "report_reviewed",
        _REVIEWED[step.name],
        ("light",),
        project=report.project.name,
        light=msgid(Light(report.light).label),
        comment=step.comment or "—",
    )
    return everyone(department_members(report.project.department_id), message)


def department_disposed(step: Step) -> dict[User, Message]:
    """A warned report disposed of: the department, with the disposal and its reason."""
    report = step.obj
    message = messages.plain(
        "report_disposed",
        messages.REPORT_DISPOSED,
        ("disposal",),
        project=report.project.name,
        disposal=msgid(Disposal(report.disposal).label),
        reason=report.disposal_reason,
    )
    return everyone(department_members(report.project.department_id), message)


# -- a round opened, reopened or extended (not a transition: a round has no state machine) --


def _due(round_: MonitoringRound) -> str:
    return timezone.localtime(round_.due_at).strftime("%Y-%m-%d %H:%M")


def _members(department_ids) -> list[User]:
    return list(
        User.objects.filter(
            department_id__in=department_ids,
            is_active=True,
            groups__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER],
        ).distinct()
    )


def round_told(
    round_: MonitoringRound, *, created: Mapping[int, int], waiting: Mapping[int, int]
) -> dict[User, Message]:
    """One notice per member of each department concerned, for the whole round (not one
    per report), with the due date: ``created`` counts the reports just added per
    department (they have new reports to fill), ``waiting`` the reports still not
    submitted per department when a reopened round's due date moved (they are told the
    new date)."""
    concerned = set(created) | set(waiting)
    if not concerned:
        return {}
    due = _due(round_)
    told: dict[User, Message] = {}
    for user in _members(concerned):
        department = user.department_id or 0
        if department in created:
            told[user] = messages.plain(
                "task", messages.ROUND_OPENED, round=round_.title, count=created[department], due=due
            )
        else:
            told[user] = messages.plain(
                "round_extended", ROUND_EXTENDED, round=round_.title, count=waiting[department], due=due
            )
    return told
