"""Forms of the rectification screens 整改 (DESIGN §3.6).

They clean input only and keep what was typed; processes.services.rectification decides
and its ValidationError comes back on the field it names: ``items.<id>.measure`` on
``measure_<id>``, ``findings``, ``deadline``, ``proposed_deadline``, ``comment``.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from processes.form_fields import IdFormField, fiscal_year_formfield
from processes.forms import DepartmentFilterMixin, ServiceErrorsMixin, ShanghaiDateTimeField
from processes.models import Finding, RectificationItem
from processes.rectification_selectors import DUE_OVERDUE, DUE_SOON, soon_days
from processes.states import ItemProgress, RectificationStatus


class RectificationFilterForm(DepartmentFilterMixin, forms.Form):
    """The list's filters (GET); the department filter is for those who see more than one."""

    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *RectificationStatus.choices]
    )
    department = forms.ModelChoiceField(
        label=_("预算部门"), required=False, queryset=Department.objects.none(), empty_label=_("全部部门")
    )
    due = forms.ChoiceField(
        label=_("期限"),
        required=False,
        choices=[("", _("全部")), (DUE_OVERDUE, _("已逾期")), (DUE_SOON, _("即将到期"))],
    )
    year = fiscal_year_formfield(label=_("年度"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # due soon: the settings' days, as the supervisors' board counts them
        due = cast(forms.ChoiceField, self.fields["due"])
        due.choices = [
            ("", _("全部")),
            (DUE_OVERDUE, _("已逾期")),
            (DUE_SOON, _("%(n)s 日内到期") % {"n": soon_days()}),
        ]

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        department = data.get("department")
        return {
            "status": data.get("status") or None,
            "department": department.pk if department else None,
            "due": data.get("due") or None,
            "year": data.get("year"),
        }


class IssueForm(ServiceErrorsMixin, forms.Form):
    """下达整改: which of the source's findings, the notice's title, the deadline (Beijing
    time) and, per finding, the requirement (prefilled with the finding's own)."""

    findings = forms.MultipleChoiceField(
        label=_("整改问题"), required=False, widget=forms.CheckboxSelectMultiple, choices=[]
    )
    title = forms.CharField(label=_("整改事项"), max_length=200, required=False)
    deadline = ShanghaiDateTimeField(label=_("整改期限"), help_text=_("北京时间。"))

    def __init__(self, *args, findings: list[Finding], **kwargs):
        super().__init__(*args, **kwargs)
        self.finding_list = findings
        field = cast(forms.MultipleChoiceField, self.fields["findings"])
        field.choices = [(str(f.pk), f.problem[:60]) for f in findings]
        self.service_fields = {}
        for f in findings:
            name = f"requirement_{f.pk}"
            self.fields[name] = forms.CharField(
                label=_("整改要求"),
                required=False,
                max_length=5000,
                initial=f.requirement,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self) -> list[tuple[Finding, bool, forms.BoundField]]:
        """Each finding with whether it is ticked and its requirement field."""
        if self.is_bound:
            ticked = set(self.data.getlist("findings")) if hasattr(self.data, "getlist") else set()
        else:
            ticked = {str(v) for v in (self.initial.get("findings") or [])}
        return [(f, str(f.pk) in ticked, self[f"requirement_{f.pk}"]) for f in self.finding_list]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        chosen = {int(pk) for pk in data.get("findings") or []}
        return {
            "findings": [f for f in self.finding_list if f.pk in chosen],
            "title": data.get("title") or "",
            "deadline": data["deadline"],
            "requirements": {f.pk: data.get(f"requirement_{f.pk}") or "" for f in self.finding_list if f.pk in chosen},
        }


class ReportForm(ServiceErrorsMixin, forms.Form):
    """整改报告: per item the measure, the person responsible, the completion date, the
    progress, and optionally an evidence file; plus the revision the editor started from."""

    revision = IdFormField(widget=forms.HiddenInput)

    FIELDS = ("measure", "responsible", "completed_on", "progress", "file")

    def __init__(self, *args, items: list[RectificationItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        self.service_fields = {}
        for item in items:
            p = item.pk
            self.fields[f"measure_{p}"] = forms.CharField(
                label=_("整改措施"),
                required=False,
                max_length=2000,
                initial=item.measure,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"responsible_{p}"] = forms.CharField(
                label=_("责任人"), required=False, max_length=64, initial=item.responsible
            )
            # text, so a wrong date comes back as typed with the service's message
            self.fields[f"completed_on_{p}"] = forms.CharField(
                label=_("完成时间"),
                required=False,
                max_length=20,
                initial=item.completed_on.isoformat() if item.completed_on else "",
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"progress_{p}"] = forms.ChoiceField(
                label=_("整改情况"),
                required=False,
                initial=item.progress,
                choices=[("", _("请选择")), *ItemProgress.choices],
            )
            self.fields[f"file_{p}"] = forms.FileField(
                label=_("上传佐证材料"),
                required=False,
                help_text=_("PDF、图片或 Office 文件，不超过 20 MB。"),
            )
            for name in ("measure", "responsible", "completed_on", "progress"):
                self.service_fields[f"items.{p}.{name}"] = f"{name}_{p}"

    def rows(self) -> list[tuple[RectificationItem, list[forms.BoundField]]]:
        return [(item, [self[f"{n}_{item.pk}"] for n in self.FIELDS]) for item in self.items]

    def entries(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "id": item.pk,
                "measure": data.get(f"measure_{item.pk}", ""),
                "responsible": data.get(f"responsible_{item.pk}", ""),
                "completed_on": data.get(f"completed_on_{item.pk}", ""),
                "progress": data.get(f"progress_{item.pk}", ""),
            }
            for item in self.items
        ]

    def uploads(self) -> list[tuple[RectificationItem, Any]]:
        return [
            (item, self.cleaned_data[f"file_{item.pk}"])
            for item in self.items
            if self.cleaned_data.get(f"file_{item.pk}")
        ]


class ReviewForm(ServiceErrorsMixin, forms.Form):
    """验收: verify (opinion optional) or reject (reason required)."""

    comment = forms.CharField(
        label=_("验收意见"),
        required=False,
        max_length=2000,
        help_text=_("退回时必填。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExtensionForm(ServiceErrorsMixin, forms.Form):
    """延期申请: the reason and the proposed deadline (Beijing time)."""

    reason = forms.CharField(
        label=_("延期理由"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    proposed_deadline = ShanghaiDateTimeField(label=_("申请延至"), help_text=_("北京时间。"))


class DecideForm(ServiceErrorsMixin, forms.Form):
    """延期审批: grant (the deadline moves to the new one, default the one asked for) or
    refuse (reason required)."""

    comment = forms.CharField(
        label=_("审批意见"),
        required=False,
        max_length=2000,
        help_text=_("不同意时必填。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    new_deadline = ShanghaiDateTimeField(
        label=_("新的整改期限"), required=False, help_text=_("不填则按申请的期限。北京时间。")
    )
