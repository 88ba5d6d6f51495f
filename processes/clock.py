"""The one deadline clock: how many days are left on (or past) a deadline.

Counted in calendar days in Beijing time, as people count them: a deadline any time tomorrow
(even at 00:00) is "1 day left"; one later today is "0 days left". Past its deadline an item
is overdue by at least one day (an hour late is a day late). The rectification list, the
rectification page and the 督办看板 all use this, so the same notice shows the same figure.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def days_to(deadline: datetime, now: datetime | None = None) -> int:
    """Calendar days from today to the deadline's day (Beijing time): negative when past."""
    now = now or timezone.now()
    return (timezone.localtime(deadline, SHANGHAI).date() - timezone.localtime(now, SHANGHAI).date()).days


def deadline_clock(deadline: datetime, now: datetime | None = None) -> tuple[bool, int]:
    """(overdue, days): days overdue (at least 1) when the deadline has passed, else days left."""
    now = now or timezone.now()
    days = days_to(deadline, now)
    if deadline < now:
        return True, max(1, -days)
    return False, days
