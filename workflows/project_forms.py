"""The project screens' forms (list filter, drafting and editing, the results lookup, the
stage actions). They clean input only; rules live in processes.services.projects."""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from processes.form_fields import IdFormField, ModelDecimalFormField, fiscal_year_formfield
from processes.forms import WAN, DepartmentFilterMixin
from processes.models import BudgetProject, ProjectCategory, Recurrence
from processes.services.projects import EDITABLE_FIELDS
from processes.states import ProjectStage
from processes.widgets import FastNumberInput, FastSelect, FastTextInput


class ProjectForm(forms.Form):
    """The fields of project_create / project_update. The amount is entered in yuan."""

    fiscal_year = fiscal_year_formfield(label=_("预算年度"))
    code = forms.CharField(label=_("项目编码"), max_length=40)
    name = forms.CharField(label=_("项目名称"), max_length=200)
    category = forms.ChoiceField(label=_("项目类别"), choices=ProjectCategory.choices)
    recurrence = forms.ChoiceField(label=_("项目性质"), choices=Recurrence.choices)
    requested_amount = ModelDecimalFormField(
        BudgetProject,
        "requested_amount",
        label=_("送审金额（元）"),
        help_text=_("以元为单位，保留两位小数。"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal", **WAN}),
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

    version = IdFormField(widget=forms.HiddenInput)


class ResultsLookupForm(forms.Form):
    """The fields of a project being written that its earlier years are looked up by
    (processes.results): from the project form's POST, or the form's live GET. A field that
    is missing or invalid is left out of the lookup rather than failing it."""

    fiscal_year = fiscal_year_formfield(required=False)
    code = forms.CharField(required=False, max_length=40)
    name = forms.CharField(required=False, max_length=200)
    category = forms.ChoiceField(required=False, choices=ProjectCategory.choices)

    def lookup_kwargs(self) -> dict:
        """Keyword arguments of processes.results.results_application (without the department)."""
        self.is_valid()  # cleaned_data then holds the valid fields only
        data = self.cleaned_data
        return {
            "fiscal_year": data.get("fiscal_year"),
            "code": data.get("code") or "",
            "name": data.get("name") or "",
            "category": data.get("category") or "",
        }


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


class _DepartmentOptions(BaseChoiceIterator):
    """The choices of the 预算部门 filter, read when the <select> is drawn (not when the form
    is made): the empty choice, then (id, name) of each department in the field's order."""

    def __init__(self, empty_label, rows) -> None:
        self.empty_label = empty_label
        self.rows = rows

    def __iter__(self):
        if self.empty_label is not None:
            yield ("", self.empty_label)
        yield from self.rows

    def __len__(self) -> int:
        return len(self.rows) + (self.empty_label is not None)

    def __bool__(self) -> bool:
        return True


class ProjectFilterForm(DepartmentFilterMixin, forms.Form):
    """The project list's filters (GET). The department filter is for bureau-wide readers."""

    stage = forms.ChoiceField(
        label=_("阶段"), required=False, choices=[("", _("全部阶段")), *ProjectStage.choices], widget=FastSelect
    )
    fiscal_year = fiscal_year_formfield(label=_("预算年度"), required=False, widget=FastNumberInput)
    department = forms.ModelChoiceField(
        label=_("预算部门"),
        required=False,
        queryset=Department.objects.none(),
        empty_label=_("全部部门"),
        widget=FastSelect,
    )
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=FastTextInput(attrs={"placeholder": _("项目编码或名称")}),
    )

    show_department_default = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields.get("department")
        if department is not None:
            # the <select>'s options from (id, name) rows rather than 77 Department objects
            # (the field's queryset still validates a submitted choice): the same options —
            # a department's label is its name (Department.__str__), its value its id
            field = cast(forms.ModelChoiceField, department)
            if field.queryset is not None:
                names = field.queryset.values_list("pk", "name")
                field.widget.choices = _DepartmentOptions(field.empty_label, names)

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


# -- 事前绩效评估 (DESIGN §3.2) ------------------------------------------------------------
