"""When a deadline's reminders fall due (DESIGN §3.6; issue 7): pure rules, no I/O.

For a deadline the schedule has these slots, each sent at most once:

- ``before-N`` — N days before it, for each N of ``before_days`` (default 7, 3, 1);
- ``due-day`` — at the start of its day, in the people's time zone (Asia/Shanghai);
- ``overdue-K`` — at the deadline (K = 1), then every ``every_days`` after it (K = 2, 3 …).

Overdue slots are also escalations when the item escalates (an overdue rectification; other
tasks per settings). Slots are named against the deadline they were computed for, so an
extension that moves the deadline starts a fresh schedule and the old one stops.

A run that finds several slots of one item due at once (the scheduler was down) sends only
the latest: the others are recorded as caught up, never sent late. Slots that fell before
the item existed are recorded, never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Schedule:
    before_days: tuple[int, ...] = (7, 3, 1)
    every_days: int = 3
    tz: str = "Asia/Shanghai"

    @classmethod
    def from_settings(cls) -> Schedule:
        from django.conf import settings

        rules = settings.JIXIAO["REMINDERS"]
        return cls(
            before_days=tuple(sorted({int(d) for d in rules["BEFORE_DAYS"]}, reverse=True)),
            every_days=int(rules["EVERY_DAYS"]),
            tz=settings.TIME_ZONE,
        )


@dataclass(frozen=True)
class Slot:
    name: str
    at: datetime
    overdue: bool

    def key(self, deadline: datetime) -> str:
        """The slot's name against its deadline: a moved deadline gives new keys."""
        return f"{int(deadline.timestamp())}:{self.name}"


def slots(deadline: datetime, schedule: Schedule, until: datetime) -> list[Slot]:
    """Every slot of ``deadline`` whose time has come by ``until``, in time order."""
    zone = ZoneInfo(schedule.tz)
    local = deadline.astimezone(zone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    found = [Slot(f"before-{n}", deadline - timedelta(days=n), False) for n in schedule.before_days]
    found.append(Slot("due-day", day_start, False))
    if until >= deadline:
        k = int((until - deadline) / timedelta(days=schedule.every_days)) + 1
        found += [
            Slot(f"overdue-{i}", deadline + timedelta(days=schedule.every_days * (i - 1)), True)
            for i in range(1, k + 1)
        ]
    return sorted((s for s in found if s.at <= until), key=lambda s: s.at)


def due_now(
    deadline: datetime, schedule: Schedule, now: datetime, sent: set[str], since: datetime | None = None
) -> tuple[Slot | None, list[Slot]]:
    """The slot to send now (the latest not yet sent) and the earlier unsent ones it stands
    for (recorded as caught up). Slots that fell before the item existed (``since``: a task
    due in 5 days has no "7 days before") are never sent, only recorded."""
    pending = [s for s in slots(deadline, schedule, now) if s.key(deadline) not in sent]
    if since is not None and pending and pending[-1].at < since:
        return None, pending
    if not pending:
        return None, []
    return pending[-1], pending[:-1]
