"""Authentication backends."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class PermissionBackend(ModelBackend):
    """Django's ModelBackend, reading a user's permissions — their own and their role
    groups' — in one query instead of two. Almost every request asks at least one
    permission (a task's claim, a list's scope), so this is a statement off each of
    them. Everything else, and the answers, are ModelBackend's."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = Permission.objects.all()
            if not user_obj.is_superuser:
                perms = perms.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in perms.values_list("content_type__app_label", "codename").order_by()
            }
        return user_obj._perm_cache
