"""The e-mail outbox and the after-commit side effects, under a broker and a channel layer
that fail: a committed transition stays a success, nothing committed loses its e-mail, and
no e-mail goes out twice (docs/decisions/0012)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from notifications import tasks
from notifications.models import Notification
from notifications.services import Message, board_changed, deliver, notify
from processes.states import ProjectStage
from tests.api.support import client_for

HEADER = "X-Jixiao-Notification"


def sent_ids() -> list[int]:
    """The notification id of every e-mail sent, duplicates included."""
    return sorted(int(m.extra_headers[HEADER]) for m in mail.outbox)


@contextmanager
def clock_at(monkeypatch, seconds: float):
    """Move the clock ``seconds`` ahead (the sweep's and the leases' view of now)."""
    real_now = timezone.now
    moved = real_now() + timedelta(seconds=seconds)
    monkeypatch.setattr(timezone, "now", lambda: moved)
    try:
        yield moved
    finally:
        monkeypatch.setattr(timezone, "now", real_now)


def _forget_broker_connections() -> None:
    """Drop the app's connection and producer pools (as Celery does after a fork): they
    keep the broker they were opened to."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """Celery as in production (not eager), its broker a Redis port nothing listens on."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, "redis://127.0.0.1:1/0"
    _forget_broker_connections()
    try:
        yield
    finally:
        _forget_broker_connections()
        conf.task_always_eager, conf.broker_url = saved


