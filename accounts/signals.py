"""Guards on role membership that hold whatever path changes it (admin, shell, API)."""

from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils.translation import gettext as _

from .models import User
from .roles import role_labels, separated_role_conflict


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
