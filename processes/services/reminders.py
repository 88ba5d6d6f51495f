"""Reminders and escalation (DESIGN §3.6; issue 7): the periodic sweep.

Each run looks at the open items with a deadline, works out from processes.reminders which
slot is due for each, and records it in the ledger (ReminderSent, unique key) before
anyone is told. A slot already in the ledger is never sent again — after a restart, or
when two schedulers run at once (the second's insert of the same key fails and it skips
the item). A person with more than one reminder in a run gets one summary, so a scheduler
that was down catches up without a flood. Overdue slots of an item that escalates also go
to the supervisors.

Items: open rectifications (to the department's staff and leaders); the committee's review
opinion items not yet accepted (to their assignee); re-checks and
commissioned evaluations (to whoever moves next); and, registered by workflows, open flow
tasks. The engine takes any provider of ``DueItem``s.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Role
from notifications.services import Message, notify

from .. import messages as msg
from ..models import CommissionedEvaluation, CommitteeOpinionItem, Recheck, Rectification, ReminderSent
from ..notices import supervisors
from ..notices.committee import assignee_people
from ..notices.rectification import rectification_people
from ..reminders import Schedule, Slot, due_now
from ..selectors import EVALUATION_STEPS, RECHECK_STEPS
from ..states import OPINION_ITEM_OPEN, RECTIFICATION_OPEN, OpinionItemStatus
from .pre_assessment import agency_staff, finance_officers

BEFORE = gettext_noop("提醒：%(title)s 将于 %(deadline)s 到期")
DUE_DAY = gettext_noop("提醒：%(title)s 今天到期（%(deadline)s）")
OVERDUE = gettext_noop("已逾期 %(days)s 天：%(title)s（期限 %(deadline)s）")
ESCALATED = gettext_noop("逾期督办：%(department)s「%(title)s」已逾期 %(days)s 天（期限 %(deadline)s）")
SUMMARY = gettext_noop("您有 %(count)s 项到期或逾期事项：%(titles)s")


@dataclass(frozen=True)
class DueItem:
    """Something with a deadline that people must be reminded of."""

    object_type: str
    object_id: int
    title: str
    department: str
    deadline: datetime
    url: str
    assignees: Callable[[], list[User]]
    escalates: bool
    #: When the item came into being (a slot before it is never sent).
    since: datetime | None = None


@dataclass
class Sweep:
    sent: int = 0  # slots sent
    caught_up: int = 0  # earlier slots recorded without being sent
    skipped: int = 0  # items another scheduler is doing (or did)
    told: dict[int, int] = field(default_factory=dict)  # user id → messages


def rectifications_due(now: datetime, schedule: Schedule) -> Iterable[DueItem]:
    horizon = now + timedelta(days=max(schedule.before_days, default=0))
    for r in Rectification.objects.filter(status__in=RECTIFICATION_OPEN, deadline__lte=horizon).select_related(
        "department", "project"
    ):
        yield DueItem(
            object_type="processes.rectification",
            object_id=r.pk,
            title=r.title,
            department=r.department.name,
            deadline=r.deadline,
            url=r.get_absolute_url(),
            assignees=partial(rectification_people, r),
            escalates=True,
            since=r.issued_at,
        )


def _escalate_tasks() -> bool:
    """Whether overdue re-checks and commissioned evaluations (and flow tasks, through
    workflows/reminders.py) escalate to the supervisors: on unless the setting turns it off."""
    return bool(settings.JIXIAO["REMINDERS"].get("ESCALATE_TASKS", True))


def _party_users(party: str, *, department_id: int, agency) -> list[User]:
    if party == "agency":
        return agency_staff(agency)
    if party == "finance":
        return finance_officers()
    return list(
        User.objects.filter(
            is_active=True, department_id=department_id, groups__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER]
        ).distinct()
    )


def evaluations_due(now: datetime, schedule: Schedule) -> Iterable[DueItem]:
    """Re-checks and commissioned evaluations (state machines with their own due date,
    decision 0009): whoever moves next is reminded."""
    horizon = now + timedelta(days=max(schedule.before_days, default=0))
    escalates = _escalate_tasks()
    rechecks = Recheck.objects.filter(status__in=list(RECHECK_STEPS), sample__due_at__lte=horizon).select_related(
        "sample__agency", "project__department"
    )
    for r in rechecks:
        party = RECHECK_STEPS[r.status][0]
        yield DueItem(
            object_type="processes.recheck",
            object_id=r.pk,
            title=f"{_('复核')}：{r.project.name}",
            department=r.project.department.name,
            deadline=r.sample.due_at,
            url=r.get_absolute_url(),
            assignees=partial(_party_users, party, department_id=r.project.department_id, agency=r.sample.agency),
            escalates=escalates,
            since=r.created_at,
        )
    evaluations = CommissionedEvaluation.objects.filter(
        status__in=list(EVALUATION_STEPS), due_at__lte=horizon
    ).select_related("agency", "department")
    for e in evaluations:
        party = EVALUATION_STEPS[e.status][0]
        yield DueItem(
            object_type="processes.commissionedevaluation",
            object_id=e.pk,
            title=e.title,
            department=e.department.name,
            deadline=e.due_at,
            url=e.get_absolute_url(),
            assignees=partial(_party_users, party, department_id=e.department_id, agency=e.agency),
            escalates=escalates,
            since=e.created_at,
        )


def _committee_people(item: CommitteeOpinionItem) -> list[User]:
    """Whoever moves the item next: the finance section once it is responded, else the assignee."""
    return finance_officers() if item.status == OpinionItemStatus.RESPONDED else assignee_people(item)


def committee_items_due(now: datetime, schedule: Schedule) -> Iterable[DueItem]:
    """The committee's review opinion items (审议意见, issue 19) not yet accepted: the assignee
    (the department, or the finance section for the bureau's own; the finance section once
    it is responded) is reminded; overdue ones
    escalate to the supervisors like rectifications. A returned item keeps its deadline."""
    horizon = now + timedelta(days=max(schedule.before_days, default=0))
    items = CommitteeOpinionItem.objects.filter(status__in=OPINION_ITEM_OPEN, deadline__lte=horizon).select_related(
        "opinion", "department"
    )
    for item in items:
        yield DueItem(
            object_type="processes.committeeopinionitem",
            object_id=item.pk,
            title=item.title,
            department=item.assignee_name,
            deadline=item.deadline,
            url=item.get_absolute_url(),
            assignees=partial(_committee_people, item),
            escalates=True,
            since=item.created_at,
        )


PROVIDERS: list[Callable[[datetime, Schedule], Iterable[DueItem]]] = [
    rectifications_due,
    evaluations_due,
    committee_items_due,
]


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _message(item: DueItem, slot: Slot, now: datetime, *, escalation: bool) -> Message:
    deadline = _when(item.deadline)
    days = max((now - item.deadline).days, 0) + (1 if now >= item.deadline else 0)
    if escalation:
        return msg.plain(
            "escalation", ESCALATED, department=item.department, title=item.title, days=days, deadline=deadline
        )
    if slot.overdue:
        return msg.plain("reminder", OVERDUE, title=item.title, days=days, deadline=deadline)
    if slot.name == "due-day":
        return msg.plain("reminder", DUE_DAY, title=item.title, deadline=deadline)
    return msg.plain("reminder", BEFORE, title=item.title, deadline=deadline)


def reminders_send(*, now: datetime | None = None, schedule: Schedule | None = None) -> Sweep:
    """One run of the sweep (the scheduler calls it every few minutes)."""
    now = now or timezone.now()
    schedule = schedule or Schedule.from_settings()
    result = Sweep()
    outbox: dict[User, list[tuple[DueItem, Message, str]]] = defaultdict(list)
    with transaction.atomic():
        for provider in PROVIDERS:
            items = list(provider(now, schedule))
            sent_keys = _sent_keys(items)
            for item in items:
                slot, earlier = due_now(
                    item.deadline, schedule, now, sent_keys.get(item.object_id, set()), since=item.since
                )
                if slot is None:
                    if earlier:  # slots from before the item existed: recorded, not sent
                        _claim(item, None, earlier)
                    continue
                if not _claim(item, slot, earlier):
                    result.skipped += 1
                    continue
                result.sent += 1
                result.caught_up += len(earlier)
                key = f"{item.object_type}:{item.object_id}|{slot.key(item.deadline)}"
                for user in item.assignees():
                    outbox[user].append((item, _message(item, slot, now, escalation=False), key))
                if slot.overdue and item.escalates:
                    for user in supervisors():
                        outbox[user].append((item, _message(item, slot, now, escalation=True), key))
        _deliver(outbox, now, result)
    return result


def _sent_keys(items: list[DueItem]) -> dict[int, set[str]]:
    by_type: dict[str, list[int]] = defaultdict(list)
    for item in items:
        by_type[item.object_type].append(item.object_id)
    keys: dict[int, set[str]] = defaultdict(set)
    for object_type, ids in by_type.items():
        for object_id, key in ReminderSent.objects.filter(
            object_type=object_type, object_id__in=[str(i) for i in ids]
        ).values_list("object_id", "key"):
            keys[int(object_id)].add(key.split("|", 1)[1])
    return keys


def _claim(item: DueItem, slot: Slot | None, earlier: list[Slot]) -> bool:
    """Record the slot (and the ones it stands for) in the ledger; False if another run has."""
    rows = [
        ReminderSent(
            key=f"{item.object_type}:{item.object_id}|{s.key(item.deadline)}",
            object_type=item.object_type,
            object_id=str(item.object_id),
            slot=s.name,
            caught_up=s is not slot,
        )
        for s in [*earlier, *([slot] if slot is not None else [])]
    ]
    try:
        with transaction.atomic():
            ReminderSent.objects.bulk_create(rows)
    except IntegrityError:
        return False
    return True


def _deliver(outbox: dict[User, list[tuple[DueItem, Message, str]]], now: datetime, result: Sweep) -> None:
    """One message per person: the reminder itself, or a summary when there are several. Its
    event key names the ledger slots it carries, so it too exists once."""
    for user, entries in outbox.items():
        if len(entries) == 1:
            item, message, _key = entries[0]
            url = item.url
        else:
            titles = "、".join(item.title for item, _m, _k in entries[:5]) + ("…" if len(entries) > 5 else "")
            message, url = msg.plain("reminder", SUMMARY, count=len(entries), titles=titles), "/"
        digest = hashlib.sha256("\n".join(sorted(k for _i, _m, k in entries)).encode()).hexdigest()[:32]
        notify(messages={user: message}, event_key=f"reminders:{digest}", url=url)
        result.told[user.pk] = len(entries)
