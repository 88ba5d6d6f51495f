"""The pre-assessment screens' forms: commissioning, the panel, the conclusion, the return
and an expert's or deputy's opinion. They clean input only; rules live in
processes.services.pre_assessment."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency
from processes.form_fields import ModelDecimalFormField
from processes.forms import WAN, ServiceErrorsMixin, ShanghaiDateTimeField
from processes.models import Opinion, PanelMember, PreAssessment, ReductionItem
from processes.states import Conclusion

#: How many reduction-item rows the opinion form offers.
REDUCTION_ROWS = 3


class PreAssessmentBeginForm(ServiceErrorsMixin, forms.Form):
    """发起事前绩效评估: the commissioned agency and the opinions' due date (Beijing time)."""

    agency = forms.ModelChoiceField(label=_("第三方机构"), queryset=Agency.objects.none(), empty_label=None)
    due_at = ShanghaiDateTimeField(label=_("意见截止时间"), help_text=_("北京时间。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agency = cast(forms.ModelChoiceField, self.fields["agency"])
        agency.queryset = Agency.objects.filter(status=Agency.Status.ACTIVE).order_by("name")


class PanelMemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.seat}. {obj.user} ({obj.get_kind_display()})"


class PanelReplaceForm(ServiceErrorsMixin, forms.Form):
    """替换评审组成员: which seated member, and why."""

    member = PanelMemberChoiceField(label=_("被替换成员"), queryset=PanelMember.objects.none(), empty_label=None)
    reason = forms.CharField(label=_("替换理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        member = cast(forms.ModelChoiceField, self.fields["member"])
        member.queryset = members if members is not None else PanelMember.objects.none()


class ConclusionForm(ServiceErrorsMixin, forms.Form):
    """提出评估结论: conclusion, approved amount (yuan), reasons and the report file."""

    conclusion = forms.ChoiceField(label=_("评估结论"), choices=[("", "—"), *Conclusion.choices])
    approved_amount = ModelDecimalFormField(
        PreAssessment,
        "approved_amount",
        min_value=0,
        label=_("审定金额（元）"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal", **WAN}),
    )
    reasons = forms.CharField(label=_("结论理由"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    report = forms.FileField(label=_("评估报告"), required=False)


class ReturnForm(ServiceErrorsMixin, forms.Form):
    """退回评估结论 to the agency, with a reason."""

    reason = forms.CharField(label=_("退回理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class OpinionForm(ServiceErrorsMixin, forms.Form):
    """专家评审意见: a score per dimension (settings), recommendation, amount, reduction items,
    text and a conflict declaration. Drafts may be incomplete; the service checks a submission."""

    recommendation = forms.ChoiceField(label=_("评审建议"), required=False, choices=[("", "—"), *Conclusion.choices])
    recommended_amount = ModelDecimalFormField(
        Opinion,
        "recommended_amount",
        min_value=0,
        label=_("建议审定金额（元）"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal", **WAN}),
    )
    text = forms.CharField(
        label=_("评审意见"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 5})
    )
    conflict_declared = forms.BooleanField(label=_("本人与该项目存在利益冲突"), required=False)
    conflict_note = forms.CharField(
        label=_("利益冲突说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, dimensions: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.dimensions = dimensions
        self.service_fields = {}
        for dim in dimensions:
            name = f"score_{dim['code']}"
            self.fields[name] = forms.DecimalField(
                label=_(dim["label"]),
                required=False,
                min_value=Decimal("0"),
                max_value=Decimal(dim["points"]),
                max_digits=5,
                decimal_places=1,
                help_text=_("0 至 %(points)s 分") % {"points": dim["points"]},
                widget=forms.NumberInput(
                    attrs={"step": "0.5", "min": "0", "max": dim["points"], "data-score": dim["points"]}
                ),
            )
            self.service_fields[f"scores.{dim['code']}"] = name
        for i in range(1, REDUCTION_ROWS + 1):
            self.fields[f"item_{i}"] = forms.CharField(label=_("核减事项"), required=False, max_length=200)
            for part, label in (("requested", _("送审金额（元）")), ("approved", _("审定金额（元）"))):
                self.fields[f"{part}_{i}"] = ModelDecimalFormField(
                    ReductionItem,
                    part,
                    min_value=0,
                    label=label,
                    required=False,
                    widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal", **WAN}),
                )
            self.fields[f"reason_{i}"] = forms.CharField(label=_("核减理由"), required=False, max_length=2000)
            for part in ("item", "requested", "approved", "reason"):  # the table's header shows the column
                field = self.fields[f"{part}_{i}"]
                field.widget.attrs["aria-label"] = _("第%(n)s行：%(label)s") % {"n": i, "label": field.label}

    def score_fields(self) -> list[forms.BoundField]:
        return [self[f"score_{d['code']}"] for d in self.dimensions]

    def opinion_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("recommendation", "recommended_amount", "text")]

    def reduction_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"{part}_{i}"] for part in ("item", "requested", "approved", "reason")]
            for i in range(1, REDUCTION_ROWS + 1)
        ]

    def score_points(self) -> int:
        """The most the scores add up to (the sum of the dimensions' points)."""
        return sum(int(d["points"]) for d in self.dimensions)

    def score_total(self) -> Decimal:
        """The scores as typed (or saved) added up; what static/js/score_total.js keeps current."""
        total = Decimal("0")
        for field in self.score_fields():
            try:
                total += Decimal(str(field.value() or "0"))
            except ArithmeticError:
                continue
        return total

    def service_kwargs(self) -> dict:
        """The keyword arguments of opinion_save, from the cleaned data; empty rows are left out."""
        data = self.cleaned_data
        rows = []
        self.service_fields = {k: v for k, v in self.service_fields.items() if k.startswith("scores.")}
        for i in range(1, REDUCTION_ROWS + 1):
            row = {part: data.get(f"{part}_{i}") for part in ("item", "requested", "approved", "reason")}
            if not any(v not in (None, "") for v in row.values()):
                continue
            rows.append(row)
            for part in ("item", "requested", "approved"):
                self.service_fields[f"reduction_items.{len(rows)}.{part}"] = f"{part}_{i}"
        return {
            "scores": {
                d["code"]: data[f"score_{d['code']}"]
                for d in self.dimensions
                if data.get(f"score_{d['code']}") is not None
            },
            "recommendation": data["recommendation"],
            "recommended_amount": data["recommended_amount"],
            "text": data["text"],
            "conflict_declared": data["conflict_declared"],
            "conflict_note": data["conflict_note"],
            "reduction_items": rows,
        }

    @classmethod
    def initial_from(cls, opinion) -> dict:
        initial = {
            "recommendation": opinion.recommendation,
            "recommended_amount": opinion.recommended_amount,
            "text": opinion.text,
            **{f"score_{code}": value for code, value in opinion.scores.items()},
        }
        for i, item in enumerate(opinion.reduction_items.all()[:REDUCTION_ROWS], start=1):
            initial.update({f"item_{i}": item.item, f"requested_{i}": item.requested, f"approved_{i}": item.approved})
            initial[f"reason_{i}"] = item.reason
        return initial
