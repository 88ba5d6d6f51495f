"""Who may act on rectifications 整改 (DESIGN §3.6): the ``permission=`` of the
``Rectification`` and ``DeadlineExtension`` transitions and the checks of the service,
selectors and screens. The finance section issues and verifies; the department's staff and
leaders fill in, acknowledge, submit and ask for more time; supervisors decide on that."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from . import holds

if TYPE_CHECKING:
    from django.db import models

    from accounts.models import User

    from ..models import Rectification


def can_issue(user: User) -> bool:
    """下达、验收整改: the finance section."""
    return holds(user, "processes.issue_rectification")


def can_fill(rectification: Rectification, user: User) -> bool:
    """签收、填报、提交、申请延期: the rectified department's staff and leaders."""
    return (
        holds(user, "processes.fill_rectification")
        and user.department_id is not None
        and user.department_id == rectification.department_id
    )


def can_decide_extension(user: User) -> bool:
    """审批延期: the supervisors (分管领导)."""
    return holds(user, "processes.decide_extension")


# -- the transitions' permission= -------------------------------------------------------------
# Typed as django-fsm-2's stub wants them (any model, any user); django-fsm calls them with
# the transition's own instance and the User handed to has_transition_perm.


def may_fill(rectification: models.Model, user: Any) -> bool:
    """签收、提交 a Rectification."""
    return can_fill(cast("Rectification", rectification), user)


def may_review(rectification: models.Model, user: Any) -> bool:
    """验收销号、退回 a Rectification."""
    return can_issue(user)


def may_decide(extension: models.Model, user: Any) -> bool:
    """同意、不同意 a DeadlineExtension."""
    return can_decide_extension(user)
