"""Who is told what about self-evaluations and their re-checks (绩效自评, 复核): the
``tells=`` of their transitions (processes.transitions). The message ids are the ones the
services have always used; they are translated when read.

Where a self-evaluation's flow hands the next person a task (submit → the leader, the
leader's approval → the finance section), the flow step's own notice (the task, with its
due date) replaces the one declared here for the same person; a return's declared notice
(with the reason) says more than the department's new filling task, so the flow step of a
return tells nobody itself (workflows.steps.evaluation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .. import messages as msg
from ..transitions import msgid, unless_flow
from . import agency_staff, department_leaders, department_members, everyone, finance_officers

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User
    from notifications.services import Message

    from ..transitions import Step

CAMPAIGN_LAUNCHED = gettext_noop("%(campaign)s：本部门 %(count)s 个项目待开展绩效自评，请于 %(due)s 前完成")
SELF_EVALUATION_RETURNED = gettext_noop("项目「%(project)s」的绩效自评被退回修改。理由：%(reason)s")
SELF_EVALUATION_ACCEPTED = gettext_noop("项目「%(project)s」的绩效自评已确认：%(score)s 分，%(grade)s")
SAMPLED = gettext_noop("新委托：%(year)s 年度绩效自评复核 %(count)s 个项目，请于 %(due)s 前完成")
SAMPLED_DEPARTMENT = gettext_noop("项目「%(project)s」的绩效自评已被抽中复核（%(agency)s）")
RESCORED = gettext_noop("项目「%(project)s」复核得分 %(score)s 分（自评 %(self_score)s 分），请反馈意见")
FED_BACK = gettext_noop("项目「%(project)s」的部门已对复核结果反馈意见，请完成复核")
RECHECK_FINAL = gettext_noop("项目「%(project)s」复核完成：%(score)s 分，%(grade)s（自评 %(self_score)s 分）")

#: The titles of the tasks the self-evaluation's flow opens next (workflows.flows.SelfEvaluationFlow).
LEADER_TASK = _("部门审核绩效自评")
FINANCE_TASK = _("财政确认绩效自评")


def due_text(when: datetime) -> str:
    """A due date as the notices show it (local time, to the minute)."""
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


# -- self-evaluation -------------------------------------------------------------------------


@unless_flow
def leaders_review(step: Step) -> dict[User, Message]:
    """Submitted: the department's leaders have it to review."""
    project = step.obj.project
    return everyone(department_leaders(project.department_id), msg.task_assigned(msgid(LEADER_TASK), project.name))


@unless_flow
def finance_accepts(step: Step) -> dict[User, Message]:
    """Passed by the leader: the finance section has it to accept."""
    return everyone(finance_officers(), msg.task_assigned(msgid(FINANCE_TASK), step.obj.project.name))


def department_returned(step: Step) -> dict[User, Message]:
    """Returned by the leader or the finance section: the department, with the reason."""
    project = step.obj.project
    notice = msg.plain("returned", SELF_EVALUATION_RETURNED, project=project.name, reason=step.comment)
    return everyone(department_members(project.department_id), notice)


def department_accepted(step: Step) -> dict[User, Message]:
    """Accepted: the department, with the score and grade that now stand."""
    from ..states import Grade

    evaluation = step.obj
    notice = msg.plain(
        "approved",
        SELF_EVALUATION_ACCEPTED,
        ("grade",),
        project=evaluation.project.name,
        score=str(evaluation.score),
        grade=msgid(Grade(evaluation.grade).label),
    )
    return everyone(department_members(evaluation.project.department_id), notice)


def campaign_launched(title: str, count: int, due_at: datetime) -> Message:
    """A launch (or a relaunch that adds latecomers): one notice per member of each
    department concerned, with its number of new self-evaluations and the due date."""
    return msg.plain("task", CAMPAIGN_LAUNCHED, campaign=title, count=count, due=due_text(due_at))


# -- re-check ----------------------------------------------------------------------------------


def _self_score(recheck) -> str:
    return str(recheck.self_score if recheck.self_score is not None else "—")


def department_feedback_asked(step: Step) -> dict[User, Message]:
    """Rescored: the department is asked for its feedback, with both scores."""
    recheck = step.obj
    total = recheck.sheet.total if recheck.sheet is not None else None
    notice = msg.plain(
        "recheck", RESCORED, project=recheck.project.name, score=str(total), self_score=_self_score(recheck)
    )
    return everyone(department_members(recheck.project.department_id), notice)


def agency_finalizes(step: Step) -> dict[User, Message]:
    """The department fed back: the agency's staff have the re-check to finalize."""
    recheck = step.obj
    notice = msg.plain("recheck", FED_BACK, project=recheck.project.name)
    return everyone(agency_staff(recheck.sample.agency_id), notice)


def recheck_final(step: Step) -> dict[User, Message]:
    """Final: the finance section and the department, the final score beside the self-score."""
    from ..states import Grade

    recheck = step.obj
    notice = msg.plain(
        "recheck",
        RECHECK_FINAL,
        ("grade",),
        project=recheck.project.name,
        score=str(recheck.final_score),
        grade=msgid(Grade(recheck.final_grade).label),
        self_score=_self_score(recheck),
    )
    return {
        **everyone(finance_officers(), notice),
        **everyone(department_members(recheck.project.department_id), notice),
    }
