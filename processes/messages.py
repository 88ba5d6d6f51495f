"""What people are told about projects. Message ids are translated when shown."""

from django.utils.translation import gettext_noop

from notifications.services import Message

STAGE_CHANGED = gettext_noop("项目「%(project)s」：%(from_stage)s → %(to_stage)s")
STAGE_CHANGED_WITH_REASON = gettext_noop("项目「%(project)s」：%(from_stage)s → %(to_stage)s。理由：%(reason)s")
SUBMITTED_APPROVED = gettext_noop("您提交的项目「%(project)s」已通过部门审核")
SUBMITTED_RETURNED = gettext_noop("您提交的项目「%(project)s」被退回修改。理由：%(reason)s")
TASK_ASSIGNED = gettext_noop("新任务：%(task)s「%(project)s」，请于 %(due)s 前办理")
TASK_ASSIGNED_NO_DUE = gettext_noop("新任务：%(task)s「%(project)s」")
TASK_CANCELLED = gettext_noop("任务已取消：%(task)s「%(project)s」（项目已变为「%(to_stage)s」）")


def stage_changed(project_name: str, from_label: str, to_label: str, reason: str = "") -> Message:
    params = {"project": project_name, "from_stage": from_label, "to_stage": to_label}
    if reason:
        return Message(
            "stage_changed", STAGE_CHANGED_WITH_REASON, {**params, "reason": reason}, ("from_stage", "to_stage")
        )
    return Message("stage_changed", STAGE_CHANGED, params, ("from_stage", "to_stage"))


def submitter_approved(project_name: str) -> Message:
    return Message("approved", SUBMITTED_APPROVED, {"project": project_name})


def submitter_returned(project_name: str, reason: str) -> Message:
    return Message("returned", SUBMITTED_RETURNED, {"project": project_name, "reason": reason})


def task_assigned(task_title: str, project_name: str, due: str = "") -> Message:
    if not due:
        return Message("task", TASK_ASSIGNED_NO_DUE, {"task": task_title, "project": project_name}, ("task",))
    return Message("task", TASK_ASSIGNED, {"task": task_title, "project": project_name, "due": due}, ("task",))


def task_cancelled(task_title: str, project_name: str, to_label: str) -> Message:
    return Message(
        "task_cancelled",
        TASK_CANCELLED,
        {"task": task_title, "project": project_name, "to_stage": to_label},
        ("task", "to_stage"),
    )


COMMISSIONED = gettext_noop("新委托：项目「%(project)s」事前绩效评估，请组建评审组，意见截止 %(due)s")
PRE_ASSESSMENT_STARTED = gettext_noop("项目「%(project)s」已委托%(agency)s开展事前绩效评估")
PANEL_SEAT = gettext_noop("您已被抽选为项目「%(project)s」事前绩效评估评审组成员，请于 %(due)s 前提交评审意见")
PANEL_SEAT_CANCELLED = gettext_noop("您在项目「%(project)s」事前绩效评估评审组中的席位已取消")
OPINIONS_COLLECTED = gettext_noop("项目「%(project)s」的评审意见已汇总（%(count)s 份），请提出评估结论")
CONCLUSION_PROPOSED = gettext_noop("项目「%(project)s」事前绩效评估结论待确认：%(conclusion)s，审定金额 %(amount)s 元")
CONCLUSION_RETURNED = gettext_noop("项目「%(project)s」的评估结论被退回。理由：%(reason)s")


def plain(kind: str, verb: str, translated: tuple[str, ...] = (), **params) -> Message:
    """A message whose parameters are given by name; ``translated`` names those that are message ids."""
    return Message(kind, verb, params, translated)


TARGETS_RETURNED_BY_LEADER = gettext_noop("项目「%(project)s」的绩效目标被部门负责人退回修改。理由：%(reason)s")
TARGETS_RATED = gettext_noop("项目「%(project)s」的绩效目标审核结果：%(rating)s。审核意见：%(comment)s")
TARGETS_RATED_CHANGE = gettext_noop("项目「%(project)s」的绩效目标变更审核结果：%(rating)s。审核意见：%(comment)s")

ROUND_OPENED = gettext_noop("%(round)s：本部门 %(count)s 个项目待填报绩效监控报告，请于 %(due)s 前完成")
REPORT_RETURNED = gettext_noop("项目「%(project)s」的绩效监控报告被部门负责人退回。理由：%(reason)s")
REPORT_CLEARED = gettext_noop("项目「%(project)s」的绩效监控报告审核通过（%(light)s）。意见：%(comment)s")
REPORT_WARNED = gettext_noop("项目「%(project)s」绩效监控预警（%(light)s），待财政处置。意见：%(comment)s")
REPORT_SENT_BACK = gettext_noop("项目「%(project)s」的绩效监控报告被退回修改（%(light)s）。意见：%(comment)s")
REPORT_DISPOSED = gettext_noop("项目「%(project)s」绩效监控预警处置：%(disposal)s。理由：%(reason)s")
