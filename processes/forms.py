"""Form conventions every screen shares: times in the bureau's zone, the department filter,
service errors onto the form. The forms of each lifecycle's screens live in workflows/
(decision 0022); they clean input only, rules live in the services."""

from __future__ import annotations

from typing import cast
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department

#: Times are entered in the bureau's zone (the screens show them so too).
SHANGHAI = ZoneInfo("Asia/Shanghai")


#: An amount input typed in 元 shows its value in 万元 beside it (static/js/wan_preview.js).
WAN = {"data-wan-preview": _("万元")}


class DepartmentFilterMixin:
    """A filter form's 预算部门 choice: shown (with its choices loaded then, not at import)
    only to those who see more than one department; removed otherwise."""

    show_department_default = True

    def __init__(self, *args, show_department: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        show = self.show_department_default if show_department is None else show_department
        fields = self.fields  # type: ignore[attr-defined]
        if show:
            cast(forms.ModelChoiceField, fields["department"]).queryset = self.department_choices()
        else:
            del fields["department"]

    def department_choices(self):
        return Department.objects.only("pk", "code", "name").order_by("code")


class ShanghaiDateTimeField(forms.DateTimeField):
    """A date and time entered in Beijing time, whatever the server's zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value):
        with timezone.override(SHANGHAI):
            return super().to_python(value)


class ServiceErrorsMixin:
    """Show a service's ValidationError on the fields it names (others at the top)."""

    #: service field name → form field name, where they differ
    service_fields: dict[str, str] = {}

    def add_service_errors(self, error: ValidationError) -> None:
        form = cast(forms.Form, self)
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                name = self.service_fields.get(field, field)
                form.add_error(name if name in form.fields else None, messages)
        else:
            form.add_error(None, error.messages)
