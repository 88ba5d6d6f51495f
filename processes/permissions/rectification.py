"""Who may act on rectifications 整改 (DESIGN §3.6): the ``permission=`` of the
``Rectification`` and ``DeadlineExtension`` transitions and the checks of the service,
selectors and screens. The finance section issues and verifies; the department's staff and
leaders fill in, acknowledge, submit and ask for more time; supervisors decide on that."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import holds

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import DeadlineExtension, Rectification


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


# -- the transitions' permission= (instance, user) ------------------------------------------


def may_fill(rectification: Rectification, user: User) -> bool:
    return can_fill(rectification, user)


def may_review(rectification: Rectification, user: User) -> bool:
    return can_issue(user)


def may_decide(extension: DeadlineExtension, user: User) -> bool:
    return can_decide_extension(user)
