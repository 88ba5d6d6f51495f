"""Who may act on the people's congress committee's review opinions 审议意见 (issue 19): the
``permission=`` of the ``CommitteeOpinionItem`` transitions and the checks of the service,
selectors and screens. The finance section records opinions, assigns their items and accepts
or returns the responses; the assigned department's staff and leaders respond (the finance
section responds to the items assigned to the finance bureau itself); the finance section,
supervisors, auditors and the congress reader read the 审议意见落实情况 table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from . import holds

if TYPE_CHECKING:
    from django.db import models

    from accounts.models import User

    from ..models import CommitteeOpinionItem


def can_record(user: User) -> bool:
    """录入审议意见、分解交办、验收: the finance section."""
    return holds(user, "processes.record_committee_opinion")


def can_read_all(user: User) -> bool:
    """The whole 审议意见落实情况 table of a year: finance, supervisors, auditors, the congress."""
    return holds(user, "processes.read_committee_opinions")


def can_respond(item: CommitteeOpinionItem, user: User) -> bool:
    """报送落实情况: the assigned department's staff and leaders; for an item assigned to the
    finance bureau, the finance section."""
    if item.department_id is None:
        return can_record(user)
    return (
        holds(user, "processes.respond_committee_opinion")
        and user.department_id is not None
        and user.department_id == item.department_id
    )


def can_see_item(item: CommitteeOpinionItem, user: User) -> bool:
    return can_read_all(user) or can_respond(item, user)


# -- the transitions' permission= ------------------------------------------------------------


def may_respond(item: models.Model, user: Any) -> bool:
    return can_respond(cast("CommitteeOpinionItem", item), user)


def may_review(item: models.Model, user: Any) -> bool:
    return can_record(user)
