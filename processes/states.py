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
