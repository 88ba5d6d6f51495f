"""Periodic work of the flows: fire due viewflow timers (beat in production, the embedded
scheduler in the default mode)."""

from celery import shared_task
from viewflow.workflow import timers

from config.beat_lock import periodic_once


@shared_task
@periodic_once("workflows.tasks.fire_timers")
def fire_timers() -> None:
    timers.fire_due_timers()
    timers.fire_due_start_timers()
    timers.fire_due_conditions()


@shared_task
@periodic_once("workflows.tasks.sweep_pre_assessments")
def sweep_pre_assessments() -> int | None:
    """Reviews past their due date move on once their quorum is in (DESIGN §3.2)."""
    from .services import sweep_due_pre_assessments

    return sweep_due_pre_assessments()
