"""The hash-chained audit trail (审计日志)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class UnicodeJSONEncoder(json.JSONEncoder):
    """JSON with non-ASCII text as itself, not as ``\\u90e8``-style escapes: on SQLite, where a
    JSONField is stored as text, a Chinese character takes 3 bytes instead of 6. Reading
    it back gives the same value (and the audit hash is over the value, not its text)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events cannot be updated.")

    def delete(self):
        raise PermissionError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One row of the hash-chained audit trail (审计日志). Append-only.

    ``hash`` = SHA-256 over the row's canonical content and ``prev_hash``; see
    processes.services.audit for how rows are written and verified.
    """

    sequence = models.PositiveBigIntegerField(_("序号"), unique=True)
    occurred_at = models.DateTimeField(_("时间 (UTC)"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(_("操作人账号"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=32, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象"), max_length=64)
    object_repr = models.CharField(_("对象名称"), max_length=255, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    from_state = models.CharField(_("原状态"), max_length=32, blank=True)
    to_state = models.CharField(_("新状态"), max_length=32, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    prev_hash = models.CharField(_("前一行哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = pgettext_lazy("plural", "审计日志")
        ordering = ["sequence"]
        # An object's trail is read in sequence order, but it has tens of rows at most: they
        # are sorted after the lookup, and the key without ``sequence`` repeats for each of
        # them, which PostgreSQL stores once per page (B-tree deduplication).
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_event_object")]
        permissions = [("verify_audit", _("校验审计日志"))]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.object_type}:{self.object_id} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The single row every audit write locks: the last sequence and hash of the chain."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.last_sequence} {self.last_hash[:12]}"


class AuditVerification(models.Model):
    """One walk of the audit hash chain (``audit_verify``): when, by whom, and what it found.

    Written by the auditor's screen and ``manage.py verify_audit``; the screen shows the last.
    """

    verified_at = models.DateTimeField(_("校验时间"), db_index=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("校验人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    intact = models.BooleanField(_("链完整"))
    last_sequence = models.PositiveBigIntegerField(_("校验至序号"), default=0)
    bad_sequence = models.PositiveBigIntegerField(_("首个异常行序号"), null=True, blank=True)
    reason = models.TextField(_("异常说明"), blank=True)

    class Meta:
        verbose_name = _("审计链校验")
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"{self.verified_at:%Y-%m-%d %H:%M} {'intact' if self.intact else self.reason}"
