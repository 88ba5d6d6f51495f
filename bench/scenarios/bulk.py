"""The measurement both bulk actions share (the campaign launch, the monitoring round):
the action through its service, the same call again, and beside them the limit — the
same rows inserted by the ORM and by the driver — each run from the district's snapshot;
the statements from one more pass under Django's query log."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..context import Context
from ..district import statements
from ..harness import OtherLoad, Scenario, timed
from ..rows import NewRows


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
) -> dict[str, Any]:
    """Record, for the action and its limit, wall time (every run from ``state``),
    statements (all, in the transaction, after commit) and the rows it inserted. Returns
    the medians the scenario judges its targets by. ``judge_insert``: judge issue 20's
    targets for the district's campaign and monitoring round (≤ 1.0 s, ≤ 2 × the driver's
    insert of the same rows)."""
    n = ctx.size["projects"]

    # the logged pass: statements, the rows written (kept for the limit), a correctness check
    state()
    watch = NewRows.watch()
    with CaptureQueriesContext(connection) as q, parts.active():
        seconds_logged, result = timed(action)
    parts.take()
    rows = watch.take()
    logged = q.captured_queries
    # the service's transaction ends at the first COMMIT; after it, delivery (on_commit)
    end = next((i for i, x in enumerate(logged) if x["sql"].strip().upper() == "COMMIT"), len(logged) - 1) + 1
    s.note(check(result))
    s.note(f"{label} under the query log: {seconds_logged:.2f} s; in the transaction: {statements(logged[:end])}")
    s.note(f"after commit: {statements(logged[end:]) or 'none'}")
    s.note(f"rows inserted ({rows.rows:,}): {rows.describe()}")
    with CaptureQueriesContext(connection) as q_again:
        action()

    runs: dict[str, list[float]] = {}
    others: list[float] = []
    with parts.active():
        for _ in range(ctx.runs):
            state()
            with OtherLoad([p for p in [backend_pid()] if p]) as other:
                seconds, result = timed(action)
            if created(result) != n:
                raise AssertionError(f"{label} created {created(result)}, expected {n}")
            runs.setdefault(label, []).append(seconds)
            if other.cores is not None:
                others.append(other.cores)
            for part, value in parts.take().items():
                runs.setdefault(f"  of which {part}", []).append(value)
            runs.setdefault(f"{label} again (nothing new)", []).append(timed(action)[0])
            parts.take()
            state()
            runs.setdefault("limit: ORM bulk_create of the same rows", []).append(timed(rows.orm_insert)[0])
            state()
            raw = "executemany" if connection.vendor == "sqlite" else "COPY"
            runs.setdefault(f"limit: raw {raw} of the same rows", []).append(timed(rows.raw_insert)[0])

    for name, values in runs.items():
        s.add(name, values, "s")
    s.add(f"{label}: statements in all", len(logged), "statements")
    s.add(f"{label}: statements in its transaction", end, "statements")
    s.add(f"{label}: statements after commit", len(logged) - end, "statements")
    s.add(f"{label} again: statements", len(q_again.captured_queries), "statements")
    s.add("rows inserted", rows.rows, "rows")
    if others:
        s.add("other CPU load during the action", others, "cores")
    wall = statistics.median(runs[label])
    orm = statistics.median(runs["limit: ORM bulk_create of the same rows"])
    raw_seconds = statistics.median(runs[f"limit: raw {raw} of the same rows"])
    s.ratio(f"{label} ÷ ORM bulk_create of its rows", wall / orm)
    s.ratio(f"{label} ÷ raw {raw} of its rows", wall / raw_seconds)
    s.ratio(f"{label}: projects per second", n / wall)
    if judge_insert:
        judged = ctx.full or None
        s.target(f"{label} wall time (issue 20)", "≤ 1.0 s", f"{wall:.2f} s", judged and wall <= 1.0)
        s.target(
            f"{label} ÷ raw {raw} of its rows",
            "≤ 2",
            f"{wall / raw_seconds:.2f}",
            judged and wall / raw_seconds <= 2,
        )
    return {"seconds": wall, "statements": len(logged)}
