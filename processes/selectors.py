"""Reads that carry the visibility rules (DESIGN §1). Every list and detail goes through here.

Department roles see their own department's projects; the finance section, supervisors
and auditors see all; agency staff see the projects their agency is commissioned to
pre-assess; experts and deputies see the projects whose review panel they sit on (a
replaced member no longer does); the sysadmin manages people, not business data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import DEPARTMENT_ROLES, Role

from .models import AuditEvent, BudgetProject, PanelMember, PreAssessment
from .permissions import holds


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
    return (
        AuditEvent.objects.filter(object_type=BudgetProject._meta.label_lower, object_id=str(project.pk))
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
