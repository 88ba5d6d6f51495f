"""A request's WebSocket pushes are sent together when it ends, in one hop to the event loop
(notifications.services.pushes_together, notifications.middleware): the same frames, in
the same order, each once, only after their transaction commits."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

import notifications.services as services
from notifications.middleware import PushesTogetherMiddleware
from notifications.services import BOARD_GROUP, board_changed, pushes_together

pytestmark = pytest.mark.django_db(transaction=True)


class _Layer:
    def __init__(self, fail_on: str | None = None) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.fail_on = fail_on

    async def group_send(self, group: str, message: dict) -> None:
        if message.get("reason") == self.fail_on:
            raise ConnectionError("redis down")
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch):
    fake = _Layer()
    monkeypatch.setattr(services, "get_channel_layer", lambda: fake)
    hops: list[object] = []
    real = services.async_to_sync

    def counted(fn):
        hops.append(fn)
        return real(fn)

    monkeypatch.setattr(services, "async_to_sync", counted)
    fake.hops = hops  # type: ignore[attr-defined]
    return fake


def _board(reason: str) -> tuple[str, dict]:
    return (BOARD_GROUP, {"type": "board.changed", "reason": reason})


def test_pushes_of_a_request_go_together_after_commit_in_order_once(layer):
    with pushes_together():
        with transaction.atomic():
            board_changed("one")
            with pytest.raises(RuntimeError), transaction.atomic():
                board_changed("rolled back")
                raise RuntimeError
            board_changed("two")
        with transaction.atomic():
            board_changed("three")
        assert layer.sent == [] and layer.hops == []  # committed, but kept until the end
    assert layer.sent == [_board("one"), _board("two"), _board("three")]
    assert len(layer.hops) == 1


def test_outside_a_request_each_push_goes_at_commit(layer):
    with transaction.atomic():
        board_changed("one")
        assert layer.sent == []
    assert layer.sent == [_board("one")]
    board_changed("two")
    assert layer.sent == [_board("one"), _board("two")]
    assert len(layer.hops) == 2


def test_the_middleware_sends_them_once_when_the_view_ends_even_if_it_raised(layer):
    def view(request):
        board_changed("done")
        board_changed("also done")
        assert layer.sent == []
        return HttpResponse("ok")

    response = PushesTogetherMiddleware(view)(RequestFactory().get("/"))
    assert response.status_code == 200
    assert layer.sent == [_board("done"), _board("also done")] and len(layer.hops) == 1

    def failing(request):
        board_changed("before the error")
        raise ValueError("the view failed")

    with pytest.raises(ValueError):
        PushesTogetherMiddleware(failing)(RequestFactory().get("/"))
    assert layer.sent[-1] == _board("before the error") and len(layer.hops) == 2


def test_nested_batches_send_at_the_outermost(layer):
    with pushes_together():
        with pushes_together():
            board_changed("inner")
        assert layer.sent == []
    assert layer.sent == [_board("inner")]


def test_a_failed_push_is_logged_as_before_and_the_others_still_go(monkeypatch, caplog, layer):
    layer.fail_on = "bad"
    with pushes_together():
        board_changed("bad")
        board_changed("good")
    assert "board refresh (bad) failed" in caplog.text
    assert layer.sent == [_board("good")]


def test_a_dead_layer_logs_each_push_of_the_batch(monkeypatch, caplog):
    def broken():
        raise ConnectionError("redis down")

    monkeypatch.setattr(services, "get_channel_layer", broken)
    with pushes_together():
        board_changed("first")
        services._push_quietly(7, {"type": "unread", "unread": 0})
    assert "board refresh (first) failed" in caplog.text
    assert "push to user 7 failed" in caplog.text


def test_the_middleware_is_installed():
    from django.conf import settings

    assert "notifications.middleware.PushesTogetherMiddleware" in settings.MIDDLEWARE
