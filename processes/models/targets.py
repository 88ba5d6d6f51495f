"""Performance targets (绩效目标) of a project, versioned, and their review (DESIGN §3.3)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.roles import Role

from ..notices import targets as notices
from ..permissions import targets as perms
from ..states import (
    QUANTITATIVE,
    TARGET_SET_OPEN,
    Direction,
    IndicatorLevel1,
    IndicatorLevel2,
    TargetRating,
    TargetSetStatus,
)
from ..transitions import declare, system
from .fields import BoundedDecimalField
from .indicators import Indicator
from .project import BudgetProject


class TargetSet(ConcurrentTransitionMixin, models.Model):
    """One version of a project's targets: the overall goal and its indicator rows.

    Version 1 is the targets filed with the budget; a later version is a change request
    (变更) with a reason. Each goes draft → submitted → dept_approved (the finance
    section reviews) → approved (优 / 良) · returned (中, revise and resubmit) · rejected (差).
    An approved version stays readable when a newer one supersedes it. Moved only by
    processes.services.targets.
    """

    project = models.ForeignKey(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="target_sets"
    )
    number = models.PositiveSmallIntegerField(_("版本号"))
    status = FSMField(
        _("状态"), max_length=16, choices=TargetSetStatus.choices, default=TargetSetStatus.DRAFT, protected=True
    )
    overall_goal = models.TextField(_("年度总体目标"), blank=True)
    change_reason = models.TextField(_("变更理由"), blank=True)
    rating = models.CharField(_("审核等次"), max_length=12, choices=TargetRating.choices, blank=True)
    review_comment = models.TextField(_("财政审核意见"), blank=True)
    leader_comment = models.TextField(_("部门审核意见"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rated_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("绩效目标")
        verbose_name_plural = pgettext_lazy("plural", "绩效目标")
        ordering = ["project_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="target_set_number_unique"),
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(status__in=[s.value for s in TARGET_SET_OPEN]),
                name="one_open_target_set_per_project",
            ),
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(status=TargetSetStatus.APPROVED),
                name="one_approved_target_set_per_project",
            ),
        ]
        permissions = [
            ("submit_targets", _("填报绩效目标")),
            ("review_targets", _("部门审核绩效目标")),
            ("rate_targets", _("财政审核绩效目标")),
        ]

    def __str__(self) -> str:
        return f"{self.project} · v{self.number} · {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:targets", args=[self.project_id])

    @property
    def is_change(self) -> bool:
        return self.number > 1

    @property
    def editable(self) -> bool:
        return self.status in (TargetSetStatus.DRAFT, TargetSetStatus.RETURNED)

    # -- transitions: fields only; who may, who is told: processes.transitions ----------

    #: What processes.transitions.lock reads with the row (the notices and steps need them).
    lock_related = ("project__department", "created_by")

    def audit_detail(self) -> dict:
        return {"project": self.project_id, "number": self.number}

    @transition(
        field=status,
        source=[TargetSetStatus.DRAFT, TargetSetStatus.RETURNED],
        target=TargetSetStatus.SUBMITTED,
        permission=perms.fsm(perms.may_submit),
        custom=declare(_("提交"), roles=[Role.DEPT_STAFF], tells=notices.leaders_to_review, audit="targets_submit"),
    )
    def submit(self) -> None:
        self.rating = ""

    @transition(
        field=status,
        source=TargetSetStatus.SUBMITTED,
        target=TargetSetStatus.DEPT_APPROVED,
        permission=perms.fsm(perms.may_dept_review),
        custom=declare(
            _("部门审核通过"), roles=[Role.DEPT_LEADER], tells=notices.finance_to_rate, audit="targets_dept_approve"
        ),
    )
    def dept_approve(self, *, comment: str) -> None:
        self.leader_comment = comment

    @transition(
        field=status,
        source=TargetSetStatus.SUBMITTED,
        target=TargetSetStatus.DRAFT,
        permission=perms.fsm(perms.may_dept_review),
        custom=declare(
            _("部门退回"),
            roles=[Role.DEPT_LEADER],
            tells=notices.department_returned,
            needs_reason=_("请填写退回理由。"),
            style="danger",
            audit="targets_dept_return",
        ),
    )
    def dept_return(self, *, comment: str) -> None:
        self.leader_comment = comment

    @transition(
        field=status,
        source=TargetSetStatus.DEPT_APPROVED,
        target=TargetSetStatus.APPROVED,
        permission=perms.fsm(perms.may_rate),
        custom=declare(
            _("审核通过（优、良）"), roles=[Role.FINANCE_OFFICER], tells=notices.department_rated, audit="targets_rate"
        ),
    )
    def approve(self, *, rating: str, comment: str) -> None:
        self.rating = rating
        self.review_comment = comment

    @transition(
        field=status,
        source=TargetSetStatus.DEPT_APPROVED,
        target=TargetSetStatus.RETURNED,
        permission=perms.fsm(perms.may_rate),
        custom=declare(
            _("退回修改（中）"),
            roles=[Role.FINANCE_OFFICER],
            tells=notices.department_rated,
            needs_reason=_("评为良、中、差时请填写审核意见。"),
            style="warning",
            audit="targets_rate",
        ),
    )
    def send_back(self, *, comment: str) -> None:
        self.rating = TargetRating.FAIR
        self.review_comment = comment

    @transition(
        field=status,
        source=TargetSetStatus.DEPT_APPROVED,
        target=TargetSetStatus.REJECTED,
        permission=perms.fsm(perms.may_rate),
        custom=declare(
            _("不予通过（差）"),
            roles=[Role.FINANCE_OFFICER],
            tells=notices.department_rated,
            needs_reason=_("评为良、中、差时请填写审核意见。"),
            style="danger",
            audit="targets_rate",
        ),
    )
    def reject(self, *, comment: str) -> None:
        self.rating = TargetRating.POOR
        self.review_comment = comment

    @transition(
        field=status,
        source=TargetSetStatus.APPROVED,
        target=TargetSetStatus.SUPERSEDED,
        permission=perms.fsm(perms.system_only),
        custom=system(
            _("被新版本取代"),
            silent=_("新版本审核通过时发生：部门收到的新版本审核结果已说明旧版本不再执行。"),
            audit="targets_supersede",
        ),
    )
    def supersede(self) -> None:
        pass

    @transition(
        field=status,
        source=TARGET_SET_OPEN,
        target=TargetSetStatus.CANCELLED,
        permission=perms.fsm(perms.system_only),
        custom=system(
            _("随项目终止"),
            silent=_(
                "项目被撤回、取消或不予支持时发生：项目的这一步已通知部门，被取消任务的办理人另行收到任务取消通知。"
            ),
            audit="targets_cancel",
        ),
    )
    def cancel(self) -> None:
        pass


class TargetRow(models.Model):
    """One indicator row of a target version: from the library (``indicator``) or written
    fresh; its level names, direction and unit are copied, so a later library change never
    rewrites approved targets."""

    # no index of its own: target_row_position_unique starts with it
    target_set = models.ForeignKey(TargetSet, on_delete=models.CASCADE, related_name="rows", db_index=False)
    position = models.PositiveSmallIntegerField(_("序号"))
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("库内指标"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level1 = models.CharField(_("一级指标"), max_length=16, choices=IndicatorLevel1.choices)
    level2 = models.CharField(_("二级指标"), max_length=16, choices=IndicatorLevel2.choices)
    name = models.CharField(_("三级指标"), max_length=200)
    direction = models.CharField(_("指标性质"), max_length=16, choices=Direction.choices)
    target_value = BoundedDecimalField(_("指标值"), max_digits=18, decimal_places=4, null=True, blank=True)
    target_text = models.CharField(_("定性指标值"), max_length=200, blank=True)
    unit = models.CharField(_("计量单位"), max_length=32, blank=True)
    weight = BoundedDecimalField(_("权重"), max_digits=5, decimal_places=2)
    review_comment = models.TextField(_("审核意见"), blank=True)
    #: The finance section's agreed edits when rating 良: {field: [before, after]}.
    edits = models.JSONField(_("审核修改"), default=dict, blank=True)

    class Meta:
        verbose_name = _("绩效指标行")
        verbose_name_plural = pgettext_lazy("plural", "绩效指标行")
        ordering = ["target_set_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["target_set", "position"], name="target_row_position_unique"),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="target_row_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def quantitative(self) -> bool:
        return self.direction in QUANTITATIVE

    @property
    def display_value(self) -> str:
        if not self.quantitative:
            return self.target_text
        value = self.target_value if self.target_value is not None else Decimal(0)
        text = f"{value.normalize():f}"
        return f"{self.get_direction_display()}{text}{self.unit}"
