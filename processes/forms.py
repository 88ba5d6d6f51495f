"""Screen forms. They clean input only; rules live in the services (which may still refuse)."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Department

from .models import ProjectCategory, Recurrence
from .services.projects import EDITABLE_FIELDS
from .states import ProjectStage


class ProjectForm(forms.Form):
    """The fields of project_create / project_update. The amount is entered in yuan."""

    fiscal_year = forms.IntegerField(label=_("预算年度"), min_value=2000, max_value=2100)
    code = forms.CharField(label=_("项目编码"), max_length=40)
    name = forms.CharField(label=_("项目名称"), max_length=200)
    category = forms.ChoiceField(label=_("项目类别"), choices=ProjectCategory.choices)
    recurrence = forms.ChoiceField(label=_("项目性质"), choices=Recurrence.choices)
    requested_amount = forms.DecimalField(
        label=_("送审金额（元）"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("以元为单位，保留两位小数。"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )
    overall_goal = forms.CharField(label=_("总体目标"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def service_kwargs(self) -> dict:
        return {f: self.cleaned_data[f] for f in EDITABLE_FIELDS}

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names (others at the top)."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class ProjectEditForm(ProjectForm):
    """ProjectForm plus the version the editor started from (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ActionForm(forms.Form):
    """The reason (理由/意见) given with a transition. Whether it is required is the
    service's rule (it answers a ValidationError on ``comment``); the form only cleans it."""

    comment = forms.CharField(
        label=_("理由"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_reason = needs_reason
        field = self.fields["comment"]
        if needs_reason:
            field.label = _("理由（必填）")
            field.widget.attrs["required"] = "required"
        else:
            field.label = _("意见（可选）")

    def add_service_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error("comment" if field == "comment" else None, messages)
        else:
            self.add_error(None, error.messages)


class ProjectFilterForm(forms.Form):
    """The project list's filters (GET). The department filter is for bureau-wide readers."""

    stage = forms.ChoiceField(label=_("阶段"), required=False, choices=[("", _("全部阶段")), *ProjectStage.choices])
    fiscal_year = forms.IntegerField(label=_("预算年度"), required=False, min_value=2000, max_value=2100)
    department = forms.ModelChoiceField(
        label=_("预算部门"), required=False, queryset=Department.objects.none(), empty_label=_("全部部门")
    )
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("项目编码或名称")}),
    )

    def __init__(self, *args, show_department: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if show_department:
            department = cast(forms.ModelChoiceField, self.fields["department"])
            department.queryset = Department.objects.only("pk", "code", "name")
        else:
            del self.fields["department"]

    def filters(self) -> dict:
        """The valid filters as keyword arguments of processes.selectors.project_filter."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        department = data.get("department")
        return {
            "stage": data.get("stage") or None,
            "fiscal_year": data.get("fiscal_year"),
            "department": department.pk if department else None,
            "q": (data.get("q") or "").strip() or None,
        }
