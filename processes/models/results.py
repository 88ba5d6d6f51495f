"""结果应用决定 (DESIGN §3.7, issue 18 item 3): the finance officer's decision on a continuing
project's request in the light of its last grade of record — the proposal accepted, or
overridden with a reason. See processes/results_ledger.py and decision 0025."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.roles import Role

from .. import permissions as perms
from ..notices.results import decided
from ..states import Grade
from ..transitions import declare
from .fields import BoundedDecimalField
from .project import MONEY, BudgetProject, fsm_permission


class DecisionStatus(models.TextChoices):
    PROPOSED = "proposed", _("待决定")
    ACCEPTED = "accepted", _("采纳建议")
    OVERRIDDEN = "overridden", _("调整建议")


class ResultsDecision(ConcurrentTransitionMixin, models.Model):
    """The proposal for one next-year project (a snapshot of the grade and recommendation it
    was made from) and the finance officer's decision on it. ``decided_amount`` caps the
    project's approved amount when it is budgeted."""

    project = models.OneToOneField(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.CASCADE, related_name="results_decision"
    )
    graded_project = models.ForeignKey(
        BudgetProject, verbose_name=_("上年度评价项目"), on_delete=models.PROTECT, related_name="+"
    )
    grade = models.CharField(_("评价等次"), max_length=16, choices=Grade.choices)
    grade_source = models.CharField(_("等次来源"), max_length=16)
    recommendation = models.CharField(_("应用建议"), max_length=16)
    cut_percent = models.DecimalField(_("压减比例"), max_digits=5, decimal_places=2, default=Decimal("0"))
    requested_amount = BoundedDecimalField(_("送审金额"), **MONEY)
    proposed_amount = BoundedDecimalField(_("建议安排金额"), **MONEY)
    proposed_priority = models.BooleanField(_("建议优先保障"), default=False)
    blocked_by = models.ForeignKey(
        "processes.Rectification",
        verbose_name=_("未验收整改"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = FSMField(
        _("状态"), max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.PROPOSED, protected=True
    )
    decided_amount = BoundedDecimalField(_("决定安排金额"), **MONEY, null=True, blank=True)
    priority = models.BooleanField(_("优先保障"), default=False)
    reason = models.TextField(_("调整理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)

    lock_related = ("project",)

    class Meta:
        verbose_name = _("结果应用决定")
        verbose_name_plural = pgettext_lazy("plural", "结果应用决定")
        ordering = ["project_id"]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:project_detail", args=[self.project_id])

    def audit_detail(self) -> dict:
        return {
            "project": self.project_id,
            "grade": self.grade,
            "recommendation": self.recommendation,
            "requested_amount": self.requested_amount,
            "proposed_amount": self.proposed_amount,
            "decided_amount": self.decided_amount,
            "priority": self.priority,
        }

    @property
    def overridden(self) -> bool:
        return self.status == DecisionStatus.OVERRIDDEN

    @property
    def is_decided(self) -> bool:
        return self.status != DecisionStatus.PROPOSED

    @transition(
        field=status,
        source=DecisionStatus.PROPOSED,
        target=DecisionStatus.ACCEPTED,
        permission=fsm_permission(perms.can_intake),
        custom=declare(_("采纳结果应用建议"), roles=[Role.FINANCE_OFFICER], tells=decided, audit="results_accept"),
    )
    def accept(self) -> None:
        self.decided_amount = self.proposed_amount
        self.priority = self.proposed_priority

    @transition(
        field=status,
        source=DecisionStatus.PROPOSED,
        target=DecisionStatus.OVERRIDDEN,
        permission=fsm_permission(perms.can_intake),
        custom=declare(
            _("调整结果应用建议"),
            roles=[Role.FINANCE_OFFICER],
            tells=decided,
            needs_reason=_("不采纳建议时必须填写理由。"),
            style="warning",
            audit="results_override",
        ),
    )
    def override(self, *, amount: Decimal, comment: str) -> None:
        self.decided_amount = amount
        self.priority = False
        self.reason = comment
