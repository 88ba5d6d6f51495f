"""The bulk actions (批量办理) of the lifecycles, registered with workflows.bulk_actions:
下达预算 (start execution), 确认绩效自评 (accept self-evaluations) and the department
leader's approval of the department's own submissions. Each applies the SAME declared
transition as its single action, through the domain's ``*_many`` service."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from accounts.roles import Role
from processes.models import BudgetProject
from processes.models.project import ProjectCategory
from processes.selectors import project_list_for
from processes.services.projects import projects_start_execution_many
from processes.states import ProjectStage
from processes.units import in_wan

from .bulk_actions import BulkAction, BulkFilterForm, register_bulk_action


def _department_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.order_by("pk"), required=False)


class StartExecutionFilter(BulkFilterForm):
    """下达预算: the budgeted projects of a year, narrowed by department, category and amount."""

    fiscal_year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    department = _department_field()
    category = forms.ChoiceField(label=_("项目类别"), choices=[("", "—"), *ProjectCategory.choices], required=False)
    amount_min = forms.DecimalField(label=_("批复金额不低于（元）"), required=False, min_value=Decimal(0))
    amount_max = forms.DecimalField(label=_("批复金额不高于（元）"), required=False, min_value=Decimal(0))

    def clean(self):
        data = super().clean()
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("金额下限不能高于上限。"))
        return data

    def narrow(self, queryset: QuerySet) -> QuerySet:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("fiscal_year"):
            queryset = queryset.filter(fiscal_year=data["fiscal_year"])
        if data.get("department"):
            queryset = queryset.filter(department=data["department"])
        if data.get("category"):
            queryset = queryset.filter(category=data["category"])
        if data.get("amount_min") is not None:
            queryset = queryset.filter(approved_amount__gte=data["amount_min"])
        if data.get("amount_max") is not None:
            queryset = queryset.filter(approved_amount__lte=data["amount_max"])
        return queryset


def _budgeted(user) -> QuerySet:
    return project_list_for(user).filter(stage=ProjectStage.BUDGETED)


START_EXECUTION = BulkAction(
    key="start_execution",
    label=_("批量下达预算"),
    help=_("已纳入预算的项目下达预算、开始执行（与单个项目的「下达预算，开始执行」相同）。"),
    model=BudgetProject,
    roles=frozenset({Role.FINANCE_OFFICER}),
    candidates=_budgeted,
    filter_form=StartExecutionFilter,
    run=lambda *, actor, objs, comment, progress: projects_start_execution_many(
        projects=objs, actor=actor, comment=comment, progress=progress
    ),
    columns=(
        (_("项目"), lambda p: p.name),
        (_("编码"), lambda p: p.code),
        (_("部门"), lambda p: p.department.name),
        (_("年度"), lambda p: p.fiscal_year),
        (_("项目类别"), lambda p: p.get_category_display()),
        (_("批复金额（万元）"), lambda p: in_wan(p.approved_amount) if p.approved_amount is not None else "—"),
    ),
    related=("department",),
    ordering=("department_id", "code", "pk"),
)


def register() -> None:
    for action in (START_EXECUTION,):
        register_bulk_action(action)
