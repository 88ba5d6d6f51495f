"""绩效运行监控 ("双监控", DESIGN §3.4): rounds, one report per project, indicator progress."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.roles import Role

from ..fiscal_years import validate_fiscal_year
from ..notices import monitoring as notices
from ..permissions import monitoring as perms
from ..states import (
    REPORT_OPEN,
    Disposal,
    Light,
    Likelihood,
    QualitativeProgress,
    ReportStatus,
    RoundStatus,
)
from ..transitions import declare, system
from .fields import BoundedDecimalField
from .project import MONEY, BudgetProject
from .targets import TargetRow


class MonitoringRound(models.Model):
    """One monitoring round of a fiscal year over a period (e.g. January–July): every
    executing project, or a chosen set, reports on its spending and its targets."""

    fiscal_year = models.PositiveSmallIntegerField(_("年度"), validators=[validate_fiscal_year])
    start_month = models.PositiveSmallIntegerField(
        _("起始月份"), default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    end_month = models.PositiveSmallIntegerField(
        _("截止月份"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    title = models.CharField(_("名称"), max_length=100)
    due_at = models.DateTimeField(_("填报截止时间"))
    status = models.CharField(_("状态"), max_length=12, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("监控轮次")
        verbose_name_plural = pgettext_lazy("plural", "监控轮次")
        ordering = ["-fiscal_year", "-end_month"]
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "start_month", "end_month"], name="one_round_per_period"),
            models.CheckConstraint(condition=models.Q(start_month__lte=models.F("end_month")), name="round_months"),
        ]
        permissions = [
            ("open_monitoring", _("发起绩效运行监控")),
            ("fill_monitoring", _("填报绩效监控报告")),
            ("review_monitoring_dept", _("部门审核绩效监控报告")),
            ("review_monitoring", _("财政审核、处置绩效监控报告")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workflows:monitoring_round", args=[self.pk])

    @property
    def months(self) -> int:
        """Months elapsed in the year at the end of the period (the time pace's numerator)."""
        return self.end_month


class MonitoringReport(ConcurrentTransitionMixin, models.Model):
    """绩效监控报告 of one project in one round. Its lights are computed from what the
    department reports and stored with it when it is submitted (and on every save)."""

    round = models.ForeignKey(
        MonitoringRound, verbose_name=_("监控轮次"), on_delete=models.PROTECT, related_name="reports"
    )
    project = models.ForeignKey(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="monitoring_reports"
    )
    status = FSMField(
        _("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.ISSUED, protected=True
    )
    budget = BoundedDecimalField(_("年初预算数"), **MONEY, null=True, blank=True)
    adjusted_budget = BoundedDecimalField(_("调整后预算"), **MONEY, null=True, blank=True)
    executed = BoundedDecimalField(_("截至期末执行数"), **MONEY, null=True, blank=True)
    #: The cumulative paid to the round's end month from the imported payments when the
    #: report was last saved (None: no payments imported); a different ``executed`` needs
    #: ``executed_reason`` (processes.services.execution).
    executed_imported = BoundedDecimalField(_("支付数据执行数"), **MONEY, null=True, blank=True)
    executed_reason = models.TextField(_("执行数差异说明"), blank=True)
    expected_full_year = BoundedDecimalField(_("预计全年执行数"), **MONEY, null=True, blank=True)
    deviation_causes = models.TextField(_("偏差原因"), blank=True)
    measures = models.TextField(_("纠偏措施"), blank=True)
    adjustment_requested = models.BooleanField(_("申请调整预算"), default=False)
    proposed_amount = BoundedDecimalField(_("申请调整后金额"), **MONEY, null=True, blank=True)
    spending_light = models.CharField(_("支出进度灯"), max_length=8, choices=Light.choices, default=Light.NONE)
    spending_rate = BoundedDecimalField(_("支出进度比"), max_digits=12, decimal_places=2, null=True, blank=True)
    spending_reason = models.CharField(_("支出灯说明"), max_length=64, blank=True)
    light = models.CharField(_("项目预警灯"), max_length=8, choices=Light.choices, default=Light.NONE, db_index=True)
    leader_comment = models.TextField(_("部门审核意见"), blank=True)
    review_comment = models.TextField(_("财政审核意见"), blank=True)
    disposal = models.CharField(_("处置方式"), max_length=16, choices=Disposal.choices, blank=True)
    disposal_reason = models.TextField(_("处置理由"), blank=True)
    amount_before = BoundedDecimalField(_("调整前预算"), **MONEY, null=True, blank=True)
    amount_after = BoundedDecimalField(_("调整后预算金额"), **MONEY, null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("绩效监控报告")
        verbose_name_plural = pgettext_lazy("plural", "绩效监控报告")
        ordering = ["round_id", "project__department_id", "project__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "project"], name="one_report_per_project_per_round"),
        ]
        indexes = [models.Index(fields=["round", "status", "light"], name="report_overview")]

    def __str__(self) -> str:
        return f"{self.round} · {self.project}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:monitoring_report", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status == ReportStatus.ISSUED

    @property
    def is_open(self) -> bool:
        return self.status in REPORT_OPEN

    @property
    def budget_in_force(self):
        """The budget the spending pace is read against: the adjusted one if given."""
        return self.adjusted_budget if self.adjusted_budget is not None else self.budget

    # -- transitions: fields only; who may, who is told: processes.transitions ----------

    #: What processes.transitions.lock reads with the row (the lights, notices and steps need them).
    lock_related = ("round", "project__department")

    def audit_detail(self) -> dict:
        return {"project": self.project_id, "round": self.round_id, "light": self.light}

    @transition(
        field=status,
        source=ReportStatus.ISSUED,
        target=ReportStatus.SUBMITTED,
        permission=perms.fsm(perms.can_fill),
        custom=declare(_("提交"), roles=[Role.DEPT_STAFF], tells=notices.leaders_to_review, audit="report_submit"),
    )
    def submit(self) -> None:
        pass

    @transition(
        field=status,
        source=ReportStatus.SUBMITTED,
        target=ReportStatus.DEPT_APPROVED,
        permission=perms.fsm(perms.can_dept_review),
        custom=declare(
            _("部门审核通过"), roles=[Role.DEPT_LEADER], tells=notices.finance_to_review, audit="report_dept_approve"
        ),
    )
    def dept_approve(self, *, comment: str) -> None:
        self.leader_comment = comment

    @transition(
        field=status,
        source=ReportStatus.SUBMITTED,
        target=ReportStatus.ISSUED,
        permission=perms.fsm(perms.can_dept_review),
        custom=declare(
            _("部门退回"),
            roles=[Role.DEPT_LEADER],
            tells=notices.department_returned,
            needs_reason=_("请填写退回理由。"),
            style="warning",
            audit="report_dept_return",
        ),
    )
    def dept_return(self, *, comment: str) -> None:
        self.leader_comment = comment

    @transition(
        field=status,
        source=ReportStatus.DEPT_APPROVED,
        target=ReportStatus.CLEARED,
        permission=perms.fsm(perms.may_review),
        custom=declare(
            _("审核通过"), roles=[Role.FINANCE_OFFICER], tells=notices.department_reviewed, audit="report_clear"
        ),
    )
    def clear(self, *, comment: str) -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=ReportStatus.DEPT_APPROVED,
        target=ReportStatus.WARNED,
        permission=perms.fsm(perms.may_review),
        custom=declare(
            _("预警"),
            roles=[Role.FINANCE_OFFICER],
            tells=notices.department_reviewed,
            needs_reason=_("预警或退回时请填写审核意见。"),
            style="danger",
            audit="report_warn",
        ),
    )
    def warn(self, *, comment: str) -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=ReportStatus.DEPT_APPROVED,
        target=ReportStatus.ISSUED,
        permission=perms.fsm(perms.may_review),
        custom=declare(
            _("退回修改"),
            roles=[Role.FINANCE_OFFICER],
            tells=notices.department_reviewed,
            needs_reason=_("预警或退回时请填写审核意见。"),
            style="warning",
            audit="report_return",
        ),
    )
    def send_back(self, *, comment: str) -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=ReportStatus.WARNED,
        target=ReportStatus.DISPOSED,
        permission=perms.fsm(perms.may_review),
        custom=declare(
            _("处置"), roles=[Role.FINANCE_OFFICER], tells=notices.department_disposed, audit="report_dispose"
        ),
    )
    def dispose(self, *, disposal: str, reason: str) -> None:
        self.disposal = disposal
        self.disposal_reason = reason

    @transition(
        field=status,
        source=REPORT_OPEN,
        target=ReportStatus.CANCELLED,
        permission=perms.fsm(perms.system_only),
        custom=system(
            _("随项目终止"),
            silent=_("项目被撤回或取消时发生：项目的这一步已通知部门，被取消任务的办理人另行收到任务取消通知。"),
            audit="report_cancel",
        ),
    )
    def cancel(self) -> None:
        pass


