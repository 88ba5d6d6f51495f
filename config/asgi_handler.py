"""Django's ASGI handler for HTTP, with the request's synchronous work on a kept thread.

Every view, middleware and signal receiver of Jixiao is synchronous. Django's own
``ASGIHandler`` (issue 20's daphne profiles, docs/performance.md "Issue 20: task
completion in daphne (fourth pass)"):

- builds its middleware chain for async: the innermost sync middleware (viewflow's) makes
  it wrap the async core in ``async_to_sync`` and the view in ``sync_to_async`` again, two
  thread hops per request on top of the one that enters the chain;
- runs each request's synchronous work in a thread of its own (a ``ThreadSensitiveContext``
  with a fresh one-thread executor), started for the request and joined by another thread
  after it. A new thread has no database connection wrapper of its own: each request
  opened its database connection again and rebuilt every per-connection cache
  (config.prepared's converters: 13 rebuilds per completion).

``JixiaoASGIHandler`` keeps the behaviour and removes those costs:

- the middleware chain is built for sync (``load_middleware(is_async=False)``), and a
  request enters it with one ``sync_to_async`` call: ``BaseHandler.get_response``, the same
  code a WSGI server runs;
- each request still has its own thread-sensitive context, so everything synchronous of
  one request (``request_started``, the chain, the response's close and
  ``request_finished``) runs on one thread, one request at a time on it; but that thread is
  borrowed from a set kept between requests (``_Threads``), as a threaded WSGI server keeps
  its threads. Django resets its per-thread state per request as it does under WSGI
  (``close_old_connections`` at the request's start and end, ``set_urlconf``, the
  language activated by LocaleMiddleware).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler


class _Thread(ThreadPoolExecutor):
    """One kept thread; knows whether work submitted to it is still running (a request the
    client gave up on: its cancelled await does not stop the thread)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="jixiao-request")
        self.pending = 0
        self._count = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        with self._count:
            self.pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._count:
            self.pending -= 1


class _Threads:
    """The idle request threads. A request borrows one (a new one when none is idle) and
    gives it back when it ends; at most ``keep`` idle threads are kept, and a thread still
    busy with an abandoned request's work is not given to another: it is let go."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._idle: list[_Thread] = []
        self._lock = threading.Lock()

    def borrow(self) -> _Thread:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Thread()

    def give_back(self, thread: _Thread) -> None:
        if thread.pending == 0:
            with self._lock:
                if len(self._idle) < self.keep:
                    self._idle.append(thread)
                    return
        thread.shutdown(wait=False)


class JixiaoASGIHandler(ASGIHandler):
    """HTTP through Django with a sync middleware chain entered once per request, on a kept
    thread (module docstring)."""

    #: idle request threads kept; more run at once when more requests do (each its own)
    keep_threads = 32

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._threads = _Threads(self.keep_threads)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self._threads.borrow()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            self._threads.give_back(thread)

    async def get_response_async(self, request):
        """The request through the sync middleware chain and view, in one thread hop."""
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_asgi_application() -> JixiaoASGIHandler:
    """As ``django.core.asgi.get_asgi_application``, with ``JixiaoASGIHandler``."""
    import django

    django.setup(set_prefix=False)
    return JixiaoASGIHandler()
