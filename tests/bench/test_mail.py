"""The benchmark's in-process bulk scenarios send the notices' e-mail as production does
(bench/mail.py, bench/scenarios/bulk.py): with REDIS_URL the e-mail task is published to
Redis and nothing is mailed in-process; without it the eager task mails in-process, and
the action's own statements and judged time leave that sending out.

Run in a subprocess at the smoke size, as `make bench-smoke` runs it (SQLite: the
benchmark makes its own database; no time is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config.env import BASE_DIR

#: the smoke district's departments (bench/context.py SIZES["smoke"]): one notice each of
#: their two members who take e-mail — what one delivery mails
SCENARIOS = ("campaign", "monitoring")
LABELS = {"campaign": "campaign_launch", "monitoring": "monitoring_round_open"}


def _smoke(tmp_path, **extra_env) -> dict:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ} | extra_env
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--only", ",".join(SCENARIOS), "--out", str(tmp_path)],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (path,) = tmp_path.glob("*-sqlite-smoke.json")
    return json.loads(path.read_text())["scenarios"]


def _figure(scenario: dict, name: str) -> dict | None:
    return next((f for f in scenario["figures"] if f["name"] == name), None)


@pytest.mark.redis
def test_with_a_broker_the_email_task_is_published_and_nothing_is_mailed_in_process(tmp_path):
    redis_url = os.environ["REDIS_URL"]
    scenarios = _smoke(tmp_path, REDIS_URL=redis_url)
    for name in SCENARIOS:
        s, label = scenarios[name], LABELS[name]
        # one delivery per action, so one task: the logged pass's and the timed run's
        queued = _figure(s, f"{label}: e-mail tasks queued on Redis (purged)")
        assert queued is not None and queued["runs"] == [1, 1], queued
        assert any("'notifications.tasks.send_notification_emails': 1" in n for n in s["notes"]), s["notes"]
        assert _figure(s, f"{label}: e-mails sent in-process")["median"] == 0
        assert _figure(s, f"{label}: statements of the e-mail task (a worker's in production)")["median"] == 0
        assert _figure(s, f"{label} without the e-mail sending") is None  # the wall time is the judged one
        # after commit only deliver()'s read of the notices: no lease, no "sent" UPDATE
        assert _figure(s, f"{label}: statements after commit")["median"] == 1
    # the purge left nothing queued
    import redis

    assert redis.Redis.from_url(redis_url).llen("celery") == 0


def test_without_a_broker_the_email_is_sent_in_process_and_counted_apart(tmp_path):
    scenarios = _smoke(tmp_path)
    for name in SCENARIOS:
        s, label = scenarios[name], LABELS[name]
        assert _figure(s, f"{label}: e-mail tasks queued on Redis (purged)") is None
        assert _figure(s, f"{label}: e-mails sent in-process")["median"] > 0
        email_statements = _figure(s, f"{label}: statements of the e-mail task (a worker's in production)")
        assert email_statements["median"] > 0  # the outbox's leases and "sent" marks
        in_all = _figure(s, f"{label}: statements in all")["median"]
        in_transaction = _figure(s, f"{label}: statements in its transaction")["median"]
        # the action's own: its transaction and deliver()'s read after commit, not the e-mail task's
        assert in_all == in_transaction + 1
        assert _figure(s, f"{label}: statements after commit")["median"] == 1
        assert _figure(s, f"{label} without the e-mail sending") is not None
        assert _figure(s, "  of which e-mail after commit (queue_emails)") is not None
        assert any(f"{label} with the e-mail sending ÷ raw" in r for r in s["ratios"])
        issue20 = next(t for t in s["targets"] if t["name"] == f"{label} wall time (issue 20)")
        assert "without the in-process e-mail sending" in issue20["value"]
