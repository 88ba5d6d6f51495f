"""Reads of rectifications 整改 (DESIGN §3.6) with their visibility rule: the bureau-wide
readers (holders of ``processes.view_all_projects``: finance officers, supervisors,
auditors) see every rectification; department staff and leaders only their own
department's; nobody else any."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import DeadlineExtension, Rectification
from .permissions import holds
from .services import rectification as svc
from .states import RECTIFICATION_OPEN, RectificationStatus


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


def rectification_actions(rectification: Rectification, user: User, pending: DeadlineExtension | None) -> list[str]:
    """The slugs of what ``user`` may do on ``rectification`` now (``pending``: its extension
    request awaiting a decision, if any): acknowledge, report (save, evidence, submit),
    evidence-remove, extension, decide, review."""
    actions: list[str] = []
    status = rectification.status
    if svc.can_fill(rectification, user):
        if status == RectificationStatus.ISSUED:
            actions.append("acknowledge")
        if status == RectificationStatus.ACKNOWLEDGED:
            actions += ["report", "evidence-remove"]
        if status in (RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED) and pending is None:
            actions.append("extension")
    if svc.can_decide_extension(user) and pending is not None and status in RECTIFICATION_OPEN:
        actions.append("decide")
    if svc.can_issue(user) and status == RectificationStatus.SUBMITTED:
        actions.append("review")
    return actions
