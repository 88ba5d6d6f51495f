"""The form of 登记重大政策 (decision 0027). Amounts in yuan."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from processes.form_fields import ModelDecimalFormField, fiscal_year_formfield
from processes.forms import WAN, ServiceErrorsMixin
from processes.models import Policy, ProjectCategory


class PolicyForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("政策名称"), max_length=200)
    department = forms.ModelChoiceField(label=_("牵头部门"), queryset=Department.objects.none())
    co_departments = forms.ModelMultipleChoiceField(
        label=_("配合部门"), queryset=Department.objects.none(), required=False
    )
    start_year = fiscal_year_formfield(label=_("实施起始年度"))
    end_year = fiscal_year_formfield(label=_("实施终止年度"))
    funding = ModelDecimalFormField(
        Policy,
        "funding",
        label=_("政策期内资金总额（元）"),
        help_text=_("以元为单位，保留两位小数。"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal", **WAN}),
    )
    category = forms.ChoiceField(
        label=_("所属领域"), choices=ProjectCategory.choices, help_text=_("按领域抽取专业对口的评审专家。")
    )
    goals = forms.CharField(label=_("政策目标"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(active=True).order_by("code")
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = departments
        cast(forms.ModelMultipleChoiceField, self.fields["co_departments"]).queryset = departments

    def clean_co_departments(self):
        return list(self.cleaned_data["co_departments"])
