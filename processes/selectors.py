"""Reads that carry the visibility rules (DESIGN §1). Every list and detail goes through here.

Department roles see their own department's projects; the finance section, supervisors
and auditors see all; agency staff see the projects their agency is commissioned to
pre-assess, re-check or key-evaluate; experts and deputies see the projects whose review
panel (pre-assessment or key evaluation) they sit on (a replaced member no longer does);
the sysadmin manages people, not business data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from accounts.models import Department, User
from accounts.roles import BUREAU_WIDE_READERS, DEPARTMENT_ROLES, Role
from config.prepared import compiled_queries

from . import lights
from .models import (
    AuditEvent,
    BudgetProject,
    CommissionedEvaluation,
    CommitteeOpinionItem,
    DeadlineExtension,
    EvaluationCampaign,
    EvaluationPanelMember,
    Indicator,
    IndicatorProgress,
    Job,
    MonitoringReport,
    MonitoringRound,
    PanelMember,
    Policy,
    PreAssessment,
    Recheck,
    Rectification,
    SelfEvaluation,
)
from .permissions import holds
from .states import (
    EvaluationStatus,
    ExtensionStatus,
    IndicatorScope,
    IndicatorStatus,
    Light,
    OpinionItemStatus,
    RecheckStatus,
    RectificationStatus,
    ReportStatus,
)


def user_shape(user: Any) -> tuple:
    """Everything of ``user`` the visibility rules read (processes.selectors.project_list_for,
    evaluation_work_for, workflows.selectors.task_inbox_for): who they are, whether active,
    a superuser (a system account, holding no business permission), their department and
    agency, roles and permissions. No query beyond those the rules make themselves (the
    role and permission caches of the user object)."""
    business = user.is_active and not user.is_superuser
    perms = frozenset(user.get_all_permissions()) if business else frozenset()
    return (
        user.pk,
        user.is_active,
        user.is_superuser,
        user.department_id,
        user.agency_id,
        user.role_names,
        perms,
    )


def project_list_for(user: User | AnonymousUser) -> QuerySet[BudgetProject]:
    qs = BudgetProject.objects.select_related("department", "created_by", "history")
    if not user.is_authenticated:
        return qs.none()
    if holds(user, "processes.view_all_projects"):
        return qs
    visible = Q(pk__in=[])
    if user.is_department_user and user.department_id is not None:
        visible |= Q(department_id=user.department_id)
    if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        visible |= (
            Q(pk__in=PreAssessment.objects.filter(agency_id=user.agency_id).values("project_id"))
            | Q(pk__in=Recheck.objects.filter(sample__agency_id=user.agency_id).values("project_id"))
            | Q(
                pk__in=CommissionedEvaluation.objects.filter(agency_id=user.agency_id, project__isnull=False).values(
                    "project_id"
                )
            )
        )
    if user.has_role(Role.EXPERT) or user.has_role(Role.DEPUTY):
        visible |= Q(
            pk__in=PanelMember.objects.filter(user_id=user.pk, active=True).values("pre_assessment__project_id")
        ) | Q(
            pk__in=EvaluationPanelMember.objects.filter(user_id=user.pk, evaluation__project__isnull=False).values(
                "evaluation__project_id"
            )
        )
    return qs.filter(visible)


def project_visible_to(user: User | AnonymousUser, project: BudgetProject) -> bool:
    """Whether ``project_list_for(user)`` holds ``project``: for its own department's people
    and the bureau-wide readers — those who act on most tasks — from what the user
    object already holds, without asking the database again; for the rest, the list's
    own query."""
    if not user.is_authenticated:
        return False
    if user.is_department_user and user.department_id is not None and user.department_id == project.department_id:
        return True
    if holds(user, "processes.view_all_projects"):
        return True
    return project_list_for(user).filter(pk=project.pk).exists()


def users_who_see(project: BudgetProject) -> QuerySet[User]:
    """Every active user to whom ``project_list_for`` shows ``project`` (the same rules, for the
    reverse question: who is in a task's audience, who may be told)."""
    see_all = {"codename": "view_all_projects", "content_type__app_label": "processes"}
    return (
        User.objects.filter(is_active=True, is_superuser=False)
        .filter(
            Q(**{f"groups__permissions__{k}": v for k, v in see_all.items()})
            | Q(**{f"user_permissions__{k}": v for k, v in see_all.items()})
            | Q(department_id=project.department_id, groups__name__in=DEPARTMENT_ROLES)
            | Q(
                agency_id__in=PreAssessment.objects.filter(project=project).values("agency_id"),
                groups__name=Role.AGENCY_STAFF,
            )
            | Q(
                agency_id__in=Recheck.objects.filter(project=project).values("sample__agency_id"),
                groups__name=Role.AGENCY_STAFF,
            )
            | Q(
                agency_id__in=CommissionedEvaluation.objects.filter(project=project).values("agency_id"),
                groups__name=Role.AGENCY_STAFF,
            )
            | Q(
                pk__in=PanelMember.objects.filter(pre_assessment__project=project, active=True).values("user_id"),
                groups__name__in=[Role.EXPERT, Role.DEPUTY],
            )
            | Q(
                pk__in=EvaluationPanelMember.objects.filter(evaluation__project=project).values("user_id"),
                groups__name__in=[Role.EXPERT, Role.DEPUTY],
            )
        )
        .distinct()
    )


def project_get_for(user: User | AnonymousUser, pk) -> BudgetProject:
    """The project if ``user`` may see it; 404 otherwise (never 403, which would confirm it exists)."""
    return get_object_or_404(project_list_for(user), pk=pk)


def project_timeline(project: BudgetProject) -> QuerySet[AuditEvent]:
    """The project's audit events and those of its targets' versions, in order."""
    from django.db.models import Q

    from .models import TargetSet

    versions = [str(pk) for pk in TargetSet.objects.filter(project=project).values_list("pk", flat=True)]
    return (
        AuditEvent.objects.filter(
            Q(object_type=BudgetProject._meta.label_lower, object_id=str(project.pk))
            | Q(object_type=TargetSet._meta.label_lower, object_id__in=versions)
        )
        .select_related("actor")
        .order_by("sequence")
    )


def project_filter(
    qs: QuerySet[BudgetProject], *, stage=None, fiscal_year=None, department=None, q=None
) -> QuerySet[BudgetProject]:
    """The list filters shared by the screen and the API."""
    from django.db.models import Q

    if stage:
        qs = qs.filter(stage=stage)
    if fiscal_year:
        qs = qs.filter(fiscal_year=fiscal_year)
    if department:
        qs = qs.filter(department_id=department)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return qs


def stage_counts(qs: QuerySet[BudgetProject]) -> list[tuple[str, str, int]]:
    """(stage, label, count) of every stage with projects in ``qs``, in the lifecycle's
    order: one query. The counts add up to the projects of ``qs`` (issue 18: an evaluated
    project leaves 已评价 for 已关闭 at the year's close-out, or stays with a reason)."""
    from .states import ProjectStage

    counts = dict(qs.order_by().values("stage").annotate(n=Count("*")).values_list("stage", "n"))
    return [(value, str(label), counts[value]) for value, label in ProjectStage.choices if counts.get(value)]


# -- 绩效指标库 (DESIGN §2) ------------------------------------------------------------------

#: Roles that read every department's library rows: the bureau-wide readers, and those who
#: judge any department's targets (experts, deputies, agencies).
INDICATOR_READERS_OF_ALL = frozenset({*BUREAU_WIDE_READERS, Role.AGENCY_STAFF, Role.EXPERT, Role.DEPUTY})


def indicator_list_for(user: User | AnonymousUser) -> QuerySet[Indicator]:
    """The indicators ``user`` may read, proposals included (filter by status).

    Everyone logged in reads the library's general rows (通用类). Department roles read
    their own department's rows too, never another department's; the bureau-wide readers
    (finance, supervisors, auditors), agencies, experts and deputies read every library
    row. Proposals (proposed or declined) are read by the proposing department's people
    and by the finance section (processes.approve_indicator).
    """
    qs = Indicator.objects.select_related("department")
    if not user.is_authenticated:
        return qs.none()
    approved = Q(status=IndicatorStatus.APPROVED)
    own = Q(department_id=user.department_id) if user.is_department_user and user.department_id else None
    if user.role_names & INDICATOR_READERS_OF_ALL:
        visible = approved
    else:
        visible = approved & Q(scope=IndicatorScope.GENERAL)
        if own is not None:
            visible |= approved & own
    if holds(user, "processes.approve_indicator"):
        visible |= ~approved
    elif own is not None:
        visible |= ~approved & own
    return qs.filter(visible)


def indicator_get_for(user: User | AnonymousUser, pk) -> Indicator:
    """The indicator if ``user`` may read it; 404 otherwise (never 403)."""
    return get_object_or_404(indicator_list_for(user), pk=pk)


def indicator_filter(qs: QuerySet[Indicator], params: Mapping[str, Any] | None = None) -> QuerySet[Indicator]:
    """The list filters shared by the screens, the export and the API. ``params`` may hold
    q (code, name or description contains), level1, level2, scope, department (id),
    direction, active (bool, or "1"/"0"/"true"/"false") and status; empty values are no filter."""
    params = params or {}
    for name in ("level1", "level2", "scope", "direction", "status"):
        if params.get(name):
            qs = qs.filter(**{name: params[name]})
    department = params.get("department")
    if department:
        qs = qs.filter(department_id=getattr(department, "pk", department))
    active = params.get("active")
    if isinstance(active, str):
        active = {"1": True, "true": True, "0": False, "false": False}.get(active.lower())
    if active is not None:
        qs = qs.filter(active=bool(active))
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q))
    return qs


