"""In-app notifications. One row per recipient per event; the unique key forbids a second."""

import json

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class UnicodeJSONEncoder(json.JSONEncoder):
    """JSON with non-ASCII text as itself, not as ``\\u90e8``-style escapes: on SQLite, where a
    JSONField is stored as text, a Chinese character takes 3 bytes instead of 6."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class Notification(models.Model):
    """通知. ``verb`` is a message id (translated when shown, in the reader's language);
    ``params`` fill it, and the keys listed in ``translated_params`` are message ids too."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类别"), max_length=32)
    verb = models.CharField(_("消息模板"), max_length=255)
    params = models.JSONField(_("参数"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    translated_params = models.JSONField(default=list, blank=True)
    url = models.CharField(_("链接"), max_length=255, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    event_key = models.CharField(_("事件键"), max_length=96)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # The e-mail outbox (docs/decisions/0012): a notice whose recipient takes e-mail is
    # written with ``email_due_at`` (the periodic sweep may send it from then on; the task
    # queued after the commit sends it at once); a sender leases it until
    # ``email_lease_until`` while sending; ``emailed_at`` says it was sent. No e-mail
    # wanted: ``email_due_at`` is null.
    email_due_at = models.DateTimeField(_("邮件待发时间"), null=True, blank=True)
    email_lease_until = models.DateTimeField(_("邮件发送租约到期"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event_key"], name="notification_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # the outbox: only the e-mails not yet sent (a handful), never the history
            models.Index(
                fields=["email_due_at"],
                condition=models.Q(email_due_at__isnull=False, emailed_at__isnull=True),
                name="notification_email_outbox",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The message in the active language."""
        params = {
            k: (gettext(v) if k in self.translated_params and isinstance(v, str) else v) for k, v in self.params.items()
        }
        try:
            return gettext(self.verb) % params
        except (KeyError, TypeError, ValueError):
            # a translation whose placeholders do not match: the source message, filled in
            return self.verb % self.params

    def text_in(self, language: str) -> str:
        with translation.override(language):
            return self.text

    @property
    def email_pending(self) -> bool:
        """An e-mail is wanted and not yet sent."""
        return self.email_due_at is not None and self.emailed_at is None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
