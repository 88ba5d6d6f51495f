"""notify reads what it needs of its recipients without one query per recipient, also when
a bulk path loaded them without their e-mail fields (campaign launch's ``.only``)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from notifications.models import Notification
from notifications.services import Message, notify

pytestmark = pytest.mark.django_db


def _notify_deferred(users: list[User], key: str) -> int:
    deferred = list(User.objects.filter(pk__in=[u.pk for u in users]).only("id", "is_active"))
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        notify(messages={u: Message("stage_changed", "通知") for u in deferred}, event_key=key)
    return len(captured)


def test_email_preferences_are_read_once_when_recipients_were_loaded_without_them(district):
    people = list(User.objects.filter(is_active=True).order_by("pk")[:6])
    assert len(people) == 6
    people[0].email, people[0].email_notifications = "a@example.cn", True
    people[1].email, people[1].email_notifications = "b@example.cn", False
    people[2].email = ""
    for person in people[:3]:
        person.save(update_fields=["email", "email_notifications"])

    one = _notify_deferred(people[:1], "one")
    six = _notify_deferred(people, "six")

    assert six == one  # the same statements for one recipient and for six
    due = dict(Notification.objects.filter(event_key="six").values_list("recipient_id", "email_due_at"))
    takes = {p.pk for p in User.objects.filter(pk__in=[p.pk for p in people]) if p.email_notifications and p.email}
    assert {pk for pk, at in due.items() if at is not None} == takes
    assert people[0].pk in takes and people[1].pk not in takes and people[2].pk not in takes
