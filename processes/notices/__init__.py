"""Who is told what, per lifecycle: the ``tells=`` of every transition's declaration
(processes.transitions). One module per lifecycle; the audiences they share are here.

A ``tells`` function takes the applied :class:`processes.transitions.Step` and returns
``{user: Message}``; the engine drops the actor and writes the rows under the step's
audit key, so nobody is told twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import User
from accounts.roles import Role

if TYPE_CHECKING:
    from notifications.services import Message


def with_role(role: str, **filters) -> list[User]:
    """Active holders of ``role`` (optionally narrowed, e.g. ``department_id=...``)."""
    return list(User.objects.filter(is_active=True, groups__name=role, **filters).distinct())


def finance_officers() -> list[User]:
    return with_role(Role.FINANCE_OFFICER)


def supervisors() -> list[User]:
    return with_role(Role.SUPERVISOR)


def department_members(department_id: int | None) -> list[User]:
    """A department's staff and leaders, who hear of every step of its work."""
    if department_id is None:
        return []
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
