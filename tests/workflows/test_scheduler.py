"""The embedded scheduler runs the beat schedule in-process: each entry when its interval passes."""

from celery import shared_task

from config.scheduler import run_due

calls: list[str] = []


@shared_task(name="tests.record_tick")
def record_tick():
    calls.append("tick")


def test_entry_runs_when_interval_has_passed_and_not_before():
    calls.clear()
    schedule = {"tick": {"task": "tests.record_tick", "schedule": 60.0}}
    last_run: dict[str, float] = {}
    assert run_due(schedule, last_run, now=1000.0) == ["tick"]
    assert run_due(schedule, last_run, now=1030.0) == []
    assert run_due(schedule, last_run, now=1060.0) == ["tick"]
    assert calls == ["tick", "tick"]


def test_timer_sweep_task_is_registered_when_schedule_names_it(settings):
    from celery import current_app

    current_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks
