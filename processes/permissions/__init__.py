"""Who may act on what. Roles give the permission; the department gives the scope.

These functions are the `permission=` of the FSM transitions and the checks of the
selectors and API; keep them free of I/O beyond the user's own permission cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.roles import holds as holds  # the one permission check, defined with the roles

if TYPE_CHECKING:
    from accounts.models import User

    from .models import BudgetProject


def in_department(user: User, project: BudgetProject) -> bool:
    return user.department_id is not None and user.department_id == project.department_id


def can_submit(project: BudgetProject, user: User) -> bool:
    return holds(user, "processes.submit_project") and in_department(user, project)


def can_edit(project: BudgetProject, user: User) -> bool:
    return holds(user, "processes.change_budgetproject") and in_department(user, project)


def can_review(project: BudgetProject, user: User) -> bool:
    """部门负责人 approves or returns what their own department's staff submitted."""
    return holds(user, "processes.review_project") and in_department(user, project)


def can_intake(project: BudgetProject, user: User) -> bool:
    return holds(user, "processes.intake_project")


def can_withdraw(project: BudgetProject, user: User) -> bool:
    return holds(user, "processes.withdraw_project") and in_department(user, project)


def can_cancel(project: BudgetProject, user: User) -> bool:
    return holds(user, "processes.cancel_project")


def can_close_out(project: BudgetProject, user: User) -> bool:
    """财政绩效科 closes a year's evaluated projects (年度关账); the one who verifies rectifications."""
    return holds(user, "processes.issue_rectification")


def system_only(project: BudgetProject, user: User) -> bool:
    """Transitions driven by later sub-processes' services, never by a person directly."""
    return False