class IndicatorProgress(models.Model):
    """One target indicator's progress in a report: value to date (or qualitative
    progress), likelihood of completion, and its light."""

    # no index of its own: one_progress_per_row starts with it
    report = models.ForeignKey(MonitoringReport, on_delete=models.CASCADE, related_name="indicators", db_index=False)
    target_row = models.ForeignKey(TargetRow, verbose_name=_("绩效指标"), on_delete=models.PROTECT, related_name="+")
    value = BoundedDecimalField(_("截至期末完成值"), max_digits=18, decimal_places=4, null=True, blank=True)
    progress = models.CharField(_("定性指标完成情况"), max_length=16, choices=QualitativeProgress.choices, blank=True)
    likelihood = models.CharField(_("完成目标可能性"), max_length=12, choices=Likelihood.choices, blank=True)
    light = models.CharField(_("预警灯"), max_length=8, choices=Light.choices, default=Light.NONE)
    rate = BoundedDecimalField(_("完成进度比"), max_digits=12, decimal_places=2, null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("指标完成情况")
        verbose_name_plural = pgettext_lazy("plural", "指标完成情况")
        ordering = ["report_id", "target_row__position"]
        constraints = [models.UniqueConstraint(fields=["report", "target_row"], name="one_progress_per_row")]

    def __str__(self) -> str:
        return str(self.target_row)
