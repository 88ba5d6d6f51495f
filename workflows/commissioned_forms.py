"""Forms of the key and department-overall evaluation screens (重点评价, 部门整体绩效评价).

They clean input only and keep what was typed: weights, scores and amounts stay text until
processes.services.commissioned reads them, so a refused value comes back as entered with
the service's message on its field (``framework.decision`` on ``weight_decision``,
``scores.output`` on ``score_output``, ``suggestions.<n>`` on ``suggestions``).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency, Department
from processes.form_fields import fiscal_year_formfield
from processes.forms import DepartmentFilterMixin, ServiceErrorsMixin, ShanghaiDateTimeField
from processes.models import BudgetProject, CommissionedEvaluation, Deliverable, finding_categories
from processes.services.commissioned import DIMENSIONS, KEY_STAGES
from processes.states import EvaluationKind, EvaluationStatus, FrameworkDimension, SuggestionAspect


def _number_input(label, help_text="", *, yuan: bool = False) -> forms.CharField:
    attrs: dict[str, Any] = {"inputmode": "decimal", "autocomplete": "off"}
    if yuan:  # typed in 元, shown beside it in 万元 (static/js/wan_preview.js)
        attrs["data-wan-preview"] = _("万元")
    return forms.CharField(
        label=label,
        required=False,
        max_length=40,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.name}（{obj.department.name}）"


class CommissionFilterForm(DepartmentFilterMixin, forms.Form):
    """The list's filters (GET); the department filter is for those who see more than one."""

    fiscal_year = fiscal_year_formfield(label=_("年度"), required=False)
    kind = forms.ChoiceField(
        label=_("评价类型"), required=False, choices=[("", _("全部类型")), *EvaluationKind.choices]
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *EvaluationStatus.choices]
    )
    department = forms.ModelChoiceField(
        label=_("预算部门"), required=False, queryset=Department.objects.none(), empty_label=_("全部部门")
    )

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        department = data.get("department")
        return {
            "fiscal_year": data.get("fiscal_year"),
            "kind": data.get("kind") or None,
            "status": data.get("status") or None,
            "department": department.pk if department else None,
        }


