"""Three of the finance section's bulk actions (批量办理, issue 18), registered with
workflows.bulk_actions beside those of workflows.bulk_kinds:

- 批量审核通过绿灯监控报告 (``clear_reports``): the monitoring reports passed by their leader
  whose every light is green, by round, department and category — MonitoringReport
  ``clear``, as the single 审核通过 (processes.services.monitoring.reports_clear);
- 批量下达整改 (``issue_rectifications``): findings by year, round or campaign, department
  and source → one rectification notice per department and source
  (processes.services.rectification.rectifications_issue);
- 年度关账 (``close_out``): a year's evaluated projects → 已关闭 where nothing is left open
  (BudgetProject ``close_out``, processes.services.closeout.projects_close_out).

Each screen, API and job is the generic one of workflows.bulk_actions."""

from __future__ import annotations

from django import forms
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import Department, User
from accounts.roles import Role
from processes.models import (
    BudgetProject,
    EvaluationCampaign,
    Finding,
    MonitoringReport,
    MonitoringRound,
)
from processes.models.project import ProjectCategory, close_blockers_message
from processes.permissions.monitoring import can_review
from processes.permissions.rectification import can_issue
from processes.selectors import project_list_for
from processes.services.closeout import CLOSABLE, projects_close_out
from processes.services.monitoring import clear_candidates, reports_clear
from processes.services.rectification import rectifications_issue
from processes.states import RECTIFICATION_OPEN
from processes.units import in_wan

from .bulk_actions import BulkAction, BulkFilterForm, register_bulk_action
from .flows import MonitoringFlow


def _department_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.order_by("code"), required=False)


def _category_field() -> forms.ChoiceField:
    return forms.ChoiceField(label=_("项目类别"), choices=[("", "—"), *ProjectCategory.choices], required=False)


def _cleaned(form: BulkFilterForm) -> dict:
    return form.cleaned_data if form.is_bound and form.is_valid() else {}


# -- 批量审核通过绿灯监控报告 ------------------------------------------------------------------


class ClearReportsFilter(BulkFilterForm):
    """The green reports awaiting the finance section, narrowed by round, department, category."""

    round = forms.ModelChoiceField(
        label=_("监控轮次"), queryset=MonitoringRound.objects.order_by("-fiscal_year", "-end_month"), required=False
    )
    department = _department_field()
    category = _category_field()

    def narrow(self, queryset: QuerySet) -> QuerySet:
        data = _cleaned(self)
        if data.get("round"):
            queryset = queryset.filter(round=data["round"])
        if data.get("department"):
            queryset = queryset.filter(project__department=data["department"])
        if data.get("category"):
            queryset = queryset.filter(project__category=data["category"])
        return queryset


def _green_reports(user: User) -> QuerySet:
    """Every department's all-green reports passed by their leader (the finance section sees
    them all), except those whose review task a colleague has claimed (theirs to decide)."""
    if not can_review(user):
        return MonitoringReport.objects.none()
    claimed = (
        Task.objects.filter(flow_task=MonitoringFlow.finance_review, status=STATUS.ASSIGNED)
        .exclude(owner=user)
        .values_list("process__data__report", flat=True)
    )
    return clear_candidates().exclude(pk__in=[pk for pk in claimed if pk is not None])


CLEAR_REPORTS = BulkAction(
    key="clear_reports",
    label=_("批量审核通过绿灯监控报告"),
    help=_(
        "部门已审核、且项目灯、支出进度灯和每项指标灯都是绿灯的监控报告，"
        "批量审核通过（与单份报告的「审核通过」相同：记录执行数，部门收到通知）。"
    ),
    model=MonitoringReport,
    roles=frozenset({Role.FINANCE_OFFICER}),
    candidates=_green_reports,
    filter_form=ClearReportsFilter,
    run=lambda *, actor, objs, comment, progress: reports_clear(
        actor=actor, reports=objs, comment=comment, progress=progress
    ),
    columns=(
        (_("监控轮次"), lambda r: r.round.title),
        (_("项目"), lambda r: r.project.name),
        (_("部门"), lambda r: r.project.department.name),
        (_("项目类别"), lambda r: r.project.get_category_display()),
        (_("截至期末执行数（万元）"), lambda r: in_wan(r.executed) if r.executed is not None else "—"),
        (_("支出进度比"), lambda r: f"{r.spending_rate}%" if r.spending_rate is not None else "—"),
    ),
    related=("round", "project__department"),
    ordering=("round_id", "project__department__code", "project__code", "pk"),
)


# -- 批量下达整改 --------------------------------------------------------------------------------

SOURCES = {
    "self_evaluation": _("绩效自评"),
    "recheck": _("自评复核"),
    "evaluation": _("重点评价 / 部门整体评价"),
    "monitoring_report": _("绩效监控"),
}


