"""Who is told what about rectifications 整改, their deadline extensions, the findings
they come from (DESIGN §3.5–3.6) and the disclosure of a year's summary tables (§3.7).

The ``tells=`` of the ``Rectification`` and ``DeadlineExtension`` transitions, and the
messages of the steps that create a record rather than move a state (a notice issued, an
extension asked for, a finding recorded, a year disclosed), which their services pass to
the audit row they write. The texts are the message ids the notifications are translated
from when read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_noop

from .. import messages as msg
from . import department_members, everyone, finance_officers, supervisors, with_role

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User
    from notifications.services import Message

    from ..models import DeadlineExtension, Finding, Rectification
    from ..transitions import Step

ISSUED = gettext_noop("整改通知：%(title)s，共 %(count)s 个问题，请于 %(deadline)s 前完成整改并提交整改报告")
ACKNOWLEDGED = gettext_noop("整改通知已签收：%(title)s（%(department)s），整改期限 %(deadline)s")
SUBMITTED = gettext_noop("整改报告待验收：%(title)s（%(department)s）")
VERIFIED = gettext_noop("整改已验收销号：%(title)s")
REJECTED = gettext_noop("整改报告被退回：%(title)s。理由：%(reason)s")
EXTENSION_REQUESTED = gettext_noop("延期申请待审批：%(title)s，申请延至 %(proposed)s。理由：%(reason)s")
EXTENSION_GRANTED = gettext_noop("延期申请已同意：%(title)s，整改期限延至 %(deadline)s")
EXTENSION_REFUSED = gettext_noop("延期申请未同意：%(title)s，整改期限仍为 %(deadline)s。意见：%(comment)s")
FINDING_ADDED = gettext_noop("%(subject)s发现问题：%(problem)s。整改要求：%(requirement)s")
DISCLOSED = gettext_noop("%(year)s 年度绩效评价汇总表已批准公开")


def when(value: datetime) -> str:
    """A deadline as the messages show it (Asia/Shanghai, to the minute)."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def rectification_people(rectification: Rectification) -> list[User]:
    """The rectified department's staff and leaders."""
    return department_members(rectification.department_id)


# -- declared tells= of the transitions -------------------------------------------------------


def acknowledged(step: Step) -> dict[User, Message]:
    """签收 → the finance section knows the department has taken the notice on."""
    r: Rectification = step.obj
    notice = msg.plain(
        "stage_changed", ACKNOWLEDGED, title=r.title, department=r.department.name, deadline=when(r.deadline)
    )
    return everyone(finance_officers(), notice)


def submitted(step: Step) -> dict[User, Message]:
    """提交 → the finance section has a report to verify."""
    r: Rectification = step.obj
    return everyone(finance_officers(), msg.plain("task", SUBMITTED, title=r.title, department=r.department.name))


def verified(step: Step) -> dict[User, Message]:
    """销号 → the department."""
    r: Rectification = step.obj
    return everyone(rectification_people(r), msg.plain("approved", VERIFIED, title=r.title))


def rejected(step: Step) -> dict[User, Message]:
    """退回 → the department, with the reason."""
    r: Rectification = step.obj
    return everyone(rectification_people(r), msg.plain("returned", REJECTED, title=r.title, reason=step.comment))


def extension_granted(step: Step) -> dict[User, Message]:
    """延期同意 → the department, with the new deadline."""
    e: DeadlineExtension = step.obj
    r = e.rectification
    notice = msg.plain("approved", EXTENSION_GRANTED, title=r.title, deadline=when(e.new_deadline or r.deadline))
    return everyone(rectification_people(r), notice)


def extension_refused(step: Step) -> dict[User, Message]:
    """延期不同意 → the department, with the deadline still in force and the reason."""
    e: DeadlineExtension = step.obj
    r = e.rectification
    notice = msg.plain("returned", EXTENSION_REFUSED, title=r.title, deadline=when(r.deadline), comment=step.comment)
    return everyone(rectification_people(r), notice)


# -- the steps that create a record ------------------------------------------------------------


def issued(rectification: Rectification, count: int) -> dict[User, Message]:
    """下达 → the department has a notice to take on."""
    notice = msg.plain("task", ISSUED, title=rectification.title, count=count, deadline=when(rectification.deadline))
    return everyone(rectification_people(rectification), notice)


def extension_requested(extension: DeadlineExtension) -> dict[User, Message]:
    """延期申请 → the supervisors have a request to decide."""
    notice = msg.plain(
        "task",
        EXTENSION_REQUESTED,
        title=extension.rectification.title,
        proposed=when(extension.proposed_deadline),
        reason=extension.reason,
    )
    return everyone(supervisors(), notice)


def finding_added(finding: Finding, subject: str) -> dict[User, Message]:
    """A finding recorded → the project's department (staff and leaders) learns of it before
    any rectification is issued. ``subject``: the evaluated project or evaluation."""
    notice = msg.plain(
        "stage_changed", FINDING_ADDED, subject=subject, problem=finding.problem, requirement=finding.requirement
    )
    return everyone(department_members(finding.department_id), notice)


def disclosed(year: int) -> dict[User, Message]:
    """A year's summary tables disclosed → every department's leaders and the supervisors."""
    from accounts.roles import Role

    notice = msg.plain("stage_changed", DISCLOSED, year=year)
    return everyone([*with_role(Role.DEPT_LEADER), *supervisors()], notice)
