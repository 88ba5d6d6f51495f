"""The deadline board's live refresh: board_changed reaches the sockets of the board's
readers after commit — not before, not after a rollback, and never a department user's."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from notifications.consumers import NotificationConsumer
from notifications.services import board_changed

pytestmark = pytest.mark.django_db(transaction=True)

application = AuthMiddlewareStack(NotificationConsumer.as_asgi())


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connect(user):
    cookie = await database_sync_to_async(_session_cookie)(user)
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=[(b"cookie", cookie)])
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["type"] == "unread"
    return communicator


async def test_board_changed_reaches_supervisor_after_commit_and_not_department_staff(district):
    supervisor = await _connect(district.supervisor)
    finance = await _connect(district.finance)
    staff = await _connect(district.staff_a)

    def change_and_peek_before_commit():
        with transaction.atomic():
            board_changed("rectification_submitted")
            # still inside the transaction: nothing may have been pushed yet
            assert async_to_sync(supervisor.receive_nothing)(timeout=0.3)

    await database_sync_to_async(change_and_peek_before_commit)()
    for communicator in (supervisor, finance):
        event = await communicator.receive_json_from(timeout=3)
        assert event == {"type": "board_changed", "reason": "rectification_submitted"}
        assert json.loads(json.dumps(event)) == event
    assert await staff.receive_nothing(timeout=1)
    for communicator in (supervisor, finance, staff):
        await communicator.disconnect()


async def test_board_changed_reaches_no_one_when_transaction_rolls_back(district):
    supervisor = await _connect(district.supervisor)

    def change_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            board_changed("rectification_verified")
            raise RuntimeError("rolled back")

    await database_sync_to_async(change_then_fail)()
    assert await supervisor.receive_nothing(timeout=1)
    await supervisor.disconnect()


async def test_expert_socket_gets_no_board_refresh_when_board_changes(district):
    expert = await _connect(district.expert)
    await database_sync_to_async(board_changed)("task_completed")
    assert await expert.receive_nothing(timeout=1)
    await expert.disconnect()


def test_board_change_is_logged_not_raised_when_channel_layer_is_down(monkeypatch, caplog):
    import notifications.services as services

    def broken():
        raise ConnectionError("redis down")

    monkeypatch.setattr(services, "get_channel_layer", broken)
    with transaction.atomic():
        board_changed("rectification_verified")
    assert "board refresh (rectification_verified) failed" in caplog.text
