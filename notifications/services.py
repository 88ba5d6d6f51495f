"""Write notifications inside the transition's transaction; deliver them after it commits.

`notify` is the only writer of Notification rows. Delivery (WebSocket push and e-mail)
is registered with `transaction.on_commit`, so a rolled-back transition notifies no one.
Every after-commit side effect here is registered ``robust=True`` and logs its own
failure: a dead channel layer or broker never turns a committed transition into an error.
E-mail is an outbox (notifications.tasks): the row written with the transition is the
promise to send it, whether or not the task can be queued.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.prepared import PreparedModelsIn

from .models import Notification

logger = logging.getLogger("jixiao.notifications")


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's open browser tabs."""
    return f"user.{user_id}"


@dataclass(frozen=True)
class Message:
    """What one recipient is told. ``verb`` is a message id, see Notification."""

    kind: str
    verb: str
    params: dict = field(default_factory=dict)
    translated_params: tuple[str, ...] = ()


def notify(
    *,
    messages: dict,  # {User: Message}
    event_key: str,
    url: str = "",
    object_type: str = "",
    object_id: str = "",
    urls: dict | None = None,  # {User: url}: a recipient's own link instead of ``url``
) -> list[Notification]:
    """Write one notification per recipient for the event ``event_key``.

    Must run inside the caller's transaction. A second call with the same event key for
    the same recipient violates the unique key and rolls the caller back. A recipient who
    takes e-mail gets an outbox row: due for the sweep NOTIFICATION_EMAIL_SWEEP_AFTER
    seconds from now, sent at once by the task queued after the commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notify must run inside the transition's transaction")
    email_due = timezone.now() + timedelta(seconds=settings.NOTIFICATION_EMAIL_SWEEP_AFTER)
    takes_email = _takes_email([user for user in messages if user is not None and user.is_active])
    rows = [
        Notification(
            recipient=user,
            kind=msg.kind,
            verb=msg.verb,
            params=msg.params,
            translated_params=list(msg.translated_params),
            url=(urls or {}).get(user, url),
            object_type=object_type,
            object_id=object_id,
            event_key=event_key,
            email_due_at=email_due if user.pk in takes_email else None,
        )
        for user, msg in messages.items()
        if user is not None and user.is_active
    ]
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created]
    transaction.on_commit(partial(deliver, ids), robust=True)
    return created


def _takes_email(users: list) -> set[int]:
    """The ids of those of ``users`` who take e-mail (an address, and e-mail notifications
    on). Read from the instances; where a caller loaded them without those fields (a bulk
    path's ``.only``), from one query for all of them, never one per recipient."""
    email_fields = {"email", "email_notifications"}
    loaded = [u for u in users if not email_fields & u.get_deferred_fields()]
    takes = {u.pk for u in loaded if u.email_notifications and u.email}
    deferred = [u.pk for u in users if email_fields & u.get_deferred_fields()]
    if deferred:
        model = type(users[0])
        takes |= set(
            model._default_manager.filter(pk__in=deferred, email_notifications=True)
            .exclude(email="")
            .values_list("pk", flat=True)
        )
    return takes


def push_payload(note: Notification, *, language: str, unread: int, replayed: bool = False) -> dict:
    """What a browser tab is sent for one notification (live, or replayed on a reconnect:
    notifications.consumers), in the recipient's language, with their unread count."""
    payload = {
        "type": "notification",
        "id": note.pk,
        "kind": note.kind,
        "text": note.text_in(language),
        "url": note.url,
        "created_at": note.created_at.isoformat(),
        "unread": unread,
    }
    if replayed:
        payload["replayed"] = True
    return payload


def deliver(notification_ids: Iterable[int]) -> None:
    """Push each notification to its recipient's sockets, and queue their e-mails (one task
    for the whole delivery: a campaign tells hundreds of people at once). Neither raises:
    a failed push is logged (the client's replay on reconnect brings it), a failed queuing
    is logged (the outbox sweep sends those e-mails)."""
    notes = _TO_DELIVER(notification_ids)
    pushes: list[tuple[int, str, dict]] = []
    emails: list[int] = []
    for note in notes:
        user = note.recipient
        payload = push_payload(note, language=user.language, unread=note.recipient_unread)
        pushes.append((note.pk, user_group(user.pk), {"type": "notify", "payload": payload}))
        if note.email_pending:
            emails.append(note.pk)
    if pushes:
        _publish(_Delivery(pushes))
    if emails:
        queue_emails(emails)


def _notices_with_unread(ids: list[int]):
    """The notices with their recipients, each with its recipient's unread count, in one query."""
    unread_of_recipient = (
        Notification.objects.filter(recipient=OuterRef("recipient_id"), read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Notification.objects.filter(pk__in=ids)
        .select_related("recipient")
        .annotate(recipient_unread=Coalesce(Subquery(unread_of_recipient), 0))
    )


#: deliver()'s read, compiled once per number of notices (after every transition that tells)
_TO_DELIVER = PreparedModelsIn(_notices_with_unread)


def queue_emails(notification_ids: list[int]) -> bool:
    """Queue the e-mail task of one delivery. A broker that is down is logged, never
    raised: the notices stay unsent in the outbox and the sweep sends them."""
    from .tasks import send_notification_emails

    try:
        send_notification_emails.delay(notification_ids)
    except Exception:
        logger.warning(
            "queuing the e-mails of %s notifications (%s…) failed; the outbox sweep will send them",
            len(notification_ids),
            notification_ids[0],
            exc_info=True,
        )
        return False
    return True


async def _push_each(pushes: list[tuple[int, str, dict]]) -> None:
    """Every push of one delivery from one event loop (a campaign's hundreds of notices:
    one async_to_sync hop, not one per notice). A push that fails is logged: a dead
    channel layer must not undo a committed transition. A full channel skips that push;
    any other failure (Redis down) skips the rest of the delivery, logged once: each push
    would wait for the same dead server, and the clients replay missed notices when they
    reconnect (NotificationConsumer)."""
    layer = get_channel_layer()
    for done, (note_id, group, message) in enumerate(pushes):
        try:
            await layer.group_send(group, message)
        except ChannelFull:
            logger.warning("push of notification %s skipped: channel full", note_id)
        except Exception:
            logger.exception(
                "push of notification %s failed (%s more of this delivery skipped)", note_id, len(pushes) - done - 1
            )
            return


@dataclass(frozen=True)
class _Delivery:
    """The pushes of one deliver(): sent in order; see _push_each for failures."""

    pushes: list[tuple[int, str, dict]]

    async def send(self) -> None:
        await _push_each(self.pushes)

    def failed(self) -> None:  # the layer itself, before any group_send (e.g. its event loop)
        logger.exception("push of %s notifications failed", len(self.pushes))


@dataclass(frozen=True)
class _Push:
    """One group_send whose failure is logged with ``failure % args``."""

    group: str
    message: dict
    failure: str
    args: tuple

    async def send(self) -> None:
        try:
            await get_channel_layer().group_send(self.group, self.message)
        except Exception:
            self.failed()

    def failed(self) -> None:
        logger.exception(self.failure, *self.args)


#: the pushes a request has published so far (pushes_together), or None outside one
_TOGETHER: ContextVar[list[_Delivery | _Push] | None] = ContextVar("jixiao_pushes_together", default=None)


@contextmanager
def pushes_together() -> Iterator[None]:
    """Within, WebSocket pushes are kept and sent at the end, in order, from one event loop:
    one async_to_sync hop (a hop from a request's thread to daphne's loop and back per
    push: a task completion pushed its notice and two board refreshes, three hops;
    notifications.middleware wraps each request in this). Each push is still published
    only after its transaction commits, and each is sent exactly once, also when the body
    raises. Nested: the outermost sends."""
    if _TOGETHER.get() is not None:
        yield
        return
    pending: list[_Delivery | _Push] = []
    token = _TOGETHER.set(pending)
    try:
        yield
    finally:
        _TOGETHER.reset(token)
        if pending:
            _send_all(pending)


def _publish(push: _Delivery | _Push) -> None:
    """Send ``push`` now, or at the end of the enclosing pushes_together()."""
    pending = _TOGETHER.get()
    if pending is not None:
        pending.append(push)
    else:
        _send_all([push])


async def _send_each(pushes: list[_Delivery | _Push]) -> None:
    for push in pushes:
        await push.send()


def _send_all(pushes: list[_Delivery | _Push]) -> None:
    """The pushes in order, in one async_to_sync hop. Never raises: each logs its failure."""
    try:
        async_to_sync(_send_each)(pushes)
    except Exception:  # the layer or the hop itself, before the pushes ran
        for push in pushes:
            push.failed()


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all, if no id) read. Returns rows changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    changed = qs.update(read_at=timezone.now())
    if changed:
        count = unread_count(user)
        transaction.on_commit(
            partial(_push_quietly, user.pk, {"type": "unread", "unread": count}),
            robust=True,
        )
    return changed


def _push_quietly(user_id: int, payload: dict) -> None:
    _publish(_Push(user_group(user_id), {"type": "notify", "payload": payload}, "push to user %s failed", (user_id,)))


#: The channel-layer group of the open deadline boards (督办看板), whoever watches them.
BOARD_GROUP = "deadline-board"


def board_changed(reason: str) -> None:
    """Tell the open deadline boards to refresh, once the caller's transaction commits (at
    once outside one). ``reason`` says what happened (e.g. ``"rectification_submitted"``).
    A dead channel layer is logged, never raised: the change itself has happened."""

    def send() -> None:
        _publish(
            _Push(BOARD_GROUP, {"type": "board.changed", "reason": reason}, "board refresh (%s) failed", (reason,))
        )

    transaction.on_commit(send, robust=True)


def end_session_sockets(*, user_id: int, session_key: str | None) -> None:
    """Close the sockets opened under ``session_key`` (logout)."""
    if not session_key:
        return
    try:
        async_to_sync(get_channel_layer().group_send)(
            user_group(user_id), {"type": "session.ended", "session_key": session_key}
        )
    except Exception:
        logger.exception("closing sockets of user %s failed", user_id)
