"""E-mail of notifications: a transactional outbox. Eager in the embedded default; Celery
workers in production.

A notice whose recipient takes e-mail is written, in the transition's transaction, with
``email_due_at`` set: from then on it is an unsent row of the outbox until ``emailed_at``
says it was sent. Two senders work the outbox:

- the task queued after the commit (``send_notification_emails``, one per delivery), which
  sends at once; queuing it may fail (broker down) — nothing is lost;
- the periodic sweep (``sweep_notification_emails``, beat, every minute), which sends every
  notice due and unsent whose lease is free or expired.

A sender leases a chunk of notices (``email_lease_until``, one UPDATE … RETURNING, so two
senders never hold the same notice), sends each and marks it sent at once. A worker killed
mid-send leaves a lease that expires; the sweep then sends those notices again. What
remains is one duplicate window: a message the mail server accepted whose "sent" mark was
not committed (the worker died between the two). See docs/decisions/0012.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.beat_lock import periodic_once
from config.prepared import PreparedModelsIn

from .models import Notification

logger = logging.getLogger("jixiao.notifications")

#: The header every notification e-mail carries: the notice's id (duplicates are countable).
NOTIFICATION_HEADER = "X-Jixiao-Notification"
#: Most notices one sweep sends (the rest wait for the next minute), and its time budget:
#: well under the broker's visibility timeout.
SWEEP_LIMIT = 2000
SWEEP_SECONDS = 200


def lease_seconds() -> int:
    return int(settings.NOTIFICATION_EMAIL_LEASE_SECONDS)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    """E-mail the notices of one delivery that are still unsent and not leased to another
    sender. If the mail server fails, the leases of those not yet sent are released and the
    task retries (the sweep would take them too). Returns how many were sent."""
    return send_outbox(notification_ids)


@shared_task
@periodic_once("notifications.tasks.sweep_notification_emails")  # one sweep per period however many beats
def sweep_notification_emails() -> int | None:
    """Send every notice whose e-mail is due, unsent, and not leased (or whose lease
    expired: its sender died). A failing mail server ends the sweep (logged); the next
    sweep tries again. Returns how many were sent."""
    started, sent, seen = time.monotonic(), 0, 0
    while seen < SWEEP_LIMIT and time.monotonic() - started < SWEEP_SECONDS:
        ids = outbox_due(limit=min(200, SWEEP_LIMIT - seen))
        if not ids:
            break
        seen += len(ids)
        try:
            sent += send_outbox(ids)
        except OSError:
            logger.warning("e-mail sweep: mail server failed; %s sent, the rest wait for the next sweep", sent)
            break
    if sent:
        logger.info("e-mail sweep sent %s notification e-mails", sent)
    return sent


def outbox_due(*, limit: int, now: datetime | None = None) -> list[int]:
    """Ids of the notices whose e-mail is due, unsent and free, oldest first."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(email_due_at__lte=now, emailed_at__isnull=True)
        .filter(Q(email_lease_until__isnull=True) | Q(email_lease_until__lt=now))
        .order_by("email_due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def send_outbox(notification_ids: Iterable[int]) -> int:
    """Lease, send and mark sent the given notices, a chunk at a time over one mail
    connection. Notices sent, leased by another sender, or wanting no e-mail are skipped.
    Raises OSError when the mail server fails, after releasing the unsent leases."""
    ids = sorted({int(pk) for pk in notification_ids})
    chunk = max(1, int(settings.NOTIFICATION_EMAIL_CHUNK))
    sent = 0
    mailer = None
    try:
        for start in range(0, len(ids), chunk):
            lease, notes = _lease(ids[start : start + chunk])
            if not notes:
                continue
            if mailer is None:
                try:
                    mailer = get_connection()
                    mailer.open()
                except Exception:
                    mailer = None
                    _release([n.pk for n in notes], lease)
                    raise
            sent += _send_leased(notes, lease, mailer)
    finally:
        if mailer is not None:
            try:
                mailer.close()
            except OSError:
                logger.warning("closing the mail connection failed", exc_info=True)
    return sent


def _send_leased(notes: list[Notification], lease: datetime, mailer) -> int:
    sent = 0
    for i, note in enumerate(notes):
        user = note.recipient
        if not (user.is_active and user.email_notifications and user.email):
            # opted out (or lost their address) since the notice was written
            Notification.objects.filter(pk=note.pk, email_lease_until=lease).update(
                email_due_at=None, email_lease_until=None
            )
            continue
        try:
            _send(note, mailer)
        except smtplib.SMTPRecipientsRefused:
            # this address, not the server: retrying will not help
            logger.warning("e-mail of notification %s refused for %s; not retried", note.pk, user.email)
            Notification.objects.filter(pk=note.pk, email_lease_until=lease).update(
                email_due_at=None, email_lease_until=None
            )
            continue
        except Exception:
            _release([n.pk for n in notes[i:]], lease)
            raise
        # marked at once: the duplicate window is this statement, not the whole chunk
        _mark_sent(note.pk)
        sent += 1
    return sent


def _mark_sent(notification_id: int) -> None:
    """``Notification.objects.filter(pk=…, emailed_at__isnull=True).update(emailed_at=now,
    email_lease_until=None)`` — one per e-mail sent, in the request on the embedded
    default — written as the lease is, without building and compiling the update each time."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET emailed_at = %s, email_lease_until = NULL WHERE id = %s AND emailed_at IS NULL",
            [connection.ops.adapt_datetimefield_value(timezone.now()), notification_id],
        )


def _lease(notification_ids: list[int]) -> tuple[datetime, list[Notification]]:
    """Lease those of the notices that are due for e-mail, unsent and free (no lease, or an
    expired one), in one statement (UPDATE … RETURNING, which PostgreSQL and SQLite ≥ 3.35
    both run): a notice another sender holds is skipped, and one it is leasing is waited
    for, then skipped. Returns the lease's end and the leased notices with recipients."""
    now = timezone.now()
    lease = now + timedelta(seconds=lease_seconds())
    if not notification_ids:
        return lease, []
    table = connection.ops.quote_name(Notification._meta.db_table)
    marks = ", ".join(["%s"] * len(notification_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET email_lease_until = %s WHERE id IN ({marks}) AND email_due_at IS NOT NULL"
            " AND emailed_at IS NULL AND (email_lease_until IS NULL OR email_lease_until < %s) RETURNING id",
            [
                connection.ops.adapt_datetimefield_value(lease),
                *notification_ids,
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
        leased = [row[0] for row in cursor.fetchall()]
    if not leased:
        return lease, []
    return lease, _LEASED(leased)


#: the leased notices with their recipients, compiled once per number of notices
_LEASED = PreparedModelsIn(
    lambda ids: Notification.objects.filter(pk__in=ids).select_related("recipient").order_by("pk")
)


def _release(notification_ids: list[int], lease: datetime) -> None:
    """Give back this sender's leases (not one another sender took after ours expired)."""
    Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True, email_lease_until=lease).update(
        email_lease_until=None
    )


def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification, at most once."""
    return send_outbox([notification_id]) == 1


def _send(note: Notification, mailer) -> None:
    user = note.recipient
    with translation.override(user.language):
        text = note.text
        subject = _("【绩效管理】%(text)s") % {"text": text}
        link = f"{settings.SITE_URL.rstrip('/')}{note.url}" if note.url else ""
        body = "\n\n".join(filter(None, [text, link, _("此邮件由绩效管理系统自动发送，请勿直接回复。")]))
    message = EmailMessage(
        subject[:200],
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        headers={NOTIFICATION_HEADER: str(note.pk)},
        connection=mailer,
    )
    message.send()
