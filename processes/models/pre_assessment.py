"""Pre-assessment (事前绩效评估): the review, its panel, opinions and reduction items (DESIGN §3.2)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.roles import Role

from ..files import private_storage
from ..notices import pre_assessment as notices
from ..permissions import pre_assessment as perms
from ..permissions import system_only
from ..states import Conclusion, OpinionStatus, PreAssessmentStatus
from ..transitions import declare, system
from .fields import BoundedDecimalField
from .project import MONEY, BudgetProject


def _perm(check: Callable[[Any, Any], bool]) -> Callable[[models.Model, Any], bool]:
    """``check`` typed as django-fsm-2's ``transition(permission=...)`` wants it (the stub
    asks for any model and any user; django-fsm calls ours with this model's rows only)."""
    return cast("Callable[[models.Model, Any], bool]", check)


def _cond(check: Callable[[Any], bool]) -> Callable[[models.Model], bool]:
    return cast("Callable[[models.Model], bool]", check)


class PreAssessment(ConcurrentTransitionMixin, models.Model):
    """事前绩效评估 of one project by a commissioned third-party agency (DESIGN §3.2).

    The panel draw's seed and candidate pool are stored, so the draw can be replayed.
    Moved only by processes.services.pre_assessment, through processes.transitions.apply.
    """

    version_counter = "version"
    lock_related = ("project__department", "agency")

    project = models.ForeignKey(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="pre_assessments"
    )
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("第三方机构"), on_delete=models.PROTECT, related_name="pre_assessments"
    )
    due_at = models.DateTimeField(_("意见截止时间"))
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(
        _("状态"),
        max_length=24,
        choices=PreAssessmentStatus.choices,
        default=PreAssessmentStatus.INITIATED,
        protected=True,
    )
    draw_seed = models.BigIntegerField(_("抽取种子"), null=True, blank=True)
    candidate_pool = models.JSONField(_("候选人池"), default=list, blank=True)
    conclusion = models.CharField(_("评估结论"), max_length=16, choices=Conclusion.choices, blank=True)
    approved_amount = BoundedDecimalField(_("审定金额"), **MONEY, null=True, blank=True)
    conclusion_reasons = models.TextField(_("结论理由"), blank=True)
    report = models.FileField(_("评估报告"), storage=private_storage, upload_to="pre_assessment/%Y/", blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("事前绩效评估")
        verbose_name_plural = pgettext_lazy("plural", "事前绩效评估")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=~models.Q(status__in=["confirmed", "cancelled"]),
                name="one_open_pre_assessment_per_project",
            ),
        ]
        permissions = [
            ("start_pre_assessment", _("发起事前绩效评估")),
            ("organise_review", _("组织评审（第三方机构）")),
            ("confirm_pre_assessment", _("确认评估结论")),
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:pre_assessment", args=[self.pk])

    @property
    def requested_amount(self) -> Decimal:
        return self.project.requested_amount

    @property
    def reduction(self) -> Decimal | None:
        """核减金额 = requested − approved."""
        if self.approved_amount is None:
            return None
        return self.requested_amount - self.approved_amount

    @property
    def reduction_rate(self) -> Decimal | None:
        """核减率 = reduction ÷ requested, exact (round only when shown)."""
        reduction = self.reduction
        return None if reduction is None else reduction / self.requested_amount

    # -- transitions: fields only; who may, who is told: processes.transitions ----------

    @transition(
        field=status,
        source=PreAssessmentStatus.INITIATED,
        target=PreAssessmentStatus.PANEL_FORMED,
        permission=_perm(perms.is_commissioned),
        custom=declare(_("抽取评审组"), roles=[Role.AGENCY_STAFF], tells=notices.panel_seated, audit="form_panel"),
    )
    def form_panel(self, *, seed: int, pool: list) -> None:
        self.draw_seed = seed
        self.candidate_pool = pool

    @transition(
        field=status,
        source=PreAssessmentStatus.PANEL_FORMED,
        target=PreAssessmentStatus.UNDER_REVIEW,
        permission=_perm(system_only),
        custom=system(
            _("开始评审"),
            silent=_("随「抽取评审组」一步完成：评审组成员已在抽取时收到席位和截止时间的通知。"),
        ),
    )
    def open_review(self) -> None:
        pass

    @transition(
        field=status,
        source=PreAssessmentStatus.UNDER_REVIEW,
        target=PreAssessmentStatus.OPINIONS_COLLECTED,
        permission=_perm(system_only),
        custom=system(_("汇总专家意见"), tells=notices.opinions_collected, audit="collect"),
    )
    def collect(self) -> None:
        pass

    @transition(
        field=status,
        source=PreAssessmentStatus.OPINIONS_COLLECTED,
        target=PreAssessmentStatus.CONCLUDED,
        permission=_perm(perms.is_commissioned),
        custom=declare(
            _("提出评估结论"), roles=[Role.AGENCY_STAFF], tells=notices.conclusion_proposed, audit="conclude"
        ),
    )
    def conclude(self, *, conclusion: str, approved_amount: Decimal, reasons: str) -> None:
        self.conclusion = conclusion
        self.approved_amount = approved_amount
        self.conclusion_reasons = reasons

    @transition(
        field=status,
        source=PreAssessmentStatus.CONCLUDED,
        target=PreAssessmentStatus.CONFIRMED,
        permission=_perm(perms.can_confirm),
        custom=declare(
            _("确认结论"), roles=[Role.FINANCE_OFFICER], tells=notices.conclusion_confirmed, audit="confirm"
        ),
    )
    def confirm(self) -> None:
        pass

    @transition(
        field=status,
        source=PreAssessmentStatus.CONCLUDED,
        target=PreAssessmentStatus.OPINIONS_COLLECTED,
        permission=_perm(perms.can_confirm),
        custom=declare(
            _("退回结论"),
            roles=[Role.FINANCE_OFFICER],
            tells=notices.conclusion_returned,
            needs_reason=True,
            style="secondary",
            audit="return",
        ),
    )
    def send_back(self) -> None:
        pass

    @transition(
        field=status,
        source=[
            s for s in PreAssessmentStatus if s not in (PreAssessmentStatus.CONFIRMED, PreAssessmentStatus.CANCELLED)
        ],
        target=PreAssessmentStatus.CANCELLED,
        permission=_perm(system_only),
        custom=system(_("终止评估"), tells=notices.seats_cancelled, audit="cancel"),
    )
    def cancel(self) -> None:
        pass


class PanelMember(models.Model):
    """A seat on a pre-assessment's review panel (评审组成员): an expert or a deputy."""

    class Kind(models.TextChoices):
        EXPERT = "expert", _("专家")
        DEPUTY = "deputy", _("人大代表")

    pre_assessment = models.ForeignKey(PreAssessment, on_delete=models.CASCADE, related_name="panel")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("身份"), max_length=8, choices=Kind.choices)
    sector_expert = models.BooleanField(_("专业对口"), default=False)
    seat = models.PositiveSmallIntegerField(_("席位"))
    active = models.BooleanField(_("在任"), default=True)
    replaced_reason = models.TextField(_("替换理由"), blank=True)
    replaced_at = models.DateTimeField(_("替换时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评审组成员")
        verbose_name_plural = pgettext_lazy("plural", "评审组成员")
        ordering = ["pre_assessment_id", "seat", "-active"]
        constraints = [
            models.UniqueConstraint(fields=["pre_assessment", "user"], name="panel_member_once"),
            models.UniqueConstraint(
                fields=["pre_assessment", "seat"], condition=models.Q(active=True), name="one_active_member_per_seat"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_kind_display()})"


class Opinion(ConcurrentTransitionMixin, models.Model):
    """专家意见: one per panel member, editable until submitted; expired if not in at the due
    date; withdrawn if its member is replaced (a declared conflict, the agency's choice)."""

    version_counter = "revision"

    member = models.OneToOneField(PanelMember, on_delete=models.CASCADE, related_name="opinion")
    status = FSMField(
        _("状态"), max_length=12, choices=OpinionStatus.choices, default=OpinionStatus.DRAFT, protected=True
    )
    scores = models.JSONField(_("评分"), default=dict, blank=True)
    recommendation = models.CharField(_("评审建议"), max_length=16, choices=Conclusion.choices, blank=True)
    recommended_amount = BoundedDecimalField(_("建议审定金额"), **MONEY, null=True, blank=True)
    text = models.TextField(_("评审意见"), blank=True)
    conflict_declared = models.BooleanField(_("存在利益冲突"), default=False)
    conflict_note = models.TextField(_("利益冲突说明"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    lock_related = ("member__user", "member__pre_assessment__project")

    class Meta:
        verbose_name = _("专家意见")
        verbose_name_plural = pgettext_lazy("plural", "专家意见")

    def __str__(self) -> str:
        return f"{self.member} · {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return self.member.pre_assessment.get_absolute_url()

    def audit_detail(self) -> dict:
        member = self.member
        return {"pre_assessment": member.pre_assessment_id, "member": member.user_id, "seat": member.seat}

    # -- transitions: who may, who is told: processes.transitions -----------------------

    def under_review(self) -> bool:
        """An opinion is written only while its review is under way, by a seated member."""
        return self.member.active and self.member.pre_assessment.status == PreAssessmentStatus.UNDER_REVIEW

    def refusal_submit(self) -> str:
        from django.utils.translation import gettext

        return gettext("评审已结束或您已不在评审组中，不能再提交意见。")

    @transition(
        field=status,
        source=OpinionStatus.DRAFT,
        target=OpinionStatus.SUBMITTED,
        conditions=[_cond(under_review)],
        permission=_perm(perms.holds_seat),
        custom=declare(
            _("提交评审意见"),
            roles=[Role.EXPERT, Role.DEPUTY],
            silent=_("每份意见不单独通知：意见全部提交（或截止时达到法定份数）时，「汇总专家意见」通知受托机构。"),
            audit="submit_opinion",
        ),
    )
    def submit(self) -> None:
        pass

    @transition(
        field=status,
        source=OpinionStatus.DRAFT,
        target=OpinionStatus.EXPIRED,
        permission=_perm(system_only),
        custom=system(
            _("意见逾期"),
            silent=_("随「汇总专家意见」记录：受托机构收到的汇总通知写明已提交的份数，成员的评审任务随之关闭。"),
            audit="expire_opinion",
        ),
    )
    def expire(self) -> None:
        pass

    @transition(
        field=status,
        source=OpinionStatus.DRAFT,
        target=OpinionStatus.WITHDRAWN,
        permission=_perm(system_only),
        custom=system(
            _("成员被替换"),
            silent=_("随「更换评审专家」记录：离任成员收到席位取消的通知，接替成员收到新席位的通知。"),
            audit="withdraw_opinion",
        ),
    )
    def withdraw(self) -> None:
        pass

    @property
    def total_score(self) -> Decimal:
        return sum((Decimal(v) for v in self.scores.values()), Decimal("0"))


class ReductionItem(models.Model):
    """核减事项 of an opinion: what, requested, approved, why."""

    opinion = models.ForeignKey(Opinion, on_delete=models.CASCADE, related_name="reduction_items")
    item = models.CharField(_("事项"), max_length=200)
    requested = BoundedDecimalField(_("送审金额"), **MONEY)
    approved = BoundedDecimalField(_("审定金额"), **MONEY)
    reason = models.TextField(_("核减理由"), blank=True)

    class Meta:
        verbose_name = _("核减事项")
        verbose_name_plural = pgettext_lazy("plural", "核减事项")
        ordering = ["opinion_id", "id"]

    def __str__(self) -> str:
        return self.item
