"""Background work of notifications. Eager in the embedded default; Celery workers in production."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Notification


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    """E-mail the notifications of one delivery, each at most once: they are claimed
    (``emailed_at``) first — rows another worker has claimed are skipped — then sent. If
    the mail server fails, the claims of those not yet sent are released and the task
    retries them. Returns how many were sent."""
    notes = _claim(notification_ids)
    for sent, note in enumerate(notes):
        try:
            _send(note)
        except OSError:
            Notification.objects.filter(pk__in=[n.pk for n in notes[sent:]]).update(emailed_at=None)
            raise
    return len(notes)


def _claim(notification_ids: list[int]) -> list[Notification]:
    """Set ``emailed_at`` on those of the notifications not yet claimed, in one statement
    (UPDATE … RETURNING, which PostgreSQL and SQLite ≥ 3.35 both run): a row another
    worker claimed first is skipped, and one it is claiming is waited for, then skipped.
    Returns the claimed notifications with their recipients."""
    ids = [int(pk) for pk in notification_ids]
    if not ids:
        return []
    table = connection.ops.quote_name(Notification._meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET emailed_at = %s WHERE id IN ({marks}) AND emailed_at IS NULL RETURNING id",
            [now, *ids],
        )
        claimed = [row[0] for row in cursor.fetchall()]
    if not claimed:
        return []
    return list(Notification.objects.filter(pk__in=claimed).select_related("recipient").order_by("pk"))


def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification, at most once."""
    return send_notification_emails([notification_id]) == 1


def _send(note: Notification) -> None:
    user = note.recipient
    with translation.override(user.language):
        text = note.text
        subject = _("【绩效管理】%(text)s") % {"text": text}
        link = f"{settings.SITE_URL.rstrip('/')}{note.url}" if note.url else ""
        body = "\n\n".join(filter(None, [text, link, _("此邮件由绩效管理系统自动发送，请勿直接回复。")]))
    send_mail(subject[:200], body, settings.DEFAULT_FROM_EMAIL, [user.email])