def indicator_counts(qs: QuerySet[Indicator]) -> dict[str, int]:
    """total, general (通用类) and department (部门个性化) rows of ``qs``, in one query."""
    return qs.order_by().aggregate(
        total=Count("pk"),
        general=Count("pk", filter=Q(scope=IndicatorScope.GENERAL)),
        department=Count("pk", filter=Q(scope=IndicatorScope.DEPARTMENT)),
    )


def indicators_for_project(project: BudgetProject) -> QuerySet[Indicator]:
    """The indicators a project's targets may be taken from: the active library rows that
    are general or belong to the project's department."""
    return (
        Indicator.objects.filter(status=IndicatorStatus.APPROVED, active=True)
        .filter(Q(scope=IndicatorScope.GENERAL) | Q(department_id=project.department_id))
        .select_related("department")
        .order_by("level1", "level2", "code")
    )


# -- background jobs -----------------------------------------------------------------------


def job_get_for(user: User | AnonymousUser, pk) -> Job:
    """A background job, to the person who started it only; 404 for anyone else."""
    if not user.is_authenticated:
        raise Http404
    return get_object_or_404(Job, pk=pk, created_by_id=user.pk)


# -- 绩效运行监控 (DESIGN §3.4) --------------------------------------------------------------


def reads_all_monitoring(user: User | AnonymousUser) -> bool:
    """The bureau-wide readers (finance section, supervisors, auditors) read every report."""
    return user.is_authenticated and bool(user.role_names & BUREAU_WIDE_READERS)


