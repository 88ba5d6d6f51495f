"""The e-mail outbox under concurrent senders, on PostgreSQL: two sweeps (two beats, or a
sweep beside a redelivered task) at the same instant send each e-mail once, and a sweep
that runs while another sender holds leases leaves those alone.

Each sender is a thread with its own database connection; a barrier releases them
together. Sending is slowed a little so the senders' chunks really overlap.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from notifications import tasks
from notifications.models import Notification

from ..factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HEADER = "X-Jixiao-Notification"


def due_notices(n: int, key: str) -> list[int]:
    people = [make_user("dept_staff", email=f"{key}{i}@example.org") for i in range(n)]
    past = timezone.now() - timedelta(minutes=5)
    with transaction.atomic():
        notes = Notification.objects.bulk_create(
            Notification(recipient=u, kind="stage_changed", verb="x", event_key=key, email_due_at=past) for u in people
        )
    mail.outbox = []
    return [n.pk for n in notes]


def race(*senders: Callable[[], int]) -> list[int]:
    barrier = threading.Barrier(len(senders))
    results: list[int] = []
    errors: list[BaseException] = []

    def run(sender: Callable[[], int]) -> None:
        try:
            Notification.objects.exists()  # this thread's connection, opened before the start
            barrier.wait(timeout=30)
            results.append(sender())
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return results


@pytest.fixture
def slow_send(monkeypatch):
    real = tasks._send

    def slow(note, mailer):
        time.sleep(0.005)
        real(note, mailer)

    monkeypatch.setattr(tasks, "_send", slow)


def test_each_email_is_sent_once_when_two_sweeps_run_at_once(district, slow_send, settings):
    settings.NOTIFICATION_EMAIL_CHUNK = 5
    ids = due_notices(60, "sweep-race")

    sent = race(tasks.sweep_notification_emails, tasks.sweep_notification_emails)

    assert sum(sent) == len(ids)
    copies = Counter(int(m.extra_headers[HEADER]) for m in mail.outbox)
    assert set(copies) == set(ids)
    assert max(copies.values()) == 1
    assert not Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).exists()
    assert not Notification.objects.filter(pk__in=ids, email_lease_until__isnull=False).exists()


def test_each_email_is_sent_once_when_a_sweep_races_the_delivery_task(district, slow_send, settings):
    settings.NOTIFICATION_EMAIL_CHUNK = 5
    ids = due_notices(60, "task-race")

    sent = race(tasks.sweep_notification_emails, lambda: tasks.send_notification_emails(ids))

    assert sum(sent) == len(ids)
    copies = Counter(int(m.extra_headers[HEADER]) for m in mail.outbox)
    assert set(copies) == set(ids) and max(copies.values()) == 1
