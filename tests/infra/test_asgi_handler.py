"""config.asgi_handler: Django's ASGI handler with a sync middleware chain entered once per
request, on a kept thread (issue 20, the completion's fourth pass)."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIHandler

from config.asgi_handler import JixiaoASGIHandler, _Thread, _Threads


def _scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 40000),
        "server": ("localhost", 80),
    }


async def _get(app, path: str) -> tuple[int, dict, bytes]:
    sent: list[dict] = []
    done = asyncio.Event()
    asked: list[int] = []

    async def receive():
        asked.append(1)
        if len(asked) == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(_scope(path), receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


def _settled(body: bytes) -> bytes:
    """The page without what differs on every answer (CSRF tokens, CSP nonces)."""
    return re.sub(rb'(value|nonce|content)="[A-Za-z0-9_\-+/=]{20,}"', b'\\1="-"', body)


async def test_the_answers_are_djangos_own_handlers():
    """Same status, headers and body as Django's ASGIHandler, for a page and a 404."""
    ours, django = JixiaoASGIHandler(), ASGIHandler()
    for path in ("/favicon.ico", "/no-such-page/", "/accounts/login/"):
        mine, theirs = await _get(ours, path), await _get(django, path)
        assert mine[0] == theirs[0], path
        assert mine[1].keys() == theirs[1].keys(), path
        assert _settled(mine[2]) == _settled(theirs[2]), path


async def test_a_requests_sync_work_runs_on_one_kept_thread():
    """request_started, the middleware chain and the view, and request_finished run on one
    thread, entered once; the next request reuses it (and its database connection)."""
    handler = JixiaoASGIHandler()
    assert not asyncio.iscoroutinefunction(handler._middleware_chain)
    seen: list[tuple[str, int]] = []
    chain = handler._middleware_chain

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    def traced(request):
        seen.append(("chain", threading.get_ident()))
        return chain(request)

    handler._middleware_chain = traced
    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        for _ in range(2):
            status, _headers, _body = await _get(handler, "/no-such-page/")
            assert status == 404
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert [what for what, _ in seen] == ["started", "chain", "finished"] * 2
    threads = {ident for _, ident in seen}
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_a_thread_still_busy_with_an_abandoned_request_is_not_lent_again():
    threads = _Threads(keep=2)
    free = threads.borrow()
    threads.give_back(free)
    assert threads.borrow() is free  # kept
    busy = _Thread()
    release = threading.Event()
    busy.submit(release.wait)
    threads.give_back(busy)
    assert threads.borrow() is not busy
    release.set()
    for _ in range(100):
        if not busy._threads or all(not t.is_alive() for t in busy._threads):
            break
        time.sleep(0.01)
    assert all(not t.is_alive() for t in busy._threads)  # let go once its work ended


def test_no_more_than_keep_idle_threads_are_kept():
    threads = _Threads(keep=1)
    a, b = threads.borrow(), threads.borrow()
    threads.give_back(a)
    threads.give_back(b)
    assert threads._idle == [a]


@pytest.mark.django_db(transaction=True)
def test_the_asgi_application_uses_the_kept_thread_handler():
    from config.asgi import django_asgi_app

    handler = getattr(django_asgi_app, "application", django_asgi_app)
    assert isinstance(handler, JixiaoASGIHandler)
