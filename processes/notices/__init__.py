"""Who is told what, per lifecycle: the ``tells=`` of every transition's declaration
(processes.transitions). One module per lifecycle; the audiences they share are here.

A ``tells`` function takes the applied :class:`processes.transitions.Step` and returns
``{user: Message}``; the engine drops the actor and writes the rows under the step's
audit key, so nobody is told twice.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Role

if TYPE_CHECKING:
    from notifications.services import Message


def with_role(role: str, **filters) -> list[User]:
    """Active holders of ``role`` (optionally narrowed, e.g. ``department_id=...``)."""
    cache = _cache.get()
    if cache is not None:
        department_id = filters.get("department_id")
        if set(filters) == {"department_id"} and department_id in cache["members"]:
            return [u for u in cache["members"][department_id] if role in cache["roles"].get(u.pk, ())]
        key = (role, tuple(sorted(filters.items())))
        if key not in cache["with_role"]:
            cache["with_role"][key] = list(User.objects.filter(is_active=True, groups__name=role, **filters).distinct())
        return cache["with_role"][key]
    return list(User.objects.filter(is_active=True, groups__name=role, **filters).distinct())


def finance_officers() -> list[User]:
    return with_role(Role.FINANCE_OFFICER)


def supervisors() -> list[User]:
    return with_role(Role.SUPERVISOR)


def department_members(department_id: int | None) -> list[User]:
    """A department's staff and leaders, who hear of every step of its work."""
    if department_id is None:
        return []
    cache = _cache.get()
    if cache is not None and department_id in cache["members"]:
        return list(cache["members"][department_id])
    return list(
        User.objects.filter(
            department_id=department_id, is_active=True, groups__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER]
        ).distinct()
    )


def department_leaders(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    return with_role(Role.DEPT_LEADER, department_id=department_id)


def agency_staff(agency_id: int | None) -> list[User]:
    if agency_id is None:
        return []
    return with_role(Role.AGENCY_STAFF, agency_id=agency_id)


def everyone(users, message: Message) -> dict[User, Message]:
    """The same ``message`` for each of ``users``."""
    return dict.fromkeys(users, message)


# -- bulk actions (processes.transitions.apply_many) ----------------------------------------

#: One notice for several items of one bulk action (the action's label is a message id).
BULK_DONE = gettext_noop("%(action)s：共 %(count)s 项（%(items)s）")
#: How many items a grouped notice names; the rest are counted.
BULK_NAMED = 20

_cache: ContextVar[dict | None] = ContextVar("audiences_cache", default=None)


def bulk_message(label, objs, *, kind: str = "approved") -> Message:
    """What a recipient told of several items of one bulk action reads: the action, the
    count, and the first BULK_NAMED items by name."""
    from notifications.services import Message

    from ..transitions import msgid

    names = "、".join(str(o) for o in objs[:BULK_NAMED])
    if len(objs) > BULK_NAMED:
        names += " …"
    return Message(kind, BULK_DONE, {"action": msgid(label), "count": len(objs), "items": names}, ("action",))


def _department_of(obj) -> int | None:
    department_id = getattr(obj, "department_id", None)
    if department_id is None and getattr(obj, "project_id", None) is not None:
        department_id = obj.project.department_id
    return department_id


@contextmanager
def audiences_cached(objs):
    """Within the block, the audiences above are read once: the members (staff and
    leaders) of the departments of ``objs`` in two queries up front, each ``with_role``
    once — so a bulk action's notices cost the same statements for 3 items or 3,000."""
    department_ids = {d for d in (_department_of(o) for o in objs) if d is not None}
    roles_of: dict[int, set[str]] = {}
    members: dict[int, list[User]] = {d: [] for d in department_ids}
    if department_ids:
        users = {
            u.pk: u
            for u in User.objects.filter(
                department_id__in=department_ids,
                is_active=True,
                groups__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER],
            )
            .distinct()
            .order_by("pk")
        }
        for user_id, role in User.groups.through.objects.filter(
            user_id__in=list(users), group__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER]
        ).values_list("user_id", "group__name"):
            roles_of.setdefault(user_id, set()).add(role)
        for user in users.values():
            if user.department_id is not None:
                members[user.department_id].append(user)
    cache = {"members": members, "roles": roles_of, "with_role": {}}
    token = _cache.set(cache)
    try:
        yield
    finally:
        _cache.reset(token)
