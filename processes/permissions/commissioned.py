"""Who may act on a commissioned evaluation (重点评价 / 部门整体绩效评价): the ``permission=``
of its transitions (processes.models.evaluation.CommissionedEvaluation) and the checks of
its screens, API and selectors. Each is ``(evaluation, user) -> bool`` as django-fsm-2 calls
it; ``can_commission`` has no evaluation yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import holds

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import CommissionedEvaluation


def can_commission(user: User) -> bool:
    """财政绩效科 commissions a key or department-overall evaluation."""
    return holds(user, "processes.launch_evaluation")


def can_review_plan(evaluation: CommissionedEvaluation | None, user: User) -> bool:
    """财政绩效科 approves or returns the agency's plan (of any evaluation: the role decides)."""
    return holds(user, "processes.launch_evaluation")


def can_disclose(evaluation: CommissionedEvaluation | None, user: User) -> bool:
    """财政绩效科 approves the final report's disclosure (of any evaluation: the role decides)."""
    return holds(user, "processes.approve_disclosure")


def is_agency_of(evaluation: CommissionedEvaluation, user: User) -> bool:
    """The commissioned agency's staff: plan, fieldwork, draft, draw, finalize."""
    return holds(user, "processes.conduct_evaluation") and user.agency_id == evaluation.agency_id


def is_department_of(evaluation: CommissionedEvaluation, user: User) -> bool:
    """The evaluated department's staff or leader (for a key evaluation, the project's)."""
    return (
        user.is_active
        and user.is_department_user
        and user.department_id is not None
        and user.department_id == evaluation.department_id
    )
