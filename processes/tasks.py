"""Background work of the domain: background jobs (processes.services.jobs) run here when
they are not run in a thread of the web process (production: a Celery worker)."""

from celery import shared_task

from config.beat_lock import periodic_once


@shared_task
def run_job(job_id: int) -> str | None:
    """Run the queued job ``job_id`` once (a second delivery finds it claimed and does nothing)."""
    from .services.jobs import job_run

    job = job_run(job_id)
    return job.status if job is not None else None


@shared_task
@periodic_once("processes.tasks.send_reminders")
def send_reminders() -> int | None:
    """The reminder and escalation sweep (beat in production, the embedded scheduler in the
    default mode); each reminder is sent once however many schedulers run."""
    from .services.reminders import reminders_send

    return reminders_send().sent


@shared_task
@periodic_once("processes.tasks.import_payment_drops")
def import_payment_drops() -> list[dict] | None:
    """The nightly import of the treasury's files (支付数据, 资金支付计划) from
    JIXIAO_PAYMENTS_DROP_DIR, as JIXIAO_PAYMENTS_IMPORT_USER; off when the folder is not set
    (processes.services.execution.import_drop_folder)."""
    from django.conf import settings

    from .services.execution import import_drop_folder

    if not settings.JIXIAO_PAYMENTS_DROP_DIR:
        return None
    return import_drop_folder(folder=settings.JIXIAO_PAYMENTS_DROP_DIR, username=settings.JIXIAO_PAYMENTS_IMPORT_USER)
