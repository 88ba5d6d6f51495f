"""Who is told what about a commissioned evaluation (重点评价 / 部门整体绩效评价): the
``tells=`` of CommissionedEvaluation's transitions, and the messages of its steps that are
not transitions (the commission itself, a member's suggestions, a reminder). Message ids
are translated when read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User

from .. import messages
from ..states import Grade
from . import agency_staff, department_members, everyone, finance_officers

if TYPE_CHECKING:
    from notifications.services import Message

    from ..models import CommissionedEvaluation
    from ..transitions import Step

COMMISSIONED = gettext_noop("新委托：「%(title)s」，请提交评价方案，完成期限 %(due)s")
COMMISSIONED_DEPT = gettext_noop("财政绩效科已委托%(agency)s开展「%(title)s」")
PLAN_SUBMITTED = gettext_noop("「%(title)s」的评价方案已提交，请审核")
PLAN_APPROVED = gettext_noop("「%(title)s」的评价方案已批准，请开展现场评价。意见：%(comment)s")
PLAN_RETURNED = gettext_noop("「%(title)s」的评价方案被退回修改。理由：%(comment)s")
FIELDWORK_STARTED = gettext_noop("「%(title)s」已进入现场评价阶段")
DRAFT_SUBMITTED = gettext_noop("「%(title)s」的报告初稿已提交，请反馈意见")
DEPT_COMMENTED = gettext_noop("「%(title)s」的部门反馈意见：%(comment)s。请抽取专家评审组")
PANEL_SEAT = gettext_noop("您已被抽选为「%(title)s」专家评审组成员，请于 %(due)s 前提交评审建议")
SUGGESTIONS_IN = gettext_noop("「%(title)s」的专家评审建议已全部提交（%(count)s 条），请形成最终评价结果")
FINALIZED = gettext_noop("「%(title)s」评价完成：%(score)s 分，等次%(grade)s")
FINALIZED_FINANCE = gettext_noop("「%(title)s」评价完成：%(score)s 分，等次%(grade)s，请审核是否公开")
FINALIZED_MEMBER = gettext_noop(
    "您参与评审的「%(title)s」评价完成：%(score)s 分，等次%(grade)s（您提出的评审建议：%(own)s 条）"
)
FINAL_RETURNED = gettext_noop(
    "「%(title)s」的最终评价报告被财政绩效科退回修改，请修改后重新形成评价结果。理由：%(comment)s"
)
PUBLISHED = gettext_noop("「%(title)s」的评价报告已批准公开")
PANEL_REMINDER = gettext_noop("请尽快提交「%(title)s」的专家评审建议（截止 %(due)s）。")

#: A grade's label as a message id without context (notifications translate with gettext).
GRADE_MSGIDS = {
    Grade.EXCELLENT: gettext_noop("优"),
    Grade.GOOD: gettext_noop("良"),
    Grade.FAIR: gettext_noop("中"),
    Grade.POOR: gettext_noop("差"),
}


def due(evaluation: CommissionedEvaluation) -> str:
    """The evaluation's due date as the messages show it (local time)."""
    return timezone.localtime(evaluation.due_at).strftime("%Y-%m-%d %H:%M")


def department_people(evaluation: CommissionedEvaluation) -> list[User]:
    """The evaluated department's staff and leaders (for a key evaluation: the project's)."""
    return department_members(evaluation.department_id)


def agency_of(evaluation: CommissionedEvaluation) -> list[User]:
    return agency_staff(evaluation.agency_id)


# -- steps that are not transitions ------------------------------------------------------------


def commissioned(evaluation: CommissionedEvaluation) -> dict[User, Message]:
    """A new commission: a task for the agency's staff; the department is told who evaluates it."""
    title = evaluation.title
    told = everyone(
        department_people(evaluation),
        messages.plain("stage_changed", COMMISSIONED_DEPT, agency=evaluation.agency.name, title=title),
    )
    told.update(everyone(agency_of(evaluation), messages.plain("task", COMMISSIONED, title=title, due=due(evaluation))))
    return told


