"""Live notifications across processes: a socket left idle stays open, and a transition
committed through one daphne reaches a socket held by the other."""

from __future__ import annotations

import time

import pytest

from .load import Load
from .topology import ApiClient, LiveSocket, record, session_cookie, wait_until

pytestmark = pytest.mark.production

IDLE_SECONDS = 60


def test_idle_socket_stays_open_and_gets_a_push_from_the_other_daphne_when_idle_60s(healthy):
    topo = healthy
    cookie = session_cookie(topo, "zhujian_leader", web=0)
    socket = LiveSocket(topo, cookie, web=0)
    socket.reconnect = False  # a close must show, not be papered over
    socket.start()
    opened = time.monotonic()
    wait_until(lambda: any(d.get("type") == "unread" for _, d in socket.frames), 30, "the unread count on connect")
    while time.monotonic() - opened < IDLE_SECONDS:
        assert not socket.closes, (
            f"the idle socket was closed after {socket.closes[0][0] - opened:.1f} s: {socket.closes}"
        )
        time.sleep(1)
    idle = time.monotonic() - opened

    staff = ApiClient(topo, "zhujian_staff", web=1)
    try:
        created = staff.post("/api/projects/", json=Load._new_project(9))
        assert created.status_code == 201, created.text
        project = created.json()["id"]
        before = socket.notification_ids()
        sent = time.monotonic()
        submitted = staff.post(f"/api/projects/{project}/submit/", json={"comment": "生产测试"})
        assert submitted.status_code == 200, submitted.text
        latency = wait_until(lambda: socket.notification_ids() - before, 20, "the push from the other daphne")
        latency = time.monotonic() - sent
    finally:
        staff.close()
        socket.stop()
    assert not socket.closes or socket.stopping.is_set(), socket.closes
    assert len(socket.connects) == 1
    record(
        "websocket idle + cross-daphne push",
        {"idle_seconds": round(idle, 1), "closes_while_idle": 0, "push_latency_s": round(latency, 2)},
    )
