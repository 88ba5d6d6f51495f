"""Admin: the audit trail, read-only, for the audit administrator (审计管理员)."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import AuditEvent
from .services.audit import audit_verify


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "sequence",
        "occurred_at",
        "actor_username",
        "actor_role",
        "ip",
        "object_type",
        "object_repr",
        "action",
        "from_state",
        "to_state",
    )
    list_filter = ("object_type", "action", "actor_role")
    search_fields = ("object_repr", "actor_username", "comment", "object_id")
    ordering = ("-sequence",)
    actions = ["verify_chain"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("校验整条审计链"), permissions=["verify"])
    def verify_chain(self, request, queryset):
        problem = audit_verify()
        if problem is None:
            self.message_user(request, _("审计链完整。"), messages.SUCCESS)
        else:
            self.message_user(request, _("审计链在 %(where)s 处被破坏。") % {"where": problem}, messages.ERROR)

    def has_verify_permission(self, request):
        return request.user.has_perm("processes.verify_audit")
