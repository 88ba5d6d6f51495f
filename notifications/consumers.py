"""The live notification stream of one logged-in browser tab.

Joins the user's group; says the unread count and the newest notice's id; replays the
user's notices newer than the ``?since=<id>`` the client last saw (pushes missed while it
was away: a Redis outage, a restart, a network change); forwards pushed events; closes
itself when its session ends — by logout (a `session.ended` event) or by idling out
(checked every SESSION_WEBSOCKET_CHECK_SECONDS). When the channel layer fails (Redis
down) the socket is closed with CLOSE_RETRY, which the client answers by reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from .models import Notification
from .services import BOARD_GROUP, push_payload, unread_count, user_group

logger = logging.getLogger("jixiao.notifications")

#: Who watches the deadline board (a string: notifications imports no domain app).
BOARD_PERMISSION = "processes.view_all_projects"

CLOSE_UNAUTHENTICATED = 4401
#: The account must change a password someone else set before it is told anything (三员分立:
#: whoever set it must not read the account's notices); the client stops, no retry.
CLOSE_PASSWORD_CHANGE = 4403
#: "Try again later": the server cannot serve the stream right now (its channel layer
#: failed). An application code (4000–4999): daphne's autobahn refuses to send RFC 6455's
#: own 1013, so a socket closed with it stayed open and deaf (the production suite's Redis
#: outage found it).
CLOSE_RETRY = 4503
#: At most this many missed notices are replayed on a reconnect (the newest, oldest first);
#: the unread badge and the notification list have the rest.
REPLAY_LIMIT = 50


def since_of(query_string: bytes) -> int | None:
    """The ``since`` id of a socket URL's query string; None when absent or not an id."""
    from urllib.parse import parse_qs

    values = parse_qs(query_string.decode("latin-1")).get("since", [])
    if not values or not values[-1].isdigit() or len(values[-1]) > 18:
        return None
    return int(values[-1])


@database_sync_to_async
def _hello_and_replay(user, since: int | None) -> tuple[dict, list[dict]]:
    """The first message (unread count, newest id) and the notices to replay: the user's
    own with an id above ``since``, the newest REPLAY_LIMIT, oldest first."""
    mine = Notification.objects.filter(recipient=user)
    unread = unread_count(user)
    last_id = mine.order_by("-id").values_list("id", flat=True).first() or 0
    replay: list[dict] = []
    if since is not None and last_id > since:
        notes = list(mine.filter(id__gt=since).order_by("-id")[:REPLAY_LIMIT])
        replay = [push_payload(note, language=user.language, unread=unread, replayed=True) for note in reversed(notes)]
    return {"type": "unread", "unread": unread, "last_id": last_id}, replay


@database_sync_to_async
def _session_alive(session_key: str | None) -> bool:
    if not session_key:
        return False
    return Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now()).exists()


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        """The consumer, and what happens when its channel layer fails while it waits for
        events (Redis gone: the layer's read raises outside any handler): the socket is
        closed with CLOSE_RETRY rather than left to the server's 1011."""
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            logger.warning("notification socket closed for a retry: its channel layer failed", exc_info=True)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_RETRY})

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        if not await _session_alive(self.session_key):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if getattr(user, "must_change_password", False):
            await self.close(code=CLOSE_PASSWORD_CHANGE)
            return
        # a superuser is a system account, not a supervisor (三员分立)
        watches_board = not user.is_superuser and await database_sync_to_async(user.has_perm)(BOARD_PERMISSION)
        await self.accept()
        # join the groups, then read what to replay: a notice committed in between is
        # both replayed and pushed, and sent once (self.replayed)
        try:
            self.group = user_group(user.pk)
            await self.channel_layer.group_add(self.group, self.channel_name)
            self.watches_board = watches_board
            if watches_board:
                await self.channel_layer.group_add(BOARD_GROUP, self.channel_name)
        except Exception:
            logger.warning(
                "notification socket of user %s closed for a retry: channel layer failed", user.pk, exc_info=True
            )
            await self.close(code=CLOSE_RETRY)
            return
        hello, replay = await _hello_and_replay(user, since_of(self.scope.get("query_string", b"")))
        self.replayed = {event["id"] for event in replay}
        await self.send_json(hello)
        for event in replay:
            await self.send_json(event)
        self._watch = asyncio.ensure_future(self._watch_session())

    async def disconnect(self, code):
        watch = getattr(self, "_watch", None)
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        try:
            if hasattr(self, "group"):
                await self.channel_layer.group_discard(self.group, self.channel_name)
            if getattr(self, "watches_board", False):
                await self.channel_layer.group_discard(BOARD_GROUP, self.channel_name)
        except Exception:  # Redis down: the group entries expire (group_expiry) on their own
            logger.info("leaving the groups of a closed notification socket failed", exc_info=True)

    async def receive_json(self, content, **kwargs):
        # Clients only ping; anything else is ignored.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def notify(self, event):
        payload = event["payload"]
        if payload.get("type") == "notification" and payload.get("id") in getattr(self, "replayed", ()):
            return  # already sent by the replay
        await self.send_json(payload)

    async def board_changed(self, event):
        await self.send_json({"type": "board_changed", "reason": event.get("reason", "")})

    async def session_ended(self, event):
        if event.get("session_key") == self.session_key:
            await self._end_session()

    async def _watch_session(self):
        while True:
            await asyncio.sleep(settings.SESSION_WEBSOCKET_CHECK_SECONDS)
            if not await _session_alive(self.session_key):
                await self._end_session()
                return

    async def _end_session(self):
        await self.send_json({"type": "session_ended"})
        await self.close(code=CLOSE_UNAUTHENTICATED)