class IssueRectificationsFilter(BulkFilterForm):
    """Findings by year, monitoring round or self-evaluation campaign, department and source."""

    fiscal_year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    round = forms.ModelChoiceField(
        label=_("监控轮次"), queryset=MonitoringRound.objects.order_by("-fiscal_year", "-end_month"), required=False
    )
    campaign = forms.ModelChoiceField(
        label=_("自评工作"), queryset=EvaluationCampaign.objects.order_by("-fiscal_year"), required=False
    )
    department = _department_field()
    source = forms.ChoiceField(label=_("问题来源"), choices=[("", "—"), *SOURCES.items()], required=False)

    def narrow(self, queryset: QuerySet) -> QuerySet:
        data = _cleaned(self)
        if data.get("fiscal_year"):
            year = data["fiscal_year"]
            queryset = queryset.filter(Q(project__fiscal_year=year) | Q(evaluation__fiscal_year=year))
        if data.get("round"):
            queryset = queryset.filter(monitoring_report__round=data["round"])
        if data.get("campaign"):
            queryset = queryset.filter(
                Q(self_evaluation__campaign=data["campaign"]) | Q(recheck__self_evaluation__campaign=data["campaign"])
            )
        if data.get("department"):
            queryset = queryset.filter(department=data["department"])
        if data.get("source"):
            queryset = queryset.filter(**{f"{data['source']}__isnull": False})
        return queryset


def _findings(user: User) -> QuerySet:
    """Every finding (the finance section issues them all); one already in a notice is listed
    with it, and refused with its title if ticked."""
    if not can_issue(user):
        return Finding.objects.none()
    return Finding.objects.all()


def _source_of(finding: Finding) -> str:
    return str(next((label for name, label in SOURCES.items() if getattr(finding, f"{name}_id")), "—"))


def _issued_in(finding: Finding) -> str:
    item = getattr(finding, "rectification_item", None)
    return item.rectification.title if item is not None else gettext("未下达")


def _issue(*, actor: User, objs, comment: str, progress):
    years = sorted({f.project.fiscal_year for f in objs if f.project_id is not None})
    title = comment or (
        gettext("%(year)s 年度绩效评价发现问题整改") % {"year": years[-1]} if years else gettext("绩效评价发现问题整改")
    )
    return rectifications_issue(actor=actor, findings=objs, title=title, progress=progress)


ISSUE_RECTIFICATIONS = BulkAction(
    key="issue_rectifications",
    label=_("批量下达整改"),
    help=_(
        "所选问题按部门和来源（同一项评价或监控报告）各下达一份整改通知，整改期限为默认期限；"
        "意见栏填写的内容作为整改事项名称（不填则为「某年度绩效评价发现问题整改」）。已下达过整改的问题不再下达。"
    ),
    model=Finding,
    roles=frozenset({Role.FINANCE_OFFICER}),
    candidates=_findings,
    filter_form=IssueRectificationsFilter,
    run=_issue,
    columns=(
        (_("存在问题"), lambda f: f.problem),
        (_("整改要求"), lambda f: f.requirement),
        (_("部门"), lambda f: f.department.name),
        (_("项目"), lambda f: f.project.name if f.project_id is not None else "—"),
        (_("问题来源"), _source_of),
        (_("整改通知"), _issued_in),
    ),
    # the sources too: a finding's link is its source's page
    related=(
        "department",
        "project",
        "rectification_item__rectification",
        "self_evaluation",
        "recheck",
        "evaluation",
        "monitoring_report",
    ),
    ordering=("department__code", "project__code", "pk"),
)


# -- 年度关账 ------------------------------------------------------------------------------------


class CloseOutFilter(BulkFilterForm):
    """A year's evaluated projects, narrowed by department and category."""

    fiscal_year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    department = _department_field()
    category = _category_field()

    def narrow(self, queryset: QuerySet) -> QuerySet:
        data = _cleaned(self)
        if data.get("fiscal_year"):
            queryset = queryset.filter(fiscal_year=data["fiscal_year"])
        if data.get("department"):
            queryset = queryset.filter(department=data["department"])
        if data.get("category"):
            queryset = queryset.filter(category=data["category"])
        return queryset


def _closable(user: User) -> QuerySet:
    """The user's evaluated (and rectifying) projects, each with what still blocks it."""
    if not user.is_authenticated or not can_issue(user):
        return BudgetProject.objects.none()
    return (
        project_list_for(user)
        .filter(stage__in=CLOSABLE)
        .annotate(
            open_rectifications=Count(
                "rectifications", filter=Q(rectifications__status__in=RECTIFICATION_OPEN), distinct=True
            ),
            unissued=Count("findings", filter=Q(findings__rectification_item__isnull=True), distinct=True),
        )
    )


CLOSE_OUT = BulkAction(
    key="close_out",
    label=_("年度关账"),
    help=_(
        "已评价的项目：没有发现问题，或问题都已下达整改且整改都已验收销号的，关闭（已关闭）；"
        "仍有整改未销号或问题未下达整改的项目不关闭，并列出原因。"
    ),
    model=BudgetProject,
    roles=frozenset({Role.FINANCE_OFFICER}),
    candidates=_closable,
    filter_form=CloseOutFilter,
    run=lambda *, actor, objs, comment, progress: projects_close_out(
        actor=actor, projects=objs, comment=comment, progress=progress
    ),
    columns=(
        (_("项目"), lambda p: p.name),
        (_("编码"), lambda p: p.code),
        (_("部门"), lambda p: p.department.name),
        (_("年度"), lambda p: p.fiscal_year),
        (_("阶段"), lambda p: p.get_stage_display()),
        (_("未结事项"), lambda p: close_blockers_message(p.open_rectifications, p.unissued) or "—"),
    ),
    related=("department",),
    ordering=("fiscal_year", "department__code", "code", "pk"),
)


def register() -> None:
    for action in (CLEAR_REPORTS, ISSUE_RECTIFICATIONS, CLOSE_OUT):
        register_bulk_action(action)
