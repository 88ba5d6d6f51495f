"""The indicator library (绩效指标库, DESIGN §2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..states import QUANTITATIVE, Direction, IndicatorLevel1, IndicatorLevel2, IndicatorScope, IndicatorStatus


class Indicator(models.Model):
    """One indicator of the library: general (通用类) or owned by one department (部门个性化).

    Rows are identified by ``code`` (the import updates by code). A department's proposal
    is a row with status ``proposed`` until the finance section approves it into the
    library. Written only by processes.services.indicators.
    """

    code = models.CharField(_("指标编码"), max_length=40, unique=True)
    level1 = models.CharField(_("一级指标"), max_length=16, choices=IndicatorLevel1.choices)
    level2 = models.CharField(_("二级指标"), max_length=16, choices=IndicatorLevel2.choices)
    name = models.CharField(_("三级指标"), max_length=200)
    unit = models.CharField(_("计量单位"), max_length=32, blank=True)
    direction = models.CharField(_("指标性质"), max_length=16, choices=Direction.choices)
    scope = models.CharField(_("适用范围"), max_length=16, choices=IndicatorScope.choices)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="indicators",
    )
    description = models.TextField(_("指标解释"), blank=True)
    scoring_standard = models.TextField(_("评分标准"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    status = models.CharField(
        _("入库状态"), max_length=16, choices=IndicatorStatus.choices, default=IndicatorStatus.APPROVED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_comment = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("绩效指标")
        verbose_name_plural = pgettext_lazy("plural", "绩效指标库")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope=IndicatorScope.GENERAL, department__isnull=True)
                    | models.Q(scope=IndicatorScope.DEPARTMENT, department__isnull=False)
                ),
                name="indicator_scope_matches_department",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "scope", "department", "level1", "level2"], name="indicator_filter"),
        ]
        permissions = [
            ("propose_indicator", _("提出部门个性化指标")),
            ("approve_indicator", _("审核入库绩效指标")),
            ("import_indicators", _("导入导出绩效指标库")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def quantitative(self) -> bool:
        return self.direction in QUANTITATIVE
