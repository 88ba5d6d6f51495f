"""Background work of notifications. Eager in the embedded default; Celery workers in production."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Notification


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification, at most once (the emailed_at claim is conditional)."""
    with transaction.atomic():
        claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            return False
        note = Notification.objects.select_related("recipient").get(pk=notification_id)
        user = note.recipient
        with translation.override(user.language):
            text = note.text
            subject = _("【绩效管理】%(text)s") % {"text": text}
            link = f"{settings.SITE_URL.rstrip('/')}{note.url}" if note.url else ""
            body = "\n\n".join(filter(None, [text, link, _("此邮件由绩效管理系统自动发送，请勿直接回复。")]))
        send_mail(subject[:200], body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True
