"""Migration 0003_ops_email_outbox on existing rows: a notice claimed under the old scheme
counts as sent; an unclaimed one of the last day, for someone who takes e-mail, joins the
outbox; older unclaimed ones, and those of people who take no e-mail, do not."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.roles import sync_role_groups
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("notifications", "0002_notification_params_unicode_json")]
AFTER = [("notifications", "0003_ops_email_outbox")]


def migrate(target):
    return MigrationExecutor(connection).migrate(target).apps


def test_old_claims_count_as_sent_and_recent_unsent_join_the_outbox_when_migrated():
    sync_role_groups()  # a transactional test's flush removed the migration's groups
    takes_mail = make_user("dept_staff", email="yes@example.org")
    no_mail = make_user("dept_staff", email="no@example.org", email_notifications=False)
    now = timezone.now()
    migrated = False
    try:
        apps = migrate(BEFORE)
        Old = apps.get_model("notifications", "Notification")

        def row(user, key, age, emailed=False):
            note = Old.objects.create(recipient_id=user.pk, kind="k", verb="x", event_key=key)
            Old.objects.filter(pk=note.pk).update(created_at=now - age, emailed_at=now - age if emailed else None)
            return note.pk

        claimed = row(takes_mail, "claimed", timedelta(days=3), emailed=True)
        recent = row(takes_mail, "recent", timedelta(hours=2))
        stale = row(takes_mail, "stale", timedelta(days=3))
        opted_out = row(no_mail, "opted-out", timedelta(hours=2))

        apps = migrate(AFTER)
        migrated = True
        New = apps.get_model("notifications", "Notification")
        due = dict(New.objects.values_list("pk", "email_due_at"))
        sent = dict(New.objects.values_list("pk", "emailed_at"))
    finally:
        if not migrated:
            migrate(AFTER)

    assert due[claimed] is not None and sent[claimed] is not None  # sent: never again
    assert due[recent] is not None and sent[recent] is None  # in the outbox
    assert due[stale] is None and due[opted_out] is None  # no e-mail
