"""Notification latency: from the commit of a completion to the moment the leader's open
WebSocket (the project's ASGI application: origin check, session authentication,
NotificationConsumer) sends the notice to the browser — p50/p99.

Each sample is a department's staff submitting a self-evaluation
(``workflows.services.self_evaluation_submit``): after commit, delivery pushes the
leader's notice through the channel layer (notifications.services.deliver). The commit
is stamped by an on_commit callback registered before the service's own; the arrival
when the consumer hands the frame to the server (an ASGI wrapper around the
application). Samples go one at a time: the next starts once the notice arrived.

- in one process: the socket (channels' WebsocketCommunicator) and the completions in
  the benchmark process, through the configured channel layer (in memory; Redis when
  REDIS_URL is set);
- with Redis, from a second process: the completions run in another Python process
  (bench/second_process.py) on the same database; the clocks are the machine's
  CLOCK_MONOTONIC, shared by both processes.

Limit, measured the same way: the bare channel-layer push (group_send of a notice, no
database, no transaction), in one process and from the second.

Each series starts with WARMUP samples that are not counted (the first completion of a
process pays for its database connection and lazy imports). Setup: the completion scenario's state (campaign launched, sheets saved). Targets
(issue 9): p99 ≤ 100 ms in one process, ≤ 250 ms across processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client as DjangoClient

from notifications.services import user_group
from processes.models import SelfEvaluation
from processes.states import SelfEvaluationStatus
from workflows.services import self_evaluation_submit

from .. import district
from ..context import Context
from ..harness import BASE_DIR, percentile
from .completion import ready

TIMEOUT = 30
#: samples at the start of each series that are not counted
WARMUP = 2


def submit_stamped(evaluation_pk: int, staff_pk: int) -> float:
    """Submit, and return the CLOCK_MONOTONIC instant its transaction committed."""
    from accounts.models import User

    evaluation = SelfEvaluation.objects.get(pk=evaluation_pk)
    staff = User.objects.get(pk=staff_pk)
    stamp: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: stamp.append(time.monotonic()))  # runs before the delivery
        self_evaluation_submit(evaluation=evaluation, actor=staff)
    return stamp[0]


def push_stamped(user_pk: int) -> float:
    """The bare push of a notice to the user's sockets; returns when it started."""
    started = time.monotonic()
    payload = {"type": "notification", "id": 0, "kind": "bench", "text": "bench", "url": "", "unread": 0}
    async_to_sync(get_channel_layer().group_send)(user_group(user_pk), {"type": "notify", "payload": payload})
    return started


def _stamping(app, arrivals: list[float]):
    """The application, noting when it sends a WebSocket frame to the client."""

    async def wrapped(scope, receive, send):
        async def stamped(message):
            if message.get("type") == "websocket.send":
                arrivals.append(time.monotonic())
            await send(message)

        await app(scope, receive, stamped)

    return wrapped


