"""Missed pushes are replayed when a tab reconnects (``?since=<the last id it saw>``), only
the socket's own user's, at most REPLAY_LIMIT; a channel layer that fails closes the socket
with a code the client retries (notifications/consumers.py, static/js/live.js)."""

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from notifications.consumers import CLOSE_RETRY, REPLAY_LIMIT, NotificationConsumer, since_of
from notifications.models import Notification
from notifications.services import Message, notify

pytestmark = pytest.mark.django_db(transaction=True)

application = AuthMiddlewareStack(NotificationConsumer.as_asgi())


@database_sync_to_async
def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@database_sync_to_async
def tell(user, n: int, key: str) -> list[int]:
    ids = []
    for i in range(n):
        with transaction.atomic():
            [note] = notify(messages={user: Message("stage_changed", f"通知{key}{i}")}, event_key=f"{key}:{i}")
        ids.append(note.pk)
    return ids


async def open_socket(user, path="/ws/notifications/"):
    socket = WebsocketCommunicator(application, path, headers=[(b"cookie", await cookie_of(user))])
    connected, code = await socket.connect(timeout=5)
    assert connected, code
    return socket


async def drain(socket) -> list[dict]:
    events = []
    while not await socket.receive_nothing(timeout=0.3):
        events.append(await socket.receive_json_from())
    return events


async def test_missed_notices_are_replayed_oldest_first_when_socket_reconnects_with_since(district):
    seen = await tell(district.leader_a, 2, "seen")
    missed = await tell(district.leader_a, 3, "missed")

    socket = await open_socket(district.leader_a, f"/ws/notifications/?since={seen[-1]}")
    hello, *replay = await drain(socket)
    await socket.disconnect()

    assert hello == {"type": "unread", "unread": 5, "last_id": missed[-1]}
    assert [e["id"] for e in replay] == missed
    assert all(e["type"] == "notification" and e["replayed"] and e["unread"] == 5 for e in replay)
    assert replay[0]["text"] == "通知missed0"


async def test_nothing_is_replayed_when_client_is_up_to_date(district):
    ids = await tell(district.leader_a, 2, "k")

    socket = await open_socket(district.leader_a, f"/ws/notifications/?since={ids[-1]}")
    events = await drain(socket)
    await socket.disconnect()

    assert events == [{"type": "unread", "unread": 2, "last_id": ids[-1]}]


async def test_first_connection_replays_nothing_and_says_the_newest_id_when_no_since(district):
    ids = await tell(district.leader_a, 2, "k")

    socket = await open_socket(district.leader_a)
    events = await drain(socket)
    await socket.disconnect()

    assert events == [{"type": "unread", "unread": 2, "last_id": ids[-1]}]


async def test_replay_is_capped_to_the_newest_when_many_were_missed(district):
    ids = await tell(district.leader_a, REPLAY_LIMIT + 5, "many")

    socket = await open_socket(district.leader_a, "/ws/notifications/?since=0")
    hello, *replay = await drain(socket)
    await socket.disconnect()

    assert [e["id"] for e in replay] == ids[-REPLAY_LIMIT:]  # the newest, newest last
    assert hello["unread"] == REPLAY_LIMIT + 5


async def test_other_users_notices_are_never_replayed_whatever_since_says(district):
    theirs = await tell(district.leader_b, 3, "theirs")
    mine = await tell(district.leader_a, 1, "mine")

    for since in (0, theirs[0] - 1, theirs[0], mine[0] - 1):
        socket = await open_socket(district.leader_a, f"/ws/notifications/?since={since}")
        hello, *replay = await drain(socket)
        await socket.disconnect()
        assert {e["id"] for e in replay} <= set(mine), since
        assert hello["last_id"] == mine[-1]  # never another user's newest id

    socket = await open_socket(district.leader_b, f"/ws/notifications/?since={theirs[0]}")
    hello, *replay = await drain(socket)
    await socket.disconnect()
    assert [e["id"] for e in replay] == theirs[1:]


async def test_replayed_notice_is_not_sent_again_when_its_push_arrives_after(district):
    [pk] = await tell(district.leader_a, 1, "late")
    socket = await open_socket(district.leader_a, f"/ws/notifications/?since={pk - 1}")
    hello, replayed = await drain(socket)
    assert replayed["id"] == pk

    # the push of the same notice, late (its delivery ran after the replay's read)
    payload = {"type": "notification", "id": pk, "kind": "stage_changed", "text": "x", "unread": 1}
    await get_channel_layer().group_send(f"user.{district.leader_a.pk}", {"type": "notify", "payload": payload})
    fresh = {**payload, "id": pk + 1000}
    await get_channel_layer().group_send(f"user.{district.leader_a.pk}", {"type": "notify", "payload": fresh})

    assert await socket.receive_json_from(timeout=2) == fresh
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.parametrize("raw", [b"since=abc", b"since=-3", b"since=", b"since=1e3", b"since=" + b"9" * 40, b"x=1"])
def test_malformed_since_is_ignored_when_parsed(raw):
    assert since_of(raw) is None


def test_since_is_read_when_it_is_an_id():
    assert since_of(b"since=42") == 42


class JoinFails:
    """A channel layer that cannot reach Redis (every group_add fails)."""

    extensions = ["groups"]

    def __init__(self, **kwargs):
        pass

    async def new_channel(self, prefix="specific."):
        return prefix + "test!x"

    async def receive(self, channel):
        import asyncio

        await asyncio.sleep(3600)

    async def group_add(self, group, channel):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def group_discard(self, group, channel):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


class ReceiveFails(JoinFails):
    """A channel layer that worked at connect, then lost Redis while waiting for events."""

    async def group_add(self, group, channel):
        return None

    async def receive(self, channel):
        import asyncio

        await asyncio.sleep(0.5)
        raise ConnectionError("Error while reading from 127.0.0.1:6379 : (104, 'Connection reset by peer')")


async def test_socket_is_closed_for_a_retry_when_the_layer_fails_at_connect(district, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.notifications.test_replay.JoinFails"}}
    socket = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"cookie", await cookie_of(district.leader_a))]
    )
    connected, _ = await socket.connect(timeout=5)
    assert connected  # accepted, then closed: the client sees the code
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_RETRY}
    await socket.wait(timeout=5)


async def test_socket_is_closed_for_a_retry_when_the_layer_fails_while_idle(district, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.notifications.test_replay.ReceiveFails"}}
    socket = await open_socket(district.leader_a)
    hello = await socket.receive_json_from(timeout=5)
    assert hello["type"] == "unread"

    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_RETRY}
    await socket.wait(timeout=5)


def test_replay_reads_a_bounded_number_of_rows_when_many_were_missed(district, django_assert_max_num_queries):
    from notifications.consumers import _hello_and_replay

    for i in range(REPLAY_LIMIT + 10):
        with transaction.atomic():
            notify(messages={district.leader_a: Message("stage_changed", "x")}, event_key=f"b:{i}")
    with django_assert_max_num_queries(3):
        hello, replay = _hello_and_replay.func(district.leader_a, 0)
    assert len(replay) == REPLAY_LIMIT
    assert Notification.objects.filter(recipient=district.leader_a).count() == REPLAY_LIMIT + 10
