"""The ledger of reminders sent: one row per (item, deadline, slot), so each is sent once —
across restarts and across schedulers running at once (the unique key decides)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReminderSent(models.Model):
    key = models.CharField(_("提醒标识"), max_length=200, unique=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象"), max_length=32)
    slot = models.CharField(_("提醒节点"), max_length=32)
    caught_up = models.BooleanField(_("补记（未单独发送）"), default=False)
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("已发送提醒")
        verbose_name_plural = pgettext_lazy("plural", "已发送提醒")
        indexes = [models.Index(fields=["object_type", "object_id"], name="reminder_object")]

    def __str__(self) -> str:
        return self.key