def _cookie(user) -> bytes:
    client = DjangoClient()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _sample(
    leaders: list, jobs: list[tuple[int, int, int]], act: Callable[[int, int, int], object], in_thread: bool
) -> list[float]:
    """Open one socket per leader; for each job (department index, evaluation, staff) do
    ``act`` and wait for its notice; return the latencies in ms."""
    from config.asgi import application

    cookies = [await sync_to_async(_cookie)(leader) for leader in leaders]
    sockets, arrivals = [], []
    for cookie in cookies:
        stamps: list[float] = []
        socket = WebsocketCommunicator(
            _stamping(application, stamps),
            "/ws/notifications/",
            headers=[(b"cookie", cookie), (b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
        )
        connected, code = await socket.connect(timeout=TIMEOUT)
        if not connected:
            raise RuntimeError(f"the socket was refused ({code})")
        first = await socket.receive_json_from(timeout=TIMEOUT)
        assert first["type"] == "unread", first
        sockets.append(socket)
        arrivals.append(stamps)
    latencies = []
    try:
        for number, (index, evaluation_pk, staff_pk) in enumerate(jobs):
            seen = len(arrivals[index])
            if in_thread:
                committed = await sync_to_async(act)(index, evaluation_pk, staff_pk)
            else:
                committed = act(index, evaluation_pk, staff_pk)
                if asyncio.iscoroutine(committed):
                    committed = await committed
            message = await sockets[index].receive_json_from(timeout=TIMEOUT)
            assert message["type"] == "notification", message
            if number >= WARMUP:  # the first ones pay for connections and lazy imports
                latencies.append((arrivals[index][seen] - float(committed)) * 1000)  # type: ignore[arg-type]
    finally:
        for socket in sockets:
            await socket.disconnect()
    return latencies


class SecondProcess:
    """bench/second_process.py on the same database and channel layer: one command a
    line in, one stamp a line out."""

    def __init__(self, database_url: str) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench", "DATABASE_URL": database_url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.second_process"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        ready = self.process.stdout.readline()  # type: ignore[union-attr]
        if json.loads(ready).get("ready") is not True:
            raise RuntimeError(f"second process: {ready!r}")
        self.pid = self.process.pid

    async def ask(self, *words: object) -> float:
        def roundtrip() -> float:
            self.process.stdin.write(" ".join(map(str, words)) + "\n")  # type: ignore[union-attr]
            answer = json.loads(self.process.stdout.readline())  # type: ignore[union-attr]
            if answer["pid"] == os.getpid():
                raise RuntimeError("the second process is this process")
            return answer["stamp"]

        return await asyncio.to_thread(roundtrip)

    def close(self) -> None:
        self.process.stdin.close()  # type: ignore[union-attr]
        self.process.wait(timeout=30)


def run(ctx: Context) -> None:
    redis = "Redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]
    s = ctx.report.scenario(
        "notifications",
        "Notification latency (commit → WebSocket frame)",
        samples=ctx.size["latency_samples"],
        sockets=ctx.size["latency_departments"],
        layer=settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
    )
    with ctx.report.timing(s):
        modes = [("one process", True)] + ([("second process", False)] if redis else [])
        for label, in_process in modes:
            p50s, p99s, limit50s, limit99s = [], [], [], []
            for _ in range(ctx.runs):
                saved = ready(ctx)
                d = district.load()
                departments = sorted(saved)[: ctx.size["latency_departments"]]
                leaders = [d.leaders[dept] for dept in departments]
                n = ctx.size["latency_samples"] + WARMUP
                jobs = []
                for i in range(n):
                    index = i % len(departments)
                    pool = saved[departments[index]]
                    jobs.append((index, pool[i // len(departments)], d.staff[departments[index]].pk))
                bare = [(i % len(leaders), 0, leaders[i % len(leaders)].pk) for i in range(n)]
                if in_process:
                    lat = async_to_sync(_sample)(leaders, jobs, lambda _i, e, st: submit_stamped(e, st), True)
                    limit = async_to_sync(_sample)(leaders, bare, lambda _i, _e, user: push_stamped(user), True)
                else:
                    second = SecondProcess(ctx.db.url)
                    try:
                        lat = async_to_sync(_sample)(
                            leaders, jobs, lambda _i, e, st, second=second: second.ask("submit", e, st), False
                        )
                        limit = async_to_sync(_sample)(
                            leaders, bare, lambda _i, _e, user, second=second: second.ask("push", user), False
                        )
                    finally:
                        second.close()
                submitted = SelfEvaluation.objects.filter(
                    pk__in=[e for _i, e, _s in jobs], status=SelfEvaluationStatus.SUBMITTED
                )
                assert submitted.count() == n, submitted.count()
                p50s.append(percentile(lat, 50))
                p99s.append(percentile(lat, 99))
                limit50s.append(percentile(limit, 50))
                limit99s.append(percentile(limit, 99))
            s.add(f"{label}: commit → frame p50", p50s, "ms")
            s.add(f"{label}: commit → frame p99", p99s, "ms")
            s.add(f"limit: {label}: bare push p50", limit50s, "ms")
            s.add(f"limit: {label}: bare push p99", limit99s, "ms")
            goal = 100 if in_process else 250
            p99 = s.get(f"{label}: commit → frame p99").median
            s.target(f"{label}: p99", f"≤ {goal} ms", f"{p99:.1f} ms", (ctx.full or None) and p99 <= goal)
        if not redis:
            s.note("no REDIS_URL: the cross-process latency needs Redis (run with REDIS_URL)")
