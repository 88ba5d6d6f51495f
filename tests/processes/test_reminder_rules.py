"""The reminder schedule of a deadline (processes.reminders): pure rules."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from processes.reminders import Schedule, due_now, slots

CST = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2022, 3, 31, 18, 0, tzinfo=CST)
RULES = Schedule(before_days=(7, 3, 1), every_days=3)


def names(until):
    return [s.name for s in slots(DEADLINE, RULES, until)]


def test_schedule_is_seven_three_one_days_before_the_day_itself_then_every_three_days():
    assert names(DEADLINE - timedelta(days=8)) == []
    assert names(DEADLINE - timedelta(days=7)) == ["before-7"]
    assert names(DEADLINE - timedelta(days=1)) == ["before-7", "before-3", "before-1"]
    assert names(datetime(2022, 3, 31, 0, 0, tzinfo=CST)) == ["before-7", "before-3", "before-1", "due-day"]
    assert names(DEADLINE) == ["before-7", "before-3", "before-1", "due-day", "overdue-1"]
    later = names(DEADLINE + timedelta(days=6, hours=1))
    assert later[-3:] == ["overdue-1", "overdue-2", "overdue-3"]


def test_a_run_after_a_gap_sends_only_the_latest_slot_and_catches_up_the_rest():
    now = DEADLINE + timedelta(days=4)
    send, caught_up = due_now(DEADLINE, RULES, now, sent=set())
    assert send.name == "overdue-2"
    assert [s.name for s in caught_up] == ["before-7", "before-3", "before-1", "due-day", "overdue-1"]
    sent = {s.key(DEADLINE) for s in [send, *caught_up]}
    assert due_now(DEADLINE, RULES, now, sent) == (None, [])


def test_a_moved_deadline_starts_a_fresh_schedule():
    before = {s.key(DEADLINE) for s in slots(DEADLINE, RULES, DEADLINE - timedelta(days=3))}
    moved = DEADLINE + timedelta(days=20)
    send, caught_up = due_now(moved, RULES, DEADLINE, sent=before)
    assert send is None and caught_up == []  # 20 days ahead of the new deadline: nothing yet
    send, _ = due_now(moved, RULES, moved - timedelta(days=7), sent=before)
    assert send.name == "before-7" and send.key(moved) not in before


def test_slots_from_before_the_item_existed_are_recorded_never_sent():
    created = DEADLINE - timedelta(days=5)  # a task due five days after it was handed out
    send, earlier = due_now(DEADLINE, RULES, created + timedelta(minutes=1), sent=set(), since=created)
    assert send is None and [s.name for s in earlier] == ["before-7"]
    sent = {s.key(DEADLINE) for s in earlier}
    send, _ = due_now(DEADLINE, RULES, DEADLINE - timedelta(days=3), sent=sent, since=created)
    assert send.name == "before-3"
