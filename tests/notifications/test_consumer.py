"""The live stream: a transition's notification reaches the recipient's socket after commit;
a rolled-back one never does; the socket closes when its session ends."""

import pytest
from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from django.utils import timezone

from notifications.consumers import NotificationConsumer
from processes.states import ProjectStage
from workflows.services import project_act

pytestmark = pytest.mark.django_db(transaction=True)

application = AuthMiddlewareStack(NotificationConsumer.as_asgi())


def _session_cookie(user) -> tuple[str, bytes]:
    client = Client()
    client.force_login(user)
    key = client.cookies["sessionid"].value
    return key, f"sessionid={key}".encode()


async def _connect(user):
    key, cookie = await database_sync_to_async(_session_cookie)(user)
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=[(b"cookie", cookie)])
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["type"] == "unread"
    return communicator, key


async def test_notification_arrives_after_commit_when_project_submitted(district):
    project = await database_sync_to_async(district.project)(ProjectStage.DRAFT)
    communicator, _ = await _connect(district.leader_a)

    def submit_and_peek_before_commit():
        with transaction.atomic():
            project_act(project=project, actor=district.staff_a, action="submit")
            # still inside the transaction: nothing may have been pushed yet
            assert async_to_sync(communicator.receive_nothing)(timeout=0.3)

    await database_sync_to_async(submit_and_peek_before_commit)()
    event = await communicator.receive_json_from(timeout=3)
    assert event["type"] == "notification"
    assert event["kind"] == "task"
    assert project.name in event["text"]
    assert event["unread"] == 1
    assert event["url"] == f"/projects/{project.pk}/"
    await communicator.disconnect()


async def test_nothing_arrives_when_transition_rolls_back(district):
    project = await database_sync_to_async(district.project)(ProjectStage.DRAFT)
    communicator, _ = await _connect(district.leader_a)

    def submit_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            project_act(project=project, actor=district.staff_a, action="submit")
            raise RuntimeError("rolled back")

    await database_sync_to_async(submit_then_fail)()
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_other_users_socket_gets_nothing_when_someone_else_is_told(district):
    project = await database_sync_to_async(district.project)(ProjectStage.DRAFT)
    communicator, _ = await _connect(district.leader_b)
    await database_sync_to_async(project_act)(project=project, actor=district.staff_a, action="submit")
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_socket_is_refused_when_not_logged_in():
    communicator = WebsocketCommunicator(application, "/ws/notifications/")
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_socket_closes_when_session_idles_out(district):
    communicator, key = await _connect(district.leader_a)
    await database_sync_to_async(lambda: Session.objects.filter(session_key=key).update(expire_date=timezone.now()))()
    event = await communicator.receive_json_from(timeout=4)
    assert event == {"type": "session_ended"}
    closed = await communicator.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_socket_closes_when_user_logs_out(district):
    communicator, key = await _connect(district.leader_a)
    from notifications.services import end_session_sockets

    await database_sync_to_async(end_session_sockets)(user_id=district.leader_a.pk, session_key=key)
    event = await communicator.receive_json_from(timeout=2)
    assert event == {"type": "session_ended"}
