"""Execution data from the budget system (数字财政 / 国库支付): what each project paid in each
month of its year, and the monthly payment plan (资金支付计划) it is read against.

One row per (project, month) in each table: a re-sent month replaces the row, it never
adds a second one (the unique constraints, and processes.services.execution, which writes
them). A project is of one fiscal year, so (project, month) is (year, project code, month)
of the treasury's files. The cumulative paid to a month is the sum of its months' rows
(processes.selectors.execution).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .fields import BoundedDecimalField
from .project import MONEY, BudgetProject


class MonthlyAmount(models.Model):
    """An amount (yuan, two places, ≥ 0) of one project in one month (1–12) of its year."""

    project = models.ForeignKey(BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT)
    month = models.PositiveSmallIntegerField(_("月份"))
    amount = BoundedDecimalField(_("金额（元）"), **MONEY)
    #: The job (an import) or the person (the plan screen) that last wrote the row.
    job = models.ForeignKey(
        "processes.Job", verbose_name=_("导入任务"), null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("更新人"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["project_id", "month"]

    def __str__(self) -> str:
        return f"{self.project_id} · {self.month} · {self.amount}"


class Payment(MonthlyAmount):
    """支付数据: what the treasury paid for the project in the month (imported, never typed)."""

    project = models.ForeignKey(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    job = models.ForeignKey(
        "processes.Job", verbose_name=_("导入任务"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(MonthlyAmount.Meta):
        verbose_name = _("支付数据")
        verbose_name_plural = pgettext_lazy("plural", "支付数据")
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="one_payment_per_project_month"),
            models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12), name="payment_month_1_12"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="payment_amount_not_negative"),
        ]
        permissions = [
            ("import_payments", _("导入支付数据和资金支付计划")),
            ("plan_payments", _("填报资金支付计划")),
        ]


class PaymentPlan(MonthlyAmount):
    """资金支付计划: what the project plans to pay in the month."""

    project = models.ForeignKey(
        BudgetProject,
        verbose_name=_("预算项目"),
        on_delete=models.PROTECT,
        related_name="payment_plans",
        db_index=False,
    )
    job = models.ForeignKey(
        "processes.Job", verbose_name=_("导入任务"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(MonthlyAmount.Meta):
        verbose_name = _("资金支付计划")
        verbose_name_plural = pgettext_lazy("plural", "资金支付计划")
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="one_plan_per_project_month"),
            models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12), name="plan_month_1_12"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="plan_amount_not_negative"),
        ]
