"""Two reminder sweeps at once on PostgreSQL (two schedulers, or a restart overlapping the old
one): each reminder is recorded and sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from processes.models import ReminderSent
from processes.services.reminders import reminders_send
from tests.processes.test_rectification import findings, issue  # noqa: F401  (fixtures)

from .test_pg_monitoring_race import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_sweeps_at_once_send_each_reminder_once(district, findings):  # noqa: F811
    assert connection.vendor == "postgresql"
    start = timezone.now()
    first = issue(district, findings[:1], deadline=start + timedelta(days=5))
    issue(district, findings[1:], deadline=start + timedelta(days=9))
    with time_machine.travel(first.deadline + timedelta(hours=1), tick=False):
        results = together([reminders_send, reminders_send])
    assert results == [None, None], results
    # first: overdue-1 (the earlier slots caught up); second: before-7 — one ledger row each
    assert sorted(ReminderSent.objects.filter(caught_up=False).values_list("slot", flat=True)) == [
        "before-7",
        "overdue-1",
    ]
    staff = Notification.objects.filter(recipient=district.staff_a, kind="reminder")
    supervisors = Notification.objects.filter(recipient=district.supervisor, kind="escalation")
    assert supervisors.count() == 1
    # each reminder reached the department once: in one summary, or split between the two runs
    reached = sum(n.params.get("count", 1) for n in staff)
    assert reached == 2
