"""The measurement both bulk actions share (the campaign launch, the monitoring round):
the action through its service, the same call again, and beside them the limit — the
same rows inserted by the ORM and by the driver — each run from the district's snapshot;
the statements from one more pass under Django's query log.

The notices' e-mail goes as production sends it (bench/mail.py): with REDIS_URL its task
is published to Redis (the queued tasks purged and counted after each run); without it
the eager task sends it in-process after the commit, timed apart, and the action is judged
without it (its figure with it is recorded beside)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core import mail as django_mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import services as notification_services

from ..context import Context
from ..district import statements
from ..harness import OtherLoad, Scenario, timed
from ..mail import Mail
from ..rows import NewRows

#: the part ``measure`` always times: the e-mail task queued by ``deliver`` after commit —
#: sent there by the eager task without a broker, published to Redis with one
EMAIL_PART = "e-mail after commit (queue_emails)"


class Parts:
    """Wall time spent inside some functions an action calls, by wrapping them (behaviour
    unchanged) while the block runs: ``(module, function name, label)``."""

    def __init__(self, wrapped: list[tuple[Any, str, str]]) -> None:
        self.wrapped = wrapped
        self.seconds: dict[str, float] = {}

    @contextmanager
    def active(self) -> Iterator[Parts]:
        originals = [(module, name, getattr(module, name)) for module, name, _label in self.wrapped]
        for (module, name, label), (_m, _n, fn) in zip(self.wrapped, originals, strict=True):
            setattr(module, name, self._wrap(fn, label))
        try:
            yield self
        finally:
            for module, name, fn in originals:
                setattr(module, name, fn)

    def _wrap(self, fn, label):
        def wrapper(*a, **kw):
            started = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        return wrapper

    def take(self) -> dict[str, float]:
        taken, self.seconds = self.seconds, {}
        return taken


def backend_pid() -> int | None:
    """The PostgreSQL server process of this connection (on this machine), else None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def measure(
    ctx: Context,
    s: Scenario,
    *,
    label: str,
    state: Callable[[], None],
    action: Callable[[], Any],
    created: Callable[[Any], int],
    parts: Parts,
    check: Callable[[Any], str],
    judge_insert: bool = False,
    mail: Mail | None = None,
) -> dict[str, Any]:
    """Record, for the action and its limit, wall time (every run from ``state``),
    statements (all, in the transaction, after commit) and the rows it inserted. Returns
    the figures the scenario judges its targets by: ``seconds``, the action as production
    runs it (with a broker: its e-mail task published, not sent; without: the median of
    each run's wall time less its in-process e-mail sending), and ``statements``, the
    statements the action itself issues in this process — its transaction and what runs
    after its commit (the notices' read and push, the e-mail task's queuing), not those
    of the e-mail task (``send_notification_emails``: a worker's in production), which the
    eager path runs inside ``deliver``. ``judge_insert``: judge issue 20's targets for the
    district's campaign and monitoring round (≤ 1.0 s, ≤ 2 × the driver's insert of the
    same rows)."""
    n = ctx.size["projects"]
    mail = mail or Mail()
    parts = Parts([*parts.wrapped, (notification_services, "queue_emails", EMAIL_PART)])
    s.note(f"e-mail: {mail.how}")

    with mail.production():
        # the logged pass: statements, the rows written (kept for the limit), a correctness check
        state()
        watch = NewRows.watch()
        email_statements = EmailStatements()
        sent_before = len(getattr(django_mail, "outbox", []))
        with CaptureQueriesContext(connection) as q, parts.active(), email_statements.active():
            seconds_logged, result = timed(action)
        parts.take()
        sent_in_process = len(getattr(django_mail, "outbox", [])) - sent_before
        waiting = mail.waiting() if mail.queued else {}
        queued_logged = mail.drain()
        rows = watch.take()
        logged = q.captured_queries
        # the service's transaction ends at the first COMMIT; after it, delivery (on_commit)
        end = next((i for i, x in enumerate(logged) if x["sql"].strip().upper() == "COMMIT"), len(logged) - 1) + 1
        s.note(check(result))
        s.note(f"{label} under the query log: {seconds_logged:.2f} s; in the transaction: {statements(logged[:end])}")
        s.note(f"after commit: {statements(logged[end:]) or 'none'}")
        if mail.queued:
            s.note(f"queued on Redis by the logged pass: {waiting or 'nothing'}")
        s.note(f"rows inserted ({rows.rows:,}): {rows.describe()}")
        with CaptureQueriesContext(connection) as q_again:
            action()
        mail.drain()

        runs: dict[str, list[float]] = {}
        others: list[float] = []
        queued: list[float] = []
        with parts.active():
            for _ in range(ctx.runs):
                state()
                with OtherLoad([p for p in [backend_pid()] if p]) as other:
                    seconds, result = timed(action)
                if created(result) != n:
                    raise AssertionError(f"{label} created {created(result)}, expected {n}")
                queued.append(mail.drain())
                runs.setdefault(label, []).append(seconds)
                if other.cores is not None:
                    others.append(other.cores)
                taken = parts.take()
                if not mail.queued:  # the eager task's sending: the action without it, run by run
                    runs.setdefault(f"{label} without the e-mail sending", []).append(
                        seconds - taken.get(EMAIL_PART, 0.0)
                    )
                for part, value in taken.items():
                    runs.setdefault(f"  of which {part}", []).append(value)
                runs.setdefault(f"{label} again (nothing new)", []).append(timed(action)[0])
                parts.take()
                mail.drain()
                state()
                runs.setdefault("limit: ORM bulk_create of the same rows", []).append(timed(rows.orm_insert)[0])
                state()
                raw = "executemany" if connection.vendor == "sqlite" else "COPY"
                runs.setdefault(f"limit: raw {raw} of the same rows", []).append(timed(rows.raw_insert)[0])

    own = len(logged) - email_statements.count
    for name, values in runs.items():
        s.add(name, values, "s")
    s.add(f"{label}: statements in all", own, "statements", note="the action's own: its e-mail task's excluded")
    s.add(f"{label}: statements in its transaction", end, "statements")
    s.add(f"{label}: statements after commit", own - end, "statements")
    s.add(f"{label}: statements of the e-mail task (a worker's in production)", email_statements.count, "statements")
    s.add(f"{label} again: statements", len(q_again.captured_queries), "statements")
    s.add(f"{label}: e-mails sent in-process", sent_in_process, "e-mails")
    if mail.queued:  # the logged pass's and each timed run's
        s.add(f"{label}: e-mail tasks queued on Redis (purged)", [queued_logged, *queued], "tasks")
    s.add("rows inserted", rows.rows, "rows")
    if others:
        s.add("other CPU load during the action", others, "cores")
    judged_name = label if mail.queued else f"{label} without the e-mail sending"
    wall = statistics.median(runs[judged_name])
    orm = statistics.median(runs["limit: ORM bulk_create of the same rows"])
    raw_seconds = statistics.median(runs[f"limit: raw {raw} of the same rows"])
    s.ratio(f"{label} ÷ ORM bulk_create of its rows", wall / orm)
    s.ratio(f"{label} ÷ raw {raw} of its rows", wall / raw_seconds)
    s.ratio(f"{label}: projects per second", n / wall)
    if not mail.queued:
        with_email = statistics.median(runs[label])
        s.ratio(f"{label} with the e-mail sending ÷ raw {raw} of its rows", with_email / raw_seconds)
    if judge_insert:
        judged = ctx.full or None
        how = "" if mail.queued else " (without the in-process e-mail sending)"
        s.target(f"{label} wall time (issue 20)", "≤ 1.0 s", f"{wall:.2f} s{how}", judged and wall <= 1.0)
        s.target(
            f"{label} ÷ raw {raw} of its rows",
            "≤ 2",
            f"{wall / raw_seconds:.2f}",
            judged and wall / raw_seconds <= 2,
        )
    return {"seconds": wall, "statements": own, "queued": queued, "sent_in_process": sent_in_process}


class EmailStatements:
    """How many statements the e-mail task issued in this process (the eager path runs
    it inside ``deliver``): every statement ``send_outbox`` executes, counted by an
    execute wrapper."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def active(self) -> Iterator[None]:
        from notifications import tasks

        original = tasks.send_outbox

        def count(execute, sql, params, many, context):
            self.count += 1
            return execute(sql, params, many, context)

        def counted(*a, **kw):
            with connection.execute_wrapper(count):
                return original(*a, **kw)

        tasks.send_outbox = counted
        try:
            yield
        finally:
            tasks.send_outbox = original
