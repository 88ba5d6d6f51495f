"""The live notification stream of one logged-in browser tab.

Joins the user's group; forwards pushed events; closes itself when its session ends —
by logout (a `session.ended` event) or by idling out (checked every
SESSION_WEBSOCKET_CHECK_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from .services import BOARD_GROUP, unread_count, user_group

#: Who watches the deadline board (a string: notifications imports no domain app).
BOARD_PERMISSION = "processes.view_all_projects"

CLOSE_UNAUTHENTICATED = 4401


@database_sync_to_async
def _session_alive(session_key: str | None) -> bool:
    if not session_key:
        return False
    return Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now()).exists()


class NotificationConsumer(AsyncJsonWebsocketConsumer):
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
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # a superuser is a system account, not a supervisor (三员分立)
        self.watches_board = not user.is_superuser and await database_sync_to_async(user.has_perm)(BOARD_PERMISSION)
        if self.watches_board:
            await self.channel_layer.group_add(BOARD_GROUP, self.channel_name)
        await self.accept()
        await self.send_json({"type": "unread", "unread": await database_sync_to_async(unread_count)(user)})
        self._watch = asyncio.ensure_future(self._watch_session())

    async def disconnect(self, code):
        watch = getattr(self, "_watch", None)
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if getattr(self, "watches_board", False):
            await self.channel_layer.group_discard(BOARD_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # Clients only ping; anything else is ignored.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def notify(self, event):
        await self.send_json(event["payload"])

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
