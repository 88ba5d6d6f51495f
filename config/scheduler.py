"""The embedded scheduler: runs CELERY_BEAT_SCHEDULE's periodic tasks in a daemon thread of
the web process, so timers and reminders really fire with no broker and no beat.
Production runs `celery -A config beat` instead (docs/deployment.md)."""

from __future__ import annotations

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger("jixiao.scheduler")
_started = threading.Event()


def run_due(schedule: dict, last_run: dict[str, float], now: float) -> list[str]:
    """Run every entry of ``schedule`` whose interval has passed since ``last_run``; return their names."""
    ran = []
    for name, entry in schedule.items():
        interval = float(entry["schedule"])
        if now - last_run.get(name, 0.0) >= interval:
            last_run[name] = now
            try:
                current_app.tasks[entry["task"]].apply()
            except Exception:
                logger.exception("periodic task %s failed", name)
            ran.append(name)
    return ran


def start_embedded_scheduler(tick: float = 5.0) -> None:
    if _started.is_set():
        return
    _started.set()

    def loop():
        # Register the apps' tasks here, not in AppConfig.ready(): Celery's Django fixup
        # would call django.setup() again while the app registry is still populating.
        current_app.loader.import_default_modules()
        last_run: dict[str, float] = {}
        while True:
            run_due(settings.CELERY_BEAT_SCHEDULE, last_run, time.monotonic())
            close_old_connections()  # this thread's connection must not outlive its welcome
            time.sleep(tick)

    threading.Thread(target=loop, name="jixiao-scheduler", daemon=True).start()
    logger.info("embedded scheduler started")