class CommissionForm(ServiceErrorsMixin, forms.Form):
    """委托评价: a key evaluation of a project, or a department's overall evaluation of a year."""

    kind = forms.ChoiceField(label=_("评价类型"), choices=EvaluationKind.choices, initial=EvaluationKind.KEY)
    project = ProjectChoiceField(
        label=_("预算项目"),
        required=False,
        queryset=BudgetProject.objects.none(),
        help_text=_("重点评价：执行中、评价中或已评价且尚未委托重点评价的项目。"),
    )
    department = forms.ModelChoiceField(
        label=_("预算部门"),
        required=False,
        queryset=Department.objects.none(),
        help_text=_("部门整体绩效评价：被评价的部门。"),
    )
    fiscal_year = fiscal_year_formfield(label=_("评价年度"), required=False, help_text=_("部门整体绩效评价：年度。"))
    agency = forms.ModelChoiceField(
        label=_("第三方机构"),
        required=False,
        queryset=Agency.objects.none(),
        empty_label=_("按该年度整体委托"),
        help_text=_("已预填该年度整体委托的机构，可改选；留空则按评价年度的整体委托。"),
    )
    due_at = ShanghaiDateTimeField(label=_("完成期限"), help_text=_("北京时间。"))
    title = forms.CharField(
        label=_("评价名称"), required=False, max_length=200, help_text=_("不填则按项目或部门自动命名。")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        project = cast(forms.ModelChoiceField, self.fields["project"])
        project.queryset = (
            BudgetProject.objects.filter(stage__in=KEY_STAGES, commissioned_evaluations__isnull=True)
            .select_related("department")
            .order_by("-fiscal_year", "code")
        )
        department = cast(forms.ModelChoiceField, self.fields["department"])
        department.queryset = Department.objects.order_by("code")
        agency = cast(forms.ModelChoiceField, self.fields["agency"])
        agency.queryset = Agency.objects.filter(status=Agency.Status.ACTIVE).order_by("name")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["kind"]
        kwargs: dict[str, Any] = {
            "kind": kind,
            "agency": data["agency"],
            "due_at": data["due_at"],
            "title": data.get("title") or "",
        }
        if kind == EvaluationKind.KEY:
            kwargs["project"] = data.get("project")
        else:
            kwargs["department"] = data.get("department")
            kwargs["fiscal_year"] = data.get("fiscal_year")
        return kwargs


class PlanForm(ServiceErrorsMixin, forms.Form):
    """评价方案: the plan and the framework's weights (决策 / 过程 / 产出 / 效益, summing to 100)."""

    plan = forms.CharField(label=_("评价方案"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_fields = {}
        for code in DIMENSIONS:
            name = f"weight_{code}"
            self.fields[name] = _number_input(FrameworkDimension(code).label, _("权重（分）"))
            self.service_fields[f"framework.{code}"] = name
        # the framework's sum is a problem of the whole table, shown above it
        self.service_fields["framework"] = "__all__"

    @classmethod
    def initial_from(cls, evaluation: CommissionedEvaluation) -> dict[str, Any]:
        return {"plan": evaluation.plan, **{f"weight_{c}": evaluation.framework.get(c, "") for c in DIMENSIONS}}

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{c}"] for c in DIMENSIONS]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"plan": data["plan"], "framework": {c: data.get(f"weight_{c}", "") for c in DIMENSIONS}}


class ReviewPlanForm(ServiceErrorsMixin, forms.Form):
    """审核评价方案: approve (opinion optional) or return (reason required)."""

    comment = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=2000,
        help_text=_("退回时必填。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReturnFinalForm(ServiceErrorsMixin, forms.Form):
    """退回最终报告: the reason the agency must rework its final report."""

    comment = forms.CharField(
        label=_("退回理由"),
        max_length=2000,
        help_text=_("受托机构将收到此理由，修改后重新形成评价结果。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DraftForm(ServiceErrorsMixin, forms.Form):
    """报告初稿: the fieldwork note and the draft file."""

    note = forms.CharField(label=_("现场评价情况"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4}))
    draft_report = forms.FileField(
        label=_("报告初稿"), required=False, help_text=_("PDF、图片或 Office 文件，不超过 20 MB。")
    )


class CommentForm(ServiceErrorsMixin, forms.Form):
    """部门反馈意见 on the draft report."""

    comment = forms.CharField(
        label=_("反馈意见"),
        max_length=5000,
        help_text=_("没有意见请填写“无异议”。"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SuggestionsForm(ServiceErrorsMixin, forms.Form):
    """专家评审建议: one suggestion a line; each is recorded as its own item."""

    suggestions = forms.CharField(
        label=_("评审建议"),
        max_length=50000,
        help_text=_(
            "每行一条建议，最多 20 条；可在行首注明方面，如「财务管理：……」（项目实施、财务管理、绩效情况）；提交后不能修改。"
        ),
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_fields = {f"suggestions.{i}": "suggestions" for i in range(1, 100)}

    def items(self) -> list[dict]:
        """Each line a suggestion; a line that begins with an aspect and a colon
        (「财务管理：…」) is recorded under that aspect."""
        aspects = {str(label): value for value, label in SuggestionAspect.choices}
        items = []
        for line in self.cleaned_data["suggestions"].splitlines():
            text, aspect = line.strip(), ""
            head, colon, rest = text.replace(":", "：", 1).partition("：")
            if colon and head.strip() in aspects and rest.strip():
                text, aspect = rest.strip(), aspects[head.strip()]
            if text:
                items.append({"text": text, "aspect": aspect})
        return items


class FinalizeForm(ServiceErrorsMixin, forms.Form):
    """评价结果: a score per dimension (at most its weight), the conclusion, the report file;
    a department evaluation may correct its budget and executed amounts (yuan)."""

    conclusion = forms.CharField(label=_("评价结论"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4}))
    report = forms.FileField(
        label=_("评价报告"), required=False, help_text=_("PDF、图片或 Office 文件，不超过 20 MB。")
    )
    budget = _number_input(_("预算数（元）"), _("不填则保持原值。"), yuan=True)
    executed = _number_input(_("执行数（元）"), _("不填则保持原值。"), yuan=True)

    def __init__(self, *args, evaluation: CommissionedEvaluation, **kwargs):
        super().__init__(*args, **kwargs)
        self.framework = evaluation.framework
        self.service_fields = {}
        for code in DIMENSIONS:
            name = f"score_{code}"
            self.fields[name] = _number_input(
                FrameworkDimension(code).label,
                _("0 至 %(weight)s 分") % {"weight": self.framework.get(code, "—")},
            )
            self.service_fields[f"scores.{code}"] = name
        self.service_fields["scores"] = "__all__"
        if evaluation.kind != EvaluationKind.DEPARTMENT:
            del self.fields["budget"]
            del self.fields["executed"]

    def score_fields(self) -> list[forms.BoundField]:
        return [self[f"score_{c}"] for c in DIMENSIONS]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("budget", "executed", "conclusion", "report") if n in self.fields]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {
            "scores": {c: data.get(f"score_{c}", "") for c in DIMENSIONS},
            "conclusion": data["conclusion"],
            "report": data.get("report"),
        }
        if "budget" in self.fields:
            kwargs["budget"] = data.get("budget") or None
            kwargs["executed"] = data.get("executed") or None
        return kwargs


class FindingForm(ServiceErrorsMixin, forms.Form):
    """评价发现的问题: category, problem, basis, requirement."""

    category = forms.ChoiceField(label=_("问题类别"), choices=())
    problem = forms.CharField(label=_("存在问题"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    basis = forms.CharField(label=_("依据"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    requirement = forms.CharField(label=_("整改要求"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("请选择")), *finding_categories()]


class FrameworkCommissionForm(ServiceErrorsMixin, forms.Form):
    """整体委托: the year, the agency contracted for its re-checks and key evaluations, the
    contract number and scope."""

    fiscal_year = fiscal_year_formfield(label=_("年度"))
    agency = forms.ModelChoiceField(label=_("第三方机构"), queryset=Agency.objects.none())
    contract_no = forms.CharField(label=_("合同编号"), required=False, max_length=64)
    scope = forms.CharField(
        label=_("委托范围"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agency = cast(forms.ModelChoiceField, self.fields["agency"])
        agency.queryset = Agency.objects.filter(status=Agency.Status.ACTIVE).order_by("name")


class QualityScoreForm(ServiceErrorsMixin, forms.Form):
    """质量评分 of one deliverable of the evaluation (the finance section)."""

    kind = forms.ChoiceField(label=_("成果类型"), choices=[])
    score = forms.DecimalField(label=_("质量得分"), min_value=0, max_value=100, decimal_places=2, max_digits=5)
    comment = forms.CharField(
        label=_("评分意见"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [(k, Deliverable(k).label) for k in kinds]
