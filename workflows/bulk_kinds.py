"""The bulk actions (批量办理) of the lifecycles, registered with workflows.bulk_actions:
下达预算 (start execution), 确认绩效自评 (accept self-evaluations) and the department
leader's approval of the department's own submissions. Each applies the SAME declared
transition as its single action, through the domain's ``*_many`` service."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from accounts.roles import Role
from processes.models import BudgetProject, EvaluationCampaign, MonitoringReport, SelfEvaluation, TargetSet
from processes.models.project import ProjectCategory
from processes.selectors import monitoring_reports_for, project_list_for, self_evaluations_for
from processes.services.evaluation import self_evaluations_accept_many, self_evaluations_dept_approve_many
from processes.services.monitoring import reports_dept_approve_many
from processes.services.projects import projects_start_execution_many
from processes.services.targets import target_sets_dept_approve_many
from processes.states import Grade, ProjectStage, ReportStatus, SelfEvaluationStatus, TargetSetStatus
from processes.units import in_wan

from .bulk_actions import PAGE_SIZE, BulkAction, BulkFilterForm, register_bulk_action


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
        data = super().clean() or {}
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


# -- 确认绩效自评: the finance section accepts self-evaluations passed by their leaders ------------


class AcceptFilter(BulkFilterForm):
    campaign = forms.ModelChoiceField(
        label=_("自评批次"), queryset=EvaluationCampaign.objects.order_by("-fiscal_year"), required=False
    )
    department = _department_field()
    grade = forms.ChoiceField(label=_("自评等次"), choices=[("", "—"), *Grade.choices], required=False)

    def narrow(self, queryset: QuerySet) -> QuerySet:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("campaign"):
            queryset = queryset.filter(campaign=data["campaign"])
        if data.get("department"):
            queryset = queryset.filter(project__department=data["department"])
        if data.get("grade"):
            queryset = queryset.filter(grade=data["grade"])
        return queryset


def _leader_passed(user) -> QuerySet:
    return self_evaluations_for(user).filter(status=SelfEvaluationStatus.DEPT_APPROVED)


def _grade(evaluation) -> str:
    return evaluation.get_grade_display() if evaluation.grade else "—"


ACCEPT_SELF_EVALUATIONS = BulkAction(
    key="accept_self_evaluations",
    label=_("批量确认绩效自评"),
    help=_("确认部门已审核的绩效自评：记录实际执行数，项目进入「已评价」，通知部门（与单个「确认绩效自评」相同）。"),
    model=SelfEvaluation,
    roles=frozenset({Role.FINANCE_OFFICER}),
    candidates=_leader_passed,
    filter_form=AcceptFilter,
    run=lambda *, actor, objs, comment, progress: self_evaluations_accept_many(
        evaluations=objs, actor=actor, comment=comment, progress=progress
    ),
    columns=(
        (_("项目"), lambda e: e.project.name),
        (_("部门"), lambda e: e.project.department.name),
        (_("年度"), lambda e: e.campaign.fiscal_year),
        (_("自评得分"), lambda e: e.score if e.score is not None else "—"),
        (_("自评等次"), _grade),
    ),
    related=("project__department", "campaign", "sheet"),
    ordering=("project__department_id", "project__code", "pk"),
)


# -- 部门负责人批量审核: the leader passes the department's own submissions ---------------------


class LeaderFilter(BulkFilterForm):
    """The leader's submissions need no filter beyond the department (their own)."""


def _own_department(user, queryset: QuerySet) -> QuerySet:
    if user.department_id is None:
        return queryset.none()
    return queryset.filter(project__department_id=user.department_id)


def _submitted_evaluations(user) -> QuerySet:
    return _own_department(user, self_evaluations_for(user).filter(status=SelfEvaluationStatus.SUBMITTED))


def _submitted_targets(user) -> QuerySet:
    visible = project_list_for(user).values("pk")
    queryset = TargetSet.objects.filter(project__in=visible, status=TargetSetStatus.SUBMITTED)
    return _own_department(user, queryset).select_related("project__department")


def _submitted_reports(user) -> QuerySet:
    return _own_department(user, monitoring_reports_for(user).filter(status=ReportStatus.SUBMITTED))


