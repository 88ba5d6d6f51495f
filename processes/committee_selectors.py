"""Reads of the committee's review opinions 审议意见 (issue 19): a year's 落实情况 table,
the items a user may see, one item for a user (404 otherwise). Each read costs a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .models import CommitteeOpinion, CommitteeOpinionItem
from .permissions.committee import can_read_all, can_record
from .states import OpinionItemStatus


def items_visible_to(user: User) -> QuerySet[CommitteeOpinionItem]:
    """Every item for the readers of the whole table; a department's own items for its staff
    and leaders; nothing for anyone else."""
    items = CommitteeOpinionItem.objects.select_related("opinion", "department").annotate(
        evidence_count=Count("evidence")
    )
    if can_read_all(user) or can_record(user):
        return items
    if (
        user.is_authenticated
        and user.department_id is not None
        and user.has_perm("processes.respond_committee_opinion")
    ):
        return items.filter(department_id=user.department_id)
    return items.none()


def item_get_for(user: User, pk: int) -> CommitteeOpinionItem:
    item = items_visible_to(user).filter(pk=pk).first()
    if item is None:
        raise Http404(_("审议意见事项不存在，或不在您的可见范围内。"))
    return item


@dataclass(frozen=True)
class YearTable:
    """审议意见落实情况 of one year: its opinions, each with its items in order."""

    year: int
    opinions: list[CommitteeOpinion]
    now: datetime

    @property
    def items(self) -> list[CommitteeOpinionItem]:
        return [item for o in self.opinions for item in o.items.all()]

    @property
    def counts(self) -> dict[str, int]:
        items = self.items
        return {
            "total": len(items),
            "accepted": sum(1 for i in items if i.status == OpinionItemStatus.ACCEPTED),
            "responded": sum(1 for i in items if i.status == OpinionItemStatus.RESPONDED),
            "open": sum(1 for i in items if i.status == OpinionItemStatus.ASSIGNED),
            "overdue": sum(1 for i in items if i.is_open and i.deadline < self.now),
        }


def year_table(year: int, *, now: datetime | None = None) -> YearTable:
    """The year's opinions with their items (assignee, evidence count): two queries."""
    items = (
        CommitteeOpinionItem.objects.select_related("department")
        .annotate(evidence_count=Count("evidence"))
        .order_by("position")
    )
    opinions = list(
        CommitteeOpinion.objects.filter(fiscal_year=year)
        .order_by("session_date", "pk")
        .prefetch_related(Prefetch("items", queryset=items))
    )
    return YearTable(year=year, opinions=opinions, now=now or timezone.now())
