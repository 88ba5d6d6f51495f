"""Forms of the indicator library screens. They clean input only; the rules live in
processes.services.indicators (which may still refuse, shown on the fields it names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department

from .forms import DepartmentFilterMixin, ServiceErrorsMixin
from .states import LEVEL2_PARENT, Direction, IndicatorLevel1, IndicatorLevel2, IndicatorScope

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ACTIVE_CHOICES = [("", _("全部")), ("1", _("启用")), ("0", _("停用"))]


def level2_choices(blank: StrOrPromise | None = None) -> list[Any]:
    """Level 2 grouped under its level 1 (an <optgroup> each)."""
    groups: list[Any] = [("", blank)] if blank is not None else []
    for level1, label1 in IndicatorLevel1.choices:
        groups.append(
            (label1, [(value, label) for value, label in IndicatorLevel2.choices if LEVEL2_PARENT[value] == level1])
        )
    return groups


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.name}"


def _departments():
    return Department.objects.only("pk", "code", "name").order_by("code")


class IndicatorFilterForm(DepartmentFilterMixin, forms.Form):
    """The library list's filters (GET), also applied by the export."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("编码、名称或解释")}),
    )
    level1 = forms.ChoiceField(label=_("一级指标"), required=False, choices=[("", _("全部")), *IndicatorLevel1.choices])
    level2 = forms.ChoiceField(label=_("二级指标"), required=False, choices=level2_choices(blank=_("全部")))
    scope = forms.ChoiceField(label=_("适用范围"), required=False, choices=[("", _("全部")), *IndicatorScope.choices])
    department = DepartmentChoiceField(
        label=_("所属部门"), required=False, queryset=Department.objects.none(), empty_label=_("全部部门")
    )
    direction = forms.ChoiceField(label=_("指标性质"), required=False, choices=[("", _("全部")), *Direction.choices])
    active = forms.ChoiceField(label=_("状态"), required=False, choices=ACTIVE_CHOICES)

    show_department_default = False

    def department_choices(self):
        return _departments()

    def filters(self) -> dict[str, Any]:
        """The valid filters, as processes.selectors.indicator_filter takes them."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        department = data.get("department")
        return {
            "q": (data.get("q") or "").strip(),
            "level1": data.get("level1") or "",
            "level2": data.get("level2") or "",
            "scope": data.get("scope") or "",
            "department": department.pk if department else None,
            "direction": data.get("direction") or "",
            "active": {"1": True, "0": False}.get(data.get("active") or ""),
        }


class IndicatorProposalForm(ServiceErrorsMixin, forms.Form):
    """提出部门个性化指标 (dept_staff): the indicator as the department sees it."""

    level1 = forms.ChoiceField(label=_("一级指标"), choices=[("", "—"), *IndicatorLevel1.choices])
    level2 = forms.ChoiceField(label=_("二级指标"), choices=level2_choices(blank="—"))
    name = forms.CharField(label=_("三级指标名称"), max_length=200)
    direction = forms.ChoiceField(label=_("指标性质"), choices=[("", "—"), *Direction.choices])
    unit = forms.CharField(
        label=_("计量单位"), required=False, max_length=32, help_text=_("定量指标（≥、≤、=）必须填写。")
    )
    description = forms.CharField(
        label=_("指标解释"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    scoring_standard = forms.CharField(
        label=_("评分标准"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}


class IndicatorEditForm(IndicatorProposalForm):
    """修改指标库中的指标 (finance section): every field of the row, code and scope included."""

    code = forms.CharField(label=_("指标编码"), max_length=40)
    scope = forms.ChoiceField(label=_("适用范围"), choices=IndicatorScope.choices)
    department = DepartmentChoiceField(
        label=_("所属部门"),
        required=False,
        queryset=Department.objects.none(),
        empty_label="—",
        help_text=_("部门个性化指标必须选择；通用类指标留空。"),
    )

    field_order = [
        "code",
        "level1",
        "level2",
        "name",
        "direction",
        "unit",
        "scope",
        "department",
        "description",
        "scoring_standard",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = _departments()


class IndicatorDecisionForm(ServiceErrorsMixin, forms.Form):
    """审核部门提出的指标: approve (optionally with a library code) or decline (reason)."""

    decision = forms.ChoiceField(
        choices=[("approve", _("审核入库")), ("decline", _("不予入库"))], widget=forms.HiddenInput
    )
    code = forms.CharField(label=_("入库编码"), required=False, max_length=40, help_text=_("留空则沿用提议时的编码。"))
    comment = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不予入库时必填。"),
    )


class IndicatorImportForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(
        label=_("指标库文件"),
        help_text=_("Excel 工作簿（.xlsx），格式见导入模板。任何一行有错误时整个文件不导入。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