def suggestions_in(evaluation: CommissionedEvaluation, count: int) -> dict[User, Message]:
    """The panel's last member submitted: the agency is asked to finalize."""
    return everyone(agency_of(evaluation), messages.plain("task", SUGGESTIONS_IN, title=evaluation.title, count=count))


# -- the transitions' tells= --------------------------------------------------------------------


def plan_submitted(step: Step) -> dict[User, Message]:
    """submit_plan: the finance section is asked to review the plan."""
    return everyone(finance_officers(), messages.plain("task", PLAN_SUBMITTED, title=step.obj.title))


def plan_approved(step: Step) -> dict[User, Message]:
    """approve_plan: the agency may start the fieldwork (with the reviewer's comment)."""
    message = messages.plain("approved", PLAN_APPROVED, title=step.obj.title, comment=step.comment)
    return everyone(agency_of(step.obj), message)


def plan_returned(step: Step) -> dict[User, Message]:
    """return_plan: the agency is told why its plan came back."""
    message = messages.plain("returned", PLAN_RETURNED, title=step.obj.title, comment=step.comment)
    return everyone(agency_of(step.obj), message)


def fieldwork_started(step: Step) -> dict[User, Message]:
    """start_fieldwork: the department learns the evaluators are coming."""
    return everyone(
        department_people(step.obj), messages.plain("stage_changed", FIELDWORK_STARTED, title=step.obj.title)
    )


def draft_submitted(step: Step) -> dict[User, Message]:
    """submit_draft: the department is asked for its comments on the draft report."""
    return everyone(department_people(step.obj), messages.plain("task", DRAFT_SUBMITTED, title=step.obj.title))


def department_commented(step: Step) -> dict[User, Message]:
    """comment: the agency gets the department's comments and is asked to draw the panel."""
    message = messages.plain("task", DEPT_COMMENTED, title=step.obj.title, comment=step.obj.department_comment)
    return everyone(agency_of(step.obj), message)


def panel_drawn(step: Step) -> dict[User, Message]:
    """open_review: each drawn member (expert or deputy) gets the review as a task."""
    evaluation = step.obj
    message = messages.plain("task", PANEL_SEAT, title=evaluation.title, due=due(evaluation))
    members = User.objects.filter(pk__in=evaluation.panel.values("user_id"))
    return everyone(members, message)


def finalized(step: Step) -> dict[User, Message]:
    """finalize: the department is told the result; the finance section is asked to approve
    its disclosure; every panel member (expert or deputy) hears it beside their own
    suggestions."""
    evaluation = step.obj
    with_grade = {
        "title": evaluation.title,
        "score": str(evaluation.score),
        "grade": GRADE_MSGIDS[Grade(evaluation.grade)],
    }
    told = everyone(department_people(evaluation), messages.plain("stage_changed", FINALIZED, ("grade",), **with_grade))
    told.update(everyone(finance_officers(), messages.plain("task", FINALIZED_FINANCE, ("grade",), **with_grade)))
    told.update(panel_told(evaluation, with_grade))
    return told


def panel_told(evaluation: CommissionedEvaluation, with_grade: dict) -> dict[User, Message]:
    """Every member of the review panel (expert or deputy) hears the result, with the
    number of suggestions they gave beside it — one notice each, one query for the panel."""
    from django.db.models import Count

    seats = evaluation.panel.select_related("user").annotate(own=Count("suggestions")).order_by("seat")
    return {
        seat.user: messages.plain("approved", FINALIZED_MEMBER, ("grade",), **with_grade, own=seat.own)
        for seat in seats
        if seat.user.is_active
    }


def final_returned(step: Step) -> dict[User, Message]:
    """return_final: the agency is told why its final report came back (it is in its hands
    again, to finalize anew)."""
    message = messages.plain("returned", FINAL_RETURNED, title=step.obj.title, comment=step.comment)
    return everyone(agency_of(step.obj), message)


def published(step: Step) -> dict[User, Message]:
    """publish: the department and the agency are told the report is public."""
    evaluation = step.obj
    told = everyone(department_people(evaluation), messages.plain("stage_changed", PUBLISHED, title=evaluation.title))
    told.update(everyone(agency_of(evaluation), messages.plain("approved", PUBLISHED, title=evaluation.title)))
    return told
