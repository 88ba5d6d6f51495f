"""config.beat_lock: one run per period of each periodic task, however many beats queue it."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection, connections

from config import beat_lock
from config.beat_lock import _AdvisoryLock, periodic_once


@pytest.fixture
def locked(settings):
    settings.PERIODIC_TASK_LOCK = True
    settings.CELERY_BEAT_SCHEDULE = {"tick": {"task": "tests.tick", "schedule": 60.0}}
    cache.clear()
    yield
    cache.clear()


def make_task(calls):
    @periodic_once("tests.tick")
    def tick():
        calls.append(1)
        return len(calls)

    return tick


def test_second_run_of_a_period_is_a_no_op_when_two_beats_queue_it(locked, db):
    calls: list[int] = []
    tick = make_task(calls)
    assert tick() == 1
    assert tick() is None  # the second beat's copy
    assert calls == [1]


def test_next_period_runs_again_when_the_period_key_expired(locked, db):
    calls: list[int] = []
    tick = make_task(calls)
    tick()
    cache.delete("periodic:tests.tick")  # what the expiry does after 0.8 × 60 s
    assert tick() == 2


def test_every_run_works_when_the_lock_is_off(settings, db):
    settings.PERIODIC_TASK_LOCK = False
    calls: list[int] = []
    tick = make_task(calls)
    tick()
    tick()
    assert calls == [1, 1]


def test_runs_anyway_when_the_cache_is_down(locked, db, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(beat_lock.cache, "add", broken)
    calls: list[int] = []
    tick = make_task(calls)
    tick()
    tick()
    assert len(calls) == 2  # the advisory lock alone guards concurrent runs


def test_real_periodic_tasks_are_wrapped_when_beat_queues_them(locked, db):
    from processes.tasks import send_reminders
    from workflows.tasks import fire_timers, sweep_pre_assessments

    for task in (fire_timers, sweep_pre_assessments, send_reminders):
        assert task.run.__wrapped__ is not None, task.name


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_run_is_skipped_when_another_holds_the_advisory_lock(settings):
    """Two connections (two workers): while one holds the task's lock the other's run is a no-op."""
    settings.PERIODIC_TASK_LOCK = True
    held = threading.Event()
    release = threading.Event()

    def holder():
        try:
            with _AdvisoryLock("tests.tick") as granted:
                assert granted
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        assert connection.vendor == "postgresql"
        with _AdvisoryLock("tests.tick") as granted:
            assert not granted
    finally:
        release.set()
        thread.join(10)
    with _AdvisoryLock("tests.tick") as granted:
        assert granted