class ExplodingLayer:
    """A channel layer whose every call fails, as channels-redis does with Redis down."""

    extensions = ["groups"]

    def __init__(self, **kwargs):
        pass

    async def group_send(self, group, message):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def send(self, channel, message):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def layer_down(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.notifications.test_outbox.ExplodingLayer"}}


def told(*people, key="k") -> list[int]:
    with transaction.atomic():
        notes = notify(messages={u: Message("stage_changed", "x") for u in people}, event_key=key)
    return [n.pk for n in notes]


@pytest.mark.django_db(transaction=True)
def test_transition_answers_200_and_email_waits_in_outbox_when_broker_and_layer_are_down(
    district, broker_down, layer_down, monkeypatch, caplog
):
    project = district.project(ProjectStage.DRAFT)
    caplog.set_level(logging.WARNING, logger="jixiao.notifications")

    response = client_for(district.staff_a).post(f"/api/projects/{project.pk}/submit/", {}, format="json")

    assert response.status_code == 200, response.content
    project.refresh_from_db()
    assert project.stage == ProjectStage.SUBMITTED
    notes = list(Notification.objects.filter(recipient__in=[district.leader_a, district.leader_a2]))
    assert len(notes) == 2
    assert all(n.email_pending and n.email_lease_until is None for n in notes)
    assert mail.outbox == []
    assert "the outbox sweep will send them" in caplog.text
    assert "more of this delivery skipped" in caplog.text

    assert tasks.sweep_notification_emails() == 0  # not due yet: its task may still come
    with clock_at(monkeypatch, 31):
        assert tasks.sweep_notification_emails() == 2
        assert tasks.sweep_notification_emails() == 0

    assert sent_ids() == sorted(n.pk for n in notes)
    assert {m.to[0] for m in mail.outbox} == {"leader_a@example.cn", "leader_a2@example.cn"}
    assert not Notification.objects.filter(pk__in=[n.pk for n in notes], emailed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_after_commit_effects_are_logged_not_raised_when_layer_and_broker_are_down(
    district, broker_down, layer_down, caplog
):
    ids = told(district.staff_a, district.leader_a)
    deliver(ids)  # the same call on_commit makes: no exception
    with transaction.atomic():
        board_changed("rectification_submitted")
    assert "board refresh (rectification_submitted) failed" in caplog.text

    response = client_for(district.staff_a).post(f"/api/notifications/{ids[0]}/read/", format="json")
    assert response.status_code == 200
    assert response.json()["read"] is True
    assert "push to user" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_job_start_commits_when_broker_is_down(district, broker_down, caplog, settings):
    from processes.models import Job
    from processes.services.jobs import job_start

    settings.JOBS_IN_THREAD = False
    job = job_start(kind="indicator_import", actor=district.finance, params={})

    assert Job.objects.filter(pk=job.pk).exists()
    assert "in on_commit()" in caplog.text  # Django's robust on_commit logged the failed dispatch


def test_email_is_resent_when_its_sender_died_and_the_lease_expired(district, monkeypatch):
    [pk] = told(district.staff_a)
    lease, leased = tasks._lease([pk])  # a worker leases it, then is killed before sending
    assert [n.pk for n in leased] == [pk]

    with clock_at(monkeypatch, 31):
        assert tasks.sweep_notification_emails() == 0  # due, but its lease runs
        assert tasks.send_notification_emails([pk]) == 0  # nor does a redelivered task take it
    with clock_at(monkeypatch, 121):
        assert tasks.sweep_notification_emails() == 1

    assert sent_ids() == [pk]


def test_sent_email_is_never_resent_when_swept_and_delivered_again(district, monkeypatch):
    ids = told(district.staff_a, district.leader_a)
    assert tasks.send_notification_emails(ids) == 2

    with clock_at(monkeypatch, 86400):
        assert tasks.sweep_notification_emails() == 0
        assert tasks.send_notification_emails(ids) == 0

    assert sent_ids() == sorted(ids)
    assert all(n.emailed_at and n.email_lease_until is None for n in Notification.objects.filter(pk__in=ids))


def test_sweep_releases_leases_and_sends_later_when_mail_server_is_down(district, monkeypatch, settings, caplog):
    ids = told(district.staff_a, district.leader_a, district.staff_b)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there

    with clock_at(monkeypatch, 31):
        assert tasks.sweep_notification_emails() == 0
    assert "mail server failed" in caplog.text
    assert Notification.objects.filter(pk__in=ids, email_lease_until__isnull=True, emailed_at__isnull=True).count() == 3

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with clock_at(monkeypatch, 91):
        assert tasks.sweep_notification_emails() == 3
    assert sent_ids() == sorted(ids)


def test_every_email_carries_its_notification_id_when_sent(district):
    ids = told(district.staff_a, district.leader_a)
    tasks.send_notification_emails(ids)
    assert sent_ids() == sorted(ids)


def test_no_email_row_is_due_when_recipient_takes_no_email(district):
    district.leader_a.email_notifications = False
    district.leader_a.save()
    [mine, theirs] = told(district.leader_a, district.staff_a)
    assert Notification.objects.get(pk=mine).email_due_at is None
    assert Notification.objects.get(pk=theirs).email_due_at is not None


def test_email_is_dropped_from_outbox_when_recipient_opted_out_after_it_was_written(district, monkeypatch):
    [pk] = told(district.staff_a)
    district.staff_a.email_notifications = False
    district.staff_a.save()

    with clock_at(monkeypatch, 31):
        assert tasks.sweep_notification_emails() == 0
        assert tasks.outbox_due(limit=10) == []

    assert mail.outbox == []
    assert Notification.objects.get(pk=pk).email_due_at is None


def test_delivery_emails_in_chunks_with_one_lease_each_when_many_are_told(
    district, settings, django_assert_max_num_queries
):
    from tests.factories import make_user

    settings.NOTIFICATION_EMAIL_CHUNK = 10
    people = [make_user("dept_staff", email=f"p{i}@example.org") for i in range(25)]
    ids = told(*people)

    # 3 chunks: lease + read each (6), and one "sent" mark per e-mail (25)
    with django_assert_max_num_queries(6 + 25):
        assert tasks.send_notification_emails(ids) == 25
    assert sent_ids() == sorted(ids)


def test_celery_acks_late_and_redelivers_within_the_visibility_timeout_when_configured():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    visibility = conf.broker_transport_options["visibility_timeout"]
    lease = tasks.lease_seconds()
    # a redelivered task finds the leases of the dead worker expired …
    assert lease < visibility <= 300
    # … and a live sender never outlasts its lease: a chunk's SMTP exchanges fit in it
    from django.conf import settings

    assert settings.NOTIFICATION_EMAIL_CHUNK * settings.EMAIL_TIMEOUT < lease
    entry = conf.beat_schedule["sweep-notification-emails"]
    assert entry["task"] == "notifications.tasks.sweep_notification_emails"
    assert float(entry["schedule"]) == 60.0


def test_embedded_scheduler_sends_due_emails_when_its_sweep_entry_runs(district, monkeypatch):
    from django.conf import settings

    from config.scheduler import run_due

    ids = told(district.staff_a, district.leader_a)
    with clock_at(monkeypatch, 31):
        ran = run_due(settings.CELERY_BEAT_SCHEDULE, {}, now=10_000.0)

    assert "sweep-notification-emails" in ran
    assert sent_ids() == sorted(ids)
