"""The channel layer across OS processes, on a real Redis.

Production runs several web processes and a Celery worker; a notification written in one
must reach a browser tab connected to another. Here the test process holds the WebSocket
(NotificationConsumer behind AuthMiddlewareStack, with a real session cookie) and a second
Python process, started with the same settings and REDIS_URL, sends to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection

from config.env import BASE_DIR
from notifications.consumers import NotificationConsumer
from notifications.models import Notification
from processes.models import AuditEvent
from processes.states import ProjectStage

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

#: Generous: the second process imports Django and the whole project before it sends.
RECEIVE_TIMEOUT = 30

SEND_TO_GROUP = """
import json, os, sys
import django
django.setup()
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
layer = get_channel_layer()
async_to_sync(layer.group_send)(sys.argv[1], {"type": "notify", "payload": json.loads(sys.argv[2])})
print(json.dumps({"pid": os.getpid(), "layer": type(layer).__name__}))
"""

ACT_ON_PROJECT = """
import json, os, sys
import django
django.setup()
from channels.layers import get_channel_layer
from accounts.models import User
from processes.models import BudgetProject
from workflows.services import project_act
project = project_act(project=BudgetProject.objects.get(pk=int(sys.argv[1])),
                      actor=User.objects.get(pk=int(sys.argv[2])), action=sys.argv[3])
print(json.dumps({"pid": os.getpid(), "layer": type(get_channel_layer()).__name__, "stage": project.stage}))
"""


def second_process_env(*, with_test_database: bool = False) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": os.environ["REDIS_URL"]}
    if with_test_database:
        # The test database (test_<name>) this process created, not the one DATABASE_URL names.
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{quote(db['USER'], safe='')}:{quote(db['PASSWORD'], safe='')}"
            f"@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


async def run_second_process(code: str, *args: str, env: dict[str, str]) -> dict:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pid"] != os.getpid()
    assert report["layer"] == "RedisChannelLayer"
    return report


@sync_to_async
def session_cookie(client, user) -> bytes:
    """Log ``user`` in for real: a session row the consumer will find alive."""
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def open_socket(cookie: bytes) -> WebsocketCommunicator:
    app = AuthMiddlewareStack(NotificationConsumer.as_asgi())
    socket = WebsocketCommunicator(app, "/ws/notifications/", headers=[(b"cookie", cookie)])
    connected, code = await socket.connect(timeout=10)
    assert connected, code
    return socket


async def test_socket_receives_event_when_another_process_sends_it(district, client):
    assert "Redis" in type(get_channel_layer()).__name__
    socket = await open_socket(await session_cookie(client, district.leader_a))
    try:
        assert await socket.receive_json_from(timeout=10) == {"type": "unread", "unread": 0, "last_id": 0}
        payload = {"type": "notification", "id": 0, "kind": "test", "text": "来自另一个进程", "unread": 1}

        await run_second_process(
            SEND_TO_GROUP, f"user.{district.leader_a.pk}", json.dumps(payload), env=second_process_env()
        )

        assert await socket.receive_json_from(timeout=RECEIVE_TIMEOUT) == payload
    finally:
        await socket.disconnect()


async def test_other_users_socket_hears_nothing_when_another_process_sends(district, client):
    """Groups are per user across processes too: leader B's tab does not get A's event."""
    socket = await open_socket(await session_cookie(client, district.leader_b))
    try:
        assert await socket.receive_json_from(timeout=10) == {"type": "unread", "unread": 0, "last_id": 0}
        await run_second_process(
            SEND_TO_GROUP,
            f"user.{district.leader_a.pk}",
            json.dumps({"type": "notification"}),
            env=second_process_env(),
        )
        assert await socket.receive_nothing(timeout=1)
    finally:
        await socket.disconnect()


@pytest.mark.postgres
async def test_leader_socket_hears_submission_when_staff_submit_in_another_process(district, client):
    """A real transition in a second process (same PostgreSQL test database) notifies
    after its commit, through Redis, the leader whose tab is open in this process."""
    project = await sync_to_async(district.project)(ProjectStage.DRAFT)
    socket = await open_socket(await session_cookie(client, district.leader_a))
    try:
        assert await socket.receive_json_from(timeout=10) == {"type": "unread", "unread": 0, "last_id": 0}

        report = await run_second_process(
            ACT_ON_PROJECT,
            str(project.pk),
            str(district.staff_a.pk),
            "submit",
            env=second_process_env(with_test_database=True),
        )
        assert report["stage"] == ProjectStage.SUBMITTED

        pushed = await socket.receive_json_from(timeout=RECEIVE_TIMEOUT)

        @sync_to_async
        def written_by_second_process():
            event = AuditEvent.objects.get(object_id=str(project.pk), action="submit")
            return Notification.objects.get(recipient=district.leader_a, event_key=f"audit:{event.sequence}")

        note = await written_by_second_process()
        assert pushed["type"] == "notification"
        assert pushed["id"] == note.pk
        assert pushed["kind"] == note.kind == "task"
        assert pushed["url"] == f"/projects/{project.pk}/"
        assert pushed["unread"] == 1
        assert project.name in pushed["text"]
        assert await socket.receive_nothing(timeout=0.5)  # one event, one push
    finally:
        await socket.disconnect()


#: Longer than two of channels-redis's blocking reads (BZPOPMIN, 5 s) and than redis-py's
#: default socket_timeout (5 s), which closed every idle socket with 1011 after ~5.7 s.
IDLE_SECONDS = 12


async def test_idle_socket_still_receives_group_send_when_left_idle_past_the_blocking_read(district, client):
    socket = await open_socket(await session_cookie(client, district.leader_a))
    try:
        assert await socket.receive_json_from(timeout=10) == {"type": "unread", "unread": 0, "last_id": 0}
        assert await socket.receive_nothing(timeout=IDLE_SECONDS)  # idle: no close, no error

        payload = {"type": "notification", "id": 0, "kind": "test", "text": "空闲之后", "unread": 1}
        await get_channel_layer().group_send(f"user.{district.leader_a.pk}", {"type": "notify", "payload": payload})

        assert await socket.receive_json_from(timeout=10) == payload
    finally:
        await socket.disconnect()


async def test_layer_receive_waits_without_raising_when_nothing_arrives_past_the_blocking_read():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(channel))
    try:
        done, _ = await asyncio.wait({receiving}, timeout=IDLE_SECONDS)
        assert not done, receiving.exception()  # still waiting, no "Timeout reading from …"

        await layer.send(channel, {"type": "hello"})

        assert await asyncio.wait_for(receiving, timeout=10) == {"type": "hello"}
    finally:
        receiving.cancel()
