"""Reminding a review panel's members who have not yet given their opinion (issue 21,
decision 0018): shared by the pre-assessment panel (processes.services.pre_assessment) and
the commissioned evaluations' panel (processes.services.commissioned).

The caller locks its object, checks the actor and the status, and passes the members still
owing their opinion; this module sends one ``reminder`` notice each, skips whoever was
reminded about the same object in the last ``panel_remind_hours()`` (counted from the
notices themselves: no table of its own), and writes one ``remind_panel`` audit event
naming who was reminded and who was skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from notifications.models import Notification
from notifications.services import Message, notify

from ..errors import Conflict
from .audit import audit_record


class Seat(Protocol):
    user_id: int
    user: User


S = TypeVar("S", bound=Seat)


def panel_remind_hours() -> int:
    """A member is reminded at most once in this many hours (settings.JIXIAO, decision 0018)."""
    return int(settings.JIXIAO["REMINDERS"].get("PANEL_REMIND_HOURS", 24))


def remind_members(
    *,
    obj: models.Model,
    state: str,
    pending: Sequence[S],
    actor: User,
    verb: str,
    params: dict[str, Any],
    url: str,
    nobody_pending: str,
    now: datetime | None = None,
) -> tuple[list[S], list[S]]:
    """Remind ``pending`` (the seats still owing their opinion, in seat order) about
    ``obj``: returns (reminded, skipped). Must run inside the caller's transaction, after
    its checks. Conflict (nothing written) with ``nobody_pending`` when ``pending`` is
    empty, and when every one of them was reminded within ``panel_remind_hours()``."""
    if not pending:
        raise Conflict(nobody_pending)
    now = now or timezone.now()
    hours = panel_remind_hours()
    object_type, object_id = obj._meta.label_lower, str(obj.pk)
    recent = set(
        Notification.objects.filter(
            recipient_id__in=[m.user_id for m in pending],
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            created_at__gte=now - timedelta(hours=hours),
        ).values_list("recipient_id", flat=True)
    )
    reminded = [m for m in pending if m.user_id not in recent]
    skipped = [m for m in pending if m.user_id in recent]
    if not reminded:
        raise Conflict(_("这些成员在 %(hours)s 小时内已提醒过，请稍后再提醒。") % {"hours": hours})
    event = audit_record(
        obj=obj,
        action="remind_panel",
        actor=actor,
        role=Role.AGENCY_STAFF,
        from_state=state,
        to_state=state,
        detail={"reminded": [m.user_id for m in reminded], "skipped": [m.user_id for m in skipped]},
    )
    notify(
        messages={m.user: Message("reminder", verb, params) for m in reminded},
        event_key=f"audit:{event.sequence}",
        url=url,
        object_type=object_type,
        object_id=object_id,
    )
    return reminded, skipped
