"""Reads of rectifications 整改 (DESIGN §3.6) with their visibility rule: the bureau-wide
readers (holders of ``processes.view_all_projects``: finance officers, supervisors,
auditors) see every rectification; department staff and leaders only their own
department's; nobody else any.

"Due soon" is one rule everywhere — the list, the API's ``?due=soon``, the supervisors'
board, the clock on a rectification's page: due within ``JIXIAO["REMINDERS"]["SOON_DAYS"]``
days (:func:`due_soon_horizon`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User

from . import transitions
from .models import AuditEvent, DeadlineExtension, Rectification
from .permissions import holds
from .permissions.rectification import can_fill
from .states import RECTIFICATION_OPEN, ExtensionStatus, RectificationStatus

DUE_OVERDUE = "overdue"
DUE_SOON = "soon"


def soon_days() -> int:
    """How many days ahead a deadline counts as due soon (the settings' one value)."""
    return int(settings.JIXIAO["REMINDERS"]["SOON_DAYS"])


def due_soon_horizon(now: datetime) -> datetime:
    """The latest deadline that is due soon at ``now``."""
    return now + timedelta(days=soon_days())


def rectifications_for(user: User | AnonymousUser) -> QuerySet[Rectification]:
    """The rectifications ``user`` may see, with department and project joined."""
    qs = Rectification.objects.select_related("department", "project")
    if not user.is_authenticated:
        return qs.none()
    assert isinstance(user, User)
    if holds(user, "processes.view_all_projects"):
        return qs
    if user.is_department_user and user.department_id is not None:
        return qs.filter(department_id=user.department_id)
    return qs.none()


def rectification_get_for(user: User | AnonymousUser, pk) -> Rectification:
    """One rectification ``user`` may see; 404 otherwise (whether or not it exists)."""
    return get_object_or_404(rectifications_for(user), pk=pk)


def rectifications_filtered(
    qs: QuerySet[Rectification], filters: dict[str, Any], now: datetime | None = None
) -> QuerySet[Rectification]:
    """``qs`` narrowed by the list's and the API's filters: status, department, year (the
    project's, or the year issued), due (overdue / due soon, open ones only)."""
    now = now or timezone.now()
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("department"):
        qs = qs.filter(department_id=filters["department"])
    if filters.get("year"):
        year = filters["year"]
        qs = qs.filter(Q(project__fiscal_year=year) | Q(project__isnull=True, issued_at__year=year))
    if filters.get("due") == DUE_OVERDUE:
        qs = qs.filter(status__in=RECTIFICATION_OPEN, deadline__lt=now)
    elif filters.get("due") == DUE_SOON:
        qs = qs.filter(status__in=RECTIFICATION_OPEN, deadline__gte=now, deadline__lte=due_soon_horizon(now))
    return qs


def pending_extension(rectification: Rectification) -> DeadlineExtension | None:
    """Its extension request awaiting a decision, if any."""
    return rectification.extensions.filter(status=ExtensionStatus.REQUESTED).first()


def rectification_actions(rectification: Rectification, user: User, pending: DeadlineExtension | None) -> list[str]:
    """The slugs of what ``user`` may do on ``rectification`` now (``pending``: its extension
    request awaiting a decision, if any), from the transitions' declarations
    (processes.transitions.available) and, for the writes that move no state, the same
    rights: acknowledge, report (save, evidence, submit), evidence-remove, extension,
    decide, review."""
    names = {d.name for d in transitions.available(rectification, user)}
    actions: list[str] = []
    if "acknowledge" in names:
        actions.append("acknowledge")
    if "submit" in names:  # the report is filled in, with its evidence, until it is submitted
        actions += ["report", "evidence-remove"]
    if (
        pending is None
        and rectification.status in (RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED)
        and can_fill(rectification, user)
    ):
        actions.append("extension")
    if pending is not None and rectification.status in RECTIFICATION_OPEN and transitions.available(pending, user):
        actions.append("decide")
    if names & {"verify", "reject"}:
        actions.append("review")
    return actions


def rectification_timeline(rectification: Rectification) -> QuerySet[AuditEvent]:
    """The audit events of ``rectification`` and of its extension requests, in order."""
    extensions = [str(pk) for pk in rectification.extensions.values_list("pk", flat=True)]
    return (
        AuditEvent.objects.filter(
            Q(object_type=Rectification._meta.label_lower, object_id=str(rectification.pk))
            | Q(object_type=DeadlineExtension._meta.label_lower, object_id__in=extensions)
        )
        .select_related("actor")
        .order_by("sequence")
    )
