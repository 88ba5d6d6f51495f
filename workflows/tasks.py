"""Periodic work of the flows: fire due viewflow timers (beat in production, the embedded
scheduler in the default mode)."""

from celery import shared_task
from viewflow.workflow import timers


@shared_task
def fire_timers() -> None:
    timers.fire_due_timers()
    timers.fire_due_start_timers()
    timers.fire_due_conditions()
