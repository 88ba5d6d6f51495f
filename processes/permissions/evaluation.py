"""Who may act on the year's self-evaluations and their re-checks (绩效自评, 复核): the
``permission=`` of their transitions, and the checks of the screens, the API and the
services (processes.services.evaluation imports them back)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from . import holds, in_department

if TYPE_CHECKING:
    from django.db import models

    from accounts.models import User

    from ..models import Recheck, SelfEvaluation


def fsm(check: Callable[[Any, User], bool]) -> Callable[[models.Model, Any], bool]:
    """``check`` typed as django-fsm-2's ``transition(permission=...)`` wants it (the stub
    asks for a function of any model and any user; django-fsm calls it with the model the
    transition is on and our User), so the cast widens the static type only."""
    return cast("Callable[[models.Model, Any], bool]", check)


def can_launch(user: User) -> bool:
    """The finance section launches a campaign and samples re-checks."""
    return holds(user, "processes.launch_evaluation")


def can_fill(evaluation: SelfEvaluation, user: User) -> bool:
    """The department's staff fill and submit its own projects' self-evaluations."""
    return holds(user, "processes.fill_self_evaluation") and in_department(user, evaluation.project)


def can_dept_review(evaluation: SelfEvaluation, user: User) -> bool:
    """The department leader passes or returns its own projects' self-evaluations."""
    return holds(user, "processes.review_self_evaluation_dept") and in_department(user, evaluation.project)


def can_accept(user: User) -> bool:
    """The finance section accepts or returns any self-evaluation."""
    return holds(user, "processes.accept_self_evaluation")


def can_accept_evaluation(evaluation: SelfEvaluation, user: User) -> bool:
    """``can_accept`` as a transition's ``permission=`` (instance, user)."""
    return can_accept(user)


def can_rescore(recheck: Recheck, user: User) -> bool:
    """The commissioned agency's staff rescore, submit and finalize its re-checks."""
    return (
        holds(user, "processes.conduct_evaluation")
        and user.agency_id is not None
        and user.agency_id == recheck.sample.agency_id
    )


def can_feed_back(recheck: Recheck, user: User) -> bool:
    """The project's department (staff or leader) comments on the rescoring."""
    return user.is_active and user.is_department_user and in_department(user, recheck.project)


def nobody(obj, user: User) -> bool:
    """A transition another step applies (a cascade), never a person's button."""
    return False
