"""What the finance section approved for the public page (信息公开, DESIGN §3.7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReportDisclosure(models.Model):
    """A year's summary tables (附件1–3), approved for the public page by a finance officer.

    The third-party reports are disclosed one by one on their evaluations
    (``CommissionedEvaluation.publish``); this row discloses the year's tables.
    """

    fiscal_year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批准公开人"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("公开时间"), auto_now_add=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("年度汇总表公开")
        verbose_name_plural = pgettext_lazy("plural", "年度汇总表公开")
        ordering = ["-fiscal_year"]

    def __str__(self) -> str:
        return str(self.fiscal_year)
