"""Forms of the execution data's screens (workflows/execution_views.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from processes.form_fields import fiscal_year_formfield
from processes.forms import ServiceErrorsMixin
from processes.services.execution import PAYMENTS, PLANS


class ExecutionImportForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("数据类型"),
        choices=[(PAYMENTS, _("支付数据（国库支付）")), (PLANS, _("资金支付计划"))],
        initial=PAYMENTS,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("文件"),
        help_text=_(
            "数字财政系统导出的 Excel 工作簿（.xlsx）或 CSV（UTF-8 或 GBK 编码）。任何一行有错误时整个文件不导入。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


class PaymentPlanForm(ServiceErrorsMixin, forms.Form):
    """Twelve amounts (yuan), one per month; blank removes the month from the plan."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for month in range(1, 13):
            self.fields[f"month_{month}"] = forms.CharField(
                label=_("%(month)s 月") % {"month": month},
                required=False,
                max_length=40,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
            )

    def amounts(self) -> dict[int, str]:
        return {month: self.cleaned_data.get(f"month_{month}", "") for month in range(1, 13)}


class ExceptionsFilterForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"] = fiscal_year_formfield(label=_("年度"), required=False)
