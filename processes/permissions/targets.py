"""Who may act on a project's performance targets (绩效目标): the ``permission=`` of
TargetSet's transitions, and the checks the screens and API share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import holds, in_department

if TYPE_CHECKING:
    from django.db import models

    from accounts.models import User

    from ..models import BudgetProject, TargetSet


def can_fill(project: BudgetProject, user: User) -> bool:
    """本部门经办人 draft, change and submit their department's targets."""
    return holds(user, "processes.submit_targets") and in_department(user, project)


def can_review(project: BudgetProject, user: User) -> bool:
    """本部门负责人 pass their department's targets to the finance section, or return them."""
    return holds(user, "processes.review_targets") and in_department(user, project)


def can_rate(user: User) -> bool:
    """财政绩效科 rates every department's targets."""
    return holds(user, "processes.rate_targets")


# -- the transitions' permission= (instance, user) ------------------------------------------

R = TypeVar("R")


def fsm(check: Callable[[R, User], bool]) -> Callable[[models.Model, Any], bool]:
    """``check`` itself, typed as django-fsm-2's ``transition(permission=...)`` wants it
    (django-fsm calls it only with the transition's own model and a User)."""
    return cast("Callable[[models.Model, Any], bool]", check)


def may_submit(target_set: TargetSet, user: User) -> bool:
    return can_fill(target_set.project, user)


def may_dept_review(target_set: TargetSet, user: User) -> bool:
    return can_review(target_set.project, user)


def may_rate(target_set: TargetSet, user: User) -> bool:
    return can_rate(user)


def system_only(target_set: TargetSet, user: User) -> bool:
    """Cascades (a newer version approved, the project ended): never a person's button."""
    return False
