"""Reads of notifications: a user sees only their own."""

from django.db.models import QuerySet

from .models import Notification


def notification_list_for(user, *, unread: bool | None = None) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    return qs
