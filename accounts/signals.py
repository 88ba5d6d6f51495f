"""Guards on role membership that hold whatever path changes it (admin, shell, API), and
the account events others listen to.

The events (sent inside the change's transaction; processes.account_audit writes them to
the audit trail — accounts never imports processes):

- ``password_set_by_other(actor, operator, user, created)``: someone other than ``user``
  set their password (``actor`` a User, or None and ``operator`` the OS user of a
  management command); ``created``: the account was created with it.
- ``password_changed_by_owner(user)``: the user changed their own password.
- ``role_changed(actor, operator, user, role, granted)``: a role group was given to
  (``granted``) or taken from ``user`` by ``actor`` (a User), or by the operator of a
  management command (``actor`` None, ``operator`` the OS user). Not sent when nobody
  is known to be acting (a data migration, a test factory, the Python shell): see
  accounts.passwords.
- ``expert_library_imported(actor, role, group, file_name, result)``: ``actor`` imported
  the expert library (accounts.services.expert_library_import) acting as ``role``;
  ``group`` is the expert role group (the event's object), ``result`` the ImportResult.
"""

from django.contrib.auth.signals import user_logged_out
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed
from django.dispatch import Signal, receiver
from django.utils.translation import gettext as _

from .models import User
from .passwords import current_actor, revoke_api_tokens
from .roles import role_labels, separated_role_conflict

password_set_by_other = Signal()
password_changed_by_owner = Signal()
role_changed = Signal()
expert_library_imported = Signal()


@receiver(m2m_changed, sender=User.groups.through)
def enforce_separation_of_duties(sender, instance, action, reverse, pk_set, **kwargs):
    """三员分立: refuse to give one account two of sysadmin / auditor / finance_officer."""
    if action != "pre_add" or not pk_set:
        return
    from django.contrib.auth.models import Group

    if not reverse:  # user.groups.add(...)
        added = set(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        users = [(instance, added)]
    else:  # group.user_set.add(...)
        users = [(u, {instance.name}) for u in User.objects.filter(pk__in=pk_set)]
    for user, added in users:
        current = set(user.groups.values_list("name", flat=True))
        clash = separated_role_conflict(current | added)
        if clash:
            raise ValidationError(_("三员分立：同一账号不能同时担任 %(roles)s。") % {"roles": role_labels(clash)})


@receiver(m2m_changed, sender=User.groups.through)
def announce_role_change(sender, instance, action, reverse, pk_set, **kwargs):
    """Send ``role_changed`` once per (user, role) actually granted or removed, whichever
    side changed it (``user.groups`` or ``group.user_set``) and however (add, remove, set —
    which is what the admin's user form does —, clear). Django sends add/remove with only
    the rows that change, so adding a role the user holds announces nothing."""
    from django.contrib.auth.models import Group

    actor = current_actor()
    if actor is None:
        return
    if action == "pre_clear":
        # the rows are gone by post_clear, and pk_set is None then: read them first
        if not reverse:
            instance._roles_cleared = list(instance.groups.all())
        else:
            instance._users_cleared = list(instance.user_set.all())
        return
    if action == "post_clear":
        pairs = (
            [(instance, g) for g in getattr(instance, "_roles_cleared", [])]
            if not reverse
            else [(u, instance) for u in getattr(instance, "_users_cleared", [])]
        )
        granted = False
    elif action in ("post_add", "post_remove") and pk_set:
        granted = action == "post_add"
        if not reverse:
            pairs = [(instance, g) for g in Group.objects.filter(pk__in=pk_set).order_by("name")]
        else:
            pairs = [(u, instance) for u in User.objects.filter(pk__in=pk_set).order_by("username")]
    else:
        return
    for user, group in pairs:
        role_changed.send(
            sender=User,
            actor=actor.user,
            operator=actor.operator,
            user=user,
            role=group.name,
            granted=granted,
        )


@receiver(user_logged_out)
def revoke_tokens_on_logout(sender, request, user, **kwargs):
    """Signing out of the site ends the user's API tokens as well."""
    if user is not None:
        revoke_api_tokens(user)
