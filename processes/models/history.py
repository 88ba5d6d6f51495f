"""Past years brought in from a workbook (历史数据导入, DESIGN §4).

An imported year is history: its projects, self-evaluations, re-checks, commissioned
evaluations and suggestions are ordinary rows, marked with the import they came from, so
the annual report reads them through the same code as a year run in the system.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class HistoryImport(models.Model):
    """One imported workbook: which years it brought in and what it counted.

    ``sha256`` makes a re-import of the same file a no-op. The indicator library counts
    are those of the workbook's ``indicators`` sheet (the library as it stood in those
    years); they stay null when the workbook had no such sheet.
    """

    sha256 = models.CharField(_("文件摘要"), max_length=64, unique=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    years = models.JSONField(_("导入年度"), default=list)
    indicator_total = models.PositiveIntegerField(_("指标总数"), null=True, blank=True)
    indicator_general = models.PositiveIntegerField(_("通用类指标"), null=True, blank=True)
    indicator_department = models.PositiveIntegerField(_("部门个性化指标"), null=True, blank=True)
    #: Rows written per sheet, e.g. {"projects": 3755, ...}.
    counts = models.JSONField(_("导入行数"), default=dict, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("历史数据导入")
        verbose_name_plural = pgettext_lazy("plural", "历史数据导入")
        ordering = ["-imported_at"]
        permissions = [("import_history", _("导入历史年度数据"))]

    def __str__(self) -> str:
        years = "、".join(str(y) for y in self.years)
        return f"{self.file_name} ({years})"


def history_link(related_name: str = "+") -> models.ForeignKey:
    """The field marking a row brought in from a past year's workbook (imported history)."""
    return models.ForeignKey(
        HistoryImport,
        verbose_name=_("历史数据导入"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name=related_name,
    )


def imported_years() -> dict[int, HistoryImport]:
    """{year: its import} for every year brought in from a workbook."""
    return {year: imp for imp in HistoryImport.objects.order_by("imported_at") for year in imp.years}
