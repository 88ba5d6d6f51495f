"""重大政策 (major policy) submitted to pre-assessment (issue 19 item 3, decision 0027).

A policy has no states of its own: it is carried through the one pre-assessment by a
budget project of its lead department (its *carrier*), so the review, its panel draw,
its visibility, its lock order and its flow are the project's, unchanged. The carrier
is created with the policy and moved only by declared transitions
(BudgetProject.register_policy / adopt_policy / reject).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..fiscal_years import validate_fiscal_year
from .fields import BoundedDecimalField
from .project import MONEY, BudgetProject

#: The longest period a policy may cover, in years.
MAX_POLICY_YEARS = 10


class Policy(models.Model):
    """重大政策: name, lead and co-departments, period, funding over the period, goals."""

    name = models.CharField(_("政策名称"), max_length=200)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("牵头部门"), on_delete=models.PROTECT, related_name="policies"
    )
    co_departments = models.ManyToManyField(
        "accounts.Department", verbose_name=_("配合部门"), blank=True, related_name="co_policies"
    )
    start_year = models.PositiveSmallIntegerField(_("实施起始年度"), validators=[validate_fiscal_year])
    end_year = models.PositiveSmallIntegerField(_("实施终止年度"), validators=[validate_fiscal_year])
    funding = BoundedDecimalField(_("政策期内资金总额"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    goals = models.TextField(_("政策目标"))
    project = models.OneToOneField(
        BudgetProject, verbose_name=_("评估载体项目"), on_delete=models.PROTECT, related_name="policy"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("重大政策")
        verbose_name_plural = pgettext_lazy("plural", "重大政策")
        ordering = ["-start_year", "department_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_year__gte=models.F("start_year")), name="policy_period_order"
            ),
            models.CheckConstraint(condition=models.Q(funding__gt=0), name="policy_funding_positive"),
        ]
        permissions = [("register_policy", _("登记重大政策"))]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("workflows:policy_detail", args=[self.pk])

    @property
    def period(self) -> str:
        return f"{self.start_year}–{self.end_year}"

    def clean(self) -> None:
        if self.start_year and self.end_year:
            if self.end_year < self.start_year:
                raise ValidationError({"end_year": _("终止年度不能早于起始年度。")})
            if self.end_year - self.start_year + 1 > MAX_POLICY_YEARS:
                raise ValidationError({"end_year": _("政策期最长 %(n)s 年。") % {"n": MAX_POLICY_YEARS}})
