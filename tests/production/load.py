"""Load for the fault tests: a few client threads doing real transitions and reads through
both daphne processes, each a bounded loop that stops by itself.

Each thread is a department: its staff (on one daphne) creates a project and submits it,
its leader (on the other) approves it, and the leader reads the project list between
actions. Every request is recorded with its start and end (monotonic seconds), its
outcome (HTTP status, or the exception of a connection that failed) and, for a
transition, the project and the stage it asked for.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass

import httpx

from .topology import ApiClient, Topology

#: Demo departments whose staff and leader drive the load (workflows/demo.py).
DEPARTMENTS = ["nongshui", "zhujian", "renshe", "duobao", "jiaoyu", "minzheng"]
TARGET_STAGE = {"submit": "submitted", "approve": "dept_approved"}


@dataclass
class Request:
    thread: int
    kind: str  # create / submit / approve / read
    start: float
    end: float
    status: int | None  # None: no answer (connection refused or reset, timeout)
    error: str = ""
    project: int | None = None
    web: int = 0

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500


class Load:
    def __init__(self, topo: Topology, threads: int = 3, max_iterations: int = 200, pause: float = 0.2):
        self.topo, self.threads, self.max_iterations, self.pause = topo, threads, max_iterations, pause
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers: list[threading.Thread] = []
        self.projects: list[int] = []

    # --- running ---------------------------------------------------------------------
    def start(self) -> Load:
        for i in range(self.threads):
            thread = threading.Thread(target=self._run, args=(i,), name=f"load-{i}", daemon=True)
            thread.start()
            self.workers.append(thread)
        return self

    def stop(self, timeout: float = 120) -> None:
        self.stopping.set()
        for thread in self.workers:
            thread.join(timeout)

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self, i: int) -> None:
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        staff = ApiClient(self.topo, f"{dept}_staff", web=i % 2, timeout=40)
        leader = ApiClient(self.topo, f"{dept}_leader", web=(i + 1) % 2, timeout=40)
        try:
            for n in itertools.count():
                if self.stopping.is_set() or n >= self.max_iterations:
                    return
                project = self._do(i, staff, "create", "/api/projects/", self._new_project(i))
                if project is not None:
                    self._do(i, staff, "submit", f"/api/projects/{project}/submit/", {"comment": "生产测试"}, project)
                    self._do(i, leader, "read", "/api/projects/?page_size=5", None)
                    self._do(i, leader, "approve", f"/api/projects/{project}/approve/", {"comment": "同意"}, project)
                time.sleep(self.pause)
        finally:
            staff.close()
            leader.close()

    @staticmethod
    def _new_project(i: int) -> dict:
        return {
            "fiscal_year": 2021,
            "code": f"LOAD-{i}-{uuid.uuid4().hex[:10]}",
            "name": f"生产测试项目{i}",
            "category": "infrastructure",
            "recurrence": "one_off",
            "requested_amount": "100000.00",
        }

    def _do(self, i: int, client: ApiClient, kind: str, path: str, body: dict | None, project: int | None = None):
        start = time.monotonic()
        status, error, created = None, "", None
        try:
            response = client.get(path) if body is None else client.post(path, json=body)
            status = response.status_code
            if kind == "create" and status == 201:
                created = response.json()["id"]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        req = Request(i, kind, start, time.monotonic(), status, error, created or project, client.web)
        with self.lock:
            self.requests.append(req)
            if created:
                self.projects.append(created)
        return created

    # --- figures ---------------------------------------------------------------------
    def snapshot(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def in_window(self, start: float, end: float) -> list[Request]:
        """Requests that were under way at some moment of [start, end]."""
        return [r for r in self.snapshot() if r.start <= end and r.end >= start]

    def failed(self) -> list[Request]:
        return [r for r in self.snapshot() if r.failed]

    def wait_for_requests(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count and time.monotonic() < deadline:
            time.sleep(0.2)


def committed_5xx(load: Load, conn) -> list[Request]:
    """Transitions answered 5xx (or not at all) although they committed: the project is at
    (or past) the stage they asked for."""
    order = ["draft", "submitted", "dept_approved"]
    out = []
    for req in load.snapshot():
        if req.kind not in TARGET_STAGE or not req.failed or req.project is None:
            continue
        stage = conn.execute("SELECT stage FROM processes_budgetproject WHERE id = %s", [req.project]).fetchone()[0]
        reached = stage not in order or order.index(stage) >= order.index(TARGET_STAGE[req.kind])
        if reached and req.status is not None:
            out.append(req)
    return out
