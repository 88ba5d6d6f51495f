"""The notices' e-mail in the benchmark's own process (the in-process scenarios), as
production sends it.

With REDIS_URL set, production queues each delivery's e-mail task
(``notifications.tasks.send_notification_emails``) on Redis and a worker sends it after
the action has answered. Inside :meth:`Mail.production` the benchmark process does the
same: Celery's ``task_always_eager`` is off, so ``queue_emails`` publishes the task to the
broker (a real publish) and nothing is sent in-process. The queued tasks are then
**purged and counted** (:meth:`Mail.drain`), not run by a worker: a worker would compete
with the next timed run for the machine's two cores and hold a database connection, which
keeps PostgreSQL from restoring the scenario's snapshot (a template copy needs no other
session); the e-mails' own cost is what the run without REDIS_URL measures.

Without REDIS_URL (SQLite ``make bench``, the embedded default) the task runs eagerly
inside ``deliver`` after the commit, as the embedded default serves it; the scenarios
time it apart (``queue_emails``: the task's sending, or with a broker its publish) so the
action is recorded both with and without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

#: the task a delivery queues (its name on the broker)
EMAIL_TASK = "notifications.tasks.send_notification_emails"


class Mail:
    """Where the notices' e-mails of the actions run inside ``production()`` go."""

    def __init__(self, broker_url: str | None = None) -> None:
        self.broker_url = broker_url if broker_url is not None else os.environ.get("REDIS_URL", "")

    @property
    def queued(self) -> bool:
        """True: the e-mail task is published to Redis (production); False: sent eagerly."""
        return bool(self.broker_url)

    @property
    def how(self) -> str:
        return (
            "e-mail task published to Redis (as production; the queued tasks purged and counted, not sent)"
            if self.queued
            else "e-mail sent in-process by the eager task after commit (the embedded default)"
        )

    @contextmanager
    def production(self) -> Iterator[Mail]:
        """Inside: Celery publishes to the broker rather than running tasks eagerly (when
        REDIS_URL is set; else unchanged). The queue is emptied first."""
        from config.celery import app

        if not self.queued:
            yield self
            return
        eager, broker = app.conf.task_always_eager, app.conf.broker_url
        if not str(broker).startswith("redis"):
            raise RuntimeError(f"bench: REDIS_URL is set but Celery's broker is {broker!r}")
        app.conf.task_always_eager = False
        self.drain()
        try:
            yield self
        finally:
            self.drain()
            app.conf.task_always_eager = eager

    def waiting(self) -> dict[str, int]:
        """The tasks waiting on the default queue, by task name (read from the messages'
        headers, without taking them)."""
        import json

        import redis

        from config.celery import app

        queue = app.conf.task_default_queue or "celery"
        client = redis.Redis.from_url(self.broker_url)
        try:
            counts: dict[str, int] = {}
            for raw in client.lrange(queue, 0, -1):
                name = json.loads(raw).get("headers", {}).get("task", "?")
                counts[name] = counts.get(name, 0) + 1
            return counts
        finally:
            client.close()

    def drain(self) -> int:
        """Purge the queued tasks; how many there were (0 without a broker)."""
        if not self.queued:
            return 0
        from config.celery import app

        return int(app.control.purge() or 0)