def monitoring_department_of(user: User | AnonymousUser) -> int | None:
    """The department whose reports a department role reads (None for everyone else,
    the bureau-wide readers included)."""
    if reads_all_monitoring(user):
        return None
    if user.is_authenticated and user.is_department_user and user.department_id is not None:
        return user.department_id
    return None


def monitoring_reports_for(user: User | AnonymousUser) -> QuerySet[MonitoringReport]:
    """The monitoring reports ``user`` may read: department roles their own department's,
    the bureau-wide readers all, everyone else (experts, deputies, agencies, the sysadmin)
    none."""
    qs = MonitoringReport.objects.select_related("round", "project__department")
    if reads_all_monitoring(user):
        return qs
    department = monitoring_department_of(user)
    if department is not None:
        return qs.filter(project__department_id=department)
    return qs.none()


def monitoring_report_get_for(user: User | AnonymousUser, pk) -> MonitoringReport:
    """The report if ``user`` may read it; 404 otherwise (never 403)."""
    return get_object_or_404(monitoring_reports_for(user), pk=pk)


def monitoring_rounds_for(user: User | AnonymousUser) -> QuerySet[MonitoringRound]:
    """The rounds ``user`` may see: all for the bureau-wide readers; for department roles
    those holding a report of their department; none for anyone else."""
    qs = MonitoringRound.objects.select_related("opened_by")
    if reads_all_monitoring(user):
        return qs
    department = monitoring_department_of(user)
    if department is not None:
        return qs.filter(pk__in=MonitoringReport.objects.filter(project__department_id=department).values("round_id"))
    return qs.none()


def monitoring_rounds_counted_for(user: User | AnonymousUser) -> QuerySet[MonitoringRound]:
    """``monitoring_rounds_for`` with the reports the user may see counted, in the same
    query: ``reports_total`` and ``reports_red`` (cancelled ones left out),
    ``reports_issued`` (待填报) and ``reports_warned`` (待处置); newest first."""
    department = monitoring_department_of(user)
    scope = Q(reports__project__department_id=department) if department is not None else Q()
    live = scope & ~Q(reports__status=ReportStatus.CANCELLED)
    return (
        monitoring_rounds_for(user)
        .annotate(
            reports_total=Count("reports", filter=live),
            reports_red=Count("reports", filter=live & Q(reports__light=Light.RED)),
            reports_issued=Count("reports", filter=scope & Q(reports__status=ReportStatus.ISSUED)),
            reports_warned=Count("reports", filter=scope & Q(reports__status=ReportStatus.WARNED)),
        )
        .order_by("-fiscal_year", "-end_month", "-pk")
    )


@dataclass(frozen=True)
class RoundLights:
    """One round's reports (the ones the user may see, cancelled left out) by light."""

    round: MonitoringRound
    by_light: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_light.values())


def monitoring_round_years_for(user: User | AnonymousUser) -> list[int]:
    """The fiscal years of the rounds ``user`` may see, newest first (one query)."""
    return list(monitoring_rounds_for(user).order_by("-fiscal_year").values_list("fiscal_year", flat=True).distinct())


def monitoring_lights_by_round(
    user: User | AnonymousUser, rounds: list[MonitoringRound], *, department: int | None = None
) -> list[RoundLights]:
    """Each of ``rounds``' reports that ``user`` may read (``monitoring_reports_for``; a
    department's people: their own department's), optionally of one ``department``, counted
    by light, cancelled ones left out — one query whatever the number of rounds. A round
    none of whose reports pass counts zero everywhere; the order is ``rounds``'."""
    qs = monitoring_reports_for(user).filter(round__in=[r.pk for r in rounds]).exclude(status=ReportStatus.CANCELLED)
    if department is not None:
        qs = qs.filter(project__department_id=department)
    rows: dict[int, dict[str, Any]] = {
        row["round_id"]: dict(row)
        for row in qs.order_by()
        .values("round_id")
        .annotate(**{f"light_{value}": Count("pk", filter=Q(light=value)) for value in Light.values})
    }
    return [
        RoundLights(
            round=r,
            by_light={value: rows[r.pk][f"light_{value}"] if r.pk in rows else 0 for value in Light.values},
        )
        for r in rounds
    ]


