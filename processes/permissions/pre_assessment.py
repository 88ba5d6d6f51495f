"""Who may act on a pre-assessment (事前绩效评估) and on a panel member's opinion: the
``permission=`` of their transitions (processes.models.pre_assessment), also read by the
services for the steps that are not transitions (a draft saved, a member replaced)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import holds

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import Opinion, PreAssessment


def can_start(user: User) -> bool:
    """财政绩效科 commissions a pre-assessment."""
    return holds(user, "processes.start_pre_assessment")


def is_commissioned(pre_assessment: PreAssessment, user: User) -> bool:
    """The staff of the agency commissioned with this review organise it (draw, replace,
    remind, conclude)."""
    return (
        holds(user, "processes.organise_review")
        and user.agency_id is not None
        and user.agency_id == pre_assessment.agency_id
    )


def can_confirm(pre_assessment: PreAssessment, user: User) -> bool:
    """财政绩效科 confirms the agency's conclusion or returns it."""
    return holds(user, "processes.confirm_pre_assessment")


def holds_seat(opinion: Opinion, user: User) -> bool:
    """Only the seated member themself fills and submits their opinion."""
    member = opinion.member
    return user.is_active and member.active and member.user_id == user.pk
