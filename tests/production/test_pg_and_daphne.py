"""PostgreSQL restarted, then a daphne killed (kill -9), under load: only requests inside
each fault's window fail, none after it; a client retrying a transition that failed gets a
clean answer (200, or 409 when it had committed); no half-done transition (verify_tasks);
the audit chain verifies (verify_audit)."""

from __future__ import annotations

import time

import pytest

from .load import TARGET_STAGE, Load
from .topology import ApiClient, record, wait_until

pytestmark = pytest.mark.production

#: After a fault ends (PostgreSQL answering, daphne answering), requests may still fail
#: for this long (a pooled connection found dead, a request queued behind it); none after.
GRACE_SECONDS = 5.0


def test_only_requests_inside_the_window_fail_when_postgres_restarts_and_a_daphne_dies(healthy, pgconn):
    topo = healthy
    with Load(topo, threads=3) as load:
        load.wait_for_requests(15)
        pg_down = time.monotonic()
        topo.pg.stop()
        time.sleep(2)
        topo.pg.start()
        pg_up = time.monotonic()
        wait_until(
            lambda: any(r.start > pg_up and not r.failed for r in load.snapshot()), 60, "a request after the restart"
        )
        time.sleep(8)

        web_down = time.monotonic()
        topo.webs[1].kill9()
        time.sleep(2)
        topo.webs[1].start()
        topo.wait_web(topo.web_ports[1])
        web_up = time.monotonic()
        time.sleep(12)
    requests = load.snapshot()
    windows = [(pg_down, pg_up + GRACE_SECONDS), (web_down, web_up + GRACE_SECONDS)]

    def inside(r) -> bool:
        return any(r.start <= end and r.end >= start for start, end in windows)

    failed = [r for r in requests if r.failed]
    outside = [r for r in failed if not inside(r)]
    pg_window = [r for r in requests if r.start <= windows[0][1] and r.end >= windows[0][0]]
    web_window = [r for r in requests if r.start <= windows[1][1] and r.end >= windows[1][0]]
    pg_recovery = min((r.end for r in requests if r.start >= pg_up and not r.failed), default=pg_up) - pg_up
    web1_back = min((r.end for r in requests if r.web == 1 and r.start >= web_up and not r.failed), default=web_up)

    # a client retries what failed: a clean 200, or 409 when the first attempt had committed
    retries = {}
    for r in failed:
        if r.kind in TARGET_STAGE and r.project is not None:
            user = load_user(r)
            client = ApiClient(topo, user, web=0)
            try:
                action = "submit" if r.kind == "submit" else "approve"
                retries[(r.kind, r.project)] = client.post(
                    f"/api/projects/{r.project}/{action}/", json={"comment": "重试"}
                ).status_code
            finally:
                client.close()
    audit = topo.manage("verify_audit")
    tasks = topo.manage("verify_tasks")
    half_done = half_done_projects(pgconn, load.projects)
    record(
        "postgres restart + daphne kill -9 under load",
        {
            "requests": len(requests),
            "requests_in_pg_window": len(pg_window),
            "failed_in_pg_window": sum(1 for r in pg_window if r.failed),
            "pg_recovery_s": round(pg_recovery, 1),
            "requests_in_daphne_window": len(web_window),
            "failed_in_daphne_window": sum(1 for r in web_window if r.failed),
            "daphne_back_s": round(web1_back - web_down, 1),
            "failed_after_windows": len(outside),
            "retries": len(retries),
            "retry_answers": sorted(set(retries.values())),
            "half_done_transitions": len(half_done),
        },
    )
    assert not outside, "requests failed after the faults' windows: " + "; ".join(
        f"{r.kind} on web{r.web + 1} at +{r.start - pg_down:.1f} s: {r.status or r.error}" for r in outside[:10]
    )
    assert set(retries.values()) <= {200, 409}, f"a retried transition answered {retries}"
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert tasks.returncode == 0, tasks.stdout + tasks.stderr
    assert not half_done, f"projects whose stage and open task disagree: {half_done[:10]}"


def load_user(r) -> str:
    from .load import DEPARTMENTS

    dept = DEPARTMENTS[r.thread % len(DEPARTMENTS)]
    return f"{dept}_staff" if r.kind == "submit" else f"{dept}_leader"


def half_done_projects(conn, projects: list[int]) -> list[tuple[int, str, list[str]]]:
    """Load projects whose stage has not exactly the open intake task it calls for (a
    submitted project: its department review; a dept-approved one: the finance intake; a
    draft: none)."""
    expected = {"draft": [], "submitted": ["dept_review"], "dept_approved": ["finance_intake"]}
    out = []
    for pk in projects:
        stage = conn.execute("SELECT stage FROM processes_budgetproject WHERE id = %s", [pk]).fetchone()[0]
        rows = conn.execute(
            """SELECT t.flow_task FROM viewflow_task t JOIN workflows_projectprocess p ON p.process_ptr_id = t.process_id
               WHERE p.project_id = %s AND t.status IN ('NEW', 'ASSIGNED', 'STARTED', 'ERROR')
               AND t.flow_task_type = 'HUMAN'""",
            [pk],
        ).fetchall()
        open_tasks = sorted(str(row[0]).rsplit(".", 1)[-1] for row in rows)
        if open_tasks != expected.get(stage, open_tasks):
            out.append((pk, stage, open_tasks))
    return out
