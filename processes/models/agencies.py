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


class Deliverable(models.TextChoices):
    PLAN = "plan", _("评价方案")
    DRAFT = "draft", _("报告初稿")
    FINAL = "final", _("最终报告")
    RECHECK = "recheck", _("复核报告")


class DeliverableScore(models.Model):
    """质量评分: the finance section's score (0–100) and comment on one deliverable of an
    agency — a commissioned evaluation's plan, draft or final report, or a re-check. One per
    deliverable (scoring again replaces it, audited). Departments never see them."""

    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("第三方机构"), on_delete=models.PROTECT, related_name="deliverable_scores"
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"), validators=[validate_fiscal_year])
    kind = models.CharField(_("成果类型"), max_length=8, choices=Deliverable.choices)
    evaluation = models.ForeignKey(
        "processes.CommissionedEvaluation",
        verbose_name=_("委托评价"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quality_scores",
    )
    recheck = models.OneToOneField(
        "processes.Recheck",
        verbose_name=_("复核"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quality_score",
    )
    score = models.DecimalField(_("质量得分"), max_digits=5, decimal_places=2)
    comment = models.TextField(_("评分意见"), blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评分人"), on_delete=models.PROTECT, related_name="+"
    )
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    scored_at = models.DateTimeField(_("评分时间"), auto_now=True)

    class Meta:
        verbose_name = _("成果质量评分")
        verbose_name_plural = pgettext_lazy("plural", "成果质量评分")
        ordering = ["-fiscal_year", "agency_id", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "kind"],
                condition=models.Q(evaluation__isnull=False),
                name="one_quality_score_per_evaluation_deliverable",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="recheck", recheck__isnull=False, evaluation__isnull=True)
                    | (models.Q(recheck__isnull=True, evaluation__isnull=False) & ~models.Q(kind="recheck"))
                ),
                name="quality_score_kind_matches_deliverable",
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=100), name="quality_score_between_0_and_100"
            ),
        ]
        indexes = [models.Index(fields=["fiscal_year", "agency"], name="quality_score_year_agency")]

    def __str__(self) -> str:
        return f"{self.agency} · {self.get_kind_display()} · {self.score}"
