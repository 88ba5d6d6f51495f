"""Reads that carry the visibility rules (DESIGN §1). Every list and detail goes through here.

Department roles see their own department's projects; the finance section, supervisors
and auditors see all; agency staff see the projects their agency is commissioned to
pre-assess; experts and deputies see the projects whose review panel they sit on (a
replaced member no longer does); the sysadmin manages people, not business data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import BUREAU_WIDE_READERS, DEPARTMENT_ROLES, Role

from .models import AuditEvent, BudgetProject, Indicator, Job, PanelMember, PreAssessment
from .permissions import holds
from .states import IndicatorScope, IndicatorStatus


def project_list_for(user: User | AnonymousUser) -> QuerySet[BudgetProject]:
    qs = BudgetProject.objects.select_related("department", "created_by")
    if not user.is_authenticated:
        return qs.none()
    if holds(user, "processes.view_all_projects"):
        return qs
    visible = Q(pk__in=[])
    if user.is_department_user and user.department_id is not None:
        visible |= Q(department_id=user.department_id)
    if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        visible |= Q(pk__in=PreAssessment.objects.filter(agency_id=user.agency_id).values("project_id"))
    if user.has_role(Role.EXPERT) or user.has_role(Role.DEPUTY):
        visible |= Q(
            pk__in=PanelMember.objects.filter(user_id=user.pk, active=True).values("pre_assessment__project_id")
        )
    return qs.filter(visible)


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
                pk__in=PanelMember.objects.filter(pre_assessment__project=project, active=True).values("user_id"),
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


@dataclass(frozen=True)
class PreAssessmentSummary:
    """事前绩效评估 of one fiscal year: the figures of the report's §一."""

    fiscal_year: int
    projects: int
    requested: Decimal
    approved: Decimal
    by_conclusion: dict[str, int]

    @property
    def reduction(self) -> Decimal:
        """核减金额."""
        return self.requested - self.approved

    @property
    def reduction_rate(self) -> Decimal | None:
        """核减率, exact; shown rounded to two places of a percent."""
        return self.reduction / self.requested if self.requested else None


def pre_assessment_summary(fiscal_year: int) -> PreAssessmentSummary:
    """Confirmed pre-assessments of projects of ``fiscal_year`` (one query)."""
    from .states import PreAssessmentStatus

    rows = list(
        PreAssessment.objects.filter(project__fiscal_year=fiscal_year, status=PreAssessmentStatus.CONFIRMED).values(
            "conclusion", "approved_amount", "project__requested_amount"
        )
    )
    by_conclusion: dict[str, int] = {}
    for row in rows:
        by_conclusion[row["conclusion"]] = by_conclusion.get(row["conclusion"], 0) + 1
    return PreAssessmentSummary(
        fiscal_year=fiscal_year,
        projects=len(rows),
        requested=sum((r["project__requested_amount"] for r in rows), Decimal("0.00")),
        approved=sum((r["approved_amount"] for r in rows), Decimal("0.00")),
        by_conclusion=by_conclusion,
    )


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
