"""A Redis outage seen from one web process, on a real Redis of the test's own (a private
redis-server on a free port: the shared one is never stopped).

While Redis is down: an open notification socket is closed with 1013 (the client retries)
instead of hanging or dying with 1011; a transition commits and its push failure is only
logged. When Redis is back: a socket reconnecting with the last id it saw gets the notices
it missed, in order, and live pushes again.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from config.settings.base import redis_channel_layer
from notifications.consumers import CLOSE_RETRY, NotificationConsumer
from notifications.services import Message, notify

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

application = AuthMiddlewareStack(NotificationConsumer.as_asgi())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp_path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "this test needs redis-server (Debian: apt-get install redis-server)"
        self.binary, self.dir, self.port = binary, tmp_path, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path, settings):
    redis = PrivateRedis(tmp_path)
    redis.start()
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(redis.url)}
    try:
        yield redis
    finally:
        redis.stop()
        channel_layers.backends.clear()


@sync_to_async
def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@sync_to_async
def tell(user, key: str) -> int:
    with transaction.atomic():  # commits: delivery (the push) runs after it
        [note] = notify(messages={user: Message("stage_changed", key)}, event_key=key)
    return note.pk


async def open_socket(cookie: bytes, path: str = "/ws/notifications/") -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, path, headers=[(b"cookie", cookie)])
    connected, code = await ws.connect(timeout=10)
    assert connected, code
    return ws


async def test_socket_is_closed_for_retry_and_missed_notices_replayed_when_redis_goes_and_returns(
    district, private_redis, caplog
):
    cookie = await cookie_of(district.leader_a)
    ws = await open_socket(cookie)
    hello = await ws.receive_json_from(timeout=10)
    seen = await tell(district.leader_a, "before")
    assert (await ws.receive_json_from(timeout=10))["id"] == seen

    down_at = time.monotonic()
    await asyncio.to_thread(private_redis.stop)
    closed = await ws.receive_output(timeout=30)
    closed_after = time.monotonic() - down_at
    assert closed == {"type": "websocket.close", "code": CLOSE_RETRY}
    await ws.wait(timeout=10)

    missed = [await tell(district.leader_a, f"during-{i}") for i in range(3)]  # commits; pushes fail
    assert "push of notification" in caplog.text

    await asyncio.to_thread(private_redis.start)
    back = await open_socket(cookie, f"/ws/notifications/?since={seen}")
    try:
        again = await back.receive_json_from(timeout=10)
        replay = [await back.receive_json_from(timeout=10) for _ in missed]
        assert again["last_id"] == missed[-1] and again["unread"] == hello["unread"] + 4
        assert [e["id"] for e in replay] == missed
        assert all(e["replayed"] for e in replay)

        live = await tell(district.leader_a, "after")
        assert (await back.receive_json_from(timeout=10))["id"] == live
    finally:
        await back.disconnect()
    print(f"\nsocket closed with {CLOSE_RETRY} {closed_after:.2f} s after Redis was killed")
    assert closed_after < 20