LEADER_SELF_EVALUATIONS = BulkAction(
    key="leader_self_evaluations",
    label=_("批量审核通过绩效自评"),
    help=_("本部门已提交的绩效自评，审核通过后报财政确认（与单个「部门审核通过」相同）。"),
    model=SelfEvaluation,
    roles=frozenset({Role.DEPT_LEADER}),
    candidates=_submitted_evaluations,
    filter_form=LeaderFilter,
    run=lambda *, actor, objs, comment, progress: self_evaluations_dept_approve_many(
        evaluations=objs, actor=actor, comment=comment, progress=progress
    ),
    columns=(
        (_("项目"), lambda e: e.project.name),
        (_("年度"), lambda e: e.campaign.fiscal_year),
        (_("自评得分"), lambda e: e.score if e.score is not None else "—"),
        (_("自评等次"), _grade),
    ),
    related=("project__department", "campaign", "sheet"),
    ordering=("project__code", "pk"),
)

LEADER_TARGETS = BulkAction(
    key="leader_targets",
    label=_("批量审核通过绩效目标"),
    help=_("本部门已提交的绩效目标，审核通过后报财政审核（与单个「部门审核通过」相同）。"),
    model=TargetSet,
    roles=frozenset({Role.DEPT_LEADER}),
    candidates=_submitted_targets,
    filter_form=LeaderFilter,
    run=lambda *, actor, objs, comment, progress: target_sets_dept_approve_many(
        target_sets=objs, actor=actor, comment=comment, progress=progress
    ),
    columns=(
        (_("项目"), lambda t: t.project.name),
        (_("版本"), lambda t: f"v{t.number}"),
        (_("年度"), lambda t: t.project.fiscal_year),
    ),
    related=("project__department", "created_by"),
    ordering=("project__code", "pk"),
)

LEADER_REPORTS = BulkAction(
    key="leader_reports",
    label=_("批量审核通过绩效监控报告"),
    help=_("本部门已提交的绩效监控报告，审核通过后报财政审核（与单个「部门审核通过」相同）。"),
    model=MonitoringReport,
    roles=frozenset({Role.DEPT_LEADER}),
    candidates=_submitted_reports,
    filter_form=LeaderFilter,
    run=lambda *, actor, objs, comment, progress: reports_dept_approve_many(
        reports=objs, actor=actor, comment=comment, progress=progress
    ),
    columns=(
        (_("项目"), lambda r: r.project.name),
        (_("监控轮次"), lambda r: str(r.round)),
        (_("项目预警灯"), lambda r: r.get_light_display()),
    ),
    related=("project__department", "round"),
    ordering=("project__code", "pk"),
)

#: The leader's screen lists these kinds, each applying its own declared transition.
LEADER_KINDS = (LEADER_SELF_EVALUATIONS, LEADER_TARGETS, LEADER_REPORTS)


def register() -> None:
    for action in (START_EXECUTION, ACCEPT_SELF_EVALUATIONS, *LEADER_KINDS):
        register_bulk_action(action)


@login_required
def bulk_leader_page(request):
    """部门负责人批量审核: the department's submissions awaiting its leader, grouped by kind
    (self-evaluations, targets, monitoring reports), each kind's ticked items passed by
    its own declared transition (the form posts to that kind's bulk action). 403 for
    anyone but a department leader."""
    if not LEADER_SELF_EVALUATIONS.may_start(request.user):
        raise PermissionDenied(_("只有部门负责人可以批量审核本部门的报送事项。"))
    sections = []
    for kind in LEADER_KINDS:
        queryset = kind.candidates(request.user).order_by(*kind.ordering)
        page = Paginator(queryset.select_related(*kind.related), PAGE_SIZE).get_page(1)
        rows = [(obj, [fn(obj) for _h, fn in kind.columns]) for obj in page.object_list]
        sections.append(
            {
                "bulk": kind,
                "rows": rows,
                "count": page.paginator.count,
                "headings": [h for h, _fn in kind.columns],
                "more": page.has_next(),
            }
        )
    return render(request, "workflows/bulk/leader.html", {"sections": sections})
