"""Lifecycle states of the domain objects (DESIGN §3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectStage(models.TextChoices):
    """预算项目阶段 (DESIGN §3.1). Derived from the sub-processes; never set by hand."""

    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    DEPT_APPROVED = "dept_approved", _("部门已审核")
    PRE_ASSESSMENT = "pre_assessment", _("事前绩效评估")
    TARGET_REVIEW = "target_review", _("绩效目标审核")
    BUDGETED = "budgeted", _("已批复预算")
    EXECUTING = "executing", _("执行中")
    EVALUATING = "evaluating", _("评价中")
    EVALUATED = "evaluated", _("已评价")
    RECTIFYING = "rectifying", _("整改中")
    CLOSED = "closed", _("已关闭")
    WITHDRAWN = "withdrawn", _("已撤回")
    REJECTED = "rejected", _("未予支持")
    CANCELLED = "cancelled", _("已取消")


#: Stages from which the department may still withdraw (before budgeting).
WITHDRAWABLE = [
    ProjectStage.DRAFT,
    ProjectStage.SUBMITTED,
    ProjectStage.DEPT_APPROVED,
    ProjectStage.PRE_ASSESSMENT,
    ProjectStage.TARGET_REVIEW,
]
#: Stages the finance section may cancel from (anything not yet ended).
CANCELLABLE = [
    s
    for s in ProjectStage
    if s not in (ProjectStage.CLOSED, ProjectStage.WITHDRAWN, ProjectStage.REJECTED, ProjectStage.CANCELLED)
]
TERMINAL = [ProjectStage.CLOSED, ProjectStage.WITHDRAWN, ProjectStage.REJECTED, ProjectStage.CANCELLED]


class PreAssessmentStatus(models.TextChoices):
    """事前绩效评估 (DESIGN §3.2)."""

    INITIATED = "initiated", _("已发起")
    PANEL_FORMED = "panel_formed", _("评审组已组建")
    UNDER_REVIEW = "under_review", _("专家评审中")
    OPINIONS_COLLECTED = "opinions_collected", _("意见已汇总")
    CONCLUDED = "concluded", _("已提出结论")
    CONFIRMED = "confirmed", _("已确认")
    CANCELLED = "cancelled", _("已取消")


class OpinionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    EXPIRED = "expired", _("逾期未提交")


class Conclusion(models.TextChoices):
    """评估结论."""

    SUPPORT = "support", _("予以支持")
    PARTIAL = "partial", _("部分予以支持")
    REJECT = "reject", _("不予支持")