def monitoring_round_get_for(user: User | AnonymousUser, pk) -> MonitoringRound:
    """The round if ``user`` may see it; 404 otherwise."""
    return get_object_or_404(monitoring_rounds_for(user), pk=pk)


def monitoring_department_get_for(user: User | AnonymousUser, pk) -> Department:
    """A department whose monitoring summary ``user`` may read: any for the bureau-wide
    readers, their own for department roles; 404 otherwise."""
    if reads_all_monitoring(user):
        return get_object_or_404(Department, pk=pk)
    department = monitoring_department_of(user)
    if department is None or str(department) != str(pk):
        raise Http404
    return get_object_or_404(Department, pk=pk)


def monitoring_filter(qs: QuerySet[MonitoringReport], filters: Mapping[str, Any] | None = None):
    """The report filters shared by the screens, the XLSX and the API: ``round``,
    ``department`` (id), ``light`` and ``status``; empty values are no filter. Cancelled
    reports (their project ended) are left out unless ``status`` asks for them."""
    filters = filters or {}
    for name, lookup in (("round", "round_id"), ("department", "project__department_id")):
        value = filters.get(name)
        if value:
            qs = qs.filter(**{lookup: getattr(value, "pk", value)})
    if filters.get("light"):
        qs = qs.filter(light=filters["light"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    else:
        qs = qs.exclude(status=ReportStatus.CANCELLED)
    return qs


@dataclass(frozen=True)
class SpendingPace:
    """支出进度 of a set of reports: Σ executed ÷ Σ budget in force (the adjusted budget if
    adjusted), against the time pace (months elapsed ÷ 12). Only reports with an executed
    amount and a budget count (``reports``)."""

    executed: Decimal
    budget: Decimal
    reports: int
    months: int

    @property
    def execution_rate(self) -> Decimal | None:
        """支出进度 (a fraction, exact); None without a budget."""
        return self.executed / self.budget if self.budget else None

    @property
    def time_pace(self) -> Decimal:
        """时序进度 (a fraction)."""
        return Decimal(self.months) / Decimal(12)

    @property
    def ratio(self) -> Decimal | None:
        """支出进度 ÷ 时序进度 × 100, the number the spending light reads."""
        rate = self.execution_rate
        return rate / self.time_pace * 100 if rate is not None else None

    @property
    def reading(self) -> lights.Reading:
        """The light this pace would take as one project's (processes.lights)."""
        if not self.reports:
            return lights.Reading(Light.NONE, reason=lights.MISSING)
        return lights.spending_light(executed=self.executed, budget=self.budget, months=self.months)


@dataclass(frozen=True)
class DepartmentLights:
    """One department's row of a round: its reports by light and by status, and its pace."""

    department_id: int
    code: str
    name: str
    total: int
    by_light: dict[str, int]
    by_status: dict[str, int]
    pace: SpendingPace


@dataclass(frozen=True)
class RoundOverview:
    """A round at a glance (DESIGN §3.4): reports by light, by department × light, the red
    projects with their causes, and the district's spending pace."""

    round: MonitoringRound
    total: int
    by_light: dict[str, int]
    by_status: dict[str, int]
    departments: list[DepartmentLights]
    red: list[MonitoringReport]  # with ``red_indicators`` (their red IndicatorProgress)
    pace: SpendingPace


def _paced() -> Q:
    return Q(executed__isnull=False) & (Q(adjusted_budget__isnull=False) | Q(budget__isnull=False))


def round_overview(
    round_: MonitoringRound, filters: Mapping[str, Any] | None = None, *, red_limit: int | None = None
) -> RoundOverview:
    """The overview of ``round_``'s reports that pass ``filters`` (``monitoring_filter``):
    three queries whatever the number of reports — the counts and sums by department
    (every total is added up from them, exactly, in Decimal), and the red reports (at
    most ``red_limit``, by department and project code) with their red indicators."""
    qs = monitoring_filter(MonitoringReport.objects.filter(round=round_), {**(filters or {}), "round": None})
    paced = _paced()
    rows = (
        qs.order_by()
        .values("project__department_id", "project__department__code", "project__department__name")
        .annotate(
            total=Count("pk"),
            **{f"light_{value}": Count("pk", filter=Q(light=value)) for value in Light.values},
            **{f"status_{value}": Count("pk", filter=Q(status=value)) for value in ReportStatus.values},
            paced=Count("pk", filter=paced),
            executed_sum=Sum("executed", filter=paced),
            budget_sum=Sum(Coalesce("adjusted_budget", "budget"), filter=paced),
        )
        .order_by("project__department__code")
    )
    zero = Decimal("0.00")
    departments = [
        DepartmentLights(
            department_id=row["project__department_id"],
            code=row["project__department__code"],
            name=row["project__department__name"],
            total=row["total"],
            by_light={value: row[f"light_{value}"] for value in Light.values},
            by_status={value: row[f"status_{value}"] for value in ReportStatus.values},
            pace=SpendingPace(
                executed=row["executed_sum"] or zero,
                budget=row["budget_sum"] or zero,
                reports=row["paced"],
                months=round_.months,
            ),
        )
        for row in rows
    ]
    red = (
        qs.filter(light=Light.RED)
        .select_related("project__department")
        .prefetch_related(
            Prefetch(
                "indicators",
                queryset=IndicatorProgress.objects.filter(light=Light.RED).select_related("target_row"),
                to_attr="red_indicators",
            )
        )
        .order_by("project__department__code", "project__code")
    )
    return RoundOverview(
        round=round_,
        total=sum(d.total for d in departments),
        by_light={value: sum(d.by_light[value] for d in departments) for value in Light.values},
        by_status={value: sum(d.by_status[value] for d in departments) for value in ReportStatus.values},
        departments=departments,
        red=list(red[:red_limit] if red_limit is not None else red),
        pace=SpendingPace(
            executed=sum((d.pace.executed for d in departments), zero),
            budget=sum((d.pace.budget for d in departments), zero),
            reports=sum(d.pace.reports for d in departments),
            months=round_.months,
        ),
    )


@dataclass(frozen=True)
class DepartmentSummary:
    """One department's reports in a round, with their lights, and its spending pace."""

    round: MonitoringRound
    department: Department
    reports: list[MonitoringReport]  # with ``indicators`` prefetched (and their target rows)
    by_light: dict[str, int]
    pace: SpendingPace


def department_summary(round_: MonitoringRound, department: Department) -> DepartmentSummary:
    """``department``'s reports in ``round_`` (cancelled ones left out) with their
    indicators, counted by light, and its pace added up from them in Decimal: two queries."""
    reports = list(
        monitoring_filter(MonitoringReport.objects.filter(round=round_, project__department=department))
        .select_related("project")
        .prefetch_related(
            Prefetch(
                "indicators",
                queryset=IndicatorProgress.objects.select_related("target_row").order_by("target_row__position"),
            )
        )
        .order_by("project__code")
    )
    by_light = dict.fromkeys(Light.values, 0)
    executed = budget = Decimal("0.00")
    paced = 0
    for report in reports:
        by_light[report.light] += 1
        if report.executed is not None and report.budget_in_force is not None:
            executed += report.executed
            budget += report.budget_in_force
            paced += 1
    return DepartmentSummary(
        round=round_,
        department=department,
        reports=reports,
        by_light=by_light,
        pace=SpendingPace(executed=executed, budget=budget, reports=paced, months=round_.months),
    )


# -- evaluation (DESIGN §3.5) ----------------------------------------------------------------


def self_evaluations_for(user: User | AnonymousUser) -> QuerySet[SelfEvaluation]:
    """The self-evaluations of the projects ``user`` may see."""
    return SelfEvaluation.objects.filter(project__in=project_list_for(user).values("pk")).select_related(
        "project__department", "campaign"
    )


def self_evaluation_get_for(user: User | AnonymousUser, pk) -> SelfEvaluation:
    return get_object_or_404(self_evaluations_for(user).select_related("sheet"), pk=pk)


def campaigns_for(user: User | AnonymousUser) -> QuerySet[EvaluationCampaign]:
    """Campaigns are the whole district's work: every signed-in business user may read them;
    what they hold is then filtered per user."""
    if not user.is_authenticated:
        return EvaluationCampaign.objects.none()
    return EvaluationCampaign.objects.all()


def rechecks_for(user: User | AnonymousUser) -> QuerySet[Recheck]:
    """Re-checks: all for bureau-wide readers; an agency's own commissions; a department's own
    projects."""
    qs = Recheck.objects.select_related("project__department", "sample__agency", "self_evaluation", "sheet")
    if not user.is_authenticated:
        return qs.none()
    if holds(user, "processes.view_all_projects"):
        return qs
    visible = Q(pk__in=[])
    if user.is_department_user and user.department_id is not None:
        visible |= Q(project__department_id=user.department_id)
    if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        visible |= Q(sample__agency_id=user.agency_id)
    return qs.filter(visible)


def recheck_get_for(user: User | AnonymousUser, pk) -> Recheck:
    return get_object_or_404(rechecks_for(user), pk=pk)


def commissioned_for(user: User | AnonymousUser) -> QuerySet[CommissionedEvaluation]:
    """Key and department evaluations: all for bureau-wide readers; the agency's own
    commissions; the department's own (its projects, or itself); a panel member's own."""
    qs = CommissionedEvaluation.objects.select_related("department", "project", "agency", "history")
    if not user.is_authenticated:
        return qs.none()
    if holds(user, "processes.view_all_projects"):
        return qs
    visible = Q(pk__in=[])
    if user.is_department_user and user.department_id is not None:
        visible |= Q(department_id=user.department_id)
    if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        visible |= Q(agency_id=user.agency_id)
    if user.has_role(Role.EXPERT) or user.has_role(Role.DEPUTY):
        visible |= Q(pk__in=EvaluationPanelMember.objects.filter(user_id=user.pk).values("evaluation_id"))
    return qs.filter(visible)


def commissioned_get_for(user: User | AnonymousUser, pk) -> CommissionedEvaluation:
    return get_object_or_404(commissioned_for(user), pk=pk)


def published_evaluations() -> QuerySet[CommissionedEvaluation]:
    """What the public may read: evaluations whose disclosure a finance officer approved."""
    return CommissionedEvaluation.objects.filter(status=EvaluationStatus.PUBLISHED).select_related(
        "department", "project", "agency"
    )


@dataclass(frozen=True)
class EvaluationWork:
    """A re-check or commissioned-evaluation step waiting for the user (decision 0009):
    these chains are state machines, not flows, so their next steps are read from state."""

    title: str
    subject: str
    department: str
    step: str
    due_at: Any
    url: str
    #: what is waiting (one of STEP_KINDS) and its id: with ``kind`` a row's key in the inbox
    kind: str = ""
    object_id: int | None = None
    #: the project it is about, when it has one (a department-wide evaluation has none)
    project: Any = None
    department_id: int | None = None
    #: when the object was created (the inbox's "by creation" order)
    created: Any = None
    #: named for this user (a panel seat), not for a party of several people
    assigned: bool = False

    @property
    def overdue(self) -> bool:
        from django.utils import timezone

        return self.due_at is not None and self.due_at < timezone.now()


#: Whose move each state is: (record kind, status) → (who, the step's label).
RECHECK_STEPS = {
    RecheckStatus.ASSIGNED: ("agency", gettext_lazy("复核评分")),
    RecheckStatus.RESCORED: ("department", gettext_lazy("反馈复核意见")),
    RecheckStatus.FED_BACK: ("agency", gettext_lazy("完成复核")),
}
EVALUATION_STEPS = {
    EvaluationStatus.COMMISSIONED: ("agency", gettext_lazy("提交评价方案")),
    EvaluationStatus.PLAN_SUBMITTED: ("finance", gettext_lazy("审核评价方案")),
    EvaluationStatus.PLAN_APPROVED: ("agency", gettext_lazy("开展现场评价")),
    EvaluationStatus.FIELDWORK: ("agency", gettext_lazy("提交报告初稿")),
    EvaluationStatus.DRAFT_REPORT: ("department", gettext_lazy("反馈报告初稿意见")),
    EvaluationStatus.DEPT_COMMENTED: ("agency", gettext_lazy("抽取专家评审组")),
    EvaluationStatus.EXPERT_REVIEW: ("agency", gettext_lazy("汇总专家建议并定稿")),
    EvaluationStatus.FINAL: ("finance", gettext_lazy("批准公开")),
}


def _states_for(steps: dict, who: set[str]) -> list[str]:
    return [state for state, (party, _label) in steps.items() if party in who]


#: The kinds of state-machine step (EvaluationWork.kind) and what their object is called.
STEP_KINDS = {
    "recheck": gettext_lazy("复核"),
    "commissioned_evaluation": gettext_lazy("委托评价"),
    "panel_review": gettext_lazy("专家评审"),
    "rectification": gettext_lazy("整改"),
    "extension": gettext_lazy("整改延期"),
    "committee_item": gettext_lazy("人大审议意见"),
    "pre_assessment_start": gettext_lazy("事前绩效评估"),
    "execution_start": gettext_lazy("预算执行"),
}


def _compiled_rows(key: tuple, build) -> list:
    """``build()``'s rows, compiled once per ``key`` (config.prepared.CompiledQueries): ``key`` names the
    query and holds the user's shape (every input the query is built from) and the limit."""
    return compiled_queries.rows(("evaluation_work_for", *key), build)


def evaluation_work_for(user: User | AnonymousUser, limit: int | None = 50) -> list[EvaluationWork]:
    """The re-checks, commissioned evaluations, rectifications and project steps whose next
    step is ``user``'s, oldest due first (a fixed number of queries whatever the number of
    records: one per kind the user may have). ``limit=None``: all of them (the inbox)."""
    if not user.is_authenticated:
        return []
    shape = user_shape(user)
    parties: set[str] = set()
    if user.is_department_user and user.department_id is not None:
        parties.add("department")
    if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None and holds(user, "processes.conduct_evaluation"):
        parties.add("agency")
    if holds(user, "processes.launch_evaluation"):
        parties.add("finance")
    work: list[EvaluationWork] = []
    scope_recheck: Q = Q(pk__in=[])
    scope_eval: Q = Q(pk__in=[])
    if "department" in parties:
        scope_recheck |= Q(
            status__in=_states_for(RECHECK_STEPS, {"department"}), project__department_id=user.department_id
        )
        scope_eval |= Q(status__in=_states_for(EVALUATION_STEPS, {"department"}), department_id=user.department_id)
    if "agency" in parties:
        scope_recheck |= Q(status__in=_states_for(RECHECK_STEPS, {"agency"}), sample__agency_id=user.agency_id)
        agency_states = _states_for(EVALUATION_STEPS, {"agency"})
        scope_eval |= Q(status__in=agency_states, agency_id=user.agency_id)
    if "finance" in parties:
        scope_eval |= Q(status__in=_states_for(EVALUATION_STEPS, {"finance"}))
    if parties:
        rechecks = _compiled_rows(
            ("recheck", shape, limit),
            lambda: (
                Recheck.objects.filter(scope_recheck)
                .select_related("project__department", "sample")
                .order_by("pk")[:limit]
            ),
        )
        for r in rechecks:
            work.append(
                EvaluationWork(
                    str(gettext_lazy("复核")),
                    r.project.name,
                    r.project.department.name,
                    str(RECHECK_STEPS[r.status][1]),
                    r.sample.due_at,
                    r.get_absolute_url(),
                    kind="recheck",
                    object_id=r.pk,
                    project=r.project,
                    department_id=r.project.department_id,
                    created=r.created_at,
                )
            )
        evaluations = _compiled_rows(
            ("commissioned_evaluation", shape, limit),
            lambda: (
                CommissionedEvaluation.objects.filter(scope_eval)
                .select_related("department", "project__department")
                .order_by("pk")[:limit]
            ),
        )
        for e in evaluations:
            work.append(
                EvaluationWork(
                    e.get_kind_display(),
                    e.title,
                    e.department.name,
                    str(EVALUATION_STEPS[e.status][1]),
                    e.due_at,
                    e.get_absolute_url(),
                    kind="commissioned_evaluation",
                    object_id=e.pk,
                    project=e.project,
                    department_id=e.department_id,
                    created=e.created_at,
                )
            )
    if user.has_role(Role.EXPERT) or user.has_role(Role.DEPUTY):
        seats = _compiled_rows(
            ("panel_review", shape, limit),
            lambda: (
                EvaluationPanelMember.objects.filter(
                    user_id=user.pk, submitted_at__isnull=True, evaluation__status=EvaluationStatus.EXPERT_REVIEW
                )
                .select_related("evaluation__department", "evaluation__project__department")
                .order_by("pk")[:limit]
            ),
        )
        for seat in seats:
            e = seat.evaluation
            work.append(
                EvaluationWork(
                    e.get_kind_display(),
                    e.title,
                    e.department.name,
                    str(gettext_lazy("提交评审建议")),
                    e.due_at,
                    e.get_absolute_url(),
                    kind="panel_review",
                    object_id=e.pk,
                    project=e.project,
                    department_id=e.department_id,
                    created=e.created_at,
                    assigned=True,
                )
            )
    work.extend(_rectification_work(user, parties, limit, shape))
    work.extend(_committee_work(user, limit, shape))
    work.extend(_project_step_work(user, limit, shape))
    work.sort(key=lambda w: (w.due_at is None, w.due_at))
    return work[:limit]


def _project_step_work(user: User, limit: int | None, shape: tuple) -> list[EvaluationWork]:
    """The finance section's project steps that no flow task stands for (issue 21): a project
    routed to pre-assessment with none begun (发起事前绩效评估), and a budgeted project
    waiting for execution to start (下达预算，开始执行). One query each, whatever the number."""
    from django.urls import reverse

    from .states import PreAssessmentStatus, ProjectStage

    work: list[EvaluationWork] = []
    if holds(user, "processes.start_pre_assessment"):
        waiting = _compiled_rows(
            ("pre_assessment_start", shape, limit),
            lambda: (
                BudgetProject.objects.filter(stage=ProjectStage.PRE_ASSESSMENT)
                .exclude(
                    pk__in=PreAssessment.objects.exclude(
                        status__in=[PreAssessmentStatus.CONFIRMED, PreAssessmentStatus.CANCELLED]
                    ).values("project_id")
                )
                .select_related("department")
                .order_by("pk")[:limit]
            ),
        )
        work += [
            EvaluationWork(
                str(gettext_lazy("事前绩效评估")),
                p.name,
                p.department.name,
                str(gettext_lazy("发起事前绩效评估")),
                None,
                reverse("workflows:pre_assessment_begin", args=[p.pk]),
                kind="pre_assessment_start",
                object_id=p.pk,
                project=p,
                department_id=p.department_id,
                created=p.created_at,
            )
            for p in waiting
        ]
    if holds(user, "processes.intake_project"):
        budgeted = _compiled_rows(
            ("execution_start", shape, limit),
            lambda: (
                BudgetProject.objects.filter(stage=ProjectStage.BUDGETED)
                .select_related("department")
                .order_by("pk")[:limit]
            ),
        )
        work += [
            EvaluationWork(
                str(gettext_lazy("预算执行")),
                p.name,
                p.department.name,
                str(gettext_lazy("下达预算，开始执行")),
                None,
                p.get_absolute_url(),
                kind="execution_start",
                object_id=p.pk,
                project=p,
                department_id=p.department_id,
                created=p.created_at,
            )
            for p in budgeted
        ]
    return work


#: A committee opinion item's next step (issue 19): the assignee's, then the finance section's.
COMMITTEE_STEPS = {
    OpinionItemStatus.ASSIGNED: gettext_lazy("报送落实情况"),
    OpinionItemStatus.RESPONDED: gettext_lazy("验收落实情况"),
}


def _committee_work(user: User, limit: int | None, shape: tuple) -> list[EvaluationWork]:
    """The people's congress committee's review opinion items waiting for the user (issue 19),
    as processes.permissions.committee says who acts: an assigned item for its department's
    staff and leaders (the finance section for the bureau's own items), a responded one for the
    finance section to accept or return. One query whatever the number of items; none for a
    user who may do neither."""
    parts: list[Q] = []
    if holds(user, "processes.respond_committee_opinion") and user.department_id is not None:
        parts.append(Q(status=OpinionItemStatus.ASSIGNED, department_id=user.department_id))
    if holds(user, "processes.record_committee_opinion"):
        parts.append(Q(status=OpinionItemStatus.ASSIGNED, department__isnull=True))
        parts.append(Q(status=OpinionItemStatus.RESPONDED))
    if not parts:
        return []
    scope = parts[0]
    for part in parts[1:]:
        scope |= part
    items = _compiled_rows(
        ("committee_item", shape, limit),
        lambda: (
            CommitteeOpinionItem.objects.filter(scope)
            .select_related("opinion", "department")
            .order_by("deadline", "pk")[:limit]
        ),
    )
    return [
        EvaluationWork(
            str(gettext_lazy("人大审议意见")),
            item.title,
            item.assignee_name,
            str(COMMITTEE_STEPS[OpinionItemStatus(item.status)]),
            item.deadline,
            item.get_absolute_url(),
            kind="committee_item",
            object_id=item.pk,
            department_id=item.department_id,
            created=item.created_at,
        )
        for item in items
    ]


#: A rectification's next step and whose it is (DESIGN §3.6).
RECTIFICATION_STEPS = {
    RectificationStatus.ISSUED: ("department", gettext_lazy("签收整改通知")),
    RectificationStatus.ACKNOWLEDGED: ("department", gettext_lazy("填报整改报告")),
    RectificationStatus.SUBMITTED: ("finance", gettext_lazy("验收整改")),
}


def _rectification_work(user: User, parties: set[str], limit: int | None, shape: tuple) -> list[EvaluationWork]:
    """Open rectifications waiting for the user's department or for the finance section, and
    extension requests waiting for a supervisor."""
    scope: Q = Q(pk__in=[])
    if "department" in parties and holds(user, "processes.fill_rectification"):
        scope |= Q(
            status__in=[RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED], department_id=user.department_id
        )
    if holds(user, "processes.issue_rectification"):
        scope |= Q(status=RectificationStatus.SUBMITTED)
    work = [
        EvaluationWork(
            str(gettext_lazy("整改")),
            r.title,
            r.department.name,
            str(RECTIFICATION_STEPS[r.status][1]),
            r.deadline,
            r.get_absolute_url(),
            kind="rectification",
            object_id=r.pk,
            project=r.project,
            department_id=r.department_id,
            created=r.issued_at,
        )
        for r in _compiled_rows(
            ("rectification", shape, limit),
            lambda: (
                Rectification.objects.filter(scope)
                .select_related("department", "project__department")
                .order_by("deadline", "pk")[:limit]
            ),
        )
    ]
    if holds(user, "processes.decide_extension"):
        pending = _compiled_rows(
            ("extension", shape, limit),
            lambda: (
                DeadlineExtension.objects.filter(status=ExtensionStatus.REQUESTED)
                .select_related("rectification__department", "rectification__project__department")
                .order_by("pk")[:limit]
            ),
        )
        work += [
            EvaluationWork(
                str(gettext_lazy("整改延期")),
                x.rectification.title,
                x.rectification.department.name,
                str(gettext_lazy("审批延期申请")),
                x.rectification.deadline,
                x.get_absolute_url(),
                kind="extension",
                object_id=x.pk,
                project=x.rectification.project,
                department_id=x.rectification.department_id,
                created=x.requested_at,
            )
            for x in pending
        ]
    return work


# -- 重大政策 (decision 0027) -------------------------------------------------------------


def policy_list_for(user: User | AnonymousUser) -> QuerySet[Policy]:
    """The major policies ``user`` may see: those whose carrier project they see (the
    bureau-wide readers, the lead department, the agency and the panel of its review), and a
    co-department's people their department's policies."""
    qs = Policy.objects.select_related("department", "project")
    if not user.is_authenticated:
        return qs.none()
    visible = Q(project__in=project_list_for(user).values("pk"))
    if user.is_department_user and user.department_id is not None:
        visible |= Q(co_departments=user.department_id)
    return qs.filter(visible).distinct()


def policy_get_for(user: User | AnonymousUser, pk) -> Policy:
    """The policy if ``user`` may see it; 404 otherwise."""
    return get_object_or_404(policy_list_for(user), pk=pk)
