"""Two beats for a while (a second started by mistake): every periodic task still runs at
most once per period (config/beat_lock.py) — timers are not fired twice, the sweeps do not
run twice — and nothing is e-mailed twice."""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
from django.conf import settings

from .load import Load
from .topology import emailable_notifications, max_notification_id, record, wait_for_emails, wait_until

pytestmark = pytest.mark.production

BOTH_SECONDS = 75
LINE = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+): INFO/[^\]]*\] periodic task (\S+) (ran|skipped)")


def test_each_periodic_task_runs_once_per_period_when_two_beats_run(healthy, pgconn):
    topo = healthy
    first = max_notification_id(pgconn)
    offset = topo.worker.log.stat().st_size
    second = topo.spawn(
        "beat", "beat2", replace={"--schedule=var/celerybeat-schedule": f"--schedule={topo.tmp / 'beat2-schedule'}"}
    )
    topo.extra.append(second)
    second.start()
    try:
        wait_until(lambda: "beat: Starting" in second.log_since_start(), 60, "the second beat to start")
        started = time.monotonic()
        with Load(topo, threads=1, pause=2.0):
            while time.monotonic() - started < BOTH_SECONDS:
                assert second.alive(), second.log_text()[-2000:]
                time.sleep(1)
    finally:
        second.stop()
        topo.extra.remove(second)
    time.sleep(5)  # the last queued runs finish
    with open(topo.worker.log, "rb") as f:
        f.seek(offset)
        log = f.read().decode("utf-8", "replace")
    runs: dict[str, list[datetime]] = {}
    skipped: dict[str, int] = {}
    for stamp, task, what in LINE.findall(log):
        if what == "ran":
            runs.setdefault(task, []).append(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f"))
        else:
            skipped[task] = skipped.get(task, 0) + 1
    too_close = []
    intervals = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    # the suite's environment shortens the sweeps (conftest.SWEEP_SECONDS)
    from .conftest import SWEEP_SECONDS

    for task, times in runs.items():
        interval = float(intervals.get(task, 60.0))
        if task == "processes.tasks.send_reminders" or "sweep" in task and "notification" in task:
            interval = float(SWEEP_SECONDS)
        for a, b in zip(times, times[1:], strict=False):
            if (b - a).total_seconds() < 0.8 * interval - 1:
                too_close.append((task, a.time().isoformat(), b.time().isoformat()))

    expected = emailable_notifications(pgconn, first)
    emails = wait_for_emails(topo.smtp, expected, 90, since=time.monotonic())
    record(
        "two beats",
        {
            "seconds_with_two_beats": BOTH_SECONDS,
            "runs": {k.rsplit(".", 1)[-1]: len(v) for k, v in runs.items()},
            "skipped_second_copies": {k.rsplit(".", 1)[-1]: v for k, v in skipped.items()},
            "runs_closer_than_a_period": len(too_close),
            "emails": emails.expected,
            "emails_duplicated": emails.duplicated,
        },
    )
    assert runs, "the worker logged no periodic task run (config/beat_lock.py logs each at INFO)"
    assert sum(skipped.values()) > 0, "no second copy was skipped: did the second beat queue anything?"
    assert not too_close, f"a periodic task ran twice within one period: {too_close}"
    assert not emails.duplicated, f"{emails.duplicated} e-mails sent twice with two beats"
    assert not emails.lost, f"e-mails never sent: {emails.lost[:10]}"
