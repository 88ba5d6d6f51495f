"""Forms of the monitoring screens (绩效运行监控, DESIGN §3.4), and the checks made before a
round's background job is started.

The forms clean input only and keep what was typed as typed: amounts and values stay text
until processes.services.monitoring reads them, so a refused amount comes back exactly as
it was entered, with the service's message on its field (``indicators.<row id>.<field>``
is placed on that row's field).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Department, User
from processes.form_fields import IdFormField, fiscal_year_formfield
from processes.forms import DepartmentFilterMixin, ServiceErrorsMixin, ShanghaiDateTimeField
from processes.models import BudgetProject, IndicatorProgress, Job, MonitoringReport, TargetRow
from processes.services.jobs import job_start
from processes.services.monitoring import can_open, imported_executed
from processes.states import Disposal, Light, Likelihood, ProjectStage, QualitativeProgress, ReportStatus

ROUND_JOB = "monitoring_round_open"
MONTHS = [(m, str(m)) for m in range(1, 13)]
BLANK = [("", "—")]
#: Project codes are separated by line breaks, commas (either width), semicolons or spaces.
CODE_SEPARATORS = re.compile(r"[\s,，;；、]+")


def amount_text(value: Decimal | None) -> str:
    """A stored amount as the form shows it: 1200000.00 → "1200000.00"; None → ""."""
    return "" if value is None else f"{value:f}"


def number_text(value: Decimal | None) -> str:
    """A stored value as a person writes it: 12.5000 → "12.5"."""
    return "" if value is None else f"{value.normalize():f}"


def _amount_input(label, *, disabled: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        disabled=disabled,
        max_length=40,
        # typed in 元, shown beside it in 万元 (static/js/wan_preview.js)
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "data-wan-preview": gettext_lazy("万元")}
        ),
    )


# -- opening a round ------------------------------------------------------------------------


class RoundOpenForm(ServiceErrorsMixin, forms.Form):
    """发起绩效运行监控: the year and period, the due date, a title, and the projects — every
    executing project of the year, or those whose codes are listed."""

    ALL, CHOSEN = "all", "chosen"

    fiscal_year = fiscal_year_formfield(label=gettext_lazy("预算年度"))
    start_month = forms.TypedChoiceField(label=gettext_lazy("起始月份"), choices=MONTHS, coerce=int, initial=1)
    end_month = forms.TypedChoiceField(label=gettext_lazy("截止月份"), choices=MONTHS, coerce=int)
    due_at = ShanghaiDateTimeField(label=gettext_lazy("填报截止时间"), help_text=gettext_lazy("北京时间。"))
    title = forms.CharField(
        label=gettext_lazy("名称"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("不填则为「某年某月—某月绩效运行监控」。"),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("监控范围"),
        choices=[(ALL, gettext_lazy("该年度全部执行中的项目")), (CHOSEN, gettext_lazy("指定项目"))],
        initial=ALL,
        widget=forms.RadioSelect,
    )
    project_codes = forms.CharField(
        label=gettext_lazy("项目编码"),
        required=False,
        max_length=200000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("选择「指定项目」时填写：每行一个项目编码，也可用逗号或空格分隔。"),
    )

    service_fields = {"projects": "project_codes", "project_ids": "project_codes"}

    def codes(self) -> list[str]:
        """The project codes listed, in order, each once."""
        raw = self.cleaned_data.get("project_codes") or ""
        return list(dict.fromkeys(c for c in CODE_SEPARATORS.split(raw) if c))

    def project_ids(self) -> list[int] | None:
        """The chosen projects' ids (None: every executing project of the year). Unknown
        codes, or codes of projects that are not executing in that year, are errors on
        ``project_codes``: the form is then invalid."""
        if self.cleaned_data["scope"] != self.CHOSEN:
            return None
        codes = self.codes()
        if not codes:
            self.add_error("project_codes", _("请填写要监控的项目编码。"))
            return []
        found = dict(
            BudgetProject.objects.filter(
                fiscal_year=self.cleaned_data["fiscal_year"], stage=ProjectStage.EXECUTING, code__in=codes
            ).values_list("code", "pk")
        )
        unknown = [c for c in codes if c not in found]
        if unknown:
            shown = "、".join(unknown[:20]) + ("……" if len(unknown) > 20 else "")
            self.add_error(
                "project_codes",
                _("以下 %(n)s 个编码不是 %(year)s 年度执行中的项目：%(codes)s")
                % {"n": len(unknown), "year": self.cleaned_data["fiscal_year"], "codes": shown},
            )
        return [found[c] for c in codes if c in found]

    def job_params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "fiscal_year": data["fiscal_year"],
            "start_month": data["start_month"],
            "end_month": data["end_month"],
            "due_at": data["due_at"],
            "title": data["title"].strip(),
        }


def round_job_start(
    *,
    actor: User,
    fiscal_year: int,
    end_month: int,
    due_at: datetime,
    start_month: int = 1,
    title: str = "",
    project_ids: list[int] | None = None,
) -> Job:
    """Check what opening the round would refuse — the actor's right, the months, the due
    date, the projects — so the answer comes at once, then queue the
    ``monitoring_round_open`` job (its page shows the progress, then the round). Raises
    PermissionDenied or ValidationError (keyed as round_open's)."""
    if not can_open(actor):
        raise PermissionDenied(_("只有财政绩效科可以发起绩效运行监控。"))
    errors: dict[str, str] = {}
    for name, month in (("start_month", start_month), ("end_month", end_month)):
        if not 1 <= int(month) <= 12:
            errors[name] = _("月份必须是 1 至 12 的整数。")
    if not errors and start_month > end_month:
        errors["end_month"] = _("截止月份不能早于起始月份。")
    if due_at <= timezone.now():
        errors["due_at"] = _("填报截止时间必须晚于现在。")
    executing = BudgetProject.objects.filter(fiscal_year=fiscal_year, stage=ProjectStage.EXECUTING)
    if project_ids is not None:
        wanted = set(project_ids)
        if not wanted:
            errors["projects"] = _("请至少选择一个项目。")
        else:
            missing = len(wanted) - executing.filter(pk__in=wanted).count()
            if missing:
                errors["projects"] = _("所选项目中有 %(n)s 个不是 %(year)s 年度执行中的项目。") % {
                    "n": missing,
                    "year": fiscal_year,
                }
    elif not executing.exists():
        errors["fiscal_year"] = _("%(year)s 年度没有执行中的项目。") % {"year": fiscal_year}
    if errors:
        raise ValidationError(errors)
    return job_start(
        kind=ROUND_JOB,
        actor=actor,
        params={
            "fiscal_year": fiscal_year,
            "start_month": start_month,
            "end_month": end_month,
            "due_at": due_at.isoformat(),
            "title": title,
            "project_ids": sorted(set(project_ids)) if project_ids is not None else None,
        },
    )


# -- the report -------------------------------------------------------------------------------


class ReportForm(ServiceErrorsMixin, forms.Form):
    """填报监控报告: amounts in yuan, causes and measures, the adjustment request, and per
    target row its value to date (≥ ≤ = rows) or progress (qualitative rows) and the
    likelihood of completion. Each row's fields are ``row_<id>_<field>``; the rows the
    form carries are posted as ``row`` (one hidden input per row) so that the service
    judges exactly what was sent."""

    revision = IdFormField(widget=forms.HiddenInput)
    # The budgets are the project's, shown and never posted (a disabled field takes its
    # initial value whatever is sent): the spending light is read against them.
    budget = _amount_input(gettext_lazy("年初预算数（元）"), disabled=True)
    adjusted_budget = _amount_input(gettext_lazy("调整后预算（元）"), disabled=True)
    executed = _amount_input(gettext_lazy("截至期末执行数（元）"))
    expected_full_year = _amount_input(gettext_lazy("预计全年执行数（元）"))
    deviation_causes = forms.CharField(
        label=gettext_lazy("偏差原因"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("出现红灯或黄灯时必填。"),
    )
    measures = forms.CharField(
        label=gettext_lazy("纠偏措施"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("出现红灯或黄灯时必填。"),
    )
    executed_reason = forms.CharField(
        label=gettext_lazy("执行数差异说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("执行数取自国库支付数据；填报的执行数与之不同时必须说明原因。"),
    )
    adjustment_requested = forms.BooleanField(label=gettext_lazy("申请调整预算"), required=False)
    proposed_amount = _amount_input(gettext_lazy("申请调整后金额（元）"))

    AMOUNTS = ("budget", "adjusted_budget", "executed", "expected_full_year")
    TYPED = ("executed", "expected_full_year")

    def __init__(self, *args, rows: list[TargetRow], extra_ids: list[int] | tuple[int, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.extra_ids = [i for i in extra_ids if i not in {r.pk for r in rows}]
        self.service_fields = {}
        for row in rows:
            if row.quantitative:
                self._row_field(row.pk, "value", _amount_input(gettext_lazy("截至期末完成值")))
            else:
                self._row_field(
                    row.pk,
                    "progress",
                    forms.ChoiceField(
                        label=gettext_lazy("完成情况"), required=False, choices=[*BLANK, *QualitativeProgress.choices]
                    ),
                )
            self._row_field(
                row.pk,
                "likelihood",
                forms.ChoiceField(
                    label=gettext_lazy("完成目标可能性"), required=False, choices=[*BLANK, *Likelihood.choices]
                ),
            )
        for row_id in self.extra_ids:  # a row the page did not offer: the service says why not
            for name in ("value", "progress", "likelihood"):
                self._row_field(row_id, name, forms.CharField(required=False, max_length=40))

    def _row_field(self, row_id: int, name: str, field: forms.Field) -> None:
        key = f"row_{row_id}_{name}"
        field.widget.attrs.update({"aria-label": str(field.label or name), "data-field": name})
        self.fields[key] = field
        self.service_fields[f"indicators.{row_id}.{name}"] = key

    @staticmethod
    def posted_row_ids(data) -> list[int]:
        """The row ids a posted form carried (``row``), in order; what is not a number is dropped."""
        ids = []
        for raw in data.getlist("row"):
            try:
                ids.append(int(raw))
            except (TypeError, ValueError):
                continue
        return list(dict.fromkeys(ids))

    def amount_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.AMOUNTS]

    def row_fields(self) -> list[dict[str, Any]]:
        """Per offered row: the row and its bound fields (value or progress, likelihood)."""
        out = []
        for row in self.rows:
            first = "value" if row.quantitative else "progress"
            out.append(
                {"row": row, "progress": self[f"row_{row.pk}_{first}"], "likelihood": self[f"row_{row.pk}_likelihood"]}
            )
        return out

    def service_kwargs(self) -> dict[str, Any]:
        """report_save's keyword arguments: amounts as typed (the service reads them)."""
        data = self.cleaned_data
        indicators = []
        for row in self.rows:
            item: dict[str, Any] = {"target_row": row.pk, "likelihood": data.get(f"row_{row.pk}_likelihood", "")}
            if row.quantitative:
                item["value"] = data.get(f"row_{row.pk}_value", "")
            else:
                item["progress"] = data.get(f"row_{row.pk}_progress", "")
            indicators.append(item)
        for row_id in self.extra_ids:
            indicators.append(
                {
                    "target_row": row_id,
                    **{n: data.get(f"row_{row_id}_{n}", "") for n in ("value", "progress", "likelihood")},
                }
            )
        return {
            **{name: data[name] for name in self.TYPED},
            "deviation_causes": data["deviation_causes"],
            "measures": data["measures"],
            "executed_reason": data["executed_reason"],
            "adjustment_requested": data["adjustment_requested"],
            "proposed_amount": data["proposed_amount"],
            "indicators": indicators,
            "revision": data["revision"],
        }

    @classmethod
    def initial_from(cls, report: MonitoringReport, progress: dict[int, IndicatorProgress]) -> dict[str, Any]:
        """The saved report; a report not filled yet starts from the project's amounts."""
        project = report.project
        budget, adjusted = project.approved_amount, project.adjusted_amount
        executed = report.executed
        if executed is None:  # the imported payments' cumulative paid first (the prefill rule)
            executed = imported_executed(report)
        if executed is None and project.executed_amount:
            executed = project.executed_amount
        initial: dict[str, Any] = {
            "revision": report.revision,
            "budget": amount_text(budget),
            "adjusted_budget": amount_text(adjusted),
            "executed": amount_text(executed),
            "expected_full_year": amount_text(report.expected_full_year),
            "deviation_causes": report.deviation_causes,
            "measures": report.measures,
            "executed_reason": report.executed_reason,
            "adjustment_requested": report.adjustment_requested,
            "proposed_amount": amount_text(report.proposed_amount),
        }
        for row_id, item in progress.items():
            initial[f"row_{row_id}_value"] = number_text(item.value)
            initial[f"row_{row_id}_progress"] = item.progress
            initial[f"row_{row_id}_likelihood"] = item.likelihood
        return initial


class DeptReviewForm(ServiceErrorsMixin, forms.Form):
    """部门审核: pass the report to the finance section, or return it (reason required)."""

    comment = forms.CharField(
        label=gettext_lazy("审核意见（退回时必填）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReviewForm(ServiceErrorsMixin, forms.Form):
    """财政审核: clear, warn (to be disposed) or return, with a comment (required unless cleared)."""

    comment = forms.CharField(
        label=gettext_lazy("审核意见（预警或退回时必填）"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DisposeForm(ServiceErrorsMixin, forms.Form):
    """处置预警项目: adjust the budget to a new amount, suspend, stop payments, or no action."""

    disposal = forms.ChoiceField(
        label=gettext_lazy("处置方式"), choices=Disposal.choices, widget=forms.RadioSelect, required=False
    )
    new_amount = _amount_input(gettext_lazy("调整后预算（元）"))
    reason = forms.CharField(
        label=gettext_lazy("处置理由"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_amount"].help_text = gettext_lazy("仅在「调整预算」时填写。")


# -- filters ------------------------------------------------------------------------------------


class ReportFilterForm(DepartmentFilterMixin, forms.Form):
    """The round's report filters (GET): department (bureau-wide readers), light, status."""

    department = forms.ModelChoiceField(
        label=gettext_lazy("预算部门"),
        required=False,
        queryset=Department.objects.none(),
        empty_label=gettext_lazy("全部部门"),
    )
    light = forms.ChoiceField(
        label=gettext_lazy("预警灯"), required=False, choices=[("", gettext_lazy("全部")), *Light.choices]
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部（不含已取消）")), *ReportStatus.choices],
    )

    def filters(self) -> dict[str, Any]:
        """The valid filters as processes.selectors.monitoring_filter takes them."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        department = data.get("department")
        return {
            "department": department.pk if department else None,
            "light": data.get("light") or None,
            "status": data.get("status") or None,
        }


class RoundsChartForm(DepartmentFilterMixin, forms.Form):
    """The rounds list's chart filters (GET): the fiscal year whose rounds are compared (one
    the user has rounds in; the newest by default) and, for the bureau-wide readers, one
    department."""

    year = forms.TypedChoiceField(label=gettext_lazy("年度"), required=False, coerce=int, empty_value=None)
    department = forms.ModelChoiceField(
        label=gettext_lazy("预算部门"),
        required=False,
        queryset=Department.objects.none(),
        empty_label=gettext_lazy("全部部门"),
    )

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.years = years
        cast(forms.TypedChoiceField, self.fields["year"]).choices = [(y, str(y)) for y in years]

    def chosen(self) -> tuple[int | None, Department | None]:
        """(year, department) to chart: the newest year and every department unless valid
        values were asked for."""
        year = self.years[0] if self.years else None
        if not self.is_bound or not self.is_valid():
            return year, None
        return self.cleaned_data.get("year") or year, self.cleaned_data.get("department")
