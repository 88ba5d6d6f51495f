"""One run per period of each periodic task, however many beats are running.

A second beat started by mistake (or left behind by a deploy) queues every periodic task
twice. Each periodic task is wrapped in ``periodic_once``: a run does its work only if

1. it is the first run of its period — ``cache.add`` of a key named after the task, which
   expires just before the next period is due (Redis ``SET NX PX``: atomic across
   processes and machines); and
2. no other run of the same task is still going — a PostgreSQL advisory lock held while
   the task runs (released by the database if the worker dies, so a killed worker never
   leaves the task locked).

Otherwise it returns at once, logging why (``periodic task … skipped``). With
``PERIODIC_TASK_LOCK`` off (the embedded default and the test settings) both guards are
off: the embedded scheduler is one thread and tests call the tasks as often as they like.
If the cache is down the period guard is skipped and the advisory lock alone decides (the
broker is the same Redis, so no task arrives then anyway).
"""

from __future__ import annotations

import functools
import logging
import time
import zlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger("jixiao.beat_lock")

#: Advisory lock ids of this application: a fixed high word, the task's CRC in the low word.
_LOCK_NAMESPACE = 0x6A78  # "jx"
#: The period key expires this fraction of the interval after a run started, so a beat
#: whose tick drifts a little still gets the next period.
PERIOD_FRACTION = 0.8


def _interval(task_name: str) -> float | None:
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry.get("task") == task_name:
            try:
                return float(entry["schedule"])
            except (TypeError, ValueError):  # a crontab: no fixed period
                return None
    return None


def _lock_id(task_name: str) -> int:
    return (_LOCK_NAMESPACE << 32) | zlib.crc32(task_name.encode())


def _first_of_period(task_name: str) -> bool:
    interval = _interval(task_name)
    if not interval:
        return True
    try:
        return bool(cache.add(f"periodic:{task_name}", time.time(), timeout=interval * PERIOD_FRACTION))
    except Exception:
        logger.warning("periodic task %s: cache unavailable, relying on the database lock", task_name)
        return True


class _AdvisoryLock:
    """pg_try_advisory_lock for the duration of a ``with``; always granted elsewhere."""

    def __init__(self, task_name: str):
        self.key = _lock_id(task_name)
        self.held = False

    def __enter__(self) -> bool:
        if connection.vendor != "postgresql":
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
            self.held = bool(cursor.fetchone()[0])
        return self.held

    def __exit__(self, *exc) -> None:
        if self.held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])
            except Exception:  # the connection died: so did the lock
                logger.warning("could not release the advisory lock of a periodic task", exc_info=True)
            self.held = False


def periodic_once(task_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a periodic task body (under its Celery name ``task_name``) so that only the
    first run of each period does anything; the others return ``None``."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not getattr(settings, "PERIODIC_TASK_LOCK", False):
                return func(*args, **kwargs)
            if not _first_of_period(task_name):
                logger.info("periodic task %s skipped: already run this period", task_name)
                return None
            with _AdvisoryLock(task_name) as granted:
                if not granted:
                    logger.info("periodic task %s skipped: running elsewhere", task_name)
                    return None
                logger.info("periodic task %s ran", task_name)
                return func(*args, **kwargs)

        return wrapper

    return decorate
