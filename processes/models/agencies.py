"""Third-party agencies managed (issue 19 §4): the year's framework commission (整体委托)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..fiscal_years import validate_fiscal_year


class FrameworkCommission(models.Model):
    """整体委托: the one agency contracted for a year's re-checks and key evaluations. Each
    new commission and re-check sample of the year is pre-filled with it (and may name
    another). No lifecycle: it is set and changed by the finance section, audited each time
    (processes.services.agencies.framework_set)."""

    fiscal_year = models.PositiveSmallIntegerField(_("年度"), unique=True, validators=[validate_fiscal_year])
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("第三方机构"), on_delete=models.PROTECT, related_name="framework_commissions"
    )
    contract_no = models.CharField(_("合同编号"), max_length=64, blank=True)
    scope = models.TextField(_("委托范围"), blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("整体委托")
        verbose_name_plural = pgettext_lazy("plural", "整体委托")
        ordering = ["-fiscal_year"]

    def __str__(self) -> str:
        return f"{self.fiscal_year} · {self.agency}"
